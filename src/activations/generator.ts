// A generator of per-sample parameters from the input (Meta-ACON's β), declared as a list of stages:
// spatialMean, conv1x1, batchNorm. Each stage kind gives its parameters (PyTorch names, shapes, inits),
// its GPU forward and backward (thin calls into src/kernels), and the tensors it writes; the generator
// derives the parameter tree, the staged forward, the backward in reverse, the debug read-back and
// the composed tfjs form (each stage's in turn: the tfjs op's fallback, the layers' computeBeta, the
// bench) from the list. Only types of tfjs here: the composed forms are handed `tf`.
import type * as TF from '@tensorflow/tfjs-core';
import type { Binding, Recorder } from '../gpu/context';
import {
  BN_EPS,
  BN_MOMENTUM,
  encodeBatchNorm,
  encodeBatchNormBackward,
  type BatchNormOptions,
} from '../kernels/batchnorm';
import { encodeConv1x1, encodeConv1x1Backward } from '../kernels/conv1x1';
import { encodeBroadcastAdd, encodePlaneMeans } from '../kernels/reduce';
import { sizeOf } from './params';
import type { ComposedOptions, Dim, KernelCall, NamedBuffer, ParamDecl, ParamTree } from './types';

/**
 * How the batch norms run: on the batch's statistics (training) or the running ones (eval), and
 * whether they move the running statistics (the training forward; never the backward, which
 * recomputes the generator).
 */
export interface GeneratorMode {
  statistics: 'batch' | 'running';
  updateRunning: boolean;
}

/** The tensors of a generator call by name: the input x, then what the stages write (temporaries). */
export type Tensors = Record<string, Binding>;
/** One stage's parameter group (or its gradients) as bindings: { weight, bias, … }. */
type Group = Readonly<Record<string, Binding>>;
/** One stage's parameter group as tfjs tensors (running statistics: tf.Variables where they move). */
type TensorGroup = Readonly<Record<string, TF.Tensor>>;

export interface Stage<P extends ParamTree = ParamTree> {
  /** Its parameter group's key ('fc1'); none for the spatial mean. */
  readonly key?: string;
  /** { [key]: its parameters }, merged into the generator's tree in stage order. */
  readonly params: P;
  readonly from: string;
  readonly to: string;
  /** The tensors it writes with their shapes: `to` first (batch norm: then its saved statistics). */
  readonly writes: readonly (readonly [name: string, shape: readonly Dim[]])[];
  forward(rec: Recorder, k: KernelCall, t: Tensors, p: Group, mode: GeneratorMode): void;
  /**
   * gin = ∂L/∂from given gout = ∂L/∂to, and the group's gradients into g. The first stage, whose
   * input is the activation's input x, adds into gin (dx, which already holds the direct part).
   */
  backward(
    rec: Recorder,
    k: KernelCall,
    t: Tensors,
    gout: Binding,
    gin: Binding,
    p: Group,
    g: Group,
    mode: GeneratorMode,
  ): void;
  /**
   * The same from tfjs primitives: `to` from t[from] and the group; in training with updateRunning,
   * it also moves the group's running statistics (tf.Variables).
   */
  composed?(tf: typeof TF, t: Readonly<Record<string, TF.Tensor>>, p: TensorGroup, o: ComposedOptions): TF.Tensor;
}

type Trainable = ParamDecl & { readonly role: 'trainable' };
type Running = ParamDecl & { readonly role: 'running' };
const dim = (k: { dims: Readonly<Record<string, number>> }, d: Dim) => (typeof d === 'number' ? d : k.dims[d]!);
const EMPTY: Group = {};

