// Float32 error bounds of per-channel PReLU's kernels against the float64 reference (src/reference/
// tolerance.ts's analysis): y and dx are one product, correctly rounded (u relative; exact where x ≥ 0,
// but for a flushed subnormal);
// each dweight term dy·x is one product (u), and their channel sum over a chain of `depth` additions
// adds γ_depth·Σ|terms|. Subnormals may flush: FLUSH per element.
import { FLUSH, U, gamma } from '../../reference/tolerance';
import { channelOf, type DataFormat, type Shape4 } from './reference';

type Params = { weight: ArrayLike<number> };

export function forwardBounds(x: ArrayLike<number>, shape: Shape4, p: Params, f: DataFormat): Float64Array {
  const c = channelOf(shape, f);
  return Float64Array.from({ length: x.length }, (_, i) =>
    x[i]! >= 0 ? FLUSH : U * Math.abs(p.weight[c(i)]! * x[i]!) + FLUSH,
  );
}

export function backwardBounds(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape4,
  p: Params,
  depth: number,
  f: DataFormat,
): { dx: Float64Array; weight: Float64Array } {
  const c = channelOf(shape, f);
  const dx = new Float64Array(x.length);
  const mag = new Float64Array(shape[1]);
  const flush = new Float64Array(shape[1]);
  for (let i = 0; i < x.length; i++) {
    if (x[i]! >= 0) {
      dx[i] = FLUSH; // dx = dy, exact but for a flushed subnormal
      continue;
    }
    dx[i] = U * Math.abs(p.weight[c(i)]! * dy[i]!) + FLUSH;
    mag[c(i)] += Math.abs(dy[i]! * x[i]!);
    flush[c(i)] += FLUSH;
  }
  // each term's rounding (u) and the sum's chain, relative to Σ|terms|
  const weight = mag.map((m, k) => (U + gamma(depth)) * m * (1 + U) + flush[k]!);
  return { dx, weight };
}
