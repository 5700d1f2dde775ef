// The benchmark and training panels of the demo: the training panel runs on Fashion-MNIST where the
// dataset is served (demo/fashion.ts), on the synthetic red-disc task otherwise.
import * as tf from '@tensorflow/tfjs-core';
import { formatReport, runBench, type BenchReport, type Family, type Shape4 } from '../bench/bench';
import * as tfl from '@tensorflow/tfjs-layers';
import { AconC, MetaAconC, paramCounts, seedModel, summaryText, type NetKind } from '../src/layers/index';
import { makeDataset } from '../tools/data';
import { trainNetwork } from '../tools/train';
import type { FashionMnist } from '../tools/fashionMnist';
import { evaluateFashion, fashionTensor, trainFashion } from '../tools/fashionTrain';
import { axisLabels, barChart, keepDrawn, lineChart, type uPlot } from './charts';
import { figures, type SeriesFigure } from './figures';
import { el } from './dom';

/**
 * Runs the benchmarks and draws fused vs tfjs-composed vs copy-roofline vs tf.relu per op, layout
 * and shape. `shapes` (the e2e test's short mode) also limits the run to the kernel families.
 */
export async function runBenchPanel(
  root: HTMLElement,
  shapes: Shape4[] | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<BenchReport> {
  root.replaceChildren();
  const short = shapes ? { shapes, families: ['aconC', 'metaAconC'] as Family[] } : {};
  const report = await runBench({ ...short, batches: shapes ? 3 : 7, onProgress: (d, t) => onProgress(d, t) });
  const groups = new Map<string, Record<string, number>>();
  for (const r of report.results) {
    const op = r.op.replace('.forward', ' fwd').replace('.backward', ' bwd');
    const key = `${op}${r.net ? ` ${r.net}` : ''} ${r.layout} [${r.shape.join(',')}]`;
    groups.set(key, { ...(groups.get(key) ?? {}), [r.impl]: r.ms });
  }
  const cats = [...groups.keys()];
  const series = (['fused', 'tfjs-composed', 'copy-roofline', 'relu'] as const)
    .map((impl) => ({ label: impl, values: cats.map((c) => groups.get(c)![impl] ?? null) }))
    .filter((s) => s.values.some((v) => v !== null));
  const chart = el('div');
  const download = el('a', { textContent: 'Download JSON', download: 'acon-bench.json', className: 'button' });
  download.href = URL.createObjectURL(new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' }));
  root.append(chart, el('pre', { textContent: formatReport(report) }), download);
  barChart(chart, 'milliseconds per call (log scale; lower is faster)', cats, series, { logY: true, yLabel: 'ms' });
  return report;
}

const KINDS: { kind: NetKind; label: string }[] = [
  { kind: 'dcn3', label: 'dcn3 (ReLU)' },
  { kind: 'dcn2-acon', label: 'dcn2 + AconC' },
  { kind: 'dcn2-meta', label: 'dcn2 + MetaAconC' },
];

/** Without Fashion-MNIST: a grid of the synthetic task's samples with their labels. */
export function sampleGrid(root: HTMLElement): void {
  const seed = 42;
  const d = makeDataset(16, seed);
  const names = ['red disc (1)', 'blue disc (0)', 'red square (0)', 'blue square (0)'];
  const grid = el('div', { className: 'samples' });
  for (let k = 0; k < d.count; k++) {
    const c = el('canvas', { width: 32, height: 32, title: names[d.kinds[k]!]! });
    const img = new ImageData(32, 32);
    for (let p = 0; p < 32 * 32; p++) {
      for (let ch = 0; ch < 3; ch++) img.data[p * 4 + ch] = Math.round(d.images[(k * 1024 + p) * 3 + ch]! * 255);
      img.data[p * 4 + 3] = 255;
    }
    const paint = () => c.getContext('2d')!.putImageData(img, 0, 0);
    paint();
    keepDrawn(c, paint);
    grid.append(el('figure', {}, c, el('figcaption', { textContent: names[d.kinds[k]!]! })));
  }
  root.replaceChildren(grid);
  figures.samples = { source: 'synthetic', count: d.count, seed, kinds: Array.from(d.kinds) };
}

/** Parameter summaries of the three networks with `numClasses` outputs: their tf.layers model.summary(). */
export function summaries(root: HTMLElement, numClasses: number): void {
  root.replaceChildren();
  for (const { kind, label } of KINDS) {
    const model = seedModel(kind, { numClasses });
    const { trainable, nonTrainable } = paramCounts(model);
    const counts = `${trainable.toLocaleString('en-US')} trainable parameters${nonTrainable ? ` + ${nonTrainable.toLocaleString('en-US')} non-trainable (running statistics)` : ''}`;
    root.append(
      el(
        'details',
        {},
        el('summary', { textContent: `${label}: ${counts}` }),
        el('pre', { textContent: summaryText(model) }),
      ),
    );
    model.dispose();
  }
}

/** The training task: Fashion-MNIST's two splits, or null for the synthetic red-disc task (tools/data.ts). */
export type Task = { train: FashionMnist; test: FashionMnist } | null;

/** Fashion-MNIST's held-out images: the first this many of the test split (~9 s per network on SwiftShader). */
export const HELD_OUT = 200;

/** One network's run, whatever the task: loss per step, held-out evaluations (a loss on the synthetic task alone), the model. */
export interface TrainRun {
  kind: NetKind;
  loss: number[];
  heldOut: { step: number; accuracy: number; loss?: number }[];
  network: tfl.Sequential;
  msPerStep: number;
  dispose(): void;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

type OnStep = (step: number, loss: number, heldOutAccuracy?: number) => void;

/**
 * Trains `kind` on Fashion-MNIST with the experiment's recipe (tools/fashionTrain.ts: seed 0, Adam
 * 1e-3, cross-entropy, a shuffled order per epoch), evaluating the first HELD_OUT test images every
 * `evalEvery` steps and after the last.
 */
async function trainOnFashion(
  kind: NetKind,
  { train, test }: NonNullable<Task>,
  steps: number,
  batchSize: number,
  evalEvery: number,
  onStep: OnStep,
): Promise<TrainRun> {
  const heldOut: TrainRun['heldOut'] = [];
  const t0 = performance.now();
  const r = await trainFashion(kind, train, {
    maxSteps: steps,
    epochs: Math.ceil((steps * batchSize) / train.count) + 1,
    batchSize,
    onProgress: async ({ step, steps: total, loss, model }) => {
      let accuracy: number | undefined;
      if (step % evalEvery === 0 || step === total) {
        accuracy = (await evaluateFashion(model, test, { limit: HELD_OUT })).accuracy;
        heldOut.push({ step, accuracy });
      }
      onStep(step, loss, accuracy);
    },
  });
  const msPerStep = (performance.now() - t0) / r.loss.length;
  return { kind, loss: r.loss, heldOut, network: r.model, msPerStep, dispose: r.dispose };
}

/** Trains `kind` on the synthetic red-disc task (tools/train.ts): 1,024 training and 64 held-out images. */
const trainOnSynthetic = (kind: NetKind, steps: number, batchSize: number, evalEvery: number, onStep: OnStep) =>
  trainNetwork(kind, {
    steps,
    batchSize,
    learningRate: 2e-3,
    seed: 7,
    trainSize: 1024,
    testSize: 64,
    evalEvery,
    onProgress: ({ step, loss, heldOut }) => onStep(step, loss, heldOut?.accuracy),
  });

/** The status line after a run: the task, each network's last losses and held-out accuracy, and the time per step. */
export function describeTraining(task: Task, runs: TrainRun[]): string {
  const what = task
    ? `Trained on Fashion-MNIST (${task.train.count.toLocaleString('en-US')} training images; held-out: the first ${HELD_OUT} test images)`
    : 'Trained on the synthetic red-disc task';
  const nets = runs.map((r) => {
    const last = r.heldOut.at(-1)!;
    const loss = last.loss === undefined ? '' : `held-out loss ${last.loss.toFixed(3)}, `;
    return `${r.kind}: training loss ${r.loss.at(-1)!.toFixed(3)}, ${loss}accuracy ${(100 * last.accuracy).toFixed(1)} %`;
  });
  // the three interleave, so each one's wall-clock time per step is that of a step of all three
  const ms = Math.max(...runs.map((r) => r.msPerStep));
  return `${what}. ${nets.join(' · ')} (${(ms / 1000).toFixed(1)} s per step of the three, held-out evaluations included)`;
}

/** The models of the last training run (freed when the next run starts). */
let trained: TrainRun[] = [];

/** Trains the three networks side by side on `task` (their steps interleave) and draws the curves live. */
export async function runTraining(
  root: HTMLElement,
  task: Task,
  steps: number,
  batchSize: number,
  onProgress: (done: number, total: number) => void,
): Promise<TrainRun[]> {
  root.replaceChildren();
  for (const r of trained.splice(0)) r.dispose();
  delete figures.loss;
  delete figures.accuracy;
  delete figures.aconParams;
  delete figures.betaHistogram;
  figures.task = task ? 'fashion-mnist' : 'synthetic';
  const lossEl = el('div');
  const accEl = el('div');
  const betaEl = el('div');
  root.append(lossEl, accEl, betaEl);
  const xs = Array.from({ length: steps }, (_, i) => i + 1);
  const loss = KINDS.map(() => xs.map(() => null as number | null));
  const evalEvery = Math.max(1, Math.round(steps / 10));
  const acc = KINDS.map(() => xs.map(() => null as number | null));
  const heldOutImages = task ? HELD_OUT : 64;
  const colors = ['#5f6368', '#1a73e8', '#d93025'];
  const lossPlot = lineChart(
    lossEl,
    task
      ? 'training loss (cross-entropy over 10 classes; chance = ln 10 ≈ 2.303)'
      : 'training loss (sigmoid cross-entropy; chance = ln 2 ≈ 0.693)',
    // the last series dashed: where two networks' losses coincide, the one beneath shows in the gaps
    KINDS.map((k, i) => ({ label: k.label, color: colors[i]!, ...(i === KINDS.length - 1 ? { dash: [8, 6] } : {}) })),
    [xs, ...loss] as uPlot.AlignedData,
    { xLabel: 'step', integerX: true },
  );
  const accPlot = lineChart(
    accEl,
    `held-out accuracy (${heldOutImages} images; chance = ${task ? '0.1' : '0.5'})`,
    KINDS.map((k, i) => ({ label: k.label, color: colors[i]!, points: true })),
    [xs, ...acc] as uPlot.AlignedData,
    { xLabel: 'step', integerX: true },
  );
  let done = 0;
  const runs = await Promise.all(
    KINDS.map(({ kind }, i) => {
      const onStep: OnStep = (step, l, accuracy) => {
        loss[i]![step - 1] = l;
        if (accuracy !== undefined) acc[i]![step - 1] = accuracy;
        lossPlot.setData([xs, ...loss] as uPlot.AlignedData);
        accPlot.setData([xs, ...acc] as uPlot.AlignedData);
        onProgress(++done, steps * KINDS.length);
      };
      return task
        ? trainOnFashion(kind, task, steps, batchSize, evalEvery, onStep)
        : trainOnSynthetic(kind, steps, batchSize, evalEvery, onStep);
    }),
  );
  trained = runs;
  // what each chart holds (uPlot's own data) next to what the training returned
  const plotted = (plot: uPlot): SeriesFigure[] =>
    KINDS.map((k, i) => ({ label: k.label, values: Array.from(plot.data[i + 1]!, (v) => v ?? null) }));
  figures.loss = {
    steps: Array.from(lossPlot.data[0]),
    get series() {
      return plotted(lossPlot);
    },
    returned: runs.map((r) => r.loss),
    get yRange(): [number, number] {
      return [lossPlot.scales.y!.min!, lossPlot.scales.y!.max!];
    },
    get axisLabels() {
      return axisLabels(lossPlot, 1);
    },
  };
  figures.accuracy = {
    steps: Array.from(accPlot.data[0]),
    get series() {
      return plotted(accPlot);
    },
    images: heldOutImages,
    returned: runs.map((r) => r.heldOut),
    get axisLabels() {
      return axisLabels(accPlot, 1);
    },
  };
  // Meta-ACON's β over 64 held-out images
  const betaImages = () =>
    task ? fashionTensor(task.test, range(64)) : tf.tensor4d(makeDataset(64, 99).images, [64, 32, 32, 3]);
  await drawBetas(betaEl, runs, betaImages);
  return runs;
}

/** The ACON layer of a trained seed model. */
function actLayer<T>(model: tfl.LayersModel, cls: new (...a: never[]) => T): T {
  const layer = model.layers.find((l) => l instanceof cls);
  if (!layer) throw new Error(`${model.name} has no ${cls.name} layer`);
  return layer as T;
}

/** The learned β per channel (AconC) and the distribution of Meta-ACON's β over held-out images. */
async function drawBetas(root: HTMLElement, results: TrainRun[], images: () => tf.Tensor4D): Promise<void> {
  const acon = actLayer(results[1]!.network, AconC);
  const [beta, p1, p2] = await Promise.all(
    [acon.beta!, acon.p1!, acon.p2!].map(async (w) => Array.from(await w.read().data())),
  );
  const chA = el('div');
  const chM = el('div');
  root.append(chA, chM);
  const channels = beta!.map((_, c) => String(c));
  figures.aconParams = { beta: beta!, p1: p1!, p2: p2! };
  barChart(
    chA,
    'dcn2 + AconC: learned β, p1, p2 per channel',
    channels,
    [
      { label: 'β', values: beta! },
      { label: 'p1', values: p1! },
      { label: 'p2', values: p2! },
    ],
    { height: 260 },
  );
  // Meta-ACON: β for 64 held-out images through the trained generator (inference mode), histogrammed
  const meta = results[2]!.network;
  const layer = actLayer(meta, MetaAconC);
  // the activations entering the MetaAconC layer: conv1..conv3 of the trained model (shares its layers)
  const features = tfl.model({ inputs: meta.inputs, outputs: layer.input as tfl.SymbolicTensor });
  const betaT = tf.tidy(() => layer.computeBeta(features.predict(images()) as tf.Tensor));
  // read asynchronously: tfjs's webgpu dataSync copies through a WebGPU canvas, which on SwiftShader
  // loses the page's GPU channel (the WebGPU device and every canvas) and reads zeros
  const betas = await betaT.data();
  betaT.dispose();
  const bins = 20;
  const hist = new Array<number>(bins).fill(0);
  for (const b of betas) hist[Math.min(bins - 1, Math.floor(b * bins))]!++;
  const labels = hist.map((_, i) => (i / bins).toFixed(2));
  const plot = barChart(
    chM,
    `dcn2 + MetaAconC: distribution of β = σ(·) over 64 held-out images × 64 channels`,
    labels,
    [{ label: 'count', values: hist }],
    { height: 240 },
  );
  const sorted = Float32Array.from(betas).sort();
  figures.betaHistogram = {
    n: sorted.length,
    min: sorted[0]!,
    max: sorted.at(-1)!,
    median: (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2,
    binWidth: 1 / bins,
    counts: Array.from(plot.data[1]!, (c) => c ?? 0),
    labels,
  };
}
