// The seed networks trained on Fashion-MNIST in PyTorch (scripts/fashion_experiment.py, seed 0),
// shipped converted in demo/fashion/, loaded by loadCheckpoint: on the committed 1,000 test images
// (tests/fixtures/fashion-mnist) our predictions equal PyTorch's (experiment.json) for at least 999,
// and the accuracy is the one they imply. tfjs's cpu backend: ACON in tfjs primitives (the fused
// kernels' ops equal the host op bitwise elsewhere, tests/browser/tfjsActivations.test.ts).
import { readFileSync } from 'node:fs';
import { beforeAll, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadCheckpoint } from '../../src/models/checkpoint';
import { fashionMnist, gunzip } from '../../tools/fashionMnist';

const experiment = JSON.parse(readFileSync('demo/fashion/experiment.json', 'utf8')) as {
  summary: Record<string, { accuracy_mean: number; params: number }>;
  predictions_seed0: Record<string, string>;
};

let x: tf.Tensor4D;
let labels: Uint8Array;
beforeAll(async () => {
  await tf.setBackend('cpu');
  const d = fashionMnist(
    await gunzip(readFileSync('tests/fixtures/fashion-mnist/test-1000-images-idx3-ubyte.gz'), 'images'),
    await gunzip(readFileSync('tests/fixtures/fashion-mnist/test-1000-labels-idx1-ubyte.gz'), 'labels'),
  );
  labels = d.labels;
  // the experiment's input: 28×28 zero-padded to 32×32, (v/255 − 0.5)/0.5, 3 equal channels (NHWC)
  x = tf.tidy(() => {
    const grey = tf.tensor4d(Float32Array.from(d.images), [d.count, 28, 28, 1]);
    const padded = tf.pad(grey, [
      [0, 0],
      [2, 2],
      [2, 2],
      [0, 0],
    ]);
    return tf.tile(tf.div(tf.sub(tf.div(padded, 255), 0.5), 0.5), [1, 1, 1, 3]) as tf.Tensor4D;
  });
});

test.each(['dcn3', 'dcn2-acon', 'dcn2-meta'])(
  '%s: our predictions are PyTorch’s on the 1,000 test images',
  (net) => {
    const { model, architecture, metadata } = loadCheckpoint(readFileSync(`demo/fashion/${net}.safetensors`));
    expect([architecture, metadata.num_classes]).toEqual([net, '10']);
    const ours = tf.tidy(() => tf.argMax(model.predict(x, { batchSize: 250 }) as tf.Tensor, 1).dataSync());
    model.dispose();
    const torch = experiment.predictions_seed0[net]!;
    let differ = 0;
    let correct = 0;
    for (let i = 0; i < 1000; i++) {
      if (ours[i] !== Number(torch[i])) differ++;
      if (ours[i] === labels[i]) correct++;
    }
    console.log(`${net}: ${differ} of 1,000 predictions differ from PyTorch's; accuracy ${correct / 1000} on these`);
    expect(differ).toBeLessThanOrEqual(1);
    // the first 1,000 are not the whole test set, but a trained network is far above chance on them
    expect(correct / 1000).toBeGreaterThan(0.8);
  },
  300_000,
); // ~20 s each on tfjs's cpu backend alone; more beside the browsers in npm test
