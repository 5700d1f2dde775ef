/**
 * Trains one of the seed's networks (a tf.layers model) on the synthetic red-disc task with Adam
 * and sigmoid cross-entropy on one logit (the seed's num_classes = 1 head), step by step
 * (model.trainOnBatch), evaluating on a held-out split as it goes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { OptionError } from '../src/gpu/errors';
import { IMAGE_SIZE, makeDataset } from './data';
import type { Impl } from '../src/layers/common';
import { seedModel, type NetKind } from '../src/layers/networks';

export interface HeldOut {
  loss: number;
  accuracy: number;
}

export interface TrainProgress {
  step: number;
  steps: number;
  /** This step's training loss. */
  loss: number;
  /** Present at the steps that evaluated the held-out split. */
  heldOut?: HeldOut;
}

export interface TrainOptions {
  steps: number;
  batchSize?: number;
  learningRate?: number;
  /** Seeds the model's init and the datasets. */
  seed?: number;
  trainSize?: number;
  testSize?: number;
  /** Evaluate on the held-out split every this many steps (and after the last). */
  evalEvery?: number;
  impl?: Impl;
  onProgress?: (p: TrainProgress) => void | Promise<void>;
}

export interface TrainResult {
  kind: NetKind;
  /** Training loss per step. */
  loss: number[];
  /** Held-out loss and accuracy at each evaluation. */
  heldOut: ({ step: number } & HeldOut)[];
  /** The trained model, still compiled with its Adam optimizer (model.fit / trainOnBatch continue training). */
  network: tfl.Sequential;
  msPerStep: number;
  /** Frees the model's weights and its optimizer's state (model.dispose() alone leaves the optimizer's). */
  dispose(): void;
}

/**
 * Mean sigmoid cross-entropy of logits against 0/1 labels (PyTorch's BCEWithLogitsLoss), in
 * tf.layers' loss convention (yTrue, yPred), so it goes straight into model.compile({ loss }).
 */
export function bceWithLogits(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.losses.sigmoidCrossEntropy(tf.reshape(yTrue, yPred.shape), yPred) as tf.Scalar);
}

/** Fraction of logits on the right side of 0 for 0/1 labels. */
export function accuracyFromLogits(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () =>
      tf.mean(
        tf.cast(tf.equal(tf.greater(tf.reshape(yPred, [-1]), 0), tf.greater(tf.reshape(yTrue, [-1]), 0.5)), 'float32'),
      ) as tf.Scalar,
  );
}

export async function trainNetwork(kind: NetKind, options: TrainOptions): Promise<TrainResult> {
  const {
    steps,
    batchSize = 32,
    learningRate = 1e-3,
    seed = 1,
    trainSize = 1024,
    testSize = 256,
    evalEvery = 25,
    impl = 'auto',
  } = options;
  for (const [name, v] of [
    ['steps', steps],
    ['batchSize', batchSize],
    ['trainSize', trainSize],
    ['testSize', testSize],
    ['evalEvery', evalEvery],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new OptionError(`trainNetwork: ${name} is not a positive integer`, 'a positive integer', String(v));
  }
  const train = makeDataset(trainSize, seed);
  const test = makeDataset(testSize, seed + 1_000_003);
  const S = IMAGE_SIZE;
  const model = seedModel(kind, { impl, seed });
  const optimizer = tf.train.adam(learningRate);
  model.compile({ optimizer, loss: bceWithLogits });
  const dispose = () => {
    model.dispose();
    optimizer.dispose();
  };
  const xs = tf.tensor4d(train.images, [trainSize, S, S, 3]);
  const ys = tf.tensor2d(train.labels, [trainSize, 1]);
  const xt = tf.tensor4d(test.images, [testSize, S, S, 3]);
  const yt = tf.tensor2d(test.labels, [testSize, 1]);
  const loss: number[] = [];
  const heldOut: TrainResult['heldOut'] = [];
  const evaluate = async (step: number): Promise<HeldOut> => {
    const [l, a] = tf.tidy(() => {
      const logits = model.predict(xt, { batchSize: 64 }) as tf.Tensor;
      return [bceWithLogits(yt, logits), accuracyFromLogits(yt, logits)];
    });
    const h = { loss: (await l.data())[0]!, accuracy: (await a.data())[0]! };
    tf.dispose([l, a]);
    heldOut.push({ step, ...h });
    return h;
  };
  const t0 = performance.now();
  try {
    for (let step = 1; step <= steps; step++) {
      const start = ((step - 1) * batchSize) % trainSize;
      const [bx, by] = tf.tidy(() => {
        const idx = tf.tensor1d(
          Array.from({ length: batchSize }, (_, i) => (start + i) % trainSize),
          'int32',
        );
        return [tf.gather(xs, idx), tf.gather(ys, idx)];
      });
      let lv: number;
      try {
        lv = (await model.trainOnBatch(bx, by)) as number;
      } finally {
        tf.dispose([bx, by]);
      }
      loss.push(lv);
      // evaluate first, then report: the evaluation must not depend on anyone listening
      const held = step % evalEvery === 0 || step === steps ? await evaluate(step) : undefined;
      await options.onProgress?.({ step, steps, loss: lv, ...(held ? { heldOut: held } : {}) });
    }
  } catch (e) {
    dispose();
    throw e;
  } finally {
    tf.dispose([xs, ys, xt, yt]);
  }
  return { kind, loss, heldOut, network: model, msPerStep: (performance.now() - t0) / steps, dispose };
}
