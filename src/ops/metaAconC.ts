import type { GpuContext, Recorder } from '../gpu/context';
import { BatchSizeError, OptionError } from '../gpu/errors';
import type { DataFormat, Shape4 } from '../core/types';
import type { AconCGeometry } from '../activations/aconC/kernels';
import {
  checkGeneratorLoops,
  encodeMetaBackward,
  encodeMetaForward,
  tempSizes,
  type GeneratorTemps,
  type NamedBuffer,
} from '../activations/metaAconC/kernels';
import {
  gradSizes,
  metaHiddenWidth,
  paramSizes,
  type MetaGradSet,
  type MetaParamSet,
} from '../activations/metaAconC/params';
import { leaves, mapSet, namedLeaves } from '../activations/params';
import { checkDataFormat, checkDistinct, checkFits, checkFloat32, checkGPUBuffer, checkShape } from './validate';

// The batch-norm constants are the kernels' (the reference keeps its own copies, checked equal in a test).
export { BN_EPS, BN_MOMENTUM } from '../kernels/batchnorm';

/**
 * Meta-ACON-C's parameters, PyTorch's state-dict names: p1, p2 [C]; fc1 {weight [R, C], bias [R]};
 * bn1 {weight, bias, runningMean, runningVar} [R]; fc2 {weight [C, R], bias [C]}; bn2 [C] likewise.
 */
export type MetaAconCParams<T = Float32Array> = MetaParamSet<T>;
/** Meta-ACON-C's gradients: dx for the input, the rest keyed as the parameters (batch norms: weight and bias). */
export type MetaAconCGrads<T = Float32Array> = MetaGradSet<T> & { intermediates?: MetaIntermediates };
export type BatchNormState = MetaAconCParams['bn1'];

export interface MetaAconCOptions {
  /** Training mode: batch statistics (N ≥ 2) and running-statistics update; else eval mode. */
  training: boolean;
  /** Memory layout of x, y, dy and dx: 'NCHW' (default) or 'NHWC'. */
  dataFormat?: DataFormat;
  /**
   * Also return every intermediate of the β generator (and of its backward) as host arrays, for
   * checking each kernel on its actual inputs. Costs read-back; off by default.
   */
  debug?: boolean;
}

/** Intermediates by name (m, h1, a1, saved1, h2, saved2, beta; backward adds gbeta, gh2, ga1, gh1, gm, dxDirect). */
export type MetaIntermediates = Record<string, Float32Array>;

export interface MetaAconCForwardResult {
  /** [N, C, H, W] in the input's layout. */
  y: Float32Array;
  /** [N·C]: the β the generator produced. */
  beta: Float32Array;
  /** Running statistics after this call (moved in training mode, unchanged in eval mode). */
  bn1: { runningMean: Float32Array; runningVar: Float32Array };
  bn2: { runningMean: Float32Array; runningVar: Float32Array };
  intermediates?: MetaIntermediates;
}

/** Checks every parameter's length against C and R = fc1.bias.length; returns R. */
export function checkMetaParams(p: MetaAconCParams, c: number): number {
  const r = p.fc1?.bias?.length ?? 0;
  mapSet(p, paramSizes(c, r), (leaf: Float32Array, size, name) => void checkFloat32(leaf, size, name));
  return r;
}

interface Prepared {
  geo: AconCGeometry;
  count: number;
}

