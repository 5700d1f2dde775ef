/**
 * CPU reference for ACON-C: plain loops, every value computed in float64 from the (float32) inputs,
 * results returned as Float64Array so that tests compare GPU float32 output with the exact value.
 * Imports nothing of ours and nothing GPU (its types are its own: tests/node/constants.test.ts holds
 * them equal to the library's); ./checks.ts binds it to the declaration for tests and the report.
 *
 * The math, once (the WGSL in shaders/acon_c.wgsl writes the same formulas):
 *   d = (p1 − p2)·x,  z = β·d,  s = σ(z),  s̄ = σ(−z) = 1 − s,  q = s·s̄ = σ'(z)
 *   y      = d·s + p2·x                  = x·(p1·s + p2·s̄)           (1 − s = s̄)
 *   ∂y/∂p1 = x·s + d·σ'(z)·β·x           = x·(s + z·q)   =: x·a
 *   ∂y/∂p2 = x − ∂y/∂p1                  = x·(s̄ − z·q)   =: x·b
 *   ∂y/∂x  = (p1 − p2)·(s + β·d·q) + p2  = p1·a + p2·b
 *   ∂y/∂β  = d·σ'(z)·d                   = d²·q
 * s, s̄ and q come from e = exp(−|z|) ≤ 1: no overflow, and 1 − s is never formed by cancellation.
 */

export type DataFormat = 'NCHW' | 'NHWC';
/** A tensor shape [N, C, H, W]. */
export type Shape4 = readonly [number, number, number, number];

/** p1, p2 of length C; β of length C (per channel) or N·C (per sample and channel, Meta-ACON). */
export interface AconCParamsRef {
  p1: ArrayLike<number>;
  p2: ArrayLike<number>;
  beta: ArrayLike<number>;
}

export interface AconCGradsRef {
  /** Same shape and data format as x. */
  dx: Float64Array;
  /** [C]: Σ over N, H, W of dy·∂y/∂p1. */
  p1: Float64Array;
  /** [C]. */
  p2: Float64Array;
  /** [C], or [N·C] for a per-sample β (sums over H, W only). */
  beta: Float64Array;
}

/** (σ(z), σ(−z)) without overflow; NaN propagates. */
export function sigmoidPair(z: number): [number, number] {
  const e = Math.exp(-Math.abs(z));
  const big = 1 / (1 + e);
  const small = e * big;
  return z >= 0 ? [big, small] : [small, big];
}

/** y for one element. */
export function aconCValue(x: number, p1: number, p2: number, beta: number): number {
  const [s, sn] = sigmoidPair(beta * (p1 - p2) * x);
  return x * (p1 * s + p2 * sn);
}

/** The four partial derivatives of y at one element: ∂y/∂x, ∂y/∂p1, ∂y/∂p2, ∂y/∂β. */
export function aconCPartials(x: number, p1: number, p2: number, beta: number): [number, number, number, number] {
  const d = (p1 - p2) * x;
  const z = beta * d;
  const [s, sn] = sigmoidPair(z);
  const q = s * sn;
  const a = s + z * q;
  const b = sn - z * q;
  return [p1 * a + p2 * b, x * a, x * b, d * d * q];
}

/** Element strides (n, c, hw) of a [N, C, H, W] tensor stored in `dataFormat`. */
export function stridesOf([, c, h, w]: Shape4, dataFormat: DataFormat): [number, number, number] {
  const hw = h * w;
  return dataFormat === 'NCHW' ? [c * hw, hw, 1] : [hw * c, 1, c];
}

/** Whether β is per sample (length N·C, N > 1) rather than per channel (length C). */
function betaIndexer(shape: Shape4, beta: ArrayLike<number>): (n: number, c: number) => number {
  const [n, c] = shape;
  if (beta.length === c) return (_n, ch) => ch;
  if (beta.length === n * c) return (nn, ch) => nn * c + ch;
  throw new RangeError(`beta has length ${beta.length}; expected C = ${c} or N·C = ${n * c}`);
}

/** Forward: y = ACON-C(x), same shape and data format as x. */
export function aconCForwardRef(
  x: ArrayLike<number>,
  shape: Shape4,
  { p1, p2, beta }: AconCParamsRef,
  dataFormat: DataFormat = 'NCHW',
): Float64Array {
  const [sn, sc] = stridesOf(shape, dataFormat);
  const C = shape[1];
  const bi = betaIndexer(shape, beta);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / sc) % C;
    y[i] = aconCValue(x[i]!, p1[c]!, p2[c]!, beta[bi(Math.floor(i / sn), c)]!);
  }
  return y;
}

/** Backward: dx and the parameter gradients, accumulated in float64 in memory order. */
export function aconCBackwardRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape4,
  { p1, p2, beta }: AconCParamsRef,
  dataFormat: DataFormat = 'NCHW',
): AconCGradsRef {
  const [sn, sc] = stridesOf(shape, dataFormat);
  const C = shape[1];
  const bi = betaIndexer(shape, beta);
  const dx = new Float64Array(x.length);
  const dp1 = new Float64Array(C);
  const dp2 = new Float64Array(C);
  const dbeta = new Float64Array(beta.length);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / sc) % C;
    const k = bi(Math.floor(i / sn), c);
    const [gx, g1, g2, gb] = aconCPartials(x[i]!, p1[c]!, p2[c]!, beta[k]!);
    const g = dy[i]!;
    dx[i] = g * gx;
    dp1[c] += g * g1;
    dp2[c] += g * g2;
    dbeta[k] += g * gb;
  }
  return { dx, p1: dp1, p2: dp2, beta: dbeta };
}
