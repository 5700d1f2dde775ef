// The benchmark and training panels of the demo.
import * as tf from '@tensorflow/tfjs-core';
import { formatReport, runBench, type BenchReport, type Shape4 } from '../bench/bench';
import { formatSummary, makeDataset, trainNetwork, type NetKind, type TrainResult } from '../src/tfjs/index';
import { MetaAconCLayer, AconCLayer } from '../src/tfjs/layers';
import { metaBetaComposed, type MetaComposedParams } from '../src/tfjs/composed';
import { Network } from '../src/tfjs/networks';
import { barChart, lineChart, type uPlot } from './charts';

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...kids: (Node | string)[]) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...kids);
  return e;
};

/** Runs the benchmarks and draws fused vs tfjs-composed vs copy-roofline per op and shape. */
export async function runBenchPanel(root: HTMLElement, shapes: Shape4[] | undefined, onProgress: (done: number, total: number) => void): Promise<BenchReport> {
  root.replaceChildren();
  const report = await runBench({ ...(shapes ? { shapes } : {}), batches: shapes ? 3 : 7, onProgress: (d, t) => onProgress(d, t) });
  const groups = new Map<string, Record<string, number>>();
  for (const r of report.results) {
    const key = `${r.op.replace('.forward', ' fwd').replace('.backward', ' bwd')} [${r.shape.join(',')}]`;
    groups.set(key, { ...(groups.get(key) ?? {}), [r.impl]: r.ms });
  }
  const cats = [...groups.keys()];
  const series = (['fused', 'tfjs-composed', 'copy-roofline'] as const).map((impl) => ({ label: impl, values: cats.map((c) => groups.get(c)![impl] ?? null) }));
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

/** A grid of dataset samples with their labels. */
export function sampleGrid(root: HTMLElement): void {
  const d = makeDataset(16, 42);
  const names = ['red disc (1)', 'blue disc (0)', 'red square (0)', 'blue square (0)'];
  const grid = el('div', { className: 'samples' });
  for (let k = 0; k < d.count; k++) {
    const c = el('canvas', { width: 32, height: 32, title: names[d.kinds[k]!]! });
    const img = c.getContext('2d')!.createImageData(32, 32);
    for (let p = 0; p < 32 * 32; p++) {
      for (let ch = 0; ch < 3; ch++) img.data[p * 4 + ch] = Math.round(d.images[(k * 1024 + p) * 3 + ch]! * 255);
      img.data[p * 4 + 3] = 255;
    }
    c.getContext('2d')!.putImageData(img, 0, 0);
    grid.append(el('figure', {}, c, el('figcaption', { textContent: names[d.kinds[k]!]! })));
  }
  root.append(grid);
}

/** Parameter summaries of the three networks, as the seed prints them. */
export function summaries(root: HTMLElement): void {
  for (const { kind, label } of KINDS) {
    const net = new Network(kind);
    root.append(el('details', {}, el('summary', { textContent: `${label}: ${net.paramCount.toLocaleString('en-US')} parameters` }), el('pre', { textContent: formatSummary(net.summary()) })));
    net.dispose();
  }
}

/** Trains the three networks side by side (their steps interleave) and draws the curves live. */
export async function runTraining(root: HTMLElement, steps: number, batchSize: number, onProgress: (done: number, total: number) => void): Promise<TrainResult[]> {
  root.replaceChildren();
  const lossEl = el('div');
  const accEl = el('div');
  const betaEl = el('div');
  root.append(lossEl, accEl, betaEl);
  const xs = Array.from({ length: steps }, (_, i) => i + 1);
  const loss = KINDS.map(() => xs.map(() => null as number | null));
  const evalEvery = Math.max(1, Math.round(steps / 10));
  const acc = KINDS.map(() => xs.map(() => null as number | null));
  const colors = ['#5f6368', '#1a73e8', '#d93025'];
  const lossPlot = lineChart(lossEl, 'training loss (sigmoid cross-entropy; chance = ln 2 ≈ 0.693)', KINDS.map((k, i) => ({ label: k.label, color: colors[i]! })), [xs, ...loss] as uPlot.AlignedData, { xLabel: 'step' });
  const accPlot = lineChart(accEl, 'held-out accuracy', KINDS.map((k, i) => ({ label: k.label, color: colors[i]!, points: true })), [xs, ...acc] as uPlot.AlignedData, { xLabel: 'step' });
  let done = 0;
  const results = await Promise.all(
    KINDS.map(({ kind }, i) =>
      trainNetwork(kind, {
        steps, batchSize, learningRate: 2e-3, seed: 7, trainSize: 1024, testSize: 64, evalEvery,
        onProgress: ({ step, loss: l, heldOut }) => {
          loss[i]![step - 1] = l;
          if (heldOut) acc[i]![step - 1] = heldOut.accuracy;
          lossPlot.setData([xs, ...loss] as uPlot.AlignedData);
          accPlot.setData([xs, ...acc] as uPlot.AlignedData);
          onProgress(++done, steps * KINDS.length);
        },
      }),
    ),
  );
  await drawBetas(betaEl, results);
  return results;
}

/** The learned β per channel (AconC) and the distribution of Meta-ACON's β over held-out images. */
async function drawBetas(root: HTMLElement, results: TrainResult[]): Promise<void> {
  const acon = results[1]!.network.act as AconCLayer;
  const beta = Array.from(await acon.beta.data());
  const p1 = Array.from(await acon.p1.data());
  const p2 = Array.from(await acon.p2.data());
  const chA = el('div');
  const chM = el('div');
  root.append(chA, chM);
  const channels = beta.map((_, c) => String(c));
  barChart(chA, 'dcn2 + AconC: learned β, p1, p2 per channel', channels, [
    { label: 'β', values: beta },
    { label: 'p1', values: p1 },
    { label: 'p2', values: p2 },
  ], { height: 260 });
  // Meta-ACON: β for 64 held-out images through the trained generator (eval mode), histogrammed
  const meta = results[2]!.network;
  const layer = meta.act as MetaAconCLayer;
  const test = makeDataset(64, 99);
  const betas = tf.tidy(() => {
    // the activations entering the MetaAconC layer: conv1..conv3 of the trained network
    const h = meta.featuresBeforeAct(tf.tensor4d(test.images, [64, 32, 32, 3]));
    const p = layer.params;
    const t: MetaComposedParams = { p1: p.p1, p2: p.p2, w1: tf.reshape(p.fc1.weight, [layer.hidden, 64]), b1: p.fc1.bias, g1: p.bn1.weight, be1: p.bn1.bias, w2: tf.reshape(p.fc2.weight, [64, layer.hidden]), b2: p.fc2.bias, g2: p.bn2.weight, be2: p.bn2.bias };
    const running = { rm1: p.bn1.runningMean, rv1: p.bn1.runningVar, rm2: p.bn2.runningMean, rv2: p.bn2.runningVar };
    return metaBetaComposed(tf.transpose(h, [0, 3, 1, 2]) as tf.Tensor4D, t, running, false).dataSync();
  });
  const bins = 20;
  const hist = new Array(bins).fill(0);
  for (const b of betas) hist[Math.min(bins - 1, Math.floor(b * bins))]++;
  barChart(chM, `dcn2 + MetaAconC: distribution of β = σ(·) over 64 held-out images × 64 channels`, hist.map((_, i) => (i / bins).toFixed(2)), [{ label: 'count', values: hist }], { height: 240 });
}
