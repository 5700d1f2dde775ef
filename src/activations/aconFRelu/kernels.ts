// ACON-FReLU's kernels: the fused eval forward (shaders/acon_frelu.wgsl: the whole activation in one
// pass, one invocation per output element or four channels), the training forward and the backward
// (shaders/acon_frelu_train.wgsl: per-channel sums over N·Ho·Wo in a fixed order), and the
// declaration's Kernels object over them.
import code from '../../../shaders/acon_frelu.wgsl?raw';
import rowsCode from '../../../shaders/frelu_rows.wgsl?raw';
import trainCode from '../../../shaders/acon_frelu_train.wgsl?raw';
import type { Binding, GpuContext, Recorder } from '../../gpu/context';
import { Shader } from '../../gpu/shader';
import type { Geometry } from '../../core/types';
import { BN_EPS, BN_MOMENTUM } from '../../kernels/batchnorm';
import { LimitError } from '../../gpu/errors';
import type { Kernels } from '../types';
import type { aconFReluParams } from './params';
import { WGSL_PRELUDE } from '../../kernels/plan';

/**
 * The strip walks' shared WGSL (frelu_rows.wgsl: the rows they read, where their invocations work,
 * the window sums and the stride-2 pool), prepended to both ACON-FReLU shaders and to
 * bench/window.wgsl.
 */
export const FRELU_ROWS_WGSL: string = rowsCode;
export const ACON_FRELU_SHADER = new Shader('acon_frelu', WGSL_PRELUDE + FRELU_ROWS_WGSL + code);

const WG = 64;
/**
 * Output rows per invocation of the strip walks (the eval forward's, the training's ahead of its
 * passes, dx's), for a plane of h output rows and `columns` invocations per band of strips (the
 * walk's channels × column groups × samples). On a CPU adapter long strips, up to 64 rows (each step
 * reads one row at stride 1, two at stride 2, a strip's first three): SwiftShader at
 * [8, 64, 56, 56], branch-free loads, two runs side by side: NCHW 8 rows 13.0–13.3 ms, 16 rows
 * 12.5–12.8, 32 rows 11.4–11.7, 56 rows 10.4–10.7; NHWC 15.7–16.2, 14.4–14.6, 12.9–13.6, 11.8–13.0.
 * Shorter ones where the grid would otherwise have fewer than 8 workgroups (a batch-1 plane with few
 * channels), so that every core of the CPU has some. On a GPU 8 rows, for more invocations in flight
 * (not measured: no GPU here).
 */
export function stripRows(software: boolean, h: number, columns: number): number {
  if (!software) return 8;
  const strips = Math.max(Math.ceil(h / 64), Math.min(Math.ceil(h / 8), Math.ceil((8 * WG) / columns)));
  return Math.ceil(h / strips);
}

/** A strip walk's grid: its rows per strip (stripRows) and its invocations, `columns` per band of strips. */
export function stripGrid(software: boolean, h: number, columns: number): { rows: number; invocations: number } {
  const rows = stripRows(software, h, columns);
  return { rows, invocations: columns * Math.ceil(h / rows) };
}

/** One side of the output: the conv's and the pool's, ⌊(size + 2 − 3)/s⌋ + 1. */
export const outSize = (size: number, stride: number): number => Math.floor((size - 1) / stride) + 1;

/** The parameters as buffers, PyTorch's names (conv_frelu.weight [C, 1, 3, 3], the rest [C]). */
export interface AconFReluBuffers {
  convFrelu: { weight: Binding; bias: Binding };
  bn1: { weight: Binding; bias: Binding; runningMean: Binding; runningVar: Binding };
  bn2: { weight: Binding; bias: Binding; runningMean: Binding; runningVar: Binding };
}

