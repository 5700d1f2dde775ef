// Wrappers for the small kernels behind Meta-ACON's β generator: the spatial mean (and its
// adjoint), 1×1 convolutions on [N, F] features, and batch norm. One function per entry point.
import reduceCode from '../../shaders/reduce.wgsl?raw';
import convCode from '../../shaders/conv1x1.wgsl?raw';
import bnCode from '../../shaders/batchnorm.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { LimitError } from '../gpu/errors';
import { Shader } from '../gpu/shader';
import { finishLevels, levelGroups, loopTrips, LOOP_BUDGET, sumTrips, type FinishLevel } from './budget';
import {
  channelsLastPlan,
  clConsts,
  sliceWorkgroup,
  strides,
  WGSL_PRELUDE,
  type AconCGeometry,
  type ChannelsLastPlan,
} from './aconC';

export const REDUCE_SHADER = new Shader('reduce', WGSL_PRELUDE + reduceCode);
export const CONV1X1_SHADER = new Shader('conv1x1', WGSL_PRELUDE + convCode);
export const BATCHNORM_SHADER = new Shader('batchnorm', WGSL_PRELUDE + bnCode);

const WG = 64;
/** Elements of a plane one mean workgroup sums at most. */
export const MEAN_CHUNK = 4096;

export interface MeanPlan {
  wg: number;
  vec4: boolean;
  /** Plane and chunk length in the entry point's units (vec4s, elements, or channels-last rows). */
  plane: number;
  chunks: number;
  chunk: number;
  /** Partial sums per chunk: wg, or the channels-last plan's lanes. */
  lanes: number;
  /** plane_groups levels before the means, where a plane has more partials than FINISH_TERMS. */
  finishing: FinishLevel[];
  /** Longest addition chain behind a mean (for error bounds): a walk, then lanes and chunks per level. */
  depth: number;
  cl?: ChannelsLastPlan;
}

/**
 * How the mean cuts planes (in vec4s for NCHW planes of a multiple of 4 elements) and its workgroup
 * size (sliceWorkgroup: small on software adapters).
 */
export function meanPlan(g: AconCGeometry, software: boolean): MeanPlan {
  const finish = (p: Omit<MeanPlan, 'finishing' | 'depth'>, walk: number): MeanPlan => {
    const f = finishLevels({ slices: p.chunks, lanes: p.lanes, run: p.chunks });
    return { ...p, finishing: f.levels, depth: walk + f.chain + f.out.lanes + f.out.slices };
  };
  if (g.layout === 'NHWC') {
    // channels-last: one plane per sample, tiles of MEAN_CHUNK elements (see channelsLastPlan)
    const cl = channelsLastPlan(g, MEAN_CHUNK, true, software);
    const { wg, vec4, plane, chunksPerPlane: chunks, chunk, lanes } = cl;
    return finish({ wg, vec4, plane, chunks, chunk, lanes, cl }, cl.termsPerInvocation);
  }
  const wg = sliceWorkgroup(software);
  const vec4 = g.layout === 'NCHW' && (g.h * g.w) % 4 === 0;
  const unit = vec4 ? 4 : 1;
  const plane = (g.h * g.w) / unit;
  const chunks = Math.ceil(plane / (MEAN_CHUNK / unit));
  const chunk = Math.ceil(plane / chunks);
  return finish({ wg, vec4, plane, chunks, chunk, lanes: wg }, Math.ceil(chunk / wg) + (vec4 ? 2 : 0));
}

function reduceUniforms(
  g: AconCGeometry,
  plane: number,
  chunks: number,
  chunk: number,
  scale: number,
  lanes: number,
  cl?: ChannelsLastPlan,
  group = 0,
): ArrayBuffer {
  const [stride_n, stride_c, stride_hw] = strides(g);
  return REDUCE_SHADER.uniforms({
    count: g.n * g.c * g.h * g.w,
    batch: g.n,
    channels: g.c,
    plane,
    stride_n,
    stride_c,
    stride_hw,
    chunks,
    chunk,
    scale,
    lanes,
    units: cl?.units ?? 0,
    blocks: cl?.blocks ?? 0,
    group,
  });
}

