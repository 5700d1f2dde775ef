// Shared test fixtures: seeded parameters of any declared activation (each parameter's fixture init,
// in declaration order, from one stream: for Meta-ACON the values the hand-written fixture drew) and
// the central-difference gradient check.
import { expect } from 'vitest';
import { buildTree, dimsOf, paramLeaves, readLeaf } from '../../src/activations/params';
import type { AnyActivation, ParamsOf } from '../../src/activations/types';
import { metaAconC, type MetaAconCParams } from '../../src/activations/metaAconC/declaration';
import { initialParams } from '../../src/ops/hostLayer';
import { compare } from '../../src/reference/tolerance';

/** Seeded parameters for C channels, the derived dims from `options` (Meta's r): every parameter's fixture init. */
export function fixtureParams<A extends AnyActivation>(act: A, C: number, options: object, seed: number): ParamsOf<A> {
  return initialParams(act, dimsOf(act, C, options), seed, 'fixture');
}

/**
 * Random Meta-ACON-C parameters for C channels and hidden width max(r, ⌊C/r⌋): convs as PyTorch's
 * init range, BN scales in [0.5, 1.5], running statistics away from their init (0, 1).
 */
export const makeMetaParams = (C: number, r: number, seed: number): MetaAconCParams =>
  fixtureParams(metaAconC, C, { r }, seed);

/** A parameter set as GPUBuffers, each made from its host array by `make`. */
export function paramBuffers<A extends AnyActivation>(
  act: A,
  p: ParamsOf<A>,
  make: (a: Float32Array) => GPUBuffer,
): ParamsOf<A, GPUBuffer> {
  return buildTree(paramLeaves(act.params), (leaf) => make(readLeaf(p, leaf) as Float32Array)) as ParamsOf<
    A,
    GPUBuffer
  >;
}

/** A Meta-ACON parameter set as GPUBuffers, each made from its host array by `make`. */
export const metaParamBuffers = (p: MetaAconCParams, make: (a: Float32Array) => GPUBuffer) =>
  paramBuffers(metaAconC, p, make);

/**
 * Checks grad against central differences of loss() in each entry of arr (changed in place and
 * restored). Step h = 1e-5 in float64: truncation h²/6·|f'''| and rounding 2⁻⁵³·|L|/h both stay
 * below 1e-7·(1 + |L|) for the small, well-conditioned cases used, so 1e-6·(1 + |g| + |L|) is tight
 * and a wrong term (off by O(1)) cannot pass.
 */
export function checkCentralDifferences(
  name: string,
  arr: number[],
  grad: ArrayLike<number>,
  loss: () => number,
  h = 1e-5,
): void {
  expect(grad.length).toBe(arr.length);
  arr.forEach((v, i) => {
    arr[i] = v + h;
    const up = loss();
    arr[i] = v - h;
    const down = loss();
    arr[i] = v;
    const fd = (up - down) / (2 * h);
    expect(Math.abs(grad[i]! - fd), `${name}[${i}]`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(fd) + Math.abs(loss())));
  });
}

/** Expects every |got − want| within its bound (and NaN exactly where the reference has NaN). */
export function expectWithinBounds(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  bound: ArrayLike<number>,
): void {
  expect(compare(got, want, bound).bad, `${name}: elements outside the float32 error bound`).toEqual([]);
}
