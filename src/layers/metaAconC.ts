/**
 * Meta-ACON-C as a tf.layers layer: ACON-C whose β is generated per sample and channel from the
 * input, β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))), with 1×1 convolutions C → R → C,
 * R = max(r, ⌊C/r⌋). Batch norm as PyTorch's: batch statistics in training calls (model.fit) and
 * the running statistics in inference calls (model.predict); training calls move the running
 * statistics (momentum 0.1, unbiased variance, ε = 1e-5).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormComposed } from '../tfjs/composed';
import { metaAconC, type MetaAconCTensors } from '../tfjs/ops';
import { OptionError } from '../gpu/errors';
import { metaHiddenWidth } from '../activations/metaAconC/params';
import { oneShape } from './aconC';
import {
  checkShape,
  checkTensor,
  isTraining,
  dataFormatOf,
  single,
  validateDataFormat,
  validateImpl,
  validateSeed,
  type BaseLayerArgs,
  type LayerDataFormat,
  type Impl,
  type Kwargs,
} from './common';

export interface MetaAconCArgs extends BaseLayerArgs {
  /** 'channelsLast' (NHWC, default, as tf.layers) or 'channelsFirst' (NCHW, as PyTorch). */
  dataFormat?: LayerDataFormat;
  /** Reduction ratio of the β generator: hidden width R = max(r, ⌊C/r⌋). Default 16. */
  r?: number;
  /** 'auto' (default) or 'composed' (tfjs primitives always). Part of the config, so it survives save/load. */
  impl?: Impl;
  /** Seeds the random inits (p1, p2, fc1, fc2) for replayable models; random when absent. */
  seed?: number | null;
}

interface Conv1x1 {
  weight: tfl.LayerVariable;
  bias: tfl.LayerVariable;
}
interface BatchNorm {
  weight: tfl.LayerVariable;
  bias: tfl.LayerVariable;
  runningMean: tfl.LayerVariable;
  runningVar: tfl.LayerVariable;
}

/**
 * Meta-ACON-C. Weights, named as the PyTorch module's state_dict keys (shapes without PyTorch's
 * unit dimensions, the same values in the same order):
 * - `p1`, `p2` [C] ~ N(0, 1)
 * - `fc1.weight` [R, C] (out × in, PyTorch's [R, C, 1, 1]), `fc1.bias` [R]: U(±1/√C) as PyTorch's conv init
 * - `bn1.weight` [R] = 1, `bn1.bias` [R] = 0; non-trainable `bn1.running_mean` [R] = 0, `bn1.running_var` [R] = 1
 * - `fc2.weight` [C, R], `fc2.bias` [C]: U(±1/√R); `bn2.*` [C] as bn1
 *
 * In a training call (model.fit, or apply(x, { training: true })) it needs N ≥ 2 (BatchSizeError otherwise).
 */
export class MetaAconC extends tfl.layers.Layer {
  static className = 'MetaAconC';
  readonly dataFormat: LayerDataFormat;
  readonly r: number;
  readonly impl: Impl;
  readonly seed: number | null;
  /** Set by build. */
  p1: tfl.LayerVariable | null = null;
  p2: tfl.LayerVariable | null = null;
  fc1: Conv1x1 | null = null;
  bn1: BatchNorm | null = null;
  fc2: Conv1x1 | null = null;
  bn2: BatchNorm | null = null;

  constructor(args: MetaAconCArgs = {}) {
    super(args);
    this.dataFormat = validateDataFormat('MetaAconC', args.dataFormat);
    this.impl = validateImpl('MetaAconC', args.impl);
    const r = args.r ?? 16;
    if (!Number.isInteger(r) || r < 1)
      throw new OptionError(
        'MetaAconC: r (the reduction of the hidden width) is not a positive integer',
        'a positive integer',
        JSON.stringify(args.r),
      );
    this.r = r;
    this.seed = validateSeed(this.getClassName(), args.seed);
  }

  /** The channel count the weights were built for (null before build). */
  get channels(): number | null {
    return this.p1 ? this.p1.shape[0]! : null;
  }

