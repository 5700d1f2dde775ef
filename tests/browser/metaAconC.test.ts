// Meta-ACON-C on the GPU against the float64 reference, every kernel checked on its own inputs
// (the op's debug intermediates), in training and eval mode.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { AconGPU, BatchSizeError, LengthError, StateDictError, type Layout, type Shape4 } from '../../src/index';
import { backwardPlan } from '../../src/kernels/aconC';
import { meanPlan } from '../../src/kernels/meta';
import { metaAconCBackward, metaAconCForward, type MetaAconCParams } from '../../src/ops/metaAconC';
import { MetaAconC, metaHiddenWidth } from '../../src/ops/layers';
import { normal, rng, uniform } from '../../src/ops/random';
import { aconCBackwardRef, aconCForwardRef } from '../../src/reference/aconC';
import { backwardBounds, forwardBounds } from '../../src/reference/aconBounds';
import {
  batchNormBackwardRef,
  batchNormRef,
  conv1x1BackwardRef,
  conv1x1Ref,
  planeMeansRef,
} from '../../src/reference/metaAconC';
import {
  batchNormBackwardBounds,
  batchNormBounds,
  conv1x1BackwardBounds,
  conv1x1Bounds,
  planeMeansBounds,
} from '../../src/reference/metaBounds';
import { FLUSH, U, compare } from '../../src/reference/tolerance';

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

/** Random parameters: BN scales in [0.5, 1.5], running statistics away from their init. */
function makeParams(C: number, r: number, seed: number): MetaAconCParams {
  const R = metaHiddenWidth(C, r);
  const rand = rng(seed);
  const bn = (f: number) => ({ weight: uniform(rand, f, 0.5, 1.5), bias: normal(rand, f, 0.2), runningMean: normal(rand, f, 0.1), runningVar: uniform(rand, f, 0.5, 2) });
  return {
    p1: normal(rand, C),
    p2: normal(rand, C),
    fc1: { weight: uniform(rand, R * C, -1 / Math.sqrt(C), 1 / Math.sqrt(C)), bias: uniform(rand, R, -0.1, 0.1) },
    bn1: bn(R),
    fc2: { weight: uniform(rand, C * R, -1 / Math.sqrt(R), 1 / Math.sqrt(R)), bias: uniform(rand, C, -0.1, 0.1) },
    bn2: bn(C),
  };
}

function within(name: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>) {
  const { bad } = compare(got, want, bound);
  expect(bad, `${name}: outside the float32 error bound`).toEqual([]);
}

const split = (saved: Float32Array, f: number) => ({ mean: saved.subarray(0, f), invStd: saved.subarray(f, 2 * f) });

interface MetaCase {
  shape: Shape4;
  r: number;
  training: boolean;
  layout: Layout;
  seed: number;
}

