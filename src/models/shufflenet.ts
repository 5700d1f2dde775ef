/**
 * The paper's ShuffleNetV2 with ACON-C or Meta-ACON-C, as the official code defines it
 * (github nmaac/acon: ACON/ShuffleNetV2_ACON/network.py, MetaACON/ShuffleNet_MetaACON/network.py),
 * as a tf.layers model on NHWC images. Every layer carries the name of its PyTorch module
 * (`first_conv.0`, `features.3.branch_main.5`, `classifier.0`), which is how checkpoints map onto it.
 *
 *   first_conv: conv 3×3 s2 p1 (3 → 24) · BN · act;  maxpool 3×3 s2 p1
 *   features: stages of 4, 8, 4 blocks; a stage's first block has stride 2:
 *     stride 2: concat(proj(x), main(x)), proj = dw 3×3 s2 · BN · pw · BN · act (inp → inp)
 *     stride 1: x splits into even channels (passed through) and odd channels (main):
 *               concat(even, main(odd))   (the official channel_shuffle)
 *     main = pw (→ mid) · BN · act · dw 3×3 · BN · pw (→ out − inp) · BN · act, mid = out / 2
 *   conv_last: pw (→ 1024, 2048 at 2.0×) · BN · act;  global average pool (AvgPool2d(7) at 224);
 *   dropout 0.2 at 2.0× (identity in inference);  classifier: linear → n_class logits
 *
 * PyTorch pads 1 on every side for the 3×3 stride-2 convs and the max pool; tf.layers' 'same' pads
 * the extra row at the bottom/right only, so those convs take an explicit zeroPadding2d and 'valid',
 * and the max pool is {@link TorchMaxPool} (padding ignored in the max, as PyTorch's −∞ padding).
 * Batch norms use PyTorch's ε = 1e-5 (tf.layers' default is 1e-3).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { OptionError } from '../gpu/errors';
import { layerClasses } from '../layers/layer';
import type { Impl, Kwargs } from '../layers/common';
import { single } from '../layers/common';
import { activationTorchShapes, batchNorm, conv, linear, type TorchShapes } from './torchShapes';
import { torchBatchNorm, torchConv, TorchMaxPool } from './torchLayers';
import { aconC } from '../activations/aconC/declaration';
import { metaAconC } from '../activations/metaAconC/declaration';

export type ModelSize = '0.5x' | '1.0x' | '1.5x' | '2.0x';

/** stage_out_channels of the official models (index 0 unused, as there). */
export const STAGE_OUT_CHANNELS: Record<ModelSize, readonly number[]> = {
  '0.5x': [-1, 24, 48, 96, 192, 1024],
  '1.0x': [-1, 24, 116, 232, 464, 1024],
  '1.5x': [-1, 24, 176, 352, 704, 1024],
  '2.0x': [-1, 24, 244, 488, 976, 2048],
};
export const MODEL_SIZES = Object.keys(STAGE_OUT_CHANNELS) as ModelSize[];
const STAGE_REPEATS = [4, 8, 4];

/** ACON-C, Meta-ACON-C, or ReLU in their place (the bench's baseline: the original ShuffleNetV2's activation). */
export type ShuffleActivation = 'acon' | 'meta' | 'relu';

export interface ShuffleNetV2Options {
  /** AconC (ShuffleNetV2_ACON) or MetaAconC (ShuffleNetV2_MetaACON). */
  activation: ShuffleActivation;
  /** One of the official widths (default '0.5x'), or give `stageOutChannels`. */
  modelSize?: ModelSize;
  /** A custom width, [-1, first, stage2, stage3, stage4, last] (the tests' reduced-width fixtures). */
  stageOutChannels?: readonly number[];
  /** Classes (default 1000). */
  numClasses?: number;
  /** Meta-ACON's reduction: the official models use 8 at 0.5× and 16 otherwise (the default follows that). */
  r?: number;
  /** Input height = width (default 224: the global pool then averages 7×7, the official AvgPool2d(7)). */
  inputSize?: number;
  /** 'auto': our fused kernels on webgpu; 'composed': the ACON formula in tfjs primitives. */
  impl?: Impl;
}

/**
 * The official channel_shuffle's split on NHWC: part 0 = the even channels, part 1 = the odd ones
 * (PyTorch reshapes [N, C, H·W] to [N·C/2, 2, H·W] and takes index 0 and 1 of the middle axis).
 */
