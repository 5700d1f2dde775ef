// The kernels' interfaces and planners without a GPU: every WGSL file's bindings numbered in order,
// every dispatcher path run against a recording stand-in for the GPU (entry point present in its
// WGSL, every bound name and uniform field declared there, uniforms packed by name), and the
// planners' invariants (grid folding, slices, channels-last tiles, backward plans).
import { describe, expect, test } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { reflectWgsl, Shader } from '../../src/gpu/shader';
import { foldGrid } from '../../src/gpu/grid';
import type { Binding, GpuContext, Recorder } from '../../src/gpu/context';
import {
  BACKWARD_PLANE_PER_INVOCATION_MAX,
  backwardPlan,
  channelsLastPlan,
  encodeAconCBackward,
  encodeAconCForward,
  slicePlan,
  type AconCGeometry,
} from '../../src/kernels/aconC';
import {
  encodeBatchNorm,
  encodeBatchNormBackward,
  encodeBetaEval,
  encodeBroadcastAdd,
  encodeConv1x1,
  encodeConv1x1Backward,
  encodeConv1x1BatchNormEval,
  encodePlaneMeans,
  encodePlanePartials,
} from '../../src/kernels/meta';
import { encodeCopyRoofline } from '../../bench/roofline';

describe('WGSL interfaces', () => {
  const kernelFiles = [
    ...readdirSync('shaders')
      .filter((f) => f.endsWith('.wgsl') && f !== 'prelude.wgsl')
      .map((f) => `shaders/${f}`),
    'bench/roofline.wgsl',
  ];
  test.each(kernelFiles)(
    '%s: bindings 0, 1, 2, … in declaration order, the uniform at 0, scalar uniform fields',
    (file) => {
      const { bindings, uniform } = reflectWgsl(readFileSync(file, 'utf8'));
      expect(bindings.map((b) => b.binding)).toEqual(bindings.map((_, i) => i));
      expect(bindings[0]!.access).toBe('uniform');
      expect(new Set(bindings.map((b) => b.name)).size).toBe(bindings.length);
      expect(uniform.fields.length).toBeGreaterThan(0);
    },
  );

  test('the prelude declares no binding (every kernel file gets it)', () => {
    expect(readFileSync('shaders/prelude.wgsl', 'utf8')).not.toMatch(/@binding/);
  });

  test('uniforms are packed by name: every field once, u32 checked, f32 as float, padded to 16 bytes', () => {
    const s = new Shader(
      't',
      'struct P { a: u32, b: f32, c: i32 }\n@group(0) @binding(0) var<uniform> p: P;\n@group(0) @binding(1) var<storage, read> x: array<f32>;',
    );
    const view = new DataView(s.uniforms({ c: -3, a: 7, b: 0.5 }));
    expect([view.byteLength, view.getUint32(0, true), view.getFloat32(4, true), view.getInt32(8, true)]).toEqual([
      16, 7, 0.5, -3,
    ]);
    expect(() => s.uniforms({ a: 1, b: 2 })).toThrow(/P\.c not given/);
    expect(() => s.uniforms({ a: 1, b: 2, c: 3, d: 4 })).toThrow(/has no field d/);
    expect(() => s.uniforms({ a: -1, b: 2, c: 3 })).toThrow(/not a u32/);
    expect(s.bind({ x: {} as GPUBuffer })).toEqual({ 1: {} });
    expect(() => s.bind({ y: {} as GPUBuffer })).toThrow(/declares no storage binding 'y'/);
  });
});

/** What a dispatcher path recorded: entry point, constants, bound binding numbers, workgroups. */
interface Recorded {
  shader: Shader;
  entry: string;
  constants: Record<string, number>;
  bindings: number[];
  uniformBytes: number;
  workgroups: number;
}

/** A GpuContext and Recorder that record instead of touching a GPU. */
function fakeGpu(software: boolean) {
  const log: Recorded[] = [];
  const buffer = (bytes: number) => ({ size: bytes }) as unknown as GPUBuffer;
  const ctx = {
    software,
    maxWorkgroupsPerDimension: 65535,
    pipeline: (shader: Shader, entry: string, constants: Record<string, number> = {}) =>
      ({ shader, entry, constants }) as unknown as GPUComputePipeline,
  } as unknown as GpuContext;
  const rec: Recorder = {
    temp: buffer,
    copy: () => {},
    dispatch: (pipeline, uniforms, bindings, workgroups) => {
      const p = pipeline as unknown as { shader: Shader; entry: string; constants: Record<string, number> };
      log.push({ ...p, bindings: Object.keys(bindings).map(Number), uniformBytes: uniforms.byteLength, workgroups });
    },
  };
  return { ctx, rec, log, buffer };
}

