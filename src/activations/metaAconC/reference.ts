/**
 * CPU reference for Meta-ACON-C, in float64, stage by stage (each stage is exported so that tests
 * can check each GPU kernel on the GPU's own inputs).
 *
 *   m  = mean_HW(x)                       [N, C]
 *   h1 = m·W1ᵀ + b1                       [N, R]   (1×1 conv, W1: [R, C])
 *   a1 = BN1(h1)                          [N, R]
 *   h2 = a1·W2ᵀ + b2                      [N, C]   (1×1 conv, W2: [C, R])
 *   β  = σ(BN2(h2))                       [N, C]
 *   y  = ACON-C(x; p1, p2, β[n, c])
 * R = max(r, ⌊C / r⌋). BN in training mode normalises with the batch mean and biased variance
 * over N, and moves the running statistics by momentum 0.1 towards the batch mean and the
 * unbiased variance; in eval mode it normalises with the running statistics. ε = 1e-5.
 *
 * Backward, stage by stage (g· is the gradient of the loss with respect to ·):
 *   ACON-C with per-sample β gives gx_direct, gp1, gp2 and gβ[n, c] (sums over H, W)
 *   σ:     gz2 = gβ·β·(1 − β)
 *   BN:    train: gx = γ/σ_B·(gy − mean_N(gy) − x̂·mean_N(gy·x̂)); eval: gx = γ/σ_run·gy;
 *          gγ = Σ_N gy·x̂, gβ_bn = Σ_N gy
 *   conv:  gin = gout·W, gW = goutᵀ·in, gb = Σ_N gout
 *   mean:  gx += gm[n, c]/(H·W) at every (h, w)
 * Imports nothing of ours but the ACON-C reference: its constants and parameter sets are its own
 * copies, which tests/node/constants.test.ts holds equal to the library's.
 */
import { aconCBackwardRef, aconCForwardRef, type DataFormat, type Shape4 } from '../aconC/reference';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

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

export type MetaAconCParamsRef = MetaParamSet<ArrayLike<number>>;
export type BatchNormParams = MetaAconCParamsRef['bn1'];

/** Mean over H, W of each (n, c) plane: [N·C]. */
export function planeMeansRef(
  x: ArrayLike<number>,
  [N, C, H, W]: Shape4,
  dataFormat: DataFormat = 'NCHW',
): Float64Array {
  const hw = H * W;
  const m = new Float64Array(N * C);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let p = 0; p < hw; p++) s += x[dataFormat === 'NCHW' ? (n * C + c) * hw + p : (n * hw + p) * C + c]!;
      m[n * C + c] = s / hw;
    }
  return m;
}

/** out[n, o] = b[o] + Σ_i w[o, i]·inp[n, i]; inp [N, I], w [O, I]. */
export function conv1x1Ref(
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
      let s = b[o]!;
      for (let i = 0; i < I; i++) s += w[o * I + i]! * inp[n * I + i]!;
      out[n * O + o] = s;
    }
  return out;
}

export interface BatchNormForwardRef {
  out: Float64Array;
  /** Per feature: the mean and 1/√(var + ε) used for normalising. */
  mean: Float64Array;
  invStd: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
}

/** Batch norm over N of [N, F] (train: batch statistics; eval: running), optionally followed by σ. */
export function batchNormRef(
  inp: ArrayLike<number>,
  N: number,
  F: number,
  p: BatchNormParams,
  training: boolean,
  sigmoid = false,
): BatchNormForwardRef {
  const out = new Float64Array(N * F);
  const mean = new Float64Array(F);
  const invStd = new Float64Array(F);
  const runningMean = Float64Array.from(p.runningMean);
  const runningVar = Float64Array.from(p.runningVar);
  for (let f = 0; f < F; f++) {
    let mu: number;
    let v: number;
    if (training) {
      mu = 0;
      for (let n = 0; n < N; n++) mu += inp[n * F + f]!;
      mu /= N;
      v = 0;
      for (let n = 0; n < N; n++) v += (inp[n * F + f]! - mu) ** 2;
      runningMean[f] = (1 - BN_MOMENTUM) * runningMean[f]! + BN_MOMENTUM * mu;
      runningVar[f] = (1 - BN_MOMENTUM) * runningVar[f]! + BN_MOMENTUM * (v / (N - 1));
      v /= N;
    } else {
      mu = p.runningMean[f]!;
      v = p.runningVar[f]!;
    }
    mean[f] = mu;
    invStd[f] = 1 / Math.sqrt(v + BN_EPS);
    for (let n = 0; n < N; n++) {
      const z = p.weight[f]! * (inp[n * F + f]! - mu) * invStd[f]! + p.bias[f]!;
      out[n * F + f] = sigmoid ? 1 / (1 + Math.exp(-z)) : z;
    }
  }
  return { out, mean, invStd, runningMean, runningVar };
}

