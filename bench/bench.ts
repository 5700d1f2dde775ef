// Benchmarks, run in the browser (headless by `npm run bench`, or from the demo page). Every GPU
// implementation is timed the same way: warm up, then batches of k back-to-back calls ended by
// waiting for the queue to drain; the figure is the median over batches of (batch time / k). The
// implementations of one op take turns batch by batch, so their ratios are measured side by side.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import { GpuContext } from '../src/gpu/context';
import { aconCBackwardGPU, aconCForwardGPU } from '../src/ops/aconC';
import { encodeCopyRoofline } from '../src/kernels/roofline';
import { aconCBackwardRef, aconCForwardRef } from '../src/reference/aconC';
import { metaAconCBackwardGPU, metaAconCForwardGPU, type MetaParamSet, type MetaGradSet } from '../src/ops/metaAconC';
import { MetaAconC } from '../src/ops/layers';
import { rng, uniform } from '../src/ops/random';
import { metaAconCBackwardRef, metaAconCForwardRef } from '../src/reference/metaAconC';
import { aconCComposed, metaAconCComposed, type MetaComposedParams } from '../src/tfjs/composed';
import { Network } from '../src/tfjs/networks';
import { makeDataset } from '../src/tfjs/data';
import { bceLoss } from '../src/tfjs/train';

export type Impl = 'fused' | 'tfjs-composed' | 'reference' | 'copy-roofline';
export type Op = 'aconC.forward' | 'aconC.backward' | 'metaAconC.forward' | 'metaAconC.backward' | 'train.step';
export type Family = 'aconC' | 'metaAconC' | 'train';
export type Shape4 = [number, number, number, number];

export interface BenchResult {
  op: Op;
  impl: Impl;
  shape: Shape4;
  ms: number;
  runs: number;
  /** train.step only: which network. */
  net?: 'dcn2-acon' | 'dcn2-meta';
}

export interface BenchReport {
  adapter: { vendor: string; architecture: string; description: string };
  results: BenchResult[];
}

export interface BenchOptions {
  shapes?: Shape4[];
  /** Target wall time of one timed batch, ms. */
  batchMs?: number;
  /** Timed batches per measurement (the median is reported). */
  batches?: number;
  /** Which op families to measure (default aconC and metaAconC; 'train' adds train.step). */
  families?: Family[];
  /** Batch size of train.step (default 64). */
  trainBatch?: number;
  onProgress?: (done: number, total: number, line: string) => void;
}

export const DEFAULT_SHAPES: Shape4[] = [
  [8, 64, 56, 56],
  [32, 64, 16, 16],
  [1, 64, 7, 7],
];

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

/**
 * Times implementations of one op side by side: each is warmed up and given a batch size k (about
 * `batchMs` of work), then the timed batches take turns (a, b, c, a, b, c, …), so that a slow spell
 * of a shared machine falls on all of them alike. Returns, per contender, the median ms per call
 * and the number of timed calls.
 */