/** Each recorded dispatch names an entry point of its WGSL and binds only declared storage bindings. */
function expectWellFormed(log: Recorded[]) {
  expect(log.length).toBeGreaterThan(0);
  for (const d of log) {
    const code = d.shader.code.replace(/\/\/[^\n]*/g, '');
    expect(code, `${d.shader.name}:${d.entry}`).toMatch(
      new RegExp(`@compute\\s+@workgroup_size\\(WG\\)\\s*fn ${d.entry}\\(`),
    );
    // (the bound names are checked by Shader.bind itself; that an entry point uses exactly what is
    // bound, as layout 'auto' requires, only a GPU checks: the browser tests dispatch every path)
    expect(d.uniformBytes % 16).toBe(0);
    expect(Number.isInteger(d.workgroups) && d.workgroups >= 1).toBe(true);
    expect(d.constants.WG, `${d.entry} sets WG`).toBeGreaterThan(0);
  }
}

const geometries: AconCGeometry[] = [];
for (const layout of ['NCHW', 'NHWC'] as const) {
  for (const betaPerSample of [false, true]) {
    for (const [n, c, h, w] of [
      [2, 8, 4, 4],
      [1, 3, 5, 7],
      [3, 6, 9, 9],
      [2, 64, 56, 56],
      [5, 5, 3, 3],
      [1, 130, 2, 2],
    ] as const) {
      geometries.push({ n, c, h, w, layout, betaPerSample });
    }
  }
}

describe('every dispatcher path, recorded without a GPU', () => {
  test.each(
    geometries.flatMap((g) =>
      [true, false].map(
        (software) =>
          [
            `[${g.n},${g.c},${g.h},${g.w}] ${g.layout}${g.betaPerSample ? ' per-sample β' : ''} ${software ? 'software' : 'GPU'}`,
            g,
            software,
          ] as const,
      ),
    ),
  )('ACON-C and the spatial mean %s', (_, g, software) => {
    const { ctx, rec, log, buffer } = fakeGpu(software);
    const b = (k: number) => buffer(k * 4) as Binding;
    const count = g.n * g.c * g.h * g.w;
    encodeAconCForward(ctx, rec, g, { x: b(count), p1: b(g.c), p2: b(g.c), beta: b(g.c), y: b(count) });
    encodeAconCBackward(ctx, rec, g, {
      x: b(count),
      dy: b(count),
      p1: b(g.c),
      p2: b(g.c),
      beta: b(g.c),
      dx: b(count),
      dp1: b(g.c),
      dp2: b(g.c),
      dbeta: b(g.c),
    });
    encodePlaneMeans(ctx, rec, g, b(count), b(g.n * g.c));
    const partials = encodePlanePartials(ctx, rec, g, b(count));
    encodeBroadcastAdd(ctx, rec, g, b(g.n * g.c), b(count), 1 / (g.h * g.w));
    const bn = { weight: b(4), bias: b(4), runningMean: b(4), runningVar: b(4) };
    encodeBetaEval(
      ctx,
      rec,
      { n: g.n, c: g.c, r: 4, eps: 1e-5 },
      partials,
      { fc1: { weight: b(4), bias: b(4) }, bn1: bn, fc2: { weight: b(4), bias: b(4) }, bn2: bn },
      b(g.n * g.c),
    );
    expectWellFormed(log);
    // the channels-last entry points exactly for NHWC, the vec4 ones exactly when the plan says so
    const entries = log.map((d) => d.entry);
    expect(entries.some((e) => e.includes('_cl'))).toBe(g.layout === 'NHWC');
  });

  test('1×1 convolutions, batch norm, the copy roofline', () => {
    const { ctx, rec, log, buffer } = fakeGpu(false);
    const b = (k: number) => buffer(k * 4) as Binding;
    const d = { n: 3, in: 8, out: 4 };
    encodeConv1x1(ctx, rec, d, { inp: b(24), weight: b(32), bias: b(4), out: b(12) });
    encodeConv1x1BatchNormEval(
      ctx,
      rec,
      d,
      { sigmoid: true, eps: 1e-5 },
      {
        inp: b(24),
        weight: b(32),
        bias: b(4),
        bn: { weight: b(4), bias: b(4), runningMean: b(4), runningVar: b(4) },
        out: b(12),
      },
    );
    encodeConv1x1Backward(ctx, rec, d, {
      inp: b(24),
      weight: b(32),
      gout: b(12),
      gin: b(24),
      gweight: b(32),
      gbias: b(4),
    });
    const o = { training: true, updateRunning: true, sigmoid: false, eps: 1e-5, momentum: 0.1 };
    encodeBatchNorm(ctx, rec, 3, 4, o, {
      inp: b(12),
      weight: b(4),
      bias: b(4),
      runningMean: b(4),
      runningVar: b(4),
      out: b(12),
      saved: b(8),
    });
    encodeBatchNormBackward(ctx, rec, 3, 4, o, {
      inp: b(12),
      weight: b(4),
      bias: b(4),
      saved: b(8),
      gout: b(12),
      gin: b(12),
      gweight: b(4),
      gbias: b(4),
    });
    for (const k of [1, 2, 3])
      encodeCopyRoofline(
        ctx,
        rec,
        Array.from({ length: k }, () => buffer(64)),
        buffer(64),
        16,
      );
    expectWellFormed(log);
    expect(log.map((r) => r.entry)).toEqual([
      'forward',
      'forward_bn_eval',
      'backward_input',
      'backward_params',
      'forward',
      'backward',
      'copy1',
      'copy2',
      'copy3',
    ]);
  });
});