async function checkMetaCase({ shape, r, training, layout, seed }: MetaCase) {
  const [N, C, H, W] = shape;
  const R = metaHiddenWidth(C, r);
  const count = N * C * H * W;
  const p = makeParams(C, r, seed);
  const rand = rng(seed + 1);
  // a per-channel offset makes the channel means differ, so the β generator sees real signal
  const x = normal(rand, count, 1.5);
  const dy = normal(rand, count);
  const geo = { n: N, c: C, h: H, w: W, layout, betaPerSample: N > 1 };

  // ---- forward: every stage on the GPU's own inputs ----
  const f = await metaAconCForward(acon.context, x, shape, p, { training, layout, debug: true });
  const I = f.intermediates!;
  within('mean', I.m!, planeMeansRef(x, shape, layout), planeMeansBounds(x, shape, meanPlan(geo).depth, layout));
  within('fc1', I.h1!, conv1x1Ref(I.m!, p.fc1.weight, p.fc1.bias, N, C, R), conv1x1Bounds(I.m!, p.fc1.weight, p.fc1.bias, N, C, R));
  const bn1 = batchNormRef(I.h1!, N, R, p.bn1, training);
  const bn1b = batchNormBounds(I.h1!, N, R, p.bn1, training, false);
  within('bn1', I.a1!, bn1.out, bn1b.out);
  within('bn1 mean', split(I.saved1!, R).mean, bn1.mean, bn1b.mean);
  within('bn1 1/std', split(I.saved1!, R).invStd, bn1.invStd, bn1b.invStd);
  within('bn1 running mean', f.bn1.runningMean, training ? bn1.runningMean : p.bn1.runningMean, training ? bn1b.runningMean : new Float64Array(R));
  within('bn1 running var', f.bn1.runningVar, training ? bn1.runningVar : p.bn1.runningVar, training ? bn1b.runningVar : new Float64Array(R));
  within('fc2', I.h2!, conv1x1Ref(I.a1!, p.fc2.weight, p.fc2.bias, N, R, C), conv1x1Bounds(I.a1!, p.fc2.weight, p.fc2.bias, N, R, C));
  const bn2 = batchNormRef(I.h2!, N, C, p.bn2, training, true);
  const bn2b = batchNormBounds(I.h2!, N, C, p.bn2, training, true);
  within('bn2+σ', I.beta!, bn2.out, bn2b.out);
  within('bn2 running var', f.bn2.runningVar, training ? bn2.runningVar : p.bn2.runningVar, training ? bn2b.runningVar : new Float64Array(C));
  expect(f.beta).toEqual(I.beta);
  const ap = { p1: p.p1, p2: p.p2, beta: I.beta! };
  within('y', f.y, aconCForwardRef(x, shape, ap, layout), forwardBounds(x, shape, ap, layout));

  // ---- backward: the generator is recomputed identically, then every gradient stage ----
  const g = await metaAconCBackward(acon.context, x, dy, shape, p, { training, layout, debug: true });
  const J = g.intermediates!;
  for (const k of ['m', 'h1', 'a1', 'saved1', 'h2', 'saved2', 'beta']) expect(J[k], `recomputed ${k}`).toEqual(I[k]);
  const ref = aconCBackwardRef(x, dy, shape, ap, layout);
  const ab = backwardBounds(x, dy, shape, ap, backwardPlan(geo).depth, layout);
  within('dx (ACON path)', J.dxDirect!, ref.dx, ab.dx);
  within('dp1', g.p1, ref.dp1, ab.dp1);
  within('dp2', g.p2, ref.dp2, ab.dp2);
  within('dβ[n, c]', J.gbeta!, ref.dbeta, ab.dbeta);

  const s2 = split(I.saved2!, C);
  const sig2 = Float64Array.from({ length: N * C }, (_, k) => {
    const c = k % C;
    const z = p.bn2.weight[c]! * s2.invStd[c]! * (I.h2![k]! - s2.mean[c]!) + p.bn2.bias[c]!;
    return 1 / (1 + Math.exp(-z));
  });
  const bnb2 = batchNormBackwardRef(I.h2!, J.gbeta!, N, C, p.bn2.weight, s2, training, sig2);
  const bnb2b = batchNormBackwardBounds(I.h2!, J.gbeta!, N, C, p.bn2.weight, p.bn2.bias, s2, training, true);
  within('bn2 gin', J.gh2!, bnb2.gin, bnb2b.gin);
  within('bn2.weight grad', g.bn2.weight, bnb2.gweight, bnb2b.gweight);
  within('bn2.bias grad', g.bn2.bias, bnb2.gbias, bnb2b.gbias);

  const c2 = conv1x1BackwardRef(I.a1!, J.gh2!, p.fc2.weight, N, R, C);
  const c2b = conv1x1BackwardBounds(I.a1!, J.gh2!, p.fc2.weight, N, R, C);
  within('fc2 gin', J.ga1!, c2.gin, c2b.gin);
  within('fc2.weight grad', g.fc2.weight, c2.gweight, c2b.gweight);
  within('fc2.bias grad', g.fc2.bias, c2.gbias, c2b.gbias);

  const s1 = split(I.saved1!, R);
  const bnb1 = batchNormBackwardRef(I.h1!, J.ga1!, N, R, p.bn1.weight, s1, training);
  const bnb1b = batchNormBackwardBounds(I.h1!, J.ga1!, N, R, p.bn1.weight, p.bn1.bias, s1, training, false);
  within('bn1 gin', J.gh1!, bnb1.gin, bnb1b.gin);
  within('bn1.weight grad', g.bn1.weight, bnb1.gweight, bnb1b.gweight);
  within('bn1.bias grad', g.bn1.bias, bnb1.gbias, bnb1b.gbias);

  const c1 = conv1x1BackwardRef(I.m!, J.gh1!, p.fc1.weight, N, C, R);
  const c1b = conv1x1BackwardBounds(I.m!, J.gh1!, p.fc1.weight, N, C, R);
  within('fc1 gin (d mean)', J.gm!, c1.gin, c1b.gin);
  within('fc1.weight grad', g.fc1.weight, c1.gweight, c1b.gweight);
  within('fc1.bias grad', g.fc1.bias, c1.gbias, c1b.gbias);

  // dx = dx_ACON + gm[n, c]/(H·W): scale, product and sum each round once
  const hw = H * W;
  const want = new Float64Array(count);
  const bound = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const n = Math.floor(i / (C * hw));
    const c = layout === 'NCHW' ? Math.floor(i / hw) % C : i % C;
    const v = J.gm![n * C + c]! / hw;
    want[i] = J.dxDirect![i]! + v;
    bound[i] = U * (Math.abs(J.dxDirect![i]!) + 3 * Math.abs(v)) + FLUSH;
  }
  within('dx', g.dx, want, bound);
}

