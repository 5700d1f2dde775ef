// The TensorFlow.js face on the webgpu backend (and its fallback on the cpu backend).
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-cpu';
import { DTypeError, ShapeError, type Shape4 } from '../../src/index';
import { aconC, MetaAconCLayer } from '../../src/tfjs/index';
import { GpuContext, isSoftwareDevice } from '../../src/gpu/context';
import { metaAconCBackward, metaAconCForward } from '../../src/ops/metaAconC';
import { normal, rng, uniform } from '../../src/ops/random';
import { aconCBackwardRef, aconCForwardRef, type Layout } from '../../src/reference/aconC';
import { backwardBounds, forwardBounds } from '../../src/reference/aconBounds';
import { backwardPlan } from '../../src/kernels/aconC';
import { U } from '../../src/reference/tolerance';
import { expectWithinBounds } from '../helpers/fixtures';

// The tfjs API is synchronous, so the ops report WebGPU validation errors of their queued work
// through console.error (typed AconErrors); every test fails on any of them.
const gpuErrors: unknown[] = [];
const consoleError = console.error;
/** The tfjs webgpu backend's device (our kernels run on it). */
const tfDevice = () => (tf.backend() as unknown as { device: GPUDevice }).device;
beforeAll(async () => {
  console.error = (...a: unknown[]) => {
    if (a.some((x) => x instanceof Error)) gpuErrors.push(a);
    consoleError(...a);
  };
  await tf.setBackend('webgpu');
  await tf.ready();
});
afterEach(async () => {
  await (tf.backend() as unknown as { device?: GPUDevice }).device?.queue.onSubmittedWorkDone();
  await new Promise((r) => setTimeout(r, 0));
  expect(gpuErrors, 'WebGPU errors reported by the tfjs ops').toEqual([]);
});
afterAll(async () => {
  console.error = consoleError;
  await tf.setBackend('webgpu');
});

const within = expectWithinBounds;

