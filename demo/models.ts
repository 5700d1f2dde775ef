// The "run a trained model" panel: any converted network of the paper (ShuffleNetV2 or ResNet with
// ACON-C or Meta-ACON-C, TFNet with ACON-FReLU; their official evaluations preprocess alike) on an
// image, weights from a converted PyTorch checkpoint (a file or a URL) or random ShuffleNetV2 0.5×,
// fused vs composed ACON side by side: top-5 ImageNet classes with probabilities and the time per image.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  fetchCheckpoint,
  imagenetInput,
  loadCheckpoint,
  readSafetensors,
  shuffleNetV2,
  topK,
} from '../src/models/index';
import { paramCounts } from '../src/layers/index';
import { el } from './dom';

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** What the panel shows, for the end-to-end test (window.__figures.model). */
export interface ModelFigures {
  /** 'random' (no checkpoint), or the checkpoint's file name / URL. */
  source: string;
  architecture: string;
  trainable: number;
  /** ms to read the file, build the network and set its weights (0 for random weights). */
  loadMs: number;
  /** Median ms per image (after a warm-up call), fused and composed ACON. */
  fusedMs: number;
  composedMs: number;
  fused: Prediction[];
  composed: Prediction[];
}

/** The two models of the panel: our fused ACON kernels and the same weights with composed ACON. */
interface Loaded {
  source: string;
  architecture: string;
  loadMs: number;
  fused: tfl.LayersModel;
  composed: tfl.LayersModel;
}

let loaded: Loaded | null = null;

function replace(next: Loaded): Loaded {
  loaded?.fused.dispose();
  loaded?.composed.dispose();
  return (loaded = next);
}

/** The largest checkpoint the URL field downloads (the official 2.0× Meta-ACON is ≈ 35 MB). */
const MAX_DOWNLOAD_BYTES = 128 * 1024 * 1024;

/** A converted checkpoint: the fused model from the file, the composed one from the same tensors. */
function fromCheckpoint(bytes: Uint8Array, source: string): Loaded {
  const t0 = performance.now();
  const file = readSafetensors(bytes);
  const { model, architecture } = loadCheckpoint(file);
  const loadMs = performance.now() - t0;
  let composed: tfl.LayersModel;
  try {
    composed = loadCheckpoint(file, { impl: 'composed' }).model;
  } catch (e) {
    model.dispose();
    throw e;
  }
  return replace({ source, architecture, loadMs, fused: model, composed });
}

function random(activation: 'acon' | 'meta'): Loaded {
  const [fused, composed] = (['auto', 'composed'] as const).map((impl) =>
    shuffleNetV2({ activation, modelSize: '0.5x', impl }),
  );
  composed!.setWeights(fused!.getWeights());
  return replace({
    source: 'random',
    architecture: `shufflenetv2-${activation}`,
    loadMs: 0,
    fused: fused!,
    composed: composed!,
  });
}

/** A stand-in image when none is given: smooth colour gradients with a disc (224 × 224 RGB). */
function defaultImage(): tf.Tensor3D {
  return tf.tidy(() => {
    const ramp = tf.linspace(0, 1, 224);
    const y = tf.reshape(ramp, [224, 1]);
    const x = tf.reshape(ramp, [1, 224]);
    const disc = tf.cast(tf.less(tf.add(tf.square(tf.sub(x, 0.5)), tf.square(tf.sub(y, 0.5))), 0.08), 'float32');
    const r = tf.add(tf.mul(x, 0.6), tf.mul(disc, 0.4));
    const g = tf.mul(tf.sub(1, y), 0.8);
    const b = tf.mul(tf.add(x, y), 0.5);
    const full = (t: tf.Tensor) => tf.add(t, tf.zeros([224, 224]));
    return tf.mul(tf.stack([full(r), full(g), full(b)], 2), 255) as tf.Tensor3D;
  });
}

