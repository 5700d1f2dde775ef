/**
 * The paper's TFNet (github nmaac/acon: TFNet/network.py, vendored as scripts/torch_models/tfnet.py),
 * the network of ACON-FReLU, as a tf.layers model on NHWC images at widths 0.5, 1.0, 1.5, 2.0. Every
 * layer carries the name of its PyTorch module (`first_conv.0`, `features.3.branch_main.2.bn1`,
 * `features.3.acon.conv_frelu`, `classifier.0`), which is how checkpoints map onto it.
 *
 *   first_conv: conv 3×3 s2 p1 (3 → 16·size) · BN · ReLU
 *   features: stages of 2, 3, 8, 3 TFBlocks; a stage's first block has stride 2 and doubles the width:
 *     main = pw (inp → inp, bias) · BN · ACON-FReLU · pw · BN
 *     stride 1: ACON-FReLU(x + main(x));  stride 2: ACON-FReLU with stride 2 (concat(x, main(x)))
 *   conv_last: pw (→ 1024) · BN · ACON-FReLU;  average pool 7×7 (224×224 input);  dropout 0.2 above
 *   0.5 (identity in inference);  classifier: linear → classes
 *
 * ACON-FReLU(x) = bn2((x1 − x2)·σ(x1 − x2) + x2), x2 = bn1(conv_frelu(x)) (depthwise 3×3 with bias,
 * padding 1, stride s), x1 = x or, at stride 2, the 3×3 max pool of x with stride 2 and padding 1. Here
 * it is composed of tf.layers' own layers (a depthwise conv, batch norms, {@link TorchMaxPool}) and
 * {@link SmoothMax}; its float64 reference is src/activations/aconFRelu/reference.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { OptionError } from '../gpu/errors';
import type { Kwargs } from '../layers/common';
import { torchBatchNorm, torchConv, TorchMaxPool } from './torchLayers';
import { batchNorm, conv, linear, type TorchShapes } from './torchShapes';

export type TFNetSize = 0.5 | 1.0 | 1.5 | 2.0;
export const TFNET_SIZES: readonly TFNetSize[] = [0.5, 1.0, 1.5, 2.0];
const STAGES = [2, 3, 8, 3];
const OUT_CHANNELS = 1024;

export interface TFNetOptions {
  /** 0.5, 1.0, 1.5 or 2.0 (default 0.5): the first width is 16·size. */
  modelSize?: TFNetSize;
  /** Classes (default 1000). */
  numClasses?: number;
}

/** y = (x1 − x2)·σ(x1 − x2) + x2 of its two inputs [x1, x2] (ACON-FReLU's smooth maximum). */
export class SmoothMax extends tfl.layers.Layer {
  static className = 'SmoothMax';

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (inputShape as tfl.Shape[])[0]!;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const [x1, x2] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const d = tf.sub(x1!, x2!);
      return tf.add(tf.mul(d, tf.sigmoid(d)), x2!);
    });
  }
}
tf.serialization.registerClass(SmoothMax);

function check(o: TFNetOptions) {
  const size = o.modelSize ?? 0.5;
  if (!TFNET_SIZES.includes(size))
    throw new OptionError('tfNet: unknown modelSize', TFNET_SIZES.join(', '), JSON.stringify(o.modelSize));
  const numClasses = o.numClasses ?? 1000;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new OptionError(
      'tfNet: numClasses is not a positive integer',
      'a positive integer',
      JSON.stringify(numClasses),
    );
  return { size, numClasses, first: Math.floor(16 * size) };
}

/** Calls `block` for every TFBlock: its module name, input width and stride. */
function eachBlock(first: number, block: (name: string, inp: number, stride: number) => void): number {
  let inp = first;
  let k = 0;
  for (const count of STAGES)
    for (let i = 0; i < count; i++) {
      block(`features.${k++}`, inp, i === 0 ? 2 : 1);
      if (i === 0) inp *= 2;
    }
  return inp;
}