describe('aconC op', () => {
  const cases: { shape: Shape4; format: Layout; perSample: boolean }[] = [
    { shape: [2, 5, 6, 6], format: 'NCHW', perSample: false },
    { shape: [3, 4, 5, 7], format: 'NHWC', perSample: false },
    { shape: [3, 6, 4, 4], format: 'NCHW', perSample: true },
  ];
  for (const backend of ['webgpu', 'cpu'] as const) {
    test.each(cases)(`${backend}: value and tf.grads of all four inputs vs the reference ($shape $format perSample=$perSample)`, async ({ shape, format, perSample }) => {
      await tf.setBackend(backend);
      const r = rng(shape[1]);
      const [N, C, H, W] = shape;
      const count = N * C * H * W;
      const x = normal(r, count, 2);
      const dy = normal(r, count);
      const p = { p1: normal(r, C), p2: normal(r, C), beta: uniform(r, perSample ? N * C : C, -2, 2) };
      const tshape = format === 'NCHW' ? [...shape] : [N, H, W, C];
      const tx = tf.tensor(x, tshape);
      const tdy = tf.tensor(dy, tshape);
      const tp = [tf.tensor(p.p1, [1, C, 1, 1]), tf.tensor(p.p2, [1, C, 1, 1]), tf.tensor(p.beta, perSample ? [N, C, 1, 1] : [1, C, 1, 1])];
      const y = aconC(tx, tp[0]!, tp[1]!, tp[2]!, { dataFormat: format });
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => aconC(a, b, c, d, { dataFormat: format }))([tx, ...tp], tdy);
      const [gx, g1, g2, gb] = await Promise.all(grads.map((g) => g.data()));
      const geo = { n: N, c: C, h: H, w: W, layout: format, betaPerSample: perSample };
      if (backend === 'webgpu') {
        // our kernels: the float32 bounds of the kernels themselves
        within('y', await y.data(), aconCForwardRef(x, shape, p, format), forwardBounds(x, shape, p, format));
        const ref = aconCBackwardRef(x, dy, shape, p, format);
        const b = backwardBounds(x, dy, shape, p, backwardPlan(geo, isSoftwareDevice(tfDevice())).depth, format);
        within('dx', gx!, ref.dx, b.dx);
        within('dp1', g1!, ref.dp1, b.dp1);
        within('dp2', g2!, ref.dp2, b.dp2);
        within('dbeta', gb!, ref.dbeta, b.dbeta);
        expect(grads[3]!.shape).toEqual(tp[2]!.shape);
      } else {
        // tfjs primitives in float32 on the cpu backend: the chain of ~12 roundings per term and
        // the cancellation in its σ'(z) = s(1 − s) (≤ e^|z|, |z| ≤ 2·4·6 here) bound each element;
        // sums add γ_{NHW}. Normwise: 1e-4 of the largest gradient covers both with margin.
        const ref = aconCBackwardRef(x, dy, shape, p, format);
        const norm = (a: ArrayLike<number>, want: ArrayLike<number>) => {
          let e = 0;
          let m = 0;
          for (let i = 0; i < want.length; i++) {
            e = Math.max(e, Math.abs(a[i]! - want[i]!));
            m = Math.max(m, Math.abs(want[i]!));
          }
          return e / m;
        };
        expect(norm(await y.data(), aconCForwardRef(x, shape, p, format))).toBeLessThan(1e-4);
        expect(norm(gx!, ref.dx)).toBeLessThan(1e-4);
        expect(norm(g1!, ref.dp1)).toBeLessThan(1e-4);
        expect(norm(gb!, ref.dbeta)).toBeLessThan(1e-4);
      }
      tf.dispose([tx, tdy, ...tp, y, ...grads]);
      await tf.setBackend('webgpu');
    });
  }

  test('zero-copy: inputs are read and outputs written as GPU buffers of the backend\'s device, no data download', async () => {
    const backend = tf.backend() as unknown as { device: GPUDevice; tensorMap: { get(id: object): { resource?: unknown; values?: unknown } }; readSync: unknown; read: unknown };
    // inputs produced by GPU ops (large enough that tfjs does not run them on the CPU)
    const x = tf.tidy(() => tf.mul(tf.randomNormal([4, 16, 16, 16]), 1.5));
    const [p1, p2, beta] = tf.tidy(() => [tf.add(tf.zeros([1, 16, 1, 1]), 1), tf.zeros([1, 16, 1, 1]), tf.add(tf.zeros([1, 16, 1, 1]), 2)]);
    const dy = tf.tidy(() => tf.mul(tf.ones([4, 16, 16, 16]), 1));
    await tf.ready();
    for (const t of [x, dy]) {
      expect(backend.tensorMap.get(t.dataId).resource).toBeInstanceOf(GPUBuffer);
      expect(backend.tensorMap.get(t.dataId).values ?? null).toBeNull();
    }
    const calls: string[] = [];
    const spy = <T extends object>(o: T, k: keyof T & string) => {
      const orig = o[k] as unknown as (...a: unknown[]) => unknown;
      (o as Record<string, unknown>)[k] = function (this: unknown, ...a: unknown[]) {
        calls.push(k);
        return orig.apply(this, a);
      };
      return () => ((o as Record<string, unknown>)[k] = orig);
    };
    const restore = [spy(backend, 'readSync'), spy(backend, 'read'), spy(tf.Tensor.prototype, 'dataSync'), spy(tf.Tensor.prototype, 'data'), spy(tf.Tensor.prototype, 'dataToGPU')];
    const y = aconC(x, p1!, p2!, beta!);
    const [gx] = tf.grads((a: tf.Tensor) => aconC(a, p1!, p2!, beta!))([x], dy);
    restore.forEach((f) => f());
    expect(calls).toEqual([]);
    for (const t of [y, gx!]) {
      const data = backend.tensorMap.get(t.dataId);
      expect(data.resource).toBeInstanceOf(GPUBuffer);
      expect(data.values ?? null).toBeNull();
    }
    // and the result is right: y = x·(p1·σ(2x) + 0) with p1 = 1
    const xs = await x.data();
    const ys = await y.data();
    for (let i = 0; i < 50; i++) expect(ys[i]).toBeCloseTo(xs[i]! / (1 + Math.exp(-2 * xs[i]!)), 5);
    tf.dispose([x, p1!, p2!, beta!, dy, y, gx!]);
  });

  test('bad input gives typed errors', () => {
    const p = tf.ones([1, 3, 1, 1]);
    expect(() => aconC(tf.ones([2, 3, 4]), p, p, p)).toThrow(ShapeError);
    expect(() => aconC(tf.ones([2, 3, 4, 4], 'int32'), p, p, p)).toThrow(DTypeError);
    expect(() => aconC(tf.ones([2, 3, 4, 4]), tf.ones([4]), p, p)).toThrow(/p1 does not fit/);
    expect(() => aconC(tf.ones([2, 3, 4, 4]), p, p, tf.ones([5]))).toThrow(ShapeError);
    expect(() => aconC(tf.ones([2, 4, 4, 3]), p, p, p, { dataFormat: 'NHWC' })).not.toThrow();
    const layer = new MetaAconCLayer(8, 4);
    expect(() => layer.apply(tf.ones([1, 8, 2, 2]), { training: true })).toThrow(/N ≥ 2/);
    expect(() => layer.apply(tf.ones([2, 7, 2, 2]), { training: false })).toThrow(/p1 does not fit/);
    layer.dispose();
  });
});

