import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { BatchSizeError } from '../gpu/errors';
import { encodeAconCBackward, encodeAconCForward, type AconCGeometry } from '../kernels/aconC';
import {
  encodeBatchNorm,
  encodeBatchNormBackward,
  encodeBroadcastAdd,
  encodeConv1x1,
  encodeConv1x1Backward,
  encodeBetaEval,
  encodeConv1x1BatchNormEval,
  encodeMeansFromPartials,
  BETA_EVAL_FEATURES_MAX,
  encodePlaneMeans,
  encodePlanePartials,
  type BatchNormOptions,
} from '../kernels/meta';
import { BN_EPS, BN_MOMENTUM, type MetaGradSet, type MetaParamSet } from '../reference/metaAconC';
import { checkFits, checkFloat32, checkGPUBuffer, checkLayout, checkShape, type Layout, type Shape4 } from './validate';

// The parameter and gradient shapes and the batch-norm constants are the reference's: one definition.
export { BN_EPS, BN_MOMENTUM, type MetaGradSet, type MetaParamSet } from '../reference/metaAconC';

export type MetaAconCParams = MetaParamSet<Float32Array>;
export type BatchNormState = MetaAconCParams['bn1'];

export interface MetaAconCOptions {
  /** Training mode: batch statistics (N ≥ 2) and running-statistics update; else eval mode. */
  training: boolean;
  layout?: Layout;
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

export type MetaAconCGrads = MetaGradSet<Float32Array> & { intermediates?: MetaIntermediates };

/** Element counts of every parameter for C channels and hidden width R. */
function paramSizes(c: number, r: number): MetaParamSet<number> {
  const bn = (f: number) => ({ weight: f, bias: f, runningMean: f, runningVar: f });
  return { p1: c, p2: c, fc1: { weight: r * c, bias: r }, bn1: bn(r), fc2: { weight: c * r, bias: c }, bn2: bn(c) };
}

function gradSizes(count: number, c: number, r: number): MetaGradSet<number> {
  return { dx: count, p1: c, p2: c, fc1: { weight: r * c, bias: r }, bn1: { weight: r, bias: r }, fc2: { weight: c * r, bias: c }, bn2: { weight: c, bias: c } };
}

const isLeaf = (v: unknown) => typeof v !== 'object' || ArrayBuffer.isView(v) || 'usage' in (v as object);
const torchName = (k: string) => (k === 'runningMean' ? 'running_mean' : k === 'runningVar' ? 'running_var' : k);

/**
 * Walks a parameter or gradient set and a parallel set of element counts leaf by leaf, keeping
 * the structure: fn gets the leaf, its count and its PyTorch name (fc1.weight, bn1.running_mean).
 */
function mapSet<A, B>(set: object, sizes: object, fn: (leaf: A, size: number, name: string) => B, prefix = ''): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(set).map(([k, v]) => {
      const size = (sizes as Record<string, unknown>)[k];
      const name = prefix + torchName(k);
      return [k, isLeaf(v) ? fn(v as A, size as number, name) : mapSet(v as object, size as object, fn, `${name}.`)];
    }),
  );
}

/** Leaves in a fixed order (p1, p2, fc1.weight, …). */
function leaves<T>(set: object): T[] {
  return Object.values(set).flatMap((v) => (isLeaf(v) ? [v as T] : leaves<T>(v as object)));
}

/** Checks every parameter's length against C and R = fc1.bias.length; returns R. */
export function checkMetaParams(p: MetaAconCParams, c: number): number {
  const r = p.fc1?.bias?.length ?? 0;
  mapSet<Float32Array, void>(p, paramSizes(c, r), (leaf, size, name) => void checkFloat32(leaf, size, name));
  return r;
}

const bnOptions = (training: boolean, updateRunning: boolean, sigmoid: boolean): BatchNormOptions => ({
  training,
  updateRunning,
  sigmoid,
  eps: BN_EPS,
  momentum: BN_MOMENTUM,
});

