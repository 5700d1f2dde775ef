/**
 * The tf.layers layer of any declared activation (src/activations/types.ts): `layerClass(act)`. Its
 * weights are the declaration's parameters in declaration order, named as PyTorch's state dict
 * (p1, fc1.weight, bn1.running_mean, …) with the declared shapes ([C], [R, C]), initialised as
 * declared (seeded: each random init takes seed + its index among the random inits), running
 * statistics non-trainable. It calls the activation's tfjs op (src/tfjs/op.ts): our fused kernels in
 * the webgpu backend's command stream, elsewhere (or with impl: 'composed') the composed form.
 * Activations with batch statistics normalise over the batch in training calls (model.fit) and move
 * their running statistics; inference calls (model.predict) use and move nothing. Each declared
 * output has a compute<Output>(x) (Meta-ACON's computeBeta), in inference mode, from the composed form.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ACTIVATIONS, type Registered } from '../activations/registry';
import { buildTree, checkLayerArg, dimsOf, paramLeaves, resolveShape } from '../activations/params';
import type {
  AnyActivation,
  ArgNames,
  ComposedForms,
  DimNames,
  Init,
  ParamDecl,
  ParamTree,
} from '../activations/types';
import { batchCountOf } from '../activations/types';
import type { Shape4 } from '../core/types';
import { tfjsOp, type TensorsOf } from '../tfjs/op';
import {
  checkShape,
  checkTensor,
  dataFormatOf,
  isTraining,
  oneShape,
  single,
  validateDataFormat,
  validateImpl,
  validateSeed,
  type BaseLayerArgs,
  type Impl,
  type Kwargs,
  type LayerDataFormat,
} from './common';

type ParamsOf<A> = A extends { params: infer P } ? P : never;
type OutputsOf<A> = A extends { outputs: infer O } ? O : Record<never, never>;
type VariableLeaves<P> = {
  -readonly [K in keyof P]: P[K] extends ParamDecl ? tfl.LayerVariable : VariableLeaves<P[K]>;
};

/** The layer's arguments: tf.layers' own, the data format, impl, seed, and the declaration's (Meta's r). */
export type LayerArgsOf<A> = BaseLayerArgs & {
  /** 'channelsLast' (NHWC, default, as tf.layers) or 'channelsFirst' (NCHW, as PyTorch). */
  dataFormat?: LayerDataFormat;
  /**
   * 'auto' (default): our kernels on the webgpu backend, tfjs primitives elsewhere; 'composed':
   * tfjs primitives always (the baseline). Part of the config, so it survives save/load.
   */
  impl?: Impl;
  /** Seeds the random inits (the first takes seed, the next seed + 1, …) for replayable models; random when absent. */
  seed?: number | null;
} & { [K in ArgNames<A>]?: number };

/** A layer of activation A: the config, and its weights by the parameter tree's top-level keys (null before build). */
export type ActivationLayer<A> = tfl.layers.Layer & {
  readonly dataFormat: LayerDataFormat;
  readonly impl: Impl;
  readonly seed: number | null;
  /** The channel count the weights were built for (null before build). */
  readonly channels: number | null;
  /** The weights as the tfjs op takes them (the variables themselves, not copies). */
  tensors(): TensorsOf<A>;
} & { readonly [K in ArgNames<A>]: number } & { readonly [K in DimNames<A>]: number | null } & {
  readonly [K in keyof ParamsOf<A>]:
    (ParamsOf<A>[K] extends ParamDecl ? tfl.LayerVariable : VariableLeaves<ParamsOf<A>[K]>) | null;
} & {
  readonly [K in keyof OutputsOf<A> & string as `compute${Capitalize<K>}`]: (
    x: tf.Tensor,
  ) => OutputsOf<A>[K] extends readonly [unknown, unknown] ? tf.Tensor2D : tf.Tensor;
};

/** The class of a declaration's layer. */
export interface LayerClass<A> {
  new (args?: LayerArgsOf<A>): ActivationLayer<A>;
  readonly className: string;
}

