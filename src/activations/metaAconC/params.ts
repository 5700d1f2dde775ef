// Meta-ACON-C's parameters and gradients as sets (PyTorch's state-dict names), its hidden width R,
// and every leaf's element count. The library's definitions: the float64 reference
// (src/reference/metaAconC.ts) keeps structurally identical ones of its own, and
// tests/node/constants.test.ts checks that they agree.

/** The β generator's hidden width R = max(r, ⌊C/r⌋) (PyTorch's MetaAconC: r = 16). */
export const metaHiddenWidth = (channels: number, r = 16) => Math.max(r, Math.floor(channels / r));

/**
 * Meta-ACON-C parameters for C channels and hidden width R (R = max(r, ⌊C/r⌋) in the layer), as
 * host arrays or GPU buffers (the ops use this shape with T = Float32Array and T = GPUBuffer):
 * p1, p2 [C]; fc1 weight [R, C] (row-major), bias [R]; bn1 [R]; fc2 weight [C, R], bias [C]; bn2 [C].
 */
export interface MetaParamSet<T> {
  p1: T;
  p2: T;
  fc1: { weight: T; bias: T };
  bn1: { weight: T; bias: T; runningMean: T; runningVar: T };
  fc2: { weight: T; bias: T };
  bn2: { weight: T; bias: T; runningMean: T; runningVar: T };
}

/** Gradients of the loss: dx [N, C, H, W] and one per trainable parameter, shaped as it. */
export interface MetaGradSet<T> {
  dx: T;
  p1: T;
  p2: T;
  fc1: { weight: T; bias: T };
  bn1: { weight: T; bias: T };
  fc2: { weight: T; bias: T };
  bn2: { weight: T; bias: T };
}

/** Element counts of every parameter for C channels and hidden width R. */
export function paramSizes(c: number, r: number): MetaParamSet<number> {
  const bn = (f: number) => ({ weight: f, bias: f, runningMean: f, runningVar: f });
  return { p1: c, p2: c, fc1: { weight: r * c, bias: r }, bn1: bn(r), fc2: { weight: c * r, bias: c }, bn2: bn(c) };
}

/** Element counts of every gradient (dx: `count`, the tensor's elements). */
export function gradSizes(count: number, c: number, r: number): MetaGradSet<number> {
  return {
    dx: count,
    p1: c,
    p2: c,
    fc1: { weight: r * c, bias: r },
    bn1: { weight: r, bias: r },
    fc2: { weight: c * r, bias: c },
    bn2: { weight: c, bias: c },
  };
}
