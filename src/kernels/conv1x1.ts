// 1×1 convolutions on [N, F] features (a fully connected layer per sample): forward, forward fused
// with an eval-mode batch norm, and backward. One function per entry point of shaders/conv1x1.wgsl
// (its beta_eval, Meta-ACON's whole eval-mode generator in one pass, is encoded in
// src/activations/metaAconC/kernels.ts). Imports only src/gpu and src/core.
import convCode from '../../shaders/conv1x1.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { Shader } from '../gpu/shader';
import type { BatchNormEvalParams } from './batchnorm';
import { FEATURE_WG as WG, WGSL_PRELUDE } from './plan';

export const CONV1X1_SHADER = new Shader('conv1x1', WGSL_PRELUDE + convCode);

/** A 1×1 convolution's sizes: batch N, in features I, out features O. */
export interface ConvDims {
  n: number;
  in: number;
  out: number;
}

/** conv1x1.wgsl's `Dims` uniform; `means`: the spatial mean's partial sums that beta_eval finishes. */
export const conv1x1Uniforms = (d: ConvDims, eps = 0, means?: { chunks: number; lanes: number; scale: number }) =>
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
  rec: Recorder,
  d: ConvDims,
  b: { inp: Binding; weight: Binding; bias: Binding; out: Binding },
): void {
  rec.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'forward', { WG }),
    conv1x1Uniforms(d),
    CONV1X1_SHADER.bind({ inp: b.inp, weight: b.weight, bias: b.bias, out: b.out }),
    Math.ceil((d.n * d.out) / WG),
  );
}

/**
 * out[n, o] = BN_eval(b[o] + Σ_i W[o, i]·inp[n, i]), and σ of it when `sigmoid`: a 1×1 convolution
 * and an eval-mode batch norm (running statistics) in one pass, with the same float32 expressions
 * as {@link encodeConv1x1} followed by encodeBatchNorm (src/kernels/batchnorm.ts).
 */
export function encodeConv1x1BatchNormEval(
  ctx: GpuContext,
  rec: Recorder,
  d: ConvDims & { sigmoid: boolean; eps: number },
  b: { inp: Binding; weight: Binding; bias: Binding; bn: BatchNormEvalParams; out: Binding },
): void {
  rec.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'forward_bn_eval', { WG, SIGMOID: +d.sigmoid }),
    conv1x1Uniforms(d, d.eps),
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

/** gin = gout·W (skipped when `gin` is absent), gW = goutᵀ·inp, gb = Σ_N gout. */
export function encodeConv1x1Backward(
  ctx: GpuContext,
  rec: Recorder,
  d: ConvDims,
  b: { inp: Binding; weight: Binding; gout: Binding; gin?: Binding; gweight: Binding; gbias: Binding },
): void {
  const u = conv1x1Uniforms(d);
  if (b.gin) {
    rec.dispatch(
      ctx.pipeline(CONV1X1_SHADER, 'backward_input', { WG }),
      u,
      CONV1X1_SHADER.bind({ weight: b.weight, gout: b.gout, gin: b.gin }),
      Math.ceil((d.n * d.in) / WG),
    );
  }
  const count = d.out * d.in + d.out;
  rec.dispatch(
    ctx.pipeline(CONV1X1_SHADER, 'backward_params', { WG }),
    u,
    CONV1X1_SHADER.bind({ inp: b.inp, gout: b.gout, gweight: b.gweight, gbias: b.gbias }),
    Math.ceil(count / WG),
  );
}
