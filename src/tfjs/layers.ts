/**
 * ACON layers holding tf.Variables, for plain tfjs-core training loops (tf.train optimizers).
 * Init as the seed: p1, p2 ~ N(0, 1), β = 1; Meta-ACON's 1×1 convs as PyTorch
 * (U(±1/√fan_in) for weight and bias) and batch norm (1, 0; running 0, 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { rng, normal, uniform } from '../ops/random';
import { aconC, metaAconC, type DataFormat, type Impl, type MetaAconCTensors } from './ops';

/** A variable from host data; tidy frees the initial tensor (the variable keeps its data). */
const variable = (data: Float32Array, shape: number[], name: string, trainable = true) =>
  tf.tidy(() => tf.variable(tf.tensor(data, shape), trainable, name));

let layerId = 0;

/** ACON-C(width): p1, p2, β of shape [1, C, 1, 1]. */
export class AconCLayer {
  readonly p1: tf.Variable;
  readonly p2: tf.Variable;
  readonly beta: tf.Variable;

  constructor(
    readonly width: number,
    seed = 0,
  ) {
    const r = rng(seed);
    const id = `acon_c_${layerId++}`;
    this.p1 = variable(normal(r, width), [1, width, 1, 1], `${id}/p1`);
    this.p2 = variable(normal(r, width), [1, width, 1, 1], `${id}/p2`);
    this.beta = variable(new Float32Array(width).fill(1), [1, width, 1, 1], `${id}/beta`);
  }

  apply(x: tf.Tensor, dataFormat: DataFormat = 'NCHW', impl: Impl = 'auto'): tf.Tensor {
    return aconC(x, this.p1, this.p2, this.beta, { dataFormat, impl });
  }

  get trainableWeights(): tf.Variable[] {
    return [this.p1, this.p2, this.beta];
  }

  get paramCount(): number {
    return 3 * this.width;
  }

  dispose(): void {
    tf.dispose(this.trainableWeights);
  }
}

/** Meta-ACON-C(width, r = 16): hidden width max(r, ⌊width/r⌋). */
export class MetaAconCLayer {
  readonly hidden: number;
  readonly params: MetaAconCTensors;

  constructor(
    readonly width: number,
    readonly r = 16,
    seed = 0,
  ) {
    const R = (this.hidden = Math.max(r, Math.floor(width / r)));
    const rand = rng(seed);
    const id = `meta_acon_c_${layerId++}`;
    const conv = (inF: number, outF: number, name: string) => {
      const b = 1 / Math.sqrt(inF);
      return { weight: variable(uniform(rand, outF * inF, -b, b), [outF, inF, 1, 1], `${id}/${name}.weight`), bias: variable(uniform(rand, outF, -b, b), [outF], `${id}/${name}.bias`) };
    };
    const bn = (f: number, name: string) => ({
      weight: variable(new Float32Array(f).fill(1), [f], `${id}/${name}.weight`),
      bias: variable(new Float32Array(f), [f], `${id}/${name}.bias`),
      runningMean: variable(new Float32Array(f), [f], `${id}/${name}.running_mean`, false),
      runningVar: variable(new Float32Array(f).fill(1), [f], `${id}/${name}.running_var`, false),
    });
    const p1 = variable(normal(rand, width), [1, width, 1, 1], `${id}/p1`);
    const p2 = variable(normal(rand, width), [1, width, 1, 1], `${id}/p2`);
    this.params = { p1, p2, fc1: conv(width, R, 'fc1'), bn1: bn(R, 'bn1'), fc2: conv(R, width, 'fc2'), bn2: bn(width, 'bn2') };
  }

  apply(x: tf.Tensor, options: { training: boolean; dataFormat?: DataFormat; impl?: Impl }): tf.Tensor {
    return metaAconC(x, this.params, options);
  }

  get trainableWeights(): tf.Variable[] {
    const p = this.params;
    return [p.p1, p.p2, p.fc1.weight, p.fc1.bias, p.bn1.weight, p.bn1.bias, p.fc2.weight, p.fc2.bias, p.bn2.weight, p.bn2.bias] as tf.Variable[];
  }

  get nonTrainableWeights(): tf.Variable[] {
    const p = this.params;
    return [p.bn1.runningMean, p.bn1.runningVar, p.bn2.runningMean, p.bn2.runningVar];
  }

  get paramCount(): number {
    return this.trainableWeights.reduce((a, v) => a + v.size, 0);
  }

  dispose(): void {
    tf.dispose([...this.trainableWeights, ...this.nonTrainableWeights]);
  }
}
