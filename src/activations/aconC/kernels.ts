// ACON-C's kernels: the fused forward (one pass over memory) and backward (dx and per-invocation
// partial sums of dp1, dp2, dβ, then the finishing passes), with the plan each takes for a geometry.
// shaders/acon_c.wgsl holds the math; the slicing and finishing plans are the shared ones of
// src/kernels.
import code from '../../../shaders/acon_c.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../../gpu/context';
import { Shader } from '../../gpu/shader';
import type { Geometry } from '../../core/types';
import type { Kernels, KernelCall } from '../types';
import type { aconCParams } from './params';
import { levelGroups } from '../../kernels/budget';
import { FINISH_SAMPLE_BETA, finishSteps, type FinishStep } from '../../kernels/finish';
import {
  BACKWARD_SLICE_ELEMENTS,
  channelsLastPlan,
  clConsts,
  clGeometryUniforms,
  forwardSliceElements,
  geometryUniforms,
  sliceWorkgroup,
  slicePlan,
  WGSL_PRELUDE,
  type ChannelsLastPlan,
  type GeometryFields,
  type SlicePlan,
} from '../../kernels/plan';

export const ACON_C_SHADER = new Shader('acon_c', WGSL_PRELUDE + code);

/** Geometry of one ACON-C call: a [N, C, H, W] float32 tensor in NCHW or NHWC. */
export interface AconCGeometry extends Geometry {
  /** β has N·C entries (Meta-ACON) rather than C. */
  betaPerSample: boolean;
}

/**
 * Per-sample β on planes this small: one invocation per (n, c) plane (backward_planes), which then
 * writes dβ[n, c] itself. 64 elements is where one invocation's serial walk still costs less than
 * the slice kernel's partial sums and finishing pass for that plane (an 8×8 plane; Meta-ACON's late
 * stages are 7×7), and it bounds the serial addition chain behind dβ at 64 terms.
 */
export const BACKWARD_PLANE_PER_INVOCATION_MAX = 64;