/** Gradients of batch norm (and of a fused σ when `sigmoidOut` holds σ's output). */
export function batchNormBackwardRef(
  inp: ArrayLike<number>,
  gout: ArrayLike<number>,
  N: number,
  F: number,
  weight: ArrayLike<number>,
  fwd: { mean: ArrayLike<number>; invStd: ArrayLike<number> },
  training: boolean,
  sigmoidOut?: ArrayLike<number>,
): { gin: Float64Array; gweight: Float64Array; gbias: Float64Array } {
  const gin = new Float64Array(N * F);
  const gweight = new Float64Array(F);
  const gbias = new Float64Array(F);
  const gz = (k: number) => (sigmoidOut ? gout[k]! * sigmoidOut[k]! * (1 - sigmoidOut[k]!) : gout[k]!);
  for (let f = 0; f < F; f++) {
    const is = fwd.invStd[f]!;
    let sg = 0;
    let sgx = 0;
    for (let n = 0; n < N; n++) {
      const k = n * F + f;
      const xh = (inp[k]! - fwd.mean[f]!) * is;
      sg += gz(k);
      sgx += gz(k) * xh;
    }
    gweight[f] = sgx;
    gbias[f] = sg;
    const scale = weight[f]! * is;
    for (let n = 0; n < N; n++) {
      const k = n * F + f;
      const xh = (inp[k]! - fwd.mean[f]!) * is;
      gin[k] = training ? scale * (gz(k) - sg / N - (xh * sgx) / N) : scale * gz(k);
    }
  }
  return { gin, gweight, gbias };
}

/** gin = gout·W ([N, O]·[O, I]), gW = goutᵀ·inp, gb = Σ_N gout. */
export function conv1x1BackwardRef(
  inp: ArrayLike<number>,
  gout: ArrayLike<number>,
  w: ArrayLike<number>,
  N: number,
  I: number,
  O: number,
): { gin: Float64Array; gweight: Float64Array; gbias: Float64Array } {
  const gin = new Float64Array(N * I);
  const gweight = new Float64Array(O * I);
  const gbias = new Float64Array(O);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let o = 0; o < O; o++) s += gout[n * O + o]! * w[o * I + i]!;
      gin[n * I + i] = s;
    }
  for (let o = 0; o < O; o++) {
    let sb = 0;
    for (let n = 0; n < N; n++) sb += gout[n * O + o]!;
    gbias[o] = sb;
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += gout[n * O + o]! * inp[n * I + i]!;
      gweight[o * I + i] = s;
    }
  }
  return { gin, gweight, gbias };
}

export interface MetaForwardRef {
  y: Float64Array;
  m: Float64Array;
  h1: Float64Array;
  bn1: BatchNormForwardRef;
  h2: Float64Array;
  bn2: BatchNormForwardRef;
  /** [N·C]: the per-sample β. */
  beta: Float64Array;
}

function checkBatch(N: number, training: boolean): void {
  if (training && N < 2)
    throw new RangeError(
      'Meta-ACON in training mode needs a batch of at least 2 (batch statistics over one sample are undefined)',
    );
}

export function metaAconCForwardRef(
  x: ArrayLike<number>,
  shape: Shape4,
  p: MetaAconCParamsRef,
  training: boolean,
  dataFormat: DataFormat = 'NCHW',
): MetaForwardRef {
  const [N, C] = shape;
  checkBatch(N, training);
  const R = p.fc1.bias.length;
  const m = planeMeansRef(x, shape, dataFormat);
  const h1 = conv1x1Ref(m, p.fc1.weight, p.fc1.bias, N, C, R);
  const bn1 = batchNormRef(h1, N, R, p.bn1, training);
  const h2 = conv1x1Ref(bn1.out, p.fc2.weight, p.fc2.bias, N, R, C);
  const bn2 = batchNormRef(h2, N, C, p.bn2, training, true);
  const beta = bn2.out;
  const y = aconCForwardRef(x, shape, { p1: p.p1, p2: p.p2, beta }, dataFormat);
  return { y, m, h1, bn1, h2, bn2, beta };
}

export type MetaAconCGradsRef = MetaGradSet<Float64Array>;

export function metaAconCBackwardRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape4,
  p: MetaAconCParamsRef,
  training: boolean,
  dataFormat: DataFormat = 'NCHW',
): MetaAconCGradsRef & { forward: MetaForwardRef; gbeta: Float64Array } {
  const [N, C, H, W] = shape;
  const R = p.fc1.bias.length;
  const f = metaAconCForwardRef(x, shape, p, training, dataFormat);
  const a = aconCBackwardRef(x, dy, shape, { p1: p.p1, p2: p.p2, beta: f.beta }, dataFormat);
  const bn2 = batchNormBackwardRef(f.h2, a.beta, N, C, p.bn2.weight, f.bn2, training, f.beta);
  const fc2 = conv1x1BackwardRef(f.bn1.out, bn2.gin, p.fc2.weight, N, R, C);
  const bn1 = batchNormBackwardRef(f.h1, fc2.gin, N, R, p.bn1.weight, f.bn1, training);
  const fc1 = conv1x1BackwardRef(f.m, bn1.gin, p.fc1.weight, N, C, R);
  const dx = a.dx;
  const hw = H * W;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const g = fc1.gin[n * C + c]! / hw;
      for (let q = 0; q < hw; q++) dx[dataFormat === 'NCHW' ? (n * C + c) * hw + q : (n * hw + q) * C + c] += g;
    }
  return {
    dx,
    p1: a.p1,
    p2: a.p2,
    fc1: { weight: fc1.gweight, bias: fc1.gbias },
    bn1: { weight: bn1.gweight, bias: bn1.gbias },
    fc2: { weight: fc2.gweight, bias: fc2.gbias },
    bn2: { weight: bn2.gweight, bias: bn2.gbias },
    forward: f,
    gbeta: a.beta,
  };
}
