/**
 * tf.layers' layers as PyTorch's modules compute them, for the network builders (ShuffleNetV2, ResNet,
 * TFNet) on NHWC: a k×k convolution with bias and PyTorch's symmetric padding k // 2, a batch norm
 * with PyTorch's ε, and PyTorch's max pool.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Kwargs } from '../layers/common';
import { single } from '../layers/common';

type T = tfl.SymbolicTensor;
const apply = (layer: tfl.layers.Layer, x: T | T[]) => layer.apply(x) as T;

/**
 * nn.Conv2d(cin, filters, k, stride, padding=k // 2, bias=True) (groups = channels when depthwise)
 * named `name`. PyTorch pads k // 2 on every side; tf.layers' 'same' pads the extra row at the
 * bottom/right only, so a strided conv takes an explicit zeroPadding2d (`<name>.pad`) and 'valid'.
 */
export function torchConv(name: string, x: T, filters: number, k: number, stride: number, depthwise = false): T {
  const pad = Math.floor(k / 2);
  // 'same' equals PyTorch's symmetric padding only at stride 1
  const padding = pad === 0 ? 'valid' : stride === 1 ? 'same' : 'valid';
  if (pad > 0 && stride !== 1) x = apply(tfl.layers.zeroPadding2d({ name: `${name}.pad`, padding: pad }), x);
  const common = { name, kernelSize: k, strides: stride, padding, useBias: true } as const;
  return apply(
    depthwise
      ? tfl.layers.depthwiseConv2d({ ...common, depthMultiplier: 1 })
      : tfl.layers.conv2d({ ...common, filters }),
    x,
  );
}

/** nn.BatchNorm2d named `name`: PyTorch's ε = 1e-5 (tf.layers' default is 1e-3). */
export const torchBatchNorm = (name: string, x: T): T =>
  apply(tfl.layers.batchNormalization({ name, axis: -1, epsilon: 1e-5, momentum: 0.9 }), x);

/**
 * PyTorch's MaxPool2d(kernel, stride, padding) on NHWC: the window never counts the padding (PyTorch
 * pads with −∞), output size ⌊(H + 2p − k)/s⌋ + 1.
 */
export class TorchMaxPool extends tfl.layers.Layer {
  static className = 'TorchMaxPool';
  readonly poolSize: number;
  readonly strides: number;
  readonly pad: number;

  constructor(args: { poolSize: number; strides: number; pad: number; name?: string }) {
    super(args);
    this.poolSize = args.poolSize;
    this.strides = args.strides;
    this.pad = args.pad;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w, c] = inputShape as tfl.Shape;
    const out = (d: number | null) =>
      d === null ? null : Math.floor((d + 2 * this.pad - this.poolSize) / this.strides) + 1;
    return [n!, out(h!), out(w!), c!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.maxPool(single(inputs, this.name) as tf.Tensor4D, this.poolSize, this.strides, this.pad, 'floor');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, pad: this.pad };
  }
}

tf.serialization.registerClass(TorchMaxPool);
