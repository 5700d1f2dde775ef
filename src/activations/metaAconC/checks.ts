// Meta-ACON-C's reference side: the float64 reference (./reference.ts) bound to the declaration, and
// its own check for the validation report and the tests: forward and backward run once in debug mode
// on the GPU and each kernel's output is compared with the float64 reference applied to that
// kernel's actual (float32) inputs, the op's debug intermediates, within the float32 bounds of
// ./bounds.ts and ACON-C's. Tests, tools and the report only.
import type { DataFormat, Shape4 } from '../../core/types';
import type { GpuContext } from '../../gpu/context';
import { meanPlan } from '../../kernels/reduce';
import { hostBackward, hostForward } from '../../ops/forms';
import { initialParams } from '../../ops/hostLayer';
import { normal, rng } from '../../ops/random';
import { FLUSH, U, compare } from '../../reference/tolerance';
import { reference, type Checked } from '../../reference/types';
import { backwardPlan } from '../aconC/kernels';
import { backwardBounds, forwardBounds } from '../aconC/bounds';
import { aconCBackwardRef, aconCForwardRef } from '../aconC/reference';
import { metaAconC, type MetaAconCParams } from './declaration';
import { betaGenerator } from './params';
import {
  batchNormBackwardBounds,
  batchNormBounds,
  conv1x1BackwardBounds,
  conv1x1Bounds,
  planeMeansBounds,
} from './bounds';
import {
  batchNormBackwardRef,
  batchNormRef,
  conv1x1BackwardRef,
  conv1x1Ref,
  metaAconCBackwardRef,
  metaAconCForwardRef,
  planeMeansRef,
} from './reference';

const split = (saved: Float32Array, f: number) => ({ mean: saved.subarray(0, f), invStd: saved.subarray(f, 2 * f) });
const exact = (n: number) => new Float64Array(n);

