// The "Classify" panel: the seed's three networks as PyTorch trained them on Fashion-MNIST
// (scripts/fashion_experiment.py, seed 0), converted to safetensors (demo/fashion/), run on the test
// images here; each network's accuracy on the first N, and how many of its N predictions differ from
// PyTorch's (experiment.json), and one test image at a time with every network's answer.
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint } from '../src/models/checkpoint';
import type { NetKind } from '../src/layers/networks';
import { FASHION_CLASSES, type FashionMnist } from '../tools/fashionMnist';
import { evaluateFashion } from '../tools/fashionTrain';
import { fashionCanvas, paintFashion } from './fashion';
import { figures } from './figures';
import experiment from './fashion/experiment.json';
import dcn3Url from './fashion/dcn3.safetensors?url';
import dcn2AconUrl from './fashion/dcn2-acon.safetensors?url';
import dcn2MetaUrl from './fashion/dcn2-meta.safetensors?url';
import { el } from './dom';

const NETS: { kind: NetKind; label: string; url: string }[] = [
  { kind: 'dcn3', label: 'dcn3 (ReLU)', url: dcn3Url },
  { kind: 'dcn2-acon', label: 'dcn2 + AconC', url: dcn2AconUrl },
  { kind: 'dcn2-meta', label: 'dcn2 + MetaAconC', url: dcn2MetaUrl },
];

/** One network's run over the first `count` test images. */
export interface ClassifiedNet {
  /** The predicted class of each image. */
  predictions: number[];
  correct: number;
  accuracy: number;
  /** How many predictions differ from PyTorch's (experiment.json, predictions_seed0). */
  differFromTorch: number;
  /** The accuracy cell's text. */
  shownAccuracyText: string;
  ms: number;
}

/** What the panel shows after a run, for the end-to-end test (window.__figures.classify). */
export interface ClassifyFigures {
  count: number;
  nets: Record<NetKind, ClassifiedNet>;
  /** tf.memory().numTensors after the run less before it: 0, every model and input freed (where nothing else on the page made or freed tensors meanwhile). */
  leakedTensors: number;
}

/** PyTorch's prediction for test image `i` (a digit of predictions_seed0). */
const torchPrediction = (kind: NetKind, i: number) => Number(experiment.predictions_seed0[kind][i]);

const percent = (x: number, digits: number) => `${(100 * x).toFixed(digits)} %`;
/** "correct / count (accuracy)", with as many decimals as the count can tell apart. */
export const accuracyText = (correct: number, count: number): string =>
  `${correct.toLocaleString('en-US')} / ${count.toLocaleString('en-US')} (${percent(correct / count, count > 1000 ? 2 : 1)})`;

/**
 * Sets up the panel in `root` for the test split `test`; `count` is the input holding N. Returns
 * run(), which loads each network, classifies the first N images, frees the network, and shows
 * and resolves to the figures.
 */
