import { Batch, GpuContext, type GpuContextOptions, type Recorder } from '../gpu/context';
import { BufferError, LengthError } from '../gpu/errors';
import type { Shape4 } from '../core/types';
import { ACTIVATIONS, type Registered } from '../activations/registry';
import type {
  AnyActivation,
  BackwardBuffersOf,
  BackwardResultOf,
  BuffersOptionsOf,
  ForwardBuffersOf,
  ForwardResultOf,
  HostOptionsOf,
  ParamsOf,
} from '../activations/types';
import * as forms from './forms';
import { checkFloat32 } from './validate';

/** An options argument, required exactly when the options have a required member (Meta's training). */
type OptionArg<O> = object extends O ? [options?: O] : [options: O];
/** The installed methods' arguments: checked by the forms at run time, typed by {@link HostMethods}. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** One activation's host-array and GPU-resident forms, bound to a context (see {@link AconGPU}). */
export interface ActivationOps<A> {
  /** y = act(x) on host arrays; x is [N, C, H, W] float32 (NCHW unless options.dataFormat says NHWC). */
  forward(
    x: Float32Array,
    shape: Shape4,
    params: ParamsOf<A>,
    ...options: OptionArg<HostOptionsOf<A>>
  ): Promise<ForwardResultOf<A>>;
  /** The gradients for upstream gradient dy: dx and one per trainable parameter under its own name. */
  backward(
    x: Float32Array,
    dy: Float32Array,
    shape: Shape4,
    params: ParamsOf<A>,
    ...options: OptionArg<HostOptionsOf<A>>
  ): Promise<BackwardResultOf<A>>;
  /** The forward on your GPUBuffers (STORAGE usage, this device); nothing read back. */
  forwardBuffers(
    buffers: ForwardBuffersOf<A>,
    shape: Shape4,
    ...options: OptionArg<BuffersOptionsOf<A>>
  ): Promise<void>;
  /** The backward on your GPUBuffers: writes every buffer of `buffers.grads`. */
  backwardBuffers(
    buffers: BackwardBuffersOf<A>,
    shape: Shape4,
    ...options: OptionArg<BuffersOptionsOf<A>>
  ): Promise<void>;
}

/** One activation's forms recorded into your command encoder (see {@link AconEncoder}). */
export interface EncoderOps<A> {
  forward(buffers: ForwardBuffersOf<A>, shape: Shape4, ...options: OptionArg<BuffersOptionsOf<A>>): void;
  backward(buffers: BackwardBuffersOf<A>, shape: Shape4, ...options: OptionArg<BuffersOptionsOf<A>>): void;
}

/** AconGPU's methods per registered activation: aconCForward, aconCBackward, aconCForwardBuffers, … */
type HostMethods = { [A in Registered as `${A['name']}Forward`]: ActivationOps<A>['forward'] } & {
  [A in Registered as `${A['name']}Backward`]: ActivationOps<A>['backward'];
} & { [A in Registered as `${A['name']}ForwardBuffers`]: ActivationOps<A>['forwardBuffers'] } & {
  [A in Registered as `${A['name']}BackwardBuffers`]: ActivationOps<A>['backwardBuffers'];
};
/** AconEncoder's methods per registered activation: aconCForward, aconCBackward, … */
type EncoderMethods = { [A in Registered as `${A['name']}Forward`]: EncoderOps<A>['forward'] } & {
  [A in Registered as `${A['name']}Backward`]: EncoderOps<A>['backward'];
};

/** Installs a method on a prototype as a class method would be (not enumerable). */
const method = (proto: object, name: string, value: (...args: never[]) => unknown) =>
  Object.defineProperty(proto, name, { value, writable: true, configurable: true });

// The per-activation methods are derived from the registry (src/activations/index.ts): their types by
// declaration merging, their values installed in the classes' static blocks (kept wherever the class is).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface AconGPU extends HostMethods {}

