// The TensorFlow.js face on the webgpu backend (and its fallback on the cpu backend).
import { describe, expect, test } from 'vitest';
import { tfjsWebGPUErrorScopes } from './tfjsScopes';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-cpu';
import { BatchSizeError, DTypeError, EmptyTensorError, OptionError, ShapeError, type Shape4 } from '../../src/index';
import { aconC, metaAconC, type MetaAconCTensors } from '../../src/tfjs/index';
import { GpuContext, isSoftwareDevice } from '../../src/gpu/context';
import { metaAconC as metaAconCDecl } from '../../src/activations/metaAconC/declaration';
import { hostBackward, hostForward } from '../../src/ops/forms';
import { normal, rng, uniform } from '../../src/ops/random';
import { aconCBackwardRef, aconCForwardRef, type DataFormat } from '../../src/activations/aconC/reference';
import { backwardBounds, forwardBounds } from '../../src/activations/aconC/bounds';
import { backwardPlan } from '../../src/activations/aconC/kernels';
import { U } from '../../src/reference/tolerance';
import { expectWithinBounds, makeMetaParams } from '../helpers/fixtures';

// Every test runs inside WebGPU error scopes on the tfjs device (see tfjsWebGPUErrorScopes).
tfjsWebGPUErrorScopes();
/** The tfjs webgpu backend's device (our kernels run on it). */
const tfDevice = () => (tf.backend() as unknown as { device: GPUDevice }).device;

/** Meta-ACON-C parameters as tfjs tensors (running statistics as Variables), from seeded host data. */
function metaTensors(C: number, r: number, seed: number) {
  const h = makeMetaParams(C, r, seed);
  const R = h.fc1.bias.length;
  const v = (a: Float32Array, shape: number[], trainable = true) => tf.variable(tf.tensor(a, shape), trainable);
  const bn = (s: typeof h.bn1, f: number) => ({
    weight: v(s.weight, [f]),
    bias: v(s.bias, [f]),
    runningMean: v(s.runningMean, [f], false),
    runningVar: v(s.runningVar, [f], false),
  });
  const params: MetaAconCTensors = {
    p1: v(h.p1, [C]),
    p2: v(h.p2, [C]),
    fc1: { weight: v(h.fc1.weight, [R, C, 1, 1]), bias: v(h.fc1.bias, [R]) },
    bn1: bn(h.bn1, R),
    fc2: { weight: v(h.fc2.weight, [C, R, 1, 1]), bias: v(h.fc2.bias, [C]) },
    bn2: bn(h.bn2, C),
  };
  const trainable = [
    params.p1,
    params.p2,
    params.fc1.weight,
    params.fc1.bias,
    params.bn1.weight,
    params.bn1.bias,
    params.fc2.weight,
    params.fc2.bias,
    params.bn2.weight,
    params.bn2.bias,
  ] as tf.Variable[];
  const all = [
    ...trainable,
    params.bn1.runningMean,
    params.bn1.runningVar,
    params.bn2.runningMean,
    params.bn2.runningVar,
  ];
  return { host: h, params, trainable, dispose: () => tf.dispose(all) };
}

const within = expectWithinBounds;

