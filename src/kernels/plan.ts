// The shared kernel planners: how a pass over a [N, C, H, W] tensor cuts it into workgroups (slices
// of channel planes for NCHW, channel-unit tiles for NHWC), the workgroup sizes per adapter, and the
// WGSL prelude every kernel file starts with. Imports only src/gpu and src/core.
//
// Encoders (here, in the other src/kernels modules and in src/activations/*/kernels.ts) take one
// argument style: `encodeX(ctx, rec, dims, bindings)`, where `dims` names the sizes and settings of
// the call and `bindings` the buffers by the kernel's names.
import prelude from '../../shaders/prelude.wgsl?raw';
import type { Shader } from '../gpu/shader';
import type { Geometry } from '../core/types';

/** The shared WGSL helpers (grid index, σ, channels-last walk), prepended to every kernel file. */
export const WGSL_PRELUDE = prelude;

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

/** Workgroup size of the small kernels over [N, F] features (conv1x1, batchnorm) and reduce's scalar broadcast_add. */
export const FEATURE_WG = 64;

const elements = (g: Geometry) => g.n * g.c * g.h * g.w;
/** NCHW planes of a multiple of 4 elements take the vec4 entry points. */
const rows4 = (g: Geometry) => g.dataFormat === 'NCHW' && (g.h * g.w) % 4 === 0;

/** Element strides (n, c, hw) of the geometry's data format. */
export function strides(g: Geometry): [number, number, number] {
  const hw = g.h * g.w;
  return g.dataFormat === 'NCHW' ? [g.c * hw, hw, 1] : [hw * g.c, 1, g.c];
}

/** The fields of the slice walk's WGSL `Geometry` uniform that a plan sets (the rest follow from the geometry). */
export interface GeometryFields {
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
}

/**
 * The WGSL `Geometry` uniform of the slice walk and its finishing passes, packed for `shader` (today
 * acon_c.wgsl, which declares the struct next to the walk).
 */
export function geometryUniforms(shader: Shader, g: Geometry, f: GeometryFields): ArrayBuffer {
  const [stride_n, stride_c, stride_hw] = strides(g);
  return shader.uniforms({
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
export function channelsLastPlan(g: Geometry, target: number, perSample: boolean, software: boolean): ChannelsLastPlan {
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

/** The `Geometry` uniform (see {@link geometryUniforms}) of a channels-last plan's tiles. */
export const clGeometryUniforms = (shader: Shader, g: Geometry, p: ChannelsLastPlan) =>
  geometryUniforms(shader, g, {
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
export function slicePlan(g: Geometry, target: number, oneSample: boolean): SlicePlan {
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
