// Meta-ACON-C's kernels: the β generator β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) recorded from the
// shared reduce, conv1x1 and batch-norm encoders of src/kernels (or, in eval mode, in one pass:
// conv1x1.wgsl's beta_eval), then ACON-C with the per-sample β; the backward through all of it; and
// the sizes the generator's loops allow.
import type { Binding, GpuContext, Recorder } from '../../gpu/context';
import { LimitError } from '../../gpu/errors';
import {
  encodeBatchNorm,
  encodeBatchNormBackward,
  BN_EPS,
  BN_MOMENTUM,
  type BatchNormEvalParams,
  type BatchNormOptions,
} from '../../kernels/batchnorm';
import { loopTrips, LOOP_BUDGET, sumTrips } from '../../kernels/budget';
import {
  CONV1X1_SHADER,
  conv1x1Uniforms,
  encodeConv1x1,
  encodeConv1x1Backward,
  encodeConv1x1BatchNormEval,
} from '../../kernels/conv1x1';
import { FEATURE_WG as WG } from '../../kernels/plan';
import {
  encodeBroadcastAdd,
  encodeMeansFromPartials,
  encodePlaneMeans,
  encodePlanePartials,
  type MeanPartials,
} from '../../kernels/reduce';
import { leaves, mapSet } from '../params';
import { encodeAconCBackward, encodeAconCForward, type AconCGeometry } from '../aconC/kernels';
import type { MetaGradSet, MetaParamSet } from './params';

/** Meta-ACON-C's β generator parameters in eval mode. */
export interface BetaGeneratorParams {
  fc1: { weight: Binding; bias: Binding };
  bn1: BatchNormEvalParams;
  fc2: { weight: Binding; bias: Binding };
  bn2: BatchNormEvalParams;
}

/**
 * conv1x1.wgsl's beta_eval keeps C + R features in workgroup memory: 8 KiB at most, half of
 * WebGPU's guaranteed 16 KiB.
 */
export const BETA_EVAL_FEATURES_MAX = 2048;

/**
 * Whether beta_eval can take this call: C + R within its workgroup memory, and its loops within
 * LOOP_BUDGET. Each invocation loops over ⌈C/WG⌉ planes finishing their means, then over ⌈R/WG⌉
 * hidden features summing C terms each, then over ⌈C/WG⌉ outputs summing R terms each; many
 * channels on large planes exceed it, and take the staged passes instead.
 */
export function betaEvalFits(c: number, r: number, mean: { chunks: number; lanes: number }): boolean {
  const per = (k: number) => Math.ceil(k / WG);
  const trips =
    per(c) * sumTrips(mean.chunks, mean.lanes) +
    loopTrips(per(c)) +
    per(r) * loopTrips(c) +
    loopTrips(per(r)) +
    per(c) * loopTrips(r) +
    loopTrips(per(c));
  return c + r <= BETA_EVAL_FEATURES_MAX && trips <= LOOP_BUDGET;
}

/**
 * Meta-ACON sizes within what the β generator's small kernels loop over in one invocation: batch
 * norm makes up to 3 passes over N per feature (3·(N + 1) trips in training mode, 2 in backward),
 * the 1×1 convolutions' weight gradients one over N, and each convolution output loops over C or
 * R. Splitting those over invocations would be a redesign for sizes no network has (8192 samples:
 * 24,579 trips; 16,384 features: 16,385, both within LOOP_BUDGET), so larger ones are refused.
 */
export const META_BATCH_MAX = 8192;
export const META_FEATURES_MAX = 16_384;

/**
 * Throws a LimitError for a Meta-ACON call beyond those sizes; `staged`: the call runs the staged β
 * generator (training mode, any backward, a debug forward), whose batch norm and weight gradients
 * loop over N (the eval forward's fused passes do not). Returns R.
 */
