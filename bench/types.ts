// The bench's vocabulary: what a result records (the JSON schema of `npm run bench`), the options of
// runBench, and what the families share while a run is under way (BenchRun).
import type { Registered } from '../src/activations/registry';
import type { GpuContext } from '../src/gpu/context';
import type { DataFormat } from '../src/core/types';
import type { NetKind } from '../src/layers/index';

export type { DataFormat };
/** Which implementation a result timed (JSON key `impl`; the layers' and the tfjs ops' `Impl` is another thing). */
export type BenchImpl =
  | 'fused'
  | 'tfjs-composed'
  | 'reference'
  | 'copy-roofline'
  | 'relu'
  /** tfjs's own 3×3 depthwise conv alone, where ACON-FReLU's composed form starts (tfnet family). */
  | 'tfjs-depthwise3x3'
  /** A kernel that only sums each output's 3×3 window (bench/window.wgsl; tfnet family). */
  | 'window-roofline'
  /** The copy roofline with each element's nine multiply-adds and no window loads (bench/roofline.wgsl taps1; tfnet family). */
  | 'taps-roofline'
  /**
   * The copy roofline with each element's whole eval-forward arithmetic (nine multiply-adds, BN1, σ
   * and BN2) and no window loads (bench/window.wgsl arith_roofline; tfnet family).
   */
  | 'arith-roofline';
/** A registered activation's name: its kernel family (--ops aconC). */
export type ActivationName = Registered['name'];
/** Its kernel ops. */
export type KernelOp = `${ActivationName}.${'forward' | 'backward'}`;
/** Its tfjs op's rows (the declaration's bench.tfjs). */
export type TfjsOp = `tfjs.${ActivationName}.${'forward' | 'backward'}`;
/**
 * 'aconFReLU.window': the tfnet family's group of ACON-FReLU's eval forward (fused, both layouts)
 * beside the window, taps, arithmetic and copy rooflines, named apart from the aconFReLU family's
 * aconFReLU.forward so that each group's ratios use its own side-by-side copy.
 */
export type Op = KernelOp | TfjsOp | 'net.infer' | 'train.step' | 'aconFReLU.window';
export type Family = ActivationName | 'tfjs' | 'net' | 'shufflenet' | 'resnet' | 'tfnet' | 'train';
/** net.infer's networks: the seed's, the paper's ShuffleNetV2 0.5×, ResNet-50 and TFNet 0.5. */
export type NetName =
  | NetKind
  | 'shufflenetv2-0.5x-acon'
  | 'shufflenetv2-0.5x-meta'
  | 'shufflenetv2-0.5x-relu'
  | 'resnet50-acon'
  | 'resnet50-meta'
  | 'resnet50-relu'
  | 'tfnet-0.5';
export type Shape4 = [number, number, number, number];

export interface BenchResult {
  op: Op;
  impl: BenchImpl;
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
  /** Batch sizes of train.step (default [64, 16]). */
  trainBatches?: number[];
  /** Recorded as adapter.runtime (default 'node-dawn' in Node, 'browser' elsewhere). */
  runtime?: string;
  /** Side of the square images of the shufflenet, resnet and tfnet families (default 224; tests run small ones). */
  netInput?: number;
  /** Shape of the tfnet family's window groups, logical [N, C, H, W] (default [8, 64, 56, 56]). */
  windowShape?: Shape4;
  onProgress?: (done: number, total: number, line: string) => void;
}

export const LAYOUTS: DataFormat[] = ['NCHW', 'NHWC'];

/** One implementation under test: `run` queues one call, `drain` waits until the GPU has done it. */
export interface Contender {
  run: () => void;
  drain: () => Promise<void>;
}

/** A contender with the labels its result is recorded under. */
export interface Entry extends Contender {
  impl: BenchImpl;
  layout: DataFormat;
  net?: NetName;
}

/** What runBench hands every family: the devices, the timing options, and where results go. */
export interface BenchRun {
  /** Our own device (the kernel families' buffers and dispatches). */
  ctx: GpuContext;
  /** Target wall time of one timed batch, ms. */
  batchMs: number;
  /** Timed batches per measurement. */
  batches: number;
  /** Wall-time budget of one side-by-side group, ms. */
  groupMs: number;
  /** Submits what tfjs has recorded (our tfjs ops record into the same stream) and waits for the GPU to finish it. */
  tfDrain: () => Promise<void>;
  /** Waits until our device's queue has drained. */
  ourDrain: () => Promise<void>;
  /** Records one result (and reports progress). */
  record: (r: BenchResult) => void;
  /** The networks' square input side and the window groups' shape (BenchOptions). */
  netInput: number;
  windowShape: Shape4;
}
