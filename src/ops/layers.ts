import { OptionError, StateDictError } from '../gpu/errors';
import { metaHiddenWidth } from '../activations/metaAconC/params';
import type { AconCGrads, AconCOptions } from './aconC';
import type { AconGPU } from './aconGPU';
import type { MetaAconCGrads, MetaAconCOptions, MetaAconCParams } from './metaAconC';
import { normal, rng, uniform } from './random';
import type { Shape4 } from '../core/types';

/** A tensor of a state dict: its shape and float32 data, as PyTorch and Paddle save them. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Record<string, StateTensor>;

/** Loaders also take plain arrays (length checked, shape not). */
export type StateDictInput = Record<string, StateTensor | Float32Array | number[]>;

export { metaHiddenWidth };

const CHANNEL_SHAPE = (c: number) => [1, c, 1, 1];

/** A constructor's count argument (width, r): a positive integer, else an OptionError with expected and actual. */
function checkCount(layer: string, name: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new OptionError(
      `${layer}: ${name} is not a positive integer`,
      'a positive integer',
      JSON.stringify(v) ?? String(v),
    );
}

/** A seed: an integer (it seeds a 32-bit generator). */
function checkSeed(layer: string, v: unknown): void {
  if (!Number.isSafeInteger(v))
    throw new OptionError(`${layer}: seed is not an integer`, 'an integer', JSON.stringify(v) ?? String(v));
}

function take(dict: StateDictInput, names: string[], shape: number[]): Float32Array {
  const name = names.find((n) => n in dict);
  if (name === undefined)
    throw new StateDictError(`state dict has no entry ${names.join(' or ')}`, names.join(' or '), 'no such key');
  const v = dict[name]!;
  const size = shape.reduce((a, b) => a * b, 1);
  if (v instanceof Float32Array || Array.isArray(v)) {
    if (v.length !== size)
      throw new StateDictError(
        `${name} has the wrong number of values`,
        `${size} values (shape [${shape}])`,
        `${v.length}`,
      );
    return Float32Array.from(v);
  }
  const ok = v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i]);
  // a [C] vector saved for a [1, C, 1, 1] parameter (or the reverse) is accepted: same values
  const squeezed = (s: number[]) => s.filter((d) => d !== 1).join(',');
  if (!ok && squeezed(v.shape) !== squeezed(shape)) {
    throw new StateDictError(`${name} has the wrong shape`, `[${shape.join(', ')}]`, `[${v.shape.join(', ')}]`);
  }
  if (v.data.length !== size)
    throw new StateDictError(`${name} has the wrong number of values`, `${size}`, `${v.data.length}`);
  return Float32Array.from(v.data);
}

/**
 * ACON-C layer with p1, p2, β of shape [1, C, 1, 1]. Init as the seed: p1, p2 ~ N(0, 1) (seeded),
 * β = 1.
 */
export class AconC {
  p1: Float32Array;
  p2: Float32Array;
  beta: Float32Array;

  constructor(
    readonly width: number,
    seed = 0,
  ) {
    checkCount('AconC', 'width', width);
    checkSeed('AconC', seed);
    const r = rng(seed);
    this.p1 = normal(r, width);
    this.p2 = normal(r, width);
    this.beta = new Float32Array(width).fill(1);
  }

  forward(acon: AconGPU, x: Float32Array, shape: Shape4, options?: AconCOptions): Promise<Float32Array> {
    return acon.aconCForward(x, shape, this, options);
  }

  backward(
    acon: AconGPU,
    x: Float32Array,
    dy: Float32Array,
    shape: Shape4,
    options?: AconCOptions,
  ): Promise<AconCGrads> {
    return acon.aconCBackward(x, dy, shape, this, options);
  }

  stateDict(): StateDict {
    const s = CHANNEL_SHAPE(this.width);
    return {
      p1: { shape: s, data: this.p1.slice() },
      p2: { shape: s, data: this.p2.slice() },
      beta: { shape: s, data: this.beta.slice() },
    };
  }

  loadStateDict(dict: StateDictInput): void {
    const s = CHANNEL_SHAPE(this.width);
    const [p1, p2, beta] = [take(dict, ['p1'], s), take(dict, ['p2'], s), take(dict, ['beta'], s)];
    Object.assign(this, { p1, p2, beta });
  }
}

/**
 * Meta-ACON-C layer (MetaAconC(width, r = 16) of the seed): β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))).
 * Init follows PyTorch: p1, p2 ~ N(0, 1) (seeded); the 1×1 convs' weight and bias
 * ~ U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5, fan_in = input channels); batch norm
 * weight 1, bias 0, running mean 0, running variance 1.
 */
