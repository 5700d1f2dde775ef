// The bench's bandwidth figures (bytes each op must move, known cards' peaks, the GB/s columns of the
// table) and one short run on Dawn: the same JSON as in the browser, with adapter.runtime "node-dawn".
import { describe, expect, test } from 'vitest';
import {
  bytesMoved,
  formatReport,
  peakBandwidth,
  runBench,
  type BenchReport,
  type BenchResult,
} from '../../bench/bench';
import { encodeArithRoofline, encodeWindowRoofline } from '../../bench/roofline';
import { FLUSH, U, gamma } from '../../src/reference/tolerance';
import { sigmoid } from '../../src/activations/aconFRelu/reference';
import { AconGPU } from '../../src/index';
import { normal, rng } from '../../src/ops/random';

describe('bytes an op must move', () => {
  test('per element and per channel, as derived in bytesMoved', () => {
    const n = 2 * 3 * 4 * 5;
    expect(bytesMoved('aconC.forward', [2, 3, 4, 5])).toBe(8 * n + 3 * 3 * 4); // x, y; p1, p2, β
    expect(bytesMoved('aconC.backward', [2, 3, 4, 5])).toBe(12 * n + 6 * 3 * 4); // x, dy, dx; p1, p2, β, dp1, dp2, dβ
    expect(bytesMoved('metaAconC.forward', [2, 3, 4, 5])).toBe(12 * n); // x twice, y
    expect(bytesMoved('metaAconC.backward', [2, 3, 4, 5])).toBe(24 * n); // x three times, dy twice, dx
    expect(bytesMoved('aconFReLU.forward', [2, 3, 4, 5])).toBe(8 * n + 72 * 3); // x, y; 18 parameters
    expect(bytesMoved('aconFReLU.backward', [2, 3, 4, 5])).toBe(12 * n + 96 * 3); // x, dy, dx; parameters, gradients
  });
});

describe('known peaks', () => {
  const peak = (description: string, device = '') =>
    peakBandwidth({ vendor: 'nvidia', architecture: 'hopper', device, description })?.gbps;
  test('cards as Vulkan/CUDA name them, in the description or (lower-cased, hyphenated) the device', () => {
    expect(peak('NVIDIA H200')).toBe(4800);
    expect(peak('', 'nvidia-h200')).toBe(4800);
    expect(peak('NVIDIA H200 NVL')).toBe(4800);
    expect(peak('NVIDIA H100 80GB HBM3')).toBe(3350);
    expect(peak('NVIDIA H100 SXM5 80GB')).toBe(3350);
    expect(peak('NVIDIA H100 NVL')).toBe(3900);
    expect(peak('NVIDIA A100-SXM4-80GB')).toBe(2039);
    expect(peak('NVIDIA A100 80GB PCIe')).toBe(1935);
    expect(peak('NVIDIA A100-PCIE-40GB')).toBe(1555);
    expect(peak('NVIDIA A100-SXM4-40GB')).toBe(1555);
  });
  test('no figure for cards not in the table, or lookalike names', () => {
    expect(peak('NVIDIA H100 PCIe')).toBeUndefined();
    expect(peak('NVIDIA GH200 480GB')).toBeUndefined();
    expect(peak('NVIDIA GeForce RTX 4090')).toBeUndefined();
    expect(
      peakBandwidth({
        vendor: 'google',
        architecture: 'swiftshader',
        device: 'swiftshader-device-subzero-',
        description: 'SwiftShader driver 5.0.0',
      }),
    ).toBeUndefined();
  });
});

