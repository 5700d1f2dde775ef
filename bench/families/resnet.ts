// The resnet family (opt-in: minutes on a CPU adapter): inference of the paper's ResNet-50 with ACON-C
// and with Meta-ACON-C, fused, against the same network with ReLU in ACON-C's place, batch 1 at
// 224×224 NHWC (BenchOptions.netInput), side by side; one timed run each after a warm-up (the JSON's `runs` says 1).
import * as tf from '@tensorflow/tfjs-core';
import { resNet, type ResNetActivation } from '../../src/models/index';
import type { BenchImpl, BenchRun, Entry, NetName, Shape4 } from '../types';
import { sideBySide, tidy } from './common';

const CONTENDERS: [ResNetActivation, BenchImpl][] = [
  ['relu', 'relu'],
  ['acon', 'fused'],
  ['meta', 'fused'],
];

/** ResNet-50 (random weights) with ReLU, ACON-C and Meta-ACON-C: the price of ACON in a large network. */
export async function benchResNet(bench: BenchRun) {
  const { tfDrain, netInput: side } = bench;
  const shape: Shape4 = [1, 3, side, side];
  const x = tf.randomNormal([1, side, side, 3], 0, 1, 'float32', 7);
  const models = CONTENDERS.map(([activation]) => resNet({ depth: 50, activation, inputSize: side }));
  const entries = CONTENDERS.map(([activation, impl], j): Entry => ({
    impl,
    layout: 'NHWC',
    net: `resnet50-${activation}` as NetName,
    run: tidy(() => models[j]!.predict(x)),
    drain: tfDrain,
  }));
  await sideBySide(bench, 'net.infer', shape, entries, 1, { batchMs: 1, batches: 1, minBatches: 1 });
  await tfDrain();
  for (const m of models) m.dispose();
  x.dispose();
}
