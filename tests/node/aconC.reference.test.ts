// The CPU reference, checked without a GPU: against TensorFlow.js autodiff of the same formula
// written from tfjs primitives, against central finite differences, and against ACON's known
// properties.
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import {
  aconCBackwardRef,
  aconCForwardRef,
  aconCPartials,
  aconCValue,
  sigmoidPair,
  type DataFormat,
  type Shape4,
} from '../../src/activations/aconC/reference';
import { normal, rng, uniform } from '../../src/ops/random';
import { U, gamma } from '../../src/reference/tolerance';
import { aconCComposed } from '../../src/tfjs/composed';
import { checkCentralDifferences } from '../helpers/fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function toNCHW(a: ArrayLike<number>, [N, C, H, W]: Shape4): Float32Array {
  const out = new Float32Array(a.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) out[(n * C + c) * H * W + p] = a[(n * H * W + p) * C + c]!;
  return out;
}

describe('reference vs TensorFlow.js autodiff (cpu backend)', () => {
  const shapes: [Shape4, DataFormat][] = [
    [[1, 1, 1, 1], 'NCHW'],
    [[2, 3, 4, 5], 'NCHW'],
    [[3, 17, 7, 7], 'NCHW'],
    [[4, 5, 3, 2], 'NHWC'],
    [[2, 64, 5, 5], 'NCHW'],
  ];
  test.each(shapes)('%j %s', (shape, layout) => {
    const [N, C, H, W] = shape;
    const r = rng(N * 1000 + C * 10 + H);
    const count = N * C * H * W;
    const x = normal(r, count, 1);
    const dy = normal(r, count);
    const p = { p1: normal(r, C), p2: normal(r, C), beta: uniform(r, C, -1, 1) };
    // tfjs works in NCHW here; the reference is run in the case's layout and transposed back.
    const xr = layout === 'NCHW' ? x : toNCHW(x, shape);
    const dyr = layout === 'NCHW' ? dy : toNCHW(dy, shape);
    const y = aconCForwardRef(x, shape, p, layout);
    const g = aconCBackwardRef(x, dy, shape, p, layout);
    const [tx, tdy] = [xr, dyr].map((a) => tf.tensor4d(a, [N, C, H, W]));
    const [tp1, tp2, tb] = [p.p1, p.p2, p.beta].map((a) => tf.tensor4d(a, [1, C, 1, 1]));
    const ty = aconCComposed(tx!, tp1!, tp2!, tb!).dataSync();
    const grads = tf.grads((a, b, c, d) => aconCComposed(a, b, c, d) as tf.Tensor4D)(
      [tx!, tp1!, tp2!, tb!],
      tdy as tf.Tensor4D,
    );
    const [gx, g1, g2, gb] = grads.map((t) => t.dataSync());

    // tfjs rounds every op to float32: a chain of at most 12 roundings per term, plus the
    // cancellation in its σ'(z) = s·(1 − s) with s rounded, which scales the error of 1 − s by
    // s/(1 − s) ≤ e^|z| (|z| ≤ |β|·|p1 − p2|·|x| stays small here). Sums over N·H·W add γ_{NHW}.
    const yRef = layout === 'NCHW' ? y : toNCHW(y, shape);
    const dxRef = layout === 'NCHW' ? g.dx : toNCHW(g.dx, shape);
    const mag = {
      y: new Float64Array(count),
      dx: new Float64Array(count),
      t1: new Float64Array(C),
      t2: new Float64Array(C),
      tb: new Float64Array(C),
      k: new Float64Array(C),
    };
    let worstZ = 0;
    for (let i = 0; i < count; i++) {
      const c = Math.floor(i / (H * W)) % C;
      const dp = p.p1[c]! - p.p2[c]!;
      const d = dp * xr[i]!;
      const z = p.beta[c]! * d;
      const [s, sn] = sigmoidPair(z);
      const zq = Math.abs(z * s * sn);
      const amp = 12 + 2 * Math.exp(Math.abs(z));
      worstZ = Math.max(worstZ, Math.abs(z));
      const gy = Math.abs(dyr[i]!);
      mag.y[i] = amp * U * (Math.abs(d * s) + Math.abs(p.p2[c]! * xr[i]!));
      mag.dx[i] = amp * U * gy * (Math.abs(dp) * (s + zq) + Math.abs(p.p2[c]!));
      mag.t1[c] += gy * Math.abs(xr[i]!) * (s + zq);
      mag.t2[c] += gy * Math.abs(xr[i]!) * (1 + s + zq);
      mag.tb[c] += gy * d * d * s * sn;
      mag.k[c] = Math.max(mag.k[c]!, amp * U);
    }
    // The bound holds for any z but says little once e^|z| is large: keep the data where it is tight.
    expect(worstZ).toBeLessThan(12);
    const within = (got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number) => {
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(got[i]! - want[i]!), `index ${i}`).toBeLessThanOrEqual(bound(i));
    };
    const sumBound = (m: Float64Array) => (c: number) => (mag.k[c]! + gamma(N * H * W)) * m[c]! + 1e-30;
    within(ty, yRef, (i) => mag.y[i]! + 1e-30);
    within(gx!, dxRef, (i) => mag.dx[i]! + 1e-30);
    within(g1!, g.p1, sumBound(mag.t1));
    within(g2!, g.p2, sumBound(mag.t2));
    within(gb!, g.beta, sumBound(mag.tb));
    tf.dispose([tx!, tdy!, tp1!, tp2!, tb!, ...grads]);
  });
});

