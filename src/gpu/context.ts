import { BufferPool } from './pool';
import { foldGrid } from './grid';
import {
  ContextDestroyedError,
  DeviceLostError,
  BufferError,
  GPUValidationError,
  WebGPUUnavailableError,
} from './errors';

/** How long a failed map waits for device.lost before rethrowing (see mapRead). */
const MAP_FAILURE_GRACE_MS = 100;

/** A WGSL source file: its name (for cache keys and messages) and its code. */
export interface ShaderSource {
  readonly name: string;
  readonly code: string;
}

export interface GpuContextOptions {
  /** Use this device (the caller keeps ownership) instead of requesting one. */
  device?: GPUDevice;
  /**
   * Where to request an adapter when no `device` is given (default `navigator.gpu`). In Node, the
   * object Dawn's `create()` returns (npm `webgpu`); install its `globals` on globalThis too, since
   * the library uses GPUBufferUsage and GPUMapMode.
   */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /**
   * Wrap each submission in validation and out-of-memory error scopes and turn what they catch into
   * typed errors (default true). Costs one round trip to the GPU process per operation.
   */
  checkErrors?: boolean;
  /** Lower the grid's per-dimension limit (tests use it to exercise 2D folding on small tensors). */
  maxWorkgroupsPerDimension?: number;
  /** Override the detection of a software (CPU) adapter, which tunes work per invocation. */
  software?: boolean;
}

