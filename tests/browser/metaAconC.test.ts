// Meta-ACON-C on the GPU against the float64 reference, every kernel checked on its own inputs
// (the op's debug intermediates), in training and eval mode.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  AconGPU,
  BatchSizeError,
  LengthError,
  MetaAconC,
  StateDictError,
  type DataFormat,
  type Shape4,
} from '../../src/index';
import { checkMetaStages } from '../../src/activations/metaAconC/checks';
import { metaAconC as metaAconCDecl } from '../../src/activations/metaAconC/declaration';
import { hostBackward, hostForward } from '../../src/ops/forms';
import { normal, rng } from '../../src/ops/random';
import { batchNormRef } from '../../src/activations/metaAconC/reference';
import { batchNormBounds } from '../../src/activations/metaAconC/bounds';
import { meanPlan } from '../../src/kernels/reduce';
import { expectWithinBounds, makeMetaParams, metaParamBuffers } from '../helpers/fixtures';

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

const makeParams = makeMetaParams;

const within = expectWithinBounds;

interface MetaCase {
  shape: Shape4;
  r: number;
  training: boolean;
  dataFormat: DataFormat;
  seed: number;
}

async function checkMetaCase({ shape, r, training, dataFormat, seed }: MetaCase, a: AconGPU = acon) {
  const [N, C, H, W] = shape;
  const count = N * C * H * W;
  const p = makeParams(C, r, seed);
  const rand = rng(seed + 1);
  const x = normal(rand, count, 1.5);
  const dy = normal(rand, count);
  const results = await checkMetaStages(a.context, x, dy, shape, p, training, dataFormat);
  expect(results.length).toBeGreaterThan(30);
  expect(
    results.filter((s) => !s.pass),
    'stages outside their float32 error bound',
  ).toEqual([]);
}

describe('Meta-ACON-C: every stage vs the reference', () => {
  const cases: MetaCase[] = [];
  let seed = 100;
  for (const C of [16, 17, 64, 256])
    for (const [H, W] of [
      [1, 1],
      [7, 1],
      [7, 7],
      [56, 56],
    ] as const)
      for (const N of [2, 3, 32]) {
        if (N * C * H * W > 1_700_000) continue;
        seed++;
        for (const dataFormat of ['NCHW', 'NHWC'] as DataFormat[])
          cases.push({ shape: [N, C, H, W], r: seed % 2 ? 16 : 4, training: seed % 3 !== 0, dataFormat, seed });
      }
  test.each(cases)('$shape r=$r training=$training $dataFormat', (k) => checkMetaCase(k), 120_000);

  test.each(['NCHW', 'NHWC'] as DataFormat[])(
    'planes of several mean chunks (64×68, %s), also with the GPU tuning and with the grid folded at 9 per dimension',
    async (dataFormat) => {
      const k: MetaCase = { shape: [2, 16, 64, 68], r: 4, training: true, dataFormat, seed: 7 };
      await checkMetaCase(k);
      for (const options of [{ software: false }, { maxWorkgroupsPerDimension: 9 }]) {
        const other = await AconGPU.create(options);
        try {
          await checkMetaCase(k, other);
        } finally {
          other.destroy();
        }
      }
    },
    120_000,
  );

  test('mean partials summed in a group level first (GPU tuning, NHWC [2, 3, 300, 301]: 67 chunks × 84 lanes per plane)', async () => {
    const k: MetaCase = { shape: [2, 3, 300, 301], r: 1, training: true, dataFormat: 'NHWC', seed: 8 };
    expect(meanPlan({ n: 2, c: 3, h: 300, w: 301, dataFormat: 'NHWC' }, false).finishing.length).toBe(1);
    const gpuTuned = await AconGPU.create({ software: false });
    try {
      await checkMetaCase(k, gpuTuned);
    } finally {
      gpuTuned.destroy();
    }
  }, 120_000);

  test('channels-last with C not a multiple of 4 and several channel blocks (NHWC [3, 75, 20, 20]), GPU tuning too', async () => {
    const k: MetaCase = { shape: [3, 75, 20, 20], r: 16, training: true, dataFormat: 'NHWC', seed: 8 };
    await checkMetaCase(k);
    const other = await AconGPU.create({ software: false });
    try {
      await checkMetaCase(k, other);
    } finally {
      other.destroy();
    }
  }, 120_000);

  test('200 random cases (property-based)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 2, max: 6 }),
          c: fc.integer({ min: 1, max: 40 }),
          h: fc.integer({ min: 1, max: 6 }),
          w: fc.integer({ min: 1, max: 6 }),
          r: fc.constantFrom(4, 8, 16),
          training: fc.boolean(),
          dataFormat: fc.constantFrom<DataFormat>('NCHW', 'NHWC'),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        async ({ n, c, h, w, r, training, dataFormat, seed }) =>
          checkMetaCase({ shape: [n, c, h, w], r, training, dataFormat, seed }),
      ),
      { numRuns: 200, seed: 4242 },
    );
  }, 300_000);
});

