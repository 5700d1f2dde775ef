/**
 * acon-webgpu/layers: ACON-C and Meta-ACON-C as tf.layers layers (drop-in for tf.sequential /
 * tf.model, model.fit, model.save / tf.loadLayersModel), and the seed's networks as tf.layers
 * models. Importing this entry registers AconC and MetaAconC for deserialisation. Needs
 * @tensorflow/tfjs-layers; acon-webgpu/tfjs (the ops) does not.
 */
export { AconC, type AconCArgs } from './aconC';
export { MetaAconC, type MetaAconCArgs } from './metaAconC';
export type { LayerDataFormat, LayerDataFormat as DataFormat, Impl } from './common';
export { seedModel, paramCounts, summaryText, NET_KINDS, type NetKind, type SeedModelOptions } from './networks';
