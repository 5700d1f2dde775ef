// ACON-FReLU's float64 reference (issue 18's anchor for its kernels), checked without a GPU: against
// the official Acon_FReLU run by PyTorch in float64 (tests/fixtures/frelu/acon-frelu.json, written by
// scripts/make_frelu_fixtures.py: strides 1 and 2, training and eval, max-pool windows with ties),
// against central finite differences, and across data formats.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  aconFReluBackwardRef,
  aconFReluForwardRef,
  outSize,
  type AconFReluParamsRef,
  type DataFormat,
  type Shape4,
} from '../../src/activations/aconFRelu/reference';
import { normal, rng } from '../../src/ops/random';
import { checkCentralDifferences } from '../helpers/fixtures';

interface Case {
  shape: [number, number, number, number];
  stride: number;
  training: boolean;
  x: number[];
  dy: number[];
  params: Record<string, number[]>;
  y: number[];
  outShape: number[];
  grads: Record<string, number[]>;
  running: Record<string, number[]>;
}
const fixture = JSON.parse(readFileSync('tests/fixtures/frelu/acon-frelu.json', 'utf8')) as { cases: Case[] };

const bn = (d: Record<string, number[]>, k: string) => ({
  weight: d[`${k}.weight`]!,
  bias: d[`${k}.bias`]!,
  runningMean: d[`${k}.running_mean`]!,
  runningVar: d[`${k}.running_var`]!,
});
const paramsOf = (d: Record<string, number[]>): AconFReluParamsRef => ({
  convFrelu: { weight: d['conv_frelu.weight']!, bias: d['conv_frelu.bias']! },
  bn1: bn(d, 'bn1'),
  bn2: bn(d, 'bn2'),
});

const maxAbs = (...arrays: ArrayLike<number>[]) => Math.max(0, ...arrays.flatMap((a) => Array.from(a, Math.abs)));
/**
 * Both sides are float64 and differ only in the order of their operations: a few hundred roundings
 * of 2⁻⁵³ along any path, amplified by the two batch norms (1/σ_B ≤ 10 here) — under 1e-12 of the
 * output's scale. 1e-10 leaves two orders of magnitude to spare, and a wrong formula is off by O(1).
 */
const TOL = 1e-10;
function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, scale = maxAbs(want)) {
  expect(got.length, name).toBe(want.length);
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  expect(err, `${name}: max error ${err} against scale ${scale}`).toBeLessThanOrEqual(TOL * scale);
}

/** NCHW data as NHWC. */
function toNHWC(a: ArrayLike<number>, [N, C, H, W]: readonly number[]): number[] {
  const out = new Array<number>(a.length);
  for (let n = 0; n < N!; n++)
    for (let c = 0; c < C!; c++)
      for (let p = 0; p < H! * W!; p++) out[(n * H! * W! + p) * C! + c] = a[(n * C! + c) * H! * W! + p]!;
  return out;
}