/** Whether the device runs on a software (CPU) adapter such as SwiftShader, from its adapter info. */
export function isSoftwareDevice(device: GPUDevice): boolean {
  return isSoftwareAdapter((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo);
}

/** SwiftShader and other fallback adapters run compute shaders on the CPU. */
function isSoftwareAdapter(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return (
    fallback || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${info.vendor} ${info.architecture} ${info.description}`)
  );
}

/** Adapter limits that matter here; a device we create asks for the adapter's values, not the defaults. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

/**
 * The dispatcher: one GPUDevice with its pipeline cache, buffer pool and error handling. Kernels
 * record work into a {@link Batch}; a batch submits once and gives its temporaries back to the pool.
 */
export class GpuContext {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly checkErrors: boolean;
  readonly maxWorkgroupsPerDimension: number;
  /** Largest tensor in bytes that one binding (and one buffer) can hold on this device. */
  readonly maxTensorBytes: number;
  readonly hasTimestamps: boolean;
  /**
   * A software (CPU) adapter such as SwiftShader: kernels then give each invocation more work,
   * since such adapters pay per workgroup far more than GPUs do.
   */
  readonly software: boolean;
  /**
   * The `gpu` option, referenced for as long as the context lives: Dawn in Node (npm `webgpu` 0.6.2)
   * tears its instance down when that object is garbage-collected, devices and all, and a device
   * still in use then crashes the process (seen with `AconGPU.create({ gpu: create([]) })`).
   */
  readonly gpu: GPU | undefined;
  private readonly ownsDevice: boolean;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private lostInfo: GPUDeviceLostInfo | undefined;
  private destroyed = false;

  private constructor(device: GPUDevice, ownsDevice: boolean, options: GpuContextOptions) {
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.gpu = options.gpu;
    this.checkErrors = options.checkErrors ?? true;
    const lim = device.limits;
    this.maxWorkgroupsPerDimension = Math.min(
      lim.maxComputeWorkgroupsPerDimension,
      options.maxWorkgroupsPerDimension ?? Infinity,
    );
    this.maxTensorBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    this.hasTimestamps = device.features.has('timestamp-query');
    this.software = options.software ?? isSoftwareDevice(device);
    this.pool = new BufferPool(device, lim.maxBufferSize);
    void device.lost.then((info) => {
      this.lostInfo = info;
    });
  }

  /** Wraps a device the caller owns (a tfjs backend's, for example); synchronous. */
  static fromDevice(device: GPUDevice, options: Omit<GpuContextOptions, 'device'> = {}): GpuContext {
    return new GpuContext(device, false, options);
  }

  /** Uses `options.device`, or requests a device with the adapter's full limits from `options.gpu` (default `navigator.gpu`). */
  static async create(options: GpuContextOptions = {}): Promise<GpuContext> {
    if (options.device) return new GpuContext(options.device, false, options);
    const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
    if (!gpu) {
      throw new WebGPUUnavailableError(
        'WebGPU is not available here (navigator.gpu is undefined): use a browser with WebGPU ' +
          '(Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu) in a secure context (https or localhost), ' +
          "or in Node pass { gpu } from Dawn (npm 'webgpu': create([]))",
      );
    }
    if (typeof GPUBufferUsage === 'undefined' || typeof GPUMapMode === 'undefined') {
      throw new WebGPUUnavailableError(
        "the WebGPU globals (GPUBufferUsage, GPUMapMode) are missing: in Node, Object.assign(globalThis, globals) with globals from 'webgpu'",
      );
    }
    const adapter = await gpu.requestAdapter(
      options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
    );
    if (!adapter) {
      throw new WebGPUUnavailableError(
        `${options.gpu ? 'gpu' : 'navigator.gpu'}.requestAdapter() found no GPU adapter` +
          (options.gpu ? ' (Dawn on Linux needs the Vulkan loader libvulkan.so.1 and a Vulkan driver)' : ''),
      );
    }
    const requiredLimits: Record<string, number> = {};
    for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'acon-webgpu' });
    return new GpuContext(device, true, options);
  }

  /** Throws a typed error when the context was destroyed or its device lost. */
  assertUsable(): void {
    if (this.destroyed) throw new ContextDestroyedError();
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }

  get isLost(): boolean {
    return this.lostInfo !== undefined;
  }

  /** A compute pipeline, compiled once per (shader, entry point, override constants). */
  pipeline(shader: ShaderSource, entryPoint: string, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${shader.name}|${entryPoint}|${JSON.stringify(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(shader.name);
      if (!module) {
        module = this.device.createShaderModule({ code: shader.code, label: shader.name });
        this.modules.set(shader.name, module);
      }
      p = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module, entryPoint, constants },
        label: `${shader.name}:${entryPoint}`,
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Starts recording work; see {@link Batch}. */
  batch(): Batch {
    this.assertUsable();
    return new Batch(this);
  }

  /**
   * Runs `record` into one batch and submits it. With error checking on, the submission sits in
   * validation and out-of-memory error scopes; the returned promise rejects with a typed error if
   * either caught something. The work is queued before this function returns.
   */
  submit(record: (batch: Batch) => void): Promise<void> {
    const batch = this.batch();
    if (!this.checkErrors) {
      record(batch);
      batch.submit();
      return Promise.resolve();
    }
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    try {
      record(batch);
      batch.submit();
    } catch (e) {
      batch.abandon();
      void this.device.popErrorScope();
      void this.device.popErrorScope();
      throw e;
    }
    const validation = this.device.popErrorScope();
    const oom = this.device.popErrorScope();
    return Promise.all([validation, oom]).then(([v, o]) => {
      const err = v ?? o;
      if (!err) return;
      this.assertUsable();
      throw toTypedError(err);
    });
  }

  /** Copies the first `bytes` of each buffer back to the host, through one staging buffer and one map. */
  async read(regions: readonly { buffer: GPUBuffer; bytes: number }[]): Promise<ArrayBuffer[]> {
    this.assertUsable();
    const offsets: number[] = [];
    let total = 0;
    for (const r of regions) {
      offsets.push(total);
      total += Math.ceil(r.bytes / 4) * 4;
    }
    const staging = this.pool.acquire(total, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'acon-readback');
    try {
      const enc = this.device.createCommandEncoder();
      regions.forEach((r, i) => enc.copyBufferToBuffer(r.buffer, 0, staging, offsets[i]!, Math.ceil(r.bytes / 4) * 4));
      this.device.queue.submit([enc.finish()]);
      await this.mapRead(staging);
      const all = staging.getMappedRange(0, total);
      return regions.map((r, i) => all.slice(offsets[i]!, offsets[i]! + r.bytes));
    } finally {
      if (staging.mapState !== 'unmapped') staging.unmap();
      this.pool.release(staging);
    }
  }

  /** A pooled buffer holding `data` (STORAGE | COPY_SRC | COPY_DST); release it to {@link pool}. */
  upload(data: Float32Array): GPUBuffer {
    const b = this.pool.acquire(
      data.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      'acon-input',
    );
    this.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    return b;
  }

  /** Maps for reading; a device lost meanwhile surfaces as DeviceLostError, not a bare OperationError. */
  private async mapRead(buffer: GPUBuffer): Promise<void> {
    try {
      await buffer.mapAsync(GPUMapMode.READ);
    } catch (e) {
      // a failed map is how a lost device first shows; device.lost resolves on its own task soon
      // after, so wait for it briefly (100 ms: long enough for that task, short enough not to stall
      // a map that failed for another reason) and report the loss, not the bare OperationError
      await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, MAP_FAILURE_GRACE_MS))]);
      this.assertUsable();
      throw e;
    }
  }

  /** Releases pooled buffers and, if this context created the device, the device too. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.close();
    this.pipelines.clear();
    this.modules.clear();
    if (this.ownsDevice) this.device.destroy();
  }
}

function toTypedError(err: GPUError): Error {
  const msg = err.message;
  if (/destroyed/i.test(msg)) {
    return new BufferError(`a GPUBuffer passed in was destroyed: ${msg}`, 'a live GPUBuffer', 'a destroyed GPUBuffer');
  }
  return new GPUValidationError(msg);
}

/** A binding: a whole buffer, or a byte range of one. */
export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/**
 * Where kernels record their work: dispatches (uniforms at binding 0), buffer copies and scratch
 * buffers that stay valid until the recorded work has been submitted. {@link Batch} records into a
 * command encoder of its own; the TensorFlow.js face records into the tfjs backend's stream.
 */
export interface Recorder {
  temp(bytes: number, usage?: GPUBufferUsageFlags): GPUBuffer;
  dispatch(
    pipeline: GPUComputePipeline,
    uniforms: ArrayBuffer,
    bindings: Record<number, Binding>,
    workgroups: number,
  ): void;
  /** Copies `bytes` from `src` (from its offset) to `dst` at `dstOffset`; multiples of 4. */
  copy(src: Binding, dst: GPUBuffer, bytes: number, dstOffset?: number): void;
}

/** A binding as the buffer and byte offset a copy takes. */
export function copySource(b: Binding): [GPUBuffer, number] {
  return 'buffer' in b ? [b.buffer, b.offset ?? 0] : [b, 0];
}

/**
 * Records one dispatch into an open compute pass: a bind group of the uniforms (binding 0, a range
 * of a uniform buffer) and the bindings by number, and `workgroups` workgroups folded into a 2D grid
 * within `maxPerDimension` (shaders rebuild the linear index as wid.x + wid.y·num_workgroups.x).
 * Shared by {@link Batch} and the tfjs stream, which differ only in where uniforms and passes live.
 */
export function recordDispatch(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  pipeline: GPUComputePipeline,
  uniforms: { buffer: GPUBuffer; offset: number; size: number },
  bindings: Record<number, Binding>,
  workgroups: number,
  maxPerDimension: number,
): void {
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: uniforms }];
  for (const [binding, b] of Object.entries(bindings)) {
    entries.push({ binding: Number(binding), resource: 'buffer' in b ? b : { buffer: b } });
  }
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  const [gx, gy] = foldGrid(workgroups, maxPerDimension);
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(gx, gy);
}

/**
 * Work recorded into one command encoder (its own, or one of the caller's), submitted once.
 * Temporaries taken with {@link temp} go back to the pool right after the submit (the queue orders
 * any later write to them after it).
 */
export class Batch implements Recorder {
  private readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | undefined;
  private readonly temps: GPUBuffer[] = [];
  private done = false;

  constructor(
    private readonly ctx: GpuContext,
    encoder?: GPUCommandEncoder,
  ) {
    this.encoder = encoder ?? ctx.device.createCommandEncoder({ label: 'acon-batch' });
  }

  /** A pooled scratch buffer with STORAGE | COPY_SRC | COPY_DST usage, valid until submit. */
  temp(bytes: number, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST): GPUBuffer {
    const b = this.ctx.pool.acquire(bytes, usage, 'acon-temp');
    this.temps.push(b);
    return b;
  }

  /**
   * Dispatches `entryPoint` over `workgroups` workgroups (folded into a 2D grid within the device's
   * per-dimension limit; shaders rebuild the linear index as wid.x + wid.y·num_workgroups.x).
   * `uniforms` goes to binding 0.
   */
  dispatch(
    pipeline: GPUComputePipeline,
    uniforms: ArrayBuffer,
    bindings: Record<number, Binding>,
    workgroups: number,
  ): void {
    const ub = this.temp(uniforms.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.ctx.device.queue.writeBuffer(ub, 0, uniforms);
    const pass = (this.pass ??= this.encoder.beginComputePass());
    const range = { buffer: ub, offset: 0, size: uniforms.byteLength };
    recordDispatch(this.ctx.device, pass, pipeline, range, bindings, workgroups, this.ctx.maxWorkgroupsPerDimension);
  }

  /** Records a buffer copy. */
  copy(src: Binding, dst: GPUBuffer, bytes: number, dstOffset = 0): void {
    this.endPass();
    this.encoder.copyBufferToBuffer(...copySource(src), dst, dstOffset, bytes);
  }

  /** Writes a GPU timestamp at this point of the batch (needs the 'timestamp-query' feature). */
  timestamp(querySet: GPUQuerySet, index: number): void {
    this.endPass();
    this.encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: index } }).end();
  }

  /** The underlying encoder, for commands this class does not wrap (query resolves, for example). */
  get commandEncoder(): GPUCommandEncoder {
    this.endPass();
    return this.encoder;
  }

  submit(): void {
    if (this.done) return;
    this.endPass();
    this.ctx.device.queue.submit([this.encoder.finish()]);
    this.releaseTemps();
  }

  /** Drops the recording without submitting (after an exception while recording). */
  abandon(): void {
    this.endPass();
    this.releaseTemps();
  }

  /** Ends the open compute pass, so that the encoder's owner may record commands of their own. */
  endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  /** Gives the temporaries back to the pool: only once the recorded work has been submitted. */
  releaseTemps(): void {
    this.done = true;
    for (const b of this.temps) this.ctx.pool.release(b);
    this.temps.length = 0;
  }
}