/** m[n, c] = mean over H, W of x[n, c] (the input's data format); adjoint: dx += gm/(H·W). */
export function spatialMean(io: { from: string; to: string }): Stage<Record<never, never>> {
  return {
    params: {},
    ...io,
    writes: [[io.to, ['N', 'C']]],
    forward: (rec, k, t) => encodePlaneMeans(k.ctx, rec, k.geo, { x: t[io.from]!, means: t[io.to]! }),
    backward: (rec, k, _t, gout, gin) =>
      encodeBroadcastAdd(k.ctx, rec, { ...k.geo, scale: 1 / (k.geo.h * k.geo.w) }, { v: gout, dx: gin }),
    composed: (tf, t, _p, o) => tf.mean(t[io.from]!, o.dataFormat === 'NCHW' ? [2, 3] : [1, 2]),
  };
}

/**
 * A 1×1 convolution with bias (nn.Conv2d(in, out, 1)) on [N, in] → [N, out]: weight [out, in]
 * (PyTorch [out, in, 1, 1]) and bias [out], both U(±1/√in) as PyTorch inits them.
 */
export function conv1x1<const K extends string>(
  key: K,
  io: { from: string; to: string; in: Dim; out: Dim },
): Stage<{ readonly [k in K]: { readonly weight: Trainable; readonly bias: Trainable } }> {
  const init = { kind: 'fanIn', dim: io.in } as const;
  const params = {
    weight: { shape: [io.out, io.in], torchShape: [io.out, io.in, 1, 1], role: 'trainable', init },
    bias: { shape: [io.out], role: 'trainable', init, fixture: { kind: 'uniform', lo: -0.1, hi: 0.1 } },
  } as const;
  const dims = (k: KernelCall) => ({ n: k.geo.n, in: dim(k, io.in), out: dim(k, io.out) });
  return {
    key,
    params: { [key]: params } as { readonly [k in K]: typeof params },
    from: io.from,
    to: io.to,
    writes: [[io.to, ['N', io.out]]],
    forward: (rec, k, t, p) =>
      encodeConv1x1(k.ctx, rec, dims(k), { inp: t[io.from]!, weight: p.weight!, bias: p.bias!, out: t[io.to]! }),
    backward: (rec, k, t, gout, gin, p, g) =>
      encodeConv1x1Backward(k.ctx, rec, dims(k), {
        inp: t[io.from]!,
        weight: p.weight!,
        gout,
        gin,
        gweight: g.weight!,
        gbias: g.bias!,
      }),
    composed: (tf, t, p, o) => {
      // the weight in any shape of out·in values ([out, in, 1, 1] as PyTorch's): as [out, in]
      const [rows, cols] = [dim(o, io.out), dim(o, io.in)];
      const w = p.weight!;
      const w2 = w.rank === 2 && w.shape[0] === rows && w.shape[1] === cols ? w : tf.reshape(w, [rows, cols]);
      return tf.add(tf.matMul(t[io.from]!, w2, false, true), p.bias!);
    },
  };
}

const bnOptions = (mode: GeneratorMode, sigmoid: boolean): BatchNormOptions => ({
  training: mode.statistics === 'batch',
  updateRunning: mode.updateRunning,
  sigmoid,
  eps: BN_EPS,
  momentum: BN_MOMENTUM,
});

/**
 * Batch norm over N of [N, F] (nn.BatchNorm2d(F) on [N, F, 1, 1]), then σ when `sigmoid`: weight 1,
 * bias 0, running mean 0 and variance 1 (Paddle names them _mean and _variance). Writes `to` and
 * `saved` = [μ, 1/√(σ² + ε)] (2F values) for the backward.
 */
