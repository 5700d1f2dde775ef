// Benchmarks, run in the browser (headless by `npm run bench`, or from the demo page). Every GPU
// implementation is timed the same way: warm up, then batches of k back-to-back calls ended by
// waiting for the queue to drain; the figure is the median over batches of (batch time / k). The
// implementations of one op take turns batch by batch, so their ratios are measured side by side.
//
// Families:
//   aconC, metaAconC  the GPU-resident ops (our own device, our own buffers) in both layouts, next to
//                     a copy roofline, the same formulas composed from tfjs primitives in the same
//                     layout, and the float64 CPU reference (NCHW only: it is slow); at `shapes`
//   tfjs              the TensorFlow.js face (src/tfjs/ops.ts) on NHWC tensors, fused vs composed vs
//                     tf.relu on the same tensor; at its own fixed shapes (TFJS_SHAPES)
//   net               inference of the seed networks as tf.layers models (src/layers), batch 1 and 64
//   shufflenet        inference of the paper's ShuffleNetV2 0.5× (src/models) with ACON-C and Meta-ACON-C,
//                     fused vs composed ACON, batch 1 at 224×224
//   train             one Adam step of dcn2+AconC / dcn2+MetaAconC (opt-in: slow on SwiftShader)
// Every result names the memory layout it ran in; `shape` is always the logical [N, C, H, W].
// The kernel families' GPU results also carry the effective bandwidth `gbps`: the bytes the op must
// move (bytesMoved) over its time, to read beside the copy roofline's and, on a known card, its peak
// (PEAK_BANDWIDTH). Runs in a browser and in Node through Dawn (node/cli.ts): `adapter.runtime` says which.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import { GpuContext } from '../src/gpu/context';
import { aconCBackwardBuffers, aconCForwardBuffers } from '../src/ops/aconC';
import { encodeCopyRoofline } from './roofline';
import { aconCBackwardRef, aconCForwardRef } from '../src/reference/aconC';
import {
  metaAconCBackwardBuffers,
  metaAconCForwardBuffers,
  type MetaAconCParams,
  type MetaAconCGrads,
} from '../src/ops/metaAconC';
import { MetaAconC } from '../src/ops/layers';
import type { DataFormat } from '../src/ops/validate';
import { rng, uniform } from '../src/ops/random';
import { metaAconCBackwardRef, metaAconCForwardRef } from '../src/reference/metaAconC';
import {
  aconCComposed,
  batchNormComposed,
  metaAconCComposed,
  type MetaComposedParams,
  type MetaComposedRunning,
} from '../src/tfjs/composed';
import { aconC, metaAconC, type MetaAconCTensors } from '../src/tfjs/ops';
import { makeDataset } from '../tools/data';
import { seedModel, type NetKind } from '../src/layers/index';
import { bceWithLogits } from '../tools/train';
import { shuffleNetV2 } from '../src/models/index';

export type { DataFormat };
export type Impl = 'fused' | 'tfjs-composed' | 'reference' | 'copy-roofline' | 'relu';
export type KernelOp = 'aconC.forward' | 'aconC.backward' | 'metaAconC.forward' | 'metaAconC.backward';
export type TfjsOp = 'tfjs.aconC.forward' | 'tfjs.aconC.backward' | 'tfjs.metaAconC.forward';
export type Op = KernelOp | TfjsOp | 'net.infer' | 'train.step';
export type Family = 'aconC' | 'metaAconC' | 'tfjs' | 'net' | 'shufflenet' | 'train';
/** net.infer's networks: the seed's and the paper's ShuffleNetV2 0.5×. */
export type NetName = NetKind | 'shufflenetv2-0.5x-acon' | 'shufflenetv2-0.5x-meta';
export type Shape4 = [number, number, number, number];

export interface BenchResult {
  op: Op;
  impl: Impl;
  /** Memory layout the implementation ran in (the CPU reference and the copy roofline: NCHW). */
  layout: DataFormat;
  /** Logical [N, C, H, W], whatever the layout (an NHWC tensor of shape [N, H, W, C] is reported as [N, C, H, W]). */
  shape: Shape4;
  /** Median milliseconds per call. */
  ms: number;
  /** Timed calls. */
  runs: number;
  /** net.infer and train.step: which network. */
  net?: NetName;
  /**
   * Kernel ops on the GPU (fused, tfjs-composed, copy-roofline): effective bandwidth in GB/s (10⁹ B/s),
   * bytesMoved(op, shape) over the median time. The copy roofline moves the same bytes as its op.
   */
  gbps?: number;
}

export interface BenchAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software (CPU) adapter such as SwiftShader: the kernels ran with the CPU tuning, and GB/s say little. */
  software: boolean;
  /** Where the bench ran: 'browser', or 'node-dawn' (Node through Dawn, npm `webgpu`). */
  runtime: string;
  /** The card's peak memory bandwidth in GB/s where the adapter is in PEAK_BANDWIDTH, with the entry's name. */
  peakGBps?: number;
  peakName?: string;
}

export interface BenchReport {
  adapter: BenchAdapter;
  results: BenchResult[];
}

export interface BenchOptions {
  /** Shapes of the kernel families (aconC, metaAconC), logical [N, C, H, W]. */
  shapes?: Shape4[];
  /** Shapes of the tfjs family, logical [N, C, H, W] (default TFJS_SHAPES; tensors are NHWC). */
  tfjsShapes?: Shape4[];
  /** Batch sizes of net.infer (default [1, 64]). */
  netBatches?: number[];
  /** Target wall time of one timed batch, ms. */
  batchMs?: number;
  /** Timed batches per measurement (the median is reported; default 11). */
  batches?: number;
  /**
   * Wall-time budget of one side-by-side group, ms (default 60 000): where `batches` rounds would
   * overrun it, fewer are timed (at least 3, or `batches` if smaller). Bounds the slow groups (networks
   * at batch 64, composed Meta-ACON on large tensors) on software adapters; a GPU never reaches it.
   */
  groupMs?: number;
  /** Which op families to measure (default DEFAULT_FAMILIES; 'train' adds train.step). */
  families?: Family[];
  /** Batch size of train.step (default 64). */
  trainBatch?: number;
  /** Recorded as adapter.runtime (default 'node-dawn' in Node, 'browser' elsewhere). */
  runtime?: string;
  onProgress?: (done: number, total: number, line: string) => void;
}

