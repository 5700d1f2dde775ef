// Every ACON-C kernel against the float64 CPU reference in headless Chromium (WebGPU).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  AconGPU,
  aconCBackwardRef,
  aconCForwardRef,
  aconAParams,
  aconBParams,
  type DataFormat,
  type Shape4,
} from '../../src/index';
import { backwardPlan } from '../../src/activations/aconC/kernels';
import { channelsLastPlan } from '../../src/kernels/plan';
import { backwardBounds, forwardBounds } from '../../src/activations/aconC/bounds';
import { expectWithinBounds } from '../helpers/fixtures';
import { normal, rng, uniform } from '../../src/ops/random';
import { noGpuErrors } from './gpu';

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

interface Case {
  shape: Shape4;
  dataFormat: DataFormat;
  perSample: boolean;
  seed: number;
  xScale?: number;
}

/** Random data for a case: p1, p2 ~ N(0, 1) (so about half the channels have p1 < p2), β ∈ [−3, 3] with some exact zeros. */
function makeData({ shape, perSample, seed, xScale = 2 }: Case) {
  const [n, c, h, w] = shape;
  const r = rng(seed);
  const count = n * c * h * w;
  const beta = uniform(r, perSample ? n * c : c, -3, 3);
  for (let i = 0; i < beta.length; i += 5) beta[i] = 0;
  return {
    x: normal(r, count, xScale),
    dy: normal(r, count),
    params: { p1: normal(r, c), p2: normal(r, c), beta },
  };
}

const expectWithin = expectWithinBounds;

async function checkCase(k: Case, a: AconGPU = acon) {
  const { x, dy, params } = makeData(k);
  const geo = {
    n: k.shape[0],
    c: k.shape[1],
    h: k.shape[2],
    w: k.shape[3],
    dataFormat: k.dataFormat,
    betaPerSample: k.perSample && k.shape[0] > 1,
  };
  await noGpuErrors(a.device, async () => {
    const y = await a.aconCForward(x, k.shape, params, { dataFormat: k.dataFormat });
    expectWithin(
      'y',
      y,
      aconCForwardRef(x, k.shape, params, k.dataFormat),
      forwardBounds(x, k.shape, params, k.dataFormat),
    );
    const g = await a.aconCBackward(x, dy, k.shape, params, { dataFormat: k.dataFormat });
    const ref = aconCBackwardRef(x, dy, k.shape, params, k.dataFormat);
    const bounds = backwardBounds(x, dy, k.shape, params, backwardPlan(geo, a.context.software).depth, k.dataFormat);
    expectWithin('dx', g.dx, ref.dx, bounds.dx);
    expectWithin('dp1', g.p1, ref.p1, bounds.p1);
    expectWithin('dp2', g.p2, ref.p2, bounds.p2);
    expectWithin('dbeta', g.beta, ref.beta, bounds.beta);
  });
}

describe('ACON-C forward and backward vs the reference', () => {
  // C ∈ {1, 3, 17, 64} × H·W ∈ {1, 7, 49, 3136}, N ∈ {1, 3, 32} (N = 32 where the tensor stays ≤ 2M elements).
  const planes: [number, number][] = [
    [1, 1],
    [7, 1],
    [7, 7],
    [56, 56],
  ];
  const cases: Case[] = [];
  let seed = 1;
  for (const c of [1, 3, 17, 64]) {
    for (const [h, w] of planes) {
      for (const n of [1, 3, 32]) {
        if (n * c * h * w > 2_000_000) continue;
        for (const dataFormat of ['NCHW', 'NHWC'] as DataFormat[])
          cases.push({ shape: [n, c, h, w], dataFormat, perSample: seed % 4 === 1, seed: seed++ });
      }
    }
  }
  test.each(cases)('$shape $dataFormat perSample=$perSample seed=$seed', (k) => checkCase(k), 120_000);

  test('both layouts on one shape give the same values (transposed)', async () => {
    const shape: Shape4 = [2, 5, 3, 4];
    const { x, params } = makeData({ shape, dataFormat: 'NCHW', perSample: false, seed: 99 });
    const nhwc = new Float32Array(x.length);
    const [N, C, H, W] = shape;
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let p = 0; p < H * W; p++) nhwc[(n * H * W + p) * C + c] = x[(n * C + c) * H * W + p]!;
    const a = await acon.aconCForward(x, shape, params);
    const b = await acon.aconCForward(nhwc, shape, params, { dataFormat: 'NHWC' });
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let p = 0; p < H * W; p++) expect(b[(n * H * W + p) * C + c]).toBe(a[(n * C + c) * H * W + p]);
  });
});

