/**
 * Float32 error bounds for Meta-ACON's small kernels, each taken on the kernel's own (float32)
 * inputs, so that every stage of the GPU chain is checked where it runs. Notation as in
 * src/reference/tolerance.ts: u = 2⁻²⁴; +, −, × correctly rounded; ÷ ≤ 2.5 ULP (5u); inverseSqrt ≤ 2 ULP (4u);
 * exp(t) ≤ 3 + 2|t| ULP ((6 + 4|t|)u); a sequential sum of k terms errs by ≤ γ_{k−1}·Σ|terms|.
 * Every bound is first order in u; the FLUSH allowance covers subnormals flushed to zero.
 */
import { BN_MOMENTUM, BN_EPS, type BatchNormParams } from './reference';
import { FLUSH, U, gamma } from '../../reference/tolerance';
import type { DataFormat, Shape4 } from '../aconC/reference';

/** Plane means: a sum whose longest addition chain is `depth`, then × fl(1/(H·W)) (2u). */
export function planeMeansBounds(
  x: ArrayLike<number>,
  [N, C, H, W]: Shape4,
  depth: number,
  dataFormat: DataFormat = 'NCHW',
): Float64Array {
  const hw = H * W;
  const out = new Float64Array(N * C);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      let abs = 0;
      let sum = 0;
      for (let p = 0; p < hw; p++) {
        const v = x[dataFormat === 'NCHW' ? (n * C + c) * hw + p : (n * hw + p) * C + c]!;
        abs += Math.abs(v);
        sum += v;
      }
      out[n * C + c] = (gamma(depth) * abs) / hw + 2 * U * Math.abs(sum / hw) + FLUSH;
    }
  return out;
}

/** out[n, o] = b[o] + Σ_i W[o, i]·inp[n, i], summed in order from b: γ_I·(|b| + Σ|W||inp|) (one rounding per product, one per addition). */
export function conv1x1Bounds(
  inp: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  N: number,
  I: number,
  O: number,
): Float64Array {
  const out = new Float64Array(N * O);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      let m = Math.abs(b[o]!);
      for (let i = 0; i < I; i++) m += Math.abs(w[o * I + i]! * inp[n * I + i]!);
      out[n * O + o] = gamma(I + 1) * m + FLUSH;
    }
  return out;
}

/** gin = gout·W (γ_O), gW = goutᵀ·inp (γ_N), gb = Σ_N gout (γ_N). */
export function conv1x1BackwardBounds(
  inp: ArrayLike<number>,
  gout: ArrayLike<number>,
  w: ArrayLike<number>,
  N: number,
  I: number,
  O: number,
) {
  const gin = new Float64Array(N * I);
  const gweight = new Float64Array(O * I);
  const gbias = new Float64Array(O);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < I; i++) {
      let m = 0;
      for (let o = 0; o < O; o++) m += Math.abs(gout[n * O + o]! * w[o * I + i]!);
      gin[n * I + i] = gamma(O) * m + FLUSH;
    }
  for (let o = 0; o < O; o++) {
    let mb = 0;
    for (let n = 0; n < N; n++) mb += Math.abs(gout[n * O + o]!);
    gbias[o] = gamma(N) * mb + FLUSH;
    for (let i = 0; i < I; i++) {
      let m = 0;
      for (let n = 0; n < N; n++) m += Math.abs(gout[n * O + o]! * inp[n * I + i]!);
      gweight[o * I + i] = gamma(N) * m + FLUSH;
    }
  }
  return { gin, gweight, gbias };
}

const sigma = (z: number) => 1 / (1 + Math.exp(-z));
const sigmaGrad = (z: number) => {
  const e = Math.exp(-Math.abs(z));
  return e / (1 + e) ** 2;
};

/**
 * Batch norm forward (and fused σ) on input h [N, F]. Per feature:
 *   μ̃ = Σh/N:           |Δμ| ≤ γ_{N+4}·Σ|h|/N
 *   ss = Σ(h − μ̃)²:      the first-order effect of Δμ cancels (Σ(h − μ) = 0), so
 *                        |Δss| ≤ γ_{N+2}·(ss + N·Δμ²) + N·Δμ²; var = ss/N adds 5u
 *   inv = 1/√(var + ε):  rel ≤ ½·(|Δvar| + u(var + ε))/(var + ε) + 4u     (eval: μ, var exact: 4.5u)
 *   z = w·inv·(h − μ̃) + b: |Δz| ≤ |a|·(|Δμ| + u|h − μ|) + |a(h − μ)|·(rel(inv) + 2u) + u|z|
 *   σ(z):                 |Δs| ≤ σ'(z)|Δz| + (12 + 4|z|)u·s
 *   running mean/var:     momentum m carries its float32 rounding (≤ u·m) and three roundings per
 *                         update: |Δrm'| ≤ m|Δμ| + 4u(|rm| + |μ|), |Δrv'| ≤ m(|Δss| + 5u·ss)/(N − 1)
 *                         + 4u(|rv| + m·ss/(N − 1)).
 */