export const DEFAULT_SHAPES: Shape4[] = [
  [8, 64, 56, 56],
  [32, 64, 16, 16],
  [1, 64, 7, 7],
];

/** Logical shapes of the tfjs family: ACON after a late stage (7×7) and an early one (56×56), batch 1 and larger. */
export const TFJS_SHAPES: Shape4[] = [
  [1, 64, 7, 7],
  [1, 64, 56, 56],
  [8, 64, 56, 56],
  [64, 64, 7, 7],
];

export const ALL_FAMILIES: Family[] = ['aconC', 'metaAconC', 'tfjs', 'net', 'shufflenet', 'train'];
export const DEFAULT_FAMILIES: Family[] = ['aconC', 'metaAconC', 'tfjs', 'net', 'shufflenet'];
export const NET_BATCHES = [1, 64];

/** The (net, impl) pairs of net.infer: the ReLU network and each ACON network fused and composed. */
const NET_CONTENDERS: [NetKind, Impl][] = [
  ['dcn3', 'relu'],
  ['dcn2-acon', 'fused'],
  ['dcn2-acon', 'tfjs-composed'],
  ['dcn2-meta', 'fused'],
  ['dcn2-meta', 'tfjs-composed'],
];

/**
 * Bytes an op must move between memory and the chip, the numerator of its effective bandwidth (4 B a
 * float32; n = N·C·H·W elements, C channels; the bench's β is per channel):
 * - aconC.forward: read x, write y: 8n; read p1, p2, β: 12·C.
 * - aconC.backward: read x and dy, write dx: 12n; read p1, p2, β and write dp1, dp2, dβ: 24·C. (The
 *   kernel's per-invocation partial sums of the parameter gradients are its own overhead, not counted.)
 * - metaAconC.forward (training): read x for the spatial mean, read x again for ACON-C, write y: 12n
 *   (β depends on the mean of all of x, so x cannot stay on the chip between the two reads).
 * - metaAconC.backward: read x (the mean), x and dy (dβ), x and dy again, writing dx: 24n.
 *   Meta-ACON's parameters and β generator (p1, p2, 2·C·R weights, batch norm) are left out.
 * The copy roofline copies exactly the per-element bytes (8n, 12n, 12n, 24n).
 */
export function bytesMoved(op: KernelOp, [N, C, H, W]: Shape4): number {
  const n = N * C * H * W;
  switch (op) {
    case 'aconC.forward':
      return 8 * n + 12 * C;
    case 'aconC.backward':
      return 12 * n + 24 * C;
    case 'metaAconC.forward':
      return 12 * n;
    case 'metaAconC.backward':
      return 24 * n;
  }
}

/** Effective bandwidth in GB/s of moving `bytes` in `ms` milliseconds. */
export const gbPerSecond = (bytes: number, ms: number) => bytes / (ms * 1e6);

/**
 * Peak memory bandwidth of known cards, GB/s (10⁹ B/s), as their makers state it; matched against the
 * adapter's vendor, architecture, device and description, lower-cased with every run of other
 * characters turned into '-' (Vulkan names a card as CUDA does: "NVIDIA H200", "NVIDIA H100 80GB HBM3",
 * "NVIDIA A100-SXM4-80GB"). Only figures with a source are listed.
 */
export const PEAK_BANDWIDTH: { name: string; match: RegExp; gbps: number; source: string }[] = [
  // H200 SXM and H200 NVL: 141 GB HBM3e at 4.8 TB/s
  {
    name: 'NVIDIA H200',
    match: /(^|-)h200(-|$)/,
    gbps: 4800,
    source: 'https://www.nvidia.com/en-us/data-center/h200/',
  },
  // H100 NVL: 94 GB at 3.9 TB/s; H100 SXM (CUDA/Vulkan name "NVIDIA H100 80GB HBM3"): 80 GB at 3.35 TB/s
  {
    name: 'NVIDIA H100 NVL',
    match: /(^|-)h100-nvl(-|$)/,
    gbps: 3900,
    source: 'https://www.nvidia.com/en-us/data-center/h100/',
  },
  {
    name: 'NVIDIA H100 SXM',
    match: /(^|-)h100-(sxm5?|80gb-hbm3)(-|$)/,
    gbps: 3350,
    source: 'https://www.nvidia.com/en-us/data-center/h100/',
  },
  // A100 datasheet: 80GB SXM 2,039 GB/s, 80GB PCIe 1,935 GB/s, 40GB (PCIe and SXM) 1,555 GB/s
  {
    name: 'NVIDIA A100 80GB SXM',
    match: /(^|-)a100-sxm4?-80gb(-|$)/,
    gbps: 2039,
    source:
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
  },
  {
    name: 'NVIDIA A100 80GB PCIe',
    match: /(^|-)a100-80gb-pcie(-|$)/,
    gbps: 1935,
    source:
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
  },
  {
    name: 'NVIDIA A100 40GB',
    match: /(^|-)a100-((sxm4?|pcie)-)?40gb(-|$)/,
    gbps: 1555,
    source:
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
  },
];

/** The PEAK_BANDWIDTH entry matching an adapter, or undefined. */
export function peakBandwidth(info: { vendor?: string; architecture?: string; device?: string; description?: string }) {
  const key = [info.vendor, info.architecture, info.device, info.description]
    .join(' ')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
  return PEAK_BANDWIDTH.find((p) => p.match.test(key));
}

const KERNEL_OPS: readonly Op[] = ['aconC.forward', 'aconC.backward', 'metaAconC.forward', 'metaAconC.backward'];
const isKernelOp = (op: Op): op is KernelOp => KERNEL_OPS.includes(op);

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One implementation under test: `run` queues one call, `drain` waits until the GPU has done it. */
interface Contender {
  run: () => void;
  drain: () => Promise<void>;
}

/** A contender with the labels its result is recorded under. */
interface Entry extends Contender {
  impl: Impl;
  layout: DataFormat;
  net?: NetName;
}

