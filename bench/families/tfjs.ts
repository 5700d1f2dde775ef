// The tfjs family: the TensorFlow.js face (src/tfjs/ops.ts) on NHWC tensors, fused vs composed vs
// tf.relu on the same tensor.
import * as tf from '@tensorflow/tfjs-core';
import { MetaAconC } from '../../src/index';
import { aconC, metaAconC, type MetaAconCTensors } from '../../src/tfjs/ops';
import { checkAgree } from '../timing';
import type { BenchImpl, BenchRun, DataFormat, Entry, Shape4 } from '../types';
import { physical, randomArray, sideBySide, tidy } from './common';

/**
 * The tfjs face on NHWC tensors as a model uses it: each call's result is disposed (tf.tidy), a run
 * of k calls ends by draining the backend's queue. tf.relu on the same tensor is the yardstick.
 */
export async function benchTfjs(bench: BenchRun, shape: Shape4) {
  const { tfDrain } = bench;
  const C = shape[1];
  const layout: DataFormat = 'NHWC';
  const x = tf.tensor4d(
    randomArray(
      shape.reduce((a, b) => a * b, 1),
      8,
    ),
    physical(shape, layout),
  );
  const [p1, p2, beta] = [9, 10, 11].map((seed) => tf.tensor1d(randomArray(C, seed)));
  const tp = [p1!, p2!, beta!];
  const acon = (impl: 'auto' | 'composed') => (xx: tf.Tensor, a1: tf.Tensor, a2: tf.Tensor, b: tf.Tensor) =>
    aconC(xx, a1, a2, b, { dataFormat: layout, impl });

  // Meta-ACON-C's tensors from the host layer: tf.tensor per leaf, tf.variable per running statistic
  const mp = new MetaAconC(C, 16, 12).params;
  const variable = (v: Float32Array) => tf.variable(tf.tensor1d(v), false);
  const meta: MetaAconCTensors = {
    p1: tf.tensor1d(mp.p1),
    p2: tf.tensor1d(mp.p2),
    fc1: { weight: tf.tensor1d(mp.fc1.weight), bias: tf.tensor1d(mp.fc1.bias) },
    bn1: {
      weight: tf.tensor1d(mp.bn1.weight),
      bias: tf.tensor1d(mp.bn1.bias),
      runningMean: variable(mp.bn1.runningMean),
      runningVar: variable(mp.bn1.runningVar),
    },
    fc2: { weight: tf.tensor1d(mp.fc2.weight), bias: tf.tensor1d(mp.fc2.bias) },
    bn2: {
      weight: tf.tensor1d(mp.bn2.weight),
      bias: tf.tensor1d(mp.bn2.bias),
      runningMean: variable(mp.bn2.runningMean),
      runningVar: variable(mp.bn2.runningVar),
    },
  };
  // the gradient of a sum through the op: all four gradients (x, p1, p2, β)
  const gradFused = tf.grads((xx, a1, a2, b) => tf.sum(acon('auto')(xx, a1, a2, b)));
  const gradComposed = tf.grads((xx, a1, a2, b) => tf.sum(acon('composed')(xx, a1, a2, b)));
  const gradRelu = tf.grad((xx: tf.Tensor) => tf.sum(tf.relu(xx)));
  const entry = (impl: BenchImpl, f: () => unknown): Entry => ({ impl, layout, run: tidy(f), drain: tfDrain });
  const at = `[${shape.join(',')}]`;
  await checkAgree(`tfjs.aconC ${at}`, acon('auto')(x, p1!, p2!, beta!), acon('composed')(x, p1!, p2!, beta!));
  await checkAgree(
    `tfjs.metaAconC ${at}`,
    metaAconC(x, meta, { training: false, dataFormat: layout }),
    metaAconC(x, meta, { training: false, dataFormat: layout, impl: 'composed' }),
  );

  await sideBySide(bench, 'tfjs.aconC.forward', shape, [
    entry('fused', () => acon('auto')(x, p1!, p2!, beta!)),
    entry('tfjs-composed', () => acon('composed')(x, p1!, p2!, beta!)),
    entry('relu', () => tf.relu(x)),
  ]);
  await sideBySide(bench, 'tfjs.aconC.backward', shape, [
    entry('fused', () => gradFused([x, ...tp])),
    entry('tfjs-composed', () => gradComposed([x, ...tp])),
    entry('relu', () => gradRelu(x)),
  ]);
  await sideBySide(bench, 'tfjs.metaAconC.forward', shape, [
    entry('fused', () => metaAconC(x, meta, { training: false, dataFormat: layout })),
    entry('tfjs-composed', () => metaAconC(x, meta, { training: false, dataFormat: layout, impl: 'composed' })),
    entry('relu', () => tf.relu(x)),
  ]);
  await tfDrain();
  const leaves = [meta.p1, meta.p2, meta.fc1, meta.bn1, meta.fc2, meta.bn2].flatMap((v) =>
    v instanceof tf.Tensor ? [v] : Object.values(v),
  );
  tf.dispose([x, ...tp, ...leaves]);
}
