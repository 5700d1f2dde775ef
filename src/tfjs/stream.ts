/**
 * Recording into the TensorFlow.js webgpu backend's own command stream, as its own kernels do
 * (WebGPUBackend.recordAndSubmit in tfjs-backend-webgpu 4.x): dispatches go into the backend's open
 * compute pass, uniforms and scratch buffers come from its buffer manager and go back to it when it
 * submits, the tensors a dispatch touches are marked as owned by the pending queue (so disposing
 * them defers the release of their buffers until that submit), and the backend submits after its
 * usual number of dispatches (WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE). No submit of our own, no error
 * scope: every input is validated synchronously before anything is recorded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { copySource, recordDispatch, type Binding, type Recorder } from '../gpu/context';

/** The parts of tfjs-backend-webgpu's WebGPUBackend used here (4.22; public fields in its typings). */
export interface WebGPUBackendLike {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: { get(dataId: object): { resource?: unknown; values?: unknown } };
  bufferManager: {
    acquireBuffer(size: number, usage: GPUBufferUsageFlags): GPUBuffer;
  };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  /** Buffers the backend gives back to its buffer manager right after its next submit. */
  uniformPendingDisposal: GPUBuffer[];
  /** Non-null while tf.time/tf.profile collects kernel timings. */
  activeTimers?: unknown[] | null;
}

/** The backend's fields this module relies on, checked once so a tfjs upgrade fails loudly, not wrongly. */
export function isStreamCompatible(b: Partial<WebGPUBackendLike>): boolean {
  return (
    typeof b.ensureCommandEncoderReady === 'function' &&
    typeof b.endComputePassEncoder === 'function' &&
    typeof b.submitQueue === 'function' &&
    typeof b.bufferManager?.acquireBuffer === 'function' &&
    Array.isArray(b.uniformPendingDisposal) &&
    b.commandQueueOwnedIds instanceof WeakSet &&
    typeof b.dispatchCountInPass === 'number'
  );
}

/**
 * Bytes of one uniform block: the uniforms of up to 8 dispatches at 256-byte offsets (the largest
 * alignment WebGPU allows). ACON-C takes 1 or 2 dispatches, Meta-ACON's eval forward 4 and its
 * backward 15, so that one spans two blocks (the tfjs Meta-ACON gradient tests cover it).
 */
const UNIFORM_BLOCK = 2048;

/**
 * One operation's recording into the backend's stream; call {@link end} once it is recorded. The
 * uniforms of all its dispatches share one buffer (at the device's uniform offset alignment) and
 * reach the GPU in one queue write at the end, not one per dispatch: on a small tensor the per-call
 * work, not the arithmetic, is what an op costs.
 */
export class TfjsStream implements Recorder {
  private uniforms: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number } | null = null;

  constructor(private readonly backend: WebGPUBackendLike) {}

  /** The GPUBuffer of a tensor (uploaded first if tfjs holds it on the CPU), owned by the pending queue. */
  bufferOf(t: tf.TensorInfo): GPUBuffer {
    this.backend.uploadToGPU(t.dataId);
    this.backend.commandQueueOwnedIds.add(t.dataId);
    return this.backend.tensorMap.get(t.dataId).resource as GPUBuffer;
  }

  /** A new float32 tensor whose GPUBuffer the backend allocates; the recorded work fills it. */
  output(shape: number[]): { buffer: GPUBuffer; tensor: () => tf.Tensor } {
    const info = this.backend.makeTensorInfo(shape, 'float32');
    const buffer = this.bufferOf(info);
    return { buffer, tensor: () => tf.engine().makeTensorFromTensorInfo(info) };
  }

  temp(
    bytes: number,
    usage: GPUBufferUsageFlags = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  ): GPUBuffer {
    const b = this.backend.bufferManager.acquireBuffer(bytes, usage);
    this.backend.uniformPendingDisposal.push(b);
    return b;
  }

  dispatch(
    pipeline: GPUComputePipeline,
    uniforms: ArrayBuffer,
    bindings: Record<number, Binding>,
    workgroups: number,
  ): void {
    const backend = this.backend;
    const align = backend.device.limits.minUniformBufferOffsetAlignment;
    let u = this.uniforms;
    if (!u || u.used + uniforms.byteLength > UNIFORM_BLOCK) {
      this.writeUniforms();
      const buffer = this.temp(UNIFORM_BLOCK, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      u = this.uniforms = { buffer, data: new Uint8Array(new ArrayBuffer(UNIFORM_BLOCK)), used: 0 };
    }
    const offset = u.used;
    u.data.set(new Uint8Array(uniforms), offset);
    u.used = Math.ceil((offset + uniforms.byteLength) / align) * align;
    backend.ensureCommandEncoderReady();
    const pass = (backend.computePassEncoder ??= backend.commandEncoder!.beginComputePass());
    const range = { buffer: u.buffer, offset, size: uniforms.byteLength };
    recordDispatch(
      backend.device,
      pass,
      pipeline,
      range,
      bindings,
      workgroups,
      backend.device.limits.maxComputeWorkgroupsPerDimension,
    );
    backend.dispatchCountInPass++;
  }

  copy(src: Binding, dst: GPUBuffer, bytes: number, dstOffset = 0): void {
    this.backend.ensureCommandEncoderReady();
    this.backend.endComputePassEncoder();
    this.backend.commandEncoder!.copyBufferToBuffer(...copySource(src), dst, dstOffset, bytes);
  }

  /** Queues the pending uniform block's write (before the commands that read it are submitted). */
  private writeUniforms(): void {
    const u = this.uniforms;
    if (u) this.backend.queue.writeBuffer(u.buffer, 0, u.data, 0, u.used);
    this.uniforms = null;
  }

  /** Writes the uniforms, then the backend's own policy after a kernel: submit once enough dispatches are pending. */
  end(): void {
    this.writeUniforms();
    const backend = this.backend;
    if (backend.activeTimers != null) {
      // tf.time/tf.profile: tfjs ends the pass after each of its kernels to time it; ours are not timed
      backend.endComputePassEncoder();
    } else if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= backend.dispatchCountInPass) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
  }
}