/**
 * Records the parameters' packing into one buffer of 18·C values (the shaders' `params`): the conv
 * weight [C, 9], then bias, bn1's weight, bias, running mean and variance, bn2's, C values each. Two
 * small dispatches read the caller's buffers (STORAGE usage is all the library asks of them; at most
 * 8 storage bindings per dispatch).
 */
function packParams(ctx: GpuContext, rec: Recorder, c: number, params: AconFReluBuffers): GPUBuffer {
  const { convFrelu, bn1, bn2 } = params;
  const packed = rec.temp(18 * c * 4);
  const S = ACON_FRELU_SHADER;
  const u = S.uniforms({ n: 1, c, h: 1, w: 1, ho: 1, wo: 1, eps: BN_EPS });
  const groups = Math.ceil(c / WG);
  rec.dispatch(
    ctx.pipeline(S, 'pack_conv_bn1', { WG }),
    u,
    S.bind({
      conv_weight: convFrelu.weight,
      conv_bias: convFrelu.bias,
      bn1_weight: bn1.weight,
      bn1_bias: bn1.bias,
      bn1_mean: bn1.runningMean,
      bn1_var: bn1.runningVar,
      packed,
    }),
    groups,
  );
  rec.dispatch(
    ctx.pipeline(S, 'pack_bn2', { WG }),
    u,
    S.bind({ bn2_weight: bn2.weight, bn2_bias: bn2.bias, bn2_mean: bn2.runningMean, bn2_var: bn2.runningVar, packed }),
    groups,
  );
  return packed;
}

/** The eval forward on packed parameters (fold, then the activation in one pass). */
function recordEvalPacked(
  ctx: GpuContext,
  rec: Recorder,
  geo: Geometry,
  stride: 1 | 2,
  packed: Binding,
  x: Binding,
  y: Binding,
) {
  const { n, c, h, w } = geo;
  const [ho, wo] = [outSize(h, stride), outSize(w, stride)];
  const folded = rec.temp(13 * c * 4);
  const uniforms = ACON_FRELU_SHADER.uniforms({ n, c, h, w, ho, wo, eps: BN_EPS });
  rec.dispatch(
    ctx.pipeline(ACON_FRELU_SHADER, 'fold', { WG }),
    uniforms,
    ACON_FRELU_SHADER.bind({ params: packed, folded }),
    Math.ceil(c / WG),
  );
  const S = ACON_FRELU_SHADER;
  const nhwc = geo.dataFormat === 'NHWC';
  // every walk takes a strip of rows per invocation. At stride 1: four channels of four pixels in
  // NHWC with C % 4 == 0 (vec4s), eight columns of a channel in NCHW with W % 4 == 0 (vec4s), else
  // eight columns of a channel with scalar loads. At stride 2: four output columns of a channel.
  const [entry, bindings, grid] =
    stride === 2
      ? (['forward_eval_strip2_any', S.bind({ x, folded_in: folded, y }), n * c * Math.ceil(wo / 4)] as const)
      : nhwc && c % 4 === 0
        ? ([
            'forward_eval_cl4_strip',
            S.bind({ x4: x, folded4: folded, y4: y }),
            n * Math.ceil(w / 4) * (c / 4),
          ] as const)
        : !nhwc && w % 4 === 0
          ? (['forward_eval_strip', S.bind({ x, x4: x, folded_in: folded, y4: y }), n * c * Math.ceil(w / 8)] as const)
          : (['forward_eval_strip_any', S.bind({ x, folded_in: folded, y }), n * c * Math.ceil(w / 8)] as const);
  const { rows, invocations } = stripGrid(ctx.software, ho, grid);
  // the scalar-load walks serve both layouts
  const constants: Record<string, number> = entry.endsWith('_any')
    ? { WG, STRIP: rows, CHANNELS_LAST: nhwc ? 1 : 0 }
    : { WG, STRIP: rows };
  rec.dispatch(ctx.pipeline(S, entry, constants), uniforms, bindings, Math.ceil(invocations / WG));
}

