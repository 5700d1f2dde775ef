/**
 * The seed's experiment on our side (scripts/fashion_experiment.py is PyTorch's): the experiment's
 * input, evaluation of a network on a Fashion-MNIST split, and training with the same recipe
 * (Adam 1e-3 with PyTorch's ε = 1e-8, batch 64, cross-entropy, a seeded order per epoch). Used by
 * `npm run experiment`, the demo's Fashion-MNIST panels and their tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { OptionError } from '../src/gpu/errors';
import { rng } from '../src/ops/random';
import type { Impl } from '../src/layers/common';
import { seedModel, type NetKind } from '../src/layers/networks';
import { FASHION_CLASSES, IMAGE_SIZE, type FashionMnist } from './fashionMnist';

/** The networks' input side: 28 × 28 padded by 2 on each side. */
export const INPUT_SIZE = 32;
const PAD = (INPUT_SIZE - IMAGE_SIZE) / 2;

/**
 * The experiment's input for images `indices` of `data`, as PyTorch's script makes it: 28 × 28 grey
 * zero-padded to 32 × 32, x = (v/255 − 0.5)/0.5 (the padding becomes −1), the grey replicated to 3
 * channels; NHWC [n, 32, 32, 3].
 */
export function fashionBatch(data: FashionMnist, indices: ArrayLike<number>): Float32Array {
  const S = INPUT_SIZE;
  const out = new Float32Array(indices.length * S * S * 3).fill(-1);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= data.count)
      throw new OptionError('fashionBatch: image index out of range', `0 to ${data.count - 1}`, String(i));
    const src = i * IMAGE_SIZE * IMAGE_SIZE;
    for (let y = 0; y < IMAGE_SIZE; y++)
      for (let x = 0; x < IMAGE_SIZE; x++) {
        // the same float32 operations as PyTorch's script: v/255, then (· − 0.5)/0.5
        const v = Math.fround((Math.fround(data.images[src + y * IMAGE_SIZE + x]! / 255) - 0.5) / 0.5);
        const o = ((k * S + y + PAD) * S + x + PAD) * 3;
        out[o] = out[o + 1] = out[o + 2] = v;
      }
  }
  return out;
}

/** fashionBatch as a tensor [n, 32, 32, 3]. */
export const fashionTensor = (data: FashionMnist, indices: ArrayLike<number>): tf.Tensor4D =>
  tf.tensor4d(fashionBatch(data, indices), [indices.length, INPUT_SIZE, INPUT_SIZE, 3]);

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

const positive = (what: string, v: number) => {
  if (!Number.isInteger(v) || v < 1)
    throw new OptionError(`${what} is not a positive integer`, 'a positive integer', String(v));
};

export interface Evaluation {
  /** How many images, from the first: min(limit, data.count). */
  count: number;
  /** The predicted class of each (argmax of the logits). */
  predictions: Uint8Array;
  correct: number;
  accuracy: number;
  ms: number;
}

/**
 * The model's predictions of the first `limit` images of `data` (all by default), in eval mode
 * (running statistics), in batches; onProgress after each batch. Frees everything it made.
 */
export async function evaluateFashion(
  model: tfl.LayersModel,
  data: FashionMnist,
  options: {
    limit?: number;
    batchSize?: number;
    onProgress?: (done: number, total: number) => void | Promise<void>;
  } = {},
): Promise<Evaluation> {
  const { limit = data.count, batchSize = 250 } = options;
  positive('evaluateFashion: limit', limit);
  positive('evaluateFashion: batchSize', batchSize);
  const count = Math.min(limit, data.count);
  const predictions = new Uint8Array(count);
  let correct = 0;
  const t0 = performance.now();
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const classes = tf.tidy(() => tf.argMax(model.predict(fashionTensor(data, range(start, n))) as tf.Tensor, 1));
    const got = await classes.data();
    classes.dispose();
    for (let i = 0; i < n; i++) {
      predictions[start + i] = got[i]!;
      if (got[i] === data.labels[start + i]) correct++;
    }
    await options.onProgress?.(start + n, count);
  }
  return { count, predictions, correct, accuracy: correct / count, ms: performance.now() - t0 };
}

