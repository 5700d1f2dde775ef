// The tfnet family (opt-in: a minute or more on a CPU adapter): inference of the paper's TFNet 0.5
// (17 ACON-FReLU layers, 4 of them at stride 2) with our fused ACON-FReLU against the same network
// with ACON-FReLU from tfjs ops (the declaration's composed form), shared random weights, batch 1 at
// 224×224 NHWC, side by side; a few timed runs after a warm-up (the JSON's `runs` says how many).
import * as tf from '@tensorflow/tfjs-core';
import { tfNet } from '../../src/models/index';
import { checkAgree } from '../timing';
import type { BenchRun, Entry, Shape4 } from '../types';
import { sideBySide, tidy } from './common';

export async function benchTfNet(bench: BenchRun) {
  const { tfDrain } = bench;
  const shape: Shape4 = [1, 3, 224, 224];
  const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 7);
  const [fused, composed] = (['auto', 'composed'] as const).map((impl) => tfNet({ modelSize: 0.5, impl }));
  composed!.setWeights(fused!.getWeights());
  await checkAgree('net.infer tfnet-0.5', fused!.predict(x) as tf.Tensor, composed!.predict(x) as tf.Tensor);
  const entries = (
    [
      ['fused', fused!],
      ['tfjs-composed', composed!],
    ] as const
  ).map(([impl, model]): Entry => ({
    impl,
    layout: 'NHWC',
    net: 'tfnet-0.5',
    run: tidy(() => model.predict(x)),
    drain: tfDrain,
  }));
  await sideBySide(bench, 'net.infer', shape, entries, 1, { batchMs: 1, batches: 5, minBatches: 3 });
  await tfDrain();
  fused!.dispose();
  composed!.dispose();
  x.dispose();
}
