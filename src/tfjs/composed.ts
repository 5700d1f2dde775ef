/**
 * The activations written from TensorFlow.js primitives, as the paper and the PyTorch modules write
 * them: the declarations' composed forms (src/activations/<name>/composed.ts, and the β generator's
 * stages), here with tfjs bound. They serve as the independent check of the reference (tf.grads gives
 * their gradients), as the `tfjs-composed` baseline of the benchmarks, and as the fallback of the tfjs
 * ops on backends other than webgpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { aconCFormula } from '../activations/aconC/composed';
import { batchNormFormula } from '../activations/generator';
import { metaAconC } from '../activations/metaAconC/declaration';
import { paramLeaves, readLeaf } from '../activations/params';
import type { AnyActivation, ComposedOptions } from '../activations/types';
import type { DataFormat } from '../core/types';
import type { TensorsOf } from './op';

/** y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x; p1, p2, β broadcast against x ([1, C, 1, 1] or [N, C, 1, 1]). */
export function aconCComposed(x: tf.Tensor, p1: tf.Tensor, p2: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  return aconCFormula(tf, x, p1, p2, beta);
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
  return batchNormFormula(tf, h, g, b, rm, rv, training);
}

/** Options of a composed call: training mode (batch statistics; nothing moves) and x's layout (default NCHW). */
export interface ComposedCallOptions {
  training?: boolean;
  dataFormat?: DataFormat;
}

/** The composed options of a call: N and C from x, the derived dims off the parameters (R = fc1.bias's size). */
export function composedOptions(
  act: AnyActivation,
  x: tf.Tensor,
  params: object,
  options: ComposedCallOptions = {},
): ComposedOptions {
  const dataFormat = options.dataFormat ?? 'NCHW';
  const dims: Record<string, number> = { N: x.shape[0]!, C: x.shape[dataFormat === 'NCHW' ? 1 : 3]! };
  for (const [dim, d] of Object.entries(act.dims ?? {}))
    dims[dim] = (
      readLeaf(
        params,
        paramLeaves(act.params).find((l) => l.name === d.readFrom)!,
      ) as tf.Tensor
    ).size;
  const args = Object.fromEntries(act.layer.args.map((a) => [a.name, a.default]));
  return { dataFormat, training: options.training ?? false, updateRunning: false, dims, args };
}

/**
 * Meta-ACON-C on x (NCHW by default) with its parameters as the declaration's tree of tensors (the
 * tfjs op's MetaAconCTensors): batch statistics in training mode, the running ones else; nothing moves.
 */
export function metaAconCComposed(
  x: tf.Tensor,
  params: TensorsOf<typeof metaAconC>,
  options: ComposedCallOptions & { training: boolean },
): tf.Tensor {
  return metaAconC.composed.y(tf, x, params, composedOptions(metaAconC, x, params, options));
}
