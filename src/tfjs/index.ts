/**
 * acon-webgpu/tfjs: ACON for TensorFlow.js. Import once; on the webgpu backend the ops run our
 * fused kernels on the backend's device, elsewhere the same formulas in tfjs primitives.
 * Needs only @tensorflow/tfjs-core; the tf.layers layers and models are in acon-webgpu/layers.
 */
export { aconC, metaAconC, type DataFormat, type Impl, type MetaAconCTensors } from './ops';
export { aconCComposed, metaAconCComposed, batchNormComposed } from './composed';