/**
 * Records the eval forward of x [N, C, H, W] (geo's data format) into y [N, C, Ho, Wo] (the same
 * format): the parameters are packed into one buffer (the shader's `params`), folded per channel (a
 * dispatch of C invocations), then the activation in one pass, each invocation walking a strip of
 * rows: at stride 1 four channels of four pixels in NHWC when C % 4 == 0, eight columns in NCHW when
 * W % 4 == 0 (vec4 loads and stores), otherwise eight columns of one channel (scalar loads); at
 * stride 2 four output columns of one channel.
 */
export function recordAconFReluEval(
  ctx: GpuContext,
  rec: Recorder,
  geo: Geometry,
  stride: 1 | 2,
  b: { x: Binding; params: AconFReluBuffers; y: Binding },
): void {
  recordEvalPacked(ctx, rec, geo, stride, packParams(ctx, rec, geo.c, b.params), b.x, b.y);
}

// ---- training forward and backward (shaders/acon_frelu_train.wgsl) ---------------------------------

export const ACON_FRELU_TRAIN_SHADER = new Shader('acon_frelu_train', WGSL_PRELUDE + FRELU_ROWS_WGSL + trainCode);

/**
 * Chunks (workgroups) per channel at the most: `finish` sums chunks·WG partials per channel in one
 * invocation (16,384 at most, within LOOP_BUDGET). The partials (≤ 9 terms, `slots` per channel)
 * stay under 9/16 of the output's size where per ≥ 16 positions per invocation fill the chunks, and
 * under 9 values per output element always (checkFrelu holds them to a buffer).
 */
export const FRELU_CHUNKS_MAX = 256;
/** Positions per invocation before a channel is split into more chunks. */
const FRELU_PER_TARGET = 16;
/** Positions per channel at the most (N·Ho·Wo): counts stay exact in float32. */
export const FRELU_COUNT_MAX = 2 ** 24;

/** How the per-channel sums over the N·Ho·Wo positions are cut: chunks of `per`·WG positions. */
export interface FreluReducePlan {
  count: number;
  chunks: number;
  per: number;
  /** Partial sums per channel and term: chunks·WG, or N·Ho·Wo where fewer (lanes past the last position store none). */
  slots: number;
  /** Longest chain of additions behind a sum: per in an invocation, then chunks·WG partials in finish. */
  depth: number;
}

export function freluReducePlan(geo: Geometry, stride: 1 | 2): FreluReducePlan {
  const count = geo.n * outSize(geo.h, stride) * outSize(geo.w, stride);
  const per = Math.max(FRELU_PER_TARGET, Math.ceil(count / (FRELU_CHUNKS_MAX * WG)));
  const chunks = Math.max(1, Math.ceil(count / (per * WG)));
  return { count, chunks, per, slots: Math.min(chunks * WG, count), depth: per + chunks * WG };
}

/**
 * Throws a LimitError where the training forward or the backward cannot take the call: more
 * positions per channel than FRELU_COUNT_MAX (2^24 / (256·64) = 1024 positions per invocation: a
 * pass's walk of 1025 trips stays within LOOP_BUDGET), or kept values per output element
 * ([4, N·C·Ho·Wo] in the training forward, [5, …] in the backward) or partial sums ([9, C, slots])
 * beyond the device's largest buffer.
 */