/**
 * Times implementations of one op side by side: each is warmed up and given a batch size k (about
 * `batchMs` of work), then the timed batches take turns (a, b, c, a, b, c, …), so that a slow spell
 * of a shared machine falls on all of them alike. Where one round of batches would take so long that
 * `batches` rounds overrun `groupMs` (a network at batch 64 on a software adapter), fewer rounds are
 * timed, never fewer than `minBatches`. Returns, per contender, the median ms per call and the
 * number of timed calls.
 */
async function timeSideBySide(
  contenders: Contender[],
  t: { batchMs: number; batches: number; groupMs: number; warmup?: number; minBatches?: number },
) {
  const { batchMs, warmup = 3, minBatches = 3 } = t;
  const ks: number[] = [];
  let roundMs = 0;
  for (const { run, drain } of contenders) {
    for (let i = 0; i < warmup; i++) run();
    await drain();
    const t0 = performance.now();
    run();
    await drain();
    const single = Math.max(performance.now() - t0, 0.01);
    const k = Math.max(1, Math.min(200, Math.round(batchMs / single)));
    ks.push(k);
    roundMs += k * single;
  }
  const batches = Math.max(Math.min(minBatches, t.batches), Math.min(t.batches, Math.floor(t.groupMs / roundMs)));
  const per: number[][] = contenders.map(() => []);
  for (let b = 0; b < batches; b++) {
    for (const [j, { run, drain }] of contenders.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < ks[j]!; i++) run();
      await drain();
      per[j]!.push((performance.now() - t0) / ks[j]!);
    }
  }
  return per.map((p, j) => ({ ms: median(p), runs: ks[j]! * batches }));
}

function timeCpu(run: () => void, runs: number) {
  const per: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    run();
    per.push(performance.now() - t0);
  }
  return { ms: median(per), runs };
}

/** Seeded data uniform in [−2, 2). */
const randomArray = (n: number, seed: number) => uniform(rng(seed), n, -2, 2) as Float32Array<ArrayBuffer>;

/** NCHW host data rearranged as NHWC (the same tensor in the other layout). */
function toNHWC(x: Float32Array<ArrayBuffer>, [N, C, H, W]: Shape4): Float32Array<ArrayBuffer> {
  const y = new Float32Array(x.length);
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const src = (n * C + c) * HW;
      const dst = n * HW * C + c;
      for (let p = 0; p < HW; p++) y[dst + p * C] = x[src + p]!;
    }
  }
  return y;
}

/** The tensor shape of logical [N, C, H, W] in a layout. */
const physical = ([N, C, H, W]: Shape4, layout: DataFormat): Shape4 =>
  layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];

/** Per-channel parameters [C] (or per-sample [N, C]) shaped to broadcast against x in a layout. */
const broadcast = (t: tf.Tensor, layout: DataFormat) => {
  const lead = t.rank === 2 ? t.shape[0]! : 1;
  const c = t.shape[t.rank - 1]!;
  return tf.reshape(t, layout === 'NCHW' ? [lead, c, 1, 1] : [lead, 1, 1, c]);
};

/** Meta-ACON-C from tfjs primitives in either layout: composed.ts's formulas, with the mean and the broadcasts over the layout's axes. */
function metaComposedIn(
  layout: DataFormat,
  x: tf.Tensor4D,
  t: MetaComposedParams,
  running: MetaComposedRunning,
  training: boolean,
): tf.Tensor {
  if (layout === 'NCHW') return metaAconCComposed(x, t, running, training);
  const m = tf.mean(x, [1, 2]);
  const h1 = tf.add(tf.matMul(m, t.w1, false, true), t.b1);
  const a1 = batchNormComposed(h1, t.g1, t.be1, running.rm1, running.rv1, training);
  const h2 = tf.add(tf.matMul(a1, t.w2, false, true), t.b2);
  const beta = tf.sigmoid(batchNormComposed(h2, t.g2, t.be2, running.rm2, running.rv2, training));
  return aconCComposed(x, broadcast(t.p1, layout), broadcast(t.p2, layout), broadcast(beta, layout));
}

const LAYOUTS: DataFormat[] = ['NCHW', 'NHWC'];

/**
 * Fails the run when a fused result does not match the composed one (a timing of a wrong result is
 * worthless): max |a − b| ≤ 1e-3·(1 + max |b|), loose enough for float32 reassociation, far below any
 * real error. One read-back each, before the timing.
 */
async function checkAgree(what: string, fused: tf.Tensor, composed: tf.Tensor): Promise<void> {
  const [a, b] = await Promise.all([fused.data(), composed.data()]);
  tf.dispose([fused, composed]);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  if (a.length !== b.length || !(diff <= 1e-3 * (1 + scale))) {
    throw new Error(
      `bench: ${what}: the fused result differs from the composed one (max |diff| ${diff}, max |composed| ${scale}); not timing a wrong result`,
    );
  }
}

/** Results one family records (for the progress bar's total). */
function countResults(families: Family[], shapes: Shape4[], tfjsShapes: Shape4[], netBatches: number[]): number {
  // per kernel op and shape: fused and tfjs-composed in both layouts, copy roofline, reference
  const perKernelOp = 2 * LAYOUTS.length + 2;
  let total = 0;
  if (families.includes('aconC')) total += shapes.length * 2 * perKernelOp;
  if (families.includes('metaAconC')) total += shapes.filter((sh) => sh[0] >= 2).length * 2 * perKernelOp;
  if (families.includes('tfjs')) total += tfjsShapes.length * 3 * 3;
  if (families.includes('net')) total += netBatches.length * NET_CONTENDERS.length;
  if (families.includes('shufflenet')) total += 4;
  if (families.includes('train')) total += 4;
  return total;
}

