import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { BatchSizeError, OptionError } from '../gpu/errors';
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
  betaEvalFits,
  checkGeneratorLoops,
  encodePlaneMeans,
  encodePlanePartials,
  type BatchNormOptions,
} from '../kernels/meta';
import { BN_EPS, BN_MOMENTUM, metaHiddenWidth, type MetaGradSet, type MetaParamSet } from '../reference/metaAconC';
import {
  checkDataFormat,
  checkDistinct,
  checkFits,
  checkFloat32,
  checkGPUBuffer,
  checkShape,
  type DataFormat,
  type Shape4,
} from './validate';

// The parameter and gradient shapes and the batch-norm constants are the reference's: one definition.
export { BN_EPS, BN_MOMENTUM } from '../reference/metaAconC';

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

/** Element counts of every parameter for C channels and hidden width R. */
function paramSizes(c: number, r: number): MetaParamSet<number> {
  const bn = (f: number) => ({ weight: f, bias: f, runningMean: f, runningVar: f });
  return { p1: c, p2: c, fc1: { weight: r * c, bias: r }, bn1: bn(r), fc2: { weight: c * r, bias: c }, bn2: bn(c) };
}

function gradSizes(count: number, c: number, r: number): MetaGradSet<number> {
  return {
    dx: count,
    p1: c,
    p2: c,
    fc1: { weight: r * c, bias: r },
    bn1: { weight: r, bias: r },
    fc2: { weight: c * r, bias: c },
    bn2: { weight: c, bias: c },
  };
}

const isLeaf = (v: unknown) => typeof v !== 'object' || ArrayBuffer.isView(v) || 'usage' in (v as object);
const torchName = (k: string) => (k === 'runningMean' ? 'running_mean' : k === 'runningVar' ? 'running_var' : k);

/** A set's structure with every leaf (a count, an array or a buffer) replaced by a B. */
type Remap<S, B> = { [K in keyof S]: S[K] extends number | Float32Array | GPUBuffer ? B : Remap<S[K], B> };

/**
 * Walks a parameter or gradient set and a parallel set of element counts leaf by leaf, keeping
 * the structure: fn gets the leaf, its count and its PyTorch name (fc1.weight, bn1.running_mean).
 */
function mapSet<S extends object, B>(
  set: S,
  sizes: object,
  fn: (leaf: never, size: number, name: string) => B,
  prefix = '',
): Remap<S, B> {
  return Object.fromEntries(
    Object.entries(set).map(([k, v]) => {
      const size = (sizes as Record<string, unknown>)[k];
      const name = prefix + torchName(k);
      return [
        k,
        isLeaf(v) ? fn(v as never, size as number, name) : mapSet(v as object, size as object, fn, `${name}.`),
      ];
    }),
  ) as Remap<S, B>;
}

/** Leaves in a fixed order (p1, p2, fc1.weight, …). */
function leaves<T>(set: object): T[] {
  return Object.values(set).flatMap((v) => (isLeaf(v) ? [v as T] : leaves<T>(v as object)));
}