describe('GB/s in the table', () => {
  const shape: [number, number, number, number] = [8, 64, 56, 56];
  const r = (impl: BenchResult['impl'], layout: BenchResult['layout'], ms: number): BenchResult => {
    const gbps = impl === 'reference' ? {} : { gbps: bytesMoved('aconC.forward', shape) / (ms * 1e6) };
    return { op: 'aconC.forward', impl, layout, shape, ms, runs: 11, ...gbps };
  };
  const results = [
    r('fused', 'NCHW', 0.01),
    r('fused', 'NHWC', 0.0125),
    r('copy-roofline', 'NCHW', 0.008),
    r('tfjs-composed', 'NCHW', 0.05),
    r('reference', 'NCHW', 30),
  ];
  const gpu: BenchReport = {
    adapter: {
      vendor: 'nvidia',
      architecture: 'hopper',
      device: 'nvidia-h200',
      description: 'NVIDIA H200',
      software: false,
      runtime: 'node-dawn',
      peakGBps: 4800,
      peakName: 'NVIDIA H200',
    },
    results,
  };

  test('on a known GPU: fused and copy GB/s, and the share of the peak', () => {
    const text = formatReport(gpu);
    expect(text).toContain('peak memory bandwidth: 4800 GB/s (NVIDIA H200)');
    expect(text).toMatch(/fused GB\/s copy GB\/s fused\/peak/);
    // 8 B × 1,605,632 elements + 768 B in 0.01 ms = 1285 GB/s; the copy in 0.008 ms = 1606 GB/s; 1285/4800 = 26.8 %
    const nchw = text.split('\n').find((l) => l.startsWith('aconC.forward') && l.includes('NCHW'))!;
    expect(nchw).toMatch(/1285\s+1606\s+26\.8 %$/);
    const nhwc = text.split('\n').find((l) => l.startsWith('aconC.forward') && l.includes('NHWC'))!;
    expect(nhwc).toMatch(/1028\s+-\s+21\.4 %$/);
  });

  test('on an unknown GPU: GB/s without a peak', () => {
    const { peakGBps: _p, peakName: _n, ...adapter } = gpu.adapter;
    const text = formatReport({ adapter: { ...adapter, description: 'Some GPU', device: '' }, results });
    expect(text).toContain('no peak known for this adapter');
    expect(text).toMatch(/fused GB\/s copy GB\/s$/m);
    expect(text).not.toContain('%');
  });

  test('on a software adapter: no GB/s columns (they would describe the CPU)', () => {
    const text = formatReport({ adapter: { ...gpu.adapter, software: true }, results });
    expect(text).not.toContain('GB/s');
  });
});

/** An activation kernel family's rows per direction: impl and layout. */
const KERNEL_ROWS = [
  'fused NCHW',
  'fused NHWC',
  'copy-roofline NCHW',
  'tfjs-composed NCHW',
  'tfjs-composed NHWC',
  'reference NCHW',
];

test('a short run on Dawn: the browser bench JSON plus runtime "node-dawn", GB/s on every GPU result', async () => {
  const report = await runBench({ families: ['aconC'], shapes: [[2, 8, 4, 4]], batches: 1, batchMs: 5 });
  expect(Object.keys(report).sort()).toEqual(['adapter', 'results']);
  expect(report.adapter).toMatchObject({
    runtime: 'node-dawn',
    software: true,
    vendor: 'google',
    architecture: 'swiftshader',
  });
  expect(report.adapter.peakGBps).toBeUndefined();
  expect(report.results.map((r) => `${r.op} ${r.impl} ${r.layout}`).sort()).toEqual(
    ['forward', 'backward'].flatMap((d) => KERNEL_ROWS.map((i) => `aconC.${d} ${i}`)).sort(),
  );
  for (const r of report.results) {
    expect(r.shape).toEqual([2, 8, 4, 4]);
    if (r.impl === 'reference') expect(r.gbps).toBeUndefined();
    else expect(r.gbps).toBeCloseTo(bytesMoved(r.op as 'aconC.forward', r.shape) / (r.ms * 1e6), 6);
  }
}, 120_000);