/** The β generator's intermediates, temporaries of the batch. */
interface GeneratorTemps {
  m: GPUBuffer;
  h1: GPUBuffer;
  a1: GPUBuffer;
  saved1: GPUBuffer;
  h2: GPUBuffer;
  saved2: GPUBuffer;
  beta: GPUBuffer;
}

const tempSizes = (n: number, c: number, r: number): Record<keyof GeneratorTemps, number> => ({
  m: n * c, h1: n * r, a1: n * r, saved1: 2 * r, h2: n * c, saved2: 2 * c, beta: n * c,
});

/** Records β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) into temporaries. */
function encodeBetaGenerator(
  ctx: GpuContext,
  batch: Recorder,
  geo: AconCGeometry,
  r: number,
  x: Binding,
  P: MetaParamSet<Binding>,
  training: boolean,
  updateRunning: boolean,
): GeneratorTemps {
  const { n, c } = geo;
  const sizes = tempSizes(n, c, r);
  const t = Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, batch.temp(v * 4)])) as unknown as GeneratorTemps;
  encodePlaneMeans(ctx, batch, geo, x, t.m);
  encodeConv1x1(ctx, batch, { n, in: c, out: r }, { inp: t.m, weight: P.fc1.weight, bias: P.fc1.bias, out: t.h1 });
  encodeBatchNorm(ctx, batch, n, r, bnOptions(training, updateRunning, false), { inp: t.h1, ...P.bn1, out: t.a1, saved: t.saved1 });
  encodeConv1x1(ctx, batch, { n, in: r, out: c }, { inp: t.a1, weight: P.fc2.weight, bias: P.fc2.bias, out: t.h2 });
  encodeBatchNorm(ctx, batch, n, c, bnOptions(training, updateRunning, true), { inp: t.h2, ...P.bn2, out: t.beta, saved: t.saved2 });
  return t;
}

/**
 * Records the forward: generator, then ACON-C with the per-sample β. In eval mode the generator
 * after the mean's partial sums is one pass (the same arithmetic: 3 dispatches instead of 7; with
 * C + R beyond that pass's workgroup memory, the means, then each 1×1 convolution fused with its
 * batch norm: 5); `staged` keeps every stage apart so that every intermediate exists (debug read-back).
 */
function encodeMetaForward(
  ctx: GpuContext,
  batch: Recorder,
  geo: AconCGeometry,
  r: number,
  x: Binding,
  P: MetaParamSet<Binding>,
  y: Binding,
  training: boolean,
  staged = false,
): { beta: GPUBuffer; t?: GeneratorTemps } {
  if (training || staged) {
    const t = encodeBetaGenerator(ctx, batch, geo, r, x, P, training, training);
    encodeAconCForward(ctx, batch, geo, { x, p1: P.p1, p2: P.p2, beta: t.beta, y });
    return { beta: t.beta, t };
  }
  const { n, c } = geo;
  const beta = batch.temp(n * c * 4);
  const mean = encodePlanePartials(ctx, batch, geo, x);
  if (c + r <= BETA_EVAL_FEATURES_MAX) {
    encodeBetaEval(ctx, batch, { n, c, r, eps: BN_EPS }, mean, P, beta);
  } else {
    const m = batch.temp(n * c * 4);
    const a1 = batch.temp(n * r * 4);
    encodeMeansFromPartials(ctx, batch, geo, mean, m);
    encodeConv1x1BatchNormEval(ctx, batch, { n, in: c, out: r }, { sigmoid: false, eps: BN_EPS }, { inp: m, ...P.fc1, bn: P.bn1, out: a1 });
    encodeConv1x1BatchNormEval(ctx, batch, { n, in: r, out: c }, { sigmoid: true, eps: BN_EPS }, { inp: a1, ...P.fc2, bn: P.bn2, out: beta });
  }
  encodeAconCForward(ctx, batch, geo, { x, p1: P.p1, p2: P.p2, beta, y });
  return { beta };
}

/**
 * Records the full backward. The generator's forward is recomputed (tiny next to the tensor
 * passes) without moving the running statistics; training mode uses the batch statistics, as
 * the forward did. `named` collects intermediates for debug read-back.
 */
