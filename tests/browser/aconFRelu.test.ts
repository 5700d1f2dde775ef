// ACON-FReLU's fused eval forward (src/activations/aconFRelu/kernels.ts) against the float64
// reference within the derived float32 bounds (./bounds.ts): stride 1 and 2, both data formats, odd
// shapes (C = 1, 3, 17; 1×1, 7×9, 56×56 planes), random parameters with negative γ, and windows with
// ties (values on a coarse grid). In KERNEL_TESTS: on every engine.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AconGPU, GpuContext, type DataFormat } from '../../src/index';
import {
  freluReducePlan,
  outSize,
  recordAconFReluBackward,
  recordAconFReluEval,
  recordAconFReluTrain,
} from '../../src/activations/aconFRelu/kernels';
import {
  aconFReluBackwardRef,
  aconFReluForwardRef,
  type AconFReluParamsRef,
  type Shape4,
} from '../../src/activations/aconFRelu/reference';
import { backwardBounds, evalForwardBounds, trainForwardBounds } from '../../src/activations/aconFRelu/bounds';
import { compare } from '../../src/reference/tolerance';
import { normal, rng, uniform } from '../../src/ops/random';
import { noGpuErrors } from './gpu';
import { hostLayers } from '../../src/ops/hostLayer';
import { OptionError } from '../../src/gpu/errors';

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

const up = (a: ArrayLike<number>, ctx = acon.context) => ctx.upload(Float32Array.from(a));
/**
 * A buffer with STORAGE usage alone (COPY_SRC too where `readBack`), filled at creation: what the
 * GPU-resident forms ask of the caller's buffers, so the kernels may not copy from or into them.
 */
const storage = (a: ArrayLike<number>, readBack = false, ctx = acon.context) => {
  const b = ctx.device.createBuffer({
    size: Math.max(4, a.length * 4),
    usage: GPUBufferUsage.STORAGE | (readBack ? GPUBufferUsage.COPY_SRC : 0),
    mappedAtCreation: true,
  });
  new Float32Array(b.getMappedRange()).set(a);
  b.unmap();
  return b;
};
const bnBuffers = (bn: AconFReluParamsRef['bn1'], ctx: GpuContext) => ({
  weight: storage(bn.weight, false, ctx),
  bias: storage(bn.bias, false, ctx),
  runningMean: storage(bn.runningMean, true, ctx),
  runningVar: storage(bn.runningVar, true, ctx),
});
const upload = (p: AconFReluParamsRef, ctx = acon.context) => ({
  convFrelu: { weight: storage(p.convFrelu.weight, false, ctx), bias: storage(p.convFrelu.bias, false, ctx) },
  bn1: bnBuffers(p.bn1, ctx),
  bn2: bnBuffers(p.bn2, ctx),
});

function params(C: number, seed: number): AconFReluParamsRef {
  const r = rng(seed);
  const bn = () => ({
    weight: normal(r, C), // negative γ included
    bias: normal(r, C),
    runningMean: normal(r, C),
    runningVar: uniform(r, C, 0.05, 3),
  });
  return { convFrelu: { weight: normal(r, 9 * C), bias: normal(r, C) }, bn1: bn(), bn2: bn() };
}

/** Inputs, on a grid of 1/4 when `ties` (so pooling windows hold equal maxima). */
function input(size: number, seed: number, ties: boolean): Float32Array {
  const r = rng(seed);
  const x = normal(r, size);
  return ties ? x.map((v) => Math.round(v * 4) / 4) : Float32Array.from(x, (v) => v * 3);
}

