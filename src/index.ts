/**
 * acon-webgpu: ACON activations as fused WebGPU compute shaders.
 * The public API, and only that.
 */
export { AconGPU, AconEncoder } from './ops/aconGPU';
export type {
  AconCParams,
  AconCGrads,
  AconCOptions,
  AconCBuffersOptions,
  AconCForwardBuffers,
  AconCBackwardBuffers,
} from './ops/aconC';
export { aconAParams, aconBParams } from './ops/presets';
export {
  BN_EPS,
  BN_MOMENTUM,
  type MetaAconCParams,
  type MetaAconCGrads,
  type MetaAconCOptions,
  type MetaAconCBuffersOptions,
  type MetaAconCForwardBuffers,
  type MetaAconCBackwardBuffers,
  type MetaAconCForwardResult,
} from './ops/metaAconC';
export { AconC, MetaAconC, metaHiddenWidth, type StateDict, type StateDictInput, type StateTensor } from './ops/layers';
export type { Shape4, DataFormat } from './core/types';
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