/** Runs every (op, impl, layout, shape) measurement and returns the report. */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const shapes = options.shapes ?? DEFAULT_SHAPES;
  const tfjsShapes = options.tfjsShapes ?? TFJS_SHAPES;
  const netBatches = options.netBatches ?? NET_BATCHES;
  const batchMs = options.batchMs ?? 150;
  const batches = options.batches ?? 11;
  const groupMs = options.groupMs ?? 60_000;
  const progress = options.onProgress ?? (() => {});
  const families = options.families ?? DEFAULT_FAMILIES;
  const trainBatch = options.trainBatch ?? 64;
  const unknown = families.filter((f) => !ALL_FAMILIES.includes(f));
  if (unknown.length)
    throw new Error(`unknown benchmark families: ${unknown.join(', ')} (known: ${ALL_FAMILIES.join(', ')})`);

  const ctx = await GpuContext.create({ checkErrors: false, powerPreference: 'high-performance' });
  await tf.setBackend('webgpu');
  await tf.ready();
  const tfDevice = (tf.backend() as unknown as { device: GPUDevice }).device;
  /** Submits what tfjs has recorded (our tfjs ops record into the same stream) and waits for the GPU to finish it. */
  const tfDrain = async () => {
    const backend = tf.backend() as unknown as {
      endComputePassEncoder(): void;
      ensureCommandEncoderReady(): void;
      submitQueue(): void;
    };
    backend.endComputePassEncoder();
    backend.ensureCommandEncoderReady();
    backend.submitQueue();
    await tfDevice.queue.onSubmittedWorkDone();
  };
  const ourDrain = () => ctx.device.queue.onSubmittedWorkDone();
  /** One call inside tf.tidy: its result (and every intermediate) is disposed, nothing is read back. */
  const tidy = (f: () => unknown) => () => tf.tidy(() => void f());

  const info =
    (ctx.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ??
    (await navigator.gpu.requestAdapter())?.info;
  const peak = info && peakBandwidth(info);
  const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  const report: BenchReport = {
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      software: ctx.software,
      runtime: options.runtime ?? (inNode ? 'node-dawn' : 'browser'),
      ...(peak ? { peakGBps: peak.gbps, peakName: peak.name } : {}),
    },
    results: [],
  };
  const total = countResults(families, shapes, tfjsShapes, netBatches);
  const record = (r: BenchResult) => {
    report.results.push(r);
    const label = r.op + (r.net ? ` ${r.net}` : '');
    progress(
      report.results.length,
      total,
      `${label.padEnd(24)} ${r.impl.padEnd(14)} ${r.layout} [${r.shape.join(',')}]  ${r.ms.toFixed(3)} ms`,
    );
  };

  /** Times the implementations of one op at one shape side by side and records each. */
  const sideBySide = async (
    op: Op,
    shape: Shape4,
    entries: Entry[],
    warmup?: number,
    timing: { batchMs?: number; groupMs?: number } = {},
  ) => {
    const times = await timeSideBySide(entries, {
      batchMs,
      batches,
      groupMs,
      ...timing,
      ...(warmup === undefined ? {} : { warmup }),
    });
    entries.forEach(({ impl, layout, net }, j) => {
      const gbps = isKernelOp(op) ? { gbps: gbPerSecond(bytesMoved(op, shape), times[j]!.ms) } : {};
      record({ op, impl, layout, shape, ...(net ? { net } : {}), ...times[j]!, ...gbps });
    });
  };

  try {
    for (const shape of shapes) {
      if (families.includes('aconC')) await benchAconC(shape);
      if (families.includes('metaAconC')) await benchMeta(shape);
    }
    if (families.includes('tfjs')) for (const shape of tfjsShapes) await benchTfjs(shape);
    if (families.includes('net')) for (const n of netBatches) await benchNet(n);
    if (families.includes('shufflenet')) await benchShuffleNet();
    if (families.includes('train')) await benchTrain();
  } finally {
    ctx.destroy();
  }
  return report;

  /** Storage buffers on our device, destroyed together. */
  function buffers() {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const made: GPUBuffer[] = [];
    const buf = (data: Float32Array | number) => {
      const b = ctx.device.createBuffer({ size: (typeof data === 'number' ? data : data.length) * 4, usage });
      if (typeof data !== 'number') ctx.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
      made.push(b);
      return b;
    };
    const destroy = async () => {
      await ctx.device.queue.onSubmittedWorkDone();
      for (const b of made) b.destroy();
    };
    return { buf, destroy };
  }

  /**
   * A kernel op's forward and backward, each timed side by side: fused in both layouts, the copy
   * roofline (layout-free, reported as NCHW) and tfjs-composed in both layouts.
   */
  async function timeKernelOp(
    op: 'aconC' | 'metaAconC',
    shape: Shape4,
    fused: { fwd: () => void; bwd: () => void }[],
    copy: { fwd: () => void; bwd: () => void },
    composed: { fwd: () => void; bwd: () => void }[],
  ) {
    for (const dir of ['fwd', 'bwd'] as const) {
      await sideBySide(dir === 'fwd' ? `${op}.forward` : `${op}.backward`, shape, [
        ...LAYOUTS.map((layout, i) => ({ impl: 'fused' as const, layout, run: fused[i]![dir], drain: ourDrain })),
        { impl: 'copy-roofline', layout: 'NCHW', run: copy[dir], drain: ourDrain },
        ...LAYOUTS.map((layout, i) => ({
          impl: 'tfjs-composed' as const,
          layout,
          run: composed[i]![dir],
          drain: tfDrain,
        })),
      ]);
    }
  }

  async function benchAconC(shape: Shape4) {
    const [, C] = shape;
    const count = shape.reduce((a, b) => a * b, 1);
    const host = { NCHW: { x: randomArray(count, 1), dy: randomArray(count, 2) } } as Record<
      DataFormat,
      { x: Float32Array<ArrayBuffer>; dy: Float32Array<ArrayBuffer> }
    >;
    host.NHWC = { x: toNHWC(host.NCHW.x, shape), dy: toNHWC(host.NCHW.dy, shape) };
    const params = { p1: randomArray(C, 3), p2: randomArray(C, 4), beta: randomArray(C, 5) };

    // fused (both layouts) and copy-roofline on our device
    const { buf, destroy } = buffers();
    const p = { p1: buf(params.p1), p2: buf(params.p2), beta: buf(params.beta) };
    const grads = { p1: buf(C), p2: buf(C), beta: buf(C) };
    const fused = LAYOUTS.map((layout) => {
      const io = { x: buf(host[layout].x), dy: buf(host[layout].dy), y: buf(count), dx: buf(count) };
      return {
        io,
        fwd: () => void aconCForwardBuffers(ctx, { x: io.x, params: p, y: io.y }, shape, { dataFormat: layout }),
        bwd: () =>
          void aconCBackwardBuffers(ctx, { x: io.x, dy: io.dy, params: p, grads: { dx: io.dx, ...grads } }, shape, {
            dataFormat: layout,
          }),
      };
    });
    const g = fused[0]!.io;
    const copyF = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x], g.y, count));
    const copyB = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x, g.dy], g.dx, count));

    // tfjs-composed: the same formula from tfjs primitives on the tfjs WebGPU backend, in each layout
    const tp = [params.p1, params.p2, params.beta].map((v) => tf.tensor1d(v));
    const composed = LAYOUTS.map((layout) => {
      const tx = tf.tensor4d(host[layout].x, physical(shape, layout));
      const tdy = tf.tensor4d(host[layout].dy, physical(shape, layout));
      const f = (xx: tf.Tensor, a1: tf.Tensor, a2: tf.Tensor, b: tf.Tensor) =>
        aconCComposed(xx, broadcast(a1, layout), broadcast(a2, layout), broadcast(b, layout));
      const grads = tf.grads((xx, a1, a2, b) => f(xx, a1, a2, b) as tf.Tensor4D);
      return {
        tensors: [tx, tdy],
        fwd: tidy(() => f(tx, tp[0]!, tp[1]!, tp[2]!)),
        bwd: tidy(() => grads([tx, ...tp], tdy)),
      };
    });

    await timeKernelOp('aconC', shape, fused, { fwd: copyF, bwd: copyB }, composed);
    await destroy();
    tf.dispose([...tp, ...composed.flatMap((c) => c.tensors)]);

    // the CPU reference (NCHW only: it is slow, and its layouts agree by the tests)
    const cpuRuns = count > 1e6 ? 3 : 7;
    const { x, dy } = host.NCHW;
    record({
      op: 'aconC.forward',
      impl: 'reference',
      layout: 'NCHW',
      shape,
      ...timeCpu(() => aconCForwardRef(x, shape, params), cpuRuns),
    });
    record({
      op: 'aconC.backward',
      impl: 'reference',
      layout: 'NCHW',
      shape,
      ...timeCpu(() => aconCBackwardRef(x, dy, shape, params), cpuRuns),
    });
  }

  /** Meta-ACON-C in training mode (batch statistics; N ≥ 2). */
  async function benchMeta(shape: Shape4) {
    const [N, C] = shape;
    if (N < 2) return;
    const count = shape.reduce((a, b) => a * b, 1);
    const x = randomArray(count, 6);
    const dy = randomArray(count, 7);
    const host = { NCHW: { x, dy }, NHWC: { x: toNHWC(x, shape), dy: toNHWC(dy, shape) } };
    const layer = new MetaAconC(C, 16, 1);
    const p = layer.params;
    const R = layer.hidden;
    const { buf, destroy } = buffers();
    const bn = (s: typeof p.bn1) => ({
      weight: buf(s.weight),
      bias: buf(s.bias),
      runningMean: buf(s.runningMean),
      runningVar: buf(s.runningVar),
    });
    const P: MetaAconCParams<GPUBuffer> = {
      p1: buf(p.p1),
      p2: buf(p.p2),
      fc1: { weight: buf(p.fc1.weight), bias: buf(p.fc1.bias) },
      bn1: bn(p.bn1),
      fc2: { weight: buf(p.fc2.weight), bias: buf(p.fc2.bias) },
      bn2: bn(p.bn2),
    };
    const G: Omit<MetaAconCGrads<GPUBuffer>, 'dx'> = {
      p1: buf(C),
      p2: buf(C),
      fc1: { weight: buf(R * C), bias: buf(R) },
      bn1: { weight: buf(R), bias: buf(R) },
      fc2: { weight: buf(C * R), bias: buf(C) },
      bn2: { weight: buf(C), bias: buf(C) },
    };
    const fused = LAYOUTS.map((layout) => {
      const io = { x: buf(host[layout].x), dy: buf(host[layout].dy), y: buf(count), dx: buf(count) };
      const opts = { training: true, hidden: R, dataFormat: layout };
      return {
        io,
        fwd: () => void metaAconCForwardBuffers(ctx, { x: io.x, params: P, y: io.y }, shape, opts),
        bwd: () =>
          void metaAconCBackwardBuffers(
            ctx,
            { x: io.x, dy: io.dy, params: P, grads: { ...G, dx: io.dx } },
            shape,
            opts,
          ),
      };
    });
    const g = fused[0]!.io;
    const gx2 = buf(x);
    const scratch = buf(count);
    // bytes actually required: forward reads x twice (mean, then ACON) and writes y: 12 B/element;
    // backward reads x (mean), then x and dy (dβ), then x and dy writing dx: 24 B/element.
    const copyF = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x, gx2], g.y, count));
    const copyB = () =>
      ctx.submit((b) => {
        encodeCopyRoofline(ctx, b, [g.x, g.dy, gx2], g.dx, count);
        encodeCopyRoofline(ctx, b, [g.x], scratch, count);
      });

    const t: MetaComposedParams = {
      p1: tf.tensor1d(p.p1),
      p2: tf.tensor1d(p.p2),
      w1: tf.tensor2d(p.fc1.weight, [R, C]),
      b1: tf.tensor1d(p.fc1.bias),
      g1: tf.tensor1d(p.bn1.weight),
      be1: tf.tensor1d(p.bn1.bias),
      w2: tf.tensor2d(p.fc2.weight, [C, R]),
      b2: tf.tensor1d(p.fc2.bias),
      g2: tf.tensor1d(p.bn2.weight),
      be2: tf.tensor1d(p.bn2.bias),
    };
    const running = {
      rm1: tf.tensor1d(p.bn1.runningMean),
      rv1: tf.tensor1d(p.bn1.runningVar),
      rm2: tf.tensor1d(p.bn2.runningMean),
      rv2: tf.tensor1d(p.bn2.runningVar),
    };
    const keys = Object.keys(t) as (keyof MetaComposedParams)[];
    const composed = LAYOUTS.map((layout) => {
      const tx = tf.tensor4d(host[layout].x, physical(shape, layout));
      const tdy = tf.tensor4d(host[layout].dy, physical(shape, layout));
      const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) =>
        metaComposedIn(
          layout,
          xx as tf.Tensor4D,
          Object.fromEntries(keys.map((k, i) => [k, ps[i]!])) as unknown as MetaComposedParams,
          running,
          true,
        ),
      );
      return {
        tensors: [tx, tdy],
        fwd: tidy(() => metaComposedIn(layout, tx, t, running, true)),
        bwd: tidy(() => grads([tx, ...keys.map((k) => t[k])], tdy)),
      };
    });

    await timeKernelOp('metaAconC', shape, fused, { fwd: copyF, bwd: copyB }, composed);
    await destroy();
    tf.dispose([...composed.flatMap((c) => c.tensors), ...Object.values(t), ...Object.values(running)]);

    const cpuRuns = count > 1e6 ? 3 : 7;
    record({
      op: 'metaAconC.forward',
      impl: 'reference',
      layout: 'NCHW',
      shape,
      ...timeCpu(() => metaAconCForwardRef(x, shape, p, true), cpuRuns),
    });
    record({
      op: 'metaAconC.backward',
      impl: 'reference',
      layout: 'NCHW',
      shape,
      ...timeCpu(() => metaAconCBackwardRef(x, dy, shape, p, true), cpuRuns),
    });
  }

  /**
   * The tfjs face on NHWC tensors as a model uses it: each call's result is disposed (tf.tidy), a run
   * of k calls ends by draining the backend's queue. tf.relu on the same tensor is the yardstick.
   */
  async function benchTfjs(shape: Shape4) {
    const C = shape[1];
    const layout: DataFormat = 'NHWC';
    const x = tf.tensor4d(
      randomArray(
        shape.reduce((a, b) => a * b, 1),
        8,
      ),
      physical(shape, layout),
    );
    const [p1, p2, beta] = [9, 10, 11].map((seed) => tf.tensor1d(randomArray(C, seed)));
    const tp = [p1!, p2!, beta!];
    const acon = (impl: 'auto' | 'composed') => (xx: tf.Tensor, a1: tf.Tensor, a2: tf.Tensor, b: tf.Tensor) =>
      aconC(xx, a1, a2, b, { dataFormat: layout, impl });

    // Meta-ACON-C's tensors from the host layer: tf.tensor per leaf, tf.variable per running statistic
    const mp = new MetaAconC(C, 16, 12).params;
    const variable = (v: Float32Array) => tf.variable(tf.tensor1d(v), false);
    const meta: MetaAconCTensors = {
      p1: tf.tensor1d(mp.p1),
      p2: tf.tensor1d(mp.p2),
      fc1: { weight: tf.tensor1d(mp.fc1.weight), bias: tf.tensor1d(mp.fc1.bias) },
      bn1: {
        weight: tf.tensor1d(mp.bn1.weight),
        bias: tf.tensor1d(mp.bn1.bias),
        runningMean: variable(mp.bn1.runningMean),
        runningVar: variable(mp.bn1.runningVar),
      },
      fc2: { weight: tf.tensor1d(mp.fc2.weight), bias: tf.tensor1d(mp.fc2.bias) },
      bn2: {
        weight: tf.tensor1d(mp.bn2.weight),
        bias: tf.tensor1d(mp.bn2.bias),
        runningMean: variable(mp.bn2.runningMean),
        runningVar: variable(mp.bn2.runningVar),
      },
    };
    // the gradient of a sum through the op: all four gradients (x, p1, p2, β)
    const gradFused = tf.grads((xx, a1, a2, b) => tf.sum(acon('auto')(xx, a1, a2, b)));
    const gradComposed = tf.grads((xx, a1, a2, b) => tf.sum(acon('composed')(xx, a1, a2, b)));
    const gradRelu = tf.grad((xx: tf.Tensor) => tf.sum(tf.relu(xx)));
    const entry = (impl: Impl, f: () => unknown): Entry => ({ impl, layout, run: tidy(f), drain: tfDrain });
    const at = `[${shape.join(',')}]`;
    await checkAgree(`tfjs.aconC ${at}`, acon('auto')(x, p1!, p2!, beta!), acon('composed')(x, p1!, p2!, beta!));
    await checkAgree(
      `tfjs.metaAconC ${at}`,
      metaAconC(x, meta, { training: false, dataFormat: layout }),
      metaAconC(x, meta, { training: false, dataFormat: layout, impl: 'composed' }),
    );

    await sideBySide('tfjs.aconC.forward', shape, [
      entry('fused', () => acon('auto')(x, p1!, p2!, beta!)),
      entry('tfjs-composed', () => acon('composed')(x, p1!, p2!, beta!)),
      entry('relu', () => tf.relu(x)),
    ]);
    await sideBySide('tfjs.aconC.backward', shape, [
      entry('fused', () => gradFused([x, ...tp])),
      entry('tfjs-composed', () => gradComposed([x, ...tp])),
      entry('relu', () => gradRelu(x)),
    ]);
    await sideBySide('tfjs.metaAconC.forward', shape, [
      entry('fused', () => metaAconC(x, meta, { training: false, dataFormat: layout })),
      entry('tfjs-composed', () => metaAconC(x, meta, { training: false, dataFormat: layout, impl: 'composed' })),
      entry('relu', () => tf.relu(x)),
    ]);
    await tfDrain();
    const leaves = [meta.p1, meta.p2, meta.fc1, meta.bn1, meta.fc2, meta.bn2].flatMap((v) =>
      v instanceof tf.Tensor ? [v] : Object.values(v),
    );
    tf.dispose([x, ...tp, ...leaves]);
  }

  /** Inference of the seed networks as tf.layers models: predict on a fixed input, result disposed, drained. */
  async function benchNet(n: number) {
    const shape: Shape4 = [n, 3, 32, 32];
    const x = tf.tensor4d(makeDataset(n, 2).images, [n, 32, 32, 3]);
    const models = NET_CONTENDERS.map(([net, impl]) =>
      seedModel(net, { impl: impl === 'tfjs-composed' ? 'composed' : 'auto', seed: 1 }),
    );
    for (const net of ['dcn2-acon', 'dcn2-meta'] as const) {
      const [fused, composed] = (['fused', 'tfjs-composed'] as const).map(
        (impl) =>
          models[NET_CONTENDERS.findIndex(([k, i]) => k === net && i === impl)]!.predict(x, {
            batchSize: n,
          }) as tf.Tensor,
      );
      await checkAgree(`net.infer ${net} [${shape.join(',')}]`, fused!, composed!);
    }
    // batchSize: n, so that predict runs the whole batch at once (its default splits into batches of 32)
    const entries = NET_CONTENDERS.map(([net, impl], j): Entry => ({
      impl,
      layout: 'NHWC',
      net,
      run: tidy(() => models[j]!.predict(x, { batchSize: n })),
      drain: tfDrain,
    }));
    // one warm-up call (pipelines, buffers); the call that sizes the batches warms up once more
    // A timed batch ends with a queue drain of a few ms; at ~75 ms a call (batch 1 on SwiftShader) a
    // batch of 1 or 2 calls would carry it unevenly between contenders, so net batches aim at a
    // second each (about 13 calls at batch 1; one call at batch 64, where the drain is < 0.5 %), and
    // the group may take 4 minutes, so that batch 64 still gets its 11 rounds on SwiftShader.
    await sideBySide('net.infer', shape, entries, 1, {
      batchMs: Math.max(batchMs, 1000),
      groupMs: Math.max(groupMs, 240_000),
    });
    await tfDrain();
    for (const m of models) m.dispose();
    x.dispose();
  }

  /**
   * The paper's ShuffleNetV2 0.5× at batch 1 (224×224, random weights shared by the fused and the
   * composed model of each activation): 3 + 16·2 + 4 + 1 ACON layers between tfjs's own convolutions.
   */
  async function benchShuffleNet() {
    const shape: Shape4 = [1, 3, 224, 224];
    const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 7);
    for (const activation of ['acon', 'meta'] as const) {
      const net = `shufflenetv2-0.5x-${activation}` as const;
      const [fused, composed] = (['auto', 'composed'] as const).map((impl) =>
        shuffleNetV2({ activation, modelSize: '0.5x', impl }),
      );
      composed!.setWeights(fused!.getWeights());
      await checkAgree(`net.infer ${net}`, fused!.predict(x) as tf.Tensor, composed!.predict(x) as tf.Tensor);
      const entries = (
        [
          ['fused', fused!],
          ['tfjs-composed', composed!],
        ] as const
      ).map(([impl, model]): Entry => ({
        impl,
        layout: 'NHWC',
        net,
        run: tidy(() => model.predict(x)),
        drain: tfDrain,
      }));
      await sideBySide('net.infer', shape, entries, 1, {
        batchMs: Math.max(batchMs, 1000),
        groupMs: Math.max(groupMs, 240_000),
      });
      await tfDrain();
      fused!.dispose();
      composed!.dispose();
    }
    x.dispose();
  }

  /** One Adam step of the seed's tf.layers model, ACON on our kernels (fused) or in tfjs primitives. */
  async function benchTrain() {
    const shape: Shape4 = [trainBatch, 3, 32, 32];
    const data = makeDataset(trainBatch, 1);
    const x = tf.tensor4d(data.images, [trainBatch, 32, 32, 3]);
    const y = tf.tensor2d(data.labels, [trainBatch, 1]);
    for (const net of ['dcn2-acon', 'dcn2-meta'] as const) {
      for (const impl of ['fused', 'tfjs-composed'] as const) {
        const model = seedModel(net, { impl: impl === 'fused' ? 'auto' : 'composed', seed: 1 });
        const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const opt = tf.train.adam(1e-3);
        const loss = () => bceWithLogits(y, model.apply(x, { training: true }) as tf.Tensor);
        const step = tidy(() => opt.minimize(loss, false, weights));
        record({
          op: 'train.step',
          impl,
          layout: 'NHWC',
          shape,
          net,
          ...(
            await timeSideBySide([{ run: step, drain: tfDrain }], { batchMs: 1, batches: 3, groupMs, warmup: 1 })
          )[0]!,
        });
        await tfDrain();
        opt.dispose();
        model.dispose();
      }
    }
    tf.dispose([x, y]);
  }
}

