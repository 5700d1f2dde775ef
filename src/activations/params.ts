// Generic walks over an activation's parameter (or gradient) set: a tree of named leaves — host
// arrays, GPU buffers, bindings or element counts — whose keys are PyTorch's state-dict path
// segments in camelCase (fc1.weight, bn1.runningMean ↔ bn1.running_mean). The order of the keys is
// the order of everything: uploads, read-backs, checks, error messages. Imports nothing.

/** A leaf: a count, a typed array or a GPUBuffer. */
const isLeaf = (v: unknown) => typeof v !== 'object' || ArrayBuffer.isView(v) || 'usage' in (v as object);

/** PyTorch's name of a key: runningMean → running_mean, runningVar → running_var, others as they are. */
export const torchName = (k: string) => (k === 'runningMean' ? 'running_mean' : k === 'runningVar' ? 'running_var' : k);

/** A set's structure with every leaf (a count, an array or a buffer) replaced by a B. */
export type Remap<S, B> = { [K in keyof S]: S[K] extends number | Float32Array | GPUBuffer ? B : Remap<S[K], B> };

/**
 * Walks a parameter or gradient set and a parallel set of element counts leaf by leaf, keeping
 * the structure: fn gets the leaf, its count and its PyTorch name (fc1.weight, bn1.running_mean).
 */
export function mapSet<S extends object, B>(
  set: S,
  sizes: object,
  fn: (leaf: never, size: number, name: string) => B,
  prefix = '',
): Remap<S, B> {
  return Object.fromEntries(
    Object.entries(set).map(([k, v]) => {
      const size = (sizes as Record<string, unknown>)[k];
      const name = prefix + torchName(k);
      return [
        k,
        isLeaf(v) ? fn(v as never, size as number, name) : mapSet(v as object, size as object, fn, `${name}.`),
      ];
    }),
  ) as Remap<S, B>;
}

/** Leaves in a fixed order (p1, p2, fc1.weight, …). */
export function leaves<T>(set: object): T[] {
  return Object.values(set).flatMap((v) => (isLeaf(v) ? [v as T] : leaves<T>(v as object)));
}

/** The leaves by their PyTorch names after `prefix`: { 'params.fc1.weight': …, 'params.bn1.running_mean': … }. */
export function namedLeaves<T>(set: object, prefix: string): Record<string, T> {
  const out: Record<string, T> = {};
  mapSet(set, set, (b: T, _, name) => void (out[name] = b), prefix);
  return out;
}
