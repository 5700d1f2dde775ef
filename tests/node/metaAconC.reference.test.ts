// The Meta-ACON-C reference without a GPU: against TensorFlow.js autodiff of the same network
// written from tfjs primitives, and against central finite differences in float64.
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { metaHiddenWidth, metaAconCBackwardRef, metaAconCForwardRef } from '../../src/activations/metaAconC/reference';
import type { Shape4 } from '../../src/activations/aconC/reference';
import { normal, rng } from '../../src/ops/random';
import { U } from '../../src/reference/tolerance';
import { checkCentralDifferences, makeMetaParams } from '../helpers/fixtures';
import { metaAconCComposed } from '../../src/tfjs/composed';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const makeParams = (C: number, r: number, seed: number) => ({
  ...makeMetaParams(C, r, seed),
  R: metaHiddenWidth(C, r),
});

describe('Meta-ACON-C reference vs TensorFlow.js autodiff', () => {
  const cases: [Shape4, number, boolean][] = [
    // N = 2 is left to the finite-difference test: training-mode batch norm over two samples
    // passes an exactly zero gradient to its input, which float32 (tfjs) renders as rounding
    // noise amplified by γ/σ_batch, so no float32 comparison there is meaningful.
    [[3, 16, 3, 3], 16, true],
    [[3, 17, 7, 7], 4, true],
    [[4, 32, 5, 5], 16, false],
    [[5, 20, 1, 1], 4, true],
  ];
  test.each(cases)('%j r=%i training=%s', (shape, r, training) => {
    const [N, C, H, W] = shape;
    const p = makeParams(C, r, N * 100 + C);
    const R = p.R;
    const rand = rng(C);
    const x = normal(rand, N * C * H * W, 1);
    // an offset per (n, c) plane, so that the channel means (the generator's input) differ
    // between samples and the batch statistics stay away from zero variance
    const offsets = normal(rand, N * C, 2);
    for (let i = 0; i < x.length; i++) x[i]! += offsets[Math.floor(i / (H * W))]!;
    const dy = normal(rand, x.length);
    const ref = metaAconCBackwardRef(x, dy, shape, p, training);

    const tx = tf.tensor4d(x, [N, C, H, W]);
    // the trainable tensors in declaration order (the gradients' order), the running ones beside them
    const vars = {
      p1: tf.tensor1d(p.p1 as Float32Array),
      p2: tf.tensor1d(p.p2 as Float32Array),
      fc1w: tf.tensor2d(p.fc1.weight as Float32Array, [R, C]),
      fc1b: tf.tensor1d(p.fc1.bias as Float32Array),
      bn1w: tf.tensor1d(p.bn1.weight as Float32Array),
      bn1b: tf.tensor1d(p.bn1.bias as Float32Array),
      fc2w: tf.tensor2d(p.fc2.weight as Float32Array, [C, R]),
      fc2b: tf.tensor1d(p.fc2.bias as Float32Array),
      bn2w: tf.tensor1d(p.bn2.weight as Float32Array),
      bn2b: tf.tensor1d(p.bn2.bias as Float32Array),
    };
    const running = (k: 'bn1' | 'bn2') => ({
      runningMean: tf.variable(tf.tensor1d(p[k].runningMean as Float32Array)),
      runningVar: tf.variable(tf.tensor1d(p[k].runningVar as Float32Array)),
    });
    const [run1, run2] = [running('bn1'), running('bn2')];
    const tree = (v: typeof vars) => ({
      p1: v.p1,
      p2: v.p2,
      fc1: { weight: v.fc1w, bias: v.fc1b },
      bn1: { weight: v.bn1w, bias: v.bn1b, ...run1 },
      fc2: { weight: v.fc2w, bias: v.fc2b },
      bn2: { weight: v.bn2w, bias: v.bn2b, ...run2 },
    });
    const names = Object.keys(vars) as (keyof typeof vars)[];
    const y = metaAconCComposed(tx, tree(vars), { training });
    const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) =>
      metaAconCComposed(xx, tree(Object.fromEntries(names.map((k, i) => [k, ps[i]!])) as unknown as typeof vars), {
        training,
      }),
    )([tx, ...names.map((k) => vars[k])], tf.tensor4d(dy, [N, C, H, W]));
    const got = grads.map((g) => g.dataSync());

    // tfjs rounds every op to float32. Along any path from an input to an output there are at
    // most ~60 roundings (means, two 1×1 convs, two batch norms with their mean/variance, σ, ACON,
    // and the mirrored backward), each relative u. Batch norm amplifies an input error by at most
    // |γ|·(1/σ_batch)·(1 + |x̂|²) ≤ A per stage (A is measured below and asserted ≤ 30), so a
    // first-order bound on the normwise error of every output is 60·u·A² ≈ 3.2e-3 relative
    // to the output's scale. The test uses that bound; a wrong formula is off by O(1).
    let A = 1;
    for (const [bn, f] of [
      [ref.forward.bn1, R],
      [ref.forward.bn2, C],
    ] as const)
      for (let k = 0; k < f; k++) A = Math.max(A, 1.5 * bn.invStd[k]! * (training ? 2 : 1));
    expect(A).toBeLessThanOrEqual(30);
    const tol = 60 * U * A * A;
    // Normwise per layer: the scale is the largest gradient of the layer's parameters (weight and
    // bias together), since in training mode some bias gradients are exactly zero (batch norm
    // removes a constant shift) and float32 returns rounding noise of the weights' scale.
    const maxAbs = (...arrays: ArrayLike<number>[]) => Math.max(...arrays.flatMap((a) => Array.from(a, Math.abs)));
    const close = (name: string, g: ArrayLike<number>, want: ArrayLike<number>, scale = maxAbs(want)) => {
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(g[i]! - want[i]!));
      expect(err, `${name}: max error ${err} vs scale ${scale}`).toBeLessThanOrEqual(tol * scale + 1e-30);
    };
    close('y', y.dataSync(), ref.forward.y);
    const want: Record<string, ArrayLike<number>> = {
      p1: ref.p1,
      p2: ref.p2,
      fc1w: ref.fc1.weight,
      fc1b: ref.fc1.bias,
      bn1w: ref.bn1.weight,
      bn1b: ref.bn1.bias,
      fc2w: ref.fc2.weight,
      fc2b: ref.fc2.bias,
      bn2w: ref.bn2.weight,
      bn2b: ref.bn2.bias,
    };
    close('dx', got[0]!, ref.dx);
    const layerScale: Record<string, number> = {
      p1: maxAbs(ref.p1, ref.p2),
      p2: maxAbs(ref.p1, ref.p2),
      fc1w: maxAbs(ref.fc1.weight, ref.fc1.bias),
      fc1b: maxAbs(ref.fc1.weight, ref.fc1.bias),
      bn1w: maxAbs(ref.bn1.weight, ref.bn1.bias),
      bn1b: maxAbs(ref.bn1.weight, ref.bn1.bias),
      fc2w: maxAbs(ref.fc2.weight, ref.fc2.bias),
      fc2b: maxAbs(ref.fc2.weight, ref.fc2.bias),
      bn2w: maxAbs(ref.bn2.weight, ref.bn2.bias),
      bn2b: maxAbs(ref.bn2.weight, ref.bn2.bias),
    };
    names.forEach((k, i) => close(k, got[i + 1]!, want[k]!, layerScale[k]));
    tf.dispose([tx, y, ...grads, ...Object.values(vars), ...Object.values(run1), ...Object.values(run2)]);
  });
});

