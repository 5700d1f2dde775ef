/**
 * CPU reference for ACON-FReLU, the paper's third activation (TFNet's Acon_FReLU, vendored as
 * scripts/torch_models/tfnet.py): plain loops, every value in float64 from the float32 inputs.
 * Imports nothing of ours.
 *
 *   x2 = BN1(dwconv3×3(x) + bias)       depthwise (groups = C), padding 1, stride s
 *   x1 = x (s = 1), or the 3×3 max pool of x with stride 2, padding 1 (s = 2)
 *   d  = x1 − x2,  t = d·σ(d) + x2,  y = BN2(t)
 * The output is [N, C, Ho, Wo], Ho = ⌊(H − 1)/s⌋ + 1 (the conv's and the pool's alike). The conv's
 * padding is zeros that its taps multiply, in the forward (w·0) and in dweight (dc·0): a NaN or an
 * infinity in w or dc makes NaN there, as PyTorch's unfold (im2col) convolution does; its CPU
 * default, oneDNN, skips padding taps (a NaN in dc then leaves dweight's padding taps finite).
 *
 * Batch norm as PyTorch's: in training, the batch's statistics over (N, Ho, Wo) with the biased
 * variance normalise, and the running statistics move by momentum 0.1 towards the mean and the
 * unbiased variance; in eval the running statistics normalise. ε = 1e-5.
 *
 * Backward, with g(d) = ∂t/∂d = σ(d) + d·σ(d)·σ(−d):
 *   dt from BN2's backward; dx1 = dt·g(d); dx2 = dt·(1 − g(d)); dc from BN1's backward (dx2);
 *   dbias = Σ dc, dweight[c, k] = Σ dc·x at tap k, dx = the conv's adjoint of dc, plus dx1 at x
 *   (s = 1) or at each window's maximum (s = 2). The pool's maximum is PyTorch's: the first of the
 *   window's largest values in row-major order (the last NaN, if any), padding never chosen.
 * Batch-norm backward in training: dx̂ = dy·γ, dh = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/σ_B; in eval
 * dh = dy·γ/√(running_var + ε); dγ = Σ dy·x̂, dβ = Σ dy either way (x̂ as that mode normalises).
 */

export type DataFormat = 'NCHW' | 'NHWC';
/** A tensor shape [N, C, H, W]. */
export type Shape4 = readonly [number, number, number, number];

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BatchNormRef<T = ArrayLike<number>> {
  weight: T;
  bias: T;
  runningMean: T;
  runningVar: T;
}

/** PyTorch's names: conv_frelu.weight [C, 1, 3, 3] (C·9 values), conv_frelu.bias [C], bn1.*, bn2.* [C]. */
export interface AconFReluParamsRef {
  convFrelu: { weight: ArrayLike<number>; bias: ArrayLike<number> };
  bn1: BatchNormRef;
  bn2: BatchNormRef;
}

export interface AconFReluOptionsRef {
  /** 1 or 2. */
  stride: number;
  training: boolean;
  dataFormat?: DataFormat;
}

/** Ho (or Wo) of a side of length `size`: ⌊(size + 2·1 − 3)/s⌋ + 1. */
export const outSize = (size: number, stride: number) => Math.floor((size - 1) / stride) + 1;