describe('channels-last vec4 units for any C (rows of lcm(C, 4) elements)', () => {
  // the vec4 kernels take any C whose rows tile the planes; the others fall back to scalar units
  const cases: Case[] = [
    { shape: [2, 3, 8, 8], dataFormat: 'NHWC', perSample: false, seed: 41 }, // C odd: 4-pixel rows
    { shape: [3, 3, 4, 5], dataFormat: 'NHWC', perSample: true, seed: 42 }, // per sample: 20 pixels = 5 rows
    { shape: [2, 6, 3, 3], dataFormat: 'NHWC', perSample: false, seed: 43 }, // C ≡ 2 mod 4: 18 pixels = 9 rows
    { shape: [2, 6, 3, 3], dataFormat: 'NHWC', perSample: true, seed: 44 }, // 9 pixels per sample: scalar units
    { shape: [4, 1, 6, 6], dataFormat: 'NHWC', perSample: true, seed: 45 }, // C = 1: a vec4 is 4 pixels
    { shape: [2, 17, 16, 16], dataFormat: 'NHWC', perSample: true, seed: 46 }, // 17 units in 2 blocks
    { shape: [1, 3, 224, 224], dataFormat: 'NHWC', perSample: false, seed: 47 }, // an image: several chunks
  ];
  test.each(cases)('$shape perSample=$perSample', async (k) => {
    const [n, c, h, w] = k.shape;
    const plan = channelsLastPlan({ n, c, h, w, dataFormat: 'NHWC' }, 4096, k.perSample, acon.context.software);
    expect(plan.vec4).toBe(k.seed !== 44);
    await checkCase(k);
  });
});

describe('special values', () => {
  test('|x| up to 1e4, ±0, p1 < p2, negative and zero β: finite and within bounds', async () => {
    const shape: Shape4 = [2, 4, 5, 5];
    const count = 200;
    const r = rng(7);
    const x = normal(r, count, 3);
    const specials = [1e4, -1e4, 3e3, -3e3, 0, -0, 88.7, -88.7, 1e-30, -1e-30];
    specials.forEach((v, i) => (x[i * 11] = v));
    const params = {
      p1: new Float32Array([0.5, -1.5, 2, 0]),
      p2: new Float32Array([1.5, 0.7, -2, 0]),
      beta: new Float32Array([-2, 0, 3, 1]),
    };
    const dy = normal(r, count);
    await noGpuErrors(acon.device, async () => {
      const y = await acon.aconCForward(x, shape, params);
      expect(y.every(Number.isFinite)).toBe(true);
      expectWithin('y', y, aconCForwardRef(x, shape, params), forwardBounds(x, shape, params));
      const g = await acon.aconCBackward(x, dy, shape, params);
      for (const v of [g.dx, g.p1, g.p2, g.beta]) expect(v.every(Number.isFinite)).toBe(true);
      const ref = aconCBackwardRef(x, dy, shape, params);
      const geo = { n: 2, c: 4, h: 5, w: 5, dataFormat: 'NCHW' as const, betaPerSample: false };
      const bounds = backwardBounds(x, dy, shape, params, backwardPlan(geo, acon.context.software).depth);
      expectWithin('dx', g.dx, ref.dx, bounds.dx);
      expectWithin('dp1', g.p1, ref.p1, bounds.p1);
      expectWithin('dp2', g.p2, ref.p2, bounds.p2);
      expectWithin('dbeta', g.beta, ref.beta, bounds.beta);
      // The sign of zero follows the reference: y = x·(p1·s + p2·s̄).
      expect(Object.is(y[4 * 11], aconCForwardRef(x, shape, params)[4 * 11])).toBe(true);
    });
  });

  test('NaN inputs propagate as in the reference', async () => {
    const shape: Shape4 = [1, 2, 4, 4];
    const r = rng(8);
    const x = normal(r, 32);
    x[3] = NaN;
    x[20] = NaN;
    const dy = normal(r, 32);
    dy[5] = NaN;
    const params = { p1: new Float32Array([1, 2]), p2: new Float32Array([0.5, -1]), beta: new Float32Array([1, -1]) };
    const y = await acon.aconCForward(x, shape, params);
    const yr = aconCForwardRef(x, shape, params);
    expect(Array.from(y, Number.isNaN)).toEqual(Array.from(yr, Number.isNaN));
    const g = await acon.aconCBackward(x, dy, shape, params);
    const gr = aconCBackwardRef(x, dy, shape, params);
    expect(Array.from(g.dx, Number.isNaN)).toEqual(Array.from(gr.dx, Number.isNaN));
    expect(Array.from(g.p1, Number.isNaN)).toEqual([true, true]);
    expect(Array.from(g.beta, Number.isNaN)).toEqual(Array.from(gr.beta, Number.isNaN));
  });

  test('ACON-A (Swish) and ACON-B presets', async () => {
    const shape: Shape4 = [2, 3, 4, 4];
    const x = normal(rng(9), 96, 3);
    const a = aconAParams(3, [1, 0.5, -2]);
    const ya = await acon.aconCForward(x, shape, a);
    for (let i = 0; i < x.length; i++) {
      const b = a.beta[Math.floor(i / 16) % 3]!;
      const swish = x[i]! / (1 + Math.exp(-b * x[i]!));
      expect(Math.abs(ya[i]! - swish)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(swish)) * (1 + Math.abs(b * x[i]!)));
    }
    const bp = aconBParams([0.25, -0.5, 0]);
    const yb = await acon.aconCForward(x, shape, bp);
    expectWithin('acon-b', yb, aconCForwardRef(x, shape, bp), forwardBounds(x, shape, bp));
  });
});