describe('reference vs central finite differences (float64)', () => {
  // Central differences with step h have truncation error h²/6·|f'''| and rounding error
  // ≈ 2⁻⁵³·|f|/h. With h = 1e-5 and |f'''| ≤ ~10³ on these inputs, both stay below 1e-7·(1 + |f|),
  // so a 1e-6·(1 + |f'| + |f|) tolerance is tight and cannot hide a wrong derivative (O(1) off).
  const h = 1e-5;
  const cd = (f: (v: number) => number, v: number) => (f(v + h) - f(v - h)) / (2 * h);

  test('per element, over a grid of x, p1, p2, β including p1 < p2, β < 0 and β = 0', () => {
    const xs = [-8, -2.5, -1, -0.3, 0, 0.4, 1, 3, 9];
    const ps = [-1.7, -0.4, 0, 0.8, 2.2];
    const bs = [-2, -0.5, 0, 1, 3];
    let checked = 0;
    for (const x of xs)
      for (const p1 of ps)
        for (const p2 of ps)
          for (const b of bs) {
            const [gx, g1, g2, gb] = aconCPartials(x, p1, p2, b);
            const tol = (fd: number) => 1e-6 * (1 + Math.abs(fd) + Math.abs(aconCValue(x, p1, p2, b)));
            const fx = cd((v) => aconCValue(v, p1, p2, b), x);
            const f1 = cd((v) => aconCValue(x, v, p2, b), p1);
            const f2 = cd((v) => aconCValue(x, p1, v, b), p2);
            const fb = cd((v) => aconCValue(x, p1, p2, v), b);
            expect(Math.abs(gx - fx)).toBeLessThanOrEqual(tol(fx));
            expect(Math.abs(g1 - f1)).toBeLessThanOrEqual(tol(f1));
            expect(Math.abs(g2 - f2)).toBeLessThanOrEqual(tol(f2));
            expect(Math.abs(gb - fb)).toBeLessThanOrEqual(tol(fb));
            checked++;
          }
    expect(checked).toBe(9 * 5 * 5 * 5);
  });

  test.each(['NCHW', 'NHWC'] as DataFormat[])(
    'whole tensors (%s): L = Σ dy·y, per-channel and per-sample β',
    (layout) => {
      for (const perSample of [false, true]) {
        const shape: Shape4 = [2, 3, 3, 2];
        const [N, C] = shape;
        const r = rng(perSample ? 5 : 6);
        const x = Array.from(normal(r, 36, 2));
        const dy = Array.from(normal(r, 36));
        const p = {
          p1: Array.from(normal(r, C)),
          p2: Array.from(normal(r, C)),
          beta: Array.from(uniform(r, perSample ? N * C : C, -2, 2)),
        };
        const loss = () => aconCForwardRef(x, shape, p, layout).reduce((a, v, i) => a + v * dy[i]!, 0);
        const g = aconCBackwardRef(x, dy, shape, p, layout);
        const check = (arr: number[], grad: Float64Array) => checkCentralDifferences('grad', arr, grad, loss, h);
        check(x, g.dx);
        check(p.p1, g.p1);
        check(p.p2, g.p2);
        check(p.beta, g.beta);
        expect(g.beta.length).toBe(perSample ? N * C : C);
      }
    },
  );
});