/** The spatial mean's partial sums: chunks × lanes per plane (n, c), plane-major; plane_means sums them. */
export interface MeanPartials {
  partials: GPUBuffer;
  chunks: number;
  lanes: number;
  scale: number;
}

/**
 * Records the first pass of the spatial mean: per-invocation partial sums of every plane, then
 * group sums of them (plane_groups) where a plane has more than one invocation should loop over.
 */
export function encodePlanePartials(ctx: GpuContext, batch: Recorder, g: AconCGeometry, x: Binding): MeanPartials {
  const { wg, vec4, plane, chunks, chunk, lanes, cl, finishing } = meanPlan(g, ctx.software);
  const scale = 1 / (g.h * g.w);
  const u = reduceUniforms(g, plane, chunks, chunk, scale, lanes, cl);
  const planes = g.n * g.c;
  const partials = batch.temp(planes * chunks * lanes * 4);
  const bindings = REDUCE_SHADER.bind(vec4 ? { x4: x, partials } : { x, partials });
  if (cl) {
    const entry = vec4 ? 'plane_partials_cl4' : 'plane_partials_cl';
    batch.dispatch(ctx.pipeline(REDUCE_SHADER, entry, clConsts(cl)), u, bindings, cl.workgroups);
  } else {
    const entry = vec4 ? 'plane_partials4' : 'plane_partials';
    batch.dispatch(ctx.pipeline(REDUCE_SHADER, entry, { WG: wg }), u, bindings, planes * chunks);
  }
  let out: MeanPartials = { partials, chunks, lanes, scale };
  for (const level of finishing) {
    const groups = planes * levelGroups(level);
    const sums = batch.temp(groups * 4);
    batch.dispatch(
      ctx.pipeline(REDUCE_SHADER, 'plane_groups', { WG: wg }),
      reduceUniforms(g, 0, level.slices, 0, scale, level.lanes, undefined, level.group),
      REDUCE_SHADER.bind({ partials: out.partials, group_sums: sums }),
      Math.ceil(groups / wg),
    );
    out = { partials: sums, chunks: levelGroups(level), lanes: 1, scale };
  }
  return out;
}

/** means[n·C + c] = mean over H, W of x[n, c]. */
export function encodePlaneMeans(ctx: GpuContext, batch: Recorder, g: AconCGeometry, x: Binding, means: Binding): void {
  encodeMeansFromPartials(ctx, batch, g, encodePlanePartials(ctx, batch, g, x), means);
}

/** The mean's second pass: each plane's partial sums in a fixed order, × 1/(H·W). */
export function encodeMeansFromPartials(
  ctx: GpuContext,
  batch: Recorder,
  g: AconCGeometry,
  p: MeanPartials,
  means: Binding,
): void {
  const wg = sliceWorkgroup(ctx.software);
  const u = reduceUniforms(g, 0, p.chunks, 0, p.scale, p.lanes);
  const planes = g.n * g.c;
  batch.dispatch(
    ctx.pipeline(REDUCE_SHADER, 'plane_means', { WG: wg }),
    u,
    REDUCE_SHADER.bind({ partials: p.partials, means }),
    Math.ceil(planes / wg),
  );
}