/** Runs forward and backward once in debug mode and checks every stage; returns one row per stage. */
export async function checkMetaStages(
  ctx: GpuContext,
  x: Float32Array,
  dy: Float32Array,
  shape: Shape4,
  p: MetaAconCParams,
  training: boolean,
  dataFormat: DataFormat = 'NCHW',
): Promise<Checked[]> {
  const [N, C, H, W] = shape;
  const R = p.fc1.bias.length;
  const count = N * C * H * W;
  const geo = { n: N, c: C, h: H, w: W, dataFormat, betaPerSample: N > 1 };
  const results: Checked[] = [];
  const within = (stage: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>) => {
    const r = compare(got, want, bound);
    results.push({ stage, maxAbs: r.maxAbs, maxRel: r.maxRel, worst: r.worst, pass: r.bad.length === 0, bad: r.bad });
  };
  const same = (stage: string, got: ArrayLike<number> | undefined, want: ArrayLike<number> | undefined) =>
    within(stage, got ?? [], want ?? [], exact(want?.length ?? 0));

  // ---- forward ----
  const f = await hostForward(ctx, metaAconC, x, shape, p, { training, dataFormat, debug: true });
  const I = f.intermediates!;
  within(
    'mean',
    I.m!,
    planeMeansRef(x, shape, dataFormat),
    planeMeansBounds(x, shape, meanPlan(geo, ctx.software).depth, dataFormat),
  );
  within(
    'fc1',
    I.h1!,
    conv1x1Ref(I.m!, p.fc1.weight, p.fc1.bias, N, C, R),
    conv1x1Bounds(I.m!, p.fc1.weight, p.fc1.bias, N, C, R),
  );
  const bn1 = batchNormRef(I.h1!, N, R, p.bn1, training);
  const bn1b = batchNormBounds(I.h1!, N, R, p.bn1, training, false);
  within('bn1', I.a1!, bn1.out, bn1b.out);
  within('bn1 mean', split(I.saved1!, R).mean, bn1.mean, bn1b.mean);
  within('bn1 1/std', split(I.saved1!, R).invStd, bn1.invStd, bn1b.invStd);
  within(
    'bn1 running mean',
    f.bn1.runningMean,
    training ? bn1.runningMean : p.bn1.runningMean,
    training ? bn1b.runningMean : exact(R),
  );
  within(
    'bn1 running var',
    f.bn1.runningVar,
    training ? bn1.runningVar : p.bn1.runningVar,
    training ? bn1b.runningVar : exact(R),
  );
  within(
    'fc2',
    I.h2!,
    conv1x1Ref(I.a1!, p.fc2.weight, p.fc2.bias, N, R, C),
    conv1x1Bounds(I.a1!, p.fc2.weight, p.fc2.bias, N, R, C),
  );
  const bn2 = batchNormRef(I.h2!, N, C, p.bn2, training, true);
  const bn2b = batchNormBounds(I.h2!, N, C, p.bn2, training, true);
  within('bn2+σ (β)', I.beta!, bn2.out, bn2b.out);
  within(
    'bn2 running mean',
    f.bn2.runningMean,
    training ? bn2.runningMean : p.bn2.runningMean,
    training ? bn2b.runningMean : exact(C),
  );
  within(
    'bn2 running var',
    f.bn2.runningVar,
    training ? bn2.runningVar : p.bn2.runningVar,
    training ? bn2b.runningVar : exact(C),
  );
  same('β returned', f.beta, I.beta);
  const ap = { p1: p.p1, p2: p.p2, beta: I.beta! };
  within('y', f.y, aconCForwardRef(x, shape, ap, dataFormat), forwardBounds(x, shape, ap, dataFormat));
  if (!training) {
    // the eval forward without debug fuses each 1×1 conv with its batch norm: same expressions, same bits
    const fused = await hostForward(ctx, metaAconC, x, shape, p, { training, dataFormat });
    same('fused eval β', fused.beta, I.beta);
    same('fused eval y', fused.y, f.y);
  }

  // ---- backward: the generator is recomputed identically, then every gradient stage ----
  const g = await hostBackward(ctx, metaAconC, x, dy, shape, p, { training, dataFormat, debug: true });
  const J = g.intermediates!;
  for (const [k] of betaGenerator.tensors) same(`recomputed ${k}`, J[k], I[k]);
  const ref = aconCBackwardRef(x, dy, shape, ap, dataFormat);
  const ab = backwardBounds(x, dy, shape, ap, backwardPlan(geo, ctx.software).depth, dataFormat);
  within('dx (ACON path)', J.dxDirect!, ref.dx, ab.dx);
  within('dp1', g.p1, ref.p1, ab.p1);
  within('dp2', g.p2, ref.p2, ab.p2);
  within('dβ[n, c]', J.gbeta!, ref.beta, ab.beta);

  const s2 = split(I.saved2!, C);
  const sig2 = Float64Array.from({ length: N * C }, (_, k) => {
    const c = k % C;
    const z = p.bn2.weight[c]! * s2.invStd[c]! * (I.h2![k]! - s2.mean[c]!) + p.bn2.bias[c]!;
    return 1 / (1 + Math.exp(-z));
  });
  const bnb2 = batchNormBackwardRef(I.h2!, J.gbeta!, N, C, p.bn2.weight, s2, training, sig2);
  const bnb2b = batchNormBackwardBounds(I.h2!, J.gbeta!, N, C, p.bn2.weight, p.bn2.bias, s2, training, true);
  within('bn2 d input', J.gh2!, bnb2.gin, bnb2b.gin);
  within('bn2.weight grad', g.bn2.weight, bnb2.gweight, bnb2b.gweight);
  within('bn2.bias grad', g.bn2.bias, bnb2.gbias, bnb2b.gbias);

  const c2 = conv1x1BackwardRef(I.a1!, J.gh2!, p.fc2.weight, N, R, C);
  const c2b = conv1x1BackwardBounds(I.a1!, J.gh2!, p.fc2.weight, N, R, C);
  within('fc2 d input', J.ga1!, c2.gin, c2b.gin);
  within('fc2.weight grad', g.fc2.weight, c2.gweight, c2b.gweight);
  within('fc2.bias grad', g.fc2.bias, c2.gbias, c2b.gbias);

  const s1 = split(I.saved1!, R);
  const bnb1 = batchNormBackwardRef(I.h1!, J.ga1!, N, R, p.bn1.weight, s1, training);
  const bnb1b = batchNormBackwardBounds(I.h1!, J.ga1!, N, R, p.bn1.weight, p.bn1.bias, s1, training, false);
  within('bn1 d input', J.gh1!, bnb1.gin, bnb1b.gin);
  within('bn1.weight grad', g.bn1.weight, bnb1.gweight, bnb1b.gweight);
  within('bn1.bias grad', g.bn1.bias, bnb1.gbias, bnb1b.gbias);

  const c1 = conv1x1BackwardRef(I.m!, J.gh1!, p.fc1.weight, N, C, R);
  const c1b = conv1x1BackwardBounds(I.m!, J.gh1!, p.fc1.weight, N, C, R);
  within('fc1 d input (d mean)', J.gm!, c1.gin, c1b.gin);
  within('fc1.weight grad', g.fc1.weight, c1.gweight, c1b.gweight);
  within('fc1.bias grad', g.fc1.bias, c1.gbias, c1b.gbias);

  // dx = dx_ACON + gm[n, c]/(H·W): the scale, the product and the sum each round once
  const hw = H * W;
  const want = new Float64Array(count);
  const bound = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const n = Math.floor(i / (C * hw));
    const c = dataFormat === 'NCHW' ? Math.floor(i / hw) % C : i % C;
    const v = J.gm![n * C + c]! / hw;
    want[i] = J.dxDirect![i]! + v;
    bound[i] = U * (Math.abs(J.dxDirect![i]!) + 3 * Math.abs(v)) + FLUSH;
  }
  within('dx', g.dx, want, bound);
  return results;
}