/** Index of element (n, c, h, w) of a [N, C, H, W] tensor stored in a data format. */
export function indexer([, C, H, W]: Shape4, f: DataFormat) {
  return f === 'NCHW'
    ? (n: number, c: number, h: number, w: number) => ((n * C + c) * H + h) * W + w
    : (n: number, c: number, h: number, w: number) => ((n * H + h) * W + w) * C + c;
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

interface Norm {
  /** The normalised values x̂ (as h), per element of the output grid. */
  xhat: Float64Array;
  /** 1/√(var + ε) per channel (batch or running variance). */
  invStd: Float64Array;
  out: Float64Array;
  /** Running statistics after the call (moved in training). */
  runningMean: Float64Array;
  runningVar: Float64Array;
}

/** Batch norm of h (NCHW-ordered [N, C, P], P positions) per channel. */
function batchNorm(h: Float64Array, N: number, C: number, P: number, bn: BatchNormRef, training: boolean): Norm {
  const mean = new Float64Array(C);
  const invStd = new Float64Array(C);
  const runningMean = Float64Array.from(bn.runningMean);
  const runningVar = Float64Array.from(bn.runningVar);
  const count = N * P;
  for (let c = 0; c < C; c++) {
    if (training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) s += h[(n * C + c) * P + p]!;
      const m = s / count;
      let q = 0;
      for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) q += (h[(n * C + c) * P + p]! - m) ** 2;
      mean[c] = m;
      invStd[c] = 1 / Math.sqrt(q / count + BN_EPS);
      runningMean[c] = (1 - BN_MOMENTUM) * runningMean[c]! + BN_MOMENTUM * m;
      runningVar[c] = (1 - BN_MOMENTUM) * runningVar[c]! + (BN_MOMENTUM * q) / (count - 1);
    } else {
      mean[c] = bn.runningMean[c]!;
      invStd[c] = 1 / Math.sqrt(bn.runningVar[c]! + BN_EPS);
    }
  }
  const xhat = new Float64Array(h.length);
  const out = new Float64Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const c = Math.floor(i / P) % C;
    xhat[i] = (h[i]! - mean[c]!) * invStd[c]!;
    out[i] = bn.weight[c]! * xhat[i]! + bn.bias[c]!;
  }
  return { xhat, invStd, out, runningMean, runningVar };
}

/** The adjoint of batchNorm: dh from dout, and dγ, dβ. */
function batchNormBackward(
  dout: Float64Array,
  norm: Norm,
  N: number,
  C: number,
  P: number,
  bn: BatchNormRef,
  training: boolean,
) {
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);
  const dh = new Float64Array(dout.length);
  const count = N * P;
  for (let c = 0; c < C; c++) {
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++) {
        const i = (n * C + c) * P + p;
        sumDy += dout[i]!;
        sumDyXhat += dout[i]! * norm.xhat[i]!;
      }
    dweight[c] = sumDyXhat;
    dbias[c] = sumDy;
    const g = bn.weight[c]!;
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++) {
        const i = (n * C + c) * P + p;
        dh[i] = training
          ? (g * norm.invStd[c]! * (count * dout[i]! - sumDy - norm.xhat[i]! * sumDyXhat)) / count
          : g * norm.invStd[c]! * dout[i]!;
      }
  }
  return { dh, dweight, dbias };
}

/** Everything the forward computes, NCHW-ordered on the output grid [N, C, Ho, Wo]. */
export interface AconFReluForwardRef {
  /** y in the input's data format. */
  y: Float64Array;
  /** The output's shape [N, C, Ho, Wo]. */
  outShape: [number, number, number, number];
  conv: Float64Array;
  x1: Float64Array;
  /** x1's source element in x (its index in x's data format), for the pool's adjoint. */
  argmax: Int32Array;
  bn1: Norm;
  t: Float64Array;
  bn2: Norm;
}

export function aconFReluForwardRef(
  x: ArrayLike<number>,
  shape: Shape4,
  p: AconFReluParamsRef,
  o: AconFReluOptionsRef,
): AconFReluForwardRef {
  const [N, C, H, W] = shape;
  const s = o.stride;
  const f = o.dataFormat ?? 'NCHW';
  const at = indexer(shape, f);
  const [Ho, Wo] = [outSize(H, s), outSize(W, s)];
  const P = Ho * Wo;
  const conv = new Float64Array(N * C * P);
  const x1 = new Float64Array(N * C * P);
  const argmax = new Int32Array(N * C * P);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const o = ((n * C + c) * Ho + i) * Wo + j;
          let acc = p.convFrelu.bias[c]!;
          let best = -Infinity;
          let bestAt = -1;
          for (let ki = 0; ki < 3; ki++)
            for (let kj = 0; kj < 3; kj++) {
              const [h, w] = [i * s + ki - 1, j * s + kj - 1];
              // a padding tap multiplies a zero (NaN where the weight is not finite)
              const inside = h >= 0 && h < H && w >= 0 && w < W;
              const v = inside ? x[at(n, c, h, w)]! : 0;
              acc += p.convFrelu.weight[c * 9 + ki * 3 + kj]! * v;
              if (!inside) continue;
              // PyTorch's max pool (MaxPoolKernel): from −∞ at the window's first element, take
              // each value greater than the best so far, or NaN (so the first largest wins a tie)
              if (bestAt < 0) bestAt = at(n, c, h, w);
              if (v > best || Number.isNaN(v)) [best, bestAt] = [v, at(n, c, h, w)];
            }
          conv[o] = acc;
          if (s === 1) {
            x1[o] = x[at(n, c, i, j)]!;
            argmax[o] = at(n, c, i, j);
          } else {
            x1[o] = best;
            argmax[o] = bestAt;
          }
        }
  const bn1 = batchNorm(conv, N, C, P, p.bn1, o.training);
  const t = new Float64Array(N * C * P);
  for (let i = 0; i < t.length; i++) {
    const d = x1[i]! - bn1.out[i]!;
    t[i] = d * sigmoid(d) + bn1.out[i]!;
  }
  const bn2 = batchNorm(t, N, C, P, p.bn2, o.training);
  const outShape: [number, number, number, number] = [N, C, Ho, Wo];
  const y = new Float64Array(N * C * P);
  const out = indexer(outShape, f);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let q = 0; q < P; q++) y[out(n, c, Math.floor(q / Wo), q % Wo)] = bn2.out[(n * C + c) * P + q]!;
  return { y, outShape, conv, x1, argmax, bn1, t, bn2 };
}

