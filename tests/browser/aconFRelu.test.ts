// ACON-FReLU's fused eval forward (src/activations/aconFRelu/kernels.ts) against the float64
// reference within the derived float32 bounds (./bounds.ts): stride 1 and 2, both data formats, odd
// shapes (C = 1, 3, 17; 1×1, 7×9, 56×56 planes), random parameters with negative γ, and windows with
// ties (values on a coarse grid). In KERNEL_TESTS: on every engine.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AconGPU } from '../../src/index';
import { recordAconFReluEval, outSize } from '../../src/activations/aconFRelu/kernels';
import { aconFReluForwardRef, type AconFReluParamsRef, type Shape4 } from '../../src/activations/aconFRelu/reference';
import { evalForwardBounds } from '../../src/activations/aconFRelu/bounds';
import { compare } from '../../src/reference/tolerance';
import { normal, rng, uniform } from '../../src/ops/random';
import { noGpuErrors } from './gpu';

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

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
];

describe('ACON-FReLU eval forward (fused)', () => {
  for (const [shape, stride, ties] of CASES)
    for (const dataFormat of ['NCHW', 'NHWC'] as const)
      test(`[${shape.join(', ')}] ${dataFormat} stride ${stride}${ties ? ', ties' : ''}: within the bounds of the reference`, async () => {
        const [N, C, H, W] = shape;
        const seed = shape.reduce((a, b) => a * 31 + b, stride);
        const x = input(N * C * H * W, seed, ties);
        const p = params(C, seed + 1);
        const ctx = acon.context;
        const outCount = N * C * outSize(H, stride) * outSize(W, stride);
        const up = (a: ArrayLike<number>) => ctx.upload(Float32Array.from(a));
        const buffers = {
          convFrelu: { weight: up(p.convFrelu.weight), bias: up(p.convFrelu.bias) },
          bn1: {
            weight: up(p.bn1.weight),
            bias: up(p.bn1.bias),
            runningMean: up(p.bn1.runningMean),
            runningVar: up(p.bn1.runningVar),
          },
          bn2: {
            weight: up(p.bn2.weight),
            bias: up(p.bn2.bias),
            runningMean: up(p.bn2.runningMean),
            runningVar: up(p.bn2.runningVar),
          },
        };
        const gx = up(x);
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
        for (const b of [gx, gy, ...Object.values(buffers).flatMap((g) => Object.values(g))]) ctx.pool.release(b);
      });
});