function encodeMetaBackward(
  ctx: GpuContext,
  batch: Recorder,
  geo: AconCGeometry,
  r: number,
  x: Binding,
  dy: Binding,
  P: MetaParamSet<Binding>,
  G: MetaGradSet<Binding>,
  training: boolean,
  named?: [string, GPUBuffer, number][],
): void {
  const { n, c } = geo;
  const count = n * c * geo.h * geo.w;
  const t = encodeBetaGenerator(ctx, batch, geo, r, x, P, training, false);
  const gbeta = batch.temp(n * c * 4);
  encodeAconCBackward(ctx, batch, geo, { x, dy, p1: P.p1, p2: P.p2, beta: t.beta, dx: G.dx, dp1: G.p1, dp2: G.p2, dbeta: gbeta });
  const gh2 = batch.temp(n * c * 4);
  encodeBatchNormBackward(ctx, batch, n, c, bnOptions(training, false, true), {
    inp: t.h2, weight: P.bn2.weight, bias: P.bn2.bias, saved: t.saved2, gout: gbeta, gin: gh2, gweight: G.bn2.weight, gbias: G.bn2.bias,
  });
  const ga1 = batch.temp(n * r * 4);
  encodeConv1x1Backward(ctx, batch, { n, in: r, out: c }, { inp: t.a1, weight: P.fc2.weight, gout: gh2, gin: ga1, gweight: G.fc2.weight, gbias: G.fc2.bias });
  const gh1 = batch.temp(n * r * 4);
  encodeBatchNormBackward(ctx, batch, n, r, bnOptions(training, false, false), {
    inp: t.h1, weight: P.bn1.weight, bias: P.bn1.bias, saved: t.saved1, gout: ga1, gin: gh1, gweight: G.bn1.weight, gbias: G.bn1.bias,
  });
  const gm = batch.temp(n * c * 4);
  encodeConv1x1Backward(ctx, batch, { n, in: c, out: r }, { inp: t.m, weight: P.fc1.weight, gout: gh1, gin: gm, gweight: G.fc1.weight, gbias: G.fc1.bias });
  if (named) {
    for (const [k, v] of Object.entries(tempSizes(n, c, r))) named.push([k, t[k as keyof GeneratorTemps], v * 4]);
    const dxDirect = batch.temp(count * 4);
    batch.copy(G.dx, dxDirect, count * 4);
    named.push(['gbeta', gbeta, n * c * 4], ['gh2', gh2, n * c * 4], ['ga1', ga1, n * r * 4], ['gh1', gh1, n * r * 4], ['gm', gm, n * c * 4], ['dxDirect', dxDirect, count * 4]);
  }
  // the mean's adjoint: every element of plane (n, c) gets gm[n, c]/(H·W)
  encodeBroadcastAdd(ctx, batch, geo, gm, G.dx, 1 / (geo.h * geo.w));
}

interface Prepared {
  geo: AconCGeometry;
  count: number;
}