describe('aconC op', () => {
  const cases: { shape: Shape4; format: DataFormat; perSample: boolean }[] = [
    { shape: [2, 5, 6, 6], format: 'NCHW', perSample: false },
    { shape: [3, 4, 5, 7], format: 'NHWC', perSample: false },
    { shape: [3, 6, 4, 4], format: 'NCHW', perSample: true },
  ];
  for (const backend of ['webgpu', 'cpu'] as const) {
    test.each(cases)(
      `${backend}: value and tf.grads of all four inputs vs the reference ($shape $format perSample=$perSample)`,
      async ({ shape, format, perSample }) => {
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
        const tp = [
          tf.tensor(p.p1, [1, C, 1, 1]),
          tf.tensor(p.p2, [1, C, 1, 1]),
          tf.tensor(p.beta, perSample ? [N, C, 1, 1] : [1, C, 1, 1]),
        ];
        const y = aconC(tx, tp[0]!, tp[1]!, tp[2]!, { dataFormat: format });
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
          aconC(a, b, c, d, { dataFormat: format }),
        )([tx, ...tp], tdy);
        const [gx, g1, g2, gb] = await Promise.all(grads.map((g) => g.data()));
        const geo = { n: N, c: C, h: H, w: W, dataFormat: format, betaPerSample: perSample };
        if (backend === 'webgpu') {
          // our kernels: the float32 bounds of the kernels themselves
          within('y', await y.data(), aconCForwardRef(x, shape, p, format), forwardBounds(x, shape, p, format));
          const ref = aconCBackwardRef(x, dy, shape, p, format);
          const b = backwardBounds(x, dy, shape, p, backwardPlan(geo, isSoftwareDevice(tfDevice())).depth, format);
          within('dx', gx!, ref.dx, b.dx);
          within('dp1', g1!, ref.p1, b.p1);
          within('dp2', g2!, ref.p2, b.p2);
          within('dbeta', gb!, ref.beta, b.beta);
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
          expect(norm(g1!, ref.p1)).toBeLessThan(1e-4);
          expect(norm(gb!, ref.beta)).toBeLessThan(1e-4);
        }
        tf.dispose([tx, tdy, ...tp, y, ...grads]);
        await tf.setBackend('webgpu');
      },
    );
  }

  test("zero-copy: inputs are read and outputs written as GPU buffers of the backend's device, no data download", async () => {
    const backend = tf.backend() as unknown as {
      device: GPUDevice;
      tensorMap: { get(id: object): { resource?: unknown; values?: unknown } };
      readSync: unknown;
      read: unknown;
    };
    // inputs produced by GPU ops (large enough that tfjs does not run them on the CPU)
    const x = tf.tidy(() => tf.mul(tf.randomNormal([4, 16, 16, 16]), 1.5));
    const [p1, p2, beta] = tf.tidy(() => [
      tf.add(tf.zeros([1, 16, 1, 1]), 1),
      tf.zeros([1, 16, 1, 1]),
      tf.add(tf.zeros([1, 16, 1, 1]), 2),
    ]);
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
    const restore = [
      spy(backend, 'readSync'),
      spy(backend, 'read'),
      spy(tf.Tensor.prototype, 'dataSync'),
      spy(tf.Tensor.prototype, 'data'),
      spy(tf.Tensor.prototype, 'dataToGPU'),
    ];
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

  test('bad input: typed errors with expected and actual, thrown synchronously, no tensor created', () => {
    const p = tf.ones([3]);
    const meta = metaTensors(8, 4, 1);
    const ones = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => tf.ones(shape, dtype);
    const cases: [number[], (x: tf.Tensor) => unknown, new (...a: never[]) => Error, RegExp, ('int32' | 'float32')?][] =
      [
        [[2, 3, 4], (x) => aconC(x, p, p, p), ShapeError, /4D/],
        [[2, 4, 4, 3], (x) => aconC(x, p, p, p), DTypeError, /float32/, 'int32'],
        [[2, 4, 4, 3], (x) => aconC(x, meta.params.p1, p, p), ShapeError, /p1 does not fit/],
        [[2, 4, 4, 3], (x) => aconC(x, p, p, meta.params.bn1.bias), ShapeError, /beta does not fit/],
        // NCHW data passed as NHWC (the default): the channel count only fits dimension 1
        [[2, 3, 5, 5], (x) => aconC(x, p, p, p), ShapeError, /looks channels-first/],
        [[2, 5, 5, 3], (x) => aconC(x, p, p, p, { dataFormat: 'NCHW' }), ShapeError, /looks channels-last/],
        [[2, 5, 5, 3], (x) => aconC(x, p, p, p, { dataFormat: 'NWHC' as never }), OptionError, /dataFormat/],
        [[2, 5, 5, 3], (x) => aconC(x, p, p, p, { impl: 'fast' as never }), OptionError, /impl/],
        [[0, 5, 5, 3], (x) => aconC(x, p, p, p), EmptyTensorError, /empty/], // as the host forms say it
        [[1, 2, 2, 8], (x) => metaAconC(x, meta.params, { training: true }), BatchSizeError, /N ≥ 2/],
        [[2, 2, 2, 7], (x) => metaAconC(x, meta.params, { training: false }), ShapeError, /p1 does not fit/],
        [[2, 8, 2, 2], (x) => metaAconC(x, meta.params, { training: false }), ShapeError, /looks channels-first/],
        [[2, 2, 2, 8], (x) => metaAconC(x, meta.params, {} as never), OptionError, /training is required/],
      ];
    for (const [shape, call, type, message, dtype] of cases) {
      const x = ones(shape, dtype);
      const before = tf.memory().numTensors;
      let error: unknown;
      try {
        call(x);
      } catch (e) {
        error = e;
      }
      expect(tf.memory().numTensors, `tensors left by a failed call on [${shape}]`).toBe(before);
      expect(error).toBeInstanceOf(type);
      expect(String((error as Error).message)).toMatch(message);
      expect(error).toHaveProperty('expected');
      expect(error).toHaveProperty('actual');
      x.dispose();
    }
    p.dispose();
    meta.dispose();
  });
});

describe('recording into the tfjs command stream', () => {
  /** Counts queue submits and error-scope pushes on the tfjs device while fn runs. */
  function spyDevice<T>(fn: () => T): { result: T; submits: number; scopes: number } {
    const device = tfDevice();
    const queue = device.queue;
    const submit = queue.submit.bind(queue);
    const push = device.pushErrorScope.bind(device);
    let submits = 0;
    let scopes = 0;
    queue.submit = (b: Iterable<GPUCommandBuffer>) => void (submits++, submit(b));
    device.pushErrorScope = (f: GPUErrorFilter) => void (scopes++, push(f));
    try {
      return { result: fn(), submits, scopes };
    } finally {
      queue.submit = submit;
      device.pushErrorScope = push;
    }
  }

  test("a small model's ops (conv, ACON-C, Meta-ACON, their gradients) batch into tfjs's pending commands: no submit, no error scope of ours", async () => {
    const x = tf.tidy(() => tf.mul(tf.randomNormal([2, 6, 6, 8], 0, 1, 'float32', 3), 1));
    const w = tf.tidy(() => tf.mul(tf.randomNormal([3, 3, 8, 8], 0, 1, 'float32', 4), 0.2));
    const p1 = tf.fill([8], 1.2);
    const p2 = tf.fill([8], -0.3);
    const beta = tf.fill([8], 0.7);
    const meta = metaTensors(8, 4, 5);
    await tf.ready();
    const flushAt = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 1000);
    try {
      const { result, submits, scopes } = spyDevice(() => {
        const h = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
        const a = aconC(h, p1, p2, beta);
        const m = metaAconC(a, meta.params, { training: true });
        const g = tf.grads((xx: tf.Tensor, q1: tf.Tensor) =>
          tf.sum(metaAconC(aconC(xx, q1, p2, beta), meta.params, { training: false })),
        )([h, p1]);
        return [h, a, m, ...g];
      });
      expect(submits, 'queue submits during the ops').toBe(0);
      expect(scopes, 'error scopes pushed by the ops').toBe(0);
      // and the values are right once tfjs submits (reading does): a = ACON-C(h) within its bound
      const [h, a] = result as [tf.Tensor, tf.Tensor];
      const hv = await h!.data();
      const shape: Shape4 = [2, 8, 6, 6];
      const pp = {
        p1: new Float32Array(8).fill(1.2),
        p2: new Float32Array(8).fill(-0.3),
        beta: new Float32Array(8).fill(0.7),
      };
      within('a', await a!.data(), aconCForwardRef(hv, shape, pp, 'NHWC'), forwardBounds(hv, shape, pp, 'NHWC'));
      for (const t of result) expect((await t.data()).every(Number.isFinite)).toBe(true);
      tf.dispose(result);
    } finally {
      tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', flushAt);
      tf.dispose([x, w, p1, p2, beta]);
      meta.dispose();
    }
  });

  test('inputs disposed before tfjs submits are still read correctly (their buffers stay with the pending queue)', async () => {
    const flushAt = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 1000);
    try {
      const shape: Shape4 = [3, 12, 5, 5];
      const r = rng(31);
      const xs = normal(r, 900, 2);
      const pp = { p1: normal(r, 12), p2: normal(r, 12), beta: uniform(r, 12, -2, 2) };
      const ys: tf.Tensor[] = [];
      for (let k = 0; k < 4; k++) {
        // x comes from a GPU op, is used by aconC and disposed at once; later ops reuse freed buffers
        const x = tf.tidy(() => tf.add(tf.tensor4d(xs, [3, 5, 5, 12]), 0));
        const ps = [pp.p1, pp.p2, pp.beta].map((a) => tf.tensor1d(a));
        ys.push(aconC(x, ps[0]!, ps[1]!, ps[2]!));
        tf.dispose([x, ...ps]);
        tf.dispose(tf.tidy(() => tf.mul(tf.randomNormal([3, 5, 5, 12]), 3)));
      }
      const want = aconCForwardRef(nhwcToNchw(xs, shape), shape, pp);
      for (const y of ys)
        within('y', nhwcToNchw(await y.data(), shape), want, forwardBounds(nhwcToNchw(xs, shape), shape, pp));
      tf.dispose(ys);
    } finally {
      tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', flushAt);
    }
  });

  test('tfjs submits after its usual number of pending dispatches, ours counted', async () => {
    const x = tf.tidy(() => tf.add(tf.ones([1, 4, 4, 4]), 0));
    const p = tf.ones([4]);
    await x.data();
    const { submits } = spyDevice(() => {
      const ys = [];
      for (let i = 0; i < 40; i++) ys.push(aconC(x, p, p, p));
      tf.dispose(ys);
    });
    // 40 ACON-C forwards are 40 dispatches: the default batch size of 15 submits twice
    expect(submits).toBe(Math.floor(40 / (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number)));
    tf.dispose([x, p]);
  });
});