// Issue 18's rows: ACON-FReLU's kernel family (fused, tfjs-composed, copy roofline, reference, both
// directions), the networks of the shufflenet, resnet and tfnet families (net.infer with each
// net's name; ResNet-50 one timed run) and tfnet's window groups, small (32×32 images, [2, 8, 8, 8]
// windows) so that the run takes seconds: the op × impl × layout × net set the JSON promises.
test("a short run of issue 18's families: every row the bench promises", async () => {
  const report = await runBench({
    families: ['aconFReLU', 'shufflenet', 'resnet', 'tfnet'],
    shapes: [[2, 8, 6, 6]],
    netInput: 32,
    windowShape: [2, 8, 8, 8],
    batches: 1,
    batchMs: 5,
  });
  const rows = report.results.map((r) => [r.op, r.impl, r.layout, r.net ?? '-', r.shape.join('x')].join(' '));
  const net = (impl: string, name: string) => `net.infer ${impl} NHWC ${name} 1x3x32x32`;
  expect(rows.sort()).toEqual(
    [
      ...['forward', 'backward'].flatMap((d) => KERNEL_ROWS.map((k) => `aconFReLU.${d} ${k} - 2x8x6x6`)),
      ...['acon', 'meta'].flatMap((a) => ['fused', 'tfjs-composed'].map((i) => net(i, `shufflenetv2-0.5x-${a}`))),
      net('relu', 'shufflenetv2-0.5x-relu'),
      net('relu', 'resnet50-relu'),
      net('fused', 'resnet50-acon'),
      net('fused', 'resnet50-meta'),
      net('fused', 'tfnet-0.5'),
      net('tfjs-composed', 'tfnet-0.5'),
      ...['fused', 'tfjs-depthwise3x3', 'relu'].map((i) => `tfjs.aconFReLU.forward ${i} NHWC - 2x8x8x8`),
      ...[
        'fused NCHW',
        'window-roofline NCHW',
        'fused NHWC',
        'window-roofline NHWC',
        'taps-roofline NCHW',
        'arith-roofline NCHW',
        'copy-roofline NCHW',
      ].map((k) => `aconFReLU.window ${k} - 2x8x8x8`),
    ].sort(),
  );
  // ResNet-50 once after a warm-up, as the JSON says
  for (const r of report.results.filter((x) => x.net?.startsWith('resnet'))) expect(r.runs).toBe(1);
  for (const r of report.results) expect(r.ms).toBeGreaterThan(0);
}, 600_000);

// The window roofline must do a window's work, or the fused kernel's ratio to it means nothing: each
// output the sum of its 3×3 window (padding zeros) with weights (0.5, 1, 0.5) down by (0.25, 0.5,
// 0.25) across, in both layouts, against a float64 sum. The weights are powers of two, so every
// product is exact in float32 and the eight additions err by at most 8u·Σ|terms| (u = 2⁻²⁴).
describe('the window roofline', () => {
  test.each(['NCHW', 'NHWC'] as const)('%s: each output the weighted sum of its 3×3 window', async (layout) => {
    const acon = await AconGPU.create();
    const ctx = acon.context;
    const [N, C, H, W] = [2, 8, 9, 16];
    const r = rng(5);
    const x = Float32Array.from(normal(r, N * C * H * W), (v) => v * 3);
    // element (n, c, h, w) of x and y in the layout
    const at = (n: number, c: number, h: number, w: number) =>
      layout === 'NCHW' ? ((n * C + c) * H + h) * W + w : ((n * H + h) * W + w) * C + c;
    const xb = ctx.upload(x);
    const yb = ctx.upload(new Float32Array(x.length));
    await ctx.submit((b) => encodeWindowRoofline(ctx, b, xb, yb, [N, C, H, W], layout));
    const [out] = await ctx.read([{ buffer: yb, bytes: x.length * 4 }]);
    const y = new Float32Array(out!);
    const [down, across] = [
      [0.5, 1, 0.5],
      [0.25, 0.5, 0.25],
    ];
    let worst = 0;
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) {
            let sum = 0;
            let abs = 0;
            for (let dh = -1; dh <= 1; dh++)
              for (let dw = -1; dw <= 1; dw++) {
                const [hh, ww] = [h + dh, w + dw];
                if (hh < 0 || hh >= H || ww < 0 || ww >= W) continue;
                const t = down[dh + 1]! * across[dw + 1]! * x[at(n, c, hh, ww)]!;
                sum += t;
                abs += Math.abs(t);
              }
            worst = Math.max(worst, Math.abs(y[at(n, c, h, w)]! - sum) / (8 * 2 ** -24 * abs + 1e-30));
          }
    expect(worst).toBeLessThanOrEqual(1);
    ctx.pool.release(xb);
    ctx.pool.release(yb);
    acon.destroy();
  });
});