async function timeSideBySide(contenders: Contender[], batchMs: number, batches: number, warmup = 3) {
  const ks: number[] = [];
  for (const { run, drain } of contenders) {
    for (let i = 0; i < warmup; i++) run();
    await drain();
    const t0 = performance.now();
    run();
    await drain();
    const single = Math.max(performance.now() - t0, 0.01);
    ks.push(Math.max(1, Math.min(200, Math.round(batchMs / single))));
  }
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

/** Runs every (op, impl, shape) measurement and returns the report. */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const shapes = options.shapes ?? DEFAULT_SHAPES;
  const batchMs = options.batchMs ?? 150;
  const batches = options.batches ?? 11;
  const progress = options.onProgress ?? (() => {});

  const ctx = await GpuContext.create({ checkErrors: false });
  await tf.setBackend('webgpu');
  await tf.ready();
  const tfDevice = (tf.backend() as unknown as { device: GPUDevice }).device;
  const tfDrain = async () => {
    const backend = tf.backend() as unknown as { endComputePassEncoder(): void; ensureCommandEncoderReady(): void; submitQueue(): void };
    backend.endComputePassEncoder();
    backend.ensureCommandEncoderReady();
    backend.submitQueue();
    await tfDevice.queue.onSubmittedWorkDone();
  };
  const ourDrain = () => ctx.device.queue.onSubmittedWorkDone();

  const info = (await navigator.gpu.requestAdapter())?.info;
  const report: BenchReport = {
    adapter: { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', description: info?.description ?? '' },
    results: [],
  };
  const families = options.families ?? ['aconC', 'metaAconC'];
  const trainBatch = options.trainBatch ?? 64;
  const metaShapes = shapes.filter((sh) => sh[0] >= 2).length;
  const total = (families.includes('aconC') ? shapes.length * 8 : 0) + (families.includes('metaAconC') ? metaShapes * 8 : 0) + (families.includes('train') ? 4 : 0);
  const record = (r: BenchResult) => {
    report.results.push(r);
    progress(report.results.length, total, `${(r.op + (r.net ? ` ${r.net}` : '')).padEnd(20)} ${r.impl.padEnd(14)} [${r.shape.join(',')}]  ${r.ms.toFixed(3)} ms`);
  };

  /** Times the GPU implementations of one op side by side and records each. */
  const sideBySide = async (op: Op, shape: Shape4, impls: Partial<Record<Impl, [() => void, () => Promise<void>]>>) => {
    const entries = Object.entries(impls) as [Impl, [() => void, () => Promise<void>]][];
    const times = await timeSideBySide(entries.map(([, [run, drain]]) => ({ run, drain })), batchMs, batches);
    entries.forEach(([impl], j) => record({ op, impl, shape, ...times[j]! }));
  };

  for (const shape of shapes) {
    if (families.includes('aconC')) await benchAconC(shape);
    if (families.includes('metaAconC')) await benchMeta(shape);
  }
  if (families.includes('train')) await benchTrain();
  ctx.destroy();
  return report;

  /** One Adam step of the seed's network, ACON on our kernels (fused) or in tfjs primitives. */
  async function benchTrain() {
    const shape: Shape4 = [trainBatch, 3, 32, 32];
    const data = makeDataset(trainBatch, 1);
    const x = tf.tensor4d(data.images, [trainBatch, 32, 32, 3]);
    const y = tf.tensor1d(data.labels);
    for (const net of ['dcn2-acon', 'dcn2-meta'] as const) {
      for (const impl of ['fused', 'tfjs-composed'] as const) {
        const network = new Network(net, 1, 1, impl === 'fused' ? 'auto' : 'composed');
        const opt = tf.train.adam(1e-3);
        const step = () => tf.tidy(() => void opt.minimize(() => bceLoss(network.forward(x, true), y), false, network.trainableWeights));
        record({ op: 'train.step', impl, shape, net, ...(await timeSideBySide([{ run: step, drain: tfDrain }], 1, 3, 1))[0]! });
        opt.dispose();
        network.dispose();
      }
    }
    tf.dispose([x, y]);
  }

  async function benchAconC(shape: Shape4) {
    const [N, C, H, W] = shape;
    const count = N * C * H * W;
    const x = randomArray(count, 1);
    const dy = randomArray(count, 2);
    const params = { p1: randomArray(C, 3), p2: randomArray(C, 4), beta: randomArray(C, 5) };

    // fused and copy-roofline on our device
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const buf = (data: Float32Array<ArrayBuffer> | number) => {
      const b = ctx.device.createBuffer({ size: (typeof data === 'number' ? data : data.length) * 4, usage });
      if (typeof data !== 'number') ctx.device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const g = { x: buf(x), dy: buf(dy), p1: buf(params.p1), p2: buf(params.p2), beta: buf(params.beta) };
    const out = { y: buf(count), dx: buf(count), dp1: buf(C), dp2: buf(C), dbeta: buf(C) };
    const fwd = () => void aconCForwardGPU(ctx, { x: g.x, p1: g.p1, p2: g.p2, beta: g.beta, y: out.y }, shape);
    const bwd = () => void aconCBackwardGPU(ctx, { ...g, dx: out.dx, dp1: out.dp1, dp2: out.dp2, dbeta: out.dbeta }, shape);
    const copyF = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x], out.y, count));
    const copyB = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x, g.dy], out.dx, count));

    // tfjs-composed: the same formula from tfjs primitives on the tfjs WebGPU backend
    const tx = tf.tensor4d(x, shape);
    const tdy = tf.tensor4d(dy, shape);
    const [tp1, tp2, tbeta] = [params.p1, params.p2, params.beta].map((p) => tf.tensor4d(p, [1, C, 1, 1]));
    const composed = aconCComposed;
    const grads = tf.grads((xx, a1, a2, b) => composed(xx, a1, a2, b) as tf.Tensor4D);
    const tfF = () => tf.tidy(() => void composed(tx, tp1!, tp2!, tbeta!));
    const tfB = () => tf.tidy(() => void grads([tx, tp1!, tp2!, tbeta!], tdy));

    await sideBySide('aconC.forward', shape, { fused: [fwd, ourDrain], 'copy-roofline': [copyF, ourDrain], 'tfjs-composed': [tfF, tfDrain] });
    await sideBySide('aconC.backward', shape, { fused: [bwd, ourDrain], 'copy-roofline': [copyB, ourDrain], 'tfjs-composed': [tfB, tfDrain] });
    for (const b of [...Object.values(g), ...Object.values(out)]) b.destroy();
    tf.dispose([tx, tdy, tp1!, tp2!, tbeta!]);

    // the CPU reference
    const cpuRuns = count > 1e6 ? 3 : 7;
    record({ op: 'aconC.forward', impl: 'reference', shape, ...timeCpu(() => aconCForwardRef(x, shape, params), cpuRuns) });
    record({ op: 'aconC.backward', impl: 'reference', shape, ...timeCpu(() => aconCBackwardRef(x, dy, shape, params), cpuRuns) });
  }

  /** Meta-ACON-C in training mode (batch statistics; N ≥ 2). */
  async function benchMeta(shape: Shape4) {
    const [N, C, H, W] = shape;
    if (N < 2) return;
    const count = N * C * H * W;
    const x = randomArray(count, 6);
    const dy = randomArray(count, 7);
    const layer = new MetaAconC(C, 16, 1);
    const p = layer.params;
    const R = layer.hidden;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const made: GPUBuffer[] = [];
    const buf = (data: Float32Array | number) => {
      const b = ctx.device.createBuffer({ size: (typeof data === 'number' ? data : data.length) * 4, usage });
      if (typeof data !== 'number') ctx.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
      made.push(b);
      return b;
    };
    const bn = (s: typeof p.bn1) => ({ weight: buf(s.weight), bias: buf(s.bias), runningMean: buf(s.runningMean), runningVar: buf(s.runningVar) });
    const P: MetaParamSet<GPUBuffer> = {
      p1: buf(p.p1), p2: buf(p.p2),
      fc1: { weight: buf(p.fc1.weight), bias: buf(p.fc1.bias) }, bn1: bn(p.bn1),
      fc2: { weight: buf(p.fc2.weight), bias: buf(p.fc2.bias) }, bn2: bn(p.bn2),
    };
    const G: MetaGradSet<GPUBuffer> = {
      dx: buf(count), p1: buf(C), p2: buf(C),
      fc1: { weight: buf(R * C), bias: buf(R) }, bn1: { weight: buf(R), bias: buf(R) },
      fc2: { weight: buf(C * R), bias: buf(C) }, bn2: { weight: buf(C), bias: buf(C) },
    };
    const gx = buf(x);
    const gx2 = buf(x);
    const gdy = buf(dy);
    const gy = buf(count);
    const scratch = buf(count);
    const opts = { training: true, hidden: R };
    const fwd = () => void metaAconCForwardGPU(ctx, { x: gx, y: gy }, P, shape, opts);
    const bwd = () => void metaAconCBackwardGPU(ctx, { x: gx, dy: gdy }, P, G, shape, opts);
    // bytes actually required: forward reads x twice (mean, then ACON) and writes y: 12 B/element;
    // backward reads x (mean), then x and dy (dβ), then x and dy writing dx: 24 B/element.
    const copyF = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [gx, gx2], gy, count));
    const copyB = () =>
      ctx.submit((b) => {
        encodeCopyRoofline(ctx, b, [gx, gdy, gx2], G.dx, count);
        encodeCopyRoofline(ctx, b, [gx], scratch, count);
      });
    const t = {
      p1: tf.tensor1d(p.p1), p2: tf.tensor1d(p.p2), w1: tf.tensor2d(p.fc1.weight, [R, C]), b1: tf.tensor1d(p.fc1.bias),
      g1: tf.tensor1d(p.bn1.weight), be1: tf.tensor1d(p.bn1.bias), w2: tf.tensor2d(p.fc2.weight, [C, R]), b2: tf.tensor1d(p.fc2.bias),
      g2: tf.tensor1d(p.bn2.weight), be2: tf.tensor1d(p.bn2.bias),
    };
    const running = { rm1: tf.tensor1d(p.bn1.runningMean), rv1: tf.tensor1d(p.bn1.runningVar), rm2: tf.tensor1d(p.bn2.runningMean), rv2: tf.tensor1d(p.bn2.runningVar) };
    const keys = Object.keys(t) as (keyof MetaComposedParams)[];
    const tx = tf.tensor4d(x, shape);
    const tdy = tf.tensor4d(dy, shape);
    const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) =>
      metaAconCComposed(xx as tf.Tensor4D, Object.fromEntries(keys.map((k, i) => [k, ps[i]!])) as unknown as MetaComposedParams, running, true),
    );
    const tfF = () => tf.tidy(() => void metaAconCComposed(tx, t, running, true));
    const tfB = () => tf.tidy(() => void grads([tx, ...keys.map((k) => t[k])], tdy));

    await sideBySide('metaAconC.forward', shape, { fused: [fwd, ourDrain], 'copy-roofline': [copyF, ourDrain], 'tfjs-composed': [tfF, tfDrain] });
    await sideBySide('metaAconC.backward', shape, { fused: [bwd, ourDrain], 'copy-roofline': [copyB, ourDrain], 'tfjs-composed': [tfB, tfDrain] });
    await ctx.device.queue.onSubmittedWorkDone();
    for (const b of made) b.destroy();
    tf.dispose([tx, tdy, ...Object.values(t), ...Object.values(running)]);

    const cpuRuns = count > 1e6 ? 3 : 7;
    record({ op: 'metaAconC.forward', impl: 'reference', shape, ...timeCpu(() => metaAconCForwardRef(x, shape, p, true), cpuRuns) });
    record({ op: 'metaAconC.backward', impl: 'reference', shape, ...timeCpu(() => metaAconCBackwardRef(x, dy, shape, p, true), cpuRuns) });
  }
}