/** ACON-FReLU's state dict of width c under `name`. */
function aconFReluShapes(m: TorchShapes, name: string, c: number) {
  conv(m, `${name}.conv_frelu`, c, c, 3, true);
  batchNorm(m, `${name}.bn1`, c);
  batchNorm(m, `${name}.bn2`, c);
}

/** The PyTorch state dict's shapes of {@link tfNet}(options) (see torchShapes.ts), by the builder's walk. */
export function tfNetTorchShapes(options: TFNetOptions): TorchShapes {
  const { first, numClasses } = check(options);
  const m: TorchShapes = new Map();
  conv(m, 'first_conv.0', 3, first, 3);
  batchNorm(m, 'first_conv.1', first);
  const last = eachBlock(first, (b, inp, stride) => {
    conv(m, `${b}.branch_main.0`, inp, inp, 1);
    batchNorm(m, `${b}.branch_main.1`, inp);
    aconFReluShapes(m, `${b}.branch_main.2`, inp);
    conv(m, `${b}.branch_main.3`, inp, inp, 1);
    batchNorm(m, `${b}.branch_main.4`, inp);
    aconFReluShapes(m, `${b}.acon`, inp * stride);
  });
  conv(m, 'conv_last.0', last, OUT_CHANNELS, 1);
  batchNorm(m, 'conv_last.1', OUT_CHANNELS);
  aconFReluShapes(m, 'conv_last.2', OUT_CHANNELS);
  linear(m, 'classifier.0', OUT_CHANNELS, numClasses);
  return m;
}

/** TFNet as a tf.LayersModel: input [N, 224, 224, 3], output [N, classes] logits. */
export function tfNet(options: TFNetOptions = {}): tfl.LayersModel {
  const { size, first, numClasses } = check(options);
  type T = tfl.SymbolicTensor;
  const apply = (layer: tfl.layers.Layer, x: T | T[]) => layer.apply(x) as T;
  const aconFRelu = (name: string, x: T, c: number, stride: number): T => {
    const x2 = torchBatchNorm(`${name}.bn1`, torchConv(`${name}.conv_frelu`, x, c, 3, stride, true));
    const x1 =
      stride === 2 ? apply(new TorchMaxPool({ name: `${name}.maxpool`, poolSize: 3, strides: 2, pad: 1 }), x) : x;
    return torchBatchNorm(`${name}.bn2`, apply(new SmoothMax({ name: `${name}.smooth_max` }), [x1, x2]));
  };

  const input = tfl.input({ shape: [224, 224, 3], name: 'input' });
  let x = torchBatchNorm('first_conv.1', torchConv('first_conv.0', input, first, 3, 2));
  x = apply(tfl.layers.reLU({ name: 'first_conv.2' }), x);
  eachBlock(first, (b, inp, stride) => {
    let main = torchBatchNorm(`${b}.branch_main.1`, torchConv(`${b}.branch_main.0`, x, inp, 1, 1));
    main = aconFRelu(`${b}.branch_main.2`, main, inp, 1);
    main = torchBatchNorm(`${b}.branch_main.4`, torchConv(`${b}.branch_main.3`, main, inp, 1, 1));
    const joined =
      stride === 1
        ? apply(tfl.layers.add({ name: `${b}.add` }), [x, main])
        : apply(tfl.layers.concatenate({ name: `${b}.concat`, axis: -1 }), [x, main]);
    x = aconFRelu(`${b}.acon`, joined, inp * stride, stride);
  });
  x = torchBatchNorm('conv_last.1', torchConv('conv_last.0', x, OUT_CHANNELS, 1, 1));
  x = aconFRelu('conv_last.2', x, OUT_CHANNELS, 1);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'globalpool' }), x);
  if (size > 0.5) x = apply(tfl.layers.dropout({ name: 'dropout', rate: 0.2 }), x);
  const logits = apply(tfl.layers.dense({ name: 'classifier.0', units: numClasses }), x);
  return tfl.model({ name: `tfnet_${String(size).replace('.', '_')}`, inputs: input, outputs: logits });
}