export class MetaAconC {
  readonly hidden: number;
  params: MetaAconCParams;
  /** Forward calls in training mode (PyTorch's bn*.num_batches_tracked). */
  batchesTracked = 0;

  constructor(
    readonly width: number,
    readonly r = 16,
    seed = 0,
  ) {
    checkCount('MetaAconC', 'width', width);
    checkCount('MetaAconC', 'r', r);
    checkSeed('MetaAconC', seed);
    const R = (this.hidden = metaHiddenWidth(width, r));
    const rand = rng(seed);
    const conv = (inF: number, outF: number) => {
      const b = 1 / Math.sqrt(inF);
      return { weight: uniform(rand, outF * inF, -b, b), bias: uniform(rand, outF, -b, b) };
    };
    const bn = (f: number) => ({
      weight: new Float32Array(f).fill(1),
      bias: new Float32Array(f),
      runningMean: new Float32Array(f),
      runningVar: new Float32Array(f).fill(1),
    });
    const p1 = normal(rand, width);
    const p2 = normal(rand, width);
    this.params = { p1, p2, fc1: conv(width, R), bn1: bn(R), fc2: conv(R, width), bn2: bn(width) };
  }

  /** y = Meta-ACON-C(x); in training mode the running statistics move (N ≥ 2 required). */
  async forward(acon: AconGPU, x: Float32Array, shape: Shape4, options: MetaAconCOptions): Promise<Float32Array> {
    const r = await acon.metaAconCForward(x, shape, this.params, options);
    if (options.training) {
      this.params.bn1 = { ...this.params.bn1, ...r.bn1 };
      this.params.bn2 = { ...this.params.bn2, ...r.bn2 };
      this.batchesTracked++;
    }
    return r.y;
  }

  backward(
    acon: AconGPU,
    x: Float32Array,
    dy: Float32Array,
    shape: Shape4,
    options: MetaAconCOptions,
  ): Promise<MetaAconCGrads> {
    return acon.metaAconCBackward(x, dy, shape, this.params, options);
  }

  /** Names and shapes as PyTorch saves them (p1 [1, C, 1, 1], fc1.weight [R, C, 1, 1], …). */
  stateDict(): StateDict {
    const C = this.width;
    const R = this.hidden;
    const p = this.params;
    const t = (shape: number[], data: Float32Array) => ({ shape, data: data.slice() });
    const dict: StateDict = {
      p1: t(CHANNEL_SHAPE(C), p.p1),
      p2: t(CHANNEL_SHAPE(C), p.p2),
      'fc1.weight': t([R, C, 1, 1], p.fc1.weight),
      'fc1.bias': t([R], p.fc1.bias),
      'fc2.weight': t([C, R, 1, 1], p.fc2.weight),
      'fc2.bias': t([C], p.fc2.bias),
    };
    for (const [name, f] of [
      ['bn1', R],
      ['bn2', C],
    ] as const) {
      const s = p[name];
      dict[`${name}.weight`] = t([f], s.weight);
      dict[`${name}.bias`] = t([f], s.bias);
      dict[`${name}.running_mean`] = t([f], s.runningMean);
      dict[`${name}.running_var`] = t([f], s.runningVar);
    }
    return dict;
  }

  /**
   * Loads PyTorch names, or Paddle's (`bn*._mean`, `bn*._variance`); checks every shape and
   * replaces nothing unless every entry is valid. `num_batches_tracked` entries are ignored.
   */
  loadStateDict(dict: StateDictInput): void {
    const C = this.width;
    const R = this.hidden;
    const bn = (name: string, f: number) => ({
      weight: take(dict, [`${name}.weight`], [f]),
      bias: take(dict, [`${name}.bias`], [f]),
      runningMean: take(dict, [`${name}.running_mean`, `${name}._mean`], [f]),
      runningVar: take(dict, [`${name}.running_var`, `${name}._variance`], [f]),
    });
    const params: MetaAconCParams = {
      p1: take(dict, ['p1'], CHANNEL_SHAPE(C)),
      p2: take(dict, ['p2'], CHANNEL_SHAPE(C)),
      fc1: { weight: take(dict, ['fc1.weight'], [R, C, 1, 1]), bias: take(dict, ['fc1.bias'], [R]) },
      bn1: bn('bn1', R),
      fc2: { weight: take(dict, ['fc2.weight'], [C, R, 1, 1]), bias: take(dict, ['fc2.bias'], [C]) },
      bn2: bn('bn2', C),
    };
    this.params = params;
  }
}