export function batchNorm<const K extends string>(
  key: K,
  io: { from: string; to: string; saved: string; features: Dim; sigmoid?: boolean },
): Stage<{
  readonly [k in K]: {
    readonly weight: Trainable;
    readonly bias: Trainable;
    readonly runningMean: Running;
    readonly runningVar: Running;
  };
}> {
  const shape = [io.features] as const;
  const params = {
    weight: {
      shape,
      role: 'trainable',
      init: { kind: 'const', value: 1 },
      fixture: { kind: 'uniform', lo: 0.5, hi: 1.5 },
    },
    bias: { shape, role: 'trainable', init: { kind: 'const', value: 0 }, fixture: { kind: 'normal', std: 0.2 } },
    runningMean: {
      shape,
      role: 'running',
      init: { kind: 'const', value: 0 },
      fixture: { kind: 'normal', std: 0.1 },
      aliases: ['_mean'],
    },
    runningVar: {
      shape,
      role: 'running',
      init: { kind: 'const', value: 1 },
      fixture: { kind: 'uniform', lo: 0.5, hi: 2 },
      aliases: ['_variance'],
    },
  } as const;
  const sigmoid = io.sigmoid ?? false;
  const dims = (k: KernelCall, mode: GeneratorMode) => ({
    n: k.geo.n,
    features: dim(k, io.features),
    ...bnOptions(mode, sigmoid),
  });
  return {
    key,
    params: { [key]: params } as { readonly [k in K]: typeof params },
    from: io.from,
    to: io.to,
    writes: [
      [io.to, ['N', io.features]],
      [io.saved, [2, io.features]],
    ],
    forward: (rec, k, t, p, mode) =>
      encodeBatchNorm(k.ctx, rec, dims(k, mode), {
        inp: t[io.from]!,
        weight: p.weight!,
        bias: p.bias!,
        runningMean: p.runningMean!,
        runningVar: p.runningVar!,
        out: t[io.to]!,
        saved: t[io.saved]!,
      }),
    backward: (rec, k, t, gout, gin, p, g, mode) =>
      encodeBatchNormBackward(k.ctx, rec, dims(k, mode), {
        inp: t[io.from]!,
        weight: p.weight!,
        bias: p.bias!,
        saved: t[io.saved]!,
        gout,
        gin,
        gweight: g.weight!,
        gbias: g.bias!,
      }),
    composed: (tf, t, p, o) => {
      const h = t[io.from]!;
      const training = o.training;
      const a = batchNormFormula(tf, h, p.weight!, p.bias!, p.runningMean!, p.runningVar!, training);
      const out = sigmoid ? tf.sigmoid(a) : a;
      if (training && o.updateRunning) {
        const n = h.shape[0]!;
        const mean = tf.mean(h, 0);
        moveRunning(tf, p.runningMean!, p.runningVar!, mean, tf.div(tf.sum(tf.square(tf.sub(h, mean)), 0), n - 1));
      }
      return out;
    },
  };
}

/**
 * Moves a batch norm's running statistics (tf.Variables) as PyTorch does in training: momentum 0.1
 * towards the batch mean and the unbiased batch variance (each shaped as the statistic).
 */
export function moveRunning(tf: typeof TF, rm: TF.Tensor, rv: TF.Tensor, mean: TF.Tensor, unbiased: TF.Tensor): void {
  (rm as TF.Variable).assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
  (rv as TF.Variable).assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
}

/** Batch norm over axis 0 of [N, F] in tfjs primitives: the batch's statistics (biased variance) in training, else the running ones. */
export function batchNormFormula(
  tf: typeof TF,
  h: TF.Tensor,
  g: TF.Tensor,
  b: TF.Tensor,
  rm: TF.Tensor,
  rv: TF.Tensor,
  training: boolean,
): TF.Tensor {
  const mean = training ? tf.mean(h, 0) : rm;
  const variance = training ? tf.mean(tf.square(tf.sub(h, mean)), 0) : rv;
  return tf.add(tf.mul(g, tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, BN_EPS)))), b);
}

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** The parameter tree of a stage list: every stage's group, in stage order. */
export type StageParams<S extends readonly Stage[]> = UnionToIntersection<S[number]['params']>;

