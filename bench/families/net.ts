// The net family: inference of the seed networks as tf.layers models (src/layers), at each batch size.
import * as tf from '@tensorflow/tfjs-core';
import { makeDataset } from '../../tools/data';
import { seedModel, type NetKind } from '../../src/layers/index';
import { checkAgree } from '../timing';
import type { BenchImpl, BenchRun, Entry, Shape4 } from '../types';
import { sideBySide, tidy } from './common';

/** The (net, impl) pairs of net.infer: the ReLU network and each ACON network fused and composed. */
export const NET_CONTENDERS: [NetKind, BenchImpl][] = [
  ['dcn3', 'relu'],
  ['dcn2-acon', 'fused'],
  ['dcn2-acon', 'tfjs-composed'],
  ['dcn2-meta', 'fused'],
  ['dcn2-meta', 'tfjs-composed'],
];

/** Inference of the seed networks as tf.layers models: predict on a fixed input, result disposed, drained. */
export async function benchNet(bench: BenchRun, n: number) {
  const { batchMs, groupMs, tfDrain } = bench;
  const shape: Shape4 = [n, 3, 32, 32];
  const x = tf.tensor4d(makeDataset(n, 2).images, [n, 32, 32, 3]);
  const models = NET_CONTENDERS.map(([net, impl]) =>
    seedModel(net, { impl: impl === 'tfjs-composed' ? 'composed' : 'auto', seed: 1 }),
  );
  for (const net of ['dcn2-acon', 'dcn2-meta'] as const) {
    const [fused, composed] = (['fused', 'tfjs-composed'] as const).map(
      (impl) =>
        models[NET_CONTENDERS.findIndex(([k, i]) => k === net && i === impl)]!.predict(x, {
          batchSize: n,
        }) as tf.Tensor,
    );
    await checkAgree(`net.infer ${net} [${shape.join(',')}]`, fused!, composed!);
  }
  // batchSize: n, so that predict runs the whole batch at once (its default splits into batches of 32)
  const entries = NET_CONTENDERS.map(([net, impl], j): Entry => ({
    impl,
    layout: 'NHWC',
    net,
    run: tidy(() => models[j]!.predict(x, { batchSize: n })),
    drain: tfDrain,
  }));
  // one warm-up call (pipelines, buffers); the call that sizes the batches warms up once more
  // A timed batch ends with a queue drain of a few ms; at ~75 ms a call (batch 1 on SwiftShader) a
  // batch of 1 or 2 calls would carry it unevenly between contenders, so net batches aim at a
  // second each (about 13 calls at batch 1; one call at batch 64, where the drain is < 0.5 %), and
  // the group may take 4 minutes, so that batch 64 still gets its 11 rounds on SwiftShader.
  await sideBySide(bench, 'net.infer', shape, entries, 1, {
    batchMs: Math.max(batchMs, 1000),
    groupMs: Math.max(groupMs, 240_000),
  });
  await tfDrain();
  for (const m of models) m.dispose();
  x.dispose();
}
