// Batch norm of [N, F] features (training: batch statistics and the running-statistics update;
// eval: the running statistics), optionally followed by σ, and its backward. One function per entry
// point of shaders/batchnorm.wgsl. Imports only src/gpu and src/core.
import bnCode from '../../shaders/batchnorm.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { Shader } from '../gpu/shader';
import { FEATURE_WG as WG, WGSL_PRELUDE } from './plan';

export const BATCHNORM_SHADER = new Shader('batchnorm', WGSL_PRELUDE + bnCode);

/**
 * PyTorch's batch-norm constants: ε added to the variance, and the running statistics' momentum
 * (new = (1 − momentum)·old + momentum·batch; Paddle's momentum 0.9 is 1 − this). The float64
 * reference keeps its own copies (tests/node/constants.test.ts checks that they agree).
 */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** A batch norm's parameters and running statistics, [F] each. */
export interface BatchNormEvalParams {
  weight: Binding;
  bias: Binding;
  runningMean: Binding;
  runningVar: Binding;
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

/** A batch norm call: N samples of F features, and its options. */
export interface BatchNormDims extends BatchNormOptions {
  n: number;
  features: number;
}

const bnUniforms = (d: BatchNormDims) =>
  BATCHNORM_SHADER.uniforms({
    batch: d.n,
    features: d.features,
    training: +d.training,
    update_running: +d.updateRunning,
    sigmoid: +d.sigmoid,
    eps: d.eps,
    momentum: d.momentum,
  });

/** Batch norm of [N, F]; writes out and saved = [μ, 1/√(σ² + ε)] (2F values). */
export function encodeBatchNorm(
  ctx: GpuContext,
  rec: Recorder,
  d: BatchNormDims,
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
  rec.dispatch(
    ctx.pipeline(BATCHNORM_SHADER, 'forward', { WG }),
    bnUniforms(d),
    BATCHNORM_SHADER.bind({
      inp: b.inp,
      weight: b.weight,
      bias: b.bias,
      running_mean: b.runningMean,
      running_var: b.runningVar,
      out: b.out,
      saved: b.saved,
    }),
    Math.ceil(d.features / WG),
  );
}

/** Batch-norm gradients from the forward's `saved` statistics. */
export function encodeBatchNormBackward(
  ctx: GpuContext,
  rec: Recorder,
  d: BatchNormDims,
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
  rec.dispatch(
    ctx.pipeline(BATCHNORM_SHADER, 'backward', { WG }),
    bnUniforms(d),
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
    Math.ceil(d.features / WG),
  );
}
