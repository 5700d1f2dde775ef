// What an activation declares, once, and the types derived from it. Everything per activation that
// the library's faces need (parameter trees, host arrays and GPU buffers, checks, state dicts,
// fixtures, kernels) is read off one `Activation` object by generic code (src/ops/forms.ts,
// src/ops/hostLayer.ts, src/models, the tfjs op and layer); see src/activations/aconC/declaration.ts.
import type * as TF from '@tensorflow/tfjs-core'; // type-only: erased, so the main entry stays tfjs-free
import type { Binding, GpuContext, Recorder } from '../gpu/context';
import type { Shader } from '../gpu/shader';
import type { DataFormat, Geometry, Shape4 } from '../core/types';

/** A dimension: 'C' channels, 'N' batch, a derived one ('R', see {@link DimDecl}), or a literal (PyTorch's unit dims). */
export type Dim = string | number;

/** A starting value: host layers and fixtures sample it from one seeded stream, tf.layers per weight. */
export type Init =
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'uniform'; readonly lo: number; readonly hi: number }
  /** U(±1/√fan_in) with fan_in the size of `dim`: PyTorch's conv and linear init. */
  | { readonly kind: 'fanIn'; readonly dim: Dim };

export interface ParamDecl {
  /** Shape of host arrays and tf.layers weights: ['C'], ['R', 'C']. */
  readonly shape: readonly Dim[];
  /** Shape in PyTorch's state dict when it differs: [1, 'C', 1, 1], ['R', 'C', 1, 1]. */
  readonly torchShape?: readonly Dim[];
  /** trainable: has a gradient; running: a statistic a training forward moves (written in place). */
  readonly role: 'trainable' | 'running';
  /** A [C] parameter that may hold N·C values instead, one per sample (ACON-C's β from Meta-ACON). */
  readonly perSample?: boolean;
  readonly init: Init;
  /** Seeded values for tests, the report and the bench (default: `init`). */
  readonly fixture?: Init;
  /** Other names of the last path segment accepted when loading a state dict (Paddle's '_mean'). */
  readonly aliases?: readonly string[];
}

/**
 * The parameters as a tree whose keys are PyTorch's path segments in camelCase: one rule maps a path
 * to its state-dict name (bn1.runningMean → 'bn1.running_mean'). Declaration order is the order of
 * everything: checks, uploads, read-backs, gradients, the host layer's random stream, tf.layers
 * weights and their seeds, state dicts, beta_eval's packed buffer.
 */
export interface ParamTree {
  readonly [key: string]: ParamDecl | ParamTree;
}

/** A parameter tree with each leaf replaced by a T (Float32Array, GPUBuffer, tf.Tensor, …). */
export type Leaves<P, T> = { -readonly [K in keyof P]: P[K] extends ParamDecl ? T : Leaves<P[K], T> };
type HasRole<P, R> = P extends ParamDecl
  ? P['role'] extends R
    ? true
    : false
  : true extends { [K in keyof P]: HasRole<P[K], R> }[keyof P]
    ? true
    : false;
/** Only the leaves of one role; groups without any are dropped (bn1 keeps weight and bias as gradients). */
export type OfRole<P, R, T> = {
  -readonly [K in keyof P as HasRole<P[K], R> extends true ? K : never]: P[K] extends ParamDecl
    ? T
    : OfRole<P[K], R, T>;
};

/** A buffer the kernels expose for debug read-back: its name, the buffer, its bytes. */
export type NamedBuffer = [name: string, buffer: GPUBuffer, bytes: number];

/** Which call form: host arrays (the library's uploads) or GPU-resident buffers (the caller's). */
export type Form = 'host' | 'buffers';

/** What every kernel of an activation gets: the call, checked and resolved. */
export interface KernelCall<O = object> {
  ctx: GpuContext;
  /** n, c, h, w and the data format. */
  geo: Geometry;
  /** N, C and the derived dims (R), by name. */
  dims: Record<string, number>;
  /** For each perSample parameter, by name: whether it holds N·C values (and N > 1). */
  perSample: Readonly<Record<string, boolean>>;
  /** The call's options, checked (Meta's training). */
  options: O;
  form: Form;
  /** Host forms with `debug`: the kernels push the intermediates to read back, by name. */
  debug?: NamedBuffer[];
}

