// The three call forms, for any declared activation (src/activations/types.ts): host arrays (upload,
// submit, read back, release), GPU-resident buffers submitted by the library, and recording into a
// recorder of the caller's (an encoder, tfjs's stream). Each validates synchronously, throwing the
// library's typed errors before anything is allocated or recorded, in one order for every activation:
//   usable context → the activation's options (OptionError: Meta's training) → shape (ShapeError,
//   EmptyTensorError) → dataFormat → perSample lengths (ShapeError "C = 3 or N·C = 6") → binding
//   limit (LimitError) → batch statistics (BatchSizeError) → host: x, dy, then the parameters
//   (DTypeError, LengthError), reading derived dims off them; buffers: derived dims from the options
//   (OptionError) → the kernels' limits (LimitError) → host: uploads; buffers: x, dy, params, y or
//   grads (BufferError), and that nothing written aliases anything else of the call.
// What is per activation (leaf lists, names in messages) is computed once per declaration.
import type { GpuContext, Recorder } from '../gpu/context';
import { BatchSizeError, OptionError } from '../gpu/errors';
import type { Shape4 } from '../core/types';
import { buildTree, paramLeaves, readLeaf, sizeOf, type Leaf } from '../activations/params';
import type {
  AnyActivation,
  BackwardBuffersOf,
  BackwardResultOf,
  BuffersOptionsOf,
  Dim,
  DimDecl,
  Form,
  ForwardBuffersOf,
  ForwardResultOf,
  HostOptionsOf,
  KernelCall,
  NamedBuffer,
  ParamsOf,
} from '../activations/types';
import { batchCountOf } from '../activations/types';
import {
  betaIsPerSample,
  checkDataFormat,
  checkDistinct,
  checkFits,
  checkFloat32,
  checkGPUBuffer,
  checkShape,
} from './validate';

/** A parameter with the names errors give it. */
interface Param extends Leaf {
  /** 'params.bn1.running_mean' */
  readonly inParams: string;
  /** 'grads.fc1.weight' */
  readonly inGrads: string;
  /** A perSample parameter's length option in the GPU-resident forms: 'betaLength'. */
  readonly lengthOption: string;
}

/** What the forms need of a declaration, computed once. */
interface Spec {
  readonly leaves: readonly Param[];
  readonly trainable: readonly Param[];
  /** The running statistics and their indices among the leaves. */
  readonly running: readonly Param[];
  readonly runningAt: readonly number[];
  readonly perSample: readonly Param[];
  readonly dims: readonly { dim: string; decl: DimDecl; from: Leaf }[];
  readonly outputs: readonly (readonly [string, readonly Dim[]])[];
  /** Neither outputs nor running statistics: the host forward returns y alone (and takes no debug). */
  readonly plain: boolean;
  /** Every buffer of a GPU-resident call as errors name it, in checking order; the written ones' indices. */
  readonly forwardNames: readonly string[];
  readonly backwardNames: readonly string[];
  readonly written: { forward: readonly number[]; training: readonly number[]; backward: readonly number[] };
}

const specs = new WeakMap<AnyActivation, Spec>();