/** Median ms per image of `model` on `x` (one warm-up call first; results read back asynchronously). */
async function timeModel(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  runs: number,
): Promise<{ ms: number; top: Prediction[] }> {
  const once = async () => {
    const t0 = performance.now();
    const logits = model.predict(x) as tf.Tensor;
    await logits.data();
    return { ms: performance.now() - t0, logits };
  };
  (await once()).logits.dispose();
  const times: number[] = [];
  let last: tf.Tensor | null = null;
  for (let i = 0; i < runs; i++) {
    const r = await once();
    times.push(r.ms);
    last?.dispose();
    last = r.logits;
  }
  const top = await topK(last!, 5);
  last!.dispose();
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1]!, top };
}

function table(title: string, ms: number, top: Prediction[]): HTMLElement {
  const t = el('table', { className: 'top5' });
  t.append(el('caption', { textContent: `${title}: ${ms.toFixed(1)} ms per image` }));
  for (const p of top) {
    const tr = t.insertRow();
    tr.insertCell().textContent = p.label.split(',')[0]!;
    const bar = el('span', { className: 'bar' });
    bar.style.width = `${Math.max(1, Math.round(100 * p.probability))}px`;
    const cell = tr.insertCell();
    cell.append(bar, ` ${(100 * p.probability).toFixed(1)} %`);
  }
  return t;
}

/**
 * Sets up the panel in `root`; returns run(), which classifies the current image with the current
 * weights (random ShuffleNetV2 0.5× until a checkpoint is loaded) and resolves to the figures shown.
 */