export function checkFrelu(ctx: GpuContext, geo: Geometry, stride: 1 | 2, backward: boolean): FreluReducePlan {
  const plan = freluReducePlan(geo, stride);
  if (plan.count > FRELU_COUNT_MAX)
    throw new LimitError(
      'ACON-FReLU: batch statistics and gradients sum over N·Ho·Wo positions per channel',
      `N·Ho·Wo at most ${FRELU_COUNT_MAX}`,
      `${plan.count}`,
    );
  const rows = backward ? 5 : 4;
  const savedBytes = rows * geo.c * plan.count * 4;
  if (savedBytes > ctx.maxTensorBytes)
    throw new LimitError(
      `ACON-FReLU's ${backward ? 'backward' : 'training forward'} keeps the window's conv, x1, pool choice and t${backward ? ', then dz and dx1' : ''} per output element`,
      `${rows}·N·C·Ho·Wo·4 bytes at most ${ctx.maxTensorBytes}`,
      `${savedBytes}`,
    );
  const partialBytes = 9 * geo.c * plan.slots * 4;
  if (partialBytes > ctx.maxTensorBytes)
    throw new LimitError(
      "ACON-FReLU's batch sums keep 9 partial sums per channel and lane",
      `9·C·min(N·Ho·Wo, chunks·64)·4 bytes at most ${ctx.maxTensorBytes}`,
      `${partialBytes}`,
    );
  return plan;
}

/** The training shader's uniforms for a geometry and a row of sums. */
function trainUniforms(
  geo: Geometry,
  stride: 1 | 2,
  plan: FreluReducePlan,
  f: { terms: number; row: number; training: boolean },
) {
  const [ho, wo] = [outSize(geo.h, stride), outSize(geo.w, stride)];
  return ACON_FRELU_TRAIN_SHADER.uniforms({
    n: geo.n,
    c: geo.c,
    h: geo.h,
    w: geo.w,
    ho,
    wo,
    stride,
    eps: BN_EPS,
    momentum: BN_MOMENTUM,
    count: plan.count,
    chunks: plan.chunks,
    per: plan.per,
    training: f.training ? 1 : 0,
    terms: f.terms,
    row: f.row,
    // a walk's step of WG positions as (n, oh, ow)
    step_n: Math.floor(WG / (ho * wo)),
    step_h: Math.floor(WG / wo) % ho,
    step_w: WG % wo,
  });
}

/**
 * C % 4 == 0: every pass four channels per invocation (the *_cl4 entry points), channels-last. In
 * NCHW the passes run on channels-last copies of x and dy ({@link channelsLast}: 4×4 blocks where
 * the plane's size allows) and dx is copied back: on SwiftShader at [8, 64, 56, 56], training mode,
 * the NCHW backward took 1,416 ms with scalar passes and 763 with the copies (NHWC 706), the training
 * forward 616 and 311 (NHWC 303), before the passes' pipeline constants and dx's strip walk (the
 * backward now 354 ms, NHWC 338). The sums' order, hence their bounds, is the plan's either way.
 */
const vec4Channels = (geo: Geometry) => geo.c % 4 === 0;

/** The scalar passes' CHANNELS_LAST pipeline constant (C % 4 != 0: they run in the call's layout). */
const channelsLastFlag = (geo: Geometry) => (geo.dataFormat === 'NHWC' ? 1 : 0);

/** The geometry the passes run in: channels-last where they run on copies (see vec4Channels). */
const passGeometry = (geo: Geometry): Geometry => (vec4Channels(geo) ? { ...geo, dataFormat: 'NHWC' } : geo);

/**
 * `src` ([N, C, h, w], NCHW) copied channels-last into a new temporary when the passes need it (NCHW
 * with C % 4 == 0), else `src` itself.
 */
function channelsLast(ctx: GpuContext, rec: Recorder, geo: Geometry, h: number, w: number, src: Binding): Binding {
  if (geo.dataFormat === 'NHWC' || !vec4Channels(geo)) return src;
  const out = rec.temp(geo.n * geo.c * h * w * 4);
  const S = ACON_FRELU_TRAIN_SHADER;
  const blocks = (h * w) % 4 === 0; // 4×4 blocks: four pixels of four channels per invocation
  rec.dispatch(
    ctx.pipeline(S, blocks ? 'to_channels_last4' : 'to_channels_last', { WG }),
    layoutUniforms(geo, h, w),
    S.bind(blocks ? { planar_in4: src, cl4_out: out } : { planar_in: src, cl4_out: out }),
    Math.ceil((geo.n * geo.c * h * w) / ((blocks ? 16 : 4) * WG)),
  );
  return out;
}

