/**
 * The TensorFlow.js op of any declared activation (src/activations/types.ts): differentiable in x and
 * every trainable parameter, channels-last (NHWC) by default as tfjs itself is; `dataFormat: 'NCHW'`
 * takes channels-first tensors. The parameters come as the declaration's tree of tf.Tensors (any shape
 * of the right size; running statistics as tf.Variables, which training calls move).
 *
 * On the `webgpu` backend the op records our WGSL kernels into the backend's own command stream, as
 * tfjs's own kernels are recorded (see ./stream.ts): it reads the input tensors' GPUBuffers and writes
 * into buffers the backend allocates for the outputs (no download, no upload, no copy, no submit of
 * its own). Every input is validated synchronously before any output exists, and bad input throws
 * the library's typed errors from the call. Gradients come from tf.customGrad over x and the
 * trainable parameters in declaration order, with our analytic backward kernels. On any other
 * backend, or with impl 'composed', the declaration's composed form runs (tfjs primitives; tfjs's
 * autodiff gives the gradients). What is per activation is computed once per declaration.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GpuContext } from '../gpu/context';
import { BatchSizeError, DTypeError, EmptyTensorError, OptionError, ShapeError } from '../gpu/errors';
import { checkBuffersCall, recordBackward, recordForward } from '../ops/forms';
import { checkLayerArg, paramLeaves, readLeaf, sizeOf, type Leaf } from '../activations/params';
import type { AnyActivation, ArgNames, ComposedForms, HostOptionsOf, ParamDecl, ParamTree } from '../activations/types';
import { batchCountOf } from '../activations/types';
import type { DataFormat } from '../core/types';
import { checkDataFormat, checkFits } from '../ops/validate';
import { isStreamCompatible, TfjsStream, type WebGPUBackendLike } from './stream';

/** Memory layout of a 4D tensor, named as tf.conv2d names it: 'NHWC' (tfjs's default) or 'NCHW'. */
export type { DataFormat };
/** 'auto': our kernels on the webgpu backend, tfjs primitives elsewhere; 'composed': primitives always. */
export type Impl = 'auto' | 'composed';

type TensorLeaves<P> = {
  -readonly [K in keyof P]: P[K] extends ParamDecl
    ? P[K]['role'] extends 'running'
      ? tf.Variable
      : tf.Tensor
    : TensorLeaves<P[K]>;
};
/** An activation's parameters as tfjs tensors: its declaration's tree; running statistics are tf.Variables. */
export type TensorsOf<A> = A extends { params: infer P } ? TensorLeaves<P> : never;
/** The op's options: dataFormat, impl, and `training` (required) where the activation has a training mode. */
export type TfjsOptionsOf<A> = { dataFormat?: DataFormat; impl?: Impl } & ('training' extends keyof HostOptionsOf<A>
  ? { training: boolean }
  : unknown) & { [K in ArgNames<A>]?: number };
/** The op of activation A: y = act(x), differentiable in x and the trainable parameters. */
export type TfjsOp<A> = (
  x: tf.Tensor,
  params: TensorsOf<A>,
  ...options: object extends TfjsOptionsOf<A> ? [options?: TfjsOptionsOf<A>] : [options: TfjsOptionsOf<A>]
) => tf.Tensor;

/** A 4D tensor's shape (mutable, as tfjs gives it). */
type Shape4 = [number, number, number, number];

const contexts = new WeakMap<GPUDevice, GpuContext>();

/** Our dispatcher on the tfjs webgpu backend's device, or null on any other backend. */
function webgpu(): { backend: WebGPUBackendLike; ctx: GpuContext } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  let ctx = contexts.get(backend.device);
  if (!ctx) {
    // once per device: the backend's fields this face records through (a tfjs upgrade fails here, loudly)
    if (!isStreamCompatible(backend)) {
      throw new Error(
        'acon-webgpu/tfjs: this @tensorflow/tfjs-backend-webgpu is not the 4.x this library records into; use impl: "composed"',
      );
    }
    contexts.set(backend.device, (ctx = GpuContext.fromDevice(backend.device, { checkErrors: false })));
  }
  return { backend, ctx };
}