/** The activation's kernels: hand-written encoders over named bindings (src/activations/<name>/kernels.ts). */
export interface Kernels<P extends ParamTree = ParamTree, O = object, X extends string = string> {
  /** Every Shader it dispatches (reflection tests, warm-up). */
  readonly shaders: readonly Shader[];
  /** Throws a LimitError before anything is recorded (Meta's generator loops). */
  check?(k: KernelCall<O>, direction: 'forward' | 'backward'): void;
  /**
   * Records the forward; returns the declared outputs ({@link Activation.outputs}) as buffers of the
   * recording. Parameter buffers are whole buffers: the library's uploads or the caller's.
   */
  forward(
    rec: Recorder,
    k: KernelCall<O>,
    b: { x: Binding; y: Binding; params: Leaves<P, GPUBuffer> },
  ): Record<X, GPUBuffer>;
  /**
   * Records the backward: dx, and each trainable parameter's gradient into `grads` under the
   * parameter's own key (in WGSL 'd' + name where the kernels can; the kernels map any other name).
   */
  backward(
    rec: Recorder,
    k: KernelCall<O>,
    b: { x: Binding; dy: Binding; dx: Binding; params: Leaves<P, GPUBuffer>; grads: OfRole<P, 'trainable', GPUBuffer> },
  ): void;
  /** Longest float32 addition chain behind a parameter gradient (the bounds of tests and the report). */
  reductionDepth?(geo: Geometry, perSample: Readonly<Record<string, boolean>>, software: boolean): number;
}

/** A dimension derived from C and the options: Meta's R = max(r, ⌊C/r⌋). */
export interface DimDecl<B = object> {
  /** Its name as an option (giving it directly) and as a layer's property: 'hidden'. */
  readonly name: string;
  /** From C and the GPU-resident forms' options (layers, checkpoints, buffers); OptionError when they are bad. */
  of(c: number, options: Partial<B>): number;
  /** Read off host arrays and tensors: the state-dict name of a parameter whose shape is exactly [this dim]. */
  readonly readFrom: string;
}

/**
 * The activation's own options and their check. O: the host-array forms' (Meta: training, debug); B:
 * the GPU-resident forms' (Meta: training, r, hidden). `dataFormat`, and a perSample parameter's
 * `<name>Length` in the GPU-resident forms, are generic and not part of either.
 */
export interface OptionsDecl<O, B> {
  /** Validates the activation's own options (OptionError): Meta's `training` is required. */
  check(options: O | B, form: Form): void;
  /** Type witnesses only (never set). */
  readonly types?: { host: O; buffers: B };
}

/** Options of the composed form (tfjs primitives). */
export interface ComposedOptions {
  /** x's layout (the parameters come in any shape of the right size and are reshaped to broadcast). */
  dataFormat: DataFormat;
  /** Batch statistics (training) or the running ones. */
  training: boolean;
  /** In training, also assign the running statistics, which are then tf.Variables (the op; not the bench). */
  updateRunning: boolean;
  /** N, C and the derived dims (R). */
  dims: Readonly<Record<string, number>>;
  /** The layer arguments of the call, by name (ACON-FReLU's stride; Meta's r). */
  args: Readonly<Record<string, number>>;
}

/**
 * One output of the activation from tfjs primitives, given `tf` (the main entry imports no tfjs): the
 * fallback of the tfjs op on other backends and with impl 'composed', the layers' compute<Output>,
 * the bench's tfjs-composed rows. Autodiff gives its gradients.
 */
export type Composed<P extends ParamTree> = {
  // method syntax: bivariant in p, so that a declaration's own form fits AnyActivation's
  form(tf: typeof TF, x: TF.Tensor, p: Leaves<P, TF.Tensor>, o: ComposedOptions): TF.Tensor;
}['form'];

