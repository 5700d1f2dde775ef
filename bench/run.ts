// runBench: the options, our device and tfjs's, the adapter block, progress, and the families in their
// order (per shape each registered activation's kernel family, aconC then metaAconC; then tfjs, net,
// shufflenet, train).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import { GpuContext } from '../src/gpu/context';
import { peakBandwidth } from './bandwidth';
import { ACTIVATIONS } from '../src/activations/registry';
import { benchActivation } from './families/activation';
import { benchTfjs } from './families/tfjs';
import { benchNet, NET_CONTENDERS } from './families/net';
import { benchShuffleNet } from './families/shufflenet';
import { benchResNet } from './families/resnet';
import { benchTfNet } from './families/tfnet';
import { benchTrain } from './families/train';
import {
  LAYOUTS,
  type BenchOptions,
  type BenchReport,
  type BenchResult,
  type BenchRun,
  type Family,
  type Shape4,
} from './types';

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

/** Every registered activation's kernel family, in the registry's order, then the others. */
export const DEFAULT_FAMILIES: Family[] = [...ACTIVATIONS.map((a) => a.name), 'tfjs', 'net', 'shufflenet'];
export const ALL_FAMILIES: Family[] = [...DEFAULT_FAMILIES, 'resnet', 'tfnet', 'train'];
export const NET_BATCHES = [1, 64];

/** Results one family records (for the progress bar's total). */
function countResults(
  families: Family[],
  shapes: Shape4[],
  tfjsShapes: Shape4[],
  netBatches: number[],
  trainBatches: number[],
): number {
  // per kernel op and shape: fused and tfjs-composed in both layouts, copy roofline, reference
  const perKernelOp = 2 * LAYOUTS.length + 2;
  let total = 0;
  for (const a of ACTIVATIONS) {
    const minBatch = (a.bench as { minBatch?: number }).minBatch ?? 1;
    if (families.includes(a.name)) total += shapes.filter((sh) => sh[0] >= minBatch).length * 2 * perKernelOp;
    if (families.includes('tfjs')) total += tfjsShapes.length * a.bench.tfjs.length * 3;
  }
  if (families.includes('net')) total += netBatches.length * NET_CONTENDERS.length;
  if (families.includes('shufflenet')) total += 5;
  if (families.includes('resnet')) total += 3;
  if (families.includes('tfnet')) total += 8;
  if (families.includes('train')) total += 5 * trainBatches.length;
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
  const trainBatches = options.trainBatches ?? [64, 16];
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
  const total = countResults(families, shapes, tfjsShapes, netBatches, trainBatches);
  const record = (r: BenchResult) => {
    report.results.push(r);
    const label = r.op + (r.net ? ` ${r.net}` : '');
    progress(
      report.results.length,
      total,
      `${label.padEnd(24)} ${r.impl.padEnd(14)} ${r.layout} [${r.shape.join(',')}]  ${r.ms.toFixed(3)} ms`,
    );
  };

  const netInput = options.netInput ?? 224;
  const windowShape = options.windowShape ?? [8, 64, 56, 56];
  const bench: BenchRun = { ctx, batchMs, batches, groupMs, tfDrain, ourDrain, record, netInput, windowShape };
  try {
    for (const shape of shapes)
      for (const a of ACTIVATIONS) if (families.includes(a.name)) await benchActivation(bench, a, shape);
    if (families.includes('tfjs')) for (const shape of tfjsShapes) await benchTfjs(bench, shape);
    if (families.includes('net')) for (const n of netBatches) await benchNet(bench, n);
    if (families.includes('shufflenet')) await benchShuffleNet(bench);
    if (families.includes('resnet')) await benchResNet(bench);
    if (families.includes('tfnet')) await benchTfNet(bench);
    if (families.includes('train')) await benchTrain(bench, trainBatches);
  } finally {
    ctx.destroy();
  }
  return report;
}
