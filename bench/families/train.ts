// The train family (opt-in: slow on SwiftShader): one Adam step of dcn2+AconC / dcn2+MetaAconC.
import * as tf from '@tensorflow/tfjs-core';
import { makeDataset } from '../../tools/data';
import { seedModel } from '../../src/layers/index';
import { bceWithLogits } from '../../tools/train';
import { timeSideBySide } from '../timing';
import type { BenchRun, Shape4 } from '../types';
import { tidy } from './common';

/** One Adam step of the seed's tf.layers model, ACON on our kernels (fused) or in tfjs primitives. */
export async function benchTrain(bench: BenchRun, trainBatch: number) {
  const { groupMs, record, tfDrain } = bench;
  const shape: Shape4 = [trainBatch, 3, 32, 32];
  const data = makeDataset(trainBatch, 1);
  const x = tf.tensor4d(data.images, [trainBatch, 32, 32, 3]);
  const y = tf.tensor2d(data.labels, [trainBatch, 1]);
  for (const net of ['dcn2-acon', 'dcn2-meta'] as const) {
    for (const impl of ['fused', 'tfjs-composed'] as const) {
      const model = seedModel(net, { impl: impl === 'fused' ? 'auto' : 'composed', seed: 1 });
      const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const opt = tf.train.adam(1e-3);
      const loss = () => bceWithLogits(y, model.apply(x, { training: true }) as tf.Tensor);
      const step = tidy(() => opt.minimize(loss, false, weights));
      record({
        op: 'train.step',
        impl,
        layout: 'NHWC',
        shape,
        net,
        ...(await timeSideBySide([{ run: step, drain: tfDrain }], { batchMs: 1, batches: 3, groupMs, warmup: 1 }))[0]!,
      });
      await tfDrain();
      opt.dispose();
      model.dispose();
    }
  }
  tf.dispose([x, y]);
}