function prepareShape(ctx: GpuContext, shape: Shape4, layout: Layout | undefined, training: boolean): Prepared {
  ctx.assertUsable();
  const count = checkShape(shape);
  const [n, c, h, w] = shape;
  const geo: AconCGeometry = { n, c, h, w, layout: checkLayout(layout ?? 'NCHW'), betaPerSample: true };
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
async function readNamed(ctx: GpuContext, named: [string, GPUBuffer, number][]): Promise<MetaIntermediates> {
  const res = await ctx.read(named.map(([, buffer, bytes]) => ({ buffer, bytes })));
  return Object.fromEntries(named.map(([name], i) => [name, f32(res[i]!)]));
}

/** Uploads a parameter set to pooled buffers (running statistics too, since training writes them). */
function uploadParams(ctx: GpuContext, p: MetaAconCParams): MetaParamSet<GPUBuffer> {
  return mapSet<Float32Array, GPUBuffer>(p, p, (a) => ctx.upload(a)) as unknown as MetaParamSet<GPUBuffer>;
}

/**
 * Meta-ACON-C forward for host data: x is [N, C, H, W] float32 (NCHW unless options.layout says
 * NHWC). Returns y, the per-sample β [N·C] and the running statistics after the call.
 */
export async function metaAconCForward(
  ctx: GpuContext,
  x: Float32Array,
  shape: Shape4,
  params: MetaAconCParams,
  options: MetaAconCOptions,
): Promise<MetaAconCForwardResult> {
  const { geo, count } = prepareShape(ctx, shape, options.layout, options.training);
  checkFloat32(x, count, 'x');
  const r = checkMetaParams(params, geo.c);
  const { n, c } = geo;
  const xb = ctx.upload(x);
  const P = uploadParams(ctx, params);
  const y = ctx.pool.acquire(count * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'acon-output');
  const betaOut = ctx.pool.acquire(n * c * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'acon-output');
  const named: [string, GPUBuffer, number][] = [];
  try {
    const done = ctx.submit((batch) => {
      const f = encodeMetaForward(ctx, batch, geo, r, { buffer: xb, size: count * 4 }, P, { buffer: y, size: count * 4 }, options.training, options.debug);
      batch.copy(f.beta, betaOut, n * c * 4);
      if (f.t && options.debug) for (const [k, v] of Object.entries(tempSizes(n, c, r))) named.push([k, f.t[k as keyof GeneratorTemps], v * 4]);
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
    const result: MetaAconCForwardResult = { y: ry!, beta: rbeta!, bn1: { runningMean: rm1!, runningVar: rv1! }, bn2: { runningMean: rm2!, runningVar: rv2! } };
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
  const { geo, count } = prepareShape(ctx, shape, options.layout, options.training);
  checkFloat32(x, count, 'x');
  checkFloat32(dy, count, 'dy');
  const r = checkMetaParams(params, geo.c);
  const xb = ctx.upload(x);
  const dyb = ctx.upload(dy);
  const P = uploadParams(ctx, params);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const sizes = gradSizes(count, geo.c, r);
  const G = mapSet<number, GPUBuffer>(sizes, sizes, (len) => ctx.pool.acquire(len * 4, usage, 'acon-output')) as unknown as MetaGradSet<GPUBuffer>;
  const named: [string, GPUBuffer, number][] = [];
  try {
    const done = ctx.submit((batch) =>
      encodeMetaBackward(ctx, batch, geo, r, { buffer: xb, size: count * 4 }, { buffer: dyb, size: count * 4 }, P,
        { ...G, dx: { buffer: G.dx, size: count * 4 } }, options.training, options.debug ? named : undefined),
    );
    const debug = options.debug ? readNamed(ctx, named) : undefined;
    const lengths = leaves<number>(sizes);
    const [res] = await Promise.all([ctx.read(leaves<GPUBuffer>(G).map((buffer, k) => ({ buffer, bytes: lengths[k]! * 4 }))), done]);
    let i = 0;
    const grads = mapSet<GPUBuffer, Float32Array>(G, sizes, () => f32(res[i++]!)) as unknown as MetaAconCGrads;
    if (debug) grads.intermediates = await debug;
    return grads;
  } finally {
    for (const buf of [xb, dyb, ...leaves<GPUBuffer>(P), ...leaves<GPUBuffer>(G)]) ctx.pool.release(buf);
  }
}

export interface MetaAconCGPUOptions {
  training: boolean;
  layout?: Layout;
  /** Hidden width R of the β generator (max(r, ⌊C/r⌋) for the layer's r). */
  hidden: number;
}

function checkGPUSet(set: object, sizes: object, prefix = ''): void {
  mapSet<GPUBuffer, void>(set, sizes, (b, size, name) => void checkGPUBuffer(b, size * 4, prefix + name));
}

/** Validates a GPU-resident Meta-ACON-C forward call. */
function metaForwardCall(ctx: GpuContext, io: { x: GPUBuffer; y: GPUBuffer }, params: MetaParamSet<GPUBuffer>, shape: Shape4, options: MetaAconCGPUOptions) {
  const { geo, count } = prepareShape(ctx, shape, options.layout, options.training);
  checkGPUBuffer(io.x, count * 4, 'x');
  checkGPUBuffer(io.y, count * 4, 'y');
  checkGPUSet(params, paramSizes(geo.c, options.hidden));
  return { geo, x: { buffer: io.x, size: count * 4 }, y: { buffer: io.y, size: count * 4 } };
}

/** Validates a GPU-resident Meta-ACON-C backward call. */
function metaBackwardCall(
  ctx: GpuContext,
  io: { x: GPUBuffer; dy: GPUBuffer },
  params: MetaParamSet<GPUBuffer>,
  grads: MetaGradSet<GPUBuffer>,
  shape: Shape4,
  options: MetaAconCGPUOptions,
) {
  const { geo, count } = prepareShape(ctx, shape, options.layout, options.training);
  const r = options.hidden;
  checkGPUBuffer(io.x, count * 4, 'x');
  checkGPUBuffer(io.dy, count * 4, 'dy');
  checkGPUSet(params, paramSizes(geo.c, r));
  checkGPUSet(grads, gradSizes(count, geo.c, r), 'd');
  const bytes = count * 4;
  return { geo, x: { buffer: io.x, size: bytes }, dy: { buffer: io.dy, size: bytes }, grads: { ...grads, dx: { buffer: grads.dx, size: bytes } } };
}

/**
 * Records the Meta-ACON-C forward on GPU-resident data into `recorder` (see
 * {@link metaAconCForwardGPU}); validates synchronously first, submits nothing.
 */
export function recordMetaAconCForward(
  ctx: GpuContext,
  recorder: Recorder,
  io: { x: GPUBuffer; y: GPUBuffer },
  params: MetaParamSet<GPUBuffer>,
  shape: Shape4,
  options: MetaAconCGPUOptions,
): void {
  const call = metaForwardCall(ctx, io, params, shape, options);
  encodeMetaForward(ctx, recorder, call.geo, options.hidden, call.x, params, call.y, options.training);
}

/** Records the Meta-ACON-C backward on GPU-resident data into `recorder` (see {@link metaAconCBackwardGPU}). */
export function recordMetaAconCBackward(
  ctx: GpuContext,
  recorder: Recorder,
  io: { x: GPUBuffer; dy: GPUBuffer },
  params: MetaParamSet<GPUBuffer>,
  grads: MetaGradSet<GPUBuffer>,
  shape: Shape4,
  options: MetaAconCGPUOptions,
): void {
  const call = metaBackwardCall(ctx, io, params, grads, shape, options);
  encodeMetaBackward(ctx, recorder, call.geo, options.hidden, call.x, call.dy, params, call.grads, options.training);
}

/**
 * Meta-ACON-C forward on GPU-resident data (the caller's STORAGE buffers on this device). In
 * training mode the running-statistics buffers are updated in place. Nothing is read back.
 */
export async function metaAconCForwardGPU(
  ctx: GpuContext,
  io: { x: GPUBuffer; y: GPUBuffer },
  params: MetaParamSet<GPUBuffer>,
  shape: Shape4,
  options: MetaAconCGPUOptions,
): Promise<void> {
  const call = metaForwardCall(ctx, io, params, shape, options);
  return ctx.submit((batch) => void encodeMetaForward(ctx, batch, call.geo, options.hidden, call.x, params, call.y, options.training));
}

/** Meta-ACON-C backward on GPU-resident data: writes every gradient buffer of `grads`. */
export async function metaAconCBackwardGPU(
  ctx: GpuContext,
  io: { x: GPUBuffer; dy: GPUBuffer },
  params: MetaParamSet<GPUBuffer>,
  grads: MetaGradSet<GPUBuffer>,
  shape: Shape4,
  options: MetaAconCGPUOptions,
): Promise<void> {
  const call = metaBackwardCall(ctx, io, params, grads, shape, options);
  return ctx.submit((batch) => encodeMetaBackward(ctx, batch, call.geo, options.hidden, call.x, call.dy, params, call.grads, options.training));
}
