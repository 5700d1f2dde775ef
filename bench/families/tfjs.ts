// The tfjs family: every registered activation's TensorFlow.js op (src/tfjs/op.ts) on NHWC tensors, its
// rows as its declaration lists them (bench.tfjs: forward, backward), fused vs composed vs tf.relu on
// the same tensor. Activations with a training mode run in inference mode (as model.predict does).
import * as tf from '@tensorflow/tfjs-core';
import { buildTree, dimsOf, withTrainable, paramLeaves, readLeaf, resolveShape } from '../../src/activations/params';
import { ACTIVATIONS } from '../../src/activations/registry';
import type { AnyActivation } from '../../src/activations/types';
import { initialParams } from '../../src/ops/hostLayer';
import { tfjsOp } from '../../src/tfjs/op';
import { checkAgree } from '../timing';
import type { BenchImpl, BenchRun, DataFormat, Entry, Shape4, TfjsOp } from '../types';
import { physical, randomArray, sideBySide, tidy } from './common';

/** The seeds of x and of the parameters (the declared inits, from one stream). */
const SEEDS = { x: 8, params: 9 };

/**
 * The tfjs ops on NHWC tensors as a model uses them: each call's result is disposed (tf.tidy), a run
 * of k calls ends by draining the backend's queue. tf.relu on the same tensor is the yardstick.
 */
export async function benchTfjs(bench: BenchRun, shape: Shape4) {
  const { tfDrain } = bench;
  const [N, C] = shape;
  const dataFormat: DataFormat = 'NHWC';
  const x = tf.tensor4d(
    randomArray(
      shape.reduce((a, b) => a * b, 1),
      SEEDS.x,
    ),
    physical(shape, dataFormat),
  );
  const entry = (impl: BenchImpl, f: () => unknown): Entry => ({
    impl,
    layout: dataFormat,
    run: tidy(f),
    drain: tfDrain,
  });
  const gradRelu = tf.grad((xx: tf.Tensor) => tf.sum(tf.relu(xx)));
  const at = `[${shape.join(',')}]`;

  for (const act of ACTIVATIONS as readonly AnyActivation[]) {
    if (!act.bench.tfjs.length) continue;
    // the declared inits as tensors: tf.variable per running statistic (inference reads them)
    const dims = { N, ...dimsOf(act, C) };
    const leaves = paramLeaves(act.params);
    const trainable = leaves.filter((l) => l.decl.role === 'trainable');
    const p = initialParams(act, dims, SEEDS.params);
    const params = buildTree(leaves, (l) => {
      const v = tf.tensor(readLeaf(p, l) as Float32Array, resolveShape(l.decl.shape, dims));
      return l.decl.role === 'running' ? tf.variable(v, false) : v;
    });
    const op = tfjsOp(act) as (x: tf.Tensor, p: unknown, o: object) => tf.Tensor;
    const call = (impl: 'auto' | 'composed') => (xx: tf.Tensor, ps: unknown) =>
      op(xx, ps, { dataFormat, impl, ...('training' in (act.bench.options ?? {}) ? { training: false } : {}) });
    // the gradient of a sum through the op: x's and every trainable parameter's
    const gradOf = (impl: 'auto' | 'composed') =>
      tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) => tf.sum(call(impl)(xx, withTrainable(leaves, params, ps))));
    const grad = { auto: gradOf('auto'), composed: gradOf('composed') };
    const inputs = [x, ...trainable.map((l) => readLeaf(params, l) as tf.Tensor)];
    await checkAgree(`tfjs.${act.name} ${at}`, call('auto')(x, params), call('composed')(x, params));

    for (const direction of act.bench.tfjs) {
      const [fused, composed] =
        direction === 'forward'
          ? [() => call('auto')(x, params), () => call('composed')(x, params)]
          : [() => grad.auto(inputs), () => grad.composed(inputs)];
      await sideBySide(bench, `tfjs.${act.name}.${direction}` as TfjsOp, shape, [
        entry('fused', fused),
        entry('tfjs-composed', composed),
        entry('relu', direction === 'forward' ? () => tf.relu(x) : () => gradRelu(x)),
      ]);
    }
    await tfDrain();
    tf.dispose(leaves.map((l) => readLeaf(params, l) as tf.Tensor));
  }
  tf.dispose(x);
}
