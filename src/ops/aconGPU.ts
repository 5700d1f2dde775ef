import { GpuContext, type GpuContextOptions } from '../gpu/context';
import { checkFloat32 } from './validate';
import {
  aconCBackward,
  aconCBackwardGPU,
  aconCForward,
  aconCForwardGPU,
  type AconCBackwardGPUBuffers,
  type AconCForwardGPUBuffers,
  type AconCGrads,
  type AconCOptions,
  type AconCParams,
} from './aconC';
import type { Shape4 } from './validate';
import {
  metaAconCBackward,
  metaAconCBackwardGPU,
  metaAconCForward,
  metaAconCForwardGPU,
  type MetaAconCForwardResult,
  type MetaAconCGPUOptions,
  type MetaAconCGrads,
  type MetaAconCOptions,
  type MetaAconCParams,
  type MetaGradSet,
  type MetaParamSet,
} from './metaAconC';

/**
 * The library's entry point: a GPU context and the ACON operations bound to it.
 *
 * ```ts
 * const acon = await AconGPU.create();            // or AconGPU.create({ device })
 * const y = await acon.aconC(x, [N, C, H, W], { p1, p2, beta });
 * const { dx, dp1, dp2, dbeta } = await acon.aconCBackward(x, dy, [N, C, H, W], { p1, p2, beta });
 * acon.destroy();
 * ```
 */
export class AconGPU {
  private constructor(readonly context: GpuContext) {}

  /** Requests a device with the adapter's full limits, or wraps `options.device` (which stays yours). */
  static async create(options: GpuContextOptions = {}): Promise<AconGPU> {
    return new AconGPU(await GpuContext.create(options));
  }

  get device(): GPUDevice {
    return this.context.device;
  }

  /** y = ACON-C(x); x is [N, C, H, W] float32 (NCHW unless options.layout says NHWC). */
  aconC(x: Float32Array, shape: Shape4, params: AconCParams, options?: AconCOptions): Promise<Float32Array> {
    return aconCForward(this.context, x, shape, params, options);
  }

  /** dx, dp1, dp2, dβ of ACON-C for upstream gradient dy. */
  aconCBackward(
    x: Float32Array,
    dy: Float32Array,
    shape: Shape4,
    params: AconCParams,
    options?: AconCOptions,
  ): Promise<AconCGrads> {
    return aconCBackward(this.context, x, dy, shape, params, options);
  }

  /** Forward on the caller's GPUBuffers; no read-back. `betaLength` is N·C for a per-sample β. */
  aconCBuffers(buffers: AconCForwardGPUBuffers, shape: Shape4, options?: AconCOptions & { betaLength?: number }): Promise<void> {
    return aconCForwardGPU(this.context, buffers, shape, options);
  }

  /** Backward on the caller's GPUBuffers; no read-back. */
  aconCBackwardBuffers(
    buffers: AconCBackwardGPUBuffers,
    shape: Shape4,
    options?: AconCOptions & { betaLength?: number },
  ): Promise<void> {
    return aconCBackwardGPU(this.context, buffers, shape, options);
  }

  /**
   * Meta-ACON-C forward (β from the input through mean → fc1 → BN1 → fc2 → BN2 → σ). Training mode
   * needs N ≥ 2 and returns moved running statistics; `params` is not modified.
   */
  metaAconC(x: Float32Array, shape: Shape4, params: MetaAconCParams, options: MetaAconCOptions): Promise<MetaAconCForwardResult> {
    return metaAconCForward(this.context, x, shape, params, options);
  }

  /** Every Meta-ACON-C gradient (dx, p1, p2, both 1×1 convs, both batch norms) for upstream dy. */
  metaAconCBackward(x: Float32Array, dy: Float32Array, shape: Shape4, params: MetaAconCParams, options: MetaAconCOptions): Promise<MetaAconCGrads> {
    return metaAconCBackward(this.context, x, dy, shape, params, options);
  }

  /** Meta-ACON-C forward on the caller's GPUBuffers; training mode updates the running-statistics buffers in place. */
  metaAconCBuffers(io: { x: GPUBuffer; y: GPUBuffer }, params: MetaParamSet<GPUBuffer>, shape: Shape4, options: MetaAconCGPUOptions): Promise<void> {
    return metaAconCForwardGPU(this.context, io, params, shape, options);
  }

  /** Meta-ACON-C backward on the caller's GPUBuffers. */
  metaAconCBackwardBuffers(
    io: { x: GPUBuffer; dy: GPUBuffer },
    params: MetaParamSet<GPUBuffer>,
    grads: MetaGradSet<GPUBuffer>,
    shape: Shape4,
    options: MetaAconCGPUOptions,
  ): Promise<void> {
    return metaAconCBackwardGPU(this.context, io, params, grads, shape, options);
  }

  /** A new STORAGE | COPY_SRC | COPY_DST buffer on this device holding `data`; the caller destroys it. */
  createBuffer(data: Float32Array): GPUBuffer {
    this.context.assertUsable();
    checkFloat32(data, data.length, 'data');
    const b = this.device.createBuffer({
      size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  }

  /** Reads `length` float32 values from the start of a buffer (COPY_SRC usage). */
  async readBuffer(buffer: GPUBuffer, length: number): Promise<Float32Array> {
    const [out] = await this.context.read([{ buffer, bytes: length * 4 }]);
    return new Float32Array(out!);
  }

  /** Buffers the library holds internally (pooled); constant in a steady state. */
  get liveBuffers(): number {
    return this.context.pool.liveBuffers;
  }

  /** Frees pooled buffers, and the device if this object created it. Later calls throw ContextDestroyedError. */
  destroy(): void {
    this.context.destroy();
  }
}
