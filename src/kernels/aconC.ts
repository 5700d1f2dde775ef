import prelude from '../../shaders/prelude.wgsl?raw';
import code from '../../shaders/acon_c.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../gpu/context';
import { Shader } from '../gpu/shader';
import { FINISH_TERMS, finishLevels, levelGroups, type FinishInput, type FinishLevel } from './budget';

/** The shared WGSL helpers (grid index, σ, channels-last walk), prepended to every kernel file. */
export const WGSL_PRELUDE = prelude;
export const ACON_C_SHADER = new Shader('acon_c', prelude + code);

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

/**
 * Workgroup size of the slice kernels (forward and backward; none reduces across a workgroup).
 * SwiftShader runs a workgroup's invocations four at a time, one group after another, and there
 * small workgroups measured fastest (8 against 64: about 20 % less time for the forward and 25 % for
 * the backward; about 12 % for a plain copy); GPUs want 64.
 */
export const sliceWorkgroup = (software: boolean) => (software ? 8 : 64);
/**
 * Elements per workgroup (slice). CPU adapters such as SwiftShader pay per workgroup far more than
 * GPUs, so they get 4096 (512 per invocation); GPUs 1024 (16 per invocation), for more workgroups in
 * flight. The backward pass keeps 4096 everywhere: each invocation's partial sums cost 12 bytes.
 */
export const forwardSliceElements = (software: boolean) => (software ? 4096 : 1024);
export const BACKWARD_SLICE_ELEMENTS = 4096;
/**
 * Per-sample β on planes this small: one invocation per (n, c) plane (backward_planes), which then
 * writes dβ[n, c] itself. 64 elements is where one invocation's serial walk still costs less than
 * the slice kernel's partial sums and finishing pass for that plane (an 8×8 plane; Meta-ACON's late
 * stages are 7×7), and it bounds the serial addition chain behind dβ at 64 terms.
 */
export const BACKWARD_PLANE_PER_INVOCATION_MAX = 64;

const elements = (g: AconCGeometry) => g.n * g.c * g.h * g.w;
/** NCHW planes of a multiple of 4 elements take the vec4 entry points. */
const rows4 = (g: AconCGeometry) => g.layout === 'NCHW' && (g.h * g.w) % 4 === 0;

/** Element strides (n, c, hw) of the geometry's layout. */
export function strides(g: AconCGeometry): [number, number, number] {
  const hw = g.h * g.w;
  return g.layout === 'NCHW' ? [g.c * hw, hw, 1] : [hw * g.c, 1, g.c];
}

/** The WGSL `Geometry` uniform. */
function geometry(
  g: AconCGeometry,
  f: {
    plane: number;
    slices?: number;
    planesPerSlice?: number;
    chunksPerPlane?: number;
    chunk: number;
    /** backward_finish's sums (FINISH_PARAMS | FINISH_SAMPLE_BETA) and backward_group's slices per group. */
    finish?: number;
    group?: number;
    lanes: number;
    /** Channels-last: planes (N, or 1 when nothing is per sample), channel units and blocks. */
    planes?: number;
    units?: number;
    blocks?: number;
  },
): ArrayBuffer {
  const [stride_n, stride_c, stride_hw] = strides(g);
  return ACON_C_SHADER.uniforms({
    count: elements(g),
    batch: f.planes ?? g.n,
    channels: g.c,
    plane: f.plane,
    stride_n,
    stride_c,
    stride_hw,
    slices: f.slices ?? 0,
    planes_per_slice: f.planesPerSlice ?? 0,
    chunks_per_plane: f.chunksPerPlane ?? 0,
    chunk: f.chunk,
    finish: f.finish ?? 0,
    group: f.group ?? 0,
    lanes: f.lanes,
    units: f.units ?? 0,
    channel_blocks: f.blocks ?? 0,
  });
}