// three decimals, or three significant digits below 0.1 ms (a GPU's microseconds)
const fmtMs = (n?: number, w = 10) => (n === undefined ? '-' : n < 0.1 ? n.toPrecision(3) : n.toFixed(3)).padEnd(w);
const fmtRatio = (a?: number, b?: number, w = 12) =>
  (a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) + '×' : '-').padEnd(w);

/** Results grouped by a key, in first-seen order, each group's ms by a sub-key. */
function groupBy(results: BenchResult[], key: (r: BenchResult) => string, sub: (r: BenchResult) => string) {
  const groups = new Map<string, { first: BenchResult; ms: Record<string, number> }>();
  for (const r of results) {
    const gr = groups.get(key(r)) ?? { first: r, ms: {} };
    gr.ms[sub(r)] = r.ms;
    groups.set(key(r), gr);
  }
  return [...groups.values()];
}

/** The GB/s columns of a kernel row: fused, copy roofline, fused as a share of the card's peak. */
function fusedBandwidth(fused: number | undefined, copy: number | undefined, peak: number | undefined): string {
  const share = fused !== undefined && peak !== undefined ? `${((100 * fused) / peak).toFixed(1)} %` : '-';
  return '   ' + fmtGBps(fused, 11) + fmtGBps(copy, 10) + (peak !== undefined ? share : '');
}