describe('reference vs the official Acon_FReLU in PyTorch (float64)', () => {
  test('the fixture exercises the max pool’s tie rule: windows whose largest value occurs twice', () => {
    let ties = 0;
    for (const c of fixture.cases.filter((c) => c.stride === 2)) {
      const [N, C, H, W] = c.shape;
      for (let n = 0; n < N; n++)
        for (let ch = 0; ch < C; ch++)
          for (let i = 0; i < outSize(H, 2); i++)
            for (let j = 0; j < outSize(W, 2); j++) {
              const window: number[] = [];
              for (let h = 2 * i - 1; h <= 2 * i + 1; h++)
                for (let w = 2 * j - 1; w <= 2 * j + 1; w++)
                  if (h >= 0 && h < H && w >= 0 && w < W) window.push(c.x[((n * C + ch) * H + h) * W + w]!);
              const top = Math.max(...window);
              if (window.filter((v) => v === top).length > 1) ties++;
            }
    }
    expect(ties).toBeGreaterThan(20);
  });

  test.each(
    fixture.cases.map((c) => [`[${c.shape.join(',')}] stride ${c.stride} ${c.training ? 'training' : 'eval'}`, c]),
  )('%s: y, running statistics, and every gradient', (_, c) => {
    const p = paramsOf(c.params);
    const o = { stride: c.stride, training: c.training };
    const f = aconFReluForwardRef(c.x, c.shape, p, o);
    expect(f.outShape).toEqual(c.outShape);
    close('y', f.y, c.y);
    close('bn1.running_mean', f.bn1.runningMean, c.running['bn1.running_mean']!);
    close('bn1.running_var', f.bn1.runningVar, c.running['bn1.running_var']!);
    close('bn2.running_mean', f.bn2.runningMean, c.running['bn2.running_mean']!);
    close('bn2.running_var', f.bn2.runningVar, c.running['bn2.running_var']!);
    const g = aconFReluBackwardRef(c.x, c.dy, c.shape, p, o);
    close('dx', g.dx, c.grads.x!);
    // per layer, the scale of its weight and bias gradients together: in training, conv_frelu.bias's
    // gradient is exactly zero (bn1 removes a shift common to the batch), and both sides return
    // rounding noise of the weights' scale there
    const layer = (w: string, b: string) => maxAbs(c.grads[w]!, c.grads[b]!);
    const conv = layer('conv_frelu.weight', 'conv_frelu.bias');
    close('conv_frelu.weight', g.convFrelu.weight, c.grads['conv_frelu.weight']!, conv);
    close('conv_frelu.bias', g.convFrelu.bias, c.grads['conv_frelu.bias']!, conv);
    for (const k of ['bn1', 'bn2'] as const) {
      const s = layer(`${k}.weight`, `${k}.bias`);
      close(`${k}.weight`, g[k].weight, c.grads[`${k}.weight`]!, s);
      close(`${k}.bias`, g[k].bias, c.grads[`${k}.bias`]!, s);
    }
  });

  test.each(fixture.cases.map((c) => [`[${c.shape.join(',')}] stride ${c.stride}`, c]))(
    '%s: NHWC gives the same values, bit for bit, in its own layout',
    (_, c) => {
      const p = paramsOf(c.params);
      const nchw = { stride: c.stride, training: c.training };
      const nhwc = { ...nchw, dataFormat: 'NHWC' as DataFormat };
      const f = aconFReluForwardRef(toNHWC(c.x, c.shape), c.shape, p, nhwc);
      expect(Array.from(f.y)).toEqual(toNHWC(aconFReluForwardRef(c.x, c.shape, p, nchw).y, c.outShape));
      const g = aconFReluBackwardRef(toNHWC(c.x, c.shape), toNHWC(c.dy, c.outShape), c.shape, p, nhwc);
      const want = aconFReluBackwardRef(c.x, c.dy, c.shape, p, nchw);
      expect(Array.from(g.dx)).toEqual(toNHWC(want.dx, c.shape));
      expect(g.convFrelu).toEqual(want.convFrelu);
    },
  );
});

describe('reference vs central finite differences (float64)', () => {
  // continuous x: a window's maximum is unique almost surely, so the pool is differentiable there
  test.each([
    [1, true],
    [1, false],
    [2, true],
    [2, false],
  ] as const)('stride %i, training %s', (stride, training) => {
    const shape: Shape4 = [2, 2, 5, 4];
    const [N, C, H, W] = shape;
    const r = rng(7 + stride + (training ? 10 : 0));
    const x = Array.from(normal(r, N * C * H * W));
    const dy = Array.from(normal(r, N * C * outSize(H, stride) * outSize(W, stride)));
    const vec = (n: number, scale: number, offset = 0) => Array.from(normal(r, n), (v) => v * scale + offset);
    const bnp = () => ({
      weight: vec(C, 0.3, 1),
      bias: vec(C, 0.1),
      runningMean: vec(C, 0.1),
      runningVar: vec(C, 0.1, 1),
    });
    const p = { convFrelu: { weight: vec(C * 9, 0.5), bias: vec(C, 0.1) }, bn1: bnp(), bn2: bnp() };
    const o = { stride, training };
    const loss = () => {
      const y = aconFReluForwardRef(x, shape, p, o).y;
      return y.reduce((s, v, i) => s + v * dy[i]!, 0);
    };
    const g = aconFReluBackwardRef(x, dy, shape, p, o);
    checkCentralDifferences('dx', x, g.dx, loss);
    checkCentralDifferences('conv_frelu.weight', p.convFrelu.weight, g.convFrelu.weight, loss);
    checkCentralDifferences('conv_frelu.bias', p.convFrelu.bias, g.convFrelu.bias, loss);
    for (const k of ['bn1', 'bn2'] as const) {
      checkCentralDifferences(`${k}.weight`, p[k].weight, g[k].weight, loss);
      checkCentralDifferences(`${k}.bias`, p[k].bias, g[k].bias, loss);
    }
  });
});
