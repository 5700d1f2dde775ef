/**
 * The paper's TFNet (github nmaac/acon: TFNet/network.py, vendored as scripts/torch_models/tfnet.py),
 * the network of ACON-FReLU, as a tf.layers model on NHWC images at widths 0.5, 1.0, 1.5, 2.0 (and any
 * other the official constructor takes: first width 16·size). Every
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
 * padding 1, stride s), x1 = x or, at stride 2, the 3×3 max pool of x with stride 2 and padding 1: one
 * AconFReLU layer (src/activations/aconFRelu) named as the PyTorch module, whose weights carry
 * PyTorch's names (`features.3.acon` with conv_frelu.weight, bn1.running_mean, …); our fused kernels
 * on the webgpu backend, or with impl 'composed' the same formula in tfjs ops.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { OptionError } from '../gpu/errors';
import type { Impl } from '../layers/common';
import { layerClasses } from '../layers/layer';
import { torchBatchNorm, torchConv } from './torchLayers';
import { batchNorm, conv, linear, type TorchShapes } from './torchShapes';

export type TFNetSize = 0.5 | 1.0 | 1.5 | 2.0;
export const TFNET_SIZES: readonly TFNetSize[] = [0.5, 1.0, 1.5, 2.0];
/** The last stage is 16 times the first width: up to this keeps every width within checkpoint.ts's MAX_WIDTH. */
export const TFNET_MAX_FIRST = (1 << 20) / 16;
const STAGES = [2, 3, 8, 3];
const OUT_CHANNELS = 1024;

export interface TFNetOptions {
  /**
   * 0.5, 1.0, 1.5 or 2.0 (default 0.5): the first width is 16·size. Any other size whose 16·size is a
   * whole number of channels (to 65,536) builds what the official constructor builds with it (0.25: a
   * first conv of 4; the reduced-width test fixtures).
   */
  modelSize?: number;
  /** Classes (default 1000). */
  numClasses?: number;
  /** Input height and width (default 224; the official network's 7×7 average pool is the global one here). */
  inputSize?: number;
  /** ACON-FReLU's implementation: 'auto' (default: fused on webgpu) or 'composed' (tfjs ops). */
  impl?: Impl;
}

function check(o: TFNetOptions) {
  const size = o.modelSize ?? 0.5;
  const first = 16 * size;
  if (typeof size !== 'number' || !Number.isInteger(first) || first < 1 || first > TFNET_MAX_FIRST)
    throw new OptionError(
      'tfNet: modelSize is no width (16·size must be a whole number of channels)',
      `${TFNET_SIZES.join(', ')} (or any size with 16·size from 1 to ${TFNET_MAX_FIRST})`,
      JSON.stringify(o.modelSize),
    );
  const numClasses = o.numClasses ?? 1000;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new OptionError(
      'tfNet: numClasses is not a positive integer',
      'a positive integer',
      JSON.stringify(numClasses),
    );
  const inputSize = o.inputSize ?? 224;
  if (!Number.isInteger(inputSize) || inputSize < 1 || inputSize > 4096)
    throw new OptionError(
      'tfNet: inputSize is not an integer from 1 to 4096',
      '1 to 4096',
      JSON.stringify(o.inputSize),
    );
  return { size, numClasses, inputSize, first };
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
  const { size, first, numClasses, inputSize } = check(options);
  const impl = options.impl ?? 'auto';
  type T = tfl.SymbolicTensor;
  const apply = (layer: tfl.layers.Layer, x: T | T[]) => layer.apply(x) as T;
  const aconFRelu = (name: string, x: T, stride: 1 | 2): T =>
    apply(new layerClasses.AconFReLU({ name, stride, impl }), x);

  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input' });
  let x = torchBatchNorm('first_conv.1', torchConv('first_conv.0', input, first, 3, 2));
  x = apply(tfl.layers.reLU({ name: 'first_conv.2' }), x);
  eachBlock(first, (b, inp, stride) => {
    let main = torchBatchNorm(`${b}.branch_main.1`, torchConv(`${b}.branch_main.0`, x, inp, 1, 1));
    main = aconFRelu(`${b}.branch_main.2`, main, 1);
    main = torchBatchNorm(`${b}.branch_main.4`, torchConv(`${b}.branch_main.3`, main, inp, 1, 1));
    const joined =
      stride === 1
        ? apply(tfl.layers.add({ name: `${b}.add` }), [x, main])
        : apply(tfl.layers.concatenate({ name: `${b}.concat`, axis: -1 }), [x, main]);
    x = aconFRelu(`${b}.acon`, joined, stride as 1 | 2);
  });
  x = torchBatchNorm('conv_last.1', torchConv('conv_last.0', x, OUT_CHANNELS, 1, 1));
  x = aconFRelu('conv_last.2', x, 1);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'globalpool' }), x);
  if (size > 0.5) x = apply(tfl.layers.dropout({ name: 'dropout', rate: 0.2 }), x);
  const logits = apply(tfl.layers.dense({ name: 'classifier.0', units: numClasses }), x);
  return tfl.model({ name: `tfnet_${String(size).replace('.', '_')}`, inputs: input, outputs: logits });
}
