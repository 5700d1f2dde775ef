// The spatial mean of every (n, c) plane and its adjoint (a per-plane value added back to every
// element), in either data format: the first stage of Meta-ACON's β generator and the last of its
// backward. One function per entry point of shaders/reduce.wgsl. Imports only src/gpu and src/core.
import reduceCode from '../../shaders/reduce.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { Shader } from '../gpu/shader';
import type { Geometry } from '../core/types';
import { finishLevels, levelGroups, type FinishLevel } from './budget';
import {
  channelsLastPlan,
  clConsts,
  FEATURE_WG,
  sliceWorkgroup,
  strides,
  WGSL_PRELUDE,
  type ChannelsLastPlan,
} from './plan';

export const REDUCE_SHADER = new Shader('reduce', WGSL_PRELUDE + reduceCode);

/** Elements of a plane one mean workgroup sums at most. */
export const MEAN_CHUNK = 4096;

export interface MeanPlan {
  wg: number;
  vec4: boolean;
  /** Plane and chunk length in the entry point's units (vec4s, elements, or channels-last rows). */
  plane: number;
  chunks: number;
  chunk: number;
  /** Partial sums per chunk: wg, or the channels-last plan's lanes. */
  lanes: number;
  /** plane_groups levels before the means, where a plane has more partials than FINISH_TERMS. */
  finishing: FinishLevel[];
  /** Longest addition chain behind a mean (for error bounds): a walk, then lanes and chunks per level. */
  depth: number;
  cl?: ChannelsLastPlan;
}

/**
 * How the mean cuts planes (in vec4s for NCHW planes of a multiple of 4 elements) and its workgroup
 * size (sliceWorkgroup: small on software adapters).
 */
export function meanPlan(g: Geometry, software: boolean): MeanPlan {
  const finish = (p: Omit<MeanPlan, 'finishing' | 'depth'>, walk: number): MeanPlan => {
    const f = finishLevels({ slices: p.chunks, lanes: p.lanes, run: p.chunks });
    return { ...p, finishing: f.levels, depth: walk + f.chain + f.out.lanes + f.out.slices };
  };
  if (g.dataFormat === 'NHWC') {
    // channels-last: one plane per sample, tiles of MEAN_CHUNK elements (see channelsLastPlan)
    const cl = channelsLastPlan(g, MEAN_CHUNK, true, software);
    const { wg, vec4, plane, chunksPerPlane: chunks, chunk, lanes } = cl;
    return finish({ wg, vec4, plane, chunks, chunk, lanes, cl }, cl.termsPerInvocation);
  }
  const wg = sliceWorkgroup(software);
  const vec4 = g.dataFormat === 'NCHW' && (g.h * g.w) % 4 === 0;
  const unit = vec4 ? 4 : 1;
  const plane = (g.h * g.w) / unit;
  const chunks = Math.ceil(plane / (MEAN_CHUNK / unit));
  const chunk = Math.ceil(plane / chunks);
  return finish({ wg, vec4, plane, chunks, chunk, lanes: wg }, Math.ceil(chunk / wg) + (vec4 ? 2 : 0));
}

function reduceUniforms(
  g: Geometry,
  plane: number,
  chunks: number,
  chunk: number,
  scale: number,
  lanes: number,
  cl?: ChannelsLastPlan,
  group = 0,
): ArrayBuffer {
  const [stride_n, stride_c, stride_hw] = strides(g);
  return REDUCE_SHADER.uniforms({
    count: g.n * g.c * g.h * g.w,
    batch: g.n,
    channels: g.c,
    plane,
    stride_n,
    stride_c,
    stride_hw,
    chunks,
    chunk,
    scale,
    lanes,
    units: cl?.units ?? 0,
    blocks: cl?.blocks ?? 0,
    group,
  });
}

/** The spatial mean's partial sums: chunks × lanes per plane (n, c), plane-major; plane_means sums them. */
export interface MeanPartials {
  partials: GPUBuffer;
  chunks: number;
  lanes: number;
  scale: number;
}

/**
 * Records the first pass of the spatial mean: per-invocation partial sums of every plane, then
 * group sums of them (plane_groups) where a plane has more than one invocation should loop over.
 */