describe('Meta-ACON-C eval forward: the β generator in one pass', () => {
  // The fused eval pass (conv1x1.wgsl's beta_eval, or beyond its workgroup memory each 1×1
  // convolution fused with its batch norm) evaluates the same float32 expressions, in the same order,
  // as the staged kernels (whose every stage the tests above check against the reference on its own
  // inputs), so y and β must agree bit for bit with the staged (debug) run.
  async function expectStaged(a: AconGPU, shape: Shape4, dataFormat: DataFormat, r: number, seed: number) {
    const [N, C, H, W] = shape;
    const p = makeMetaParams(C, r, seed);
    const x = normal(rng(seed + 1), N * C * H * W, 2);
    const fused = await hostForward(a.context, metaAconCDecl, x, shape, p, { training: false, dataFormat });
    const staged = await hostForward(a.context, metaAconCDecl, x, shape, p, {
      training: false,
      dataFormat,
      debug: true,
    });
    expect(fused.beta).toEqual(staged.beta);
    expect(fused.y).toEqual(staged.y);
    // the running statistics are read, never written
    expect(fused.bn1.runningMean).toEqual(p.bn1.runningMean);
    expect(fused.bn2.runningVar).toEqual(p.bn2.runningVar);
  }
  // C and R below, at and beyond the workgroup's 64 invocations; C + R = 2048 (the pass's limit)
  // and 2048 + 128 (the staged fallback); several mean chunks per plane (64×68 NCHW)
  const cases: [Shape4, DataFormat, number][] = [
    [[1, 64, 7, 7], 'NHWC', 16],
    [[3, 17, 5, 5], 'NCHW', 16],
    [[2, 256, 3, 3], 'NHWC', 16],
    [[4, 40, 8, 8], 'NCHW', 16],
    [[2, 512, 2, 3], 'NHWC', 4],
    [[2, 1920, 2, 2], 'NCHW', 15],
    [[2, 2048, 2, 1], 'NHWC', 16],
    [[2, 8, 64, 68], 'NCHW', 4],
  ];
  test.each(cases)('%j %s r = %i', (shape, dataFormat, r) => expectStaged(acon, shape, dataFormat, r, shape[1] + 1));

  test('with the GPU tuning (WG 64), and a grid folded at 9 per dimension (10 samples: 8 surplus workgroups)', async () => {
    const runs: [Parameters<typeof AconGPU.create>[0], Shape4, number][] = [
      [{ software: false }, [2, 256, 4, 4], 16],
      [{ maxWorkgroupsPerDimension: 9 }, [10, 6, 3, 2], 2],
    ];
    for (const [options, shape, r] of runs) {
      const a = await AconGPU.create(options);
      try {
        for (const dataFormat of ['NHWC', 'NCHW'] as DataFormat[]) await expectStaged(a, shape, dataFormat, r, 9);
      } finally {
        a.destroy();
      }
    }
  });
});