const CASES: [Shape4, 1 | 2, boolean][] = [
  [[2, 3, 7, 9], 1, false],
  [[2, 3, 7, 9], 2, true],
  [[1, 17, 5, 6], 2, false],
  [[3, 1, 1, 1], 1, false],
  [[3, 1, 1, 1], 2, false],
  [[1, 4, 2, 3], 2, true],
  [[2, 8, 56, 56], 2, true],
  [[2, 8, 9, 11], 1, true],
  [[2, 8, 9, 11], 2, false],
  [[1, 16, 28, 28], 1, false],
  // NCHW's strip walk (stride 1, W % 4 == 0; eight columns per invocation, four at a row's end when
  // W % 8 == 4; [1, 16, 28, 28] has three groups of eight and one of four): one group of eight, a row
  // alone of four, 41 rows of 8 + 4 columns (few invocations a band: six strips, of 7 rows and a last
  // of 6, on both tunings' stripRows)
  [[2, 3, 5, 8], 1, true],
  [[1, 2, 1, 4], 1, false],
  [[1, 2, 41, 12], 1, false],
  // NHWC's strip walk (stride 1, C % 4 == 0; four pixels of a strip of rows, [2, 8, 9, 11] with a tail
  // of three): a row shorter than four, a lone row with a tail of one, 41 rows (six strips as above)
  // with a tail of two
  [[1, 4, 3, 2], 1, true],
  [[2, 4, 1, 5], 1, false],
  [[1, 4, 41, 6], 1, false],
  // the other stride-1 cases above run forward_eval_strip_any (NHWC with C % 4 != 0, NCHW with
  // W % 4 != 0): rows of one to eight columns (W = 1, 2, 5, 6, 9 = 8 + 1, 11 = 8 + 3, 12 = 8 + 4), a
  // lone row, 41 rows in six strips; and a plane of three 8-column groups with a tail of five, W = 29
  [[2, 5, 10, 29], 1, false],
];

/** The eval forward of one case on `ctx` against the reference within its bounds. */
async function checkEval(shape: Shape4, stride: 1 | 2, ties: boolean, dataFormat: DataFormat, ctx = acon.context) {
  const [N, C, H, W] = shape;
  const seed = shape.reduce((a, b) => a * 31 + b, stride);
  const x = input(N * C * H * W, seed, ties);
  const p = params(C, seed + 1);
  const outCount = N * C * outSize(H, stride) * outSize(W, stride);
  const buffers = upload(p, ctx);
  const gx = up(x, ctx);
  const gy = ctx.pool.acquire(outCount * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'test-y');
  const [bytes] = await noGpuErrors(ctx.device, async () => {
    await ctx.submit((rec) =>
      recordAconFReluEval(ctx, rec, { n: N, c: C, h: H, w: W, dataFormat }, stride, {
        x: gx,
        params: buffers,
        y: gy,
      }),
    );
    return ctx.read([{ buffer: gy, bytes: outCount * 4 }]);
  });
  const got = new Float32Array(bytes!);
  const want = aconFReluForwardRef(x, shape, p, { stride, training: false, dataFormat }).y;
  const bound = evalForwardBounds(x, shape, p, stride, dataFormat);
  const r = compare(got, want, bound);
  expect(r.bad, `worst ${r.worst}`).toEqual([]);
  expect(r.worst).toBeLessThanOrEqual(1);
  for (const b of [gx, gy]) ctx.pool.release(b);
  for (const b of Object.values(buffers).flatMap((g) => Object.values(g))) b.destroy();
}

describe('ACON-FReLU eval forward (fused)', () => {
  for (const [shape, stride, ties] of CASES)
    for (const dataFormat of ['NCHW', 'NHWC'] as const)
      test(`[${shape.join(', ')}] ${dataFormat} stride ${stride}${ties ? ', ties' : ''}: within the bounds of the reference`, () =>
        checkEval(shape, stride, ties, dataFormat));
});