const fmtGBps = (n?: number, w = 10) => (n === undefined ? '-' : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)).padEnd(w);

/**
 * The report as fixed-width tables, with the ratios the targets are stated in: for the kernel ops
 * NHWC/NCHW of the fused kernels (same bytes, same arithmetic: should be ≈ 1), for the tfjs face
 * fused/relu and composed/relu, for net.infer each network against dcn3 (ReLU) at the same batch.
 * On a GPU adapter (not software) the kernel table adds the effective bandwidth of the fused kernel
 * and of the copy roofline, and, where the card's peak is known, the fused kernel's share of it.
 */
export function formatReport(report: BenchReport): string {
  const a = report.adapter;
  const lines = [
    `adapter: ${a.vendor} ${a.architecture} ${a.device ?? ''} ${a.description}`.replace(/ +/g, ' ').trim() +
      (a.runtime ? ` (${a.runtime}${a.software ? ', software' : ''})` : ''),
  ];
  // older reports have no `software`: GB/s only where the adapter is known to be a GPU
  const showGBps = a.software === false;
  const peak = showGBps ? a.peakGBps : undefined;
  if (peak !== undefined)
    lines.push(
      `peak memory bandwidth: ${peak} GB/s (${a.peakName ?? 'known card'}); GB/s = bytes the op must move / time`,
    );
  else if (showGBps) lines.push('GB/s = bytes the op must move / time (no peak known for this adapter)');
  const shapeOf = (r: BenchResult) => `[${r.shape.join(',')}]`;

  const kernel = report.results.filter(
    (r) => !r.op.startsWith('tfjs.') && r.op !== 'net.infer' && r.op !== 'train.step',
  );
  if (kernel.length) {
    // the copy roofline and the reference ran once per op and shape (NCHW); the copy is layout-free
    const perShape = groupBy(
      kernel,
      (r) => `${r.op}|${shapeOf(r)}`,
      (r) => `${r.impl}|${r.layout}`,
    );
    const gbpsOf = new Map(kernel.map((r) => [`${r.op}|${shapeOf(r)}|${r.impl}|${r.layout}`, r.gbps]));
    lines.push(
      '',
      'kernels (our device, GPU-resident)',
      'op                   shape           layout  fused ms  tfjs ms   copy ms   ref ms    tfjs/fused  fused/copy  NHWC/NCHW' +
        (showGBps ? '   fused GB/s copy GB/s' + (peak !== undefined ? ' fused/peak' : '') : ''),
    );
    for (const { first, ms } of perShape) {
      const copy = ms['copy-roofline|NCHW'] ?? ms['copy-roofline|NHWC'];
      const at = `${first.op}|${shapeOf(first)}`;
      const copyGBps = gbpsOf.get(`${at}|copy-roofline|NCHW`) ?? gbpsOf.get(`${at}|copy-roofline|NHWC`);
      for (const layout of LAYOUTS) {
        const fused = ms[`fused|${layout}`];
        const composed = ms[`tfjs-composed|${layout}`];
        const ref = ms[`reference|${layout}`];
        if (fused === undefined && composed === undefined && ref === undefined) continue;
        lines.push(
          `${first.op.padEnd(21)}${shapeOf(first).padEnd(16)}${layout.padEnd(8)}` +
            fmtMs(fused) +
            fmtMs(composed) +
            fmtMs(layout === 'NCHW' ? copy : undefined) +
            fmtMs(ref) +
            fmtRatio(composed, fused) +
            fmtRatio(fused, copy) +
            (layout === 'NHWC' ? fmtRatio(fused, ms['fused|NCHW']) : '-'.padEnd(12)) +
            (showGBps
              ? fusedBandwidth(gbpsOf.get(`${at}|fused|${layout}`), layout === 'NCHW' ? copyGBps : undefined, peak)
              : ''),
        );
      }
    }
  }

  const face = report.results.filter((r) => r.op.startsWith('tfjs.'));
  if (face.length) {
    lines.push(
      '',
      'tfjs face (tfjs tensors [N,H,W,C]; shape is the logical [N,C,H,W])',
      'op                      shape           layout  fused ms  composed  relu ms   fused/relu  composed/relu',
    );
    for (const { first, ms } of groupBy(
      face,
      (r) => `${r.op}|${shapeOf(r)}|${r.layout}`,
      (r) => r.impl,
    )) {
      lines.push(
        `${first.op.padEnd(24)}${shapeOf(first).padEnd(16)}${first.layout.padEnd(8)}` +
          fmtMs(ms.fused) +
          fmtMs(ms['tfjs-composed']) +
          fmtMs(ms.relu) +
          fmtRatio(ms.fused, ms.relu) +
          fmtRatio(ms['tfjs-composed'], ms.relu, 0),
      );
    }
  }

  const nets = report.results.filter((r) => r.op === 'net.infer');
  if (nets.length) {
    lines.push(
      '',
      'net.infer (tf.layers models, NHWC; ratios: seed networks against dcn3 (ReLU) at the same batch, ShuffleNetV2 fused against composed)',
      'shape             net                       impl           ms        ratio',
    );
    const dcn3 = new Map(nets.filter((r) => r.net === 'dcn3').map((r) => [shapeOf(r), r.ms]));
    const composedOf = new Map(
      nets.filter((r) => r.impl === 'tfjs-composed').map((r) => [`${r.net}|${shapeOf(r)}`, r.ms]),
    );
    for (const r of nets) {
      const shuffle = r.net?.startsWith('shufflenet') ?? false;
      const base = shuffle
        ? r.impl === 'fused'
          ? composedOf.get(`${r.net}|${shapeOf(r)}`)
          : undefined
        : dcn3.get(shapeOf(r));
      const label = base === undefined ? '' : fmtRatio(r.ms, base, 0) + (shuffle ? ' of composed' : ' of dcn3');
      lines.push(`${shapeOf(r).padEnd(18)}${(r.net ?? '').padEnd(26)}${r.impl.padEnd(15)}${fmtMs(r.ms)}${label}`);
    }
  }

  const train = report.results.filter((r) => r.op === 'train.step');
  if (train.length) {
    lines.push('', 'train.step (one Adam step, NHWC)', 'net         shape           fused ms  tfjs ms   tfjs/fused');
    for (const { first, ms } of groupBy(
      train,
      (r) => `${r.net}|${shapeOf(r)}`,
      (r) => r.impl,
    )) {
      lines.push(
        `${(first.net ?? '').padEnd(12)}${shapeOf(first).padEnd(16)}${fmtMs(ms.fused)}${fmtMs(ms['tfjs-composed'])}${fmtRatio(ms['tfjs-composed'], ms.fused, 0)}`,
      );
    }
  }
  return lines.join('\n');
}