/** The WGSL `Geometry` uniform. */
const geometry = (g: AconCGeometry, f: GeometryFields) => geometryUniforms(ACON_C_SHADER, g, f);
const clUniforms = (g: AconCGeometry, p: ChannelsLastPlan) => clGeometryUniforms(ACON_C_SHADER, g, p);

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
  if (g.dataFormat === 'NHWC') {
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

/** The forward's bindings by the kernel's names (the ops' AconCForwardBuffers are the caller's GPUBuffers). */
export interface AconCForwardBindings {
  x: Binding;
  p1: Binding;
  p2: Binding;
  beta: Binding;
  y: Binding;
}

/** Records y = ACON-C(x): one pass over memory. */
export function encodeAconCForward(ctx: GpuContext, rec: Recorder, g: AconCGeometry, b: AconCForwardBindings): void {
  const params = { p1: b.p1, p2: b.p2, beta: b.beta };
  const bind = (vec4: boolean) =>
    ACON_C_SHADER.bind(vec4 ? { x4: b.x, y4: b.y, ...params } : { x: b.x, y: b.y, ...params });
  const perSample = +g.betaPerSample;
  if (g.dataFormat === 'NHWC') {
    const cl = channelsLastPlan(g, forwardSliceElements(ctx.software), g.betaPerSample, ctx.software);
    const entry = cl.vec4 ? 'forward_cl4' : 'forward_cl';
    rec.dispatch(
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
    rec.dispatch(pipeline, u, bind(true), g.n * g.c * plan.chunksPerPlane);
    return;
  }
  const entry = plan.vec4 ? 'forward_rows4' : 'forward';
  rec.dispatch(ctx.pipeline(ACON_C_SHADER, entry, sliceConsts), u, bind(plan.vec4), g.c * plan.slices);
}

/** The backward's bindings by the kernel's names: the gradients are dx, dp1, dp2, dbeta. */
export interface AconCBackwardBindings {
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
export function encodeAconCBackward(ctx: GpuContext, rec: Recorder, g: AconCGeometry, b: AconCBackwardBindings): void {
  const plan = backwardPlan(g, ctx.software);
  const u = plan.cl ? clUniforms(g, plan.cl) : geometry(g, plan);
  const partials = rec.temp(g.c * plan.slices * plan.lanes * 3 * 4);
  const consts = plan.cl
    ? { ...clConsts(plan.cl), PER_SAMPLE_BETA: +g.betaPerSample }
    : { WG: plan.wg, PER_SAMPLE_BETA: +g.betaPerSample };
  const io: Record<string, Binding> = plan.vec4 ? { x4: b.x, dy4: b.dy, dx4: b.dx } : { x: b.x, dy: b.dy, dx: b.dx };
  const direct: Record<string, Binding> = plan.entry === 'backward_planes' ? { dbeta: b.dbeta } : {};
  const workgroups = plan.cl ? plan.cl.workgroups : g.c * plan.slices;
  const bindings = ACON_C_SHADER.bind({ ...io, p1: b.p1, p2: b.p2, beta: b.beta, partials, ...direct });
  rec.dispatch(ctx.pipeline(ACON_C_SHADER, plan.entry, consts), u, bindings, workgroups);
  const finishConsts = { WG: plan.wg, PER_SAMPLE_BETA: +g.betaPerSample };
  let input: Binding = partials;
  for (const step of plan.finishing) {
    const fields = { plane: 0, chunk: 0, slices: step.slices, lanes: step.lanes, chunksPerPlane: step.run };
    if (step.entry === 'backward_group') {
      const groups = g.c * levelGroups(step);
      const sums = rec.temp(groups * 3 * 4);
      rec.dispatch(
        ctx.pipeline(ACON_C_SHADER, 'backward_group', finishConsts),
        geometry(g, { ...fields, group: step.group }),
        ACON_C_SHADER.bind({ partials: input, group_sums: sums }),
        Math.ceil(groups / plan.wg),
      );
      input = sums;
    } else {
      const sums = g.betaPerSample && step.sums & FINISH_SAMPLE_BETA ? g.n * g.c : g.c;
      rec.dispatch(
        ctx.pipeline(ACON_C_SHADER, 'backward_finish', finishConsts),
        geometry(g, { ...fields, finish: step.sums }),
        ACON_C_SHADER.bind({ partials: input, dp1: b.dp1, dp2: b.dp2, dbeta: b.dbeta }),
        Math.ceil(sums / plan.wg),
      );
    }
  }
}

const NO_OUTPUTS = {};

/** A call's geometry: β per sample as the generic forms resolved it. */
const geometryOf = ({ geo: g, perSample }: KernelCall): AconCGeometry => ({
  n: g.n,
  c: g.c,
  h: g.h,
  w: g.w,
  dataFormat: g.dataFormat,
  betaPerSample: perSample.beta!,
});

/**
 * A parameter (or gradient) buffer's binding. In the GPU-resident forms the buffers are the caller's
 * (tfjs's are larger than the tensors they hold): bind exactly the call's extent.
 */
function param(k: KernelCall, g: AconCGeometry, buffer: GPUBuffer, isBeta = false): Binding {
  if (k.form !== 'buffers') return buffer;
  return { buffer, size: (isBeta && g.betaPerSample ? g.n * g.c : g.c) * 4 };
}

/** ACON-C's kernels for the generic call forms; the gradients' WGSL names are dp1, dp2, dbeta. */
export const aconCKernels: Kernels<typeof aconCParams, object, never> = {
  shaders: [ACON_C_SHADER],
  forward(rec, k, { x, y, params: p }) {
    const g = geometryOf(k);
    encodeAconCForward(k.ctx, rec, g, {
      x,
      p1: param(k, g, p.p1),
      p2: param(k, g, p.p2),
      beta: param(k, g, p.beta, true),
      y,
    });
    return NO_OUTPUTS;
  },
  backward(rec, k, { x, dy, dx, params: p, grads: d }) {
    const g = geometryOf(k);
    encodeAconCBackward(k.ctx, rec, g, {
      x,
      dy,
      p1: param(k, g, p.p1),
      p2: param(k, g, p.p2),
      beta: param(k, g, p.beta, true),
      dx,
      dp1: param(k, g, d.p1),
      dp2: param(k, g, d.p2),
      dbeta: param(k, g, d.beta, true),
    });
  },
  reductionDepth: (geo, perSample, software) =>
    backwardPlan({ ...geo, betaPerSample: perSample.beta! }, software).depth,
};
