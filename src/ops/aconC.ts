import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { BufferError } from '../gpu/errors';
import { encodeAconCBackward, encodeAconCForward, type AconCGeometry } from '../kernels/aconC';
import {
  betaIsPerSample,
  checkFits,
  checkFloat32,
  checkGPUBuffer,
  checkLayout,
  checkShape,
  type Layout,
  type Shape4,
} from './validate';

/** ACON-C parameters: p1, p2 of length C; β of length C, or N·C for a per-sample β (Meta-ACON). */
export interface AconCParams {
  p1: Float32Array;
  p2: Float32Array;
  beta: Float32Array;
}

export interface AconCGrads {
  /** [N, C, H, W] in the input's layout. */
  dx: Float32Array;
  /** [C]: Σ over N, H, W of dy·∂y/∂p1. */
  dp1: Float32Array;
  /** [C]: Σ over N, H, W of dy·∂y/∂p2. */
  dp2: Float32Array;
  /** [C] (Σ over N, H, W), or [N·C] for a per-sample β (Σ over H, W). */
  dbeta: Float32Array;
}

export interface AconCOptions {
  /** Memory layout of x, y, dy and dx (default 'NCHW'). */
  layout?: Layout;
}

/** GPU-resident inputs and output of the forward pass, all on the context's device. */
export interface AconCForwardGPUBuffers {
  x: GPUBuffer;
  p1: GPUBuffer;
  p2: GPUBuffer;
  beta: GPUBuffer;
  /** Output; must not be one of the inputs. */
  y: GPUBuffer;
}

/** GPU-resident inputs and outputs of the backward pass. */
export interface AconCBackwardGPUBuffers {
  x: GPUBuffer;
  dy: GPUBuffer;
  p1: GPUBuffer;
  p2: GPUBuffer;
  beta: GPUBuffer;
  dx: GPUBuffer;
  dp1: GPUBuffer;
  dp2: GPUBuffer;
  dbeta: GPUBuffer;
}

interface Call {
  geo: AconCGeometry;
  count: number;
  betaLength: number;
}

/** Validates shape, layout, parameter lengths and size limits; returns the geometry. */
function prepare(ctx: GpuContext, shape: Shape4, betaLength: number, options: AconCOptions): Call {
  ctx.assertUsable();
  const count = checkShape(shape);
  const layout = checkLayout(options.layout ?? 'NCHW');
  const [n, c, h, w] = shape;
  const betaPerSample = betaIsPerSample(betaLength, n, c) && n > 1;
  checkFits(count * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  return { geo: { n, c, h, w, layout, betaPerSample }, count, betaLength };
}

function checkParams(p: AconCParams, call: Call): void {
  checkFloat32(p.p1, call.geo.c, 'p1');
  checkFloat32(p.p2, call.geo.c, 'p2');
  checkFloat32(p.beta, call.betaLength, 'beta');
}

const bind = (buffer: GPUBuffer, bytes: number): Binding => ({ buffer, size: bytes });

/** Outputs must be distinct from every other buffer of the call (WebGPU forbids aliasing a written binding). */
function checkDistinct(outputs: Record<string, GPUBuffer>, all: Record<string, GPUBuffer>): void {
  for (const [oname, o] of Object.entries(outputs)) {
    for (const [name, b] of Object.entries(all)) {
      if (name !== oname && b === o) {
        throw new BufferError(`output ${oname} is the same GPUBuffer as ${name}`, 'a buffer of its own', `the buffer of ${name}`);
      }
    }
  }
}

/** Runs `fn` with pooled buffers and gives them back afterwards, whatever happens. */
async function withBuffers<T>(ctx: GpuContext, buffers: GPUBuffer[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const b of buffers) ctx.pool.release(b);
  }
}

/**
 * y = ACON-C(x) for host data: x is a Float32Array of shape [N, C, H, W] in `options.layout`
 * (NCHW by default); returns y with the same shape and layout.
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
  const [xb, p1, p2, beta] = [x, params.p1, params.p2, params.beta].map((a) => ctx.upload(a)) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
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
  const [dx, dp1, dp2, dbeta] = [bytes, c4, c4, b4].map((n) => ctx.pool.acquire(n, usage, 'acon-output')) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
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
    const [rdx, rdp1, rdp2, rdbeta] = out.map((a) => new Float32Array(a)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    return { dx: rdx, dp1: rdp1, dp2: rdp2, dbeta: rdbeta };
  });
}

/** Validates a GPU-resident forward call; returns its geometry and bindings. */
function forwardCall(ctx: GpuContext, buffers: AconCForwardGPUBuffers, shape: Shape4, options: AconCOptions & { betaLength?: number }) {
  const c = Array.isArray(shape) ? (shape[1] as number) : 0;
  const call = prepare(ctx, shape, options.betaLength ?? c, options);
  const bytes = call.count * 4;
  const { x, p1, p2, beta, y } = buffers;
  checkGPUBuffer(x, bytes, 'x');
  checkGPUBuffer(p1, c * 4, 'p1');
  checkGPUBuffer(p2, c * 4, 'p2');
  checkGPUBuffer(beta, call.betaLength * 4, 'beta');
  checkGPUBuffer(y, bytes, 'y');
  checkDistinct({ y }, { ...buffers });
  const bound = { x: bind(x, bytes), p1: bind(p1, c * 4), p2: bind(p2, c * 4), beta: bind(beta, call.betaLength * 4), y: bind(y, bytes) };
  return { geo: call.geo, bound };
}

