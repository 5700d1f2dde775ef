// Float32 error bounds of ACON-FReLU's kernels against the float64 reference (./reference.ts).
// Imports nothing of ours but the reference side.
//
// Eval forward (shaders/acon_frelu.wgsl), per output element, u = 2⁻²⁴; WGSL rounds +, −, × correctly
// and promises 2 ULP (4u) for inverseSqrt, 2.5 ULP (5u) for ÷ and 3 + 2|t| ULP (≤ (6 + 4|t|)u) for
// exp(t). With A = |a1|·Σ_taps |w·x| and D1 = |a1·(bias − rm1)|:
//   c = Σ w·x, 9 products and ≤ 8 additions: |Δc| ≤ γ₉·Σ|w·x|.
//   a1 = γ1·inverseSqrt(rv1 + ε): rel ≤ u/2 + 4u + u < 6u (7u with the first-order slack); a2 alike.
//   b1 = β1 + a1·(bias − rm1): |Δb1| ≤ 9u·D1 + u·(|β1| + D1).
//   x2 = a1·c + b1: E2 = (γ₉ + 9u)·A + 11u·D1 + 2u·|β1| (the product, the sum, a1's error on |a1·c| ≤ A).
//   d = x1 − x2 (x1 exact: a copy or a maximum): |Δd| ≤ E2 + u·|d|.
//   t = d·σ(d) + x2 moves with x2 by 1 − g(d) and with d by g(d), g = σ + d·σ·σ(−d) ∈ [−0.1, 1.1];
//     σ from e = exp(−|d|), 1 + e and a division: rel ≤ (12 + 4|d|)u; the product and the sum u each:
//     Et = 1.1·E2 + 1.1u·|d| + (13 + 4|d|)u·|d·σ(d)| + u·|t|.
//   y = a2·t + b2, b2 = β2 − a2·rm2: |Δy| ≤ |a2|·Et + 9u·|a2·t| + 11u·|a2·rm2| + 2u·|β2| + u·|b2|.
// GPUs may flush subnormals: an absolute allowance of 2⁻¹²⁶ times the magnitudes involved.
import {
  aconFReluForwardRef,
  BN_EPS,
  indexer,
  sigmoid,
  type AconFReluParamsRef,
  type DataFormat,
  type Shape4,
} from './reference';
import { FLUSH, U, gamma } from '../../reference/tolerance';

/** Per-element bound on |y_gpu − y_ref| of the eval forward, in y's data format. */
export function evalForwardBounds(
  x: ArrayLike<number>,
  shape: Shape4,
  p: AconFReluParamsRef,
  stride: number,
  dataFormat: DataFormat = 'NCHW',
): Float64Array {
  const ref = aconFReluForwardRef(x, shape, p, { stride, training: false, dataFormat });
  const [N, C, H, W] = shape;
  const [, , Ho, Wo] = ref.outShape;
  const at = indexer(shape, dataFormat);
  const out = indexer(ref.outShape, dataFormat);
  const g9 = gamma(9);
  const bound = new Float64Array(ref.y.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const a1 = Math.abs(p.bn1.weight[c]! / Math.sqrt(p.bn1.runningVar[c]! + BN_EPS));
      const a2 = Math.abs(p.bn2.weight[c]! / Math.sqrt(p.bn2.runningVar[c]! + BN_EPS));
      const D1 = a1 * Math.abs(p.convFrelu.bias[c]! - p.bn1.runningMean[c]!);
      const B1 = Math.abs(p.bn1.bias[c]!);
      const B2 = Math.abs(p.bn2.bias[c]!);
      const R2 = a2 * Math.abs(p.bn2.runningMean[c]!);
      const b2 = Math.abs(p.bn2.bias[c]! - R2);
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let taps = 0;
          for (let ki = 0; ki < 3; ki++)
            for (let kj = 0; kj < 3; kj++) {
              const [h, w] = [i * stride + ki - 1, j * stride + kj - 1];
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              taps += Math.abs(p.convFrelu.weight[c * 9 + ki * 3 + kj]! * x[at(n, c, h, w)]!);
            }
          const A = a1 * taps;
          const q = ((n * C + c) * Ho + i) * Wo + j; // the reference's NCHW-ordered grid
          const d = ref.x1[q]! - ref.bn1.out[q]!;
          const t = ref.t[q]!;
          const E2 = (g9 + 9 * U) * A + 11 * U * D1 + 2 * U * B1;
          const Et =
            1.1 * E2 + 1.1 * U * Math.abs(d) + (13 + 4 * Math.abs(d)) * U * Math.abs(d * sigmoid(d)) + U * Math.abs(t);
          const flush = FLUSH * (1 + a2 * (1 + A + D1 + B1 + Math.abs(d) + Math.abs(t)) + B2 + R2);
          bound[out(n, c, i, j)] = a2 * Et + 9 * U * a2 * Math.abs(t) + 11 * U * R2 + 2 * U * B2 + U * b2 + flush;
        }
    }
  return bound;
}
