// Wrappers for the small kernels behind Meta-ACON's β generator: the spatial mean (and its
// adjoint), 1×1 convolutions on [N, F] features, and batch norm. One function per entry point.
import reduceCode from '../../shaders/reduce.wgsl?raw';
import convCode from '../../shaders/conv1x1.wgsl?raw';
import bnCode from '../../shaders/batchnorm.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { Shader } from '../gpu/shader';
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

/**
 * How the mean cuts planes (in vec4s for NCHW planes of a multiple of 4 elements) and its workgroup
 * size (sliceWorkgroup: small on software adapters); `depth` is the longest addition chain behind a
 * mean (for error bounds).
 */
export function meanPlan(
  g: AconCGeometry,
  software: boolean,
): { wg: number; vec4: boolean; plane: number; chunks: number; chunk: number; depth: number; cl?: ChannelsLastPlan } {
  if (g.layout === 'NHWC') {
    // channels-last: one plane per sample, tiles of MEAN_CHUNK elements (see channelsLastPlan)
    const cl = channelsLastPlan(g, MEAN_CHUNK, true, software);
    const { wg, vec4, plane, chunksPerPlane: chunks, chunk, lanes } = cl;
    return { wg, vec4, plane, chunks, chunk, depth: cl.termsPerInvocation + lanes + chunks, cl };
  }
  const wg = sliceWorkgroup(software);
  const vec4 = g.layout === 'NCHW' && (g.h * g.w) % 4 === 0;
  const unit = vec4 ? 4 : 1;
  const plane = (g.h * g.w) / unit;
  const chunks = Math.ceil(plane / (MEAN_CHUNK / unit));
  const chunk = Math.ceil(plane / chunks);
  return { wg, vec4, plane, chunks, chunk, depth: Math.ceil(chunk / wg) + (vec4 ? 2 : 0) + wg + chunks };
}

function reduceUniforms(
  g: AconCGeometry,
  plane: number,
  chunks: number,
  chunk: number,
  scale: number,
  lanes: number,
  cl?: ChannelsLastPlan,
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
  });
}

/** The spatial mean's partial sums: chunks × lanes per plane (n, c), plane-major; plane_means sums them. */
export interface MeanPartials {
  partials: GPUBuffer;
  chunks: number;
  lanes: number;
  scale: number;
}

/** Records the first pass of the spatial mean: per-invocation partial sums of every plane. */
export function encodePlanePartials(ctx: GpuContext, batch: Recorder, g: AconCGeometry, x: Binding): MeanPartials {
  const { wg, vec4, plane, chunks, chunk, cl } = meanPlan(g, ctx.software);
  const lanes = cl ? cl.lanes : wg;
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
  return { partials, chunks, lanes, scale };
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