function prepareShape(ctx: GpuContext, shape: Shape4, dataFormat: DataFormat | undefined, training: boolean): Prepared {
  ctx.assertUsable();
  if (typeof training !== 'boolean') {
    throw new OptionError(
      'Meta-ACON-C: options.training is required (batch statistics or running statistics)',
      'true or false',
      String(training),
    );
  }
  const count = checkShape(shape);
  const [n, c, h, w] = shape;
  const geo: AconCGeometry = { n, c, h, w, dataFormat: checkDataFormat(dataFormat ?? 'NCHW'), betaPerSample: true };
  checkFits(count * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  if (training && n < 2) {
    throw new BatchSizeError(
      'Meta-ACON in training mode normalises β over the batch, and batch statistics over one sample are undefined; use eval mode (training: false) for a single sample',
      'N ≥ 2 in training mode',
      `N = ${n}`,
    );
  }
  return { geo, count };
}

const f32 = (a: ArrayBuffer) => new Float32Array(a);

/** Reads named buffers back (debug mode) after the batch that wrote them. */
async function readNamed(ctx: GpuContext, named: NamedBuffer[]): Promise<MetaIntermediates> {
  const res = await ctx.read(named.map(([, buffer, bytes]) => ({ buffer, bytes })));
  return Object.fromEntries(named.map(([name], i) => [name, f32(res[i]!)]));
}

/** Uploads a parameter set to pooled buffers (running statistics too, since training writes them). */
function uploadParams(ctx: GpuContext, p: MetaAconCParams): MetaParamSet<GPUBuffer> {
  return mapSet(p, p, (a: Float32Array) => ctx.upload(a));
}

/**
 * Meta-ACON-C forward for host data: x is [N, C, H, W] float32 (NCHW unless options.dataFormat says
 * NHWC). Returns y, the per-sample β [N·C] and the running statistics after the call.
 */
export async function metaAconCForward(
  ctx: GpuContext,
  x: Float32Array,
  shape: Shape4,
  params: MetaAconCParams,
  options: MetaAconCOptions,
): Promise<MetaAconCForwardResult> {
  const { geo, count } = prepareShape(ctx, shape, options.dataFormat, options.training);
  checkFloat32(x, count, 'x');
  const r = checkGeneratorLoops(geo.n, geo.c, checkMetaParams(params, geo.c), options.training || !!options.debug);
  const { n, c } = geo;
  const xb = ctx.upload(x);
  const P = uploadParams(ctx, params);
  const y = ctx.pool.acquire(count * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'acon-output');
  const betaOut = ctx.pool.acquire(
    n * c * 4,
    GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    'acon-output',
  );
  const named: NamedBuffer[] = [];
  try {
    const done = ctx.submit((batch) => {
      const f = encodeMetaForward(
        ctx,
        batch,
        { geo, r, training: options.training, staged: options.debug },
        { x: { buffer: xb, size: count * 4 }, params: P, y: { buffer: y, size: count * 4 } },
      );
      batch.copy(f.beta, betaOut, n * c * 4);
      if (f.t && options.debug)
        for (const [k, v] of Object.entries(tempSizes(n, c, r))) named.push([k, f.t[k as keyof GeneratorTemps], v * 4]);
    });
    const debug = options.debug ? readNamed(ctx, named) : undefined;
    const [out] = await Promise.all([
      ctx.read([
        { buffer: y, bytes: count * 4 },
        { buffer: betaOut, bytes: n * c * 4 },
        { buffer: P.bn1.runningMean, bytes: r * 4 },
        { buffer: P.bn1.runningVar, bytes: r * 4 },
        { buffer: P.bn2.runningMean, bytes: c * 4 },
        { buffer: P.bn2.runningVar, bytes: c * 4 },
      ]),
      done,
    ]);
    const [ry, rbeta, rm1, rv1, rm2, rv2] = out.map(f32) as Float32Array[];
    const result: MetaAconCForwardResult = {
      y: ry!,
      beta: rbeta!,
      bn1: { runningMean: rm1!, runningVar: rv1! },
      bn2: { runningMean: rm2!, runningVar: rv2! },
    };
    if (debug) result.intermediates = await debug;
    return result;
  } finally {
    for (const buf of [xb, y, betaOut, ...leaves<GPUBuffer>(P)]) ctx.pool.release(buf);
  }
}

/** Meta-ACON-C backward for host data: every gradient, analytic, given the upstream gradient dy. */
export async function metaAconCBackward(
  ctx: GpuContext,
  x: Float32Array,
  dy: Float32Array,
  shape: Shape4,
  params: MetaAconCParams,
  options: MetaAconCOptions,
): Promise<MetaAconCGrads> {
  const { geo, count } = prepareShape(ctx, shape, options.dataFormat, options.training);
  checkFloat32(x, count, 'x');
  checkFloat32(dy, count, 'dy');
  const r = checkGeneratorLoops(geo.n, geo.c, checkMetaParams(params, geo.c), true);
  const xb = ctx.upload(x);
  const dyb = ctx.upload(dy);
  const P = uploadParams(ctx, params);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const sizes = gradSizes(count, geo.c, r);
  const G: MetaGradSet<GPUBuffer> = mapSet(sizes, sizes, (len: number) =>
    ctx.pool.acquire(len * 4, usage, 'acon-output'),
  );
  const named: NamedBuffer[] = [];
  try {
    const done = ctx.submit((batch) =>
      encodeMetaBackward(
        ctx,
        batch,
        { geo, r, training: options.training, intermediates: options.debug ? named : undefined },
        {
          x: { buffer: xb, size: count * 4 },
          dy: { buffer: dyb, size: count * 4 },
          params: P,
          grads: { ...G, dx: { buffer: G.dx, size: count * 4 } },
        },
      ),
    );
    const debug = options.debug ? readNamed(ctx, named) : undefined;
    const lengths = leaves<number>(sizes);
    const [res] = await Promise.all([
      ctx.read(leaves<GPUBuffer>(G).map((buffer, k) => ({ buffer, bytes: lengths[k]! * 4 }))),
      done,
    ]);
    let i = 0;
    const grads: MetaAconCGrads = mapSet(G, sizes, () => f32(res[i++]!));
    if (debug) grads.intermediates = await debug;
    return grads;
  } finally {
    for (const buf of [xb, dyb, ...leaves<GPUBuffer>(P), ...leaves<GPUBuffer>(G)]) ctx.pool.release(buf);
  }
}

/** Options of the GPU-resident calls, which cannot read R off Float32Array lengths. */
export interface MetaAconCBuffersOptions extends Omit<MetaAconCOptions, 'debug'> {
  /** The β generator's reduction r: hidden width R = max(r, ⌊C/r⌋) (default 16, as PyTorch's MetaAconC). */
  r?: number;
  /** Or the hidden width R itself (as the fc1.bias buffer's length). */
  hidden?: number;
}

/** GPU-resident forward: x and the parameters in, y out; training mode updates the running-statistics buffers in place. */
export interface MetaAconCForwardBuffers {
  x: GPUBuffer;
  params: MetaAconCParams<GPUBuffer>;
  y: GPUBuffer;
}

/** GPU-resident backward: x, dy and the parameters in, every gradient out. */
export interface MetaAconCBackwardBuffers {
  x: GPUBuffer;
  dy: GPUBuffer;
  params: MetaAconCParams<GPUBuffer>;
  grads: MetaGradSet<GPUBuffer>;
}

function hiddenOf(c: number, options: MetaAconCBuffersOptions): number {
  if (options.hidden !== undefined) {
    if (!Number.isInteger(options.hidden) || options.hidden < 1)
      throw new OptionError(
        'Meta-ACON-C: hidden is not a positive integer',
        'a positive integer',
        JSON.stringify(options.hidden),
      );
    return options.hidden;
  }
  const r = options.r ?? 16;
  if (!Number.isInteger(r) || r < 1)
    throw new OptionError('Meta-ACON-C: r is not a positive integer', 'a positive integer', JSON.stringify(options.r));
  return metaHiddenWidth(c, r);
}

function checkGPUSet(set: object | undefined, sizes: object, prefix: string): void {
  if (typeof set !== 'object' || set === null)
    throw new OptionError(
      `Meta-ACON-C: ${prefix.slice(0, -1)} is not an object of GPUBuffers`,
      'an object',
      String(set),
    );
  mapSet(set, sizes, (b: GPUBuffer, size, name) => void checkGPUBuffer(b, size * 4, prefix + name), prefix);
}

/** Validates a GPU-resident Meta-ACON-C forward call (throwing typed errors); returns what records it. */
function metaForwardCall(
  ctx: GpuContext,
  buffers: MetaAconCForwardBuffers,
  shape: Shape4,
  options: MetaAconCBuffersOptions,
): (recorder: Recorder) => void {
  const { geo, count } = prepareShape(ctx, shape, options.dataFormat, options.training);
  const r = checkGeneratorLoops(geo.n, geo.c, hiddenOf(geo.c, options), options.training);
  checkGPUBuffer(buffers.x, count * 4, 'x');
  checkGPUBuffer(buffers.y, count * 4, 'y');
  checkGPUSet(buffers.params, paramSizes(geo.c, r), 'params.');
  const params = namedLeaves<GPUBuffer>(buffers.params, 'params.');
  // y, and in training mode the running statistics, are written
  const running = options.training
    ? Object.fromEntries(Object.entries(params).filter(([k]) => k.includes('running')))
    : {};
  checkDistinct({ y: buffers.y, ...running }, { x: buffers.x, y: buffers.y, ...params });
  const [x, y] = [
    { buffer: buffers.x, size: count * 4 },
    { buffer: buffers.y, size: count * 4 },
  ];
  return (recorder) =>
    void encodeMetaForward(ctx, recorder, { geo, r, training: options.training }, { x, params: buffers.params, y });
}

/** Validates a GPU-resident Meta-ACON-C backward call (throwing typed errors); returns what records it. */
function metaBackwardCall(
  ctx: GpuContext,
  buffers: MetaAconCBackwardBuffers,
  shape: Shape4,
  options: MetaAconCBuffersOptions,
): (recorder: Recorder) => void {
  const { geo, count } = prepareShape(ctx, shape, options.dataFormat, options.training);
  const r = checkGeneratorLoops(geo.n, geo.c, hiddenOf(geo.c, options), true);
  checkGPUBuffer(buffers.x, count * 4, 'x');
  checkGPUBuffer(buffers.dy, count * 4, 'dy');
  checkGPUSet(buffers.params, paramSizes(geo.c, r), 'params.');
  checkGPUSet(buffers.grads, gradSizes(count, geo.c, r), 'grads.');
  const grads = namedLeaves<GPUBuffer>(buffers.grads, 'grads.');
  checkDistinct(grads, {
    x: buffers.x,
    dy: buffers.dy,
    ...namedLeaves<GPUBuffer>(buffers.params, 'params.'),
    ...grads,
  });
  const bytes = count * 4;
  const [x, dy] = [
    { buffer: buffers.x, size: bytes },
    { buffer: buffers.dy, size: bytes },
  ];
  const g = { ...buffers.grads, dx: { buffer: buffers.grads.dx, size: bytes } };
  return (recorder) =>
    encodeMetaBackward(
      ctx,
      recorder,
      { geo, r, training: options.training },
      { x, dy, params: buffers.params, grads: g },
    );
}

/**
 * Records the Meta-ACON-C forward on GPU-resident data into `recorder` (see
 * {@link metaAconCForwardBuffers}); validates synchronously first, submits nothing.
 */
export function recordMetaAconCForward(
  ctx: GpuContext,
  recorder: Recorder,
  buffers: MetaAconCForwardBuffers,
  shape: Shape4,
  options: MetaAconCBuffersOptions,
): void {
  metaForwardCall(ctx, buffers, shape, options)(recorder);
}

/** Records the Meta-ACON-C backward on GPU-resident data into `recorder` (see {@link metaAconCBackwardBuffers}). */
export function recordMetaAconCBackward(
  ctx: GpuContext,
  recorder: Recorder,
  buffers: MetaAconCBackwardBuffers,
  shape: Shape4,
  options: MetaAconCBuffersOptions,
): void {
  metaBackwardCall(ctx, buffers, shape, options)(recorder);
}

/**
 * Meta-ACON-C forward on GPU-resident data (the caller's STORAGE buffers on this device). In
 * training mode the running-statistics buffers are updated in place. Nothing is read back.
 */
export async function metaAconCForwardBuffers(
  ctx: GpuContext,
  buffers: MetaAconCForwardBuffers,
  shape: Shape4,
  options: MetaAconCBuffersOptions,
): Promise<void> {
  return ctx.submit(metaForwardCall(ctx, buffers, shape, options));
}

/** Meta-ACON-C backward on GPU-resident data: writes every gradient buffer of `buffers.grads`. */
export async function metaAconCBackwardBuffers(
  ctx: GpuContext,
  buffers: MetaAconCBackwardBuffers,
  shape: Shape4,
  options: MetaAconCBuffersOptions,
): Promise<void> {
  return ctx.submit(metaBackwardCall(ctx, buffers, shape, options));
}
