// Generic walks over an activation's parameter tree (src/activations/types.ts, ParamTree): its leaves
// in declaration order with their PyTorch names, reading a leaf out of a tree of values (host arrays,
// GPU buffers, tensors) and building one, and the sizes of shapes written in dims. Leaf lists are
// computed once per tree, so that a call walks a ready array. And the check of a layer argument,
// which the tf.layers layer and the host layer share. Imports nothing but types and the error classes.
import { OptionError } from '../gpu/errors';
import type { AnyActivation, Dim, LayerArg, ParamDecl, ParamTree } from './types';

/** One parameter: where it sits in the tree, its PyTorch name, its declaration. */
export interface Leaf {
  /** Keys from the root: ['bn1', 'runningMean']. */
  readonly path: readonly string[];
  /** PyTorch's state-dict name: 'bn1.running_mean'. */
  readonly name: string;
  readonly decl: ParamDecl;
}

const isDecl = (v: ParamDecl | ParamTree): v is ParamDecl => Array.isArray(v.shape);

/** PyTorch's name of a key: camelCase → snake_case (runningMean → running_mean; p1, weight unchanged). */
export const torchName = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const cache = new WeakMap<ParamTree, readonly Leaf[]>();

/** Every leaf of a tree, in declaration order (computed once per tree). */
export function paramLeaves(tree: ParamTree): readonly Leaf[] {
  let leaves = cache.get(tree);
  if (!leaves) {
    const out: Leaf[] = [];
    const walk = (t: ParamTree, path: string[]) => {
      for (const [k, v] of Object.entries(t)) {
        const p = [...path, k];
        if (isDecl(v)) out.push({ path: p, name: p.map(torchName).join('.'), decl: v });
        else walk(v, p);
      }
    };
    walk(tree, []);
    cache.set(tree, (leaves = out));
  }
  return leaves;
}

/** The value at a leaf's place in a tree of values; undefined where the tree lacks it. */
export function readLeaf(tree: unknown, leaf: Leaf): unknown {
  if (leaf.path.length === 1) return (tree as Record<string, unknown> | null | undefined)?.[leaf.path[0]!];
  let v = tree;
  for (const k of leaf.path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A tree holding fn(leaf) at the place of each leaf, keys in the leaves' order (after those of `root`). */
export function buildTree<T>(
  leaves: readonly Leaf[],
  fn: (leaf: Leaf, i: number) => T,
  root: Record<string, unknown> = {},
): Record<string, unknown> {
  leaves.forEach((leaf, i) => {
    let node = root;
    const last = leaf.path.length - 1;
    for (let k = 0; k < last; k++) node = (node[leaf.path[k]!] ??= {}) as Record<string, unknown>;
    node[leaf.path[last]!] = fn(leaf, i);
  });
  return root;
}

/** A shape with its dims resolved: ['R', 'C'] with R = 4, C = 17 → [4, 17]. */
export function resolveShape(shape: readonly Dim[], dims: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : dims[d]!));
}

/** The element count of a shape written in dims (no array built). */
export function sizeOf(shape: readonly Dim[], dims: Readonly<Record<string, number>>): number {
  let n = 1;
  for (const d of shape) n *= typeof d === 'number' ? d : dims[d]!;
  return n;
}

/** C and the derived dims at the options given (Meta's R; at r = 16 when none is given). */
export function dimsOf(act: Pick<AnyActivation, 'dims'>, c: number, options: object = {}): Record<string, number> {
  const dims: Record<string, number> = { C: c };
  for (const [dim, d] of Object.entries(act.dims ?? {})) dims[dim] = d.of(c, options);
  return dims;
}

/**
 * `tree` with its trainable leaves replaced by `values`, in declaration order (the gradients' order):
 * the arguments tf.grads differentiates, beside the running statistics it does not.
 */
export function withTrainable<T>(
  leaves: readonly Leaf[],
  tree: unknown,
  values: readonly T[],
): Record<string, unknown> {
  let i = 0;
  return buildTree(leaves, (l) => (l.decl.role === 'trainable' ? values[i++] : readLeaf(tree, l)));
}

/**
 * A layer argument's value (Meta-ACON's r, ACON-FReLU's stride): one of its declared values, or, where
 * it declares none, a positive integer; else an OptionError naming the layer and the argument.
 */
export function checkLayerArg(layer: string, arg: LayerArg, value: unknown): number {
  const ok = arg.values ? arg.values.includes(value as number) : Number.isInteger(value) && (value as number) >= 1;
  if (!ok) {
    const expected = arg.values ? `one of ${arg.values.join(', ')}` : 'a positive integer';
    throw new OptionError(
      `${layer}: ${arg.name}${arg.description ? ` (${arg.description})` : ''} is not ${expected}`,
      expected,
      JSON.stringify(value) ?? String(value),
    );
  }
  return value as number;
}
