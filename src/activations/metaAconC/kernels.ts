// Meta-ACON-C's kernels: the β generator β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) recorded from the
// shared reduce, conv1x1 and batch-norm encoders of src/kernels (or, in eval mode, in one pass:
// conv1x1.wgsl's beta_eval), then ACON-C with the per-sample β; the backward through all of it; and
// the sizes the generator's loops allow.
import type { Binding, GpuContext, Recorder } from '../../gpu/context';
import { LimitError } from '../../gpu/errors';
import { BATCHNORM_SHADER, BN_EPS } from '../../kernels/batchnorm';
import { loopTrips, LOOP_BUDGET, sumTrips } from '../../kernels/budget';
import { CONV1X1_SHADER, conv1x1Uniforms, encodeConv1x1BatchNormEval } from '../../kernels/conv1x1';
import { FEATURE_WG as WG } from '../../kernels/plan';
import { encodeMeansFromPartials, encodePlanePartials, REDUCE_SHADER, type MeanPartials } from '../../kernels/reduce';
import { paramLeaves, readLeaf, sizeOf } from '../params';
import type { KernelCall, Kernels, Leaves, OfRole } from '../types';
import { ACON_C_SHADER, encodeAconCBackward, encodeAconCForward, type AconCGeometry } from '../aconC/kernels';
import type { GeneratorMode } from '../generator';
import { betaGenerator, metaAconCParams } from './params';

/** Meta-ACON-C's β generator parameters (eval mode: the running statistics are read). */
export type BetaGeneratorParams = Leaves<typeof betaGenerator.params, Binding>;
/** The generator's parameters in declaration order: beta_eval's packed order (conv1x1.wgsl's packed()). */
const GENERATOR_LEAVES = paramLeaves(betaGenerator.params);

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
 * bit the staged kernels' β. The 12 parameters are first copied into one buffer, in the generator's
 * declaration order (which conv1x1.wgsl's packed() reads), so the pass binds 3 storage buffers (WebGPU's default limit, tfjs's, is 8 per stage).
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
  const dims = { C: c, R: r };
  let total = 0;
  for (const leaf of GENERATOR_LEAVES) total += sizeOf(leaf.decl.shape, dims);
  const packed = rec.temp(total * 4);
  let offset = 0;
  for (const leaf of GENERATOR_LEAVES) {
    const bytes = sizeOf(leaf.decl.shape, dims) * 4;
    rec.copy(readLeaf(p, leaf) as Binding, packed, bytes, offset);
    offset += bytes;
  }
  rec.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'beta_eval', { WG, FEATURES: Math.max(64, 2 ** Math.ceil(Math.log2(c + r))) }),
    conv1x1Uniforms({ n, in: c, out: r }, d.eps, mean),
    CONV1X1_SHADER.bind({ inp: mean.partials, params: packed, out: beta }),
    n,
  );
}

/** A Meta-ACON-C call's geometry: β is always per sample. */
const geometryOf = (k: KernelCall): AconCGeometry => ({ ...k.geo, betaPerSample: true });

/** The options the kernels read: training mode (batch statistics; the forward moves the running ones). */
export interface MetaModes {
  training: boolean;
}

/**
 * Records the forward: generator, then ACON-C with the per-sample β. In eval mode the generator
 * after the mean's partial sums is one pass (the same arithmetic: 3 dispatches instead of 7; with
 * C + R beyond that pass's workgroup memory, the means, then each 1×1 convolution fused with its
 * batch norm: 5); a debug call keeps every stage apart so that every intermediate exists.
 */
function encodeMetaForward(
  rec: Recorder,
  k: KernelCall<MetaModes>,
  b: { x: Binding; params: MetaParams; y: Binding },
): { beta: GPUBuffer } {
  const { ctx } = k;
  const geo = geometryOf(k);
  const { x, params: P, y } = b;
  const training = k.options.training;
  if (training || k.debug) {
    const mode: GeneratorMode = { statistics: training ? 'batch' : 'running', updateRunning: training };
    const t = betaGenerator.encodeForward(rec, k, x, P, mode);
    encodeAconCForward(ctx, rec, geo, { x, p1: P.p1, p2: P.p2, beta: t.beta!, y });
    betaGenerator.expose(k, t);
    return { beta: t.beta as GPUBuffer };
  }
  const { n, c } = geo;
  const r = k.dims.R!;
  const beta = rec.temp(n * c * 4);
  const mean = encodePlanePartials(ctx, rec, geo, { x });
  // the one-pass generator copies its 12 parameters into one buffer, which needs COPY_SRC on each
  // (tfjs's tensors and our uploads have it; a caller's STORAGE-only buffers take the staged passes)
  const copyable = PARAM_LEAVES.every(
    (leaf) => ((readLeaf(P, leaf) as GPUBuffer).usage & GPUBufferUsage.COPY_SRC) !== 0,
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
 * the forward did. Then ACON-C's backward with dβ into a temporary, and the generator's backward
 * from it, whose last stage (the mean's adjoint) adds into dx.
 */
function encodeMetaBackward(
  rec: Recorder,
  k: KernelCall<MetaModes>,
  b: { x: Binding; dy: Binding; dx: Binding; params: MetaParams; grads: MetaGrads },
): void {
  const { ctx } = k;
  const geo = geometryOf(k);
  const { x, dy, dx, params: P, grads: G } = b;
  const mode: GeneratorMode = { statistics: k.options.training ? 'batch' : 'running', updateRunning: false };
  const t = betaGenerator.encodeForward(rec, k, x, P, mode);
  const gbeta = rec.temp(geo.n * geo.c * 4);
  encodeAconCBackward(ctx, rec, geo, {
    x,
    dy,
    p1: P.p1,
    p2: P.p2,
    beta: t.beta!,
    dx,
    dp1: G.p1,
    dp2: G.p2,
    dbeta: gbeta,
  });
  betaGenerator.encodeBackward(rec, k, t, gbeta, { params: P, grads: G, dx }, mode);
}

type MetaParams = Leaves<typeof metaAconCParams, GPUBuffer>;
type MetaGrads = OfRole<typeof metaAconCParams, 'trainable', GPUBuffer>;
const PARAM_LEAVES = paramLeaves(metaAconCParams);

/** Meta-ACON-C's kernels for the generic call forms. */
export const metaAconCKernels: Kernels<typeof metaAconCParams, MetaModes, 'beta'> = {
  shaders: [REDUCE_SHADER, CONV1X1_SHADER, BATCHNORM_SHADER, ACON_C_SHADER],
  // the staged generator (training, any backward, a debug forward) loops over N; the eval forward's fused passes do not
  check: (k, direction) =>
    void checkGeneratorLoops(k.geo.n, k.geo.c, k.dims.R!, direction === 'backward' || k.options.training || !!k.debug),
  forward: encodeMetaForward,
  backward: encodeMetaBackward,
};