  /** The β generator's hidden width R (null before build). */
  get hidden(): number | null {
    return this.fc1 ? this.fc1.bias.shape[0]! : null;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const c = checkShape('MetaAconC', oneShape(inputShape, 'MetaAconC'), this.dataFormat, null);
    const R = metaHiddenWidth(c, this.r);
    const seed = (k: number) => (this.seed === null ? {} : { seed: this.seed + k });
    const normal = (k: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 1, ...seed(k) });
    const uniform = (fanIn: number, k: number) =>
      tfl.initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn), ...seed(k) });
    const conv = (name: string, cin: number, cout: number, k: number): Conv1x1 => ({
      weight: this.addWeight(`${name}.weight`, [cout, cin], 'float32', uniform(cin, k)),
      bias: this.addWeight(`${name}.bias`, [cout], 'float32', uniform(cin, k + 1)),
    });
    const bn = (name: string, f: number): BatchNorm => ({
      weight: this.addWeight(`${name}.weight`, [f], 'float32', tfl.initializers.ones()),
      bias: this.addWeight(`${name}.bias`, [f], 'float32', tfl.initializers.zeros()),
      runningMean: this.addWeight(`${name}.running_mean`, [f], 'float32', tfl.initializers.zeros(), undefined, false),
      runningVar: this.addWeight(`${name}.running_var`, [f], 'float32', tfl.initializers.ones(), undefined, false),
    });
    this.p1 = this.addWeight('p1', [c], 'float32', normal(0));
    this.p2 = this.addWeight('p2', [c], 'float32', normal(1));
    this.fc1 = conv('fc1', c, R, 2);
    this.bn1 = bn('bn1', R);
    this.fc2 = conv('fc2', R, c, 4);
    this.bn2 = bn('bn2', c);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = oneShape(inputShape, 'MetaAconC');
    checkShape('MetaAconC', shape, this.dataFormat, this.channels);
    return [...shape];
  }

  /** Checks a concrete input before tf.layers builds anything, so a bad one leaves no weights or tensors behind. */
  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[],
    kwargs?: Kwargs,
  ): tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[] {
    const x = single<unknown>(inputs, 'MetaAconC');
    if (!(x instanceof tfl.SymbolicTensor))
      checkTensor('MetaAconC', x, this.dataFormat, this.channels, isTraining(kwargs));
    return super.apply(inputs, kwargs);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const training = isTraining(kwargs);
    const x = checkTensor('MetaAconC', single(inputs, 'MetaAconC'), this.dataFormat, this.channels, training);
    return metaAconC(x, this.tensors(), { training, dataFormat: dataFormatOf(this.dataFormat), impl: this.impl });
  }

  /** The weights as the metaAconC op takes them (the variables themselves, not copies). */
  tensors(): MetaAconCTensors {
    if (!this.built) throw new Error('MetaAconC: the layer is not built yet (apply it to an input first)');
    const v = (w: tfl.LayerVariable) => w.read() as tf.Variable;
    const bn = (b: BatchNorm) => ({
      weight: v(b.weight),
      bias: v(b.bias),
      runningMean: v(b.runningMean),
      runningVar: v(b.runningVar),
    });
    return {
      p1: v(this.p1!),
      p2: v(this.p2!),
      fc1: { weight: v(this.fc1!.weight), bias: v(this.fc1!.bias) },
      bn1: bn(this.bn1!),
      fc2: { weight: v(this.fc2!.weight), bias: v(this.fc2!.bias) },
      bn2: bn(this.bn2!),
    };
  }

  /**
   * The generated β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) of an input, [N, C], in inference mode
   * (running statistics; nothing moves), for inspection. Written in tfjs primitives.
   */
  computeBeta(x: tf.Tensor): tf.Tensor2D {
    const t = checkTensor('MetaAconC', x, this.dataFormat, this.channels);
    const p = this.tensors();
    const [R, C] = [this.hidden!, this.channels!];
    return tf.tidy(() => {
      const m = tf.mean(t, this.dataFormat === 'channelsLast' ? [1, 2] : [2, 3]);
      const h1 = tf.add(tf.matMul(m, tf.reshape(p.fc1.weight, [R, C]), false, true), p.fc1.bias);
      const a1 = batchNormComposed(h1, p.bn1.weight, p.bn1.bias, p.bn1.runningMean, p.bn1.runningVar, false);
      const h2 = tf.add(tf.matMul(a1, tf.reshape(p.fc2.weight, [C, R]), false, true), p.fc2.bias);
      return tf.sigmoid(
        batchNormComposed(h2, p.bn2.weight, p.bn2.bias, p.bn2.runningMean, p.bn2.runningVar, false),
      ) as tf.Tensor2D;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dataFormat: this.dataFormat, r: this.r, impl: this.impl, seed: this.seed };
  }
}

tf.serialization.registerClass(MetaAconC);
