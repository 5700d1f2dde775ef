/**
 * Trains one of the seed's networks on the synthetic dataset with Adam and sigmoid cross-entropy
 * (one logit, as the seed's num_classes = 1 head), reporting progress and curves.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeDataset, IMAGE_SIZE } from './data';
import { Network, type NetKind } from './networks';
import type { Impl } from './ops';

export interface TrainOptions {
  steps: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  trainSize?: number;
  testSize?: number;
  /** Evaluate on the held-out split every this many steps (and after the last). */
  evalEvery?: number;
  impl?: Impl;
  onProgress?: (p: { step: number; steps: number; loss: number; heldOut?: { loss: number; accuracy: number } }) => void | Promise<void>;
}

export interface TrainResult {
  kind: NetKind;
  /** Training loss per step. */
  loss: number[];
  /** Held-out loss and accuracy at each evaluation. */
  heldOut: { step: number; loss: number; accuracy: number }[];
  network: Network;
  msPerStep: number;
}

/** Mean sigmoid cross-entropy of logits [N, 1] against labels [N]. */
export function bceLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(tf.reshape(labels, [-1, 1]), logits) as tf.Scalar;
}

export async function trainNetwork(kind: NetKind, options: TrainOptions): Promise<TrainResult> {
  const { steps, batchSize = 32, learningRate = 1e-3, seed = 1, trainSize = 1024, testSize = 256, evalEvery = 25 } = options;
  const train = makeDataset(trainSize, seed);
  const test = makeDataset(testSize, seed + 1_000_003);
  const S = IMAGE_SIZE;
  const xs = tf.tensor4d(train.images, [trainSize, S, S, 3]);
  const ys = tf.tensor1d(train.labels);
  const xt = tf.tensor4d(test.images, [testSize, S, S, 3]);
  const yt = tf.tensor1d(test.labels);
  const net = new Network(kind, 1, seed, options.impl ?? 'auto');
  const opt = tf.train.adam(learningRate);
  const loss: number[] = [];
  const heldOut: TrainResult['heldOut'] = [];
  const evaluate = async (step: number) => {
    const [l, a] = tf.tidy(() => {
      const logits = net.forward(xt, false);
      const acc = tf.mean(tf.cast(tf.equal(tf.greater(tf.reshape(logits, [-1]), 0), tf.cast(yt, 'bool')), 'float32'));
      return [bceLoss(logits, yt), acc];
    });
    const [lv, av] = [(await l!.data())[0]!, (await a!.data())[0]!];
    tf.dispose([l!, a!]);
    heldOut.push({ step, loss: lv, accuracy: av });
    return { loss: lv, accuracy: av };
  };
  const t0 = performance.now();
  try {
    for (let step = 1; step <= steps; step++) {
      const start = ((step - 1) * batchSize) % trainSize;
      const cost = tf.tidy(() => {
        const idx = tf.tensor1d(Array.from({ length: batchSize }, (_, i) => (start + i) % trainSize), 'int32');
        const bx = tf.gather(xs, idx) as tf.Tensor4D;
        const by = tf.gather(ys, idx) as tf.Tensor1D;
        return opt.minimize(() => bceLoss(net.forward(bx, true), by), true, net.trainableWeights)!;
      });
      const lv = (await cost.data())[0]!;
      cost.dispose();
      loss.push(lv);
      const evalNow = step % evalEvery === 0 || step === steps;
      await options.onProgress?.({ step, steps, loss: lv, ...(evalNow ? { heldOut: await evaluate(step) } : {}) });
    }
  } finally {
    tf.dispose([xs, ys, xt, yt]);
    opt.dispose();
  }
  return { kind, loss, heldOut, network: net, msPerStep: (performance.now() - t0) / steps };
}
