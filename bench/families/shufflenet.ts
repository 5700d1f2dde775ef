// The shufflenet family: inference of the paper's ShuffleNetV2 0.5× (src/models) with ACON-C and
// Meta-ACON-C, fused vs composed ACON, batch 1 at 224×224.
import * as tf from '@tensorflow/tfjs-core';
import { shuffleNetV2 } from '../../src/models/index';
import { checkAgree } from '../timing';
import type { BenchRun, Entry, Shape4 } from '../types';
import { sideBySide, tidy } from './common';

/**
 * The paper's ShuffleNetV2 0.5× at batch 1 (224×224, random weights shared by the fused and the
 * composed model of each activation): 3 + 16·2 + 4 + 1 ACON layers between tfjs's own convolutions.
 */
export async function benchShuffleNet(bench: BenchRun) {
  const { batchMs, groupMs, tfDrain } = bench;
  const shape: Shape4 = [1, 3, 224, 224];
  const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 7);
  for (const activation of ['acon', 'meta'] as const) {
    const net = `shufflenetv2-0.5x-${activation}` as const;
    const [fused, composed] = (['auto', 'composed'] as const).map((impl) =>
      shuffleNetV2({ activation, modelSize: '0.5x', impl }),
    );
    composed!.setWeights(fused!.getWeights());
    await checkAgree(`net.infer ${net}`, fused!.predict(x) as tf.Tensor, composed!.predict(x) as tf.Tensor);
    const entries = (
      [
        ['fused', fused!],
        ['tfjs-composed', composed!],
      ] as const
    ).map(([impl, model]): Entry => ({
      impl,
      layout: 'NHWC',
      net,
      run: tidy(() => model.predict(x)),
      drain: tfDrain,
    }));
    await sideBySide(bench, 'net.infer', shape, entries, 1, {
      batchMs: Math.max(batchMs, 1000),
      groupMs: Math.max(groupMs, 240_000),
    });
    await tfDrain();
    fused!.dispose();
    composed!.dispose();
  }
  x.dispose();
}
