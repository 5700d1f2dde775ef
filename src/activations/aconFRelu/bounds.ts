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
//     σ from sigmoid_pair4: e = exp(−|d|), 1 + e, a division and, for d < 0, σ(−|d|) = e·(1/(1 + e)),
//     one more product: rel ≤ (6 + 4|d|)u + u + 5u + u = (13 + 4|d|)u; the product d·σ and the sum
//     u each: Et = 1.1·E2 + 1.1u·|d| + (14 + 4|d|)u·|d·σ(d)| + u·|t| (as the training chain's t).
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

/**
 * Σ|w·x| over the 3×3 window of output (n, c, i, j), taps in the padding left out: what the depthwise
 * conv's rounding scales with (γ₉ times it), in the eval and the training chains alike.
 */
function absTaps(
  x: ArrayLike<number>,
  [, , H, W]: Shape4,
  at: (n: number, c: number, h: number, w: number) => number,
  weight: ArrayLike<number>,
  n: number,
  c: number,
  i: number,
  j: number,
  stride: number,
): number {
  let taps = 0;
  for (let ki = 0; ki < 3; ki++)
    for (let kj = 0; kj < 3; kj++) {
      const [h, w] = [i * stride + ki - 1, j * stride + kj - 1];
      if (h >= 0 && h < H && w >= 0 && w < W) taps += Math.abs(weight[c * 9 + ki * 3 + kj]! * x[at(n, c, h, w)]!);
    }
  return taps;
}

/** Per-element bound on |y_gpu − y_ref| of the eval forward, in y's data format. */
export function evalForwardBounds(
  x: ArrayLike<number>,
  shape: Shape4,
  p: AconFReluParamsRef,
  stride: number,
  dataFormat: DataFormat = 'NCHW',
): Float64Array {
  const ref = aconFReluForwardRef(x, shape, p, { stride, training: false, dataFormat });
  const [N, C] = shape;
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
          const A = a1 * absTaps(x, shape, at, p.convFrelu.weight, n, c, i, j, stride);
          const q = ((n * C + c) * Ho + i) * Wo + j; // the reference's NCHW-ordered grid
          const d = ref.x1[q]! - ref.bn1.out[q]!;
          const t = ref.t[q]!;
          const E2 = (g9 + 9 * U) * A + 11 * U * D1 + 2 * U * B1;
          const Et =
            1.1 * E2 + 1.1 * U * Math.abs(d) + (14 + 4 * Math.abs(d)) * U * Math.abs(d * sigmoid(d)) + U * Math.abs(t);
          const flush = FLUSH * (1 + a2 * (1 + A + D1 + B1 + Math.abs(d) + Math.abs(t)) + B2 + R2);
          bound[out(n, c, i, j)] = a2 * Et + 9 * U * a2 * Math.abs(t) + 11 * U * R2 + 2 * U * B2 + U * b2 + flush;
        }
    }
  return bound;
}