describe('the GPU tuning (workgroups of 64, 1024-element forward slices) run on this adapter', () => {
  // CI has only SwiftShader, which gets the software tuning; these cases take every entry point
  // through the plans a GPU gets.
  const cases: Case[] = [
    { shape: [2, 5, 64, 68], dataFormat: 'NCHW', perSample: true, seed: 21 }, // forward_chunks4, 5 chunks per plane
    { shape: [32, 17, 16, 16], dataFormat: 'NCHW', perSample: false, seed: 22 }, // forward_rows4, 4 planes per slice
    { shape: [3, 3, 7, 7], dataFormat: 'NCHW', perSample: false, seed: 23 }, // forward, backward
    { shape: [32, 64, 7, 7], dataFormat: 'NCHW', perSample: true, seed: 24 }, // backward_planes
    // channels-last: vec4 units with two channel blocks of 64 lanes, ragged vec4 block (12 channels:
    // 3 lanes × 21 pixel lanes), scalar channels (17 × 3 pixel lanes), several chunks per plane
    { shape: [2, 512, 6, 5], dataFormat: 'NHWC', perSample: true, seed: 25 },
    { shape: [5, 12, 9, 11], dataFormat: 'NHWC', perSample: false, seed: 26 },
    { shape: [3, 17, 13, 13], dataFormat: 'NHWC', perSample: true, seed: 27 },
    { shape: [4, 64, 28, 28], dataFormat: 'NHWC', perSample: false, seed: 28 },
    // vec4 units across pixels: C odd (rows of 4 pixels), C ≡ 2 mod 4 (rows of 2 pixels)
    { shape: [2, 3, 8, 8], dataFormat: 'NHWC', perSample: true, seed: 29 },
    { shape: [3, 70, 5, 2], dataFormat: 'NHWC', perSample: false, seed: 30 },
  ];
  test('forward and backward vs the reference', async () => {
    const gpuTuned = await AconGPU.create({ software: false });
    try {
      for (const k of cases) await checkCase(k, gpuTuned);
    } finally {
      gpuTuned.destroy();
    }
  }, 120_000);
});