describe('metaAconC op', () => {
  test('webgpu: value, every gradient and the running statistics equal the host-array op bitwise', async () => {
    const layer = new MetaAconCLayer(20, 4, 3);
    const shape: Shape4 = [3, 20, 5, 5];
    const r = rng(4);
    const x = normal(r, 3 * 20 * 25, 2);
    const dy = normal(r, x.length);
    const host = async <T>(v: tf.Tensor) => (await v.data()) as unknown as T;
    const p = layer.params;
    const hp = {
      p1: await host<Float32Array>(p.p1), p2: await host<Float32Array>(p.p2),
      fc1: { weight: await host<Float32Array>(p.fc1.weight), bias: await host<Float32Array>(p.fc1.bias) },
      bn1: { weight: await host<Float32Array>(p.bn1.weight), bias: await host<Float32Array>(p.bn1.bias), runningMean: await host<Float32Array>(p.bn1.runningMean), runningVar: await host<Float32Array>(p.bn1.runningVar) },
      fc2: { weight: await host<Float32Array>(p.fc2.weight), bias: await host<Float32Array>(p.fc2.bias) },
      bn2: { weight: await host<Float32Array>(p.bn2.weight), bias: await host<Float32Array>(p.bn2.bias), runningMean: await host<Float32Array>(p.bn2.runningMean), runningVar: await host<Float32Array>(p.bn2.runningVar) },
    };
    const ctx = await GpuContext.create();
    const want = await metaAconCForward(ctx, x, shape, hp, { training: true });
    const wantG = await metaAconCBackward(ctx, x, dy, shape, hp, { training: true });
    ctx.destroy();
    const tx = tf.tensor4d(x, [...shape]);
    const tdy = tf.tensor4d(dy, [...shape]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(tx, { training: true }), tdy)) as tf.Scalar, layer.trainableWeights);
    const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(layer.apply(a, { training: false }), tdy)))(tx);
    expect(await layer.params.bn1.runningMean.data()).toEqual(want.bn1.runningMean);
    expect(await layer.params.bn2.runningVar.data()).toEqual(want.bn2.runningVar);
    const y = layer.apply(tx, { training: false });
    expect((await y.data()).length).toBe(x.length);
    const g = (v: tf.Variable) => grads[v.name]!.data();
    expect(await g(p.p1 as tf.Variable)).toEqual(wantG.p1);
    expect(await g(p.fc1.weight as tf.Variable)).toEqual(wantG.fc1.weight);
    expect(await g(p.bn1.bias as tf.Variable)).toEqual(wantG.bn1.bias);
    expect(await g(p.fc2.bias as tf.Variable)).toEqual(wantG.fc2.bias);
    expect(await g(p.bn2.weight as tf.Variable)).toEqual(wantG.bn2.weight);
    let dot = 0;
    want.y.forEach((v, i) => (dot += v * dy[i]!));
    // Σ y·dy: the same y summed by tfjs; float32 sum of count terms: γ_count·Σ|y·dy|
    let mag = 0;
    want.y.forEach((v, i) => (mag += Math.abs(v * dy[i]!)));
    expect(Math.abs((await value.data())[0]! - dot)).toBeLessThanOrEqual(x.length * U * mag * 1.01);
    tf.dispose([tx, tdy, value, gx, y, ...Object.values(grads)]);
    layer.dispose();
  });
});
