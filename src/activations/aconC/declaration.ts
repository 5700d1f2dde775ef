// ACON-C, declared: y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x with per-channel p1, p2, β (β may be per
// sample). Everything else (the call forms on AconGPU, checks, host layer, state dicts, fixtures)
// derives from this object; the kernels are ./kernels.ts.
import { activation, type BackwardBuffersOf, type BuffersOptionsOf, type ForwardBuffersOf } from '../types';
import type { GradsOf, HostOptionsOf, ParamsOf } from '../types';
import { aconCComposed } from './composed';
import { aconCKernels } from './kernels';
import { aconCParams } from './params';

export const aconC = activation({
  name: 'aconC',
  title: 'ACON-C',
  params: aconCParams,
  kernels: aconCKernels,
  composed: { y: aconCComposed },
  layer: { className: 'AconC', args: [] },
  bench: { bytes: { forward: [8, 12], backward: [12, 24] }, tfjs: ['forward', 'backward'] },
});

/**
 * ACON-C's parameters, PyTorch's names: p1, p2 of length C; β of length C, or N·C for a per-sample β
 * (Meta-ACON). Float32Arrays for the host-array calls, GPUBuffers for the GPU-resident ones.
 */
export type AconCParams<T = Float32Array> = ParamsOf<typeof aconC, T>;
/**
 * ACON-C's gradients, keyed by what they are the gradient of: dx for the input x (same shape and
 * data format), and p1, p2, beta for the parameters (summed over N, H, W; a per-sample β's over H, W).
 */
export type AconCGrads<T = Float32Array> = GradsOf<typeof aconC, T>;
/** `dataFormat`: memory layout of x, y, dy and dx, 'NCHW' (default) or 'NHWC' (tfjs's name and values). */
export type AconCOptions = HostOptionsOf<typeof aconC>;
/** Options of the GPU-resident calls: a per-sample β is told by its length, `betaLength` (N·C; default C). */
export type AconCBuffersOptions = BuffersOptionsOf<typeof aconC>;
/** GPU-resident forward: x and the parameters in, y out (a buffer of its own), all on this device with STORAGE usage. */
export type AconCForwardBuffers = ForwardBuffersOf<typeof aconC>;
/** GPU-resident backward: x, dy and the parameters in, every gradient out. */
export type AconCBackwardBuffers = BackwardBuffersOf<typeof aconC>;