describe('determinism and large grids', () => {
  test('backward is bitwise identical across runs', async () => {
    const k: Case = { shape: [4, 17, 33, 33], dataFormat: 'NCHW', perSample: false, seed: 11 };
    const { x, dy, params } = makeData(k);
    const a = await acon.aconCBackward(x, dy, k.shape, params);
    const b = await acon.aconCBackward(x, dy, k.shape, params);
    for (const key of ['dx', 'p1', 'p2', 'beta'] as const) expect(b[key]).toEqual(a[key]);
  });

  test('a large odd-sized channels-last tensor (NHWC [1, 3, 1201, 1201], 4,327,203 elements)', async () => {
    await checkCase({ shape: [1, 3, 1201, 1201], dataFormat: 'NHWC', perSample: false, seed: 12 });
  });

  test('channels-last needing more than 65,535 workgroups (per-sample β, NHWC [70000, 4, 1, 1])', async () => {
    // one tile per sample (one vec4 of channels): 70,000 workgroups, folded into a 2D grid
    await checkCase({ shape: [70_000, 4, 1, 1], dataFormat: 'NHWC', perSample: true, seed: 18 });
  });

  test('finishing in group levels (src/kernels/budget.ts: lavapipe caps an invocation at 65,535 loop trips), GPU tuning', async () => {
    // NHWC [20000, 4, 1, 1] per sample: 20,000 tiles × 64 lanes = 1,280,000 partials per channel, dβ
    // finished per sample, dp1 and dp2 over 313 group sums ([70000, 4, 1, 1] would need 215 MB of
    // partials, over lavapipe's 128 MiB binding); [2, 1, 1024, 1200] per sample: 300 chunks × 64
    // (NCHW) or 256 (NHWC) lanes per plane, grouped within each plane for dβ
    const gpuTuned = await AconGPU.create({ software: false });
    try {
      for (const k of [
        { shape: [20_000, 4, 1, 1], dataFormat: 'NHWC', perSample: true, seed: 31 },
        { shape: [2, 1, 1024, 1200], dataFormat: 'NCHW', perSample: true, seed: 32 },
        { shape: [2, 1, 1024, 1200], dataFormat: 'NHWC', perSample: true, seed: 33 },
      ] as Case[]) {
        const [n, c, h, w] = k.shape;
        expect(
          backwardPlan({ n, c, h, w, dataFormat: k.dataFormat, betaPerSample: true }, false).finishing.length,
        ).toBeGreaterThan(1);
        await checkCase(k, gpuTuned);
      }
    } finally {
      gpuTuned.destroy();
    }
  }, 180_000);

  test('backward needing more than 65,535 workgroups (per-sample β, [1024, 128, 1, 1])', async () => {
    // One slice per (n, c): 131,072 workgroups.
    await checkCase({ shape: [1024, 128, 1, 1], dataFormat: 'NCHW', perSample: true, seed: 13 });
  });

  test('every entry point with the grid folded at 7 workgroups per dimension', async () => {
    const folded = await AconGPU.create({ maxWorkgroupsPerDimension: 7 });
    try {
      for (const k of [
        { shape: [3, 5, 8, 8], dataFormat: 'NCHW', perSample: false, seed: 14 },
        { shape: [3, 5, 7, 7], dataFormat: 'NCHW', perSample: true, seed: 15 },
        { shape: [3, 5, 7, 3], dataFormat: 'NHWC', perSample: false, seed: 16 },
        { shape: [3, 8, 7, 9], dataFormat: 'NHWC', perSample: true, seed: 19 },
        { shape: [3, 24, 9, 9], dataFormat: 'NHWC', perSample: false, seed: 20 },
        // forward_chunks4 (on a software adapter: 2 chunks per 64×68 plane, 20 workgroups on a 7 × 3 grid)
        { shape: [2, 5, 64, 68], dataFormat: 'NCHW', perSample: true, seed: 17 },
      ] as Case[]) {
        const { x, dy, params } = makeData(k);
        const ref = aconCForwardRef(x, k.shape, params, k.dataFormat);
        expectWithin(
          'y',
          await folded.aconCForward(x, k.shape, params, { dataFormat: k.dataFormat }),
          ref,
          forwardBounds(x, k.shape, params, k.dataFormat),
        );
        const g = await folded.aconCBackward(x, dy, k.shape, params, { dataFormat: k.dataFormat });
        const want = await acon.aconCBackward(x, dy, k.shape, params, { dataFormat: k.dataFormat });
        for (const key of ['dx', 'p1', 'p2', 'beta'] as const) expect(g[key]).toEqual(want[key]);
      }
    } finally {
      folded.destroy();
    }
  });
});

describe('property-based: random shapes, layouts and parameters', () => {
  test('200 random cases, forward and backward', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 5 }),
          c: fc.integer({ min: 1, max: 20 }),
          h: fc.integer({ min: 1, max: 9 }),
          w: fc.integer({ min: 1, max: 9 }),
          dataFormat: fc.constantFrom<DataFormat>('NCHW', 'NHWC'),
          perSample: fc.boolean(),
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          xScale: fc.constantFrom(0.1, 2, 30),
        }),
        async ({ n, c, h, w, dataFormat, perSample, seed, xScale }) => {
          await checkCase({ shape: [n, c, h, w], dataFormat, perSample, seed, xScale });
        },
      ),
      { numRuns: 200, seed: 20261129 },
    );
  });
});
