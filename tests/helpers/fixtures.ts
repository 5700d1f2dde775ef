// Shared test fixtures: seeded Meta-ACON parameters and the central-difference gradient check.
import { expect } from 'vitest';
import { normal, rng, uniform } from '../../src/ops/random';
import type { MetaAconCParams } from '../../src/ops/metaAconC';
import { compare } from '../../src/reference/tolerance';
import { metaHiddenWidth } from '../../src/reference/metaAconC';

/**
 * Random Meta-ACON-C parameters for C channels and hidden width max(r, ⌊C/r⌋): convs as PyTorch's
 * init range, BN scales in [0.5, 1.5], running statistics away from their init (0, 1).
 */
export function makeMetaParams(C: number, r: number, seed: number): MetaAconCParams {
  const R = metaHiddenWidth(C, r);
  const rand = rng(seed);
  const bn = (f: number) => ({
    weight: uniform(rand, f, 0.5, 1.5),
    bias: normal(rand, f, 0.2),
    runningMean: normal(rand, f, 0.1),
    runningVar: uniform(rand, f, 0.5, 2),
  });
  return {
    p1: normal(rand, C),
    p2: normal(rand, C),
    fc1: { weight: uniform(rand, R * C, -1 / Math.sqrt(C), 1 / Math.sqrt(C)), bias: uniform(rand, R, -0.1, 0.1) },
    bn1: bn(R),
    fc2: { weight: uniform(rand, C * R, -1 / Math.sqrt(R), 1 / Math.sqrt(R)), bias: uniform(rand, C, -0.1, 0.1) },
    bn2: bn(C),
  };
}

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

/** A Meta-ACON parameter set as GPUBuffers, each made from its host array by `make`. */
export function metaParamBuffers(p: MetaAconCParams, make: (a: Float32Array) => GPUBuffer): MetaAconCParams<GPUBuffer> {
  const bn = (s: MetaAconCParams['bn1']) => ({
    weight: make(s.weight),
    bias: make(s.bias),
    runningMean: make(s.runningMean),
    runningVar: make(s.runningVar),
  });
  return {
    p1: make(p.p1),
    p2: make(p.p2),
    fc1: { weight: make(p.fc1.weight), bias: make(p.fc1.bias) },
    bn1: bn(p.bn1),
    fc2: { weight: make(p.fc2.weight), bias: make(p.fc2.bias) },
    bn2: bn(p.bn2),
  };
}