describe('Meta-ACON-C reference vs central finite differences (float64)', () => {
  // tolerance reasoning in tests/helpers/fixtures.ts (checkCentralDifferences)
  test.each([true, false])('every gradient, training=%s', (training) => {
    const shape: Shape4 = [3, 5, 2, 2];
    const [N, C, H, W] = shape;
    const p0 = makeParams(C, 2, 77);
    const rand = rng(78);
    const x = Array.from(normal(rand, N * C * H * W, 1));
    const dy = Array.from(normal(rand, x.length));
    const p = structuredClone({
      ...p0,
      p1: Array.from(p0.p1),
      p2: Array.from(p0.p2),
      fc1: { weight: Array.from(p0.fc1.weight), bias: Array.from(p0.fc1.bias) },
      fc2: { weight: Array.from(p0.fc2.weight), bias: Array.from(p0.fc2.bias) },
      bn1: { ...p0.bn1, weight: Array.from(p0.bn1.weight), bias: Array.from(p0.bn1.bias) },
      bn2: { ...p0.bn2, weight: Array.from(p0.bn2.weight), bias: Array.from(p0.bn2.bias) },
    });
    const loss = () => metaAconCForwardRef(x, shape, p, training).y.reduce((a, v, i) => a + v * dy[i]!, 0);
    const g = metaAconCBackwardRef(x, dy, shape, p, training);
    const check = (name: string, arr: number[], grad: ArrayLike<number>) =>
      checkCentralDifferences(name, arr, grad, loss);
    check('x', x, g.dx);
    check('p1', p.p1, g.p1);
    check('p2', p.p2, g.p2);
    check('fc1.weight', p.fc1.weight, g.fc1.weight);
    check('fc1.bias', p.fc1.bias, g.fc1.bias);
    check('bn1.weight', p.bn1.weight, g.bn1.weight);
    check('bn1.bias', p.bn1.bias, g.bn1.bias);
    check('fc2.weight', p.fc2.weight, g.fc2.weight);
    check('fc2.bias', p.fc2.bias, g.fc2.bias);
    check('bn2.weight', p.bn2.weight, g.bn2.weight);
    check('bn2.bias', p.bn2.bias, g.bn2.bias);
    expect(N * H * W).toBeGreaterThan(1);
  });

  test('batch of one in training mode is refused; running statistics move by momentum 0.1 with the unbiased variance', () => {
    const p = makeParams(4, 2, 5);
    expect(() => metaAconCForwardRef(new Float32Array(4), [1, 4, 1, 1], p, true)).toThrow(/batch of at least 2/);
    const x = Float32Array.from({ length: 2 * 4 }, (_, i) => i);
    const f = metaAconCForwardRef(x, [2, 4, 1, 1], p, true);
    // bn1 input h1 for feature 0 over the two samples → mean and unbiased variance by hand
    const R = p.R;
    const a = f.h1[0]!;
    const b = f.h1[R]!;
    expect(f.bn1.runningMean[0]).toBeCloseTo(0.9 * p.bn1.runningMean[0]! + 0.1 * ((a + b) / 2), 12);
    expect(f.bn1.runningVar[0]).toBeCloseTo(0.9 * p.bn1.runningVar[0]! + 0.1 * ((a - b) ** 2 / 2), 12);
    expect(f.bn1.invStd[0]).toBeCloseTo(1 / Math.sqrt((a - b) ** 2 / 4 + 1e-5), 9);
  });
});