export function setupModelPanel(
  root: HTMLElement,
  onFigures: (f: ModelFigures) => void,
): { run: () => Promise<ModelFigures>; load: (bytes: Uint8Array, source: string) => void } {
  const activation = el(
    'select',
    {},
    el('option', { value: 'meta', textContent: 'Meta-ACON-C' }),
    el('option', { value: 'acon', textContent: 'ACON-C' }),
  );
  const checkpoint = el('input', { type: 'file', accept: '.safetensors' });
  const url = el('input', { type: 'url', placeholder: 'https://…/shufflenetv2-0.5x-meta.safetensors' });
  const fetchButton = el('button', { textContent: 'Load URL' });
  const image = el('input', { type: 'file', accept: 'image/*' });
  const cameraButton = el('button', { textContent: 'Use camera' });
  const preview = el('canvas', { width: 224, height: 224, className: 'preview' });
  const source = el('p', { className: 'note' });
  const out = el('div', { className: 'top5s' });
  const label = (text: string, ...kids: HTMLElement[]): HTMLElement => el('label', {}, text, ...kids);
  const weights: HTMLElement = el('div', { className: 'controls' });
  weights.append(
    label('random weights with ', activation),
    label('checkpoint ', checkpoint),
    label('or URL ', url),
    fetchButton,
  );
  const images: HTMLElement = el('div', { className: 'controls' });
  images.append(label('image ', image), cameraButton);
  const row: HTMLElement = el('div', { className: 'model-row' });
  row.append(preview, out);
  root.replaceChildren(weights, images, source, row);

  let pixels: tf.Tensor3D = defaultImage();
  // the network's view of the image (crop, back to RGB), drawn through a 2D context from an
  // asynchronous read (tfjs's synchronous reads and its WebGPU canvas drawing make SwiftShader's
  // Chromium lose the page's canvases; see demo/charts.ts)
  const showImage = async () => {
    const t = tf.tidy(() => tf.cast(tf.reverse(tf.squeeze(imagenetInput(pixels), [0]), -1), 'int32'));
    const rgb = (await t.data()) as Int32Array;
    t.dispose();
    const img = new ImageData(224, 224);
    for (let p = 0; p < 224 * 224; p++) {
      img.data.set([rgb[3 * p]!, rgb[3 * p + 1]!, rgb[3 * p + 2]!, 255], 4 * p);
    }
    preview.getContext('2d')!.putImageData(img, 0, 0);
  };
  void showImage();
  const setPixels = (p: tf.Tensor3D) => {
    pixels.dispose();
    pixels = p;
    void showImage();
  };

  const describe = (l: Loaded) => {
    const { trainable } = paramCounts(l.fused);
    const what = `${l.architecture} (${trainable.toLocaleString('en')} trainable parameters)`;
    source.textContent =
      l.source === 'random'
        ? `${what} with RANDOM weights: the classes below mean nothing. Convert an official checkpoint (github nmaac/acon) with scripts/convert_checkpoint.py (ShuffleNetV2, ResNet or TFNet; README: "The paper's ShuffleNetV2 and PyTorch checkpoints") and load the .safetensors file here.`
        : `${what} from ${l.source}, loaded in ${l.loadMs.toFixed(0)} ms.`;
  };

  const load = (bytes: Uint8Array, name: string) => describe(fromCheckpoint(bytes, name));
  const current = () => {
    if (!loaded) describe(random(activation.value as 'acon' | 'meta'));
    return loaded!;
  };
  activation.addEventListener('change', () => {
    if (loaded?.source === 'random' || !loaded) describe(random(activation.value as 'acon' | 'meta'));
  });
  checkpoint.addEventListener('change', async () => {
    const f = checkpoint.files?.[0];
    if (!f) return;
    try {
      load(new Uint8Array(await f.arrayBuffer()), f.name);
    } catch (e) {
      source.textContent = `could not load ${f.name}: ${(e as Error).message}`;
    }
  });
  let download: AbortController | null = null;
  fetchButton.addEventListener('click', async () => {
    const address = url.value;
    download?.abort(); // one download at a time: a new click replaces the one under way
    const mine = (download = new AbortController());
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    try {
      const bytes = await fetchCheckpoint(address, {
        maxBytes: MAX_DOWNLOAD_BYTES,
        signal: mine.signal,
        onProgress: (received, total) => {
          source.textContent = `downloading ${address}: ${mb(received)}${total ? ` of ${mb(total)}` : ''} MB`;
        },
      });
      load(bytes, address);
    } catch (e) {
      if (!mine.signal.aborted) source.textContent = `could not load ${address}: ${(e as Error).message}`;
    } finally {
      if (download === mine) download = null;
    }
  });
  image.addEventListener('change', async () => {
    const f = image.files?.[0];
    if (!f) return;
    const bitmap = await createImageBitmap(f);
    setPixels(tf.browser.fromPixels(bitmap));
    bitmap.close();
  });
  cameraButton.addEventListener('click', async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      const video = el('video', { muted: true, playsInline: true });
      video.srcObject = stream;
      await video.play();
      setPixels(tf.browser.fromPixels(video));
      for (const t of stream.getTracks()) t.stop();
    } catch (e) {
      source.textContent = `no camera: ${(e as Error).message}`;
    }
  });
  source.textContent =
    'No checkpoint loaded: Classify runs ShuffleNetV2 0.5× with RANDOM weights (the classes mean nothing). Load a .safetensors file converted with scripts/convert_checkpoint.py from an official checkpoint (github nmaac/acon; README: "The paper\'s ShuffleNetV2 and PyTorch checkpoints").';

  const run = async (): Promise<ModelFigures> => {
    const l = current();
    const x = imagenetInput(pixels);
    try {
      const fused = await timeModel(l.fused, x, 3);
      const composed = await timeModel(l.composed, x, 3);
      out.replaceChildren(
        table('fused ACON (our kernels)', fused.ms, fused.top),
        table('composed ACON (tfjs ops)', composed.ms, composed.top),
      );
      const figures: ModelFigures = {
        source: l.source,
        architecture: l.architecture,
        trainable: paramCounts(l.fused).trainable,
        loadMs: l.loadMs,
        fusedMs: fused.ms,
        composedMs: composed.ms,
        fused: fused.top,
        composed: composed.top,
      };
      onFigures(figures);
      return figures;
    } finally {
      x.dispose();
    }
  };
  return { run, load };
}
