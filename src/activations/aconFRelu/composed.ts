// ACON-FReLU from tfjs primitives (only tfjs's types are imported), as a tfjs user would write it:
// the depthwise conv with PyTorch's symmetric padding (an explicit pad, then 'valid'), the max pool
// padded with −∞ at stride 2, the smooth maximum, and the two batch norms as tf.batchNorm (one op)
// on the batch's tf.moments in training (PyTorch's running updates: momentum 0.1, unbiased
// variance) or on the running statistics; in either data format (NCHW goes through NHWC here).
import type * as TF from '@tensorflow/tfjs-core';
import { BN_EPS } from '../../kernels/batchnorm';
import { moveRunning } from '../generator';
import type { ComposedOptions, Composed } from '../types';
import type { aconFReluParams } from './params';

interface BatchNormTensors {
  weight: TF.Tensor;
  bias: TF.Tensor;
  runningMean: TF.Tensor;
  runningVar: TF.Tensor;
}

/** nn.BatchNorm2d on NHWC h (channels last). */
function batchNorm(tf: typeof TF, h: TF.Tensor4D, p: BatchNormTensors, o: ComposedOptions, C: number): TF.Tensor4D {
  const v = (t: TF.Tensor) => tf.reshape(t, [C]) as TF.Tensor1D;
  if (!o.training) return tf.batchNorm4d(h, v(p.runningMean), v(p.runningVar), v(p.bias), v(p.weight), BN_EPS);
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  if (o.updateRunning) {
    const count = h.size / C;
    const [rm, rv] = [p.runningMean, p.runningVar];
    moveRunning(tf, rm, rv, tf.reshape(mean, rm.shape), tf.reshape(tf.mul(variance, count / (count - 1)), rv.shape));
  }
  return tf.batchNorm4d(h, mean as TF.Tensor1D, variance as TF.Tensor1D, v(p.bias), v(p.weight), BN_EPS);
}

export const aconFReluComposed: Composed<typeof aconFReluParams> = (tf, x, p, o) => {
  const stride = (o.args.stride ?? 1) as 1 | 2;
  const C = o.dims.C!;
  const nhwc = (o.dataFormat === 'NHWC' ? x : tf.transpose(x, [0, 2, 3, 1])) as TF.Tensor4D;
  const pad: [number, number][] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];
  const filter = tf.reshape(tf.transpose(tf.reshape(p.convFrelu.weight, [C, 9]), [1, 0]), [3, 3, C, 1]) as TF.Tensor4D;
  const conv = tf.add(
    tf.depthwiseConv2d(tf.pad(nhwc, pad), filter, stride, 'valid'),
    tf.reshape(p.convFrelu.bias, [C]),
  ) as TF.Tensor4D;
  const x2 = batchNorm(tf, conv, p.bn1, o, C);
  const x1 = stride === 1 ? nhwc : tf.maxPool(tf.pad(nhwc, pad, -Infinity), 3, 2, 'valid');
  const d = tf.sub(x1, x2);
  const y = batchNorm(tf, tf.add(tf.mul(d, tf.sigmoid(d)), x2) as TF.Tensor4D, p.bn2, o, C);
  return o.dataFormat === 'NHWC' ? y : tf.transpose(y, [0, 3, 1, 2]);
};