const out = (buffer: GPUBuffer, count: number) => ({ buffer, bytes: count * 4 });
/** A gradient tree's seven leaves in one order (dx, conv weight and bias, BN1's, BN2's): GPU buffers, results or bounds. */
const gradLeaves = <T>(g: {
  dx: T;
  convFrelu: { weight: T; bias: T };
  bn1: { weight: T; bias: T };
  bn2: { weight: T; bias: T };
}): T[] => [g.dx, g.convFrelu.weight, g.convFrelu.bias, g.bn1.weight, g.bn1.bias, g.bn2.weight, g.bn2.bias];
const check = (what: string, got: ArrayBuffer, want: ArrayLike<number>, bound: ArrayLike<number>) => {
  const r = compare(new Float32Array(got), want, bound);
  expect(r.bad, `${what}: worst ${r.worst}`).toEqual([]);
  return r.worst;
};

// Training forward (batch statistics, running statistics moved) and the backward in both modes.
// Smaller than the eval cases where the float64 bounds walk every position per term.
const TRAIN_CASES: [Shape4, 1 | 2, boolean][] = [
  [[2, 3, 7, 9], 1, false],
  [[2, 3, 7, 9], 2, true],
  [[1, 17, 5, 6], 2, false],
  [[1, 1, 2, 1], 1, false],
  [[3, 1, 1, 1], 2, false],
  [[2, 8, 9, 11], 1, true],
  [[4, 4, 36, 36], 2, false],
  [[2, 4, 40, 40], 1, false],
  // dx's stride-2 walk (C % 4 == 0): odd H and W (an input row and column past the last window's
  // centre) with ties; W ≡ 2 mod 4 (a last group of one output column)
  [[2, 8, 9, 11], 2, true],
  [[1, 4, 10, 6], 2, false],
];

/**
 * The backward in eval and training mode, then the training forward (y and the running statistics),
 * of one case on `ctx` against the reference within their bounds.
 */
async function checkTrain(shape: Shape4, stride: 1 | 2, ties: boolean, dataFormat: DataFormat, ctx = acon.context) {
  const [N, C, H, W] = shape;
  const seed = shape.reduce((a, b) => a * 37 + b, stride + 7);
  const x = input(N * C * H * W, seed, ties);
  const p = params(C, seed + 1);
  const geo = { n: N, c: C, h: H, w: W, dataFormat };
  const Q = N * C * outSize(H, stride) * outSize(W, stride);
  const dy = normal(rng(seed + 2), Q);
  const depth = freluReducePlan(geo, stride).depth;
  // outputs: STORAGE, and COPY_SRC to read them back
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const take = (count: number) => ctx.pool.acquire(count * 4, usage, 'test');
  const buffers = upload(p, ctx);
  const [gx, gdy, gy] = [up(x, ctx), up(dy, ctx), take(Q)];
  const grads = (() => ({
    dx: take(N * C * H * W),
    convFrelu: { weight: take(9 * C), bias: take(C) },
    bn1: { weight: take(C), bias: take(C) },
    bn2: { weight: take(C), bias: take(C) },
  }))();
  const sizes = [N * C * H * W, 9 * C, C, C, C, C, C];
  const worst: number[] = [];
  await noGpuErrors(ctx.device, async () => {
    // the backward in eval mode first, on the parameters as given
    for (const training of [false, true]) {
      await ctx.submit((rec) =>
        recordAconFReluBackward(ctx, rec, geo, stride, training, { x: gx, dy: gdy, params: buffers, grads }),
      );
      const got = await ctx.read(gradLeaves(grads).map((b, i) => out(b, sizes[i]!)));
      const want = aconFReluBackwardRef(x, dy, shape, p, { stride, training, dataFormat });
      const bound = backwardBounds(x, dy, shape, p, stride, dataFormat, training, depth);
      const names = ['dx', 'dweight', 'dbias', 'dγ1', 'dβ1', 'dγ2', 'dβ2'];
      gradLeaves<ArrayLike<number>>(want).forEach((w, i) =>
        worst.push(
          check(`${training ? 'training' : 'eval'} ${names[i]}`, got[i]!, w, gradLeaves<ArrayLike<number>>(bound)[i]!),
        ),
      );
    }
    // then the training forward, which moves the running statistics in place
    await ctx.submit((rec) => recordAconFReluTrain(ctx, rec, geo, stride, { x: gx, params: buffers, y: gy }));
    const [y, rm1, rv1, rm2, rv2] = await ctx.read([
      out(gy, Q),
      out(buffers.bn1.runningMean, C),
      out(buffers.bn1.runningVar, C),
      out(buffers.bn2.runningMean, C),
      out(buffers.bn2.runningVar, C),
    ]);
    const want = aconFReluForwardRef(x, shape, p, { stride, training: true, dataFormat });
    const bound = trainForwardBounds(x, shape, p, stride, dataFormat, depth);
    worst.push(check('y', y!, want.y, bound.y));
    worst.push(check('bn1.running_mean', rm1!, want.bn1.runningMean, bound.bn1.runningMean));
    worst.push(check('bn1.running_var', rv1!, want.bn1.runningVar, bound.bn1.runningVar));
    worst.push(check('bn2.running_mean', rm2!, want.bn2.runningMean, bound.bn2.runningMean));
    worst.push(check('bn2.running_var', rv2!, want.bn2.runningVar, bound.bn2.runningVar));
  });
  expect(Math.max(...worst)).toBeLessThanOrEqual(1);
  for (const b of [gx, gdy, gy, ...gradLeaves(grads)]) ctx.pool.release(b);
  for (const b of Object.values(buffers).flatMap((g) => Object.values(g))) b.destroy();
}

