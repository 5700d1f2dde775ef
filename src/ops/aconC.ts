import type { Binding, GpuContext, Recorder } from '../gpu/context';
import type { DataFormat, Shape4 } from '../core/types';
import { encodeAconCBackward, encodeAconCForward, type AconCGeometry } from '../activations/aconC/kernels';
import {
  betaIsPerSample,
  checkDistinct,
  checkDataFormat,
  checkFits,
  checkFloat32,
  checkGPUBuffer,
  checkShape,
} from './validate';

/**
 * ACON-C's parameters, PyTorch's names: p1, p2 of length C; β of length C, or N·C for a per-sample β
 * (Meta-ACON). Float32Arrays for the host-array calls, GPUBuffers for the GPU-resident ones.
 */
export interface AconCParams<T = Float32Array> {
  p1: T;
  p2: T;
  beta: T;
}

/**
 * ACON-C's gradients, keyed by what they are the gradient of: dx for the input x (same shape and
 * data format), and p1, p2, beta for the parameters (summed over N, H, W; a per-sample β's over H, W).
 */
export interface AconCGrads<T = Float32Array> {
  dx: T;
  p1: T;
  p2: T;
  beta: T;
}

export interface AconCOptions {
  /** Memory layout of x, y, dy and dx: 'NCHW' (default) or 'NHWC' (tfjs's name and values). */
  dataFormat?: DataFormat;
}

/** Options of the GPU-resident calls: a per-sample β is told by its length (N·C). */
export interface AconCBuffersOptions extends AconCOptions {
  /** Elements of β: C (default) or N·C for a per-sample β. */
  betaLength?: number;
}

/** GPU-resident forward: x and the parameters in, y out (a buffer of its own), all on this device with STORAGE usage. */
export interface AconCForwardBuffers {
  x: GPUBuffer;
  params: AconCParams<GPUBuffer>;
  y: GPUBuffer;
}

/** GPU-resident backward: x, dy and the parameters in, every gradient out. */
export interface AconCBackwardBuffers {
  x: GPUBuffer;
  dy: GPUBuffer;
  params: AconCParams<GPUBuffer>;
  grads: AconCGrads<GPUBuffer>;
}

interface Call {
  geo: AconCGeometry;
  count: number;
  betaLength: number;
}

/** Validates shape, data format, parameter lengths and size limits; returns the geometry. */
function prepare(ctx: GpuContext, shape: Shape4, betaLength: number, options: AconCOptions): Call {
  ctx.assertUsable();
  const count = checkShape(shape);
  const dataFormat = checkDataFormat(options.dataFormat ?? 'NCHW');
  const [n, c, h, w] = shape;
  const betaPerSample = betaIsPerSample(betaLength, n, c) && n > 1;
  checkFits(count * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  return { geo: { n, c, h, w, dataFormat, betaPerSample }, count, betaLength };
}

function checkParams(p: AconCParams, call: Call): void {
  checkFloat32(p.p1, call.geo.c, 'p1');
  checkFloat32(p.p2, call.geo.c, 'p2');
  checkFloat32(p.beta, call.betaLength, 'beta');
}

const bind = (buffer: GPUBuffer, bytes: number): Binding => ({ buffer, size: bytes });

/** Runs `fn` with pooled buffers and gives them back afterwards, whatever happens. */
async function withBuffers<T>(ctx: GpuContext, buffers: GPUBuffer[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const b of buffers) ctx.pool.release(b);
  }
}

/**
 * y = ACON-C(x) for host data: x is a Float32Array of shape [N, C, H, W] in `options.dataFormat`
 * (NCHW by default); returns y with the same shape and data format.
 */