/** The composed form of y and of each declared output (Meta's β [N, C]). */
export type ComposedForms<P extends ParamTree, X extends string> = { readonly y: Composed<P> } & {
  readonly [K in X]: Composed<P>;
};

export interface Activation<
  N extends string = string,
  P extends ParamTree = ParamTree,
  O extends object = object,
  B extends object = object,
  X extends string = string,
> {
  /** Method, op and bench-family name: 'aconC' → acon.aconCForward, --ops aconC. */
  readonly name: N;
  /** In messages: 'ACON-C'. */
  readonly title: string;
  readonly params: P;
  readonly dims?: Readonly<Record<string, DimDecl<B>>>;
  readonly options?: OptionsDecl<O, B>;
  /**
   * Training mode normalises over the batch: a training call with fewer than two values per channel
   * to normalise over (N, or batchCount's) is a BatchSizeError with this message, on every path (the
   * three call forms, the tfjs op fused or composed, the layers).
   */
  readonly batchStatistics?: string;
  /** The values per channel training mode normalises over, where they are not the N samples (ACON-FReLU: N·Ho·Wo). */
  readonly batchCount?: BatchCount;
  /**
   * y's logical [N, C, H, W] from x's and the call's options, where it differs (ACON-FReLU's stride 2
   * halves H and W); dy is y's shape. The options are checked first.
   */
  readonly outShape?: (shape: Shape4, options: Readonly<Record<string, unknown>>) => Shape4;
  /** Tensors the host forward also returns, with their shapes: Meta's β ['N', 'C']. */
  readonly outputs?: Readonly<Record<X, readonly Dim[]>>;
  readonly kernels: Kernels<P, O | B, X>;
  /** The same formulas from tfjs primitives (./<name>/composed.ts: only `import type` of tfjs there). */
  readonly composed?: ComposedForms<P, X>;
  readonly layer: {
    readonly className: string;
    /** Layer config options and host-layer constructor arguments after the width, in order, with defaults. */
    readonly args: readonly LayerArg[];
  };
  readonly bench: {
    /** Bytes the op must move per element and per channel (bytesMoved, the copy roofline). */
    readonly bytes: { readonly forward: readonly [number, number]; readonly backward: readonly [number, number] };
    /** Options of the timed calls ({ training: true }) and the smallest N they take. */
    readonly options?: Partial<O>;
    /** The timed backward's, where they differ from `options` (ACON-FReLU: eval forward, training backward). */
    readonly backwardOptions?: Partial<O>;
    readonly minBatch?: number;
    /** Rows of the tfjs family. */
    readonly tfjs: readonly ('forward' | 'backward')[];
  };
}

/** A layer argument (Meta-ACON's r, ACON-FReLU's stride): params.ts's checkLayerArg checks its values. */
export interface LayerArg {
  readonly name: string;
  readonly default: number;
  /** What it is, in the layers' messages: 'the reduction of the hidden width'. */
  readonly description?: string;
  /** The values it may take, where not every positive integer (ACON-FReLU's stride: 1, 2). */
  readonly values?: readonly number[];
}

/** Any declaration. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: each declaration's own types
export type AnyActivation = Activation<string, ParamTree, any, any, string>;

/** A count of values per channel, named as messages say it: 'N·Ho·Wo'. */
export interface BatchCount {
  readonly name: string;
  readonly of: (shape: Shape4, options: Readonly<Record<string, unknown>>) => number;
}

/** What a training call of `act` on x's logical `shape` normalises over per channel: N, or its batchCount. */
export function batchCountOf(
  act: { readonly batchCount?: BatchCount },
  shape: Shape4,
  options: Readonly<Record<string, unknown>>,
): { name: string; count: number } {
  return act.batchCount
    ? { name: act.batchCount.name, count: act.batchCount.of(shape, options) }
    : { name: 'N', count: shape[0] };
}

/** Keeps the literal types (name, roles, outputs, args) that the derived method and tree types read. */
export const activation = <const A extends AnyActivation>(a: A): A => a;