// ---- training forward and backward (shaders/acon_frelu_train.wgsl) --------------------------------
//
// First-order bounds carried through the kernels' own order of operations, E(v) the bound on v's
// error, D the longest addition chain of a per-channel sum (the kernels' plan: positions per
// invocation + log2(WG) + chunks), P = N·Ho·Wo (exact in float32):
//   z = conv + bias:          E(z) = γ₉·Σ|w·x| + u·|z|
//   sum S = Σ tᵢ:             E(S) = Σ E(tᵢ) + γ_D·Σ|tᵢ|;   mean S/P: E/P + 5u·|mean| (÷: 2.5 ULP)
//   zc = z − μ:               E(z) + E(μ) + u·|zc|;   Σ zc²: terms 2|zc|·E(zc) + u·zc²
//   ι = inverseSqrt(V/P + ε): rel ½·(E(V/P) + u·(V/P + ε))/(V/P + ε) + 4u
//   ẑ = zc·ι:                 E(zc)·ι + |zc|·E(ι) + u·|ẑ|
//   x2 = γ·ẑ + β:             |γ|·E(ẑ) + u·|γẑ| + u·|x2|;   d = x1 − x2 (x1 exact): E(x2) + u·|d|
//   t = d·σ(d) + x2:          1.1·E(x2) + 1.1u·|d| + (14 + 4|d|)u·|d·σ(d)| + u·|t|  (∂t/∂x2 = 1 − g,
//                             ∂t/∂d = g, g ∈ [−0.1, 1.1]; σ from sigmoid_pair: 13 + 4|d| ULP/2, × u)
// In eval mode μ and ι are the running statistics' (E(μ) = 0, rel E(ι) ≤ 5u).
// Training y is the eval kernel on the batch statistics: its own bound (evalForwardBounds on those
// statistics) plus what their errors move: |γ1|·(ι1·E(μ1) + |zc|·E'(ι1)) through x2 (then × 1.1 and
// × a2), |γ2|·(ι2·E(μ2) + |tc|·E'(ι2)) at y, E' the part of E(ι) from E(V) alone.
// Running statistics, r' = (1 − m)·r + m·s with m = fl(0.1): E = 0.1·E(s) + 4u·(|r| + 0.1·|s|)
// (1 − m and the products and the sum, each u; m itself u), s the mean or V/(P − 1).
// Backward: sums Σdy, Σdy·t̂ (t̂ = tc·ι2), Σdx2, Σdx2·ẑ, Σdz, Σdz·x_tap as above;
//   e = dy − m4 − t̂·m5:       E(m4) + |t̂|·E(m5) + |m5|·E(t̂) + 3u·(|dy| + |m4| + |t̂·m5|)  (eval: e = dy, exact)
//   dt = (γ2·ι2)·e:           |γ2|·(E(ι2)·|e| + ι2·E(e)) + 2u·|dt|
//   g = s + d·s·s̄:            0.5·E(d) + (16 + 8|d|)u·(s + |d|·s·s̄)   (|g'| ≤ 0.5, measured on a grid)
//   dx1 = dt·g: |g|·E(dt) + |dt|·E(g) + u·|dx1|;  dx2 = dt·(1 − g): |1 − g|·E(dt) + |dt|·E(g) + 2u·|dx2|
//   dz likewise from dx2, ẑ, m6, m7 and γ1·ι1;  dx = Σ w·dz + Σ dx1 over ≤ 13 terms: Σ(|w|·E(dz) +
//   u·|w·dz|) + Σ E(dx1) + γ₁₃·Σ|terms|.

/** Per-channel and per-position errors of the kernels' forward chain, the reference's values beside them. */
interface Chain {
  P: number;
  /** Per position of the NCHW-ordered output grid. */
  zc: Float64Array;
  Ezc: Float64Array;
  zhat: Float64Array;
  Ezhat: Float64Array;
  d: Float64Array;
  Ed: Float64Array;
  Ex2: Float64Array;
  tc: Float64Array;
  Etc: Float64Array;
  /** Per channel: the statistics (μ, ι) and their errors, E'(ι) from the data alone. */
  mean: [Float64Array, Float64Array];
  inv: [Float64Array, Float64Array];
  Emean: [Float64Array, Float64Array];
  Einv: [Float64Array, Float64Array];
  EinvData: [Float64Array, Float64Array];
  /** Per channel: the sums of squares V (×P the biased variance) and their errors. */
  V: [Float64Array, Float64Array];
  EV: [Float64Array, Float64Array];
}