export async function aconCForward(
  ctx: GpuContext,
  x: Float32Array,
  shape: Shape4,
  params: AconCParams,
  options: AconCOptions = {},
): Promise<Float32Array> {
  const call = prepare(ctx, shape, params.beta?.length ?? -1, options);
  checkFloat32(x, call.count, 'x');
  checkParams(params, call);
  const bytes = call.count * 4;
  const [xb, p1, p2, beta] = [x, params.p1, params.p2, params.beta].map((a) => ctx.upload(a)) as [
    GPUBuffer,
    GPUBuffer,
    GPUBuffer,
    GPUBuffer,
  ];
  const y = ctx.pool.acquire(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'acon-output');
  return withBuffers(ctx, [xb, p1, p2, beta, y], async () => {
    const done = ctx.submit((b) =>
      encodeAconCForward(ctx, b, call.geo, { x: bind(xb, bytes), p1, p2, beta, y: bind(y, bytes) }),
    );
    const [out] = await Promise.all([ctx.read([{ buffer: y, bytes }]), done]);
    return new Float32Array(out![0]!);
  });
}

/**
 * Gradients of ACON-C for host data, given the upstream gradient dy (same shape and layout as x).
 * Returns dx and the parameter gradients summed over N, H, W (over H, W for a per-sample β).
 */