/** r: the generator's reduction (R = max(r, ⌊C/r⌋)); training: batch statistics, else the running ones. */
export interface MetaAconCCase {
  shape: Shape4;
  r: number;
  training: boolean;
  dataFormat: DataFormat;
}

/** Training and eval, both data formats, C below and above r², a 1×1 plane and 56×56 planes. */
export const META_ACON_C_CASES: readonly MetaAconCCase[] = [
  { shape: [2, 16, 7, 7], r: 16, training: true, dataFormat: 'NCHW' },
  { shape: [3, 17, 1, 1], r: 4, training: true, dataFormat: 'NCHW' },
  { shape: [8, 64, 56, 56], r: 16, training: true, dataFormat: 'NCHW' },
  { shape: [4, 256, 7, 7], r: 16, training: false, dataFormat: 'NCHW' },
  { shape: [3, 17, 5, 5], r: 4, training: true, dataFormat: 'NHWC' },
  { shape: [8, 64, 56, 56], r: 16, training: true, dataFormat: 'NHWC' },
  { shape: [4, 256, 7, 7], r: 16, training: false, dataFormat: 'NHWC' },
];

/** Seeded N(0, scale²) data. */
const seeded = (n: number, seed: number, scale: number) => normal(rng(seed), n, scale);

export const metaAconCReference = reference({
  activation: metaAconC,
  forward: (x, shape, p, o) => metaAconCForwardRef(x, shape, p, o.training, o.dataFormat),
  backward: (x, dy, shape, p, o) => metaAconCBackwardRef(x, dy, shape, p, o.training, o.dataFormat),
  report: {
    cases: META_ACON_C_CASES,
    /** The host layer's initial parameters (seed k + 1), bn2's running variance moved off 1; x ~ N(0, 4), dy ~ N(0, 1). */
    data: ({ shape, r, training, dataFormat }, k) => {
      const [N, C, H, W] = shape;
      const count = N * C * H * W;
      const params = initialParams(metaAconC, { C, R: metaAconC.dims.R.of(C, { r }) }, k + 1);
      // perturb the fresh-init BN statistics so eval mode is not the identity
      params.bn2.runningVar = seeded(C, 60 + k, 0.3).map((v) => 1 + Math.abs(v));
      return { x: seeded(count, 70 + k, 2), dy: seeded(count, 80 + k, 1), params, options: { training, dataFormat } };
    },
    check: async (ctx, d, c) => {
      const checks = await checkMetaStages(ctx, d.x, d.dy, c.shape, d.params, c.training, c.dataFormat);
      return { kernel: `${metaAconC.name} ${c.training ? 'train' : 'eval'} (${checks.length} stages)`, checks };
    },
  },
});