export class ChannelSplit extends tfl.layers.Layer {
  static className = 'ChannelSplit';
  readonly part: 0 | 1;

  constructor(args: { part: 0 | 1; name?: string }) {
    super(args);
    this.part = args.part;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w, c] = inputShape as tfl.Shape;
    return [n!, h!, w!, c! / 2];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = single(inputs, this.name) as tf.Tensor4D;
    const [n, h, w, c] = x.shape;
    return tf.stridedSlice(x, [0, 0, 0, this.part], [n, h, w, c], [1, 1, 1, 2]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), part: this.part };
  }
}

tf.serialization.registerClass(ChannelSplit);

/**
 * The stage_out_channels a set of options stands for (checked: 6 entries, positive channel counts, stage
 * widths divisible by 4 and each wider than the one before: a stage's first block adds out − in channels).
 */
export function stageOutChannels(o: Pick<ShuffleNetV2Options, 'modelSize' | 'stageOutChannels'>): number[] {
  if (o.stageOutChannels) {
    const s = [...o.stageOutChannels];
    const ok =
      s.length === 6 &&
      s.slice(1).every((c) => Number.isInteger(c) && c > 0) &&
      s.slice(2, 5).every((c, i) => c % 4 === 0 && c > s[i + 1]!);
    if (!ok)
      throw new OptionError(
        'shuffleNetV2: stageOutChannels is not [-1, first, stage2, stage3, stage4, last] with stage widths divisible by 4, each wider than the one before',
        '[-1, 24, 48, 96, 192, 1024] or similar',
        JSON.stringify(o.stageOutChannels),
      );
    return s;
  }
  const size = o.modelSize ?? '0.5x';
  if (!(size in STAGE_OUT_CHANNELS))
    throw new OptionError(
      'shuffleNetV2: unknown modelSize',
      MODEL_SIZES.map((m) => `'${m}'`).join(', '),
      JSON.stringify(size),
    );
  return [...STAGE_OUT_CHANNELS[size]];
}

/** The official default r: 8 at 0.5×, 16 otherwise (ShuffleNetV2_MetaACON.__init__). */
export const defaultR = (modelSize: ModelSize | undefined) =>
  modelSize === '0.5x' || modelSize === undefined ? 8 : 16;

/**
 * The PyTorch state dict's shapes of {@link shuffleNetV2}(options) (see torchShapes.ts), by the same walk
 * over the stages as the builder below; options as the builder checks them.
 */
export function shuffleNetV2TorchShapes(
  options: Pick<ShuffleNetV2Options, 'activation' | 'modelSize' | 'stageOutChannels' | 'numClasses' | 'r'>,
): TorchShapes {
  const channels = stageOutChannels(options);
  const act = options.activation === 'meta' ? metaAconC : aconC;
  const r = options.r ?? defaultR(options.stageOutChannels ? undefined : options.modelSize);
  const m: TorchShapes = new Map();
  const acon = (name: string, c: number) =>
    options.activation !== 'relu' && activationTorchShapes(m, name, act, c, { r });
  const pwBnAct = (name: string, i: number, cin: number, cout: number) => {
    conv(m, `${name}.${i}`, cin, cout, 1);
    batchNorm(m, `${name}.${i + 1}`, cout);
    acon(`${name}.${i + 2}`, cout);
  };
  conv(m, 'first_conv.0', 3, channels[1]!, 3);
  batchNorm(m, 'first_conv.1', channels[1]!);
  acon('first_conv.2', channels[1]!);
  let inp = channels[1]!;
  let block = 0;
  STAGE_REPEATS.forEach((repeats, stage) => {
    const out = channels[stage + 2]!;
    for (let i = 0; i < repeats; i++, block++) {
      const b = `features.${block}`;
      const blockIn = i === 0 ? inp : inp / 2;
      if (i === 0) {
        conv(m, `${b}.branch_proj.0`, blockIn, blockIn, 3, true);
        batchNorm(m, `${b}.branch_proj.1`, blockIn);
        pwBnAct(`${b}.branch_proj`, 2, blockIn, blockIn);
      }
      const mid = out / 2;
      pwBnAct(`${b}.branch_main`, 0, blockIn, mid);
      conv(m, `${b}.branch_main.3`, mid, mid, 3, true);
      batchNorm(m, `${b}.branch_main.4`, mid);
      pwBnAct(`${b}.branch_main`, 5, mid, out - blockIn);
      inp = out;
    }
  });
  pwBnAct('conv_last', 0, inp, channels[5]!);
  linear(m, 'classifier.0', channels[5]!, options.numClasses ?? 1000);
  return m;
}

