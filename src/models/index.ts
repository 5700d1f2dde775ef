/**
 * acon-webgpu/models: the paper's ShuffleNetV2 and ResNet with ACON-C and Meta-ACON-C as tf.layers models, and
 * PyTorch checkpoints (converted by scripts/convert_checkpoint.py to safetensors) loaded into them or
 * into the seed networks. Needs @tensorflow/tfjs-layers, like acon-webgpu/layers.
 */
export {
  shuffleNetV2,
  ChannelSplit,
  STAGE_OUT_CHANNELS,
  MODEL_SIZES,
  defaultR,
  stageOutChannels,
  type ShuffleNetV2Options,
  type ModelSize,
  type ShuffleActivation,
} from './shufflenet';
export {
  resNet,
  resNetTorchShapes,
  RESNET_BLOCKS,
  RESNET_DEPTHS,
  type ResNetOptions,
  type ResNetDepth,
  type ResNetActivation,
} from './resnet';
export { TorchMaxPool, torchConv, torchBatchNorm } from './torchLayers';
export { tfNet, tfNetTorchShapes, TFNET_SIZES, type TFNetOptions, type TFNetSize } from './tfnet';
export {
  loadCheckpoint,
  loadTorchTensors,
  modelForMetadata,
  ARCHITECTURES,
  MAX_WIDTH,
  type Architecture,
  type LoadedCheckpoint,
} from './checkpoint';
export { fetchCheckpoint, DEFAULT_MAX_CHECKPOINT_BYTES, type FetchCheckpointOptions } from './fetch';
export { readSafetensors, type Safetensors, type SafetensorsTensor, type SafetensorsDType } from './safetensors';
export { catalog, type CatalogEntry } from './catalog';
export { IMAGENET_LABELS, SHUFFLENET_PREPROCESSING, imagenetCrop, imagenetInput, topK } from './imagenet';