/** Mean cross-entropy of logits [N, 10] against one-hot labels (PyTorch's F.cross_entropy), in tf.layers' (yTrue, yPred) order. */
export const crossEntropy = (oneHot: tf.Tensor, logits: tf.Tensor): tf.Scalar =>
  tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;

/** Labels `indices` of `data` one-hot, [n, 10]. */
export const fashionOneHot = (data: FashionMnist, indices: ArrayLike<number>): tf.Tensor2D =>
  tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from(indices, (i) => data.labels[i]!),
        'int32',
      ),
      FASHION_CLASSES.length,
    ),
  ) as tf.Tensor2D;

export interface FashionTrainOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Seeds the initial weights and each epoch's order. */
  seed?: number;
  /** Train on the first this many images only (a CPU adapter's subset); all by default. */
  limit?: number;
  /** Stop after this many steps in all (the demo's and the tests' short runs). */
  maxSteps?: number;
  impl?: Impl;
  /** After each step; `model` is the network being trained (evaluate it here, in eval mode, if wanted). */
  onProgress?: (p: {
    step: number;
    steps: number;
    epoch: number;
    loss: number;
    model: tfl.Sequential;
  }) => void | Promise<void>;
}

export interface FashionTrained {
  model: tfl.Sequential;
  /** Training loss per step. */
  loss: number[];
  /** Images trained on per epoch, and steps per epoch (loss.length steps ran). */
  images: number;
  steps: number;
  /** Measured per step, times steps per epoch. */
  msPerEpoch: number;
  /** Frees the model and its optimizer's state. */
  dispose(): void;
}

/**
 * Trains the seed network `kind` (10 outputs) on `train` with the experiment's recipe: Adam with
 * PyTorch's defaults (lr 1e-3, β 0.9/0.999, ε 1e-8), batch 64, cross-entropy, the last batch of an
 * epoch smaller (one of a single image is left out: batch statistics need two), in a seeded order
 * per epoch.
 */
export async function trainFashion(
  kind: NetKind,
  train: FashionMnist,
  options: FashionTrainOptions = {},
): Promise<FashionTrained> {
  const { epochs = 2, batchSize = 64, learningRate = 1e-3, seed = 0, limit = train.count, impl = 'auto' } = options;
  const maxSteps = options.maxSteps ?? Infinity;
  positive('trainFashion: epochs', epochs);
  if (options.maxSteps !== undefined) positive('trainFashion: maxSteps', maxSteps);
  positive('trainFashion: batchSize', batchSize);
  positive('trainFashion: limit', limit);
  if (batchSize < 2 && kind === 'dcn2-meta')
    throw new OptionError('trainFashion: Meta-ACON trains on batch statistics', 'batchSize ≥ 2', String(batchSize));
  const images = Math.min(limit, train.count);
  if (images < 2) throw new OptionError('trainFashion: too few images to train on', 'at least 2', String(images));
  const model = seedModel(kind, { impl, seed, numClasses: FASHION_CLASSES.length });
  const optimizer = tf.train.adam(learningRate, 0.9, 0.999, 1e-8);
  model.compile({ optimizer, loss: crossEntropy });
  const dispose = () => {
    model.dispose();
    optimizer.dispose();
  };
  // full batches, and the rest when it has two images or more (batch statistics need two)
  const steps = Math.floor(images / batchSize) + (images % batchSize >= 2 ? 1 : 0);
  const total = Math.min(epochs * steps, maxSteps);
  const loss: number[] = [];
  const random = rng(seed + 7919);
  const t0 = performance.now();
  try {
    for (let epoch = 0; epoch < epochs && loss.length < total; epoch++) {
      const order = range(0, images);
      for (let i = images - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let s = 0; s < steps && loss.length < total; s++) {
        const idx = order.slice(s * batchSize, (s + 1) * batchSize);
        const x = fashionTensor(train, idx);
        const y = fashionOneHot(train, idx);
        let l: number;
        try {
          l = (await model.trainOnBatch(x, y)) as number;
        } finally {
          tf.dispose([x, y]);
        }
        loss.push(l);
        await options.onProgress?.({ step: loss.length, steps: total, epoch, loss: l, model });
      }
    }
  } catch (e) {
    dispose();
    throw e;
  }
  const ms = performance.now() - t0;
  return { model, loss, images, steps, msPerEpoch: (ms / loss.length) * steps, dispose };
}