export function checkGeneratorLoops(n: number, c: number, r: number, staged: boolean): number {
  const features = Math.max(c, r);
  if (features > META_FEATURES_MAX)
    throw new LimitError(
      `Meta-ACON-C: the β generator's 1×1 convolutions sum over C = ${c} and R = ${r} features in one invocation each`,
      `C and R at most ${META_FEATURES_MAX}`,
      `${features}`,
    );
  if (staged && n > META_BATCH_MAX)
    throw new LimitError(
      'Meta-ACON-C: the β generator normalises (training) and differentiates (backward) over the batch in one invocation per feature',
      `N at most ${META_BATCH_MAX} in training mode and backward (eval forward: any N)`,
      `N = ${n}`,
    );
  return r;
}

/**
 * β[n, c] = σ(BN2(fc2(BN1(fc1(means))))) in eval mode in one pass, one workgroup per sample, the
 * means finished from the spatial mean's partial sums (plane_means' order and rounding): bit for
 * bit the staged kernels' β. The 12 parameters are first copied into one buffer, in beta_eval's
 * order, so the pass binds 3 storage buffers (WebGPU's default limit, tfjs's, is 8 per stage).
 * Needs C + R ≤ {@link BETA_EVAL_FEATURES_MAX}.
 */
export function encodeBetaEval(
  ctx: GpuContext,
  rec: Recorder,
  d: { n: number; c: number; r: number; eps: number },
  b: { mean: MeanPartials; params: BetaGeneratorParams; beta: Binding },
): void {
  const { n, c, r } = d;
  const { mean, params: p, beta } = b;
  const bn = (norm: BatchNormEvalParams, f: number): [Binding, number][] => [
    [norm.weight, f],
    [norm.bias, f],
    [norm.runningMean, f],
    [norm.runningVar, f],
  ];
  const parts: [Binding, number][] = [
    [p.fc1.weight, r * c],
    [p.fc1.bias, r],
    ...bn(p.bn1, r),
    [p.fc2.weight, c * r],
    [p.fc2.bias, c],
    ...bn(p.bn2, c),
  ];
  const packed = rec.temp(parts.reduce((sum, [, f]) => sum + f, 0) * 4);
  let offset = 0;
  for (const [src, f] of parts) {
    rec.copy(src, packed, f * 4, offset);
    offset += f * 4;
  }
  rec.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'beta_eval', { WG, FEATURES: Math.max(64, 2 ** Math.ceil(Math.log2(c + r))) }),
    conv1x1Uniforms({ n, in: c, out: r }, d.eps, mean),
    CONV1X1_SHADER.bind({ inp: mean.partials, params: packed, out: beta }),
    n,
  );
}

/** A Meta-ACON-C call's sizes: the tensor's geometry (β per sample) and the generator's hidden width R. */
export interface MetaDims {
  geo: AconCGeometry;
  r: number;
}

/**
 * How the generator's batch norms run: on the batch's statistics (training) or the running ones
 * (eval), and whether they move the running statistics (the training forward; never the backward,
 * which recomputes the generator).
 */
export interface GeneratorMode {
  statistics: 'batch' | 'running';
  updateRunning: boolean;
}

/** A buffer to read back for debugging: its name, the buffer, its bytes. */
export type NamedBuffer = [name: string, buffer: GPUBuffer, bytes: number];

const bnOptions = (mode: GeneratorMode, sigmoid: boolean): BatchNormOptions => ({
  training: mode.statistics === 'batch',
  updateRunning: mode.updateRunning,
  sigmoid,
  eps: BN_EPS,
  momentum: BN_MOMENTUM,
});

/** The β generator's intermediates, temporaries of the batch. */
export interface GeneratorTemps {
  m: GPUBuffer;
  h1: GPUBuffer;
  a1: GPUBuffer;
  saved1: GPUBuffer;
  h2: GPUBuffer;
  saved2: GPUBuffer;
  beta: GPUBuffer;
}