describe('ACON-FReLU training forward and backward (fused)', () => {
  for (const [shape, stride, ties] of TRAIN_CASES)
    for (const dataFormat of ['NCHW', 'NHWC'] as const)
      test(`[${shape.join(', ')}] ${dataFormat} stride ${stride}${ties ? ', ties' : ''}: y, running statistics and gradients within their bounds`, () =>
        checkTrain(shape, stride, ties, dataFormat));
});

// The grid folded at 7 workgroups per dimension (AconGPU's maxWorkgroupsPerDimension): a dispatch
// of more than 7 workgroups runs as 7 × k, its spare workgroups past the last doing nothing. The
// per-channel passes take their channel from the workgroup's index, C·chunks workgroups (C/4·chunks
// four channels at a time): with C = 9, 11 or 13 (36: nine units of four), one chunk each, a spare
// workgroup once summed channel C, whose partial sums land in channel 0's next term (dγ1 1775 where
// the reference has −0.11). Every walk and pass of both layouts and strides folds here.
const FOLD_CASES: [Shape4, 1 | 2, boolean][] = [
  [[2, 9, 3, 4], 1, false],
  [[2, 11, 3, 4], 2, false],
  [[2, 13, 3, 4], 1, true],
  [[2, 36, 3, 3], 2, true],
  [[2, 36, 5, 8], 1, false],
];

describe('ACON-FReLU with the grid folded at 7 workgroups per dimension', () => {
  let folded: AconGPU;
  beforeAll(async () => {
    folded = await AconGPU.create({ maxWorkgroupsPerDimension: 7 });
  });
  afterAll(() => folded.destroy());
  for (const [shape, stride, ties] of FOLD_CASES)
    for (const dataFormat of ['NCHW', 'NHWC'] as const)
      test(`[${shape.join(', ')}] ${dataFormat} stride ${stride}: eval forward, both backwards and the training forward within their bounds`, async () => {
        await checkEval(shape, stride, ties, dataFormat, folded.context);
        await checkTrain(shape, stride, ties, dataFormat, folded.context);
      });
});

