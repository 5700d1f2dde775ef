/**
 * acon-webgpu/tfjs: ACON for TensorFlow.js. Import once; on the webgpu backend the ops run our
 * fused kernels on the backend's device, elsewhere the same formulas in tfjs primitives.
 * Needs only @tensorflow/tfjs-core; the tf.layers layers and models are in acon-webgpu/layers.
 *
 * Every registered activation has its op in `ops` (ops.aconC, ops.metaAconC, …: (x, params as its
 * tree of tensors, options)); `tfjsOp(declaration)` makes one for any declaration. aconC and
 * metaAconC are kept by name with their signatures.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { ACTIVATIONS, type Registered } from '../activations/registry';
import type { aconC as aconCDecl } from '../activations/aconC/declaration';
import type { metaAconC as metaAconCDecl } from '../activations/metaAconC/declaration';
import type { aconFReLU as aconFReLUDecl } from '../activations/aconFRelu/declaration';
import { tfjsOp, type DataFormat, type Impl, type TensorsOf, type TfjsOp } from './op';

export { tfjsOp, type DataFormat, type Impl, type TensorsOf, type TfjsOp, type TfjsOptionsOf } from './op';
export { aconCComposed, metaAconCComposed, batchNormComposed } from './composed';

/** The op of every registered activation, by name. */
export const ops = Object.fromEntries(ACTIVATIONS.map((a) => [a.name, tfjsOp(a)])) as {
  [A in Registered as A['name']]: TfjsOp<A>;
};

/** Meta-ACON-C's parameters as tfjs tensors; running statistics are Variables (training updates them). */
export type MetaAconCTensors = TensorsOf<typeof metaAconCDecl>;
/** ACON-C's parameters as tfjs tensors: p1, p2 (C values), β (C, or N·C per sample). */
export type AconCTensors = TensorsOf<typeof aconCDecl>;

/**
 * ACON-C on a 4D float32 tensor, NHWC by default (`dataFormat: 'NCHW'` for channels-first).
 * p1, p2: C values (any shape, e.g. [C] or [1, 1, 1, C]); β: C values, or N·C for a per-sample β.
 * Differentiable in all four.
 */
export function aconC(
  x: tf.Tensor,
  p1: tf.Tensor,
  p2: tf.Tensor,
  beta: tf.Tensor,
  options?: { dataFormat?: DataFormat; impl?: Impl },
): tf.Tensor {
  return ops.aconC(x, { p1, p2, beta }, options);
}

/**
 * Meta-ACON-C on a 4D float32 tensor: β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) per sample and channel.
 * fc1.weight has R·C values ([R, C] or [R, C, 1, 1]), fc2.weight C·R. Differentiable in x and every
 * trainable parameter; in training mode (N ≥ 2) the running statistics move.
 */
export const metaAconC: (
  x: tf.Tensor,
  p: MetaAconCTensors,
  options: { training: boolean; dataFormat?: DataFormat; impl?: Impl },
) => tf.Tensor = ops.metaAconC;

/** ACON-FReLU's parameters as tfjs tensors: convFrelu { weight (9·C values), bias }, bn1, bn2 (running statistics: Variables). */
export type AconFReLUTensors = TensorsOf<typeof aconFReLUDecl>;

/**
 * ACON-FReLU (TFNet's activation) on a 4D float32 tensor, NHWC by default: y = BN2((x1 − x2)·σ(x1 −
 * x2) + x2), x2 = BN1(depthwise 3×3 conv of x + bias), x1 = x, or at `stride` 2 the 3×3 max pool of x
 * (y is then [N, ⌊(H − 1)/2⌋ + 1, ⌊(W − 1)/2⌋ + 1, C]). Differentiable in x and every trainable
 * parameter; in training mode the batch's statistics normalise and the running statistics move.
 */
export const aconFReLU: (
  x: tf.Tensor,
  p: AconFReLUTensors,
  options: { training: boolean; stride?: 1 | 2; dataFormat?: DataFormat; impl?: Impl },
) => tf.Tensor = ops.aconFReLU;