/** Uniforms of the layout copies: n, c and the pixels h·w (the rest unused). */
const layoutUniforms = (geo: Geometry, h: number, w: number) =>
  trainUniforms(
    { ...geo, h, w },
    1,
    { count: 0, chunks: 1, per: 1, slots: 0, depth: 0 },
    { terms: 0, row: 0, training: false },
  );

/** Terms and first sums row of each stage (shaders/acon_frelu_train.wgsl's table). */
const STAGES = [
  { entry: 'stats_pass', terms: 1, row: 0 },
  { entry: 'stats_pass', terms: 1, row: 1 },
  { entry: 'stats_pass', terms: 1, row: 2 },
  { entry: 'stats_pass', terms: 1, row: 3 },
  { entry: 'bn_grad_pass', terms: 2, row: 4 },
  { entry: 'bn_grad_pass', terms: 2, row: 6 },
  { entry: 'conv_grad_pass', terms: 1, row: 8 },
  { entry: 'tap_grad_pass', terms: 9, row: 9 },
] as const;

interface Sums {
  geo: Geometry;
  stride: 1 | 2;
  plan: FreluReducePlan;
  training: boolean;
  packed: Binding;
  x: Binding;
  dy: Binding;
  sums: GPUBuffer;
  partials: GPUBuffer;
  saved: Binding;
}

/**
 * Records stages `from` .. `to` − 1, after a strip walk that keeps every output position's window in
 * `saved` ahead of them all (the convs at stride 1, the convs and the pool's best values and taps at
 * stride 2), which every stage reads back: conv_cl4_strip and window_cl4_strip2 four channels per
 * invocation (C % 4 == 0), conv_strip_any and window_strip2_any one (C % 4 != 0, the call's
 * layout). The same bits as the first pass gathering nine taps per position that it replaces.
 * SwiftShader, [8, 64, 56, 56] NHWC side by side, the training forward: at stride 1 78–83 ms against
 * 129–141, at stride 2 33–36 against 47–54 (NCHW 46–47 against 59–62); at [8, 63, 56, 56] 172–183
 * against 291–313 (NCHW 134–146 against 243–250).
 */
function recordStages(ctx: GpuContext, rec: Recorder, s: Sums, from: number, to: number) {
  const S = ACON_FRELU_TRAIN_SHADER;
  const { n, c, h, w } = s.geo;
  const [ho, wo] = [outSize(h, s.stride), outSize(w, s.stride)];
  const cl4 = vec4Channels(s.geo);
  // columns: the walk's invocations per band of strips
  const [entry, columns] = cl4
    ? s.stride === 1
      ? ['conv_cl4_strip', n * Math.ceil(w / 4) * (c / 4)]
      : ['window_cl4_strip2', n * Math.ceil(wo / 2) * (c / 4)]
    : s.stride === 1
      ? ['conv_strip_any', n * c * Math.ceil(w / 8)]
      : ['window_strip2_any', n * c * Math.ceil(wo / 4)];
  const grid = stripGrid(ctx.software, ho, columns);
  rec.dispatch(
    ctx.pipeline(S, entry, { WG, STRIP: grid.rows, ...(!cl4 && { CHANNELS_LAST: channelsLastFlag(s.geo) }) }),
    trainUniforms(s.geo, s.stride, s.plan, { terms: 0, row: 0, training: s.training }),
    S.bind(cl4 ? { x4: s.x, params: s.packed, saved4_rw: s.saved } : { x: s.x, params: s.packed, saved: s.saved }),
    Math.ceil(grid.invocations / WG),
  );
  // the chain (BN1, σ, t) worked out once, by the first stage that needs it, and kept for the others
  const keeper = Math.max(from, 2);
  const chain = (stage: number) =>
    stage < 2 || stage > 6 ? {} : stage === keeper ? { KEEP: to > 5 ? 2 : 1 } : { KEPT: 1 };
  for (let stage = from; stage < to; stage++) recordStage(ctx, rec, s, stage, chain(stage));
}