/**
 * How a channels-last (NHWC) pass tiles the tensor, seen as a matrix of rows × channel units (see
 * the WGSL prelude's cl_tile): with vec4 units a row is lcm(C, 4) elements, i.e. `pixelsPerRow` =
 * 4/gcd(C, 4) pixels, and unit u holds channels (4u + k) mod C; with scalar units (when the rows
 * do not tile the planes) a row is a pixel and a unit a channel. Workgroups of lanesC × lanesP
 * invocations each take lanesC consecutive units (one of `blocks` channel blocks) over one chunk of
 * rows of one plane. Planes are samples when `perSample` (per-sample β, spatial means), else the
 * whole batch is one plane.
 */
export interface ChannelsLastPlan {
  vec4: boolean;
  /** Channel units per row. */
  units: number;
  /** Pixels per row (1 for scalar units). */
  pixelsPerRow: number;
  lanesC: number;
  lanesP: number;
  /** Workgroup size lanesC·lanesP. */
  wg: number;
  blocks: number;
  planes: number;
  /** Rows per plane. */
  plane: number;
  chunksPerPlane: number;
  /** Rows per chunk. */
  chunk: number;
  /** Tiles per channel block: planes · chunksPerPlane. */
  slices: number;
  workgroups: number;
  /** Partial sums per channel and tile: lanesP · the channel's repeats in a row (pixelsPerRow). */
  lanes: number;
  /** Longest chain of float32 additions one invocation makes over its walk (one term per row step). */
  termsPerInvocation: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Tiles of about `target` elements with workgroups of about sliceWorkgroup(software) invocations:
 * as many channel units across as that allows (all of them when C is small), the rest of the
 * workgroup across rows. vec4 units whenever rows of lcm(C, 4) elements tile every plane.
 */
export function channelsLastPlan(
  g: AconCGeometry,
  target: number,
  perSample: boolean,
  software: boolean,
): ChannelsLastPlan {
  const planePixels = (perSample ? 1 : g.n) * g.h * g.w;
  const rowPixels = 4 / gcd(g.c, 4);
  const vec4 = planePixels % rowPixels === 0;
  const pixelsPerRow = vec4 ? rowPixels : 1;
  const units = vec4 ? (g.c * rowPixels) / 4 : g.c;
  const wgTarget = sliceWorkgroup(software);
  const lanesC = Math.min(units, wgTarget);
  const lanesP = Math.max(1, Math.floor(wgTarget / lanesC));
  const blocks = Math.ceil(units / lanesC);
  const planes = perSample ? g.n : 1;
  const plane = planePixels / pixelsPerRow;
  const want = Math.max(lanesP, Math.round(target / (lanesC * (vec4 ? 4 : 1))));
  const chunksPerPlane = Math.ceil(plane / want);
  const chunk = Math.ceil(plane / chunksPerPlane);
  const slices = planes * chunksPerPlane;
  return {
    vec4,
    units,
    pixelsPerRow,
    lanesC,
    lanesP,
    wg: lanesC * lanesP,
    blocks,
    planes,
    plane,
    chunksPerPlane,
    chunk,
    slices,
    workgroups: blocks * slices,
    lanes: lanesP * pixelsPerRow,
    termsPerInvocation: Math.ceil(chunk / lanesP),
  };
}

const clUniforms = (g: AconCGeometry, p: ChannelsLastPlan) =>
  geometry(g, {
    plane: p.plane,
    slices: p.slices,
    chunksPerPlane: p.chunksPerPlane,
    chunk: p.chunk,
    lanes: p.lanes,
    planes: p.planes,
    units: p.units,
    blocks: p.blocks,
  });
/** The pipeline constants of a channels-last plan's tile (the WGSL prelude's overrides). */
export const clConsts = (p: ChannelsLastPlan) => ({ WG: p.wg, LANES_C: p.lanesC, LANES_P: p.lanesP });

/** How a pass cuts each channel into slices, one workgroup each (see the WGSL's Slice). */
export interface SlicePlan {
  /** The entry point's vec4 variant applies (NCHW, H·W a multiple of 4). */
  vec4: boolean;
  /** Plane length in the entry point's units (vec4s or elements). */
  plane: number;
  slices: number;
  planesPerSlice: number;
  chunksPerPlane: number;
  chunk: number;
}

/**
 * Slices of about `target` elements: whole planes of several samples when planes are small, a
 * chunk of one plane when they are large. `oneSample` keeps every slice within one sample.
 */
export function slicePlan(g: AconCGeometry, target: number, oneSample: boolean): SlicePlan {
  const vec4 = rows4(g);
  const unit = vec4 ? 4 : 1;
  const plane = (g.h * g.w) / unit;
  const units = Math.max(1, Math.floor(target / unit));
  let planesPerSlice = 1;
  let chunksPerPlane = 1;
  let chunk = plane;
  if (plane >= units) {
    chunksPerPlane = Math.ceil(plane / units);
    chunk = Math.ceil(plane / chunksPerPlane);
  } else if (!oneSample) {
    planesPerSlice = Math.min(g.n, Math.floor(units / plane));
  }
  const slices = Math.ceil(g.n / planesPerSlice) * chunksPerPlane;
  return { vec4, plane, slices, planesPerSlice, chunksPerPlane, chunk };
}

/** backward_finish's sums: dp1, dp2 (and a per-channel dβ); a per-sample dβ (the WGSL's `finish` bits). */
export const FINISH_PARAMS = 1;
export const FINISH_SAMPLE_BETA = 2;

/** A finishing dispatch of the backward: a level of group sums, or backward_finish itself. */
export type FinishStep =
  ({ entry: 'backward_group' } & FinishLevel) | ({ entry: 'backward_finish'; sums: number } & FinishInput);

/**
 * The finishing passes for partial sums of `slices` × `lanes` per channel, and the longest addition
 * chain they make. One backward_finish as before when a channel's partials fit one invocation
 * (FINISH_TERMS), so those shapes keep their order and bits. Otherwise backward_group levels come
 * first: for a per-sample dβ (`chunksPerPlane` slices per plane) within each plane until a plane's
 * partials fit, where dβ is finished, then across planes for dp1 and dp2.
 */
export function finishSteps(
  slices: number,
  lanes: number,
  chunksPerPlane: number,
  perSampleBeta: boolean,
): { steps: FinishStep[]; chain: number } {
  const steps: FinishStep[] = [];
  const levels = (input: FinishInput) => {
    const f = finishLevels(input);
    steps.push(...f.levels.map((l) => ({ entry: 'backward_group' as const, ...l })));
    return f;
  };
  const finish = (sums: number, f: FinishInput) => steps.push({ entry: 'backward_finish', sums, ...f });
  if (!perSampleBeta) {
    const a = levels({ slices, lanes, run: slices });
    finish(FINISH_PARAMS, a.out);
    return { steps, chain: a.chain + a.out.lanes + a.out.slices };
  }
  const a = levels({ slices, lanes, run: chunksPerPlane });
  if (a.out.slices * a.out.lanes <= FINISH_TERMS) {
    finish(FINISH_PARAMS | FINISH_SAMPLE_BETA, a.out);
    return { steps, chain: a.chain + a.out.lanes + a.out.slices };
  }
  finish(FINISH_SAMPLE_BETA, a.out);
  const b = levels({ ...a.out, run: a.out.slices });
  finish(FINISH_PARAMS, b.out);
  // dβ's chain (a.chain + lanes + a plane's slices) is the shorter: b starts where it ends
  return { steps, chain: a.chain + b.chain + b.out.lanes + b.out.slices };
}

export interface BackwardPlan extends SlicePlan {
  entry: 'backward' | 'backward_rows4' | 'backward_planes' | 'backward_cl4' | 'backward_cl';
  /** Workgroup size (see sliceWorkgroup). */
  wg: number;
  /** Partial sums per slice: WG, or for channels-last the plan's lanes (lanesP · repeats of a channel in a row). */
  lanes: number;
  /** Channels-last tiling (entry backward_cl4 / backward_cl). */
  cl?: ChannelsLastPlan;
  /** Terms one invocation of the first pass accumulates (its walk). */
  termsPerInvocation: number;
  /** The finishing dispatches, in order (see finishSteps). */
  finishing: FinishStep[];
  /**
   * Longest chain of float32 additions behind any parameter gradient: the terms one invocation
   * accumulates, then the finishing passes' lanes per slice and slices (or chunks) in turn, level by
   * level. Tests use it for the error bound γ_depth = depth·u / (1 − depth·u).
   */
  depth: number;
}

/** The backward's plan for this geometry on a software (CPU) adapter or a GPU. */
export function backwardPlan(g: AconCGeometry, software: boolean): BackwardPlan {
  if (g.layout === 'NHWC') {
    const cl = channelsLastPlan(g, BACKWARD_SLICE_ELEMENTS, g.betaPerSample, software);
    const { vec4, plane, slices, chunksPerPlane, chunk, wg, lanes, termsPerInvocation } = cl;
    const { steps, chain } = finishSteps(slices, lanes, chunksPerPlane, g.betaPerSample);
    return {
      entry: vec4 ? 'backward_cl4' : 'backward_cl',
      wg,
      lanes,
      vec4,
      plane,
      slices,
      planesPerSlice: 1,
      chunksPerPlane,
      chunk,
      cl,
      termsPerInvocation,
      finishing: steps,
      depth: termsPerInvocation + chain,
    };
  }
  const wg = sliceWorkgroup(software);
  const hw = g.h * g.w;
  if (g.betaPerSample && hw <= BACKWARD_PLANE_PER_INVOCATION_MAX) {
    const slices = Math.ceil(g.n / wg);
    // dβ[n, c] is written by backward_planes itself: the finish sums only dp1, dp2
    const { steps, chain } = finishSteps(slices, wg, 1, false);
    return {
      entry: 'backward_planes',
      wg,
      lanes: wg,
      vec4: false,
      plane: hw,
      slices,
      planesPerSlice: wg,
      chunksPerPlane: 1,
      chunk: hw,
      termsPerInvocation: hw,
      finishing: steps,
      depth: hw + chain,
    };
  }
  const plan = slicePlan(g, BACKWARD_SLICE_ELEMENTS, g.betaPerSample);
  // a vec4's four terms are summed pairwise first: 2 more additions in the chain
  const termsPerInvocation = Math.ceil((plan.planesPerSlice * plan.chunk) / wg) + (plan.vec4 ? 2 : 0);
  const { steps, chain } = finishSteps(plan.slices, wg, plan.chunksPerPlane, g.betaPerSample);
  const entry = plan.vec4 ? 'backward_rows4' : 'backward';
  return { ...plan, entry, wg, lanes: wg, termsPerInvocation, finishing: steps, depth: termsPerInvocation + chain };
}

export interface AconCForwardBuffers {
  x: Binding;
  p1: Binding;
  p2: Binding;
  beta: Binding;
  y: Binding;
}

/** Records y = ACON-C(x): one pass over memory. */
export function encodeAconCForward(ctx: GpuContext, batch: Recorder, g: AconCGeometry, b: AconCForwardBuffers): void {
  const params = { p1: b.p1, p2: b.p2, beta: b.beta };
  const bind = (vec4: boolean) =>
    ACON_C_SHADER.bind(vec4 ? { x4: b.x, y4: b.y, ...params } : { x: b.x, y: b.y, ...params });
  const perSample = +g.betaPerSample;
  if (g.layout === 'NHWC') {
    const cl = channelsLastPlan(g, forwardSliceElements(ctx.software), g.betaPerSample, ctx.software);
    const entry = cl.vec4 ? 'forward_cl4' : 'forward_cl';
    batch.dispatch(
      ctx.pipeline(ACON_C_SHADER, entry, { ...clConsts(cl), PER_SAMPLE_BETA: perSample }),
      clUniforms(g, cl),
      bind(cl.vec4),
      cl.workgroups,
    );
    return;
  }
  const plan = slicePlan(g, forwardSliceElements(ctx.software), false);
  const sliceConsts = { WG: sliceWorkgroup(ctx.software), PER_SAMPLE_BETA: perSample };
  const u = geometry(g, { ...plan, lanes: sliceConsts.WG });
  if (plan.vec4 && plan.planesPerSlice === 1) {
    // slices are chunks of single planes: take them in memory order with the one-loop kernel
    const pipeline = ctx.pipeline(ACON_C_SHADER, 'forward_chunks4', sliceConsts);
    batch.dispatch(pipeline, u, bind(true), g.n * g.c * plan.chunksPerPlane);
    return;
  }
  const entry = plan.vec4 ? 'forward_rows4' : 'forward';
  batch.dispatch(ctx.pipeline(ACON_C_SHADER, entry, sliceConsts), u, bind(plan.vec4), g.c * plan.slices);
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
 * Records the fused backward: one pass writes dx and per-invocation partial sums of dp1, dp2, dβ;
 * a second, tiny pass sums the partials per channel in a fixed order (deterministic), after group
 * passes where a channel has more partials than one invocation should loop over (see finishSteps).
 */
export function encodeAconCBackward(ctx: GpuContext, batch: Recorder, g: AconCGeometry, b: AconCBackwardBuffers): void {
  const plan = backwardPlan(g, ctx.software);
  const u = plan.cl ? clUniforms(g, plan.cl) : geometry(g, plan);
  const partials = batch.temp(g.c * plan.slices * plan.lanes * 3 * 4);
  const consts = plan.cl
    ? { ...clConsts(plan.cl), PER_SAMPLE_BETA: +g.betaPerSample }
    : { WG: plan.wg, PER_SAMPLE_BETA: +g.betaPerSample };
  const io: Record<string, Binding> = plan.vec4 ? { x4: b.x, dy4: b.dy, dx4: b.dx } : { x: b.x, dy: b.dy, dx: b.dx };
  const direct: Record<string, Binding> = plan.entry === 'backward_planes' ? { dbeta: b.dbeta } : {};
  const workgroups = plan.cl ? plan.cl.workgroups : g.c * plan.slices;
  const bindings = ACON_C_SHADER.bind({ ...io, p1: b.p1, p2: b.p2, beta: b.beta, partials, ...direct });
  batch.dispatch(ctx.pipeline(ACON_C_SHADER, plan.entry, consts), u, bindings, workgroups);
  const finishConsts = { WG: plan.wg, PER_SAMPLE_BETA: +g.betaPerSample };
  let input: Binding = partials;
  for (const step of plan.finishing) {
    const fields = { plane: 0, chunk: 0, slices: step.slices, lanes: step.lanes, chunksPerPlane: step.run };
    if (step.entry === 'backward_group') {
      const groups = g.c * levelGroups(step);
      const sums = batch.temp(groups * 3 * 4);
      batch.dispatch(
        ctx.pipeline(ACON_C_SHADER, 'backward_group', finishConsts),
        geometry(g, { ...fields, group: step.group }),
        ACON_C_SHADER.bind({ partials: input, group_sums: sums }),
        Math.ceil(groups / plan.wg),
      );
      input = sums;
    } else {
      const sums = g.betaPerSample && step.sums & FINISH_SAMPLE_BETA ? g.n * g.c : g.c;
      batch.dispatch(
        ctx.pipeline(ACON_C_SHADER, 'backward_finish', finishConsts),
        geometry(g, { ...fields, finish: step.sums }),
        ACON_C_SHADER.bind({ partials: input, dp1: b.dp1, dp2: b.dp2, dbeta: b.dbeta }),
        Math.ceil(sums / plan.wg),
      );
    }
  }
}
