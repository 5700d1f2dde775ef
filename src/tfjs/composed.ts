/**
 * ACON-C and Meta-ACON-C written from TensorFlow.js primitives, exactly as the paper and the
 * PyTorch module write them (NCHW). They serve as the independent check of the reference
 * (tf.grads gives their gradients), as the `tfjs-composed` baseline of the benchmarks, and as the
 * fallback of the tfjs ops on backends other than webgpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BN_EPS } from '../kernels/batchnorm';

/** y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x; p1, p2, β broadcast against x ([1, C, 1, 1] or [N, C, 1, 1]). */
export function aconCComposed(x: tf.Tensor, p1: tf.Tensor, p2: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const d = tf.mul(tf.sub(p1, p2), x);
  return tf.add(tf.mul(d, tf.sigmoid(tf.mul(beta, d))), tf.mul(p2, x));
}

/** Trainable tensors of Meta-ACON-C: p1, p2 [C]; w1 [R, C], b1 [R]; g1, be1 [R]; w2 [C, R], b2 [C]; g2, be2 [C]. */
export interface MetaComposedParams {
  p1: tf.Tensor;
  p2: tf.Tensor;
  w1: tf.Tensor;
  b1: tf.Tensor;
  g1: tf.Tensor;
  be1: tf.Tensor;
  w2: tf.Tensor;
  b2: tf.Tensor;
  g2: tf.Tensor;
  be2: tf.Tensor;
}

/** Running statistics (used in eval mode). */
export interface MetaComposedRunning {
  rm1: tf.Tensor;
  rv1: tf.Tensor;
  rm2: tf.Tensor;
  rv2: tf.Tensor;
}

/** Batch norm over axis 0 of [N, F]: batch statistics (biased variance) in training, running ones in eval. */
export function batchNormComposed(
  h: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor,
  rm: tf.Tensor,
  rv: tf.Tensor,
  training: boolean,
): tf.Tensor {
  const mean = training ? tf.mean(h, 0) : rm;
  const variance = training ? tf.mean(tf.square(tf.sub(h, mean)), 0) : rv;
  return tf.add(tf.mul(g, tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, BN_EPS)))), b);
}

/** β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) as [N, C, 1, 1]. */
export function metaBetaComposed(
  x: tf.Tensor4D,
  t: MetaComposedParams,
  running: MetaComposedRunning,
  training: boolean,
): tf.Tensor {
  const [N, C] = x.shape;
  const m = tf.mean(x, [2, 3]);
  const h1 = tf.add(tf.matMul(m, t.w1, false, true), t.b1);
  const a1 = batchNormComposed(h1, t.g1, t.be1, running.rm1, running.rv1, training);
  const h2 = tf.add(tf.matMul(a1, t.w2, false, true), t.b2);
  return tf.reshape(tf.sigmoid(batchNormComposed(h2, t.g2, t.be2, running.rm2, running.rv2, training)), [N, C, 1, 1]);
}

/** Meta-ACON-C on NCHW x. */
export function metaAconCComposed(
  x: tf.Tensor4D,
  t: MetaComposedParams,
  running: MetaComposedRunning,
  training: boolean,
): tf.Tensor {
  const C = x.shape[1];
  const beta = metaBetaComposed(x, t, running, training);
  return aconCComposed(x, tf.reshape(t.p1, [1, C, 1, 1]), tf.reshape(t.p2, [1, C, 1, 1]), beta);
}
