import { Batch, GpuContext, type GpuContextOptions, type Recorder } from '../gpu/context';
import { BufferError, LengthError } from '../gpu/errors';
import { checkFloat32 } from './validate';
import {
  aconCBackward,
  aconCBackwardBuffers,
  aconCForward,
  aconCForwardBuffers,
  recordAconCBackward,
  recordAconCForward,
  type AconCBackwardBuffers,
  type AconCBuffersOptions,
  type AconCForwardBuffers,
  type AconCGrads,
  type AconCOptions,
  type AconCParams,
} from './aconC';
import type { Shape4 } from '../core/types';
import {
  metaAconCBackward,
  metaAconCBackwardBuffers,
  metaAconCForward,
  metaAconCForwardBuffers,
  recordMetaAconCBackward,
  recordMetaAconCForward,
  type MetaAconCBackwardBuffers,
  type MetaAconCBuffersOptions,
  type MetaAconCForwardBuffers,
  type MetaAconCForwardResult,
  type MetaAconCGrads,
  type MetaAconCOptions,
  type MetaAconCParams,
} from './metaAconC';

/**
 * The library's handle: a GPU device (requested, or yours) with the ACON operations bound to it.
 * Every operation comes in three forms with one vocabulary:
 *   `aconCForward(x, shape, params)`                 host Float32Arrays in and out
 *   `aconCForwardBuffers({ x, params, y }, shape)`   your GPUBuffers, submitted by the library
 *   `encoder(commandEncoder).aconCForward(…)`        your GPUBuffers, recorded into your encoder
 * and likewise aconCBackward, metaAconCForward, metaAconCBackward. Options: `dataFormat` ('NCHW',
 * the default, or 'NHWC'); Meta-ACON also `training` (and `r` for the GPU-resident forms).
 *
 * ```ts
 * const acon = await AconGPU.create();            // or AconGPU.create({ device })
 * const y = await acon.aconCForward(x, [N, C, H, W], { p1, p2, beta });
 * const { dx, p1, p2, beta } = await acon.aconCBackward(x, dy, [N, C, H, W], { p1, p2, beta });
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

  /** y = ACON-C(x); x is [N, C, H, W] float32 (NCHW unless options.dataFormat says NHWC). */
  aconCForward(x: Float32Array, shape: Shape4, params: AconCParams, options?: AconCOptions): Promise<Float32Array> {
    return aconCForward(this.context, x, shape, params, options);
  }

  /** The gradients of ACON-C for upstream gradient dy: dx and the parameters' (p1, p2, beta). */
  aconCBackward(
    x: Float32Array,
    dy: Float32Array,
    shape: Shape4,
    params: AconCParams,
    options?: AconCOptions,
  ): Promise<AconCGrads> {
    return aconCBackward(this.context, x, dy, shape, params, options);
  }

  /** Forward on your GPUBuffers; nothing read back. `betaLength` N·C for a per-sample β. */
  aconCForwardBuffers(buffers: AconCForwardBuffers, shape: Shape4, options?: AconCBuffersOptions): Promise<void> {
    return aconCForwardBuffers(this.context, buffers, shape, options);
  }

  /** Backward on your GPUBuffers; nothing read back. */
  aconCBackwardBuffers(buffers: AconCBackwardBuffers, shape: Shape4, options?: AconCBuffersOptions): Promise<void> {
    return aconCBackwardBuffers(this.context, buffers, shape, options);
  }

  /**
   * Meta-ACON-C forward (β from the input through mean → fc1 → BN1 → fc2 → BN2 → σ). Training mode
   * needs N ≥ 2 and returns moved running statistics; `params` is not modified.
   */
  metaAconCForward(
    x: Float32Array,
    shape: Shape4,
    params: MetaAconCParams,
    options: MetaAconCOptions,
  ): Promise<MetaAconCForwardResult> {
    return metaAconCForward(this.context, x, shape, params, options);
  }

  /** Every Meta-ACON-C gradient (dx, p1, p2, both 1×1 convs, both batch norms) for upstream dy. */
  metaAconCBackward(
    x: Float32Array,
    dy: Float32Array,
    shape: Shape4,
    params: MetaAconCParams,
    options: MetaAconCOptions,
  ): Promise<MetaAconCGrads> {
    return metaAconCBackward(this.context, x, dy, shape, params, options);
  }

  /** Meta-ACON-C forward on your GPUBuffers; training mode updates the running-statistics buffers in place. */
  metaAconCForwardBuffers(
    buffers: MetaAconCForwardBuffers,
    shape: Shape4,
    options: MetaAconCBuffersOptions,
  ): Promise<void> {
    return metaAconCForwardBuffers(this.context, buffers, shape, options);
  }

  /** Meta-ACON-C backward on your GPUBuffers: writes every buffer of `buffers.grads`. */
  metaAconCBackwardBuffers(
    buffers: MetaAconCBackwardBuffers,
    shape: Shape4,
    options: MetaAconCBuffersOptions,
  ): Promise<void> {
    return metaAconCBackwardBuffers(this.context, buffers, shape, options);
  }

  /**
   * Records ACON operations into your command encoder, next to your own passes; you submit it.
   * See {@link AconEncoder}.
   */
  encoder(commandEncoder: GPUCommandEncoder): AconEncoder {
    this.context.assertUsable();
    return new AconEncoder(this.context, commandEncoder);
  }

  /** A new STORAGE | COPY_SRC | COPY_DST buffer on this device holding `data`; the caller destroys it. */
  createBuffer(data: Float32Array): GPUBuffer {
    this.context.assertUsable();
    checkFloat32(data, (data as { length?: number })?.length ?? -1, 'data');
    const b = this.device.createBuffer({
      size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  }

  /** Reads `length` float32 values from the start of a buffer (COPY_SRC usage, at least length·4 bytes). */
  async readBuffer(buffer: GPUBuffer, length: number): Promise<Float32Array> {
    this.context.assertUsable();
    if (!Number.isInteger(length) || length < 0)
      throw new LengthError(
        'readBuffer: length is not a non-negative integer',
        'a count of float32 values',
        String(length),
      );
    if (length * 4 > buffer.size)
      throw new BufferError('readBuffer: the buffer is too small', `≥ ${length * 4} bytes`, `${buffer.size} bytes`);
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

/**
 * ACON operations recorded into a command encoder of yours (from {@link AconGPU.encoder}): each
 * method validates synchronously, throws the library's typed errors before recording anything,
 * and records compute passes (and, for Meta-ACON's eval forward, buffer copies) into the encoder.
 * The uniforms are written to the queue as the methods run, so submit after them. Scratch buffers
 * are the library's: call {@link release} once you have submitted the encoder's command buffer
 * (the queue orders later writes to them after it), or they stay allocated.
 *
 * ```ts
 * const enc = device.createCommandEncoder();
 * // … your passes …
 * const acon = gpu.encoder(enc);
 * acon.aconCForward({ x, params: { p1, p2, beta }, y }, [N, C, H, W]);
 * device.queue.submit([enc.finish()]);
 * acon.release();
 * ```
 */
export class AconEncoder {
  private readonly batch: Batch;

  constructor(
    private readonly ctx: GpuContext,
    encoder: GPUCommandEncoder,
  ) {
    this.batch = new Batch(ctx, encoder);
  }

  private record(fn: (recorder: Recorder) => void): void {
    this.ctx.assertUsable();
    try {
      fn(this.batch);
    } finally {
      this.batch.endPass(); // each call's passes end with it, so your own commands may follow
    }
  }

  aconCForward(buffers: AconCForwardBuffers, shape: Shape4, options?: AconCBuffersOptions): void {
    this.record((r) => recordAconCForward(this.ctx, r, buffers, shape, options));
  }

  aconCBackward(buffers: AconCBackwardBuffers, shape: Shape4, options?: AconCBuffersOptions): void {
    this.record((r) => recordAconCBackward(this.ctx, r, buffers, shape, options));
  }

  metaAconCForward(buffers: MetaAconCForwardBuffers, shape: Shape4, options: MetaAconCBuffersOptions): void {
    this.record((r) => recordMetaAconCForward(this.ctx, r, buffers, shape, options));
  }

  metaAconCBackward(buffers: MetaAconCBackwardBuffers, shape: Shape4, options: MetaAconCBuffersOptions): void {
    this.record((r) => recordMetaAconCBackward(this.ctx, r, buffers, shape, options));
  }

  /** Gives the scratch buffers back to the library's pool; call after submitting the encoder's work. */
  release(): void {
    this.batch.releaseTemps();
  }
}