/**
 * Records stage `stage`'s partial pass and finish into sums rows; `chain` says whether the pass keeps
 * the chain (KEEP: t, and g where a later stage needs it) or reads it back (KEPT).
 */
function recordStage(ctx: GpuContext, rec: Recorder, s: Sums, stage: number, chain: { KEEP?: number; KEPT?: number }) {
  const { terms, row } = STAGES[stage]!;
  const cl4 = vec4Channels(s.geo);
  const entry = cl4 ? `${STAGES[stage]!.entry}_cl4` : STAGES[stage]!.entry;
  const u = trainUniforms(s.geo, s.stride, s.plan, { terms, row, training: s.training });
  const S = ACON_FRELU_TRAIN_SHADER;
  const bindings: Record<string, Binding> =
    stage === 7
      ? cl4
        ? { x4: s.x, saved4: s.saved, partials: s.partials }
        : { x: s.x, saved_in: s.saved, partials: s.partials }
      : cl4
        ? {
            x4: s.x,
            params: s.packed,
            sums_in: s.sums,
            partials: s.partials,
            saved4_rw: s.saved,
            ...(stage >= 4 && { dy4: s.dy }),
          }
        : {
            x: s.x,
            params: s.packed,
            sums_in: s.sums,
            partials: s.partials,
            saved: s.saved,
            ...(stage >= 4 && { dy: s.dy }),
          };
  // the pass's kind as pipeline constants (see the shader): its stage, whether x1 is the max pool;
  // the scalar passes' layout
  const constants = {
    WG,
    ...(stage < 7 && { ...(stage !== 6 && { STAGE: stage }), POOL: s.stride === 2 ? 1 : 0 }),
    ...chain,
    ...(!cl4 && { CHANNELS_LAST: channelsLastFlag(s.geo) }),
  };
  rec.dispatch(ctx.pipeline(S, entry, constants), u, S.bind(bindings), (cl4 ? s.geo.c / 4 : s.geo.c) * s.plan.chunks);
  rec.dispatch(
    ctx.pipeline(S, 'finish', { WG }),
    u,
    S.bind({ partials_in: s.partials, sums: s.sums }),
    Math.ceil((terms * s.geo.c) / WG),
  );
}

function sumsOf(rec: Recorder, geo: Geometry, stride: 1 | 2, training: boolean, b: { x: Binding; packed: Binding }) {
  const plan = freluReducePlan(geo, stride);
  return {
    geo,
    stride,
    plan,
    training,
    packed: b.packed,
    x: b.x,
    sums: rec.temp(18 * geo.c * 4),
    partials: rec.temp(9 * geo.c * plan.slots * 4),
  };
}

/**
 * Records the training forward: both batch norms on the batch's statistics (four passes of
 * per-channel sums: BN1's mean and variance, then BN2's), y by the eval kernel on the batch
 * statistics, and the running statistics moved in place (PyTorch's momentum 0.1, unbiased variance).
 */