export function encodePlanePartials(ctx: GpuContext, rec: Recorder, g: Geometry, b: { x: Binding }): MeanPartials {
  const { x } = b;
  const { wg, vec4, plane, chunks, chunk, lanes, cl, finishing } = meanPlan(g, ctx.software);
  const scale = 1 / (g.h * g.w);
  const u = reduceUniforms(g, plane, chunks, chunk, scale, lanes, cl);
  const planes = g.n * g.c;
  const partials = rec.temp(planes * chunks * lanes * 4);
  const bindings = REDUCE_SHADER.bind(vec4 ? { x4: x, partials } : { x, partials });
  if (cl) {
    const entry = vec4 ? 'plane_partials_cl4' : 'plane_partials_cl';
    rec.dispatch(ctx.pipeline(REDUCE_SHADER, entry, clConsts(cl)), u, bindings, cl.workgroups);
  } else {
    const entry = vec4 ? 'plane_partials4' : 'plane_partials';
    rec.dispatch(ctx.pipeline(REDUCE_SHADER, entry, { WG: wg }), u, bindings, planes * chunks);
  }
  let out: MeanPartials = { partials, chunks, lanes, scale };
  for (const level of finishing) {
    const groups = planes * levelGroups(level);
    const sums = rec.temp(groups * 4);
    rec.dispatch(
      ctx.pipeline(REDUCE_SHADER, 'plane_groups', { WG: wg }),
      reduceUniforms(g, 0, level.slices, 0, scale, level.lanes, undefined, level.group),
      REDUCE_SHADER.bind({ partials: out.partials, group_sums: sums }),
      Math.ceil(groups / wg),
    );
    out = { partials: sums, chunks: levelGroups(level), lanes: 1, scale };
  }
  return out;
}

/** means[n·C + c] = mean over H, W of x[n, c]. */
export function encodePlaneMeans(ctx: GpuContext, rec: Recorder, g: Geometry, b: { x: Binding; means: Binding }): void {
  encodeMeansFromPartials(ctx, rec, g, { partials: encodePlanePartials(ctx, rec, g, { x: b.x }), means: b.means });
}

/** The mean's second pass: each plane's partial sums in a fixed order, × 1/(H·W). */
export function encodeMeansFromPartials(
  ctx: GpuContext,
  rec: Recorder,
  g: Geometry,
  b: { partials: MeanPartials; means: Binding },
): void {
  const p = b.partials;
  const wg = sliceWorkgroup(ctx.software);
  const u = reduceUniforms(g, 0, p.chunks, 0, p.scale, p.lanes);
  const planes = g.n * g.c;
  rec.dispatch(
    ctx.pipeline(REDUCE_SHADER, 'plane_means', { WG: wg }),
    u,
    REDUCE_SHADER.bind({ partials: p.partials, means: b.means }),
    Math.ceil(planes / wg),
  );
}

/** dx[n, c, h, w] += v[n·C + c]·scale. */
export function encodeBroadcastAdd(
  ctx: GpuContext,
  rec: Recorder,
  d: Geometry & { scale: number },
  b: { v: Binding; dx: Binding },
): void {
  const { scale } = d;
  const { v, dx } = b;
  const { wg, vec4, plane, chunks, chunk, cl } = meanPlan(d, ctx.software);
  const bindings = REDUCE_SHADER.bind(vec4 ? { v, dx4: dx } : { v, dx });
  if (cl) {
    const u = reduceUniforms(d, plane, chunks, chunk, scale, cl.lanes, cl);
    const entry = vec4 ? 'broadcast_add_cl4' : 'broadcast_add_cl';
    rec.dispatch(ctx.pipeline(REDUCE_SHADER, entry, clConsts(cl)), u, bindings, cl.workgroups);
    return;
  }
  if (vec4) {
    const u = reduceUniforms(d, plane, chunks, chunk, scale, wg);
    rec.dispatch(ctx.pipeline(REDUCE_SHADER, 'broadcast_add4', { WG: wg }), u, bindings, d.n * d.c * chunks);
    return;
  }
  const WG = FEATURE_WG;
  const u = reduceUniforms(d, d.h * d.w, 1, 1, scale, WG);
  const count = d.n * d.c * d.h * d.w;
  rec.dispatch(ctx.pipeline(REDUCE_SHADER, 'broadcast_add', { WG }), u, bindings, Math.ceil(count / WG));
}