export function batchNormBounds(
  h: ArrayLike<number>,
  N: number,
  F: number,
  p: BatchNormParams,
  training: boolean,
  sigmoid: boolean,
) {
  const out = new Float64Array(N * F);
  const mean = new Float64Array(F);
  const invStd = new Float64Array(F);
  const runningMean = new Float64Array(F);
  const runningVar = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    let mu: number;
    let v: number;
    let dMu = 0;
    let dVar = 0;
    if (training) {
      let s = 0;
      let sa = 0;
      for (let n = 0; n < N; n++) {
        s += h[n * F + f]!;
        sa += Math.abs(h[n * F + f]!);
      }
      mu = s / N;
      dMu = (gamma(N + 4) * sa) / N;
      let ss = 0;
      for (let n = 0; n < N; n++) ss += (h[n * F + f]! - mu) ** 2;
      const dSs = gamma(N + 2) * (ss + N * dMu * dMu) + N * dMu * dMu;
      v = ss / N;
      dVar = dSs / N + 5 * U * v;
      runningMean[f] = BN_MOMENTUM * dMu + 4 * U * (Math.abs(p.runningMean[f]!) + Math.abs(mu)) + FLUSH;
      runningVar[f] =
        (BN_MOMENTUM * (dSs + 5 * U * ss)) / (N - 1) +
        4 * U * (Math.abs(p.runningVar[f]!) + (BN_MOMENTUM * ss) / (N - 1)) +
        FLUSH;
    } else {
      mu = p.runningMean[f]!;
      v = p.runningVar[f]!;
    }
    const inv = 1 / Math.sqrt(v + BN_EPS);
    const relInv = (0.5 * (dVar + U * (v + BN_EPS))) / (v + BN_EPS) + 4 * U;
    mean[f] = dMu + FLUSH;
    invStd[f] = relInv * inv + FLUSH;
    const a = p.weight[f]! * inv;
    for (let n = 0; n < N; n++) {
      const t = h[n * F + f]! - mu;
      const z = a * t + p.bias[f]!;
      const dz = Math.abs(a) * (dMu + U * Math.abs(t)) + Math.abs(a * t) * (relInv + 2 * U) + U * Math.abs(z) + FLUSH;
      out[n * F + f] = sigmoid ? sigmaGrad(z) * dz + (12 + 4 * Math.abs(z)) * U * sigma(z) + FLUSH : dz;
    }
  }
  return { out, mean, invStd, runningMean, runningVar };
}

/**
 * Batch norm backward on its own inputs: h, gout and the forward's saved μ̃ and inv (float32).
 *   x̂ = (h − μ̃)·inv: 2u. Through σ: z recomputed (3 roundings) and σ'(z) = e/(1 + e)² with
 *   (14 + 4|z|)u of its own; |σ''| ≤ σ', so |Δgz| ≤ |gout|·σ'·((15 + 4|z|)u + |Δz|).
 *   sg = Σgz and sgx = Σgz·x̂ add γ_N of their magnitude sums;
 *   train: gin = a·(gz − sg/N − x̂·sgx/N) with three terms T1..T3: |Δgin| ≤ |a|·(ΣΔT + 4u·Σ|T|);
 *   eval: gin = a·gz: |Δgin| ≤ |a|·(|Δgz| + 2u|gz|).
 */
export function batchNormBackwardBounds(
  h: ArrayLike<number>,
  gout: ArrayLike<number>,
  N: number,
  F: number,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  saved: { mean: ArrayLike<number>; invStd: ArrayLike<number> },
  training: boolean,
  sigmoid: boolean,
) {
  const gin = new Float64Array(N * F);
  const gweight = new Float64Array(F);
  const gbias = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    const inv = saved.invStd[f]!;
    const a = weight[f]! * inv;
    const gz: number[] = [];
    const dgz: number[] = [];
    const xh: number[] = [];
    let sg = 0;
    let sga = 0;
    let dsg = 0;
    let sgx = 0;
    let sgxa = 0;
    let dsgx = 0;
    for (let n = 0; n < N; n++) {
      const k = n * F + f;
      const t = h[k]! - saved.mean[f]!;
      const x = t * inv;
      let g = gout[k]!;
      let dg = 0;
      if (sigmoid) {
        const z = a * t + bias[f]!;
        const dz = 3 * U * Math.abs(a * t) + U * Math.abs(z);
        const s1 = sigmaGrad(z);
        dg = Math.abs(g) * s1 * ((15 + 4 * Math.abs(z)) * U + dz);
        g *= s1;
      }
      gz.push(g);
      dgz.push(dg);
      xh.push(x);
      sg += g;
      sga += Math.abs(g);
      dsg += dg;
      sgx += g * x;
      sgxa += Math.abs(g * x);
      dsgx += dg * Math.abs(x) + Math.abs(g) * 3 * U * Math.abs(x);
    }
    dsg += gamma(N) * sga;
    dsgx += gamma(N) * sgxa;
    gweight[f] = dsgx + FLUSH;
    gbias[f] = dsg + FLUSH;
    for (let n = 0; n < N; n++) {
      const k = n * F + f;
      if (training) {
        const t1 = Math.abs(gz[n]!);
        const t2 = Math.abs(sg / N);
        const t3 = Math.abs((xh[n]! * sgx) / N);
        const dT =
          dgz[n]! +
          dsg / N +
          5 * U * t2 +
          3 * U * Math.abs(xh[n]!) * Math.abs(sgx / N) +
          Math.abs(xh[n]!) * (dsgx / N + 5 * U * Math.abs(sgx / N)) +
          U * t3;
        gin[k] = Math.abs(a) * (dT + 4 * U * (t1 + t2 + t3)) + FLUSH;
      } else {
        gin[k] = Math.abs(a) * (dgz[n]! + 2 * U * Math.abs(gz[n]!)) + FLUSH;
      }
    }
  }
  return { gin, gweight, gbias };
}