/**
 * The library's handle: a GPU device (requested, or yours) with the ACON operations bound to it.
 * Every registered activation's operation comes in three forms with one vocabulary:
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
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class AconGPU {
  private readonly ops = new Map<AnyActivation, ActivationOps<AnyActivation>>();

  private constructor(readonly context: GpuContext) {}

  static {
    for (const a of ACTIVATIONS) {
      const p = this.prototype;
      const act = a as AnyActivation;
      method(p, `${a.name}Forward`, function (this: AconGPU, x: Float32Array, shape: Shape4, params: Any, o?: Any) {
        return forms.hostForward(this.context, act, x, shape, params, o);
      });
      method(
        p,
        `${a.name}Backward`,
        function (this: AconGPU, x: Float32Array, dy: Float32Array, s: Shape4, params: Any, o?: Any) {
          return forms.hostBackward(this.context, act, x, dy, s, params, o);
        },
      );
      method(p, `${a.name}ForwardBuffers`, function (this: AconGPU, b: Any, s: Shape4, o?: Any) {
        return forms.forwardBuffers(this.context, act, b, s, o);
      });
      method(p, `${a.name}BackwardBuffers`, function (this: AconGPU, b: Any, s: Shape4, o?: Any) {
        return forms.backwardBuffers(this.context, act, b, s, o);
      });
    }
  }

  /** Requests a device with the adapter's full limits, or wraps `options.device` (which stays yours). */
  static async create(options: GpuContextOptions = {}): Promise<AconGPU> {
    return new AconGPU(await GpuContext.create(options));
  }

  get device(): GPUDevice {
    return this.context.device;
  }

  /**
   * One activation's forms for code holding its declaration (the bench, the report, a declaration of
   * your own): acon.op(metaAconC).forward(x, shape, params, { training }) is acon.metaAconCForward(…).
   */
  op<A extends AnyActivation>(act: A): ActivationOps<A> {
    let ops = this.ops.get(act);
    if (!ops) {
      const ctx = this.context;
      ops = {
        forward: (x, shape, params, options) => forms.hostForward(ctx, act, x, shape, params, options),
        backward: (x, dy, shape, params, options) => forms.hostBackward(ctx, act, x, dy, shape, params, options),
        forwardBuffers: (buffers, shape, options) => forms.forwardBuffers(ctx, act, buffers, shape, options),
        backwardBuffers: (buffers, shape, options) => forms.backwardBuffers(ctx, act, buffers, shape, options),
      };
      this.ops.set(act, ops);
    }
    return ops as unknown as ActivationOps<A>;
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

// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface AconEncoder extends EncoderMethods {}

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
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class AconEncoder {
  private readonly batch: Batch;

  static {
    for (const a of ACTIVATIONS) {
      const p = this.prototype;
      const act = a as AnyActivation;
      method(p, `${a.name}Forward`, function (this: AconEncoder, b: Any, s: Shape4, o?: Any) {
        this.record((r) => forms.recordForward(this.ctx, act, r, b, s, o));
      });
      method(p, `${a.name}Backward`, function (this: AconEncoder, b: Any, s: Shape4, o?: Any) {
        this.record((r) => forms.recordBackward(this.ctx, act, r, b, s, o));
      });
    }
  }

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

  /** One activation's record forms, for code holding its declaration (see {@link AconGPU.op}). */
  op<A extends AnyActivation>(act: A): EncoderOps<A> {
    return {
      forward: (buffers, shape, options) =>
        this.record((r) => forms.recordForward(this.ctx, act, r, buffers, shape, options)),
      backward: (buffers, shape, options) =>
        this.record((r) => forms.recordBackward(this.ctx, act, r, buffers, shape, options)),
    };
  }

  /** Gives the scratch buffers back to the library's pool; call after submitting the encoder's work. */
  release(): void {
    this.batch.releaseTemps();
  }
}