/** A tf.layers initialiser for a declared init; `seed` is null for a random init. */
function initializer(init: Init, dims: Readonly<Record<string, number>>, seed: number | null) {
  const s = seed === null ? {} : { seed };
  switch (init.kind) {
    case 'const':
      if (init.value === 1) return tfl.initializers.ones();
      return init.value === 0 ? tfl.initializers.zeros() : tfl.initializers.constant({ value: init.value });
    case 'normal':
      return tfl.initializers.randomNormal({ mean: 0, stddev: init.std, ...s });
    case 'uniform':
      return tfl.initializers.randomUniform({ minval: init.lo, maxval: init.hi, ...s });
    case 'fanIn': {
      const fanIn = typeof init.dim === 'number' ? init.dim : dims[init.dim]!;
      return tfl.initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn), ...s });
    }
  }
}

/** The tf.layers layer class of a declaration. */
export function layerClass<A extends AnyActivation>(act: A): LayerClass<A> {
  const name = act.layer.className;
  const args = act.layer.args;
  let random = 0;
  const leaves = paramLeaves(act.params).map((l) => ({
    ...l,
    // its seed's offset: its index among the random inits, in declaration order
    offset: l.decl.init.kind === 'const' ? 0 : random++,
  }));
  const dims = Object.entries(act.dims ?? {});
  const training = act.batchStatistics !== undefined || leaves.some((l) => l.decl.role === 'running');
  const batch = act.batchStatistics !== undefined;
  const op = tfjsOp(act as AnyActivation) as (x: tf.Tensor, p: unknown, o: object) => tf.Tensor;
  const composed = act.composed as ComposedForms<ParamTree, string> | undefined;

  class Layer extends tfl.layers.Layer {
    static className = name;
    readonly dataFormat: LayerDataFormat;
    readonly impl: Impl;
    readonly seed: number | null;
    /** Set by build: the weights in declaration order, the dims they were built for. */
    weightList: tfl.LayerVariable[] | null = null;
    weightTree: Record<string, unknown> | null = null;
    builtDims: Record<string, number> | null = null;

    constructor(config: Record<string, unknown> = {}) {
      super(config as BaseLayerArgs);
      this.dataFormat = validateDataFormat(name, config.dataFormat);
      this.impl = validateImpl(name, config.impl);
      for (const a of args)
        (this as Record<string, unknown>)[a.name] = checkLayerArg(name, a, config[a.name] ?? a.default);
      this.seed = validateSeed(this.getClassName(), config.seed);
    }

    get channels(): number | null {
      return this.builtDims?.C ?? null;
    }

    override build(inputShape: tfl.Shape | tfl.Shape[]): void {
      const c = checkShape(name, oneShape(inputShape, name), this.dataFormat, null);
      const d = dimsOf(act, c, this.args());
      const seed = this.seed;
      const list = leaves.map((l) =>
        this.addWeight(
          l.name,
          resolveShape(l.decl.shape, d),
          'float32',
          initializer(l.decl.init, d, seed === null ? null : seed + l.offset),
          undefined,
          l.decl.role === 'trainable',
        ),
      );
      this.weightList = list;
      this.weightTree = buildTree(leaves, (_, i) => list[i]);
      this.builtDims = d;
      this.built = true;
    }

    override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
      const shape = oneShape(inputShape, name);
      checkShape(name, shape, this.dataFormat, this.channels);
      if (!act.outShape) return [...shape];
      // y's [N, C, H, W] from the declaration (unknown sizes stay null; the kernels' shape for known ones)
      const last = this.dataFormat === 'channelsLast';
      const [n, h, w, c] = last ? shape : [shape[0], shape[2], shape[3], shape[1]];
      const [, , ho, wo] = act.outShape([1, 1, h ?? 1, w ?? 1], this.args());
      const [oh, ow] = [h == null ? null : ho, w == null ? null : wo];
      return last ? [n ?? null, oh, ow, c ?? null] : [n ?? null, c ?? null, oh, ow];
    }

    /** Checks a concrete input before tf.layers builds anything, so a bad one leaves no weights or tensors behind. */
    override apply(
      inputs: tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[],
      kwargs?: Kwargs,
    ): tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[] {
      const x = single<unknown>(inputs, name);
      if (!(x instanceof tfl.SymbolicTensor))
        checkTensor(name, x, this.dataFormat, this.channels, this.#batchCheck(batch && isTraining(kwargs)));
      return super.apply(inputs, kwargs);
    }

    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
      const t = training && isTraining(kwargs);
      const x = checkTensor(name, single(inputs, name), this.dataFormat, this.channels, this.#batchCheck(batch && t));
      return op(x, this.tensors(), {
        ...this.args(),
        training: t,
        dataFormat: dataFormatOf(this.dataFormat),
        impl: this.impl,
      });
    }

    /** What a training call normalises over per channel, for checkTensor where `training` needs batch statistics. */
    #batchCheck(training: boolean) {
      return training ? (shape: Shape4) => batchCountOf(act, shape, { training, ...this.args() }) : undefined;
    }

    /** The layer arguments by name (ACON-FReLU's stride, Meta's r). */
    args(): Record<string, number> {
      return Object.fromEntries(args.map((a) => [a.name, (this as Record<string, unknown>)[a.name] as number]));
    }

    tensors(): TensorsOf<A> {
      const list = this.weightList;
      if (!this.built || !list) throw new Error(`${name}: the layer is not built yet (apply it to an input first)`);
      return buildTree(leaves, (_, i) => list[i]!.read()) as TensorsOf<A>;
    }

    override getConfig(): tf.serialization.ConfigDict {
      const config: tf.serialization.ConfigDict = { ...super.getConfig(), dataFormat: this.dataFormat };
      for (const a of args) config[a.name] = (this as Record<string, unknown>)[a.name] as number;
      config.impl = this.impl;
      config.seed = this.seed;
      return config;
    }
  }

  const define = (key: string, d: PropertyDescriptor & ThisType<Layer>) => {
    if (key in Layer.prototype) throw new Error(`${name}: '${key}' is taken by tf.layers' Layer`);
    Object.defineProperty(Layer.prototype, key, d);
  };
  // the weights by top-level key (layer.p1, layer.fc1.weight), the derived dims by name (layer.hidden)
  for (const key of new Set(leaves.map((l) => l.path[0]!)))
    define(key, {
      get() {
        return this.weightTree?.[key] ?? null;
      },
    });
  for (const [dim, decl] of dims)
    define(decl.name, {
      get() {
        return this.builtDims?.[dim] ?? null;
      },
    });
  // compute<Output>(x): a declared output in inference mode (running statistics; nothing moves)
  for (const output of Object.keys(act.outputs ?? {})) {
    const form = composed?.[output];
    define(`compute${output[0]!.toUpperCase()}${output.slice(1)}`, {
      value(this: Layer, x: tf.Tensor): tf.Tensor {
        const t = checkTensor(name, x, this.dataFormat, this.channels);
        const p = this.tensors();
        if (!form) throw new Error(`${name}: ${output} has no composed form`);
        const dims = { ...this.builtDims!, N: t.shape[0]! };
        const o = {
          dataFormat: dataFormatOf(this.dataFormat),
          training: false,
          updateRunning: false,
          dims,
          args: this.args(),
        };
        return tf.tidy(() => form(tf, t, p as never, o));
      },
      writable: true,
    });
  }
  Object.defineProperty(Layer, 'name', { value: name });
  return Layer as unknown as LayerClass<A>;
}

/**
 * The layer class of every registered activation, by class name (AconC, MetaAconC, …), registered
 * for deserialisation here, where they are made: whatever imports a class (acon-webgpu/layers, the
 * models) can load saved models holding it.
 */
export const layerClasses = Object.fromEntries(ACTIVATIONS.map((a) => [a.layer.className, layerClass(a)])) as {
  [A in Registered as A['layer']['className']]: LayerClass<A>;
};
for (const cls of Object.values(layerClasses))
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tfl.layers.Layer>);
