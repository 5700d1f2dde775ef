// ACON-C from tfjs primitives, exactly as the paper and the PyTorch module write it: the tfjs op's
// fallback (other backends, impl 'composed'), the bench's tfjs-composed rows, and the independent
// check of the reference (tf.grads gives its gradients). Only tfjs's types are imported: `tf` is
// handed in, so the main entry stays free of tfjs.
import type * as TF from '@tensorflow/tfjs-core';
import type { DataFormat } from '../../core/types';
import type { Composed } from '../types';
import type { aconCParams } from './params';

/** y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x; p1, p2, β broadcast against x ([1, C, 1, 1] or [N, C, 1, 1]). */
export function aconCFormula(tf: typeof TF, x: TF.Tensor, p1: TF.Tensor, p2: TF.Tensor, beta: TF.Tensor): TF.Tensor {
  const d = tf.mul(tf.sub(p1, p2), x);
  return tf.add(tf.mul(d, tf.sigmoid(tf.mul(beta, d))), tf.mul(p2, x));
}

/** A [C] or [N·C] parameter (any shape of that size) reshaped to broadcast against x in its layout. */
export function broadcastable(tf: typeof TF, t: TF.Tensor, n: number, c: number, f: DataFormat): TF.Tensor {
  const lead = t.size === c ? 1 : n;
  return tf.reshape(t, f === 'NCHW' ? [lead, c, 1, 1] : [lead, 1, 1, c]);
}

/** ACON-C's y with p1, p2 of C values and β of C or N·C, on x in either layout. */
export const aconCComposed: Composed<typeof aconCParams> = (tf, x, p, o) => {
  const [n, c, f] = [o.dims.N!, o.dims.C!, o.dataFormat];
  return aconCFormula(
    tf,
    x,
    broadcastable(tf, p.p1, n, c, f),
    broadcastable(tf, p.p2, n, c, f),
    broadcastable(tf, p.beta, n, c, f),
  );
};