describe('Meta-ACON-C: every stage vs the reference', () => {
  const cases: MetaCase[] = [];
  let seed = 100;
  for (const C of [16, 17, 64, 256])
    for (const [H, W] of [[1, 1], [7, 1], [7, 7], [56, 56]] as const)
      for (const N of [2, 3, 32]) {
        if (N * C * H * W > 1_700_000) continue;
        seed++;
        cases.push({ shape: [N, C, H, W], r: seed % 2 ? 16 : 4, training: seed % 3 !== 0, layout: seed % 5 === 0 ? 'NHWC' : 'NCHW', seed });
      }
  test.each(cases)('$shape r=$r training=$training $layout', checkMetaCase, 120_000);

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
          layout: fc.constantFrom<Layout>('NCHW', 'NHWC'),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
        }),
        async ({ n, c, h, w, r, training, layout, seed }) => checkMetaCase({ shape: [n, c, h, w], r, training, layout, seed }),
      ),
      { numRuns: 200, seed: 4242 },
    );
  }, 300_000);
});

describe('Meta-ACON-C layer', () => {
  test('running statistics after several training steps equal the reference, step by step', async () => {
    const shape: Shape4 = [4, 32, 5, 5];
    const layer = new MetaAconC(32, 16, 7);
    const rand = rng(8);
    for (let step = 0; step < 4; step++) {
      const x = normal(rand, 4 * 32 * 25, 1 + step);
      const before = structuredClone(layer.params);
      const f = await metaAconCForward(acon.context, x, shape, before, { training: true, debug: true });
      const y = await layer.forward(acon.context, x, shape, { training: true });
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
    const y1 = await layer.forward(acon.context, normal(rand, 32 * 25, 1), [1, 32, 5, 5], { training: false });
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
      ['p1', 'p2', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias',
        ...['bn1', 'bn2'].flatMap((b) => ['weight', 'bias', 'running_mean', 'running_var'].map((k) => `${b}.${k}`))].sort(),
    );
    expect(dict['fc1.weight']!.shape).toEqual([4, 17, 1, 1]);
    expect(dict.p1!.shape).toEqual([1, 17, 1, 1]);
    const b = new MetaAconC(17, 4, 99);
    b.loadStateDict(dict);
    expect(b.params).toEqual(a.params);
    const paddle: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, v] of Object.entries(dict)) paddle[k.replace('running_mean', '_mean').replace('running_var', '_variance')] = v;
    const c = new MetaAconC(17, 4, 5);
    c.loadStateDict(paddle);
    expect(c.params).toEqual(a.params);
    const x = normal(rng(1), 2 * 17 * 9, 1);
    expect(await c.forward(acon.context, x, [2, 17, 3, 3], { training: false })).toEqual(await a.forward(acon.context, x, [2, 17, 3, 3], { training: false }));
  });
});

describe('Meta-ACON-C bad input', () => {
  const shape: Shape4 = [2, 17, 3, 3];
  const x = new Float32Array(2 * 17 * 9);
  test('batch of one in training mode: typed error; eval mode works', async () => {
    const p = makeParams(17, 16, 1);
    const e = await metaAconCForward(acon.context, new Float32Array(17 * 9), [1, 17, 3, 3], p, { training: true }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BatchSizeError);
    expect((e as BatchSizeError).expected).toMatch(/N ≥ 2/);
    expect((e as BatchSizeError).actual).toBe('N = 1');
    await expect(metaAconCBackward(acon.context, new Float32Array(17 * 9), new Float32Array(17 * 9), [1, 17, 3, 3], p, { training: true })).rejects.toBeInstanceOf(BatchSizeError);
    const y = await metaAconCForward(acon.context, new Float32Array(17 * 9).fill(1), [1, 17, 3, 3], p, { training: false });
    expect(y.y.every(Number.isFinite)).toBe(true);
  });
  test('wrong C: parameters for 16 channels on a 17-channel tensor', async () => {
    const p = makeParams(16, 16, 1);
    const e = await metaAconCForward(acon.context, x, shape, p, { training: false }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(LengthError);
    expect((e as LengthError).message).toMatch(/p1/);
  });
  test('state dict with a wrong shape or a missing key', () => {
    const layer = new MetaAconC(17, 4);
    const good = layer.stateDict();
    const wrong = { ...good, 'fc2.weight': { shape: [4, 17, 1, 1], data: good['fc2.weight']!.data } };
    const e = (() => { try { layer.loadStateDict(wrong); } catch (err) { return err; } })();
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
