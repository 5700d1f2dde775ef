/**
 * acon-webgpu: ACON activations as fused WebGPU compute shaders.
 * The public API, and only that.
 */
export { AconGPU, AconEncoder, type ActivationOps, type EncoderOps } from './ops/aconGPU';
// the declarations (acon.op(activations.aconC)) and their types: AconCParams, MetaAconCGrads, …
export * as activations from './activations/index';
export type * from './activations/index';
export type { Activation, AnyActivation, ParamDecl, ParamTree, Init, Dim } from './activations/types';
export { aconAParams, aconBParams } from './ops/presets';
export { BN_EPS, BN_MOMENTUM } from './kernels/batchnorm';
export { metaHiddenWidth } from './activations/metaAconC/params';
export {
  hostLayers,
  initialParams,
  type HostLayer,
  type HostLayerClass,
  type StateDict,
  type StateDictInput,
  type StateTensor,
} from './ops/hostLayer';
// the host layers by name (every registered one is also hostLayers[className])
import { hostLayers } from './ops/hostLayer';
export const { AconC, MetaAconC, AconFReLU } = hostLayers;
export type AconC = InstanceType<typeof AconC>;
export type MetaAconC = InstanceType<typeof MetaAconC>;
export type AconFReLU = InstanceType<typeof AconFReLU>;
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
} from './activations/aconC/reference';
export { metaAconCForwardRef, metaAconCBackwardRef, type MetaAconCParamsRef } from './activations/metaAconC/reference';
export {
  aconFReluForwardRef,
  aconFReluBackwardRef,
  type AconFReluParamsRef,
  type AconFReluGradsRef,
} from './activations/aconFRelu/reference';