/** The activation's options: O for the host-array forms, B for the GPU-resident ones (see {@link OptionsDecl}). */
export const options = <O extends object, B extends object = O>(
  check: (options: O | B, form: Form) => void,
): OptionsDecl<O, B> => ({ check });

// ---- types derived from a declaration -------------------------------------------------------------

type ParamsTree<A> = A extends { params: infer P } ? P : never;
type Flatten<T> = { [K in keyof T]: T[K] };

/** The parameters as host arrays (T = Float32Array) or GPU buffers (T = GPUBuffer). */
export type ParamsOf<A, T = Float32Array> = Leaves<ParamsTree<A>, T>;
/** The gradients of a tree: dx for the input, then one per trainable parameter under its own key. */
export type GradTree<P, T> = Flatten<{ dx: T } & OfRole<P, 'trainable', T>>;
/** The gradients as host arrays or GPU buffers. */
export type GradsOf<A, T = Float32Array> = GradTree<ParamsTree<A>, T>;
/** The running statistics (the host forward returns them after a call). */
export type RunningOf<A, T = Float32Array> = OfRole<ParamsTree<A>, 'running', T>;
type OutputNames<A> = A extends { outputs?: infer R }
  ? R extends Readonly<Record<infer X, unknown>>
    ? X & string
    : never
  : never;
type OptionTypes<A> = A extends { options: OptionsDecl<infer O, infer B> }
  ? { host: O; buffers: B }
  : { host: object; buffers: object };

/** The host-array forms' options. */
export type HostOptionsOf<A> = OptionTypes<A>['host'] & { dataFormat?: DataFormat };
/** The GPU-resident forms' options: also a perSample parameter's length (`betaLength`: C or N·C). */
export type BuffersOptionsOf<A> = OptionTypes<A>['buffers'] & { dataFormat?: DataFormat } & {
  [K in PerSampleKeys<ParamsTree<A>> as `${K & string}Length`]?: number;
};
type PerSampleKeys<P> = { [K in keyof P]: P[K] extends { perSample: true } ? K : never }[keyof P];

/** The names of the layer arguments (Meta's 'r'): host-layer constructor arguments, tf.layers config keys. */
export type ArgNames<A> = A extends { layer: { args: readonly (infer L)[] } }
  ? L extends { name: infer K extends string }
    ? K
    : never
  : never;
/** The option names of the derived dims (Meta's 'hidden'), also the layers' properties. */
export type DimNames<A> = A extends { dims: infer D }
  ? { [K in keyof D]: D[K] extends { name: infer M extends string } ? M : never }[keyof D]
  : never;

/** The intermediates of a debug call (the activation's own names). */
export type Intermediates = Record<string, Float32Array>;
type Debug<A> = 'debug' extends keyof OptionTypes<A>['host'] ? { intermediates?: Intermediates } : unknown;
type IsEmpty<T> = keyof T extends never ? true : false;

/**
 * What the host forward returns: y alone, or with the declared outputs and the running statistics
 * (Meta: { y, beta, bn1: { runningMean, runningVar }, bn2 }).
 */
export type ForwardResultOf<A> = [OutputNames<A>] extends [never]
  ? IsEmpty<RunningOf<A>> extends true
    ? Float32Array
    : Flatten<{ y: Float32Array } & RunningOf<A> & Debug<A>>
  : Flatten<{ y: Float32Array } & { [K in OutputNames<A>]: Float32Array } & RunningOf<A> & Debug<A>>;
/** What the host backward returns. */
export type BackwardResultOf<A> = Flatten<GradsOf<A> & Debug<A>>;

/** The GPU-resident forward's buffers: x and the parameters in, y out (training moves running statistics in place). */
export interface ForwardBuffersOf<A> {
  x: GPUBuffer;
  params: ParamsOf<A, GPUBuffer>;
  y: GPUBuffer;
}
/** The GPU-resident backward's buffers: x, dy and the parameters in, every gradient out. */
export interface BackwardBuffersOf<A> {
  x: GPUBuffer;
  dy: GPUBuffer;
  params: ParamsOf<A, GPUBuffer>;
  grads: GradsOf<A, GPUBuffer>;
}