/** dx[n, c, h, w] += v[n·C + c]·scale. */
export function encodeBroadcastAdd(
  ctx: GpuContext,
  batch: Recorder,
  g: AconCGeometry,
  v: Binding,
  dx: Binding,
  scale: number,
): void {
  const { wg, vec4, plane, chunks, chunk, cl } = meanPlan(g, ctx.software);
  const bindings = REDUCE_SHADER.bind(vec4 ? { v, dx4: dx } : { v, dx });
  if (cl) {
    const u = reduceUniforms(g, plane, chunks, chunk, scale, cl.lanes, cl);
    const entry = vec4 ? 'broadcast_add_cl4' : 'broadcast_add_cl';
    batch.dispatch(ctx.pipeline(REDUCE_SHADER, entry, clConsts(cl)), u, bindings, cl.workgroups);
    return;
  }
  if (vec4) {
    const u = reduceUniforms(g, plane, chunks, chunk, scale, wg);
    batch.dispatch(ctx.pipeline(REDUCE_SHADER, 'broadcast_add4', { WG: wg }), u, bindings, g.n * g.c * chunks);
    return;
  }
  const u = reduceUniforms(g, g.h * g.w, 1, 1, scale, WG);
  const count = g.n * g.c * g.h * g.w;
  batch.dispatch(ctx.pipeline(REDUCE_SHADER, 'broadcast_add', { WG }), u, bindings, Math.ceil(count / WG));
}

/** A 1×1 convolution's sizes: batch N, in features I, out features O. */
export interface ConvDims {
  n: number;
  in: number;
  out: number;
}

const convUniforms = (d: ConvDims, eps = 0, means?: { chunks: number; lanes: number; scale: number }) =>
  CONV1X1_SHADER.uniforms({
    batch: d.n,
    in_features: d.in,
    out_features: d.out,
    eps,
    chunks: means?.chunks ?? 0,
    lanes: means?.lanes ?? 0,
    scale: means?.scale ?? 0,
  });

/** out[n, o] = b[o] + Σ_i W[o, i]·inp[n, i]. */
export function encodeConv1x1(
  ctx: GpuContext,
  batch: Recorder,
  d: ConvDims,
  b: { inp: Binding; weight: Binding; bias: Binding; out: Binding },
): void {
  batch.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'forward', { WG }),
    convUniforms(d),
    CONV1X1_SHADER.bind({ inp: b.inp, weight: b.weight, bias: b.bias, out: b.out }),
    Math.ceil((d.n * d.out) / WG),
  );
}

/**
 * out[n, o] = BN_eval(b[o] + Σ_i W[o, i]·inp[n, i]), and σ of it when `sigmoid`: a 1×1 convolution
 * and an eval-mode batch norm (running statistics) in one pass, with the same float32 expressions
 * as {@link encodeConv1x1} followed by {@link encodeBatchNorm}.
 */
export function encodeConv1x1BatchNormEval(
  ctx: GpuContext,
  batch: Recorder,
  d: ConvDims,
  o: { sigmoid: boolean; eps: number },
  b: { inp: Binding; weight: Binding; bias: Binding; bn: BatchNormEvalParams; out: Binding },
): void {
  batch.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'forward_bn_eval', { WG, SIGMOID: +o.sigmoid }),
    convUniforms(d, o.eps),
    CONV1X1_SHADER.bind({
      inp: b.inp,
      weight: b.weight,
      bias: b.bias,
      out: b.out,
      bn_weight: b.bn.weight,
      bn_bias: b.bn.bias,
      running_mean: b.bn.runningMean,
      running_var: b.bn.runningVar,
    }),
    Math.ceil((d.n * d.out) / WG),
  );
}

export interface BatchNormEvalParams {
  weight: Binding;
  bias: Binding;
  runningMean: Binding;
  runningVar: Binding;
}

/** Meta-ACON's β generator parameters in eval mode. */
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
  batch: Recorder,
  d: { n: number; c: number; r: number; eps: number },
  mean: MeanPartials,
  p: BetaGeneratorParams,
  beta: Binding,
): void {
  const { n, c, r } = d;
  const bn = (b: BatchNormEvalParams, f: number): [Binding, number][] => [
    [b.weight, f],
    [b.bias, f],
    [b.runningMean, f],
    [b.runningVar, f],
  ];
  const parts: [Binding, number][] = [
    [p.fc1.weight, r * c],
    [p.fc1.bias, r],
    ...bn(p.bn1, r),
    [p.fc2.weight, c * r],
    [p.fc2.bias, c],
    ...bn(p.bn2, c),
  ];
  const packed = batch.temp(parts.reduce((sum, [, f]) => sum + f, 0) * 4);
  let offset = 0;
  for (const [src, f] of parts) {
    batch.copy(src, packed, f * 4, offset);
    offset += f * 4;
  }
  batch.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'beta_eval', { WG, FEATURES: Math.max(64, 2 ** Math.ceil(Math.log2(c + r))) }),
    convUniforms({ n, in: c, out: r }, d.eps, mean),
    CONV1X1_SHADER.bind({ inp: mean.partials, params: packed, out: beta }),
    n,
  );
}

