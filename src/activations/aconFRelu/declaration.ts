// ACON-FReLU, declared (TFNet/network.py's Acon_FReLU): y = BN2((x1 − x2)·σ(x1 − x2) + x2) with
// x2 = BN1(dwconv3×3(x) + bias) and x1 = x, or at stride 2 the 3×3 max pool of x (stride 2, padding 1).
// Batch norm as PyTorch's: batch statistics over N·Ho·Wo in training mode, running ones in eval mode.
// At stride 2, y is [N, C, ⌊(H − 1)/2⌋ + 1, ⌊(W − 1)/2⌋ + 1]. Everything else derives from this
// object; the kernels are ./kernels.ts.
import { OptionError } from '../../gpu/errors';
import {
  activation,
  options,
  type BackwardBuffersOf,
  type BackwardResultOf,
  type BuffersOptionsOf,
  type ForwardBuffersOf,
  type ForwardResultOf,
  type GradsOf,
  type HostOptionsOf,
  type ParamsOf,
} from '../types';
import { aconFReluComposed } from './composed';
import { aconFReluKernels, outSize } from './kernels';
import { aconFReluParams } from './params';

const strideOf = (o: Readonly<Record<string, unknown>>) => (o.stride as number | undefined) ?? 1;

export const aconFReLU = activation({
  name: 'aconFReLU',
  title: 'ACON-FReLU',
  params: aconFReluParams,
  options: options<
    /** Training mode: batch statistics (N·Ho·Wo ≥ 2) and running-statistics update; else eval mode. `stride`: 1 (default) or 2. */
    { training: boolean; stride?: 1 | 2 }
  >((o) => {
    if (typeof o.training !== 'boolean')
      throw new OptionError(
        'ACON-FReLU: options.training is required (batch statistics or running statistics)',
        'true or false',
        String(o.training),
      );
    if (o.stride !== undefined && o.stride !== 1 && o.stride !== 2)
      throw new OptionError('ACON-FReLU: stride is 1 or 2', '1 or 2', JSON.stringify(o.stride));
  }),
  batchStatistics:
    'ACON-FReLU in training mode normalises over N·Ho·Wo positions per channel, and statistics over one are undefined; use eval mode (training: false)',
  batchCount: { name: 'N·Ho·Wo', of: ([n, , h, w], o) => n * outSize(h, strideOf(o)) * outSize(w, strideOf(o)) },
  outShape: ([n, c, h, w], o) => [n, c, outSize(h, strideOf(o)), outSize(w, strideOf(o))],
  kernels: aconFReluKernels,
  composed: { y: aconFReluComposed },
  layer: {
    className: 'AconFReLU',
    args: [
      { name: 'stride', default: 1, values: [1, 2], description: "the depthwise conv's and the max pool's stride" },
    ],
  },
  bench: {
    // stride 1: x in, y out; 18 parameters per channel
    bytes: { forward: [8, 72], backward: [12, 96] },
    // the eval forward (inference), the training backward (what training runs)
    options: { training: false },
    backwardOptions: { training: true },
    tfjs: ['forward'],
  },
});

/** ACON-FReLU's parameters, PyTorch's names: conv_frelu.weight [C, 3, 3] ([C, 1, 3, 3] in PyTorch), conv_frelu.bias, bn1.*, bn2.* [C]. */
export type AconFReLUParams<T = Float32Array> = ParamsOf<typeof aconFReLU, T>;
/** Its gradients: dx (x's shape and layout), conv_frelu's weight and bias, bn1's and bn2's weight and bias. */
export type AconFReLUGrads<T = Float32Array> = GradsOf<typeof aconFReLU, T>;
/** `training` (required), `stride` (1 or 2, default 1), `dataFormat`: 'NCHW' (default) or 'NHWC'. */
export type AconFReLUOptions = HostOptionsOf<typeof aconFReLU>;
/** Options of the GPU-resident calls (the same). */
export type AconFReLUBuffersOptions = BuffersOptionsOf<typeof aconFReLU>;
/** y [N, C, Ho, Wo] in the input's layout and the running statistics after the call (moved in training mode). */
export type AconFReLUForwardResult = ForwardResultOf<typeof aconFReLU>;
/** The host backward's result: the gradients. */
export type AconFReLUBackwardResult = BackwardResultOf<typeof aconFReLU>;
/** GPU-resident forward: x and the parameters in, y out; training mode updates the running statistics in place. */
export type AconFReLUForwardBuffers = ForwardBuffersOf<typeof aconFReLU>;
/** GPU-resident backward: x, dy and the parameters in, every gradient out. */
export type AconFReLUBackwardBuffers = BackwardBuffersOf<typeof aconFReLU>;
