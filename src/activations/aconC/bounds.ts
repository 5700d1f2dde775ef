// Float32 error bounds of ACON-C's kernels against the float64 reference (./reference.ts), derived in
// src/reference/tolerance.ts. Imports nothing of ours but the reference side.
import { sigmoidPair, type DataFormat, type Shape4 } from './reference';
import { FLUSH, U, gamma } from '../../reference/tolerance';

interface Params {
  p1: ArrayLike<number>;
  p2: ArrayLike<number>;
  beta: ArrayLike<number>;
}

/** Calls fn(i, c, k) for every element i with its channel c and β index k. */
function eachElement(
  shape: Shape4,
  dataFormat: DataFormat,
  betaLength: number,
  fn: (i: number, c: number, k: number) => void,
) {
  const [N, C, H, W] = shape;
  const hw = H * W;
  const [sn, sc] = dataFormat === 'NCHW' ? [C * hw, hw] : [hw * C, 1];
  const perSample = betaLength === N * C && N > 1;
  for (let i = 0; i < N * C * hw; i++) {
    const c = Math.floor(i / sc) % C;
    fn(i, c, perSample ? Math.floor(i / sn) * C + c : c);
  }
}

/** Per-element bound on |y_gpu − y_ref| (derivation in src/reference/tolerance.ts). */
export function forwardBounds(
  x: ArrayLike<number>,
  shape: Shape4,
  p: Params,
  dataFormat: DataFormat = 'NCHW',
): Float64Array {
  const out = new Float64Array(x.length);
  eachElement(shape, dataFormat, p.beta.length, (i, c, k) => {
    const xv = Math.abs(x[i]!);
    const z = p.beta[k]! * (p.p1[c]! - p.p2[c]!) * x[i]!;
    const [s, sn] = sigmoidPair(z);
    const m = xv * (Math.abs(p.p1[c]! * s) + Math.abs(p.p2[c]! * sn));
    out[i] = (15 + 7 * Math.abs(z)) * U * m + FLUSH * (1 + xv * (Math.abs(p.p1[c]!) + Math.abs(p.p2[c]!)));
  });
  return out;
}

/** Bounds for dx (per element) and the p1, p2, β gradients (per sum), given the reduction depth of the kernel. */
export function backwardBounds(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape4,
  p: Params,
  depth: number,
  dataFormat: DataFormat = 'NCHW',
): { dx: Float64Array; p1: Float64Array; p2: Float64Array; beta: Float64Array } {
  const C = shape[1];
  const dx = new Float64Array(x.length);
  const err = [new Float64Array(C), new Float64Array(C), new Float64Array(p.beta.length)];
  const mag = [new Float64Array(C), new Float64Array(C), new Float64Array(p.beta.length)];
  eachElement(shape, dataFormat, p.beta.length, (i, c, k) => {
    const xv = x[i]!;
    const g = Math.abs(dy[i]!);
    const a1 = p.p1[c]!;
    const a2 = p.p2[c]!;
    const d = (a1 - a2) * xv;
    const z = p.beta[k]! * d;
    const [s, sn] = sigmoidPair(z);
    const zq = Math.abs(z * s * sn);
    const f = (35 + 14 * Math.abs(z)) * U;
    const flush = FLUSH * (1 + g * (1 + Math.abs(xv) + Math.abs(a1) + Math.abs(a2) + d * d));
    const ma = Math.abs(s) + zq;
    const mb = Math.abs(sn) + zq;
    dx[i] = f * g * (Math.abs(a1) * ma + Math.abs(a2) * mb) + flush;
    const terms = [g * Math.abs(xv) * ma, g * Math.abs(xv) * mb, g * d * d * s * sn];
    const slots = [c, c, k];
    for (let j = 0; j < 3; j++) {
      err[j]![slots[j]!] += f * terms[j]! + flush;
      mag[j]![slots[j]!] += terms[j]!;
    }
  });
  const gd = gamma(depth);
  const [dp1, dp2, dbeta] = err.map((e, j) => e.map((v, i) => v + gd * mag[j]![i]!)) as [
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  return { dx, p1: dp1, p2: dp2, beta: dbeta };
}