export interface Generator<P> {
  readonly stages: readonly Stage[];
  readonly params: P;
  /** The last stage's tensor: what the generator produces ('beta'). */
  readonly output: string;
  /** Every tensor the stages write with its shape, in read-back order: stage order, the output last. */
  readonly tensors: readonly (readonly [name: string, shape: readonly Dim[]])[];
  /** Records every stage into temporaries; `params` holds each group under its key. */
  encodeForward(rec: Recorder, k: KernelCall, x: Binding, params: object, mode: GeneratorMode): Tensors;
  /** Debug: names the forward's tensors for read-back. */
  expose(k: KernelCall, t: Tensors): void;
  /**
   * Records the backward from gout = ∂L/∂output: the stages in reverse, their gradients into `grads`
   * (by group key), and last the first stage's adjoint added into dx. In debug, the gradient of each
   * stage's input ('g' + its name) and dx before that last adjoint ('dxDirect') are exposed too.
   */
  encodeBackward(
    rec: Recorder,
    k: KernelCall,
    t: Tensors,
    gout: Binding,
    b: { params: object; grads: object; dx: Binding },
    mode: GeneratorMode,
  ): void;
  /** The output ([N, C]) from tfjs primitives: every stage's composed form in turn; `params` holds each group under its key. */
  composed(tf: typeof TF, x: TF.Tensor, params: object, o: ComposedOptions): TF.Tensor;
}

/** The generator of a stage list (the first stage reads the activation's input x). */
export function generator<const S extends readonly Stage[]>(stages: S): Generator<StageParams<S>> {
  const params = Object.assign({}, ...stages.map((s) => s.params)) as StageParams<S>;
  const output = stages[stages.length - 1]!.to;
  const written = stages.flatMap((s) => s.writes);
  const tensors = [...written.filter(([n]) => n !== output), ...written.filter(([n]) => n === output)];
  const shapes = new Map<string, readonly Dim[]>(written);
  const bytes = (k: KernelCall, name: string) => sizeOf(shapes.get(name)!, k.dims) * 4;
  const group = (tree: object, s: Stage) => (s.key ? (tree as Record<string, Group>)[s.key]! : EMPTY);
  const expose = (k: KernelCall, t: Tensors) => {
    for (const [name] of tensors) k.debug?.push([name, t[name] as GPUBuffer, bytes(k, name)]);
  };
  return {
    stages,
    params,
    output,
    tensors,
    expose,
    encodeForward(rec, k, x, P, mode) {
      const t: Tensors = { [stages[0]!.from]: x };
      for (const [name] of tensors) t[name] = rec.temp(bytes(k, name));
      for (const s of stages) s.forward(rec, k, t, group(P, s), mode);
      return t;
    },
    encodeBackward(rec, k, t, gout, b, mode) {
      const grads: NamedBuffer[] | undefined = k.debug && [[`g${output}`, gout as GPUBuffer, bytes(k, output)]];
      for (let i = stages.length - 1; i > 0; i--) {
        const s = stages[i]!;
        const gin = rec.temp(bytes(k, s.from));
        s.backward(rec, k, t, gout, gin, group(b.params, s), group(b.grads, s), mode);
        grads?.push([`g${s.from}`, gin, bytes(k, s.from)]);
        gout = gin;
      }
      if (k.debug && grads) {
        expose(k, t);
        const { n, c, h, w } = k.geo;
        const dxDirect = rec.temp(n * c * h * w * 4);
        rec.copy(b.dx, dxDirect, n * c * h * w * 4);
        k.debug.push(...grads, ['dxDirect', dxDirect, n * c * h * w * 4]);
      }
      stages[0]!.backward(rec, k, t, gout, b.dx, EMPTY, EMPTY, mode);
    },
    composed(tf, x, P, o) {
      const t: Record<string, TF.Tensor> = { [stages[0]!.from]: x };
      for (const s of stages) {
        if (!s.composed) throw new Error(`generator stage ${s.key ?? s.to}: no composed form`);
        t[s.to] = s.composed(tf, t, group(P, s) as unknown as TensorGroup, o);
      }
      return t[output]!;
    },
  };
}
