// Host layers, derived from the declarations: a layer holds an activation's parameters as host arrays
// (`new AconC(width, seed)`, `new MetaAconC(width, r, seed)`), runs it through an AconGPU, adopts the
// running statistics a training forward moved, and reads and writes PyTorch's state dicts (names,
// shapes, Paddle's aliases), loading all or nothing. Initial values come from one seeded stream over
// the parameters in declaration order, which is the order the hand-written layers drew them in.
import { OptionError, StateDictError } from '../gpu/errors';
import type { Shape4 } from '../core/types';
import { ACTIVATIONS, type Registered } from '../activations/registry';
import { buildTree, checkLayerArg, paramLeaves, readLeaf, resolveShape, sizeOf } from '../activations/params';
import type {
  AnyActivation,
  ArgNames,
  DimNames,
  BackwardResultOf,
  ForwardResultOf,
  HostOptionsOf,
  Init,
  ParamsOf,
} from '../activations/types';
import type { AconGPU } from './aconGPU';
import { normal, rng, uniform } from './random';

/** A tensor of a state dict: its shape and float32 data, as PyTorch and Paddle save them. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Record<string, StateTensor>;

/** Loaders also take plain arrays (length checked, shape not). */
export type StateDictInput = Record<string, StateTensor | Float32Array | number[]>;

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