// The arithmetic roofline must do the eval forward's arithmetic per output, or the fused kernel's
// ratio to it means nothing: for each element v_i of a vec4 of x, t = Σ_j (k + j/128)·v_π_j(i) over
// taps1's nine lane orders, x2 = (1 + k)·t − k, d = v_i − x2, y = (1 − k)·(d·σ(d) + x2) + k, with
// k = 1/8 + (C mod 8)/128 (all constants exact in float32). Bound, u = 2⁻²⁴, T = Σ_j |w_j·v|, as
// bounds.ts derives the kernel's (the same smooth_max4): t within γ₉·T; x2's product and sum add u
// each, E2 = (γ₉ + 3u)·a1·T + 2u·|b1| (one u of second-order slack each); then
// Et = 1.1·E2 + 1.1u·|d| + (14 + 4|d|)u·|d·σ(d)| + u·|t|, and y = a2·t + b2 adds a product and a
// sum: a2·Et + 2u·a2·|t| + 2u·|y|, plus the flush allowance.
describe('the arithmetic roofline', () => {
  test('each output the eval forward of its element, taps over the vec4 lanes', async () => {
    const acon = await AconGPU.create();
    const ctx = acon.context;
    const [N, C, H, W] = [2, 5, 6, 8];
    const r = rng(9);
    const x = Float32Array.from(normal(r, N * C * H * W), (v) => v * 3);
    const xb = ctx.upload(x);
    const yb = ctx.upload(new Float32Array(x.length));
    await ctx.submit((b) => encodeArithRoofline(ctx, b, xb, yb, [N, C, H, W]));
    const [out] = await ctx.read([{ buffer: yb, bytes: x.length * 4 }]);
    const y = new Float32Array(out!);
    // taps1's lane orders: v.wxyz, v, v.yzwx, v.zwxy, v.yxwz, v.wzyx, v.xzyw, v.ywxz, v.zxwy
    const lanes = ['wxyz', 'xyzw', 'yzwx', 'zwxy', 'yxwz', 'wzyx', 'xzyw', 'ywxz', 'zxwy'].map((s) =>
      [...s].map((ch) => 'xyzw'.indexOf(ch)),
    );
    const k = 1 / 8 + (C % 8) / 128;
    const [a1, b1, a2, b2] = [1 + k, -k, 1 - k, k];
    let worst = 0;
    for (let q = 0; q < x.length / 4; q++)
      for (let i = 0; i < 4; i++) {
        let t = 0;
        let T = 0;
        lanes.forEach((perm, j) => {
          const term = (k + j / 128) * x[4 * q + perm[i]!]!;
          t += term;
          T += Math.abs(term);
        });
        const x2 = a1 * t + b1;
        const d = x[4 * q + i]! - x2;
        const act = d * sigmoid(d) + x2;
        const want = a2 * act + b2;
        const E2 = (gamma(9) + 3 * U) * a1 * T + 2 * U * Math.abs(b1);
        const Et =
          1.1 * E2 + 1.1 * U * Math.abs(d) + (14 + 4 * Math.abs(d)) * U * Math.abs(d * sigmoid(d)) + U * Math.abs(act);
        const bound =
          a2 * Et + 2 * U * a2 * Math.abs(act) + 2 * U * Math.abs(want) + FLUSH * (1 + T + Math.abs(d) + Math.abs(act));
        worst = Math.max(worst, Math.abs(y[4 * q + i]! - want) / bound);
      }
    expect(worst).toBeLessThanOrEqual(1);
    ctx.pool.release(xb);
    ctx.pool.release(yb);
    acon.destroy();
  });

  test('takes N·C·H·W divisible by 4', async () => {
    const acon = await AconGPU.create();
    const ctx = acon.context;
    const xb = ctx.upload(new Float32Array(12));
    expect(() => ctx.submit((b) => encodeArithRoofline(ctx, b, xb, xb, [1, 1, 3, 3]))).toThrow(RangeError);
    ctx.pool.release(xb);
    acon.destroy();
  });
});