export function setupClassifyPanel(
  root: HTMLElement,
  test: FashionMnist,
  count: HTMLInputElement,
  onProgress: (done: number, total: number) => void,
): { run: () => Promise<ClassifyFigures> } {
  let last: ClassifyFigures | null = null;

  // one test image, its class, and each network's prediction (ours after a run, and PyTorch's)
  const index = el('input', { type: 'number', min: '0', max: String(test.count - 1), value: '0' });
  const nextMistake = el('button', { textContent: 'Next mistake', disabled: true });
  const canvas = fashionCanvas(test, 0);
  canvas.className = 'test-image';
  const truth = el('p', { className: 'truth' });
  const answers = el('table', { className: 'answers' });
  const show = (i: number) => {
    index.value = String(i);
    paintFashion(canvas, test, i);
    const label = test.labels[i]!;
    truth.textContent = `test image ${i}: ${FASHION_CLASSES[label]}`;
    const predicted = NETS.map(({ kind }) => (last && i < last.count ? last.nets[kind].predictions[i]! : null));
    const torch = NETS.map(({ kind }) => torchPrediction(kind, i));
    const cell = (c: number | null | undefined) =>
      el('td', { className: c == null ? '' : c === label ? 'pass' : 'fail' }, c == null ? '—' : FASHION_CLASSES[c]!);
    answers.replaceChildren(
      el(
        'tr',
        {},
        el('th', { textContent: 'network' }),
        el('th', { textContent: 'this page' }),
        el('th', { textContent: 'PyTorch' }),
      ),
      ...NETS.map(({ label: name }, k) =>
        el('tr', {}, el('td', { textContent: name }), cell(predicted[k]), cell(torch[k])),
      ),
    );
    figures.testImage = { index: i, label, predicted, torch };
  };
  index.addEventListener('change', () => {
    const i = Number(index.value);
    if (Number.isInteger(i) && i >= 0 && i < test.count) show(i);
  });
  nextMistake.addEventListener('click', () => {
    if (!last) return;
    const from = Number(index.value) + 1;
    const wrong = (i: number) => NETS.some(({ kind }) => last!.nets[kind].predictions[i] !== test.labels[i]);
    const i = Array.from({ length: last.count }, (_, k) => (from + k) % last!.count).find(wrong);
    if (i !== undefined) show(i);
  });
  const results = el('div', { className: 'scroll' });
  const viewer = el('div', { className: 'model-row' }, canvas, el('div', {}, truth, answers));
  root.replaceChildren(
    el('div', { className: 'controls' }, el('label', {}, 'test image ', index), nextMistake),
    viewer,
    results,
  );
  show(0);

  const run = async (): Promise<ClassifyFigures> => {
    const n = Number(count.value);
    if (!Number.isInteger(n) || n < 1 || n > test.count)
      throw new Error(`images: 1 to ${test.count}, not ${count.value}`);
    const before = tf.memory().numTensors;
    const nets = {} as Record<NetKind, ClassifiedNet>;
    for (const [k, { kind, url }] of NETS.entries()) {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      const { model } = loadCheckpoint(new Uint8Array(await response.arrayBuffer()));
      try {
        const e = await evaluateFashion(model, test, {
          limit: n,
          onProgress: (done, total) => onProgress(k * total + done, NETS.length * total),
        });
        const predictions = Array.from(e.predictions);
        const differFromTorch = predictions.filter((p, i) => p !== torchPrediction(kind, i)).length;
        const { correct, accuracy, ms } = e;
        nets[kind] = {
          predictions,
          correct,
          accuracy,
          differFromTorch,
          shownAccuracyText: accuracyText(correct, n),
          ms,
        };
      } finally {
        model.dispose();
      }
    }
    last = { count: n, nets, leakedTensors: tf.memory().numTensors - before };
    const table = el('table', { className: 'classify' });
    const header = [
      'network',
      `accuracy here, first ${n.toLocaleString('en-US')}`,
      'predictions ≠ PyTorch’s',
      'PyTorch, same images',
      'PyTorch, all 10,000 (mean ± sd of 3 seeds)',
    ];
    table.append(el('tr', {}, ...header.map((h) => el('th', { textContent: h }))));
    for (const { kind, label } of NETS) {
      const r = nets[kind];
      const torchCorrect = torchCorrectOf(kind, test, n);
      const { accuracy_mean: mean, accuracy_sd: sd } = experiment.summary[kind];
      const tr = el('tr', { className: 'net' }, el('td', { textContent: label }));
      tr.dataset.net = kind;
      tr.append(
        el('td', { className: 'accuracy', textContent: r.shownAccuracyText }),
        el('td', { className: 'differ', textContent: `${r.differFromTorch} of ${n.toLocaleString('en-US')}` }),
        el('td', { textContent: accuracyText(torchCorrect, n) }),
        el('td', { textContent: `${(100 * mean).toFixed(2)} ± ${(100 * sd).toFixed(2)} %` }),
      );
      table.append(tr);
    }
    results.replaceChildren(table);
    nextMistake.disabled = false;
    show(Number(index.value) < n ? Number(index.value) : 0);
    figures.classify = last;
    return last;
  };
  return { run };
}

/** How many of PyTorch's predictions for the first `n` test images are right. */
function torchCorrectOf(kind: NetKind, test: FashionMnist, n: number): number {
  let correct = 0;
  for (let i = 0; i < n; i++) if (torchPrediction(kind, i) === test.labels[i]) correct++;
  return correct;
}