/** The report as a fixed-width table, with the ratios the targets are stated in. */
export function formatReport(report: BenchReport): string {
  const lines = [
    `adapter: ${report.adapter.vendor} ${report.adapter.architecture} ${report.adapter.description}`.trim(),
    'op                   shape            fused ms  tfjs ms   copy ms   ref ms    tfjs/fused  fused/copy',
  ];
  const key = (r: BenchResult) => `${r.op}${r.net ? ` ${r.net}` : ''}|${r.shape.join(',')}`;
  const groups = new Map<string, Partial<Record<Impl, number>>>();
  for (const r of report.results) {
    const gr = groups.get(key(r)) ?? {};
    gr[r.impl] = r.ms;
    groups.set(key(r), gr);
  }
  for (const [k, v] of groups) {
    const [op, shape] = k.split('|');
    const f = (n?: number) => (n === undefined ? '-' : n.toFixed(3)).padEnd(10);
    const ratio = (a?: number, b?: number) => (a && b ? (a / b).toFixed(2) + '×' : '-').padEnd(12);
    lines.push(
      `${op!.padEnd(21)}[${shape}]`.padEnd(38) +
        f(v.fused) + f(v['tfjs-composed']) + f(v['copy-roofline']) + f(v.reference) +
        ratio(v['tfjs-composed'], v.fused) + ratio(v.fused, v['copy-roofline']),
    );
  }
  return lines.join('\n');
}