// Non-finite input stays where the reference puts it. The walks load branch-free from clamped
// addresses (the row above the first reads the last row, a column left of the first reads the
// first) and select zero for padding, and the training passes reduce per channel: a NaN must make
// NaN exactly the outputs, gradients and statistics whose reference values are NaN (each window
// holding it, each channel summing it) and change nothing else, not a bit. NaNs at plane corners
// (the last row and column: what clamped padding loads read), inside a plane, in dy, in channels
// 0, 1, 2 and the last: channels 3 and up to the last stay finite in training too. Every walk in
// both layouts at both strides: C = 8 the four-channel ones (NCHW's on channels-last copies in
// training), C = 6 the one-channel ones; W = 12 in NCHW the eval forward's eight-column walk.
const NAN_CASES: [Shape4, 1 | 2, 'NCHW' | 'NHWC'][] = [
  [[2, 8, 9, 11], 1, 'NHWC'],
  [[2, 8, 9, 11], 1, 'NCHW'],
  [[2, 8, 9, 11], 2, 'NHWC'],
  [[2, 8, 9, 11], 2, 'NCHW'],
  [[2, 6, 9, 12], 1, 'NCHW'],
  [[2, 6, 9, 12], 1, 'NHWC'],
  [[2, 6, 9, 12], 2, 'NCHW'],
  [[2, 6, 9, 12], 2, 'NHWC'],
];