describe('ACON-C properties', () => {
  const r = rng(3);
  const cases = Array.from(
    { length: 500 },
    () => [normal(r, 1, 3)[0]!, normal(r, 1)[0]!, normal(r, 1)[0]!, uniform(r, 1, -3, 3)[0]!] as const,
  );

  test('symmetric under swapping p1 and p2', () => {
    for (const [x, p1, p2, b] of cases) expect(aconCValue(x, p2, p1, b)).toBeCloseTo(aconCValue(x, p1, p2, b), 12);
  });
  test('β = 0 gives the linear unit (p1 + p2)/2·x', () => {
    for (const [x, p1, p2] of cases) expect(aconCValue(x, p1, p2, 0)).toBeCloseTo(((p1 + p2) / 2) * x, 12);
  });
  test('ACON-A is Swish and ACON-B is (1 − p2)·x·σ(β(1 − p2)x) + p2·x', () => {
    for (const [x, , p2, b] of cases) {
      expect(aconCValue(x, 1, 0, b)).toBeCloseTo(x / (1 + Math.exp(-b * x)), 12);
      const d = (1 - p2) * x;
      expect(aconCValue(x, 1, p2, b)).toBeCloseTo(d / (1 + Math.exp(-b * d)) + p2 * x, 12);
    }
  });
  test('the first derivative is bounded by its learnable limits: p1, p2 at ±∞; 1.0998·(p1 − p2) + p2 and −0.0998·(p1 − p2) + p2 at ±2.3994/(β·(p1 − p2))', () => {
    const p1 = 1.3;
    const p2 = -0.4;
    const b = 0.7;
    const k = b * (p1 - p2);
    const dxAt = (x: number) => aconCPartials(x, p1, p2, b)[0];
    expect(dxAt(1e3)).toBeCloseTo(p1, 10);
    expect(dxAt(-1e3)).toBeCloseTo(p2, 10);
    const u = 2.399357280515;
    expect(u * Math.tanh(u / 2)).toBeCloseTo(2, 9);
    expect(dxAt(u / k)).toBeCloseTo(1.0998 * (p1 - p2) + p2, 3);
    expect(dxAt(-u / k)).toBeCloseTo(-0.0998 * (p1 - p2) + p2, 3);
    // and they are the extremes: no x on a fine grid goes beyond them
    let hi = -Infinity;
    let lo = Infinity;
    for (let x = -20; x <= 20; x += 1e-3) {
      hi = Math.max(hi, dxAt(x));
      lo = Math.min(lo, dxAt(x));
    }
    expect(hi).toBeCloseTo(dxAt(u / k), 6);
    expect(lo).toBeCloseTo(dxAt(-u / k), 6);
  });
  test('σ is stable: no overflow or NaN for large |z|, NaN propagates', () => {
    for (const z of [-1e6, -800, -50, 0, 50, 800, 1e6]) {
      const [s, sn] = sigmoidPair(z);
      expect(Number.isFinite(s) && Number.isFinite(sn)).toBe(true);
      expect(s + sn).toBeCloseTo(1, 15);
    }
    expect(sigmoidPair(-800)[0]).toBe(0);
    expect(sigmoidPair(NaN).every(Number.isNaN)).toBe(true);
    expect(aconCPartials(1e4, 2, -1, 3).every(Number.isFinite)).toBe(true);
  });
});