export function recordAconFReluTrain(
  ctx: GpuContext,
  rec: Recorder,
  geo: Geometry,
  stride: 1 | 2,
  b: { x: Binding; params: AconFReluBuffers; y: Binding },
): void {
  const c = geo.c;
  const packed = packParams(ctx, rec, c, b.params);
  const x = channelsLast(ctx, rec, geo, geo.h, geo.w, b.x);
  const base = sumsOf(rec, passGeometry(geo), stride, true, { x, packed });
  // the windows the walk ahead of the passes keeps (rows conv, x1, tap), and the chain's t (row 3)
  const s: Sums = { ...base, dy: b.x, saved: rec.temp(4 * c * base.plan.count * 4) };
  recordStages(ctx, rec, s, 0, 4);
  const batch = rec.temp(18 * c * 4);
  const { bn1, bn2 } = b.params;
  const S = ACON_FRELU_TRAIN_SHADER;
  rec.dispatch(
    ctx.pipeline(S, 'batch_params', { WG }),
    trainUniforms(s.geo, stride, s.plan, { terms: 1, row: 0, training: true }),
    S.bind({
      params: packed,
      sums_in: s.sums,
      batch,
      bn1_mean: bn1.runningMean,
      bn1_var: bn1.runningVar,
      bn2_mean: bn2.runningMean,
      bn2_var: bn2.runningVar,
    }),
    Math.ceil(c / WG),
  );
  recordEvalPacked(ctx, rec, geo, stride, batch, b.x, b.y);
}

/** The gradients as buffers: dx [N, C, H, W]; the trainable parameters' under their own keys. */
export interface AconFReluGradBuffers {
  dx: Binding;
  convFrelu: { weight: Binding; bias: Binding };
  bn1: { weight: Binding; bias: Binding };
  bn2: { weight: Binding; bias: Binding };
}

/**
 * Records the backward for dy [N, C, Ho, Wo]: in training (batch statistics, recomputed from x as
 * the forward computed them) or eval mode (the running ones). Every per-channel gradient is a sum
 * in a fixed order (deterministic); dx a strip walk (at stride 2 with C % 4 != 0 a gather per input
 * element).
 */
export function recordAconFReluBackward(
  ctx: GpuContext,
  rec: Recorder,
  geo: Geometry,
  stride: 1 | 2,
  training: boolean,
  b: { x: Binding; dy: Binding; params: AconFReluBuffers; grads: AconFReluGradBuffers },
): void {
  const c = geo.c;
  const packed = packParams(ctx, rec, c, b.params);
  const [ho, wo] = [outSize(geo.h, stride), outSize(geo.w, stride)];
  const x = channelsLast(ctx, rec, geo, geo.h, geo.w, b.x);
  const dy = channelsLast(ctx, rec, geo, ho, wo, b.dy);
  const base = sumsOf(rec, passGeometry(geo), stride, training, { x, packed });
  // the windows (conv, x1, tap) and the chain's t and g, then dz and dx1 over those, per output element
  const saved = rec.temp(5 * c * base.plan.count * 4);
  const s: Sums = { ...base, dy, saved };
  recordStages(ctx, rec, s, training ? 0 : 4, 8);
  const S = ACON_FRELU_TRAIN_SHADER;
  const u = trainUniforms(s.geo, stride, s.plan, { terms: 9, row: 9, training });
  const { convFrelu, bn1, bn2 } = b.grads;
  rec.dispatch(
    ctx.pipeline(S, 'param_grads', { WG }),
    u,
    S.bind({
      sums_in: s.sums,
      dweight: convFrelu.weight,
      dbias: convFrelu.bias,
      dgamma1: bn1.weight,
      dbeta1: bn1.bias,
      dgamma2: bn2.weight,
      dbeta2: bn2.bias,
    }),
    Math.ceil(c / WG),
  );
  const cl4 = vec4Channels(geo);
  // NCHW on copies: dx channels-last into a temporary, then copied back into the caller's
  const copyBack = cl4 && geo.dataFormat === 'NCHW';
  const dx = copyBack ? rec.temp(geo.n * c * geo.h * geo.w * 4) : b.grads.dx;
  // dx: with C % 4 == 0 a strip walk (backward_dx_cl4_strip at stride 1: four pixels a step;
  // backward_dx_cl4_strip2 at stride 2: two output columns a step); otherwise at stride 1 a strip walk
  // of one channel (backward_dx_strip_any: eight pixels a step), at stride 2 a gather per element
  const pixels = geo.n * c * geo.h * geo.w;
  if (cl4) {
    const [entry, grid] =
      stride === 1
        ? (['backward_dx_cl4_strip', stripGrid(ctx.software, geo.h, geo.n * Math.ceil(geo.w / 4) * (c / 4))] as const)
        : (['backward_dx_cl4_strip2', stripGrid(ctx.software, ho, geo.n * Math.ceil(wo / 2) * (c / 4))] as const);
    rec.dispatch(
      ctx.pipeline(S, entry, { WG, STRIP: grid.rows }),
      u,
      S.bind({ params: packed, saved4: saved, dx4: dx }),
      Math.ceil(grid.invocations / WG),
    );
  } else if (stride === 1) {
    const grid = stripGrid(ctx.software, geo.h, geo.n * c * Math.ceil(geo.w / 8));
    rec.dispatch(
      ctx.pipeline(S, 'backward_dx_strip_any', { WG, STRIP: grid.rows, CHANNELS_LAST: channelsLastFlag(geo) }),
      u,
      S.bind({ params: packed, saved_in: saved, dx }),
      Math.ceil(grid.invocations / WG),
    );
  } else {
    rec.dispatch(
      ctx.pipeline(S, 'backward_dx', { WG, CHANNELS_LAST: channelsLastFlag(geo) }),
      u,
      S.bind({ params: packed, saved_in: saved, dx }),
      Math.ceil(pixels / WG),
    );
  }
  if (copyBack) {
    const blocks = (geo.h * geo.w) % 4 === 0;
    rec.dispatch(
      ctx.pipeline(S, blocks ? 'to_channels_first4' : 'to_channels_first', { WG }),
      layoutUniforms(geo, geo.h, geo.w),
      S.bind(blocks ? { cl4_in: dx, planar_out4: b.grads.dx } : { cl4_in: dx, planar_out: b.grads.dx }),
      Math.ceil(pixels / ((blocks ? 16 : 1) * WG)),
    );
  }
}

