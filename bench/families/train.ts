// The train family (opt-in: slow on SwiftShader): one Adam step of dcn3 (ReLU), dcn2+AconC and
// dcn2+MetaAconC, at batch 64 and 16 (or --train-batch).
import * as tf from '@tensorflow/tfjs-core';
import { makeDataset } from '../../tools/data';
import { seedModel } from '../../src/layers/index';
import { bceWithLogits } from '../../tools/train';
import { timeSideBySide } from '../timing';
import type { BenchRun, Shape4 } from '../types';
import { tidy } from './common';

/** The contenders of train.step: the ReLU network, and each ACON network fused and composed. */
const CONTENDERS = [
  ['dcn3', 'relu'],
  ['dcn2-acon', 'fused'],
  ['dcn2-acon', 'tfjs-composed'],
  ['dcn2-meta', 'fused'],
  ['dcn2-meta', 'tfjs-composed'],
] as const;

/**
 * One Adam step of the seed's tf.layers models at each batch size, all five contenders side by side
 * (their timed steps take turns): the ReLU network (dcn3) and each ACON network with ACON on our
 * kernels (fused) or in tfjs primitives.
 */
export async function benchTrain(bench: BenchRun, trainBatches: readonly number[]) {
  const { groupMs, record, tfDrain } = bench;
  for (const n of trainBatches) {
    const shape: Shape4 = [n, 3, 32, 32];
    const data = makeDataset(n, 1);
    const x = tf.tensor4d(data.images, [n, 32, 32, 3]);
    const y = tf.tensor2d(data.labels, [n, 1]);
    const runs = CONTENDERS.map(([net, impl]) => {
      const model = seedModel(net, { impl: impl === 'tfjs-composed' ? 'composed' : 'auto', seed: 1 });
      const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const opt = tf.train.adam(1e-3);
      const loss = () => bceWithLogits(y, model.apply(x, { training: true }) as tf.Tensor);
      return { model, opt, step: tidy(() => opt.minimize(loss, false, weights)) };
    });
    const times = await timeSideBySide(
      runs.map((r) => ({ run: r.step, drain: tfDrain })),
      { batchMs: 1, batches: 3, groupMs, warmup: 1 },
    );
    CONTENDERS.forEach(([net, impl], j) =>
      record({ op: 'train.step', impl, layout: 'NHWC', shape, net, ...times[j]! }),
    );
    await tfDrain();
    for (const r of runs) {
      r.opt.dispose();
      r.model.dispose();
    }
    tf.dispose([x, y]);
  }
}