function take(dict: StateDictInput, names: readonly string[], shape: number[]): Float32Array {
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

/** Values of an init for n elements, drawn from `rand` (a constant draws nothing). */
function sample(init: Init, rand: () => number, n: number, dims: Readonly<Record<string, number>>): Float32Array {
  switch (init.kind) {
    case 'const':
      return new Float32Array(n).fill(init.value);
    case 'normal':
      return normal(rand, n, init.std);
    case 'uniform':
      return uniform(rand, n, init.lo, init.hi);
    case 'fanIn': {
      const b = 1 / Math.sqrt(typeof init.dim === 'number' ? init.dim : dims[init.dim]!);
      return uniform(rand, n, -b, b);
    }
  }
}

/**
 * Every parameter's starting values for these dims (C, and the derived ones), from one stream seeded
 * with `seed` over the parameters in declaration order: their `init` (host layers), or their
 * `fixture` (seeded test data: convs in PyTorch's range, batch norms away from their init).
 */
export function initialParams<A extends AnyActivation>(
  act: A,
  dims: Readonly<Record<string, number>>,
  seed: number,
  which: 'init' | 'fixture' = 'init',
): ParamsOf<A> {
  const rand = rng(seed);
  return buildTree(paramLeaves(act.params), ({ decl }) =>
    sample((which === 'fixture' && decl.fixture) || decl.init, rand, sizeOf(decl.shape, dims), dims),
  ) as ParamsOf<A>;
}

type OptionArg<O> = object extends O ? [options?: O] : [options: O];
type OptionalNumbers<T> = { -readonly [I in keyof T]?: number };
/** The constructor's arguments after the width: the declaration's layer arguments (Meta's r), then the seed. */
type HostArgs<A> = A extends { layer: { args: infer L extends readonly unknown[] } }
  ? [...OptionalNumbers<L>, seed?: number]
  : [seed?: number];

/** A host layer of activation A (`layer.p1` reads `layer.params.p1`: a layer is a parameter set too). */
export type HostLayer<A> = {
  /** C, the channels. */
  readonly width: number;
  params: ParamsOf<A>;
  /** Forward calls in training mode (PyTorch's bn*.num_batches_tracked). */
  batchesTracked: number;
  /** y = act(x); a training forward adopts the moved running statistics. */
  forward(
    acon: AconGPU,
    x: Float32Array,
    shape: Shape4,
    ...options: OptionArg<HostOptionsOf<A>>
  ): Promise<Float32Array>;
  backward(
    acon: AconGPU,
    x: Float32Array,
    dy: Float32Array,
    shape: Shape4,
    ...options: OptionArg<HostOptionsOf<A>>
  ): Promise<BackwardResultOf<A>>;
  /** Names and shapes as PyTorch saves them (p1 [1, C, 1, 1], fc1.weight [R, C, 1, 1], …). */
  stateDict(): StateDict;
  /**
   * Loads PyTorch names (or the declared aliases: Paddle's bn*._mean, bn*._variance); checks every
   * shape and replaces nothing unless every entry is valid. Other entries (num_batches_tracked) are ignored.
   */
  loadStateDict(dict: StateDictInput): void;
} & ParamsOf<A> & { readonly [K in ArgNames<A> | DimNames<A>]: number };

export type HostLayerClass<A> = new (width: number, ...args: HostArgs<A>) => HostLayer<A>;

/** The host layer class of a declaration. */
export function hostLayer<A extends AnyActivation>(act: A): HostLayerClass<A> {
  const name = act.layer.className;
  const leaves = paramLeaves(act.params).map((l) => ({
    ...l,
    // the names a state dict may use: PyTorch's, then the aliases of the last segment
    names: [l.name, ...(l.decl.aliases ?? []).map((a) => [...l.name.split('.').slice(0, -1), a].join('.'))],
  }));
  const running = leaves.filter((l) => l.decl.role === 'running');
  const dims = Object.entries(act.dims ?? {});
  class Layer {
    params: Record<string, unknown>;
    batchesTracked = 0;
    readonly #dims: Record<string, number>;
    /** The layer arguments (ACON-FReLU's stride), which every call passes on. */
    readonly #args: Record<string, number>;

    constructor(
      readonly width: number,
      ...args: (number | undefined)[]
    ) {
      checkCount(name, 'width', width);
      const options: Record<string, number> = {};
      act.layer.args.forEach((a, i) => {
        (this as Record<string, unknown>)[a.name] = options[a.name] = checkLayerArg(name, a, args[i] ?? a.default);
      });
      this.#args = options;
      const seed = args[act.layer.args.length] ?? 0;
      checkSeed(name, seed);
      this.#dims = { C: width };
      for (const [dim, d] of dims) (this as Record<string, unknown>)[d.name] = this.#dims[dim] = d.of(width, options);
      this.params = initialParams(act, this.#dims, seed) as Record<string, unknown>;
    }

    /** A call's options with the layer's arguments, which a call may repeat but not change (OptionError). */
    #options(options: object | undefined): never {
      for (const [k, v] of Object.entries(options ?? {}))
        if (k in this.#args && v !== this.#args[k])
          throw new OptionError(
            `${name}: ${k} is the layer's (${this.#args[k]}), not a call's`,
            String(this.#args[k]),
            String(v),
          );
      return { ...options, ...this.#args } as never;
    }

    async forward(acon: AconGPU, x: Float32Array, shape: Shape4, options?: { training?: boolean }) {
      const r = (await acon
        .op(act)
        .forward(x, shape, this.params as never, this.#options(options))) as ForwardResultOf<Registered>;
      if (r instanceof Float32Array) return r;
      if (options?.training && running.length) {
        // the moved statistics replace the old ones in copies of their groups (params.bn1 is a new object)
        for (const l of running) {
          let node = this.params;
          for (const k of l.path.slice(0, -1)) node = node[k] = { ...(node[k] as object) };
          node[l.path[l.path.length - 1]!] = readLeaf(r, l);
        }
        this.batchesTracked++;
      }
      return r.y;
    }

    async backward(acon: AconGPU, x: Float32Array, dy: Float32Array, shape: Shape4, options?: object) {
      return acon.op(act).backward(x, dy, shape, this.params as never, this.#options(options));
    }

    stateDict(): StateDict {
      return Object.fromEntries(
        leaves.map((l) => [
          l.name,
          {
            shape: resolveShape(l.decl.torchShape ?? l.decl.shape, this.#dims),
            data: (readLeaf(this.params, l) as Float32Array).slice(),
          },
        ]),
      );
    }

    loadStateDict(dict: StateDictInput): void {
      const values = leaves.map((l) =>
        take(dict, l.names, resolveShape(l.decl.torchShape ?? l.decl.shape, this.#dims)),
      );
      this.params = buildTree(leaves, (_, i) => values[i]);
    }
  }
  // a getter per top-level parameter key, so that the layer itself is a parameter set (acon.aconCForward(x, shape, layer))
  for (const key of new Set(leaves.map((l) => l.path[0]!)))
    Object.defineProperty(Layer.prototype, key, {
      get(this: Layer) {
        return this.params[key];
      },
      set(this: Layer, v: unknown) {
        this.params[key] = v;
      },
    });
  Object.defineProperty(Layer, 'name', { value: name });
  return Layer as unknown as HostLayerClass<A>;
}

/** The host layer classes of every registered activation, by class name (AconC, MetaAconC, …). */
export const hostLayers = Object.fromEntries(ACTIVATIONS.map((a) => [a.layer.className, hostLayer(a)])) as {
  [A in Registered as A['layer']['className']]: HostLayerClass<A>;
};