/** Validates a GPU-resident backward call; returns its geometry and bindings. */
function backwardCall(ctx: GpuContext, buffers: AconCBackwardGPUBuffers, shape: Shape4, options: AconCOptions & { betaLength?: number }) {
  const c = Array.isArray(shape) ? (shape[1] as number) : 0;
  const call = prepare(ctx, shape, options.betaLength ?? c, options);
  const bytes = call.count * 4;
  const pb = c * 4;
  const bb = call.betaLength * 4;
  const sizes: Record<keyof AconCBackwardGPUBuffers, number> = {
    x: bytes,
    dy: bytes,
    p1: pb,
    p2: pb,
    beta: bb,
    dx: bytes,
    dp1: pb,
    dp2: pb,
    dbeta: bb,
  };
  for (const [name, size] of Object.entries(sizes)) {
    checkGPUBuffer(buffers[name as keyof AconCBackwardGPUBuffers], size, name);
  }
  const { dx, dp1, dp2, dbeta } = buffers;
  checkDistinct({ dx, dp1, dp2, dbeta }, { ...buffers });
  const bound = Object.fromEntries(
    Object.entries(sizes).map(([name, size]) => [name, bind(buffers[name as keyof AconCBackwardGPUBuffers], size)]),
  ) as Record<keyof AconCBackwardGPUBuffers, Binding>;
  return { geo: call.geo, bound };
}

/**
 * Records y = ACON-C(x) on GPU-resident data into `recorder` (see {@link aconCForwardGPU} for the
 * buffer rules). Validates synchronously and throws the library's typed errors before recording
 * anything; nothing is submitted.
 */
export function recordAconCForward(
  ctx: GpuContext,
  recorder: Recorder,
  buffers: AconCForwardGPUBuffers,
  shape: Shape4,
  options: AconCOptions & { betaLength?: number } = {},
): void {
  const { geo, bound } = forwardCall(ctx, buffers, shape, options);
  encodeAconCForward(ctx, recorder, geo, bound);
}

/** Records the ACON-C gradients on GPU-resident data into `recorder` (see {@link aconCBackwardGPU}). */
export function recordAconCBackward(
  ctx: GpuContext,
  recorder: Recorder,
  buffers: AconCBackwardGPUBuffers,
  shape: Shape4,
  options: AconCOptions & { betaLength?: number } = {},
): void {
  const { geo, bound } = backwardCall(ctx, buffers, shape, options);
  encodeAconCBackward(ctx, recorder, geo, bound);
}

/**
 * y = ACON-C(x) on GPU-resident data: every buffer is the caller's, on the context's device, with
 * STORAGE usage; x and y hold N·C·H·W float32 values, p1/p2 C, β C or N·C. Nothing is read back.
 * The work is queued before this returns; the promise settles once WebGPU has validated it.
 */
export async function aconCForwardGPU(
  ctx: GpuContext,
  buffers: AconCForwardGPUBuffers,
  shape: Shape4,
  options: AconCOptions & { betaLength?: number } = {},
): Promise<void> {
  const { geo, bound } = forwardCall(ctx, buffers, shape, options);
  return ctx.submit((b) => encodeAconCForward(ctx, b, geo, bound));
}

/**
 * ACON-C gradients on GPU-resident data (see {@link aconCForwardGPU} for the buffer rules):
 * dx gets N·C·H·W values, dp1/dp2 C, dβ as many as β. Nothing is read back.
 */
export async function aconCBackwardGPU(
  ctx: GpuContext,
  buffers: AconCBackwardGPUBuffers,
  shape: Shape4,
  options: AconCOptions & { betaLength?: number } = {},
): Promise<void> {
  const { geo, bound } = backwardCall(ctx, buffers, shape, options);
  return ctx.submit((b) => encodeAconCBackward(ctx, b, geo, bound));
}