function chainErrors(
  x: ArrayLike<number>,
  shape: Shape4,
  p: AconFReluParamsRef,
  stride: number,
  dataFormat: DataFormat,
  training: boolean,
  depth: number,
): Chain & { ref: ReturnType<typeof aconFReluForwardRef> } {
  const ref = aconFReluForwardRef(x, shape, p, { stride, training, dataFormat });
  const [N, C] = shape;
  const [, , Ho, Wo] = ref.outShape;
  const at = indexer(shape, dataFormat);
  const Q = N * C * Ho * Wo;
  const P = N * Ho * Wo;
  const gD = gamma(depth);
  const g9 = gamma(9);
  const arr = () => new Float64Array(Q);
  const pair = () => [new Float64Array(C), new Float64Array(C)] as [Float64Array, Float64Array];
  const ch: Chain = {
    P,
    zc: arr(),
    Ezc: arr(),
    zhat: arr(),
    Ezhat: arr(),
    d: arr(),
    Ed: arr(),
    Ex2: arr(),
    tc: arr(),
    Etc: arr(),
    mean: pair(),
    inv: pair(),
    Emean: pair(),
    Einv: pair(),
    EinvData: pair(),
    V: pair(),
    EV: pair(),
  };
  const Ez = arr();
  const idx = (n: number, c: number, q: number) => (n * C + c) * Ho * Wo + q;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const q = idx(n, c, i * Wo + j);
          Ez[q] = g9 * absTaps(x, shape, at, p.convFrelu.weight, n, c, i, j, stride) + U * Math.abs(ref.conv[q]!);
        }
  /** Statistics of one batch norm over h with per-position errors Eh; fills the chain's zc-like arrays. */
  const stats = (
    b: 0 | 1,
    h: Float64Array,
    Eh: Float64Array,
    bn: typeof p.bn1,
    hc: Float64Array,
    Ehc: Float64Array,
  ) => {
    for (let c = 0; c < C; c++) {
      let mean: number;
      let Emean = 0;
      let var_: number;
      let Evar = 0;
      if (training) {
        let S = 0;
        let ES = 0;
        let A = 0;
        for (let n = 0; n < N; n++)
          for (let q = 0; q < Ho * Wo; q++) {
            const k = idx(n, c, q);
            S += h[k]!;
            ES += Eh[k]!;
            A += Math.abs(h[k]!);
          }
        mean = S / P;
        Emean = (ES + gD * A) / P + 5 * U * Math.abs(mean);
        let V = 0;
        let EV = 0;
        for (let n = 0; n < N; n++)
          for (let q = 0; q < Ho * Wo; q++) {
            const k = idx(n, c, q);
            const zc = h[k]! - mean;
            const E = Eh[k]! + Emean + U * Math.abs(zc);
            V += zc * zc;
            EV += 2 * Math.abs(zc) * E + U * zc * zc;
          }
        EV += gD * V;
        ch.V[b][c] = V;
        ch.EV[b][c] = EV;
        var_ = V / P;
        Evar = EV / P + 5 * U * var_;
      } else {
        mean = bn.runningMean[c]!;
        var_ = bn.runningVar[c]!;
      }
      const inv = 1 / Math.sqrt(var_ + BN_EPS);
      const dataRel = (0.5 * Evar) / (var_ + BN_EPS);
      ch.mean[b][c] = mean;
      ch.Emean[b][c] = Emean;
      ch.inv[b][c] = inv;
      ch.EinvData[b][c] = inv * dataRel;
      ch.Einv[b][c] = inv * (dataRel + 5 * U);
      for (let n = 0; n < N; n++)
        for (let q = 0; q < Ho * Wo; q++) {
          const k = idx(n, c, q);
          hc[k] = h[k]! - mean;
          Ehc[k] = Eh[k]! + Emean + U * Math.abs(hc[k]!);
        }
    }
  };
  stats(0, ref.conv, Ez, p.bn1, ch.zc, ch.Ezc);
  const Et = arr();
  for (let k = 0; k < Q; k++) {
    const c = Math.floor(k / (Ho * Wo)) % C;
    const inv = ch.inv[0][c]!;
    const g1 = Math.abs(p.bn1.weight[c]!);
    ch.zhat[k] = ch.zc[k]! * inv;
    ch.Ezhat[k] = ch.Ezc[k]! * inv + Math.abs(ch.zc[k]!) * ch.Einv[0][c]! + U * Math.abs(ch.zhat[k]!);
    const x2 = ref.bn1.out[k]!;
    ch.Ex2[k] = g1 * ch.Ezhat[k]! + U * g1 * Math.abs(ch.zhat[k]!) + U * Math.abs(x2);
    const d = ref.x1[k]! - x2;
    ch.d[k] = d;
    ch.Ed[k] = ch.Ex2[k]! + U * Math.abs(d);
    Et[k] =
      1.1 * ch.Ex2[k]! +
      1.1 * U * Math.abs(d) +
      (14 + 4 * Math.abs(d)) * U * Math.abs(d * sigmoid(d)) +
      U * Math.abs(ref.t[k]!);
  }
  stats(1, ref.t, Et, p.bn2, ch.tc, ch.Etc);
  return { ...ch, ref };
}