export async function aconCBackward(
  ctx: GpuContext,
  x: Float32Array,
  dy: Float32Array,
  shape: Shape4,
  params: AconCParams,
  options: AconCOptions = {},
): Promise<AconCGrads> {
  const call = prepare(ctx, shape, params.beta?.length ?? -1, options);
  checkFloat32(x, call.count, 'x');
  checkFloat32(dy, call.count, 'dy');
  checkParams(params, call);
  const bytes = call.count * 4;
  const c4 = call.geo.c * 4;
  const b4 = call.betaLength * 4;
  const inputs = [x, dy, params.p1, params.p2, params.beta].map((a) => ctx.upload(a));
  const [xb, dyb, p1, p2, beta] = inputs as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const [dx, dp1, dp2, dbeta] = [bytes, c4, c4, b4].map((n) => ctx.pool.acquire(n, usage, 'acon-output')) as [
    GPUBuffer,
    GPUBuffer,
    GPUBuffer,
    GPUBuffer,
  ];
  return withBuffers(ctx, [...inputs, dx, dp1, dp2, dbeta], async () => {
    const done = ctx.submit((b) =>
      encodeAconCBackward(ctx, b, call.geo, {
        x: bind(xb, bytes),
        dy: bind(dyb, bytes),
        p1,
        p2,
        beta,
        dx: bind(dx, bytes),
        dp1,
        dp2,
        dbeta,
      }),
    );
    const [out] = await Promise.all([
      ctx.read([
        { buffer: dx, bytes },
        { buffer: dp1, bytes: c4 },
        { buffer: dp2, bytes: c4 },
        { buffer: dbeta, bytes: b4 },
      ]),
      done,
    ]);
    const [rdx, rp1, rp2, rbeta] = out.map((a) => new Float32Array(a)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    return { dx: rdx, p1: rp1, p2: rp2, beta: rbeta };
  });
}

/** A GPU-resident call's buffers by the kernel's binding name: the buffer, its bytes, and its name in errors. */
type CallBuffers<K extends string> = Record<K, [GPUBuffer | undefined, number, string]>;

/**
 * Checks every buffer of a GPU-resident call (a live STORAGE buffer of at least its size) and that
 * each written one is nothing else of the call; returns the bindings by the kernel's names.
 */
function checkBuffers<K extends string>(all: CallBuffers<K>, written: NoInfer<K>[]): Record<K, Binding> {
  const entries = Object.entries(all) as [K, [GPUBuffer, number, string]][];
  for (const [, [buffer, size, name]] of entries) checkGPUBuffer(buffer, size, name);
  const byName = Object.fromEntries(entries.map(([, [b, , name]]) => [name, b]));
  checkDistinct(Object.fromEntries(written.map((k) => [all[k][2], all[k][0]!])), byName);
  return Object.fromEntries(entries.map(([k, [b, size]]) => [k, bind(b, size)])) as Record<K, Binding>;
}

/** Validates a GPU-resident forward call (throwing typed errors); returns what records it. */
function forwardCall(
  ctx: GpuContext,
  buffers: AconCForwardBuffers,
  shape: Shape4,
  options: AconCBuffersOptions,
): (recorder: Recorder) => void {
  const c = Array.isArray(shape) ? (shape[1] as number) : 0;
  const call = prepare(ctx, shape, options.betaLength ?? c, options);
  const bytes = call.count * 4;
  const { x, y, params: p } = buffers;
  const bound = checkBuffers(
    {
      x: [x, bytes, 'x'],
      p1: [p?.p1, c * 4, 'params.p1'],
      p2: [p?.p2, c * 4, 'params.p2'],
      beta: [p?.beta, call.betaLength * 4, 'params.beta'],
      y: [y, bytes, 'y'],
    },
    ['y'],
  );
  return (recorder) => encodeAconCForward(ctx, recorder, call.geo, bound);
}

/** Validates a GPU-resident backward call (throwing typed errors); returns what records it. */
function backwardCall(
  ctx: GpuContext,
  buffers: AconCBackwardBuffers,
  shape: Shape4,
  options: AconCBuffersOptions,
): (recorder: Recorder) => void {
  const c = Array.isArray(shape) ? (shape[1] as number) : 0;
  const call = prepare(ctx, shape, options.betaLength ?? c, options);
  const bytes = call.count * 4;
  const [pb, bb] = [c * 4, call.betaLength * 4];
  const { x, dy, params: p, grads: g } = buffers;
  // the kernel's names (dp1 … for the gradients) → buffer, size and the name errors give
  const bound = checkBuffers(
    {
      x: [x, bytes, 'x'],
      dy: [dy, bytes, 'dy'],
      p1: [p?.p1, pb, 'params.p1'],
      p2: [p?.p2, pb, 'params.p2'],
      beta: [p?.beta, bb, 'params.beta'],
      dx: [g?.dx, bytes, 'grads.dx'],
      dp1: [g?.p1, pb, 'grads.p1'],
      dp2: [g?.p2, pb, 'grads.p2'],
      dbeta: [g?.beta, bb, 'grads.beta'],
    },
    ['dx', 'dp1', 'dp2', 'dbeta'],
  );
  return (recorder) => encodeAconCBackward(ctx, recorder, call.geo, bound);
}

/**
 * Records y = ACON-C(x) on GPU-resident data into `recorder` (see {@link aconCForwardBuffers} for the
 * buffer rules). Validates synchronously and throws the library's typed errors before recording
 * anything; nothing is submitted.
 */
export function recordAconCForward(
  ctx: GpuContext,
  recorder: Recorder,
  buffers: AconCForwardBuffers,
  shape: Shape4,
  options: AconCBuffersOptions = {},
): void {
  forwardCall(ctx, buffers, shape, options)(recorder);
}

/** Records the ACON-C gradients on GPU-resident data into `recorder` (see {@link aconCBackwardBuffers}). */
export function recordAconCBackward(
  ctx: GpuContext,
  recorder: Recorder,
  buffers: AconCBackwardBuffers,
  shape: Shape4,
  options: AconCBuffersOptions = {},
): void {
  backwardCall(ctx, buffers, shape, options)(recorder);
}

/**
 * y = ACON-C(x) on GPU-resident data: every buffer is the caller's, on the context's device, with
 * STORAGE usage; x and y hold N·C·H·W float32 values, p1/p2 C, β C or N·C. Nothing is read back.
 * The work is queued before this returns; the promise settles once WebGPU has validated it.
 */
export async function aconCForwardBuffers(
  ctx: GpuContext,
  buffers: AconCForwardBuffers,
  shape: Shape4,
  options: AconCBuffersOptions = {},
): Promise<void> {
  return ctx.submit(forwardCall(ctx, buffers, shape, options));
}

/**
 * ACON-C gradients on GPU-resident data (see {@link aconCForwardBuffers} for the buffer rules):
 * grads.dx gets N·C·H·W values, grads.p1/p2 C, grads.beta as many as β. Nothing is read back.
 */
export async function aconCBackwardBuffers(
  ctx: GpuContext,
  buffers: AconCBackwardBuffers,
  shape: Shape4,
  options: AconCBuffersOptions = {},
): Promise<void> {
  return ctx.submit(backwardCall(ctx, buffers, shape, options));
}
