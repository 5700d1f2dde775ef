import code from '../../shaders/acon_c.wgsl?raw';
import type { Batch, Binding, GpuContext } from '../gpu/context';
import { packUniforms } from '../gpu/uniforms';

export const ACON_C_SHADER = { name: 'acon_c', code } as const;

/** Geometry of one ACON-C call: a [N, C, H, W] float32 tensor in NCHW or NHWC. */
export interface AconCGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  layout: 'NCHW' | 'NHWC';
  /** β has N·C entries (Meta-ACON) rather than C. */
  betaPerSample: boolean;
}

/** Workgroup sizes and work per workgroup. Powers of two (the reductions halve). */
export const FORWARD_WG = 64;
/** forward_rows4: vec4s per workgroup at most (4 per invocation). */
export const FORWARD_ROW_CHUNK = FORWARD_WG * 4;
export const BACKWARD_WG = 256;
/** Elements one backward workgroup reduces at most (16 per invocation). */
export const BACKWARD_SLICE_ELEMENTS = 4096;

const elements = (g: AconCGeometry) => g.n * g.c * g.h * g.w;
/** NCHW planes of a multiple of 4 elements take the vec4 entry points. */
const rows4 = (g: AconCGeometry) => g.layout === 'NCHW' && (g.h * g.w) % 4 === 0;

function strides(g: AconCGeometry): [number, number, number] {
  const hw = g.h * g.w;
  return g.layout === 'NCHW' ? [g.c * hw, hw, 1] : [hw * g.c, 1, g.c];
}

/** How the backward pass cuts each channel into slices, one workgroup each. */
export interface BackwardPlan {
  vec4: boolean;
  /** Plane length in the entry point's units (vec4s or elements). */
  plane: number;
  slices: number;
  planesPerSlice: number;
  chunksPerPlane: number;
  chunk: number;
  /**
   * Longest chain of float32 additions behind one channel sum: terms per invocation, the two
   * workgroup trees, the finishing pass's sequential part, and the chunks of a per-sample dβ.
   * Tests use it for the error bound γ_depth = depth·u / (1 − depth·u).
   */
  depth: number;
}

export function backwardPlan(g: AconCGeometry): BackwardPlan {
  const vec4 = rows4(g);
  const unit = vec4 ? 4 : 1;
  const plane = (g.h * g.w) / unit;
  const target = BACKWARD_SLICE_ELEMENTS / unit;
  let planesPerSlice = 1;
  let chunksPerPlane = 1;
  let chunk = plane;
  if (plane >= target) {
    chunksPerPlane = Math.ceil(plane / target);
    chunk = Math.ceil(plane / chunksPerPlane);
  } else if (!g.betaPerSample) {
    planesPerSlice = Math.min(g.n, Math.floor(target / plane));
  }
  const slices = Math.ceil(g.n / planesPerSlice) * chunksPerPlane;
  const perInvocation = planesPerSlice * Math.ceil(chunk / BACKWARD_WG) + (vec4 ? 2 : 0);
  const tree = Math.log2(BACKWARD_WG);
  const depth = perInvocation + tree + Math.ceil(slices / BACKWARD_WG) + tree + (g.betaPerSample ? chunksPerPlane : 0);
  return { vec4, plane, slices, planesPerSlice, chunksPerPlane, chunk, depth };
}

export interface AconCForwardBuffers {
  x: Binding;
  p1: Binding;
  p2: Binding;
  beta: Binding;
  y: Binding;
}

/** Records y = ACON-C(x): one pass over memory. */
export function encodeAconCForward(ctx: GpuContext, batch: Batch, g: AconCGeometry, b: AconCForwardBuffers): void {
  const [sn, sc, shw] = strides(g);
  const params = { 2: b.p1, 3: b.p2, 4: b.beta };
  if (rows4(g)) {
    const plane = (g.h * g.w) / 4;
    const chunksPerRow = Math.ceil(plane / FORWARD_ROW_CHUNK);
    const chunk = Math.ceil(plane / chunksPerRow);
    const rows = g.n * g.c;
    const u = packUniforms([rows, g.n, g.c, plane, sn, sc, shw, +g.betaPerSample, 0, 0, 0, chunk]);
    const pipeline = ctx.pipeline(ACON_C_SHADER, 'forward_rows4', { WG: FORWARD_WG });
    batch.dispatch(pipeline, u, { 11: b.x, 15: b.y, ...params }, rows * chunksPerRow);
  } else {
    const count = elements(g);
    const u = packUniforms([count, g.n, g.c, g.h * g.w, sn, sc, shw, +g.betaPerSample, 0, 0, 0, 0]);
    const pipeline = ctx.pipeline(ACON_C_SHADER, 'forward', { WG: FORWARD_WG });
    batch.dispatch(pipeline, u, { 1: b.x, 5: b.y, ...params }, Math.ceil(count / FORWARD_WG));
  }
}

export interface AconCBackwardBuffers {
  x: Binding;
  dy: Binding;
  p1: Binding;
  p2: Binding;
  beta: Binding;
  dx: Binding;
  dp1: Binding;
  dp2: Binding;
  dbeta: Binding;
}

/**
 * Records the fused backward: one pass writes dx and per-slice partial sums of dp1, dp2, dβ; a
 * second, tiny pass sums the partials per channel in a fixed order (deterministic).
 */
export function encodeAconCBackward(ctx: GpuContext, batch: Batch, g: AconCGeometry, b: AconCBackwardBuffers): void {
  const [sn, sc, shw] = strides(g);
  const plan = backwardPlan(g);
  const u = packUniforms([
    elements(g),
    g.n,
    g.c,
    plan.plane,
    sn,
    sc,
    shw,
    +g.betaPerSample,
    plan.slices,
    plan.planesPerSlice,
    plan.chunksPerPlane,
    plan.chunk,
  ]);
  const partials = batch.temp(g.c * plan.slices * 3 * 4);
  const params = { 2: b.p1, 3: b.p2, 4: b.beta, 8: partials };
  const consts = { WG: BACKWARD_WG };
  const [entry, io] = plan.vec4
    ? ['backward_rows4', { 11: b.x, 16: b.dy, 17: b.dx }]
    : ['backward', { 1: b.x, 6: b.dy, 7: b.dx }];
  batch.dispatch(ctx.pipeline(ACON_C_SHADER, entry, consts), u, { ...io, ...params }, g.c * plan.slices);
  const finish = ctx.pipeline(ACON_C_SHADER, 'backward_finish', consts);
  batch.dispatch(finish, u, { 8: partials, 9: b.dp1, 10: b.dp2, 12: b.dbeta }, g.c);
}