/** NHWC data [N, H, W, C] to NCHW for the reference. */
function nhwcToNchw(a: ArrayLike<number>, [N, C, H, W]: Shape4): Float32Array {
  const out = new Float32Array(N * C * H * W);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) out[(n * C + c) * H * W + p] = a[(n * H * W + p) * C + c]!;
  return out;
}

describe('metaAconC op', () => {
  test.each(['NCHW', 'NHWC'] as DataFormat[])(
    'webgpu (%s): value, every gradient and the running statistics equal the host-array op bitwise',
    async (format) => {
      const meta = metaTensors(20, 4, 3);
      const p = meta.params;
      const shape: Shape4 = [3, 20, 5, 5];
      const r = rng(4);
      const x = normal(r, 3 * 20 * 25, 2);
      const dy = normal(r, x.length);
      const hp = meta.host;
      const ctx = await GpuContext.create();
      const want = await hostForward(ctx, metaAconCDecl, x, shape, hp, { training: true, dataFormat: format });
      const wantG = await hostBackward(ctx, metaAconCDecl, x, dy, shape, hp, { training: true, dataFormat: format });
      ctx.destroy();
      const tshape: [number, number, number, number] = format === 'NCHW' ? [3, 20, 5, 5] : [3, 5, 5, 20];
      const tx = tf.tensor4d(x, tshape);
      const tdy = tf.tensor4d(dy, tshape);
      const apply = (a: tf.Tensor, training: boolean) => metaAconC(a, p, { training, dataFormat: format });
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(apply(tx, true), tdy)) as tf.Scalar,
        meta.trainable,
      );
      expect(await p.bn1.runningMean.data()).toEqual(want.bn1.runningMean);
      expect(await p.bn2.runningVar.data()).toEqual(want.bn2.runningVar);
      const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(apply(a, true), tdy)))(tx);
      expect(await gx.data()).toEqual(wantG.dx);
      const y = apply(tx, false);
      expect((await y.data()).length).toBe(x.length);
      const g = (v: tf.Tensor) => grads[(v as tf.Variable).name]!.data();
      expect(await g(p.p1)).toEqual(wantG.p1);
      expect(await g(p.fc1.weight)).toEqual(wantG.fc1.weight);
      expect(await g(p.bn1.bias)).toEqual(wantG.bn1.bias);
      expect(await g(p.fc2.bias)).toEqual(wantG.fc2.bias);
      expect(await g(p.bn2.weight)).toEqual(wantG.bn2.weight);
      let dot = 0;
      want.y.forEach((v, i) => (dot += v * dy[i]!));
      // Σ y·dy: the same y summed by tfjs; float32 sum of count terms: γ_count·Σ|y·dy|
      let mag = 0;
      want.y.forEach((v, i) => (mag += Math.abs(v * dy[i]!)));
      expect(Math.abs((await value.data())[0]! - dot)).toBeLessThanOrEqual(x.length * U * mag * 1.01);
      tf.dispose([tx, tdy, value, gx, y, ...Object.values(grads)]);
      meta.dispose();
    },
  );
});
