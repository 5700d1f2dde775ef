/**
 * ACON-C as a tf.layers layer: y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x with p1, p2, β learnable per
 * channel. On the webgpu backend it runs our fused kernels inside the backend's command stream;
 * elsewhere (or with impl: 'composed') the same formula in tfjs primitives.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { aconC } from '../tfjs/ops';
import {
  checkShape,
  checkTensor,
  dataFormatOf,
  single,
  validateDataFormat,
  validateImpl,
  validateSeed,
  type BaseLayerArgs,
  type LayerDataFormat,
  type Impl,
  type Kwargs,
  type LayerShape,
} from './common';

export interface AconCArgs extends BaseLayerArgs {
  /** 'channelsLast' (NHWC, default, as tf.layers) or 'channelsFirst' (NCHW, as PyTorch). */
  dataFormat?: LayerDataFormat;
  /**
   * 'auto' (default): our kernels on the webgpu backend, tfjs primitives elsewhere; 'composed':
   * tfjs primitives always (the baseline). Part of the config, so it survives save/load.
   */
  impl?: Impl;
  /** Seeds p1's N(0, 1) init (p2 takes seed + 1), for replayable models; random when absent. */
  seed?: number | null;
}

/** The one input shape of a single-input layer. */
export function oneShape(inputShape: tfl.Shape | tfl.Shape[], layer: string): LayerShape {
  if (inputShape.length > 0 && Array.isArray(inputShape[0])) return single(inputShape as tfl.Shape[], layer);
  return inputShape as tfl.Shape;
}

/**
 * ACON-C per channel. Weights (shape [C], C = the input's channel count, taken in build): `p1`,
 * `p2` ~ N(0, 1) and `beta` = 1, as the paper's module initialises them. Output shape = input shape.
 *
 * ```ts
 * const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 64, kernelSize: 3 }), new AconC()] });
 * ```
 */
export class AconC extends tfl.layers.Layer {
  static className = 'AconC';
  readonly dataFormat: LayerDataFormat;
  readonly impl: Impl;
  readonly seed: number | null;
  /** Set by build: [C] each. */
  p1: tfl.LayerVariable | null = null;
  p2: tfl.LayerVariable | null = null;
  beta: tfl.LayerVariable | null = null;

  constructor(args: AconCArgs = {}) {
    super(args);
    this.dataFormat = validateDataFormat('AconC', args.dataFormat);
    this.impl = validateImpl('AconC', args.impl);
    this.seed = validateSeed(this.getClassName(), args.seed);
  }

  /** The channel count the weights were built for (null before build). */
  get channels(): number | null {
    return this.p1 ? this.p1.shape[0]! : null;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const c = checkShape('AconC', oneShape(inputShape, 'AconC'), this.dataFormat, null);
    const normal = (k: number) =>
      tfl.initializers.randomNormal({ mean: 0, stddev: 1, ...(this.seed === null ? {} : { seed: this.seed + k }) });
    this.p1 = this.addWeight('p1', [c], 'float32', normal(0));
    this.p2 = this.addWeight('p2', [c], 'float32', normal(1));
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.ones());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = oneShape(inputShape, 'AconC');
    checkShape('AconC', shape, this.dataFormat, this.channels);
    return [...shape];
  }

  /** Checks a concrete input before tf.layers builds anything, so a bad one leaves no weights or tensors behind. */
  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[],
    kwargs?: Kwargs,
  ): tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[] {
    const x = single<unknown>(inputs, 'AconC');
    if (!(x instanceof tfl.SymbolicTensor)) checkTensor('AconC', x, this.dataFormat, this.channels);
    return super.apply(inputs, kwargs);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = checkTensor('AconC', single(inputs, 'AconC'), this.dataFormat, this.channels);
    return aconC(x, this.p1!.read(), this.p2!.read(), this.beta!.read(), {
      dataFormat: dataFormatOf(this.dataFormat),
      impl: this.impl,
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dataFormat: this.dataFormat, impl: this.impl, seed: this.seed };
  }
}

tf.serialization.registerClass(AconC);