/** Bounds of the training forward: y (in y's data format) and the four running statistics after the call. */
export function trainForwardBounds(
  x: ArrayLike<number>,
  shape: Shape4,
  p: AconFReluParamsRef,
  stride: number,
  dataFormat: DataFormat,
  depth: number,
): {
  y: Float64Array;
  bn1: { runningMean: Float64Array; runningVar: Float64Array };
  bn2: { runningMean: Float64Array; runningVar: Float64Array };
} {
  const ch = chainErrors(x, shape, p, stride, dataFormat, true, depth);
  const [N, C] = shape;
  const [, , Ho, Wo] = ch.ref.outShape;
  const P = ch.P;
  // the eval kernel's own rounding, on the batch statistics (mean, biased variance) as running ones
  const batchBn = (b: 0 | 1, bn: typeof p.bn1) => ({
    weight: bn.weight,
    bias: bn.bias,
    runningMean: ch.mean[b],
    runningVar: ch.V[b].map((v) => v / P),
  });
  const y = evalForwardBounds(x, shape, { ...p, bn1: batchBn(0, p.bn1), bn2: batchBn(1, p.bn2) }, stride, dataFormat);
  const out = indexer(ch.ref.outShape, dataFormat);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const g1 = Math.abs(p.bn1.weight[c]!);
      const a2 = Math.abs(p.bn2.weight[c]!) * ch.inv[1][c]!;
      for (let q = 0; q < Ho * Wo; q++) {
        const k = (n * C + c) * Ho * Wo + q;
        const Ex2 = g1 * (ch.inv[0][c]! * ch.Emean[0][c]! + Math.abs(ch.zc[k]!) * ch.EinvData[0][c]!);
        const Ey =
          a2 * 1.1 * Ex2 +
          Math.abs(p.bn2.weight[c]!) * (ch.inv[1][c]! * ch.Emean[1][c]! + Math.abs(ch.tc[k]!) * ch.EinvData[1][c]!);
        y[out(n, c, Math.floor(q / Wo), q % Wo)] += Ey;
      }
    }
  const running = (b: 0 | 1, bn: typeof p.bn1) => ({
    runningMean: Float64Array.from({ length: C }, (_, c) => {
      const s = ch.mean[b][c]!;
      return 0.1 * ch.Emean[b][c]! + 4 * U * (Math.abs(bn.runningMean[c]!) + 0.1 * Math.abs(s));
    }),
    runningVar: Float64Array.from({ length: C }, (_, c) => {
      const s = ch.V[b][c]! / (P - 1);
      const Es = ch.EV[b][c]! / (P - 1) + 5 * U * s;
      return 0.1 * Es + 4 * U * (Math.abs(bn.runningVar[c]!) + 0.1 * s);
    }),
  });
  return { y, bn1: running(0, p.bn1), bn2: running(1, p.bn2) };
}

