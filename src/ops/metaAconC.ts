import type { Batch, Binding, GpuContext } from '../gpu/context';
import { BatchSizeError } from '../gpu/errors';
import { encodeAconCBackward, encodeAconCForward, type AconCGeometry } from '../kernels/aconC';
import {
  encodeBatchNorm,
  encodeBatchNormBackward,
  encodeBroadcastAdd,
  encodeConv1x1,
  encodeConv1x1Backward,
  encodePlaneMeans,
  type BatchNormOptions,
} from '../kernels/meta';
import { checkFits, checkFloat32, checkLayout, checkShape, type Layout, type Shape4 } from './validate';

export const BN_EPS = 1e-5;
/** PyTorch's momentum (Paddle calls the same update momentum 0.9). */
export const BN_MOMENTUM = 0.1;

export interface BatchNormState {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/**
 * Meta-ACON-C parameters for C channels and hidden width R (R = max(r, ⌊C/r⌋) in the layer):
 * p1, p2 [C]; fc1 weight [R, C] (row-major), bias [R]; bn1 [R]; fc2 weight [C, R], bias [C]; bn2 [C].
 */
export interface MetaAconCParams {
  p1: Float32Array;
  p2: Float32Array;
  fc1: { weight: Float32Array; bias: Float32Array };
  bn1: BatchNormState;
  fc2: { weight: Float32Array; bias: Float32Array };
  bn2: BatchNormState;
}

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

export interface MetaAconCGrads {
  dx: Float32Array;
  p1: Float32Array;
  p2: Float32Array;
  fc1: { weight: Float32Array; bias: Float32Array };
  bn1: { weight: Float32Array; bias: Float32Array };
  fc2: { weight: Float32Array; bias: Float32Array };
  bn2: { weight: Float32Array; bias: Float32Array };
  intermediates?: MetaIntermediates;
}

/** Checks every parameter's length against C and R = fc1.bias.length; returns R. */
export function checkMetaParams(p: MetaAconCParams, c: number): number {
  const r = p.fc1?.bias?.length ?? 0;
  const expect: [string, unknown, number][] = [
    ['p1', p.p1, c],
    ['p2', p.p2, c],
    ['fc1.weight', p.fc1?.weight, r * c],
    ['fc1.bias', p.fc1?.bias, r],
    ['fc2.weight', p.fc2?.weight, c * r],
    ['fc2.bias', p.fc2?.bias, c],
  ];
  for (const [bn, f] of [['bn1', r], ['bn2', c]] as const) {
    const s = p[bn];
    expect.push([`${bn}.weight`, s?.weight, f], [`${bn}.bias`, s?.bias, f], [`${bn}.running_mean`, s?.runningMean, f], [`${bn}.running_var`, s?.runningVar, f]);
  }
  for (const [name, arr, len] of expect) checkFloat32(arr, len, name);
  return r;
}

/** GPU buffers of the parameters and running statistics. */
interface MetaBuffers {
  p1: Binding;
  p2: Binding;
  w1: Binding;
  b1: Binding;
  g1: Binding;
  be1: Binding;
  rm1: Binding;
  rv1: Binding;
  w2: Binding;
  b2: Binding;
  g2: Binding;
  be2: Binding;
  rm2: Binding;
  rv2: Binding;
}

/** The β generator's intermediates, temporaries of the batch. */
interface MetaForwardTemps {
  m: GPUBuffer;
  h1: GPUBuffer;
  a1: GPUBuffer;
  saved1: GPUBuffer;
  h2: GPUBuffer;
  saved2: GPUBuffer;
  beta: GPUBuffer;
}

const bnOptions = (training: boolean, updateRunning: boolean, sigmoid: boolean): BatchNormOptions => ({
  training,
  updateRunning,
  sigmoid,
  eps: BN_EPS,
  momentum: BN_MOMENTUM,
});

/** Records β = σ(BN2(conv2(BN1(conv1(mean_HW(x)))))) into temporaries. */
function encodeBetaGenerator(
  ctx: GpuContext,
  batch: Batch,
  geo: AconCGeometry,
  r: number,
  x: Binding,
  b: MetaBuffers,
  training: boolean,
  updateRunning: boolean,
): MetaForwardTemps {
  const { n, c } = geo;
  const t: MetaForwardTemps = {
    m: batch.temp(n * c * 4),
    h1: batch.temp(n * r * 4),
    a1: batch.temp(n * r * 4),
    saved1: batch.temp(2 * r * 4),
    h2: batch.temp(n * c * 4),
    saved2: batch.temp(2 * c * 4),
    beta: batch.temp(n * c * 4),
  };
  encodePlaneMeans(ctx, batch, geo, x, t.m);
  encodeConv1x1(ctx, batch, { n, in: c, out: r }, { inp: t.m, weight: b.w1, bias: b.b1, out: t.h1 });
  encodeBatchNorm(ctx, batch, n, r, bnOptions(training, updateRunning, false), {
    inp: t.h1, weight: b.g1, bias: b.be1, runningMean: b.rm1, runningVar: b.rv1, out: t.a1, saved: t.saved1,
  });
  encodeConv1x1(ctx, batch, { n, in: r, out: c }, { inp: t.a1, weight: b.w2, bias: b.b2, out: t.h2 });
  encodeBatchNorm(ctx, batch, n, c, bnOptions(training, updateRunning, true), {
    inp: t.h2, weight: b.g2, bias: b.be2, runningMean: b.rm2, runningVar: b.rv2, out: t.beta, saved: t.saved2,
  });
  return t;
}

interface Prepared {
  geo: AconCGeometry;
  count: number;
  r: number;
  layout: Layout;
}

function prepare(ctx: GpuContext, x: Float32Array, shape: Shape4, p: MetaAconCParams, o: MetaAconCOptions): Prepared {
  ctx.assertUsable();
  const count = checkShape(shape);
  const layout = checkLayout(o.layout ?? 'NCHW');
  const [n, c, h, w] = shape;
  checkFits(count * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  checkFloat32(x, count, 'x');
  const r = checkMetaParams(p, c);
  if (o.training && n < 2) {
    throw new BatchSizeError(
      'Meta-ACON in training mode normalises β over the batch, and batch statistics over one sample are undefined; use eval mode (training: false) for a single sample',
      'N ≥ 2 in training mode',
      `N = ${n}`,
    );
  }
  return { geo: { n, c, h, w, layout, betaPerSample: true }, count, r, layout };
}

/** Uploads parameters (running statistics into fresh buffers, since training writes them). */
function uploadParams(ctx: GpuContext, p: MetaAconCParams): { b: MetaBuffers; all: GPUBuffer[] } {
  const list = [p.p1, p.p2, p.fc1.weight, p.fc1.bias, p.bn1.weight, p.bn1.bias, p.bn1.runningMean, p.bn1.runningVar,
    p.fc2.weight, p.fc2.bias, p.bn2.weight, p.bn2.bias, p.bn2.runningMean, p.bn2.runningVar];
  const all = list.map((a) => ctx.upload(a));
  const [p1, p2, w1, b1, g1, be1, rm1, rv1, w2, b2, g2, be2, rm2, rv2] = all as GPUBuffer[] as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
  return { b: { p1, p2, w1, b1, g1, be1, rm1, rv1, w2, b2, g2, be2, rm2, rv2 }, all };
}

const f32 = (a: ArrayBuffer) => new Float32Array(a);

/** Byte sizes of the generator's temporaries. */
function tempSizes(n: number, c: number, r: number): Record<keyof MetaForwardTemps, number> {
  return { m: n * c * 4, h1: n * r * 4, a1: n * r * 4, saved1: 2 * r * 4, h2: n * c * 4, saved2: 2 * c * 4, beta: n * c * 4 };
}

/** Reads named buffers back (debug mode) after the batch that wrote them. */
async function readNamed(ctx: GpuContext, named: [string, GPUBuffer, number][]): Promise<MetaIntermediates> {
  const res = await ctx.read(named.map(([, buffer, bytes]) => ({ buffer, bytes })));
  return Object.fromEntries(named.map(([name], i) => [name, f32(res[i]!)]));
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
  const { geo, count, r } = prepare(ctx, x, shape, params, options);
  const { n, c } = geo;
  const xb = ctx.upload(x);
  const { b, all } = uploadParams(ctx, params);
  const y = ctx.pool.acquire(count * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'acon-output');
  const betaOut = ctx.pool.acquire(n * c * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'acon-output');
  const named: [string, GPUBuffer, number][] = [];
  try {
    const done = ctx.submit((batch) => {
      const t = encodeBetaGenerator(ctx, batch, geo, r, { buffer: xb, size: count * 4 }, b, options.training, options.training);
      encodeAconCForward(ctx, batch, geo, { x: { buffer: xb, size: count * 4 }, p1: b.p1, p2: b.p2, beta: t.beta, y: { buffer: y, size: count * 4 } });
      batch.copy(t.beta, betaOut, n * c * 4);
      if (options.debug) for (const [k, bytes] of Object.entries(tempSizes(n, c, r))) named.push([k, t[k as keyof MetaForwardTemps], bytes]);
    });
    const debug = options.debug ? readNamed(ctx, named) : undefined;
    const [out] = await Promise.all([
      ctx.read([
        { buffer: y, bytes: count * 4 },
        { buffer: betaOut, bytes: n * c * 4 },
        { buffer: b.rm1 as GPUBuffer, bytes: r * 4 },
        { buffer: b.rv1 as GPUBuffer, bytes: r * 4 },
        { buffer: b.rm2 as GPUBuffer, bytes: c * 4 },
        { buffer: b.rv2 as GPUBuffer, bytes: c * 4 },
      ]),
      done,
    ]);
    const [ry, rbeta, rm1, rv1, rm2, rv2] = out.map(f32) as Float32Array[];
    const result: MetaAconCForwardResult = { y: ry!, beta: rbeta!, bn1: { runningMean: rm1!, runningVar: rv1! }, bn2: { runningMean: rm2!, runningVar: rv2! } };
    if (debug) result.intermediates = await debug;
    return result;
  } finally {
    for (const buf of [xb, y, betaOut, ...all]) ctx.pool.release(buf);
  }
}

/**
 * Meta-ACON-C backward for host data: every gradient, analytic, given the upstream gradient dy.
 * The β generator's forward is recomputed (it is tiny next to the tensor passes) without moving
 * the running statistics; in training mode it uses the batch statistics, as the forward did.
 */
export async function metaAconCBackward(
  ctx: GpuContext,
  x: Float32Array,
  dy: Float32Array,
  shape: Shape4,
  params: MetaAconCParams,
  options: MetaAconCOptions,
): Promise<MetaAconCGrads> {
  const { geo, count, r } = prepare(ctx, x, shape, params, options);
  checkFloat32(dy, count, 'dy');
  const { n, c } = geo;
  const xb = ctx.upload(x);
  const dyb = ctx.upload(dy);
  const { b, all } = uploadParams(ctx, params);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const sizes = { dx: count, p1: c, p2: c, w1: r * c, b1: r, g1: r, be1: r, w2: c * r, b2: c, g2: c, be2: c };
  const out = Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, ctx.pool.acquire(v * 4, usage, 'acon-output')])) as Record<keyof typeof sizes, GPUBuffer>;
  const xbind = { buffer: xb, size: count * 4 };
  const named: [string, GPUBuffer, number][] = [];
  try {
    const done = ctx.submit((batch) => {
      const t = encodeBetaGenerator(ctx, batch, geo, r, xbind, b, options.training, false);
      if (options.debug) for (const [k, bytes] of Object.entries(tempSizes(n, c, r))) named.push([k, t[k as keyof MetaForwardTemps], bytes]);
      const gbeta = batch.temp(n * c * 4);
      encodeAconCBackward(ctx, batch, geo, {
        x: xbind, dy: { buffer: dyb, size: count * 4 }, p1: b.p1, p2: b.p2, beta: t.beta,
        dx: { buffer: out.dx, size: count * 4 }, dp1: out.p1, dp2: out.p2, dbeta: gbeta,
      });
      const gh2 = batch.temp(n * c * 4);
      encodeBatchNormBackward(ctx, batch, n, c, bnOptions(options.training, false, true), {
        inp: t.h2, weight: b.g2, bias: b.be2, saved: t.saved2, gout: gbeta, gin: gh2, gweight: out.g2, gbias: out.be2,
      });
      const ga1 = batch.temp(n * r * 4);
      encodeConv1x1Backward(ctx, batch, { n, in: r, out: c }, { inp: t.a1, weight: b.w2, gout: gh2, gin: ga1, gweight: out.w2, gbias: out.b2 });
      const gh1 = batch.temp(n * r * 4);
      encodeBatchNormBackward(ctx, batch, n, r, bnOptions(options.training, false, false), {
        inp: t.h1, weight: b.g1, bias: b.be1, saved: t.saved1, gout: ga1, gin: gh1, gweight: out.g1, gbias: out.be1,
      });
      const gm = batch.temp(n * c * 4);
      encodeConv1x1Backward(ctx, batch, { n, in: c, out: r }, { inp: t.m, weight: b.w1, gout: gh1, gin: gm, gweight: out.w1, gbias: out.b1 });
      if (options.debug) {
        const dxDirect = batch.temp(count * 4);
        batch.copy(out.dx, dxDirect, count * 4);
        named.push(['gbeta', gbeta, n * c * 4], ['gh2', gh2, n * c * 4], ['ga1', ga1, n * r * 4], ['gh1', gh1, n * r * 4], ['gm', gm, n * c * 4], ['dxDirect', dxDirect, count * 4]);
      }
      encodeBroadcastAdd(ctx, batch, geo, gm, { buffer: out.dx, size: count * 4 }, 1 / (geo.h * geo.w));
    });
    const debug = options.debug ? readNamed(ctx, named) : undefined;
    const keys = Object.keys(sizes) as (keyof typeof sizes)[];
    const [res] = await Promise.all([ctx.read(keys.map((k) => ({ buffer: out[k], bytes: sizes[k] * 4 }))), done]);
    const g = Object.fromEntries(keys.map((k, i) => [k, f32(res[i]!)])) as Record<keyof typeof sizes, Float32Array>;
    const grads: MetaAconCGrads = {
      dx: g.dx, p1: g.p1, p2: g.p2,
      fc1: { weight: g.w1, bias: g.b1 }, bn1: { weight: g.g1, bias: g.be1 },
      fc2: { weight: g.w2, bias: g.b2 }, bn2: { weight: g.g2, bias: g.be2 },
    };
    if (debug) grads.intermediates = await debug;
    return grads;
  } finally {
    for (const buf of [xb, dyb, ...all, ...Object.values(out)]) ctx.pool.release(buf);
  }
}
