// Per-channel PReLU from tfjs primitives: the tfjs op's fallback, the bench's tfjs-composed rows.
import type { Composed } from '../types';
import type { channelPreluParams } from './params';

/** y = max(x, 0) + weight·min(x, 0), weight broadcast over x's channel axis. */
export const channelPreluComposed: Composed<typeof channelPreluParams> = (tf, x, p, o) => {
  const c = o.dims.C!;
  const w = tf.reshape(p.weight, o.dataFormat === 'NCHW' ? [1, c, 1, 1] : [1, 1, 1, c]);
  return tf.add(tf.relu(x), tf.mul(w, tf.minimum(x, 0)));
};
