/**
 * The paper's ResNet-50, -101 and -152 with ACON-C or Meta-ACON-C, as the official code defines them
 * (github nmaac/acon: ACON/ResNet_ACON/resnet_acon.py, MetaACON/ResNet_MetaACON/resnet_metaacon.py),
 * and the same network with ReLU where ACON-C stands (the baseline of the bench), as tf.layers models
 * on NHWC images. Every layer carries the name of its PyTorch module (`conv1`, `layer2.0.downsample.0`,
 * `layer3.4.acon`, `fc`), which is how checkpoints map onto it.
 *
 *   conv1: 7×7 s2 p3 (3 → 64) · bn1 · ReLU;  maxpool 3×3 s2 p1
 *   layer1..4: 3, 4, 6, 3 bottlenecks (ResNet-50; 3, 4, 23, 3 for 101; 3, 8, 36, 3 for 152) of width
 *     64, 128, 256, 512 and output 4× that (option `planes`: p, 2p, 4p, 8p and conv1's p); a layer's first block has stride 2 (layer1: 1) and a
 *     downsample (1×1 conv with the stride · BN) on its identity:
 *     conv1 1×1 (stride here, "ResNet V1.5" as the file says) · bn1 · ReLU · conv2 3×3 p1 · bn2 ·
 *     acon · conv3 1×1 · bn3, + identity, ReLU
 *   avgpool (global) · fc → classes
 * Every conv has a bias, as in the official files. Batch norms use PyTorch's ε = 1e-5.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { aconC } from '../activations/aconC/declaration';
import { metaAconC } from '../activations/metaAconC/declaration';
import { OptionError } from '../gpu/errors';
import type { Impl } from '../layers/common';
import { layerClasses } from '../layers/layer';
import { torchBatchNorm, torchConv, TorchMaxPool } from './torchLayers';
import { activationTorchShapes, batchNorm, conv, linear, type TorchShapes } from './torchShapes';

export type ResNetDepth = 50 | 101 | 152;
export type ResNetActivation = 'acon' | 'meta' | 'relu';

/** Bottlenecks per layer, as resnet50/101/152_acon build them. */
export const RESNET_BLOCKS: Record<ResNetDepth, readonly [number, number, number, number]> = {
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
  152: [3, 8, 36, 3],
};
export const RESNET_DEPTHS = [50, 101, 152] as const;
/** layer1's planes in the official files (layer2..4: 2, 4, 8 times that; each bottleneck's output 4 times). */
export const RESNET_PLANES = 64;
const EXPANSION = 4;
/** The widest layer's output is 32·planes: planes up to this keep every width within checkpoint.ts's MAX_WIDTH. */
export const RESNET_MAX_PLANES = (1 << 20) / 32;

export interface ResNetOptions {
  depth: ResNetDepth;
  /** AconC (resnet_acon.py), MetaAconC (resnet_metaacon.py) or ReLU in its place. */
  activation: ResNetActivation;
  /** Classes (default 1000). */
  numClasses?: number;
  /** MetaAconC's r (default 16, as the official file leaves it). */
  r?: number;
  /**
   * layer1's planes (default 64, the official width; layer2..4 have 2, 4, 8 times as many, the stem
   * as many): other values build the same network narrower or wider (the reduced-width test fixtures).
   */
  planes?: number;
  /** Input height = width; any when absent (the official AdaptiveAvgPool2d takes any size; 224 is ImageNet's). */
  inputSize?: number;
  /** 'auto': our fused kernels on webgpu; 'composed': the ACON formulas in tfjs primitives. */
  impl?: Impl;
}

const positive = (name: string, v: unknown) => {
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new OptionError(`resNet: ${name} is not a positive integer`, 'a positive integer', JSON.stringify(v));
  return v as number;
};

const checkPlanes = (v: number | undefined) => {
  if (v === undefined) return RESNET_PLANES;
  if (!Number.isInteger(v) || v < 1 || v > RESNET_MAX_PLANES)
    throw new OptionError(
      `resNet: planes is not an integer from 1 to ${RESNET_MAX_PLANES}`,
      `1 to ${RESNET_MAX_PLANES}`,
      JSON.stringify(v),
    );
  return v;
};