/** ShuffleNetV2 with ACON-C or Meta-ACON-C as a tf.LayersModel: input [N, S, S, 3] (RGB or BGR as trained), output [N, classes] logits. */
export function shuffleNetV2(options: ShuffleNetV2Options): tfl.LayersModel {
  const { activation, numClasses = 1000, inputSize = 224, impl = 'auto' } = options;
  if (activation !== 'acon' && activation !== 'meta' && activation !== 'relu')
    throw new OptionError('shuffleNetV2: unknown activation', "'acon', 'meta' or 'relu'", JSON.stringify(activation));
  for (const [name, v] of [
    ['numClasses', numClasses],
    ['inputSize', inputSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new OptionError(`shuffleNetV2: ${name} is not a positive integer`, 'a positive integer', JSON.stringify(v));
  }
  const channels = stageOutChannels(options);
  const r = options.r ?? defaultR(options.stageOutChannels ? undefined : options.modelSize);
  if (!Number.isInteger(r) || r < 1)
    throw new OptionError('shuffleNetV2: r is not a positive integer', 'a positive integer', JSON.stringify(options.r));

  type T = tfl.SymbolicTensor;
  const apply = (layer: tfl.layers.Layer, x: T | T[]) => layer.apply(x) as T;
  const act = (name: string, x: T) =>
    apply(
      activation === 'relu'
        ? tfl.layers.reLU({ name })
        : activation === 'acon'
          ? new layerClasses.AconC({ name, impl })
          : new layerClasses.MetaAconC({ name, r, impl }),
      x,
    );
  const pwBnAct = (name: string, i: number, x: T, filters: number) =>
    act(`${name}.${i + 2}`, torchBatchNorm(`${name}.${i + 1}`, torchConv(`${name}.${i}`, x, filters, 1, 1)));

  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input' });
  let x = act('first_conv.2', torchBatchNorm('first_conv.1', torchConv('first_conv.0', input, channels[1]!, 3, 2)));
  x = apply(new TorchMaxPool({ name: 'maxpool', poolSize: 3, strides: 2, pad: 1 }), x);
  let inp = channels[1]!;
  let block = 0;
  STAGE_REPEATS.forEach((repeats, stage) => {
    const out = channels[stage + 2]!;
    for (let i = 0; i < repeats; i++, block++) {
      const stride = i === 0 ? 2 : 1;
      const blockIn = stride === 2 ? inp : inp / 2;
      const b = `features.${block}`;
      let proj: T;
      let main: T;
      if (stride === 2) {
        proj = pwBnAct(
          `${b}.branch_proj`,
          2,
          torchBatchNorm(`${b}.branch_proj.1`, torchConv(`${b}.branch_proj.0`, x, blockIn, 3, 2, true)),
          blockIn,
        );
        main = x;
      } else {
        proj = apply(new ChannelSplit({ name: `${b}.shuffle_even`, part: 0 }), x);
        main = apply(new ChannelSplit({ name: `${b}.shuffle_odd`, part: 1 }), x);
      }
      const mid = out / 2;
      main = pwBnAct(`${b}.branch_main`, 0, main, mid);
      main = torchBatchNorm(`${b}.branch_main.4`, torchConv(`${b}.branch_main.3`, main, mid, 3, stride, true));
      main = pwBnAct(`${b}.branch_main`, 5, main, out - blockIn);
      x = apply(tfl.layers.concatenate({ name: `${b}.concat`, axis: -1 }), [proj, main]);
      inp = out;
    }
  });
  x = pwBnAct('conv_last', 0, x, channels[5]!);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'globalpool' }), x);
  if (options.modelSize === '2.0x' && !options.stageOutChannels)
    x = apply(tfl.layers.dropout({ name: 'dropout', rate: 0.2 }), x);
  const logits = apply(tfl.layers.dense({ name: 'classifier.0', units: numClasses }), x);
  const size = options.stageOutChannels ? 'custom' : (options.modelSize ?? '0.5x');
  return tfl.model({ name: `shufflenetv2_${size.replace('.', '_')}_${activation}`, inputs: input, outputs: logits });
}