describe('ACON-FReLU with NaN inputs (fused)', () => {
  for (const [shape, stride, dataFormat] of NAN_CASES)
    test(`[${shape.join(', ')}] ${dataFormat} stride ${stride}: NaN where the reference has it, every other value unchanged`, async () => {
      const [N, C, H, W] = shape;
      const ctx = acon.context;
      const geo = { n: N, c: C, h: H, w: W, dataFormat };
      const Q = N * C * outSize(H, stride) * outSize(W, stride);
      const p = params(C, 41);
      // x and dy in geo's layout: the element (n, c, h, w)
      const at = (n: number, c: number, h: number, w: number, hh = H, ww = W) =>
        dataFormat === 'NHWC' ? ((n * hh + h) * ww + w) * C + c : ((n * C + c) * hh + h) * ww + w;
      const clean = { x: input(N * C * H * W, 43, false), dy: normal(rng(44), Q) };
      const x = clean.x.slice();
      for (const [n, c, h, w] of [
        [1, 1, H - 1, W - 1],
        [0, 0, 0, 0],
        [1, 1, H - 1, 0],
        [0, 0, 4, 5],
        [0, C - 1, H - 1, W - 1],
      ] as const)
        x[at(n, c, h, w)] = NaN;
      // dy: inside channel 1's plane, and at the first output of channel 2 (x clean there), whose
      // window holds padding: in eval mode dz is NaN there alone, and dweight's padding taps get dz·0
      const dy = clean.dy.slice();
      const dyAt = (n: number, c: number, h: number, w: number) =>
        at(n, c, h, w, outSize(H, stride), outSize(W, stride));
      dy[dyAt(0, 1, 1, 2)] = NaN;
      dy[dyAt(1, 2, 0, 0)] = NaN;

      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
      const take = (count: number) => ctx.pool.acquire(count * 4, usage, 'test');
      /** Every output of the eval forward, both backwards and the training forward, as float32 arrays. */
      const run = async (xs: Float32Array, dys: Float32Array) => {
        const buffers = upload(p);
        const [gx, gdy, gy] = [up(xs), up(dys), take(Q)];
        const grads = {
          dx: take(N * C * H * W),
          convFrelu: { weight: take(9 * C), bias: take(C) },
          bn1: { weight: take(C), bias: take(C) },
          bn2: { weight: take(C), bias: take(C) },
        };
        const gradList = gradLeaves(grads);
        const gradOut = gradList.map((b, i) => out(b, [N * C * H * W, 9 * C][i] ?? C));
        const got: Float32Array[] = [];
        const read = async (o: { buffer: GPUBuffer; bytes: number }[]) =>
          got.push(...(await ctx.read(o)).map((b) => new Float32Array(b)));
        await noGpuErrors(ctx.device, async () => {
          await ctx.submit((rec) => recordAconFReluEval(ctx, rec, geo, stride, { x: gx, params: buffers, y: gy }));
          await read([out(gy, Q)]);
          for (const training of [false, true]) {
            await ctx.submit((rec) =>
              recordAconFReluBackward(ctx, rec, geo, stride, training, { x: gx, dy: gdy, params: buffers, grads }),
            );
            await read(gradOut);
          }
          await ctx.submit((rec) => recordAconFReluTrain(ctx, rec, geo, stride, { x: gx, params: buffers, y: gy }));
          const { bn1, bn2 } = buffers;
          await read(
            [gy, bn1.runningMean, bn1.runningVar, bn2.runningMean, bn2.runningVar].map((b, i) => out(b, i ? C : Q)),
          );
        });
        for (const b of [gx, gdy, gy, ...gradList]) ctx.pool.release(b);
        for (const b of Object.values(buffers).flatMap((g) => Object.values(g))) b.destroy();
        return got;
      };
      const ref = (training: boolean) => {
        const g = aconFReluBackwardRef(x, dy, shape, p, { stride, training, dataFormat });
        return gradLeaves<ArrayLike<number>>(g);
      };
      const train = aconFReluForwardRef(x, shape, p, { stride, training: true, dataFormat });
      const want = [
        aconFReluForwardRef(x, shape, p, { stride, training: false, dataFormat }).y,
        ...ref(false),
        ...ref(true),
        train.y,
        train.bn1.runningMean,
        train.bn1.runningVar,
        train.bn2.runningMean,
        train.bn2.runningVar,
      ];
      const grad = ['dx', 'dweight', 'dbias', 'dγ1', 'dβ1', 'dγ2', 'dβ2'];
      const what = [
        'eval y',
        ...grad.map((n) => `eval ${n}`),
        ...grad.map((n) => `training ${n}`),
        'training y',
        'bn1.running_mean',
        'bn1.running_var',
        'bn2.running_mean',
        'bn2.running_var',
      ];
      const [got, base] = [await run(x, dy), await run(clean.x, clean.dy)];
      got.forEach((g, k) => {
        const nan = Array.from(want[k]!, Number.isNaN);
        expect(Array.from(g, Number.isNaN), what[k]).toEqual(nan);
        const changed = Array.from(g, (v, i) => !nan[i] && !Object.is(v, base[k]![i]));
        expect(changed.indexOf(true), `${what[k]}: a value without NaN in its reference changed`).toBe(-1);
      });
      // not a vacuous case: every output has NaNs and finite values (channels 3 .. C − 2 are clean), and
      // the eval forward's NaNs are confined to a few windows
      want.forEach((w, k) => {
        const nans = Array.from(w, Number.isNaN).filter(Boolean).length;
        expect([nans > 0, nans < w.length], what[k]).toEqual([true, true]);
      });
      expect(Array.from(want[0]!, Number.isNaN).filter(Boolean).length).toBeLessThan(want[0]!.length / 4);
    });
});

// The host layer passes its stride to every call: a call may repeat it, not change it.
test("the host layer's stride is the layer's: a call with another is an OptionError", async () => {
  const layer = new hostLayers.AconFReLU(4, 2);
  const x = normal(rng(3), 4 * 25);
  const y = await layer.forward(acon, x, [1, 4, 5, 5], { training: false });
  expect(y.length).toBe(4 * 9); // stride 2: 3 × 3
  expect(await layer.forward(acon, x, [1, 4, 5, 5], { training: false, stride: 2 })).toEqual(y);
  await expect(layer.forward(acon, x, [1, 4, 5, 5], { training: false, stride: 1 })).rejects.toThrow(OptionError);
  await expect(
    layer.backward(acon, x, normal(rng(4), 36), [1, 4, 5, 5], { training: false, stride: 1 }),
  ).rejects.toThrow(OptionError);
});