// ---- the declaration's kernels -------------------------------------------------------------------

/** ACON-FReLU's own options: training mode (batch statistics), and the stride (1 or 2). */
export interface AconFReluKernelOptions {
  training: boolean;
  stride?: 1 | 2;
}

const strideOf = (o: AconFReluKernelOptions): 1 | 2 => o.stride ?? 1;

export const aconFReluKernels: Kernels<typeof aconFReluParams, AconFReluKernelOptions, never> = {
  shaders: [ACON_FRELU_SHADER, ACON_FRELU_TRAIN_SHADER],
  // (a training call's N·Ho·Wo ≥ 2: the declaration's batchCount, checked on every path before this)
  check(k, direction) {
    // every call packs the parameters, 18 per channel, into one buffer (twice the conv weight's size)
    const packedBytes = 18 * k.geo.c * 4;
    if (packedBytes > k.ctx.maxTensorBytes)
      throw new LimitError(
        'ACON-FReLU packs its 18 parameters per channel into one buffer',
        `18·C·4 bytes at most ${k.ctx.maxTensorBytes}`,
        `${packedBytes}`,
      );
    if (!k.options.training && direction === 'forward') return;
    checkFrelu(k.ctx, k.geo, strideOf(k.options), direction === 'backward');
  },
  forward(rec, k, b) {
    const record = k.options.training ? recordAconFReluTrain : recordAconFReluEval;
    record(k.ctx, rec, k.geo, strideOf(k.options), b);
    return {};
  },
  backward(rec, k, b) {
    recordAconFReluBackward(k.ctx, rec, k.geo, strideOf(k.options), k.options.training, {
      x: b.x,
      dy: b.dy,
      params: b.params,
      grads: { dx: b.dx, ...b.grads },
    });
  },
  // stride 1's: as many positions as either stride, so its chain is the longer
  reductionDepth: (geo) => freluReducePlan(geo, 1).depth,
};