/** Checks every parameter's length against C and R = fc1.bias.length; returns R. */
export function checkMetaParams(p: MetaAconCParams, c: number): number {
  const r = p.fc1?.bias?.length ?? 0;
  mapSet(p, paramSizes(c, r), (leaf: Float32Array, size, name) => void checkFloat32(leaf, size, name));
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
  m: n * c,
  h1: n * r,
  a1: n * r,
  saved1: 2 * r,
  h2: n * c,
  saved2: 2 * c,
  beta: n * c,
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
  const t: GeneratorTemps = mapSet(sizes, sizes, (v: number) => batch.temp(v * 4));
  encodePlaneMeans(ctx, batch, geo, x, t.m);
  encodeConv1x1(ctx, batch, { n, in: c, out: r }, { inp: t.m, weight: P.fc1.weight, bias: P.fc1.bias, out: t.h1 });
  encodeBatchNorm(ctx, batch, n, r, bnOptions(training, updateRunning, false), {
    inp: t.h1,
    ...P.bn1,
    out: t.a1,
    saved: t.saved1,
  });
  encodeConv1x1(ctx, batch, { n, in: r, out: c }, { inp: t.a1, weight: P.fc2.weight, bias: P.fc2.bias, out: t.h2 });
  encodeBatchNorm(ctx, batch, n, c, bnOptions(training, updateRunning, true), {
    inp: t.h2,
    ...P.bn2,
    out: t.beta,
    saved: t.saved2,
  });
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
  // the one-pass generator copies its 12 parameters into one buffer, which needs COPY_SRC on each
  // (tfjs's tensors and our uploads have it; a caller's STORAGE-only buffers take the staged passes)
  const copyable = leaves<Binding>(P).every(
    (b) => ((('buffer' in b ? b.buffer : b).usage ?? 0) & GPUBufferUsage.COPY_SRC) !== 0,
  );
  if (betaEvalFits(c, r, mean) && copyable) {
    encodeBetaEval(ctx, batch, { n, c, r, eps: BN_EPS }, mean, P, beta);
  } else {
    const m = batch.temp(n * c * 4);
    const a1 = batch.temp(n * r * 4);
    encodeMeansFromPartials(ctx, batch, geo, mean, m);
    encodeConv1x1BatchNormEval(
      ctx,
      batch,
      { n, in: c, out: r },
      { sigmoid: false, eps: BN_EPS },
      { inp: m, ...P.fc1, bn: P.bn1, out: a1 },
    );
    encodeConv1x1BatchNormEval(
      ctx,
      batch,
      { n, in: r, out: c },
      { sigmoid: true, eps: BN_EPS },
      { inp: a1, ...P.fc2, bn: P.bn2, out: beta },
    );
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
  encodeAconCBackward(ctx, batch, geo, {
    x,
    dy,
    p1: P.p1,
    p2: P.p2,
    beta: t.beta,
    dx: G.dx,
    dp1: G.p1,
    dp2: G.p2,
    dbeta: gbeta,
  });
  const gh2 = batch.temp(n * c * 4);
  encodeBatchNormBackward(ctx, batch, n, c, bnOptions(training, false, true), {
    inp: t.h2,
    weight: P.bn2.weight,
    bias: P.bn2.bias,
    saved: t.saved2,
    gout: gbeta,
    gin: gh2,
    gweight: G.bn2.weight,
    gbias: G.bn2.bias,
  });
  const ga1 = batch.temp(n * r * 4);
  encodeConv1x1Backward(
    ctx,
    batch,
    { n, in: r, out: c },
    { inp: t.a1, weight: P.fc2.weight, gout: gh2, gin: ga1, gweight: G.fc2.weight, gbias: G.fc2.bias },
  );
  const gh1 = batch.temp(n * r * 4);
  encodeBatchNormBackward(ctx, batch, n, r, bnOptions(training, false, false), {
    inp: t.h1,
    weight: P.bn1.weight,
    bias: P.bn1.bias,
    saved: t.saved1,
    gout: ga1,
    gin: gh1,
    gweight: G.bn1.weight,
    gbias: G.bn1.bias,
  });
  const gm = batch.temp(n * c * 4);
  encodeConv1x1Backward(
    ctx,
    batch,
    { n, in: c, out: r },
    { inp: t.m, weight: P.fc1.weight, gout: gh1, gin: gm, gweight: G.fc1.weight, gbias: G.fc1.bias },
  );
  if (named) {
    for (const [k, v] of Object.entries(tempSizes(n, c, r))) named.push([k, t[k as keyof GeneratorTemps], v * 4]);
    const dxDirect = batch.temp(count * 4);
    batch.copy(G.dx, dxDirect, count * 4);
    named.push(
      ['gbeta', gbeta, n * c * 4],
      ['gh2', gh2, n * c * 4],
      ['ga1', ga1, n * r * 4],
      ['gh1', gh1, n * r * 4],
      ['gm', gm, n * c * 4],
      ['dxDirect', dxDirect, count * 4],
    );
  }
  // the mean's adjoint: every element of plane (n, c) gets gm[n, c]/(H·W)
  encodeBroadcastAdd(ctx, batch, geo, gm, G.dx, 1 / (geo.h * geo.w));
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
  const geo: AconCGeometry = { n, c, h, w, layout: checkDataFormat(dataFormat ?? 'NCHW'), betaPerSample: true };
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
  const named: [string, GPUBuffer, number][] = [];
  try {
    const done = ctx.submit((batch) => {
      const f = encodeMetaForward(
        ctx,
        batch,
        geo,
        r,
        { buffer: xb, size: count * 4 },
        P,
        { buffer: y, size: count * 4 },
        options.training,
        options.debug,
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
  const named: [string, GPUBuffer, number][] = [];
  try {
    const done = ctx.submit((batch) =>
      encodeMetaBackward(
        ctx,
        batch,
        geo,
        r,
        { buffer: xb, size: count * 4 },
        { buffer: dyb, size: count * 4 },
        P,
        { ...G, dx: { buffer: G.dx, size: count * 4 } },
        options.training,
        options.debug ? named : undefined,
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

const named = (set: object, prefix: string): Record<string, GPUBuffer> => {
  const out: Record<string, GPUBuffer> = {};
  mapSet(set, set, (b: GPUBuffer, _, name) => void (out[name] = b), prefix);
  return out;
};

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
  const params = named(buffers.params, 'params.');
  // y, and in training mode the running statistics, are written
  const running = options.training
    ? Object.fromEntries(Object.entries(params).filter(([k]) => k.includes('running')))
    : {};
  checkDistinct({ y: buffers.y, ...running }, { x: buffers.x, y: buffers.y, ...params });
  const [x, y] = [
    { buffer: buffers.x, size: count * 4 },
    { buffer: buffers.y, size: count * 4 },
  ];
  return (recorder) => void encodeMetaForward(ctx, recorder, geo, r, x, buffers.params, y, options.training);
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
  const grads = named(buffers.grads, 'grads.');
  checkDistinct(grads, { x: buffers.x, dy: buffers.dy, ...named(buffers.params, 'params.'), ...grads });
  const bytes = count * 4;
  const [x, dy] = [
    { buffer: buffers.x, size: bytes },
    { buffer: buffers.dy, size: bytes },
  ];
  const g = { ...buffers.grads, dx: { buffer: buffers.grads.dx, size: bytes } };
  return (recorder) => encodeMetaBackward(ctx, recorder, geo, r, x, dy, buffers.params, g, options.training);
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