/** gin = gout·W (skipped when `gin` is absent), gW = goutᵀ·inp, gb = Σ_N gout. */
export function encodeConv1x1Backward(
  ctx: GpuContext,
  batch: Recorder,
  d: ConvDims,
  b: { inp: Binding; weight: Binding; gout: Binding; gin?: Binding; gweight: Binding; gbias: Binding },
): void {
  const u = convUniforms(d);
  if (b.gin) {
    batch.dispatch(
      ctx.pipeline(CONV1X1_SHADER, 'backward_input', { WG }),
      u,
      CONV1X1_SHADER.bind({ weight: b.weight, gout: b.gout, gin: b.gin }),
      Math.ceil((d.n * d.in) / WG),
    );
  }
  const count = d.out * d.in + d.out;
  batch.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'backward_params', { WG }),
    u,
    CONV1X1_SHADER.bind({ inp: b.inp, gout: b.gout, gweight: b.gweight, gbias: b.gbias }),
    Math.ceil(count / WG),
  );
}

export interface BatchNormOptions {
  training: boolean;
  /** Move the running statistics (training mode only). */
  updateRunning: boolean;
  /** Apply σ to the output (and differentiate through it in backward). */
  sigmoid: boolean;
  eps: number;
  momentum: number;
}

const bnUniforms = (n: number, f: number, o: BatchNormOptions) =>
  BATCHNORM_SHADER.uniforms({
    batch: n,
    features: f,
    training: +o.training,
    update_running: +o.updateRunning,
    sigmoid: +o.sigmoid,
    eps: o.eps,
    momentum: o.momentum,
  });

/** Batch norm of [N, F]; writes out and saved = [μ, 1/√(σ² + ε)] (2F values). */
export function encodeBatchNorm(
  ctx: GpuContext,
  batch: Recorder,
  n: number,
  f: number,
  o: BatchNormOptions,
  b: {
    inp: Binding;
    weight: Binding;
    bias: Binding;
    runningMean: Binding;
    runningVar: Binding;
    out: Binding;
    saved: Binding;
  },
): void {
  batch.dispatch(
    ctx.pipeline(BATCHNORM_SHADER, 'forward', { WG }),
    bnUniforms(n, f, o),
    BATCHNORM_SHADER.bind({
      inp: b.inp,
      weight: b.weight,
      bias: b.bias,
      running_mean: b.runningMean,
      running_var: b.runningVar,
      out: b.out,
      saved: b.saved,
    }),
    Math.ceil(f / WG),
  );
}

/** Batch-norm gradients from the forward's `saved` statistics. */
export function encodeBatchNormBackward(
  ctx: GpuContext,
  batch: Recorder,
  n: number,
  f: number,
  o: BatchNormOptions,
  b: {
    inp: Binding;
    weight: Binding;
    bias: Binding;
    saved: Binding;
    gout: Binding;
    gin: Binding;
    gweight: Binding;
    gbias: Binding;
  },
): void {
  batch.dispatch(
    ctx.pipeline(BATCHNORM_SHADER, 'backward', { WG }),
    bnUniforms(n, f, o),
    BATCHNORM_SHADER.bind({
      inp: b.inp,
      weight: b.weight,
      bias: b.bias,
      saved_in: b.saved,
      gout: b.gout,
      gin: b.gin,
      gweight: b.gweight,
      gbias: b.gbias,
    }),
    Math.ceil(f / WG),
  );
}