describe('Meta-ACON-C layer', () => {
  test('running statistics after several training steps equal the reference, step by step', async () => {
    const shape: Shape4 = [4, 32, 5, 5];
    const layer = new MetaAconC(32, 16, 7);
    const rand = rng(8);
    for (let step = 0; step < 4; step++) {
      const x = normal(rand, 4 * 32 * 25, 1 + step);
      const before = structuredClone(layer.params);
      const f = await hostForward(acon.context, metaAconCDecl, x, shape, before, { training: true, debug: true });
      const y = await layer.forward(acon, x, shape, { training: true });
      expect(y).toEqual(f.y);
      const I = f.intermediates!;
      const r1 = batchNormRef(I.h1!, 4, layer.hidden, before.bn1, true);
      const b1 = batchNormBounds(I.h1!, 4, layer.hidden, before.bn1, true, false);
      within(`step ${step} bn1 running mean`, layer.params.bn1.runningMean, r1.runningMean, b1.runningMean);
      within(`step ${step} bn1 running var`, layer.params.bn1.runningVar, r1.runningVar, b1.runningVar);
      const r2 = batchNormRef(I.h2!, 4, 32, before.bn2, true, true);
      const b2 = batchNormBounds(I.h2!, 4, 32, before.bn2, true, true);
      within(`step ${step} bn2 running mean`, layer.params.bn2.runningMean, r2.runningMean, b2.runningMean);
      within(`step ${step} bn2 running var`, layer.params.bn2.runningVar, r2.runningVar, b2.runningVar);
    }
    expect(layer.batchesTracked).toBe(4);
    // they moved away from the init (0 and 1)
    expect(layer.params.bn2.runningVar.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    // eval mode leaves them alone
    const frozen = structuredClone(layer.params);
    const y1 = await layer.forward(acon, normal(rand, 32 * 25, 1), [1, 32, 5, 5], { training: false });
    expect(y1.length).toBe(32 * 25);
    expect(layer.params).toEqual(frozen);
  });

  test('init follows PyTorch: p1, p2 ~ N(0, 1); conv U(±1/√fan_in); BN 1, 0, 0, 1', () => {
    const layer = new MetaAconC(256, 16, 1);
    const p = layer.params;
    expect(layer.hidden).toBe(16);
    expect(new MetaAconC(64).hidden).toBe(16);
    expect(new MetaAconC(1024).hidden).toBe(64);
    const stats = (a: Float32Array) => {
      const m = a.reduce((s, v) => s + v, 0) / a.length;
      return { m, sd: Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length) };
    };
    // 256 samples of N(0, 1): mean within 4·(1/16), sd within 0.25 of 1
    expect(Math.abs(stats(p.p1).m)).toBeLessThan(0.25);
    expect(Math.abs(stats(p.p2).sd - 1)).toBeLessThan(0.25);
    expect(p.p1.some((v, i) => v < p.p2[i]!)).toBe(true);
    expect(Math.max(...p.fc1.weight.map(Math.abs))).toBeLessThanOrEqual(1 / 16);
    expect(Math.max(...p.fc2.weight.map(Math.abs))).toBeLessThanOrEqual(1 / 4);
    expect([...p.bn1.weight].every((v) => v === 1) && [...p.bn1.runningVar].every((v) => v === 1)).toBe(true);
    expect([...p.bn2.bias, ...p.bn2.runningMean].every((v) => v === 0)).toBe(true);
    expect(new MetaAconC(256, 16, 1).params).toEqual(p); // seeded
  });

  test('state dict round-trips with PyTorch names and loads Paddle names', async () => {
    const a = new MetaAconC(17, 4, 3);
    const dict = a.stateDict();
    expect(Object.keys(dict).sort()).toEqual(
      [
        'p1',
        'p2',
        'fc1.weight',
        'fc1.bias',
        'fc2.weight',
        'fc2.bias',
        ...['bn1', 'bn2'].flatMap((b) => ['weight', 'bias', 'running_mean', 'running_var'].map((k) => `${b}.${k}`)),
      ].sort(),
    );
    expect(dict['fc1.weight']!.shape).toEqual([4, 17, 1, 1]);
    expect(dict.p1!.shape).toEqual([1, 17, 1, 1]);
    const b = new MetaAconC(17, 4, 99);
    b.loadStateDict(dict);
    expect(b.params).toEqual(a.params);
    const paddle: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, v] of Object.entries(dict))
      paddle[k.replace('running_mean', '_mean').replace('running_var', '_variance')] = v;
    const c = new MetaAconC(17, 4, 5);
    c.loadStateDict(paddle);
    expect(c.params).toEqual(a.params);
    const x = normal(rng(1), 2 * 17 * 9, 1);
    expect(await c.forward(acon, x, [2, 17, 3, 3], { training: false })).toEqual(
      await a.forward(acon, x, [2, 17, 3, 3], { training: false }),
    );
  });
});