/** Element counts of the generator's intermediates, in the order they are allocated (and read back in debug). */
export const tempSizes = (n: number, c: number, r: number): Record<keyof GeneratorTemps, number> => ({
  m: n * c,
  h1: n * r,
  a1: n * r,
  saved1: 2 * r,
  h2: n * c,
  saved2: 2 * c,
  beta: n * c,
});

/** Records β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) into temporaries. */
export function encodeBetaGenerator(
  ctx: GpuContext,
  rec: Recorder,
  d: MetaDims & { mode: GeneratorMode },
  b: { x: Binding; params: MetaParamSet<Binding> },
): GeneratorTemps {
  const { geo, r, mode } = d;
  const { x, params: P } = b;
  const { n, c } = geo;
  const sizes = tempSizes(n, c, r);
  const t: GeneratorTemps = mapSet(sizes, sizes, (v: number) => rec.temp(v * 4));
  encodePlaneMeans(ctx, rec, geo, { x, means: t.m });
  encodeConv1x1(ctx, rec, { n, in: c, out: r }, { inp: t.m, weight: P.fc1.weight, bias: P.fc1.bias, out: t.h1 });
  encodeBatchNorm(
    ctx,
    rec,
    { n, features: r, ...bnOptions(mode, false) },
    { inp: t.h1, ...P.bn1, out: t.a1, saved: t.saved1 },
  );
  encodeConv1x1(ctx, rec, { n, in: r, out: c }, { inp: t.a1, weight: P.fc2.weight, bias: P.fc2.bias, out: t.h2 });
  encodeBatchNorm(
    ctx,
    rec,
    { n, features: c, ...bnOptions(mode, true) },
    { inp: t.h2, ...P.bn2, out: t.beta, saved: t.saved2 },
  );
  return t;
}

/**
 * Records the forward: generator, then ACON-C with the per-sample β. In eval mode the generator
 * after the mean's partial sums is one pass (the same arithmetic: 3 dispatches instead of 7; with
 * C + R beyond that pass's workgroup memory, the means, then each 1×1 convolution fused with its
 * batch norm: 5); `staged` keeps every stage apart so that every intermediate exists (debug read-back).
 */
export function encodeMetaForward(
  ctx: GpuContext,
  rec: Recorder,
  d: MetaDims & { training: boolean; staged?: boolean },
  b: { x: Binding; params: MetaParamSet<Binding>; y: Binding },
): { beta: GPUBuffer; t?: GeneratorTemps } {
  const { geo, r, training, staged = false } = d;
  const { x, params: P, y } = b;
  if (training || staged) {
    const mode: GeneratorMode = { statistics: training ? 'batch' : 'running', updateRunning: training };
    const t = encodeBetaGenerator(ctx, rec, { geo, r, mode }, { x, params: P });
    encodeAconCForward(ctx, rec, geo, { x, p1: P.p1, p2: P.p2, beta: t.beta, y });
    return { beta: t.beta, t };
  }
  const { n, c } = geo;
  const beta = rec.temp(n * c * 4);
  const mean = encodePlanePartials(ctx, rec, geo, { x });
  // the one-pass generator copies its 12 parameters into one buffer, which needs COPY_SRC on each
  // (tfjs's tensors and our uploads have it; a caller's STORAGE-only buffers take the staged passes)
  const copyable = leaves<Binding>(P).every(
    (b) => ((('buffer' in b ? b.buffer : b).usage ?? 0) & GPUBufferUsage.COPY_SRC) !== 0,
  );
  if (betaEvalFits(c, r, mean) && copyable) {
    encodeBetaEval(ctx, rec, { n, c, r, eps: BN_EPS }, { mean, params: P, beta });
  } else {
    const m = rec.temp(n * c * 4);
    const a1 = rec.temp(n * r * 4);
    encodeMeansFromPartials(ctx, rec, geo, { partials: mean, means: m });
    encodeConv1x1BatchNormEval(
      ctx,
      rec,
      { n, in: c, out: r, sigmoid: false, eps: BN_EPS },
      { inp: m, ...P.fc1, bn: P.bn1, out: a1 },
    );
    encodeConv1x1BatchNormEval(
      ctx,
      rec,
      { n, in: r, out: c, sigmoid: true, eps: BN_EPS },
      { inp: a1, ...P.fc2, bn: P.bn2, out: beta },
    );
  }
  encodeAconCForward(ctx, rec, geo, { x, p1: P.p1, p2: P.p2, beta, y });
  return { beta };
}

