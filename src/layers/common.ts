/**
 * What the ACON layers share: tf.layers' data-format names mapped to the ops' layouts, the types of
 * the Layer API, and the input checks that run before a layer builds or calls anything, so a bad
 * input throws a typed error synchronously and leaves no tensor behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BatchSizeError, DTypeError, OptionError, ShapeError } from '../gpu/errors';
import type { DataFormat, Shape4 } from '../core/types';
import type { Impl } from '../tfjs/op';

/**
 * tf.layers' names for the two data formats: 'channelsLast' = NHWC (the default), 'channelsFirst' =
 * NCHW. (acon-webgpu/layers exports it as DataFormat too, its name there before; the ops' DataFormat is
 * 'NCHW' | 'NHWC'.)
 */
export type LayerDataFormat = 'channelsLast' | 'channelsFirst';
export type { Impl };

/** The op's data format for a tf.layers data format. */
export const dataFormatOf = (f: LayerDataFormat): DataFormat => (f === 'channelsFirst' ? 'NCHW' : 'NHWC');

/** tf.layers' LayerArgs (name, trainable, inputShape, batchInputShape, dtype, …), without a deep import. */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
/** The keyword arguments tf.layers passes to apply/call (`training` among them). */
export type Kwargs = Parameters<tfl.layers.Layer['call']>[1];
/** A shape with null for unknown dimensions (the batch), as tf.layers passes to build. */
export type LayerShape = (number | null)[];

/** A seed option: an integer, or null / absent for a random init. */
export function validateSeed(layer: string, seed: unknown): number | null {
  if (seed === undefined || seed === null) return null;
  if (!Number.isSafeInteger(seed))
    throw new OptionError(
      `${layer}: seed is not an integer`,
      'an integer or null',
      JSON.stringify(seed) ?? String(seed),
    );
  return seed as number;
}

/** Checks a config value against its allowed values (a typo there must not silently fall back). */
export function checkOption<T extends string>(layer: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new OptionError(
      `${layer}: ${name} is not one of the allowed values`,
      allowed.map((a) => `'${a}'`).join(' or '),
      JSON.stringify(value),
    );
  }
  return value as T;
}

export function validateDataFormat(layer: string, value: unknown): LayerDataFormat {
  return checkOption(layer, 'dataFormat', value ?? 'channelsLast', ['channelsLast', 'channelsFirst'] as const);
}

export function validateImpl(layer: string, value: unknown): Impl {
  return checkOption(layer, 'impl', value ?? 'auto', ['auto', 'composed'] as const);
}

/** The one input shape of a single-input layer. */
export function oneShape(inputShape: tfl.Shape | tfl.Shape[], layer: string): LayerShape {
  if (inputShape.length > 0 && Array.isArray(inputShape[0])) return single(inputShape as tfl.Shape[], layer);
  return inputShape as tfl.Shape;
}

/** The one input of a single-input layer (tf.layers hands apply/call an array from inside a model). */
export function single<T>(inputs: T | T[], layer: string): T {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1)
    throw new ShapeError(`${layer} takes exactly one input`, '1 input', `${inputs.length} inputs`);
  return inputs[0]!;
}

const fmt = (s: LayerShape) => `[${s.map((d) => (d === null ? 'null' : d)).join(', ')}]`;

/**
 * Checks a 4D shape and returns its channel count. `channels` is the count the layer's weights were
 * built for (null before build). When the channel axis disagrees but the other layout's channel
 * axis matches, the message says the data looks like the other layout.
 */
export function checkShape(layer: string, shape: LayerShape, format: LayerDataFormat, channels: number | null): number {
  if (shape.length !== 4) {
    const layout = format === 'channelsLast' ? '[N, H, W, C] (channelsLast)' : '[N, C, H, W] (channelsFirst)';
    throw new ShapeError(`${layer} takes 4D input ${layout}`, 'rank 4', `rank ${shape.length} ${fmt(shape)}`);
  }
  const axis = format === 'channelsLast' ? 3 : 1;
  const other = format === 'channelsLast' ? 1 : 3;
  const c = shape[axis];
  if (c === null || c === undefined || c < 1) {
    throw new ShapeError(
      `${layer}: the channel dimension (axis ${axis}, ${format}) must be known`,
      'a positive channel count',
      fmt(shape),
    );
  }
  if (channels !== null && c !== channels) {
    const hint =
      shape[other] === channels
        ? `; it looks ${format === 'channelsLast' ? 'channels-first (NCHW)' : 'channels-last (NHWC)'}: build the layer with dataFormat: '${format === 'channelsLast' ? 'channelsFirst' : 'channelsLast'}' for such data`
        : '';
    throw new ShapeError(
      `${layer} was built for ${channels} channels on axis ${axis} (${format})${hint}`,
      `${channels} channels on axis ${axis}`,
      `${c} in ${fmt(shape)}`,
    );
  }
  return c;
}

/**
 * Checks a concrete input before anything is built or computed: a float32 4D tf.Tensor whose
 * channels match the weights, and, where a training call needs batch statistics, at least two values
 * per channel to normalise over (`batch`, of x's logical [N, C, H, W]: N, or ACON-FReLU's N·Ho·Wo).
 */
export function checkTensor(
  layer: string,
  x: unknown,
  format: LayerDataFormat,
  channels: number | null,
  batch?: (shape: Shape4) => { name: string; count: number },
): tf.Tensor {
  if (!(x instanceof tf.Tensor))
    throw new DTypeError(`${layer} takes a tf.Tensor`, 'tf.Tensor', x === null ? 'null' : typeof x);
  if (x.dtype !== 'float32') throw new DTypeError(`${layer} takes float32 input`, 'float32', x.dtype);
  checkShape(layer, x.shape, format, channels);
  if (batch) {
    const [n, a, b, c] = x.shape as Shape4;
    const { name, count } = batch(format === 'channelsLast' ? [n, c, a, b] : [n, a, b, c]);
    if (count < 2)
      throw new BatchSizeError(
        `${layer} in training mode normalises with batch statistics, which need at least 2 ${name === 'N' ? 'samples' : `values per channel (${name})`} (as PyTorch and Keras refuse too); call it with training: false for single samples`,
        `${name} ≥ 2 in training mode`,
        `${name} = ${count}`,
      );
  }
  return x;
}

/** True when tf.layers asks for training-mode behaviour (model.fit passes training: true). */
export const isTraining = (kwargs: Kwargs | undefined): boolean => kwargs?.['training'] === true;