export interface AconFReluGradsRef {
  /** Same shape and data format as x. */
  dx: Float64Array;
  convFrelu: { weight: Float64Array; bias: Float64Array };
  bn1: { weight: Float64Array; bias: Float64Array };
  bn2: { weight: Float64Array; bias: Float64Array };
}

/** Gradients for the upstream gradient dy (the output's shape, in x's data format). */
export function aconFReluBackwardRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape4,
  p: AconFReluParamsRef,
  o: AconFReluOptionsRef,
): AconFReluGradsRef {
  const [N, C, H, W] = shape;
  const s = o.stride;
  const f = o.dataFormat ?? 'NCHW';
  const fw = aconFReluForwardRef(x, shape, p, o);
  const [, , Ho, Wo] = fw.outShape;
  const P = Ho * Wo;
  const out = indexer(fw.outShape, f);
  const dout = new Float64Array(N * C * P);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let q = 0; q < P; q++) dout[(n * C + c) * P + q] = dy[out(n, c, Math.floor(q / Wo), q % Wo)]!;
  const b2 = batchNormBackward(dout, fw.bn2, N, C, P, p.bn2, o.training);
  const dx1 = new Float64Array(N * C * P);
  const dx2 = new Float64Array(N * C * P);
  for (let i = 0; i < dx1.length; i++) {
    const d = fw.x1[i]! - fw.bn1.out[i]!;
    const sg = sigmoid(d);
    const g = sg + d * sg * (1 - sg);
    dx1[i] = b2.dh[i]! * g;
    dx2[i] = b2.dh[i]! * (1 - g);
  }
  const b1 = batchNormBackward(dx2, fw.bn1, N, C, P, p.bn1, o.training);
  const at = indexer(shape, f);
  const dx = new Float64Array(N * C * H * W);
  const dweight = new Float64Array(C * 9);
  const dbias = new Float64Array(C);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const q = ((n * C + c) * Ho + i) * Wo + j;
          const dc = b1.dh[q]!;
          dbias[c] += dc;
          for (let ki = 0; ki < 3; ki++)
            for (let kj = 0; kj < 3; kj++) {
              const [h, w] = [i * s + ki - 1, j * s + kj - 1];
              // a padding tap's weight gets dc·0 (NaN where dc is not finite)
              if (h < 0 || h >= H || w < 0 || w >= W) {
                dweight[c * 9 + ki * 3 + kj] += dc * 0;
                continue;
              }
              const e = at(n, c, h, w);
              dweight[c * 9 + ki * 3 + kj] += dc * x[e]!;
              dx[e] += dc * p.convFrelu.weight[c * 9 + ki * 3 + kj]!;
            }
          dx[fw.argmax[q]!] += dx1[q]!;
        }
  return {
    dx,
    convFrelu: { weight: dweight, bias: dbias },
    bn1: { weight: b1.dweight, bias: b1.dbias },
    bn2: { weight: b2.dweight, bias: b2.dbias },
  };
}
