/**
 * The library's core vocabulary, one definition each: a tensor's shape and data format, and the
 * geometry every kernel planner takes. Imports nothing. (The float64 references,
 * src/activations/<name>/reference.ts, keep structurally identical types of their own: they import
 * nothing of ours.)
 */

/** Memory layout of a 4D tensor, named as tf.conv2d names it: channels-first 'NCHW' or channels-last 'NHWC'. */
export type DataFormat = 'NCHW' | 'NHWC';

/** A tensor shape [N, C, H, W] (logical: the channel axis second whatever the data format). */
export type Shape4 = readonly [number, number, number, number];

/** Geometry of one kernel call: a [N, C, H, W] float32 tensor stored in `dataFormat`. */
export interface Geometry {
  n: number;
  c: number;
  h: number;
  w: number;
  dataFormat: DataFormat;
}
