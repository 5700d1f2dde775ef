// ACON-FReLU's fused eval forward (shaders/acon_frelu.wgsl): the whole activation in one dispatch,
// one invocation per output element. The training forward and the backward are still to come (see
// the issue "The whole official model zoo"); until then this is reached from the kernel tests only.
import code from '../../../shaders/acon_frelu.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../../gpu/context';
import { Shader } from '../../gpu/shader';
import type { Geometry } from '../../core/types';
import { BN_EPS } from '../../kernels/batchnorm';
import { WGSL_PRELUDE } from '../../kernels/plan';

export const ACON_FRELU_SHADER = new Shader('acon_frelu', WGSL_PRELUDE + code);

const WG = 64;

/** One side of the output: the conv's and the pool's, ⌊(size + 2 − 3)/s⌋ + 1. */
export const outSize = (size: number, stride: number): number => Math.floor((size - 1) / stride) + 1;

/** The parameters as buffers, PyTorch's names (conv_frelu.weight [C, 1, 3, 3], the rest [C]). */
export interface AconFReluBuffers {
  convFrelu: { weight: Binding; bias: Binding };
  bn1: { weight: Binding; bias: Binding; runningMean: Binding; runningVar: Binding };
  bn2: { weight: Binding; bias: Binding; runningMean: Binding; runningVar: Binding };
}

/**
 * Records the eval forward of x [N, C, H, W] (geo's data format) into y [N, C, Ho, Wo] (the same
 * format): the parameters are copied into one packed buffer (the shader's `params`), folded per
 * channel (a dispatch of C invocations), then the activation in one pass: four channels per
 * invocation in NHWC when C % 4 == 0 (vec4 loads), one element per invocation otherwise.
 */
export function recordAconFReluEval(
  ctx: GpuContext,
  rec: Recorder,
  geo: Geometry,
  stride: 1 | 2,
  b: { x: Binding; params: AconFReluBuffers; y: Binding },
): void {
  const { n, c, h, w } = geo;
  const [ho, wo] = [outSize(h, stride), outSize(w, stride)];
  const { convFrelu, bn1, bn2 } = b.params;
  const order = [bn1, bn2].flatMap((bn) => [bn.weight, bn.bias, bn.runningMean, bn.runningVar]);
  const packed = rec.temp(18 * c * 4);
  rec.copy(convFrelu.weight, packed, 9 * c * 4, 0);
  [convFrelu.bias, ...order].forEach((src, k) => rec.copy(src, packed, c * 4, (9 + k) * c * 4));
  const folded = rec.temp(13 * c * 4);
  const uniforms = ACON_FRELU_SHADER.uniforms({
    n,
    c,
    h,
    w,
    ho,
    wo,
    stride,
    channels_last: geo.dataFormat === 'NHWC' ? 1 : 0,
    eps: BN_EPS,
  });
  rec.dispatch(
    ctx.pipeline(ACON_FRELU_SHADER, 'fold', { WG }),
    uniforms,
    ACON_FRELU_SHADER.bind({ params: packed, folded }),
    Math.ceil(c / WG),
  );
  const vec4 = geo.dataFormat === 'NHWC' && c % 4 === 0;
  rec.dispatch(
    ctx.pipeline(ACON_FRELU_SHADER, vec4 ? 'forward_eval_cl4' : 'forward_eval', { WG }),
    uniforms,
    vec4
      ? ACON_FRELU_SHADER.bind({ x4: b.x, folded4: folded, y4: b.y })
      : ACON_FRELU_SHADER.bind({ x: b.x, folded_in: folded, y: b.y }),
    Math.ceil((n * c * ho * wo) / (vec4 ? 4 * WG : WG)),
  );
}
