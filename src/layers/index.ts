/**
 * acon-webgpu/layers: the activations as tf.layers layers (drop-in for tf.sequential / tf.model,
 * model.fit, model.save / tf.loadLayersModel), and the seed's networks as tf.layers models. Every
 * registered activation has its layer class (`layerClasses`, by class name: AconC, MetaAconC, …),
 * registered for deserialisation on import. Needs @tensorflow/tfjs-layers; acon-webgpu/tfjs (the
 * ops) does not.
 */
import type { aconC } from '../activations/aconC/declaration';
import type { metaAconC } from '../activations/metaAconC/declaration';
import type { aconFReLU } from '../activations/aconFRelu/declaration';
import { layerClasses, type ActivationLayer, type LayerArgsOf, type LayerClass } from './layer';

export { layerClass, layerClasses, type ActivationLayer, type LayerArgsOf, type LayerClass } from './layer';
export type { LayerDataFormat, LayerDataFormat as DataFormat, Impl } from './common';
export { seedModel, paramCounts, summaryText, NET_KINDS, type NetKind, type SeedModelOptions } from './networks';

/**
 * ACON-C per channel: y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x. Weights [C] (C = the input's channel
 * count, taken in build): `p1`, `p2` ~ N(0, 1) and `beta` = 1, as the paper's module initialises
 * them. Output shape = input shape.
 *
 * ```ts
 * const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 64, kernelSize: 3 }), new AconC()] });
 * ```
 */
export const AconC: LayerClass<typeof aconC> = layerClasses.AconC;
export type AconC = ActivationLayer<typeof aconC>;
export type AconCArgs = LayerArgsOf<typeof aconC>;

/**
 * Meta-ACON-C: ACON-C whose β is generated per sample and channel from the input,
 * β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))), with 1×1 convolutions C → R → C, R = max(r, ⌊C/r⌋) (`r`,
 * default 16). Weights, named as the PyTorch module's state_dict keys (shapes without PyTorch's unit
 * dimensions, the same values in the same order):
 * - `p1`, `p2` [C] ~ N(0, 1)
 * - `fc1.weight` [R, C] (out × in, PyTorch's [R, C, 1, 1]), `fc1.bias` [R]: U(±1/√C) as PyTorch's conv init
 * - `bn1.weight` [R] = 1, `bn1.bias` [R] = 0; non-trainable `bn1.running_mean` [R] = 0, `bn1.running_var` [R] = 1
 * - `fc2.weight` [C, R], `fc2.bias` [C]: U(±1/√R); `bn2.*` [C] as bn1
 *
 * Batch norm as PyTorch's: batch statistics in training calls (model.fit, or apply(x, { training:
 * true }), which need N ≥ 2: BatchSizeError otherwise) and the running statistics in inference calls
 * (model.predict); training calls move the running statistics (momentum 0.1, unbiased variance,
 * ε = 1e-5). `computeBeta(x)` gives the generated β [N, C] in inference mode.
 */
export const MetaAconC: LayerClass<typeof metaAconC> = layerClasses.MetaAconC;
export type MetaAconC = ActivationLayer<typeof metaAconC>;
export type MetaAconCArgs = LayerArgsOf<typeof metaAconC>;

/**
 * ACON-FReLU (TFNet/network.py's Acon_FReLU): y = BN2((x1 − x2)·σ(x1 − x2) + x2) with x2 = BN1(the
 * depthwise 3×3 conv of x, padding 1, stride `stride`, with bias) and x1 = x, or at `stride` 2 (the
 * layer's argument: 1 or 2) the 3×3 max pool of x with stride 2 and padding 1. Weights, named as the
 * PyTorch module's: `conv_frelu.weight` [C, 3, 3] (PyTorch's [C, 1, 3, 3]) and `conv_frelu.bias` [C]
 * U(±1/3) as PyTorch's conv init; `bn1.*`, `bn2.*` [C] as Meta-ACON's. Batch norm as PyTorch's
 * (training calls: the batch's statistics over N·Ho·Wo; they move the running statistics).
 */
export const AconFReLU: LayerClass<typeof aconFReLU> = layerClasses.AconFReLU;
export type AconFReLU = ActivationLayer<typeof aconFReLU>;
export type AconFReLUArgs = LayerArgsOf<typeof aconFReLU>;