/** Bounds of the backward's gradients (dx in x's data format; the parameters' as PyTorch shapes them). */
export function backwardBounds(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape4,
  p: AconFReluParamsRef,
  stride: number,
  dataFormat: DataFormat,
  training: boolean,
  depth: number,
): {
  dx: Float64Array;
  convFrelu: { weight: Float64Array; bias: Float64Array };
  bn1: { weight: Float64Array; bias: Float64Array };
  bn2: { weight: Float64Array; bias: Float64Array };
} {
  const ch = chainErrors(x, shape, p, stride, dataFormat, training, depth);
  const [N, C, H, W] = shape;
  const [, , Ho, Wo] = ch.ref.outShape;
  const P = ch.P;
  const HW = Ho * Wo;
  const gD = gamma(depth);
  const at = indexer(shape, dataFormat);
  const out = indexer(ch.ref.outShape, dataFormat);
  const Q = N * C * HW;
  const g = { dy: new Float64Array(Q) };
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let q = 0; q < HW; q++) g.dy[(n * C + c) * HW + q] = dy[out(n, c, Math.floor(q / Wo), q % Wo)]!;
  const perChannel = () => new Float64Array(C);
  const res = {
    dx: new Float64Array(N * C * H * W),
    convFrelu: { weight: new Float64Array(9 * C), bias: perChannel() },
    bn1: { weight: perChannel(), bias: perChannel() },
    bn2: { weight: perChannel(), bias: perChannel() },
  };
  const dz = new Float64Array(Q);
  const Edz = new Float64Array(Q);
  const dx1 = new Float64Array(Q);
  const Edx1 = new Float64Array(Q);
  for (let c = 0; c < C; c++) {
    const positions = Array.from({ length: N * HW }, (_, i) => Math.floor(i / HW) * C * HW + c * HW + (i % HW));
    // Σ t and Σ t·s with errors, over the channel's positions
    const sum = (t: (k: number) => number, Et: (k: number) => number) => {
      let S = 0;
      let A = 0;
      let E = 0;
      for (const k of positions) {
        S += t(k);
        A += Math.abs(t(k));
        E += Et(k);
      }
      return { S, E: E + gD * A + FLUSH * (1 + A) };
    };
    const mean = (s: { S: number; E: number }) =>
      training ? { m: s.S / P, E: s.E / P + 5 * U * Math.abs(s.S / P) } : { m: 0, E: 0 };
    const inv2 = ch.inv[1][c]!;
    const that = (k: number) => ch.tc[k]! * inv2;
    const Ethat = (k: number) => ch.Etc[k]! * inv2 + Math.abs(ch.tc[k]!) * ch.Einv[1][c]! + U * Math.abs(that(k));
    const s4 = sum(
      (k) => g.dy[k]!,
      () => 0,
    );
    const s5 = sum(
      (k) => g.dy[k]! * that(k),
      (k) => Math.abs(g.dy[k]!) * (Ethat(k) + U * Math.abs(that(k))),
    );
    res.bn2.bias[c] = s4.E;
    res.bn2.weight[c] = s5.E;
    const [m4, m5] = [mean(s4), mean(s5)];
    /** dt, dx1, dx2 and their errors at position k. */
    const dx2 = new Map<number, [number, number]>();
    const G2 = Math.abs(p.bn2.weight[c]!);
    for (const k of positions) {
      const dyk = g.dy[k]!;
      const e = training ? dyk - m4.m - that(k) * m5.m : dyk;
      const Ee = training
        ? m4.E +
          Math.abs(that(k)) * m5.E +
          Math.abs(m5.m) * Ethat(k) +
          3 * U * (Math.abs(dyk) + Math.abs(m4.m) + Math.abs(that(k) * m5.m))
        : 0;
      const dt = p.bn2.weight[c]! * inv2 * e;
      const Edt = G2 * (ch.Einv[1][c]! * Math.abs(e) + inv2 * Ee) + 2 * U * Math.abs(dt);
      const d = ch.d[k]!;
      const s = sigmoid(d);
      const sb = sigmoid(-d);
      const gd = s + d * s * sb;
      const Eg = 0.5 * ch.Ed[k]! + (16 + 8 * Math.abs(d)) * U * (s + Math.abs(d) * s * sb);
      dx1[k] = dt * gd;
      Edx1[k] = Math.abs(gd) * Edt + Math.abs(dt) * Eg + U * Math.abs(dx1[k]!);
      const v = dt * (1 - gd);
      dx2.set(k, [v, Math.abs(1 - gd) * Edt + Math.abs(dt) * Eg + 2 * U * Math.abs(v)]);
    }
    const inv1 = ch.inv[0][c]!;
    const s6 = sum(
      (k) => dx2.get(k)![0],
      (k) => dx2.get(k)![1],
    );
    const s7 = sum(
      (k) => dx2.get(k)![0] * ch.zhat[k]!,
      (k) =>
        Math.abs(ch.zhat[k]!) * dx2.get(k)![1] +
        Math.abs(dx2.get(k)![0]) * ch.Ezhat[k]! +
        U * Math.abs(dx2.get(k)![0] * ch.zhat[k]!),
    );
    res.bn1.bias[c] = s6.E;
    res.bn1.weight[c] = s7.E;
    const [m6, m7] = [mean(s6), mean(s7)];
    const G1 = Math.abs(p.bn1.weight[c]!);
    for (const k of positions) {
      const [v, Ev] = dx2.get(k)!;
      const zh = ch.zhat[k]!;
      const e = training ? v - m6.m - zh * m7.m : v;
      const Ee = training
        ? Ev +
          m6.E +
          Math.abs(zh) * m7.E +
          Math.abs(m7.m) * ch.Ezhat[k]! +
          3 * U * (Math.abs(v) + Math.abs(m6.m) + Math.abs(zh * m7.m))
        : Ev;
      dz[k] = p.bn1.weight[c]! * inv1 * e;
      Edz[k] = G1 * (ch.Einv[0][c]! * Math.abs(e) + inv1 * Ee) + 2 * U * Math.abs(dz[k]!);
    }
    // dbias = Σ dz, dweight[c, tap] = Σ dz·x_tap
    res.convFrelu.bias[c] = sum(
      (k) => dz[k]!,
      (k) => Edz[k]!,
    ).E;
    for (let tap = 0; tap < 9; tap++) {
      const xt = (k: number) => {
        const n = Math.floor(k / (C * HW));
        const q = k % HW;
        const [h, w] = [Math.floor(q / Wo) * stride + Math.floor(tap / 3) - 1, (q % Wo) * stride + (tap % 3) - 1];
        return h < 0 || h >= H || w < 0 || w >= W ? 0 : x[at(n, c, h, w)]!;
      };
      res.convFrelu.weight[c * 9 + tap] = sum(
        (k) => dz[k]! * xt(k),
        (k) => Math.abs(xt(k)) * Edz[k]! + U * Math.abs(dz[k]! * xt(k)),
      ).E;
    }
  }
  // dx: per input element, the ≤ 9 conv terms and ≤ 4 pool terms of the windows that read it
  const terms = new Float64Array(res.dx.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let q = 0; q < HW; q++) {
        const k = (n * C + c) * HW + q;
        const [i, j] = [Math.floor(q / Wo), q % Wo];
        for (let tap = 0; tap < 9; tap++) {
          const [h, w] = [i * stride + Math.floor(tap / 3) - 1, j * stride + (tap % 3) - 1];
          if (h < 0 || h >= H || w < 0 || w >= W) continue;
          const wt = Math.abs(p.convFrelu.weight[c * 9 + tap]!);
          const e = at(n, c, h, w);
          res.dx[e] += wt * Edz[k]! + U * wt * Math.abs(dz[k]!);
          terms[e] += wt * Math.abs(dz[k]!);
        }
        const e = ch.ref.argmax[k]!;
        res.dx[e] += Edx1[k]!;
        terms[e] += Math.abs(dx1[k]!);
      }
  const g13 = gamma(13);
  for (let e = 0; e < res.dx.length; e++) res.dx[e] += g13 * terms[e]! + FLUSH * (1 + terms[e]!);
  return res;
}
