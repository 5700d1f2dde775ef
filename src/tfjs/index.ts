/**
 * acon-webgpu/tfjs: ACON for TensorFlow.js. Import once; on the webgpu backend the ops run our
 * fused kernels on the backend's device, elsewhere the same formulas in tfjs primitives.
 */
export { aconC, metaAconC, type DataFormat, type Impl, type MetaAconCTensors } from './ops';
export { AconCLayer, MetaAconCLayer } from './layers';
export { Network, formatSummary, type NetKind, type SummaryRow } from './networks';
export { makeDataset, IMAGE_SIZE, type Dataset } from './data';
export { trainNetwork, bceLoss, type TrainOptions, type TrainResult } from './train';
export { aconCComposed, metaAconCComposed, batchNormComposed } from './composed';