/**
 * Records the full backward. The generator's forward is recomputed (tiny next to the tensor
 * passes) without moving the running statistics; training mode uses the batch statistics, as
 * the forward did. `intermediates` collects intermediates for debug read-back.
 */
export function encodeMetaBackward(
  ctx: GpuContext,
  rec: Recorder,
  d: MetaDims & { training: boolean; intermediates?: NamedBuffer[] },
  b: { x: Binding; dy: Binding; params: MetaParamSet<Binding>; grads: MetaGradSet<Binding> },
): void {
  const { geo, r, training, intermediates: named } = d;
  const { x, dy, params: P, grads: G } = b;
  const { n, c } = geo;
  const count = n * c * geo.h * geo.w;
  const mode: GeneratorMode = { statistics: training ? 'batch' : 'running', updateRunning: false };
  const t = encodeBetaGenerator(ctx, rec, { geo, r, mode }, { x, params: P });
  const gbeta = rec.temp(n * c * 4);
  encodeAconCBackward(ctx, rec, geo, {
    x,
    dy,
    p1: P.p1,
    p2: P.p2,
    beta: t.beta,
    dx: G.dx,
    dp1: G.p1,
    dp2: G.p2,
    dbeta: gbeta,
  });
  const gh2 = rec.temp(n * c * 4);
  encodeBatchNormBackward(
    ctx,
    rec,
    { n, features: c, ...bnOptions(mode, true) },
    {
      inp: t.h2,
      weight: P.bn2.weight,
      bias: P.bn2.bias,
      saved: t.saved2,
      gout: gbeta,
      gin: gh2,
      gweight: G.bn2.weight,
      gbias: G.bn2.bias,
    },
  );
  const ga1 = rec.temp(n * r * 4);
  encodeConv1x1Backward(
    ctx,
    rec,
    { n, in: r, out: c },
    { inp: t.a1, weight: P.fc2.weight, gout: gh2, gin: ga1, gweight: G.fc2.weight, gbias: G.fc2.bias },
  );
  const gh1 = rec.temp(n * r * 4);
  encodeBatchNormBackward(
    ctx,
    rec,
    { n, features: r, ...bnOptions(mode, false) },
    {
      inp: t.h1,
      weight: P.bn1.weight,
      bias: P.bn1.bias,
      saved: t.saved1,
      gout: ga1,
      gin: gh1,
      gweight: G.bn1.weight,
      gbias: G.bn1.bias,
    },
  );
  const gm = rec.temp(n * c * 4);
  encodeConv1x1Backward(
    ctx,
    rec,
    { n, in: c, out: r },
    { inp: t.m, weight: P.fc1.weight, gout: gh1, gin: gm, gweight: G.fc1.weight, gbias: G.fc1.bias },
  );
  if (named) {
    for (const [k, v] of Object.entries(tempSizes(n, c, r))) named.push([k, t[k as keyof GeneratorTemps], v * 4]);
    const dxDirect = rec.temp(count * 4);
    rec.copy(G.dx, dxDirect, count * 4);
    named.push(
      ['gbeta', gbeta, n * c * 4],
      ['gh2', gh2, n * c * 4],
      ['ga1', ga1, n * r * 4],
      ['gh1', gh1, n * r * 4],
      ['gm', gm, n * c * 4],
      ['dxDirect', dxDirect, count * 4],
    );
  }
  // the mean's adjoint: every element of plane (n, c) gets gm[n, c]/(H·W)
  encodeBroadcastAdd(ctx, rec, { ...geo, scale: 1 / (geo.h * geo.w) }, { v: gm, dx: G.dx });
}