describe('Meta-ACON-C bad input', () => {
  const shape: Shape4 = [2, 17, 3, 3];
  const x = new Float32Array(2 * 17 * 9);
  test('batch of one in training mode: typed error; eval mode works', async () => {
    const p = makeParams(17, 16, 1);
    const e = await hostForward(acon.context, metaAconCDecl, new Float32Array(17 * 9), [1, 17, 3, 3], p, {
      training: true,
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BatchSizeError);
    expect((e as BatchSizeError).expected).toMatch(/N ≥ 2/);
    expect((e as BatchSizeError).actual).toBe('N = 1');
    await expect(
      hostBackward(acon.context, metaAconCDecl, new Float32Array(17 * 9), new Float32Array(17 * 9), [1, 17, 3, 3], p, {
        training: true,
      }),
    ).rejects.toBeInstanceOf(BatchSizeError);
    const y = await hostForward(acon.context, metaAconCDecl, new Float32Array(17 * 9).fill(1), [1, 17, 3, 3], p, {
      training: false,
    });
    expect(y.y.every(Number.isFinite)).toBe(true);
  });
  test('wrong C: parameters for 16 channels on a 17-channel tensor', async () => {
    const p = makeParams(16, 16, 1);
    const e = await hostForward(acon.context, metaAconCDecl, x, shape, p, { training: false }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LengthError);
    expect((e as LengthError).message).toMatch(/p1/);
  });
  test('state dict with a wrong shape or a missing key', () => {
    const layer = new MetaAconC(17, 4);
    const good = layer.stateDict();
    const wrong = { ...good, 'fc2.weight': { shape: [4, 17, 1, 1], data: good['fc2.weight']!.data } };
    const e = (() => {
      try {
        layer.loadStateDict(wrong);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(StateDictError);
    expect((e as StateDictError).expected).toBe('[17, 4, 1, 1]');
    expect((e as StateDictError).actual).toBe('[4, 17, 1, 1]');
    const missing = { ...good };
    delete missing['bn2.running_var'];
    expect(() => layer.loadStateDict(missing)).toThrow(/bn2\.running_var or bn2\._variance/);
    expect(() => layer.loadStateDict({ ...good, p2: new Float32Array(3) })).toThrow(StateDictError);
    expect(layer.params).toEqual(new MetaAconC(17, 4).params); // nothing replaced by the failed loads
  });
});

describe('Meta-ACON-C on GPU-resident buffers', () => {
  test('forward and backward match the host-array path bitwise; training updates running statistics in place', async () => {
    const shape: Shape4 = [3, 20, 4, 4];
    const count = 3 * 20 * 16;
    const layer = new MetaAconC(20, 4, 11);
    const p = layer.params;
    const R = layer.hidden;
    const rand = rng(12);
    const x = normal(rand, count, 2);
    const dy = normal(rand, count);
    const made: GPUBuffer[] = [];
    const up = (a: Float32Array) => {
      const b = acon.createBuffer(a);
      made.push(b);
      return b;
    };
    const empty = (n: number) => up(new Float32Array(n));
    const P = metaParamBuffers(p, up);
    const G = {
      dx: empty(count),
      p1: empty(20),
      p2: empty(20),
      fc1: { weight: empty(R * 20), bias: empty(R) },
      bn1: { weight: empty(R), bias: empty(R) },
      fc2: { weight: empty(20 * R), bias: empty(20) },
      bn2: { weight: empty(20), bias: empty(20) },
    };
    const gx = up(x);
    const gdy = up(dy);
    const gy = empty(count);
    const host = await acon.metaAconCForward(x, shape, p, { training: true });
    const hostG = await acon.metaAconCBackward(x, dy, shape, p, { training: true });
    // backward first: it must not move the running statistics
    await acon.metaAconCBackwardBuffers({ x: gx, dy: gdy, params: P, grads: G }, shape, { training: true, hidden: R });
    expect(await acon.readBuffer(P.bn1.runningMean, R)).toEqual(p.bn1.runningMean);
    await acon.metaAconCForwardBuffers({ x: gx, params: P, y: gy }, shape, { training: true, hidden: R });
    expect(await acon.readBuffer(gy, count)).toEqual(host.y);
    expect(await acon.readBuffer(P.bn1.runningMean, R)).toEqual(host.bn1.runningMean);
    expect(await acon.readBuffer(P.bn2.runningVar, 20)).toEqual(host.bn2.runningVar);
    expect(await acon.readBuffer(G.dx, count)).toEqual(hostG.dx);
    expect(await acon.readBuffer(G.fc1.weight, R * 20)).toEqual(hostG.fc1.weight);
    expect(await acon.readBuffer(G.bn2.bias, 20)).toEqual(hostG.bn2.bias);
    // a too-small gradient buffer is named in the error
    const small = { ...G, fc2: { ...G.fc2, bias: empty(15) } };
    await expect(
      acon.metaAconCBackwardBuffers({ x: gx, dy: gdy, params: P, grads: small }, shape, { training: true, hidden: R }),
    ).rejects.toThrow(/grads\.fc2\.bias is too small/);
    for (const b of made) b.destroy();
  });
});
