/**
 * Error bounds for float32 GPU results against the float64 reference, from first-order float32
 * error analysis: the machinery every activation's bounds (src/activations/<name>/bounds.ts) and
 * every comparison of the tests and the report share. Imports nothing. u = 2⁻²⁴ is the unit roundoff; WGSL guarantees correctly rounded +, −, ×, at most
 * 2.5 ULP (= 5u) for ÷ and 3 + 2·|t| ULP (≤ (6 + 4|t|)u) for exp(t).
 *
 * Forward, computed as y = x/(1 + e)·(p_hi + p_lo·e) with e = exp(−|z|), z = β·(p1 − p2)·x, p_hi the
 * parameter paired with the larger sigmoid (shaders/acon_c.wgsl); M = |p_hi|/(1 + e) + |p_lo|·e/(1 + e)
 * = |p1·s| + |p2·s̄|:
 *   |z| carries 3 roundings, so |δz| ≤ 3u·|z|, and exp adds (6 + 4|z|)u: rel(e) ≤ (6 + 7|z|)u.
 *   y moves with e by x·(p_lo − p_hi)·e/(1 + e)², at most |x|·M·rel(e) since 1/(1 + e) ≥ 1/2 ≥ e/(1 + e).
 *   1 + e adds u, the division 5u, p_lo·e u, the sum u, the product u, each relative to |x|·M: 9u.
 *   |Δy| ≤ (15 + 7|z|)·u·|x|·(|p1·s| + |p2·s̄|).
 * Backward: q = s·s̄ has rel ≤ (27 + 14|z|)u, z·q ≤ (31 + 14|z|)u, a = s + z·q and b = s̄ − z·q
 * ≤ (32 + 14|z|)u relative to |s| + |z·q|; the products with p, x, dy or d² add at most 3u:
 *   each per-element term t has |Δt| ≤ (35 + 14|z|)·u·M(t), with M the sum of the magnitudes
 *   of its parts (|dy|·(|p1|(|s| + |zq|) + |p2|(|s̄| + |zq|)) for dx, and so on).
 * Channel sums of k terms whose longest chain of additions is `depth`: Σ|Δt_i| + γ_depth·Σ|t_i|,
 * γ_n = n·u/(1 − n·u) (Higham, Accuracy and Stability of Numerical Algorithms, §4.2).
 * GPUs may flush subnormals to zero: every element gets an absolute allowance of 2⁻¹²⁶ times its
 * magnitude factors, far below any normal result.
 */
export const U = 2 ** -24;
export const FLUSH = 2 ** -126;

export const gamma = (n: number) => (n * U) / (1 - n * U);

export interface Deviation {
  index: number;
  got: number;
  want: number;
  bound: number;
}

/**
 * Checks |got − want| ≤ bound[i] for every i, and NaN exactly where the reference has NaN. Returns
 * the first few violations (empty when all pass), the largest absolute error, and the normwise
 * relative error max|got − want| / max|want| (elementwise ratios mean little where want ≈ 0), and
 * `worst`, the largest error as a fraction of its bound (≤ 1 passes).
 */
export function compare(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  bound: ArrayLike<number>,
): { bad: Deviation[]; maxAbs: number; maxRel: number; worst: number } {
  const bad: Deviation[] = [];
  let maxAbs = 0;
  let maxRef = 0;
  let worst = 0;
  if (got.length !== want.length) {
    return {
      bad: [{ index: -1, got: got.length, want: want.length, bound: 0 }],
      maxAbs: Infinity,
      maxRel: Infinity,
      worst: Infinity,
    };
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (!(Number.isNaN(w) && Number.isNaN(g)) && bad.length < 8) bad.push({ index: i, got: g, want: w, bound: NaN });
      continue;
    }
    const err = Math.abs(g - w);
    maxAbs = Math.max(maxAbs, err);
    maxRef = Math.max(maxRef, Math.abs(w));
    if (err > 0) worst = Math.max(worst, err / bound[i]!);
    if (!(err <= bound[i]!) && bad.length < 8) bad.push({ index: i, got: g, want: w, bound: bound[i]! });
  }
  return { bad, maxAbs, maxRel: maxRef > 0 ? maxAbs / maxRef : maxAbs, worst };
}
