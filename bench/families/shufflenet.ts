// The shufflenet family: inference of the paper's ShuffleNetV2 0.5× (src/models) with ACON-C and
// Meta-ACON-C, fused vs composed ACON, and with ReLU in their place, batch 1 at 224×224 (BenchOptions.netInput).
import * as tf from '@tensorflow/tfjs-core';
import { shuffleNetV2 } from '../../src/models/index';
import { checkAgree } from '../timing';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BenchImpl, BenchRun, Entry, NetName, Shape4 } from '../types';
import { sideBySide, tidy } from './common';

/**
 * The paper's ShuffleNetV2 0.5× at batch 1 (224×224, random weights shared by the fused and the
 * composed model of each activation): 3 + 16·2 + 4 + 1 ACON layers between tfjs's own convolutions;
 * and the same network with ReLU in their place, the original ShuffleNetV2's activation. All five
 * side by side in one group, so that ACON's price against ReLU is a ratio of one run.
 */
export async function benchShuffleNet(bench: BenchRun) {
  const { batchMs, groupMs, tfDrain, netInput: side } = bench;
  const shape: Shape4 = [1, 3, side, side];
  const x = tf.randomNormal([1, side, side, 3], 0, 1, 'float32', 7);
  const entries: Entry[] = [];
  const models: tfl.LayersModel[] = [];
  const entry = (impl: BenchImpl, net: NetName, model: tfl.LayersModel) => {
    models.push(model);
    entries.push({ impl, layout: 'NHWC', net, run: tidy(() => model.predict(x)), drain: tfDrain });
  };
  for (const activation of ['acon', 'meta'] as const) {
    const net = `shufflenetv2-0.5x-${activation}` as const;
    const [fused, composed] = (['auto', 'composed'] as const).map((impl) =>
      shuffleNetV2({ activation, modelSize: '0.5x', impl, inputSize: side }),
    );
    composed!.setWeights(fused!.getWeights());
    await checkAgree(`net.infer ${net}`, fused!.predict(x) as tf.Tensor, composed!.predict(x) as tf.Tensor);
    entry('fused', net, fused!);
    entry('tfjs-composed', net, composed!);
  }
  entry('relu', 'shufflenetv2-0.5x-relu', shuffleNetV2({ activation: 'relu', modelSize: '0.5x', inputSize: side }));
  await sideBySide(bench, 'net.infer', shape, entries, 1, {
    batchMs: Math.max(batchMs, 1000),
    groupMs: Math.max(groupMs, 240_000),
  });
  await tfDrain();
  for (const m of models) m.dispose();
  x.dispose();
}