function spec(act: AnyActivation): Spec {
  let s = specs.get(act);
  if (s) return s;
  const leaves: Param[] = paramLeaves(act.params).map((l) => ({
    ...l,
    inParams: `params.${l.name}`,
    inGrads: `grads.${l.name}`,
    lengthOption: `${l.path[l.path.length - 1]}Length`,
  }));
  const perSample = leaves.filter((l) => l.decl.perSample);
  // a per-sample parameter is a channel vector: its lengths are C or N·C (betaIsPerSample's words)
  for (const l of perSample)
    if (l.decl.shape.length !== 1 || l.decl.shape[0] !== 'C')
      throw new Error(`${act.name}: ${l.name} is perSample but not [C]`);
  const running = leaves.filter((l) => l.decl.role === 'running');
  const trainable = leaves.filter((l) => l.decl.role === 'trainable');
  const all = leaves.map((l) => l.inParams);
  const forwardNames = ['x', ...all, 'y'];
  const y = forwardNames.length - 1;
  s = {
    leaves,
    trainable,
    running,
    runningAt: running.map((l) => leaves.indexOf(l)),
    perSample,
    dims: Object.entries(act.dims ?? {}).map(([dim, decl]) => ({
      dim,
      decl,
      from: leaves.find((l) => l.name === decl.readFrom)!,
    })),
    outputs: Object.entries(act.outputs ?? {}),
    plain: !act.outputs && running.length === 0,
    forwardNames,
    backwardNames: ['x', 'dy', ...all, 'grads.dx', ...trainable.map((l) => l.inGrads)],
    written: {
      forward: [y],
      training: [y, ...running.map((l) => 1 + leaves.indexOf(l))],
      backward: [-1, ...trainable.map((_, i) => i)].map((i) => 3 + all.length + i),
    },
  };
  specs.set(act, s);
  return s;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each declaration's own option types
type Options = Record<string, any>;
const NO_OPTIONS: Options = {};
const NOT_PER_SAMPLE: Readonly<Record<string, boolean>> = {};
const RW = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** The checks every form makes first (see the file's comment); returns the call as the kernels take it. */
function prepare(
  ctx: GpuContext,
  act: AnyActivation,
  s: Spec,
  shape: Shape4,
  options: Options,
  form: Form,
  params: unknown,
): KernelCall {
  ctx.assertUsable();
  act.options?.check(options, form);
  const count = checkShape(shape);
  const dataFormat = checkDataFormat(options.dataFormat ?? 'NCHW');
  const [n, c, h, w] = shape;
  let perSample = NOT_PER_SAMPLE;
  if (s.perSample.length) {
    const p: Record<string, boolean> = {};
    for (const l of s.perSample) {
      // host arrays tell it by their length; the GPU-resident forms by an option (betaLength), C by default
      const length = form === 'host' ? lengthOf(readLeaf(params, l), -1) : (options[l.lengthOption] ?? c);
      p[l.name] = betaIsPerSample(length, n, c, l.name) && n > 1;
    }
    perSample = p;
  }
  checkFits(count * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  if (act.batchStatistics && options.training) {
    const b = batchCountOf(act, shape, options);
    if (b.count < 2)
      throw new BatchSizeError(act.batchStatistics, `${b.name} ≥ 2 in training mode`, `${b.name} = ${b.count}`);
  }
  return { ctx, geo: { n, c, h, w, dataFormat }, dims: { N: n, C: c }, perSample, options, form };
}

const elements = ({ n, c, h, w }: { n: number; c: number; h: number; w: number }) => n * c * h * w;
/** Elements of y (and dy): x's, or the declaration's output shape's (ACON-FReLU's stride 2). */
const outElements = (act: AnyActivation, k: KernelCall, shape: Shape4, options: Options) =>
  act.outShape ? act.outShape(shape, options).reduce((a, b) => a * b, 1) : elements(k.geo);
/** Elements of a parameter (or its gradient) in this call: N·C for a per-sample one. */
const lengthIn = (k: KernelCall, p: Leaf) => sizeOf(p.decl.shape, k.dims) * (k.perSample[p.name] ? k.geo.n : 1);
const lengthOf = (v: unknown, otherwise: number): number => (v as { length?: number } | undefined)?.length ?? otherwise;
const f32 = (a: ArrayBuffer) => new Float32Array(a);

/** Host arrays: the derived dims read off them (Meta's R = fc1.bias.length), then every leaf's type and length. */
function checkHostParams(s: Spec, k: KernelCall, params: unknown): void {
  for (const d of s.dims) k.dims[d.dim] = lengthOf(readLeaf(params, d.from), 0);
  for (const p of s.leaves) checkFloat32(readLeaf(params, p), lengthIn(k, p), p.name);
}

/** Runs `fn` and gives the pooled buffers back afterwards, whatever happens. */
async function withBuffers<T>(ctx: GpuContext, buffers: GPUBuffer[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const b of buffers) ctx.pool.release(b);
  }
}

/** Reads named buffers back (debug) after the batch that wrote them. */
async function readNamed(ctx: GpuContext, named: NamedBuffer[]): Promise<Record<string, Float32Array>> {
  const res = await ctx.read(named.map(([, buffer, bytes]) => ({ buffer, bytes })));
  return Object.fromEntries(named.map(([name], i) => [name, f32(res[i]!)]));
}

/**
 * y = act(x) for host data: x is a Float32Array of shape [N, C, H, W] in `options.dataFormat` (NCHW by
 * default). Returns y, or { y, ...outputs, ...running statistics after the call } (and the
 * intermediates of a debug call) where the activation has outputs or running statistics.
 */
export function hostForward<A extends AnyActivation>(
  ctx: GpuContext,
  act: A,
  x: Float32Array,
  shape: Shape4,
  params: ParamsOf<A>,
  options?: HostOptionsOf<A>,
): Promise<ForwardResultOf<A>> {
  return hostForwardAny(ctx, act, x, shape, params, options ?? NO_OPTIONS) as Promise<ForwardResultOf<A>>;
}

async function hostForwardAny(
  ctx: GpuContext,
  act: AnyActivation,
  x: Float32Array,
  shape: Shape4,
  params: unknown,
  options: Options,
): Promise<unknown> {
  const s = spec(act);
  const k = prepare(ctx, act, s, shape, options, 'host', params);
  const bytes = elements(k.geo) * 4;
  const yBytes = outElements(act, k, shape, options) * 4;
  checkFloat32(x, bytes / 4, 'x');
  checkHostParams(s, k, params);
  act.kernels.check?.(k, 'forward');
  if (options.debug && !s.plain) k.debug = [];
  const xb = ctx.upload(x);
  const owned = s.leaves.map((p) => ctx.upload(readLeaf(params, p) as Float32Array));
  const P = buildTree(s.leaves, (_, i) => owned[i]!) as never;
  const y = ctx.pool.acquire(yBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'acon-output');
  // read back: y, the declared outputs (copied out of the recording), the running statistics
  const regions = [{ buffer: y, bytes: yBytes }];
  for (const [, shape] of s.outputs) {
    const n = sizeOf(shape, k.dims) * 4;
    regions.push({ buffer: ctx.pool.acquire(n, RW(), 'acon-output'), bytes: n });
  }
  for (let i = 0; i < s.running.length; i++)
    regions.push({ buffer: owned[s.runningAt[i]!]!, bytes: lengthIn(k, s.running[i]!) * 4 });
  owned.push(xb);
  for (let i = 0; i <= s.outputs.length; i++) owned.push(regions[i]!.buffer);
  return withBuffers(ctx, owned, async () => {
    const done = ctx.submit((batch) => {
      const x = { buffer: xb, size: bytes };
      const produced = act.kernels.forward(batch, k, { x, y: { buffer: y, size: yBytes }, params: P });
      for (let i = 1; i <= s.outputs.length; i++)
        batch.copy(produced[s.outputs[i - 1]![0]]!, regions[i]!.buffer, regions[i]!.bytes);
    });
    const debug = k.debug ? readNamed(ctx, k.debug) : undefined;
    const [res] = await Promise.all([ctx.read(regions), done]);
    if (s.plain) return f32(res[0]!);
    const result: Record<string, unknown> = { y: f32(res[0]!) };
    s.outputs.forEach(([name], i) => (result[name] = f32(res[1 + i]!)));
    buildTree(s.running, (_, i) => f32(res[1 + s.outputs.length + i]!), result);
    if (debug) result.intermediates = await debug;
    return result;
  });
}

/**
 * The gradients for host data, given the upstream gradient dy (y's shape, in x's layout): dx and
 * one per trainable parameter under its own key (and the intermediates of a debug call).
 */
export function hostBackward<A extends AnyActivation>(
  ctx: GpuContext,
  act: A,
  x: Float32Array,
  dy: Float32Array,
  shape: Shape4,
  params: ParamsOf<A>,
  options?: HostOptionsOf<A>,
): Promise<BackwardResultOf<A>> {
  return hostBackwardAny(ctx, act, x, dy, shape, params, options ?? NO_OPTIONS) as Promise<BackwardResultOf<A>>;
}

async function hostBackwardAny(
  ctx: GpuContext,
  act: AnyActivation,
  x: Float32Array,
  dy: Float32Array,
  shape: Shape4,
  params: unknown,
  options: Options,
): Promise<unknown> {
  const s = spec(act);
  const k = prepare(ctx, act, s, shape, options, 'host', params);
  const bytes = elements(k.geo) * 4;
  const yBytes = outElements(act, k, shape, options) * 4;
  checkFloat32(x, bytes / 4, 'x');
  checkFloat32(dy, yBytes / 4, 'dy');
  checkHostParams(s, k, params);
  act.kernels.check?.(k, 'backward');
  if (options.debug && !s.plain) k.debug = [];
  const xb = ctx.upload(x);
  const dyb = ctx.upload(dy);
  const owned = s.leaves.map((p) => ctx.upload(readLeaf(params, p) as Float32Array));
  const P = buildTree(s.leaves, (_, i) => owned[i]!) as never;
  // read back: dx, then each trainable parameter's gradient
  const dx = ctx.pool.acquire(bytes, RW(), 'acon-output');
  const regions = [{ buffer: dx, bytes }];
  for (const p of s.trainable) {
    const n = lengthIn(k, p) * 4;
    regions.push({ buffer: ctx.pool.acquire(n, RW(), 'acon-output'), bytes: n });
  }
  const G = buildTree(s.trainable, (_, i) => regions[1 + i]!.buffer) as never;
  owned.push(xb, dyb);
  for (const r of regions) owned.push(r.buffer);
  return withBuffers(ctx, owned, async () => {
    const done = ctx.submit((batch) =>
      act.kernels.backward(batch, k, {
        x: { buffer: xb, size: bytes },
        dy: { buffer: dyb, size: yBytes },
        dx: { buffer: dx, size: bytes },
        params: P,
        grads: G,
      }),
    );
    const debug = k.debug ? readNamed(ctx, k.debug) : undefined;
    const [res] = await Promise.all([ctx.read(regions), done]);
    const grads: Record<string, unknown> = { dx: f32(res[0]!) };
    buildTree(s.trainable, (_, i) => f32(res[1 + i]!), grads);
    if (debug) grads.intermediates = await debug;
    return grads;
  });
}

/** A tree of buffers must be an object (OptionError naming it). */
function checkObject(act: AnyActivation, tree: unknown, what: 'params' | 'grads'): void {
  if (typeof tree !== 'object' || tree === null)
    throw new OptionError(`${act.title}: ${what} is not an object of GPUBuffers`, 'an object', String(tree));
}

/** A tree of the caller's GPUBuffers: each leaf a live STORAGE buffer of at least its size; appended to `all`. */
function checkTree(tree: unknown, leaves: readonly Param[], inGrads: boolean, k: KernelCall, all: unknown[]): void {
  for (const p of leaves) {
    const b = readLeaf(tree, p);
    checkGPUBuffer(b, lengthIn(k, p) * 4, inGrads ? p.inGrads : p.inParams);
    all.push(b);
  }
}

type ForwardBuffers = ForwardBuffersOf<AnyActivation>;
type BackwardBuffers = BackwardBuffersOf<AnyActivation>;

/** The checks of a GPU-resident call that need no buffers: its shape and options, the kernels' own. */
function buffersKernelCall(
  ctx: GpuContext,
  act: AnyActivation,
  s: Spec,
  shape: Shape4,
  o: Options,
  direction: 'forward' | 'backward',
): KernelCall {
  const k = prepare(ctx, act, s, shape, o, 'buffers', undefined);
  for (const d of s.dims) k.dims[d.dim] = d.decl.of(k.geo.c, o);
  act.kernels.check?.(k, direction);
  return k;
}

/**
 * Makes the checks of a GPU-resident call that need no buffers (throwing typed errors), for a caller
 * that allocates the buffers itself (the tfjs op) before it does.
 */
export function checkBuffersCall(
  ctx: GpuContext,
  act: AnyActivation,
  shape: Shape4,
  options: Options,
  direction: 'forward' | 'backward',
): void {
  buffersKernelCall(ctx, act, spec(act), shape, options, direction);
}

/** Validates a GPU-resident call (throwing typed errors); returns what records it. */
function buffersCall(
  ctx: GpuContext,
  act: AnyActivation,
  b: ForwardBuffers | BackwardBuffers,
  shape: Shape4,
  options: Options | undefined,
  direction: 'forward' | 'backward',
): (rec: Recorder) => void {
  const s = spec(act);
  const o = options ?? NO_OPTIONS;
  const k = buffersKernelCall(ctx, act, s, shape, o, direction);
  const bytes = elements(k.geo) * 4;
  const yBytes = outElements(act, k, shape, o) * 4;
  const x = { buffer: b.x, size: bytes };
  checkGPUBuffer(b.x, bytes, 'x');
  // every buffer of the call, in the order of s.forwardNames / s.backwardNames
  const all: unknown[] = [b.x];
  if (direction === 'forward') {
    const { y, params } = b as ForwardBuffers;
    checkObject(act, params, 'params');
    checkTree(params, s.leaves, false, k, all);
    checkGPUBuffer(y, yBytes, 'y');
    all.push(y);
    checkDistinct(s.forwardNames, all, o.training ? s.written.training : s.written.forward);
    const bound = { x, y: { buffer: y, size: yBytes }, params: params as never };
    return (rec) => void act.kernels.forward(rec, k, bound);
  }
  const { dy, params, grads } = b as BackwardBuffers;
  checkGPUBuffer(dy, yBytes, 'dy');
  all.push(dy);
  checkObject(act, params, 'params');
  checkTree(params, s.leaves, false, k, all);
  checkObject(act, grads, 'grads');
  checkGPUBuffer(grads.dx, bytes, 'grads.dx');
  all.push(grads.dx);
  checkTree(grads, s.trainable, true, k, all);
  checkDistinct(s.backwardNames, all, s.written.backward);
  const bound = { x, dy: { buffer: dy, size: yBytes }, dx: { buffer: grads.dx, size: bytes }, params, grads };
  return (rec) => act.kernels.backward(rec, k, bound as never);
}

/**
 * Records the forward on GPU-resident data into `rec`: every buffer is the caller's, on the context's
 * device, with STORAGE usage. Validates first; submits nothing.
 */
export function recordForward<A extends AnyActivation>(
  ctx: GpuContext,
  act: A,
  rec: Recorder,
  buffers: ForwardBuffersOf<A>,
  shape: Shape4,
  options?: BuffersOptionsOf<A>,
): void {
  buffersCall(ctx, act, buffers as ForwardBuffers, shape, options, 'forward')(rec);
}

/** Records the backward on GPU-resident data into `rec` (see {@link recordForward}). */
export function recordBackward<A extends AnyActivation>(
  ctx: GpuContext,
  act: A,
  rec: Recorder,
  buffers: BackwardBuffersOf<A>,
  shape: Shape4,
  options?: BuffersOptionsOf<A>,
): void {
  buffersCall(ctx, act, buffers as BackwardBuffers, shape, options, 'backward')(rec);
}

/**
 * The forward on GPU-resident data, submitted; nothing is read back. The work is queued before this
 * returns; the promise settles once WebGPU has validated it (and rejects with any typed error).
 */
export async function forwardBuffers<A extends AnyActivation>(
  ctx: GpuContext,
  act: A,
  buffers: ForwardBuffersOf<A>,
  shape: Shape4,
  options?: BuffersOptionsOf<A>,
): Promise<void> {
  return ctx.submit(buffersCall(ctx, act, buffers as ForwardBuffers, shape, options, 'forward'));
}

/** The backward on GPU-resident data, submitted (see {@link forwardBuffers}). */
export async function backwardBuffers<A extends AnyActivation>(
  ctx: GpuContext,
  act: A,
  buffers: BackwardBuffersOf<A>,
  shape: Shape4,
  options?: BuffersOptionsOf<A>,
): Promise<void> {
  return ctx.submit(buffersCall(ctx, act, buffers as BackwardBuffers, shape, options, 'backward'));
}
