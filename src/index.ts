/**
 * acon-webgpu: ACON activations as fused WebGPU compute shaders.
 * The public API, and only that.
 */
export { AconGPU } from './ops/aconGPU';
export {
  aconCForward,
  aconCBackward,
  aconCForwardGPU,
  aconCBackwardGPU,
  type AconCParams,
  type AconCGrads,
  type AconCOptions,
  type AconCForwardGPUBuffers,
  type AconCBackwardGPUBuffers,
} from './ops/aconC';
export { aconAParams, aconBParams, type AconCParamSet } from './ops/presets';
export {
  metaAconCForward,
  metaAconCBackward,
  metaAconCForwardGPU,
  metaAconCBackwardGPU,
  BN_EPS,
  BN_MOMENTUM,
  type MetaAconCParams,
  type MetaAconCGrads,
  type MetaAconCOptions,
  type MetaAconCGPUOptions,
  type MetaAconCForwardResult,
  type MetaParamSet,
  type MetaGradSet,
} from './ops/metaAconC';
export { AconC, MetaAconC, metaHiddenWidth, type StateDict, type StateDictInput, type StateTensor } from './ops/layers';
export type { Shape4, Layout } from './ops/validate';
export { GpuContext, Batch, type GpuContextOptions, type ShaderSource } from './gpu/context';
export * from './gpu/errors';
export { timeGpuWork, type GpuTiming } from './gpu/timing';
export {
  aconCForwardRef,
  aconCBackwardRef,
  aconCValue,
  aconCPartials,
  sigmoidPair,
  type AconCParamsRef,
  type AconCGradsRef,
} from './reference/aconC';
export { metaAconCForwardRef, metaAconCBackwardRef, type MetaAconCParamsRef } from './reference/metaAconC';