function check(o: ResNetOptions) {
  if (!(o.depth in RESNET_BLOCKS))
    throw new OptionError('resNet: unknown depth', RESNET_DEPTHS.join(', '), JSON.stringify(o.depth));
  if (o.activation !== 'acon' && o.activation !== 'meta' && o.activation !== 'relu')
    throw new OptionError('resNet: unknown activation', "'acon', 'meta' or 'relu'", JSON.stringify(o.activation));
  return {
    blocks: RESNET_BLOCKS[o.depth],
    numClasses: positive('numClasses', o.numClasses ?? 1000),
    r: positive('r', o.r ?? 16),
    planes: checkPlanes(o.planes),
    inputSize: o.inputSize === undefined ? null : positive('inputSize', o.inputSize),
  };
}

/** Calls `block` for every bottleneck: its module name, input and width, stride, and whether it has a downsample. */
function eachBlock(
  blocks: readonly number[],
  planes: number,
  block: (name: string, cin: number, width: number, stride: number, downsample: boolean) => void,
) {
  let inplanes = planes;
  blocks.forEach((count, l) => {
    const width = planes << l;
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && l > 0 ? 2 : 1;
      block(`layer${l + 1}.${i}`, inplanes, width, stride, i === 0 && (stride !== 1 || inplanes !== width * EXPANSION));
      inplanes = width * EXPANSION;
    }
  });
}

/** The PyTorch state dict's shapes of {@link resNet}(options) (see torchShapes.ts), by the builder's walk. */
export function resNetTorchShapes(options: Omit<ResNetOptions, 'impl' | 'inputSize'>): TorchShapes {
  const { blocks, numClasses, r, planes } = check(options);
  const m: TorchShapes = new Map();
  conv(m, 'conv1', 3, planes, 7);
  batchNorm(m, 'bn1', planes);
  eachBlock(blocks, planes, (b, cin, width, _stride, downsample) => {
    conv(m, `${b}.conv1`, cin, width, 1);
    batchNorm(m, `${b}.bn1`, width);
    conv(m, `${b}.conv2`, width, width, 3);
    batchNorm(m, `${b}.bn2`, width);
    if (options.activation !== 'relu')
      activationTorchShapes(m, `${b}.acon`, options.activation === 'meta' ? metaAconC : aconC, width, { r });
    conv(m, `${b}.conv3`, width, width * EXPANSION, 1);
    batchNorm(m, `${b}.bn3`, width * EXPANSION);
    if (downsample) {
      conv(m, `${b}.downsample.0`, cin, width * EXPANSION, 1);
      batchNorm(m, `${b}.downsample.1`, width * EXPANSION);
    }
  });
  linear(m, 'fc', 8 * planes * EXPANSION, numClasses);
  return m;
}

/** ResNet with ACON-C, Meta-ACON-C or ReLU as a tf.LayersModel: input [N, S, S, 3], output [N, classes] logits. */
export function resNet(options: ResNetOptions): tfl.LayersModel {
  const { blocks, numClasses, r, inputSize, planes } = check(options);
  const impl = options.impl ?? 'auto';
  type T = tfl.SymbolicTensor;
  const apply = (layer: tfl.layers.Layer, x: T | T[]) => layer.apply(x) as T;
  const relu = (name: string, x: T) => apply(tfl.layers.reLU({ name }), x);
  const act = (name: string, x: T) =>
    options.activation === 'relu'
      ? relu(name, x)
      : apply(
          options.activation === 'acon'
            ? new layerClasses.AconC({ name, impl })
            : new layerClasses.MetaAconC({ name, r, impl }),
          x,
        );

  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input' });
  let x = relu('relu', torchBatchNorm('bn1', torchConv('conv1', input, planes, 7, 2)));
  x = apply(new TorchMaxPool({ name: 'maxpool', poolSize: 3, strides: 2, pad: 1 }), x);
  eachBlock(blocks, planes, (b, _cin, width, stride, downsample) => {
    let out = relu(`${b}.relu1`, torchBatchNorm(`${b}.bn1`, torchConv(`${b}.conv1`, x, width, 1, stride)));
    out = act(`${b}.acon`, torchBatchNorm(`${b}.bn2`, torchConv(`${b}.conv2`, out, width, 3, 1)));
    out = torchBatchNorm(`${b}.bn3`, torchConv(`${b}.conv3`, out, width * EXPANSION, 1, 1));
    const identity = downsample
      ? torchBatchNorm(`${b}.downsample.1`, torchConv(`${b}.downsample.0`, x, width * EXPANSION, 1, stride))
      : x;
    x = relu(`${b}.relu2`, apply(tfl.layers.add({ name: `${b}.add` }), [out, identity]));
  });
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'avgpool' }), x);
  const logits = apply(tfl.layers.dense({ name: 'fc', units: numClasses }), x);
  return tfl.model({ name: `resnet${options.depth}_${options.activation}`, inputs: input, outputs: logits });
}
