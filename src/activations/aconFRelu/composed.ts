// ACON-FReLU from tfjs primitives (only tfjs's types are imported): the depthwise conv with PyTorch's
// symmetric padding (an explicit pad, then 'valid'), the max pool padded with −∞ at stride 2, the
// smooth maximum and the two batch norms as PyTorch's (generator.ts's batchNormComposed over the
// [N·Ho·Wo, C] rows), in either data format (NCHW goes through NHWC here: a baseline, not our path).
import type * as TF from '@tensorflow/tfjs-core';
import { batchNormComposed } from '../generator';
import type { Composed } from '../types';
import type { aconFReluParams } from './params';

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
  );
  const [n, ho, wo] = conv.shape;
  const rows = (t: TF.Tensor) => tf.reshape(t, [n! * ho! * wo!, C]);
  const bn = (t: TF.Tensor, q: typeof p.bn1) =>
    batchNormComposed(
      tf,
      rows(t),
      { weight: q.weight, bias: q.bias, runningMean: q.runningMean, runningVar: q.runningVar },
      o.training,
      o.updateRunning,
    );
  const x2 = bn(conv, p.bn1);
  const x1 = rows(stride === 1 ? nhwc : tf.maxPool(tf.pad(nhwc, pad, -Infinity), 3, 2, 'valid'));
  const d = tf.sub(x1, x2);
  const y = tf.reshape(bn(tf.add(tf.mul(d, tf.sigmoid(d)), x2), p.bn2), [n!, ho!, wo!, C]);
  return o.dataFormat === 'NHWC' ? y : tf.transpose(y, [0, 3, 1, 2]);
};