describe('planners', () => {
  test('foldGrid: x·y ≥ count with less than one row of surplus, both within the limit', () => {
    for (const [count, max] of [
      [1, 65535],
      [65535, 65535],
      [65536, 65535],
      [70_000, 7 * 10_001],
      [56, 9],
      [81, 9],
      [1_000_003, 65535],
    ] as const) {
      const [x, y] = foldGrid(count, max);
      expect(x <= max && y <= max).toBe(true);
      expect(x * y).toBeGreaterThanOrEqual(count);
      expect(x * y - count).toBeLessThan(x);
    }
    expect(() => foldGrid(82, 9)).toThrow(RangeError);
    expect(() => foldGrid(0, 9)).toThrow(RangeError);
  });

  test.each(geometries)('slicePlan, channelsLastPlan and backwardPlan cover every element once: %j', (g) => {
    const hw = g.h * g.w;
    if (g.layout === 'NCHW') {
      for (const oneSample of [false, true]) {
        const p = slicePlan(g, 4096, oneSample);
        expect(p.chunk * p.chunksPerPlane).toBeGreaterThanOrEqual(p.plane);
        expect((p.chunksPerPlane - 1) * p.chunk).toBeLessThan(p.plane);
        expect(p.slices).toBe(Math.ceil(g.n / p.planesPerSlice) * p.chunksPerPlane);
        if (oneSample || p.chunksPerPlane > 1) expect(p.planesPerSlice).toBe(1);
        expect(p.plane * (p.vec4 ? 4 : 1)).toBe(hw);
      }
    } else {
      for (const software of [true, false]) {
        const p = channelsLastPlan(g, 4096, g.betaPerSample, software);
        const rowElements = p.vec4 ? 4 * p.units : p.units;
        expect(rowElements % g.c).toBe(0);
        expect(p.plane * p.pixelsPerRow).toBe((g.betaPerSample ? 1 : g.n) * hw);
        expect(p.blocks * p.lanesC).toBeGreaterThanOrEqual(p.units);
        expect(p.chunk * p.chunksPerPlane).toBeGreaterThanOrEqual(p.plane);
        expect(p.workgroups).toBe(p.blocks * p.planes * p.chunksPerPlane);
        expect(p.wg).toBe(p.lanesC * p.lanesP);
      }
    }
    const b = backwardPlan(g, true);
    if (g.layout === 'NCHW' && g.betaPerSample && hw <= BACKWARD_PLANE_PER_INVOCATION_MAX)
      expect(b.entry).toBe('backward_planes');
    expect(b.depth).toBeGreaterThan(0);
  });
});