function checkImpl(i: unknown): Impl {
  if (i !== 'auto' && i !== 'composed')
    throw new OptionError('impl is not a known implementation', '"auto" or "composed"', JSON.stringify(i));
  return i;
}

function checkX(x: tf.Tensor, name = 'x'): Shape4 {
  if (!(x instanceof tf.Tensor)) throw new DTypeError(`${name} must be a tf.Tensor`, 'tf.Tensor', typeof x);
  if (x.rank !== 4)
    throw new ShapeError(`${name} must be a 4D tensor`, 'rank 4', `rank ${x.rank} [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new DTypeError(`${name} must be float32`, 'float32', x.dtype);
  if (x.size === 0)
    throw new EmptyTensorError(
      `${name} is empty: a zero-sized dimension`,
      'every dimension ≥ 1',
      `[${x.shape.join(', ')}]`,
    );
  return x.shape as Shape4;
}

/**
 * Checks a parameter against the input: `size` values, or `perSample` (N·size) where it may be per
 * sample. A channel vector (`shape` given) whose size only fits the other data format says so
 * (channels-first data passed as channels-last, or the reverse).
 */
function checkParam(t: unknown, name: string, size: number, perSample: number, shape?: Shape4, fmt?: DataFormat) {
  if (!(t instanceof tf.Tensor)) throw new DTypeError(`${name} must be a tf.Tensor`, 'tf.Tensor', typeof t);
  if (t.dtype !== 'float32') throw new DTypeError(`${name} must be float32`, 'float32', t.dtype);
  if (t.size !== size && t.size !== perSample) {
    const other = shape && fmt ? (fmt === 'NHWC' ? shape[1] : shape[3]) : undefined;
    const hint =
      other === t.size
        ? ` (the input looks ${fmt === 'NHWC' ? 'channels-first: pass dataFormat "NCHW"' : 'channels-last: pass dataFormat "NHWC"'})`
        : '';
    const input = shape && fmt ? ` [${shape.join(', ')}] as ${fmt}` : '';
    throw new ShapeError(
      `${name} does not fit the input${input}${hint}`,
      `${perSample < 0 ? size : `${size} or ${perSample}`} values`,
      `${t.size} values, shape [${t.shape.join(', ')}]`,
    );
  }
}

/** A parameter as the op sees it. */
interface OpLeaf extends Leaf {
  /** A channel vector ['C']: its size error hints at the other data format. */
  readonly channel: boolean;
  /** A per-sample parameter's length option in the buffers forms ('betaLength'), else null. */
  readonly lengthOption: string | null;
  /** Where its buffer comes from: its index among the customGrad inputs (trainable, from 1) or among the running leaves. */
  readonly input: number;
  readonly running: number;
}

/** What the op needs of a declaration, computed once. */
interface OpSpec {
  readonly act: AnyActivation;
  readonly leaves: readonly OpLeaf[];
  readonly trainable: readonly OpLeaf[];
  readonly running: readonly OpLeaf[];
  /** Derived dims read off a parameter's size (Meta's R = fc1.bias), with their buffers-form option ('hidden'). */
  readonly dims: readonly { dim: string; option: string; from: Leaf }[];
  /** The activation has a training mode (batch statistics, running statistics): `training` is required. */
  readonly training: boolean;
  /** Training needs N ≥ 2: the declaration's reason, the remedy in this face's words; else null. */
  readonly batchMessage: string | null;
  readonly composed: ComposedForms<ParamTree, string> | undefined;
}

const specs = new WeakMap<AnyActivation, OpSpec>();

function opSpec(act: AnyActivation): OpSpec {
  let s = specs.get(act);
  if (s) return s;
  let [t, r] = [0, 0];
  const leaves: OpLeaf[] = paramLeaves(act.params).map((l) => {
    const running = l.decl.role === 'running';
    return {
      ...l,
      channel: l.decl.shape.length === 1 && l.decl.shape[0] === 'C',
      lengthOption: l.decl.perSample ? `${l.path[l.path.length - 1]}Length` : null,
      input: running ? -1 : 1 + t++,
      running: running ? r++ : -1,
    };
  });
  const running = leaves.filter((l) => l.running >= 0);
  s = {
    act,
    leaves,
    trainable: leaves.filter((l) => l.running < 0),
    running,
    dims: Object.entries(act.dims ?? {}).map(([dim, d]) => ({
      dim,
      option: d.name,
      from: leaves.find((l) => l.name === d.readFrom)!,
    })),
    training: act.batchStatistics !== undefined || running.length > 0,
    batchMessage:
      act.batchStatistics === undefined
        ? null
        : `${act.batchStatistics.split('; use ')[0]}; use training: false for a single sample`,
    composed: act.composed as ComposedForms<ParamTree, string> | undefined,
  };
  specs.set(act, s);
  return s;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each activation's own option types
type Options = Record<string, any>;
const NO_OPTIONS: Options = {};
const NONE: readonly never[] = [];

/** The checks of a call in order (see the file's comment), then the composed form or our kernels. */
function call(s: OpSpec, x: tf.Tensor, params: unknown, options: Options | undefined): tf.Tensor {
  const act = s.act;
  const o = options ?? NO_OPTIONS;
  let training = false;
  if (s.training) {
    if (typeof o.training !== 'boolean')
      throw new OptionError(
        `${act.name}: options.training is required (batch or running statistics)`,
        'true or false',
        String(o.training),
      );
    training = o.training;
  }
  // the layer arguments (ACON-FReLU's stride), at their defaults when absent, checked as the layers check them
  const args: Record<string, number> = {};
  for (const a of act.layer.args) args[a.name] = checkLayerArg(act.name, a, o[a.name] ?? a.default);
  act.options?.check({ training, ...args }, 'buffers');
  const fmt = checkDataFormat(o.dataFormat ?? 'NHWC');
  const shape = checkX(x);
  const n = shape[0];
  const c = fmt === 'NCHW' ? shape[1] : shape[3];
  const dims: Record<string, number> = { N: n, C: c };
  for (const d of s.dims) {
    // read off the parameter that has exactly this dim (Meta's R: fc1.bias), which must be a tensor
    const t = readLeaf(params, d.from);
    if (!(t instanceof tf.Tensor)) checkParam(t, d.from.name, 0, -1);
    dims[d.dim] = (t as tf.Tensor).size;
  }
  for (const l of s.leaves) {
    const size = sizeOf(l.decl.shape, dims);
    const t = readLeaf(params, l);
    checkParam(t, l.name, size, l.lengthOption ? n * size : -1, l.channel ? shape : undefined, fmt);
    if (training && l.running >= 0 && !(t instanceof tf.Variable))
      throw new DTypeError(`${l.name} must be a tf.Variable (training moves it)`, 'tf.Variable', 'tf.Tensor');
  }
  if (training && s.batchMessage) {
    const b = batchCountOf(act, fmt === 'NCHW' ? shape : [n, c, shape[1], shape[2]], { training, ...args });
    if (b.count < 2)
      throw new BatchSizeError(s.batchMessage, `${b.name} ≥ 2 in training mode`, `${b.name} = ${b.count}`);
  }
  const gpu = checkImpl(o.impl ?? 'auto') === 'composed' ? null : webgpu();
  if (!gpu) {
    const composed = s.composed;
    if (!composed) throw new Error(`${act.title} has no composed form: it runs on the webgpu backend only`);
    const co = { dataFormat: fmt, training, updateRunning: training, dims, args };
    return tf.tidy(() => composed.y(tf, x, params as never, co));
  }
  const { backend, ctx } = gpu;
  checkFits(x.size * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  return fused(s, backend, ctx, x, params, shape, fmt, training, dims, args);
}

/** Our kernels in the backend's stream, under tf.customGrad. */
function fused(
  s: OpSpec,
  backend: WebGPUBackendLike,
  ctx: GpuContext,
  x: tf.Tensor,
  params: unknown,
  shape: Shape4,
  fmt: DataFormat,
  training: boolean,
  dims: Record<string, number>,
  args: Record<string, number>,
): tf.Tensor {
  const act = s.act;
  // the kernels' logical [N, C, H, W] and the buffers forms' options (derived dims, per-sample lengths)
  const ours: Shape4 = fmt === 'NCHW' ? shape : [shape[0], shape[3], shape[1], shape[2]];
  const opts: Options = { ...args, dataFormat: fmt };
  // y's shape in the tensor's layout (ACON-FReLU's stride 2 halves H and W)
  const [n, c, ho, wo] = act.outShape ? act.outShape(ours, opts) : ours;
  const yShape: Shape4 = fmt === 'NCHW' ? [n, c, ho, wo] : [n, ho, wo, c];
  if (s.training) opts.training = training;
  for (const d of s.dims) opts[d.option] = dims[d.dim];
  for (const l of s.leaves) if (l.lengthOption) opts[l.lengthOption] = (readLeaf(params, l) as tf.Tensor).size;
  const running = s.running.length ? s.running.map((l) => readLeaf(params, l) as tf.Variable) : NONE;
  const inputs: tf.Tensor[] = [x];
  for (const l of s.trainable) inputs.push(readLeaf(params, l) as tf.Tensor);
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ins = args as tf.Tensor[];
    save(ins);
    // the kernels' checks (their limits) before any output is allocated
    checkBuffersCall(ctx, act, ours, opts, 'forward');
    const stream = new TfjsStream(backend);
    const bufs = ins.map((t) => stream.bufferOf(t));
    const current = running.length ? running.map((v) => stream.bufferOf(v)) : NONE;
    // training moves the running statistics: into fresh tensors (copies of the current ones) that
    // the forward updates in place and the Variables then take; eval only reads the current ones
    const fresh = training && running.length ? running.map((v) => stream.output(v.shape)) : null;
    const y = stream.output(yShape);
    if (fresh) running.forEach((v, i) => stream.copy(current[i]!, fresh[i]!.buffer, v.size * 4));
    const stats = fresh ? fresh.map((f) => f.buffer) : current;
    recordForward(
      ctx,
      act,
      stream,
      { x: bufs[0]!, params: bufferTree(s.leaves, bufs, stats), y: y.buffer },
      ours,
      opts,
    );
    stream.end();
    if (fresh) {
      const moved = fresh.map((f) => f.tensor());
      running.forEach((v, i) => v.assign(moved[i]!));
      tf.dispose(moved);
    }
    return {
      value: y.tensor(),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        // the saved inputs: tfjs keeps them alive until the backward has run
        const g = Array.isArray(dy) ? dy[0]! : dy;
        checkBuffersCall(ctx, act, ours, opts, 'backward');
        const stream = new TfjsStream(backend);
        const bufs = saved.map((t) => stream.bufferOf(t));
        // the backward reads running statistics only in eval mode and never writes them
        const stats = running.length ? running.map((v) => stream.bufferOf(v)) : NONE;
        const gb = stream.bufferOf(g);
        const out = saved.map((t) => stream.output(t.shape));
        // dx, then each trainable parameter's gradient under its own key
        const grads = bufferTree(
          s.trainable,
          out.map((o) => o.buffer),
          NONE,
          { dx: out[0]!.buffer },
        );
        const buffers = { x: bufs[0]!, dy: gb, params: bufferTree(s.leaves, bufs, stats), grads };
        recordBackward(ctx, act, stream, buffers, ours, opts);
        stream.end();
        return out.map((o) => o.tensor());
      },
    };
  });
  return op(...inputs);
}

/**
 * A tree of buffers at the leaves' places (after the keys of `root`): a trainable leaf's from `bufs`
 * (by its customGrad input), a running one's from `stats`.
 */
function bufferTree(
  leaves: readonly OpLeaf[],
  bufs: readonly GPUBuffer[],
  stats: readonly GPUBuffer[],
  root: Record<string, unknown> = {},
): never {
  for (const l of leaves) {
    const path = l.path;
    const last = path.length - 1;
    let node = root;
    for (let k = 0; k < last; k++) node = (node[path[k]!] ??= {}) as Record<string, unknown>;
    node[path[last]!] = l.running >= 0 ? stats[l.running] : bufs[l.input];
  }
  return root as never;
}

const ops = new WeakMap<AnyActivation, TfjsOp<AnyActivation>>();

/** The tfjs op of a declaration (made once per declaration). */
export function tfjsOp<A extends AnyActivation>(act: A): TfjsOp<A> {
  let op = ops.get(act);
  if (!op) {
    const s = opSpec(act);
    op = (x, params, options?: Options) => call(s, x, params, options);
    ops.set(act, op);
  }
  return op as unknown as TfjsOp<A>;
}
