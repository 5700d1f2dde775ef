// The kernels' interfaces and planners without a GPU: every WGSL file's bindings numbered in order,
// every dispatcher path run against a recording stand-in for the GPU (entry point present in its
// WGSL, every bound name and uniform field declared there, uniforms packed by name), the planners'
// invariants (grid folding, slices, channels-last tiles, backward plans), and every recorded
// dispatch's loops within the per-invocation budget (src/kernels/budget.ts: lavapipe's loop cap).
import { describe, expect, test } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { reflectWgsl, Shader } from '../../src/gpu/shader';
import { foldGrid } from '../../src/gpu/grid';
import type { Binding, GpuContext, Recorder } from '../../src/gpu/context';
import { LimitError } from '../../src/gpu/errors';
import {
  BACKWARD_PLANE_PER_INVOCATION_MAX,
  backwardPlan,
  encodeAconCBackward,
  encodeAconCForward,
  type AconCGeometry,
} from '../../src/activations/aconC/kernels';
import {
  aconFReluKernels,
  checkFrelu,
  freluReducePlan,
  recordAconFReluBackward,
  recordAconFReluTrain,
  stripRows,
} from '../../src/activations/aconFRelu/kernels';
import { encodeBetaEval, META_BATCH_MAX, META_FEATURES_MAX } from '../../src/activations/metaAconC/kernels';
import { encodeBatchNorm, encodeBatchNormBackward } from '../../src/kernels/batchnorm';
import { FINISH_TERMS, LAVAPIPE_LOOP_CAP, LOOP_BUDGET } from '../../src/kernels/budget';
import { encodeConv1x1, encodeConv1x1Backward, encodeConv1x1BatchNormEval } from '../../src/kernels/conv1x1';
import { channelsLastPlan, slicePlan } from '../../src/kernels/plan';
import { encodeBroadcastAdd, encodePlaneMeans, encodePlanePartials, meanPlan } from '../../src/kernels/reduce';
import { metaAconC } from '../../src/activations/metaAconC/declaration';
import { recordBackward, recordForward } from '../../src/ops/forms';
import { encodeCopyRoofline } from '../../bench/roofline';

/** WGSL files that are not shaders of their own but prepended to others: no bindings, no entry points. */
const SNIPPETS = ['prelude.wgsl', 'frelu_rows.wgsl'];

describe('WGSL interfaces', () => {
  const kernelFiles = [
    ...readdirSync('shaders')
      .filter((f) => f.endsWith('.wgsl') && !SNIPPETS.includes(f))
      .map((f) => `shaders/${f}`),
    'bench/roofline.wgsl',
    'bench/window.wgsl',
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

  test("each entry point's resources: its own names and those of the functions and workgroup memory it uses", () => {
    const { entries } = reflectWgsl(`
      struct P { n: u32 }
      override WG: u32 = 64;
      override SIZE: u32 = 4;
      override UNUSED: bool = false;
      override MODE: u32 = 0;
      @group(0) @binding(0) var<uniform> p: P;
      @group(0) @binding(1) var<storage, read> x: array<f32>;
      @group(0) @binding(2) var<storage, read_write> y: array<f32>;
      @group(0) @binding(3) var<storage, read_write> z: array<f32>;
      var<workgroup> tile: array<f32, SIZE>;
      fn load(i: u32) -> f32 { return x[i]; }                  // x, through a call
      @compute @workgroup_size(WG)
      fn a(@builtin(local_invocation_index) i: u32) {
        let v = load(i);
        tile[i] = v;                                            // SIZE, through the workgroup array
        y[i] = select(v, 0.0, MODE == 2u);                      // a comparison (==), not a declaration
      }
      @compute @workgroup_size(WG)
      fn b(@builtin(local_invocation_index) x: u32) {           // a parameter named x shadows the binding
        let y = vec2(1.0, 2.0);                                 // so does a local y; .x is a member
        z[x + p.n] = y.x;
      }`);
    expect(entries.get('a')).toEqual({ bindings: ['x', 'y'], overrides: ['WG', 'SIZE', 'MODE'] });
    expect(entries.get('b')).toEqual({ bindings: ['p', 'z'], overrides: ['WG'] });
    expect([...entries.keys()]).toEqual(['a', 'b']);
  });

  test('the snippets declare no binding (the prelude: every kernel file gets it; frelu_rows: both ACON-FReLU shaders and the window roofline)', () => {
    for (const f of SNIPPETS) expect(readFileSync(`shaders/${f}`, 'utf8')).not.toMatch(/@binding/);
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
  /** The uniform struct's fields by name, as packed. */
  uniforms: Record<string, number>;
  workgroups: number;
}

function unpack(shader: Shader, bytes: ArrayBuffer): Record<string, number> {
  const view = new DataView(bytes);
  return Object.fromEntries(
    shader.iface.uniform.fields.map(({ name, type }, i) => [
      name,
      type === 'f32'
        ? view.getFloat32(i * 4, true)
        : type === 'i32'
          ? view.getInt32(i * 4, true)
          : view.getUint32(i * 4, true),
    ]),
  );
}

/** A GpuContext and Recorder that record instead of touching a GPU. */
function fakeGpu(software: boolean) {
  const log: Recorded[] = [];
  const buffer = (bytes: number) => ({ size: bytes }) as unknown as GPUBuffer;
  const ctx = {
    software,
    maxWorkgroupsPerDimension: 65535,
    maxTensorBytes: 2 ** 32,
    assertUsable: () => {},
    pipeline: (shader: Shader, entry: string, constants: Record<string, number> = {}) =>
      ({ shader, entry, constants }) as unknown as GPUComputePipeline,
  } as unknown as GpuContext;
  const rec: Recorder = {
    temp: buffer,
    copy: () => {},
    dispatch: (pipeline, uniforms, bindings, workgroups) => {
      const p = pipeline as unknown as { shader: Shader; entry: string; constants: Record<string, number> };
      log.push({
        ...p,
        bindings: Object.keys(bindings).map(Number),
        uniformBytes: uniforms.byteLength,
        uniforms: unpack(p.shader, uniforms),
        workgroups,
      });
    },
  };
  return { ctx, rec, log, buffer };
}

/**
 * Each recorded dispatch names an entry point of its WGSL and binds only declared storage bindings,
 * at most 8 of them (WebGPU's default maxStorageBuffersPerShaderStage: the kernels run on any adapter).
 */
function expectWellFormed(log: Recorded[]) {
  expect(log.length).toBeGreaterThan(0);
  for (const d of log) {
    expect(d.bindings.length, `${d.shader.name}:${d.entry} storage buffers`).toBeLessThanOrEqual(8);
    const code = d.shader.code.replace(/\/\/[^\n]*/g, '');
    expect(code, `${d.shader.name}:${d.entry}`).toMatch(
      new RegExp(`@compute\\s+@workgroup_size\\(WG\\)\\s*fn ${d.entry}\\(`),
    );
    // exactly what the entry point uses, as layout 'auto' requires (recordDispatch binds the uniform at 0)
    const entry = d.shader.iface.entries.get(d.entry)!;
    const numbers = entry.bindings.map((name) => d.shader.iface.bindings.find((b) => b.name === name)!.binding);
    expect(
      [0, ...d.bindings].sort((a, b) => a - b),
      `${d.shader.name}:${d.entry} binds`,
    ).toEqual(numbers);
    // and only constants the entry point itself uses (a constant meant for another entry is a mistake)
    const overrides = new Set(entry.overrides);
    for (const k of Object.keys(d.constants))
      expect(overrides.has(k), `${d.shader.name}:${d.entry}: override ${k}`).toBe(true);
    expect(d.uniformBytes % 16).toBe(0);
    expect(Number.isInteger(d.workgroups) && d.workgroups >= 1).toBe(true);
    expect(d.constants.WG, `${d.entry} sets WG`).toBeGreaterThan(0);
  }
}

const geometries: AconCGeometry[] = [];
for (const dataFormat of ['NCHW', 'NHWC'] as const) {
  for (const betaPerSample of [false, true]) {
    for (const [n, c, h, w] of [
      [2, 8, 4, 4],
      [1, 3, 5, 7],
      [3, 6, 9, 9],
      [2, 64, 56, 56],
      [5, 5, 3, 3],
      [1, 130, 2, 2],
    ] as const) {
      geometries.push({ n, c, h, w, dataFormat, betaPerSample });
    }
  }
}

describe('every dispatcher path, recorded without a GPU', () => {
  test.each(
    geometries.flatMap((g) =>
      [true, false].map(
        (software) =>
          [
            `[${g.n},${g.c},${g.h},${g.w}] ${g.dataFormat}${g.betaPerSample ? ' per-sample β' : ''} ${software ? 'software' : 'GPU'}`,
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
    encodePlaneMeans(ctx, rec, g, { x: b(count), means: b(g.n * g.c) });
    const partials = encodePlanePartials(ctx, rec, g, { x: b(count) });
    encodeBroadcastAdd(ctx, rec, { ...g, scale: 1 / (g.h * g.w) }, { v: b(g.n * g.c), dx: b(count) });
    const bn = { weight: b(4), bias: b(4), runningMean: b(4), runningVar: b(4) };
    encodeBetaEval(
      ctx,
      rec,
      { n: g.n, c: g.c, r: 4, eps: 1e-5 },
      {
        mean: partials,
        params: { fc1: { weight: b(4), bias: b(4) }, bn1: bn, fc2: { weight: b(4), bias: b(4) }, bn2: bn },
        beta: b(g.n * g.c),
      },
    );
    expectWellFormed(log);
    // the channels-last entry points exactly for NHWC, the vec4 ones exactly when the plan says so
    const entries = log.map((d) => d.entry);
    expect(entries.some((e) => e.includes('_cl'))).toBe(g.dataFormat === 'NHWC');
  });

  test('1×1 convolutions, batch norm, the copy roofline', () => {
    const { ctx, rec, log, buffer } = fakeGpu(false);
    const b = (k: number) => buffer(k * 4) as Binding;
    const d = { n: 3, in: 8, out: 4 };
    encodeConv1x1(ctx, rec, d, { inp: b(24), weight: b(32), bias: b(4), out: b(12) });
    encodeConv1x1BatchNormEval(
      ctx,
      rec,
      { ...d, sigmoid: true, eps: 1e-5 },
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
    encodeBatchNorm(
      ctx,
      rec,
      { n: 3, features: 4, ...o },
      {
        inp: b(12),
        weight: b(4),
        bias: b(4),
        runningMean: b(4),
        runningVar: b(4),
        out: b(12),
        saved: b(8),
      },
    );
    encodeBatchNormBackward(
      ctx,
      rec,
      { n: 3, features: 4, ...o },
      {
        inp: b(12),
        weight: b(4),
        bias: b(4),
        saved: b(8),
        gout: b(12),
        gin: b(12),
        gweight: b(4),
        gbias: b(4),
      },
    );
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
    expect(() => foldGrid(82, 9)).toThrow(LimitError); // a device's limit (AconGPU's maxWorkgroupsPerDimension)
    expect(() => foldGrid(0, 9)).toThrow(RangeError);
  });

  test.each(geometries)('slicePlan, channelsLastPlan and backwardPlan cover every element once: %j', (g) => {
    const hw = g.h * g.w;
    if (g.dataFormat === 'NCHW') {
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
    if (g.dataFormat === 'NCHW' && g.betaPerSample && hw <= BACKWARD_PLANE_PER_INVOCATION_MAX)
      expect(b.entry).toBe('backward_planes');
    expect(b.depth).toBeGreaterThan(0);
  });
});

/**
 * The most loop trips one invocation of each entry point runs, read off its WGSL loops and the
 * uniforms and constants a dispatch sends, counted as lavapipe counts (src/kernels/budget.ts): a loop
 * of k iterations costs k + 1, an inner loop counts in full each time, and each loop at its worst
 * over the invocations. Written apart from the planners on purpose, so that a plan that makes some
 * invocation loop more than the budget fails here however the planner reasons.
 */
const loop = (k: number) => k + 1;
const sum = (slices: number, lanes: number) => slices * loop(lanes) + 1;
type U = Record<string, number>;
const walk = (u: U, k: U) => loop(Math.ceil((u.planes_per_slice! * u.chunk!) / k.WG!));
const tileWalk = (u: U, k: U) => loop(Math.ceil(u.chunk! / k.LANES_P!));
const chunkWalk = (u: U, k: U) => loop(Math.ceil(u.chunk! / k.WG!));
const TRIPS: Record<string, (u: U, k: U) => number> = {
  'acon_c:forward': walk,
  'acon_c:forward_rows4': walk,
  'acon_c:backward': walk,
  'acon_c:backward_rows4': walk,
  'acon_c:forward_chunks4': chunkWalk,
  'acon_c:forward_cl4': tileWalk,
  'acon_c:forward_cl': tileWalk,
  'acon_c:backward_cl': tileWalk,
  'acon_c:backward_cl4': (u, k) => tileWalk(u, k) + loop(4),
  'acon_c:backward_planes': (u) => loop(u.plane!),
  'acon_c:backward_finish': (u, k) =>
    (u.finish! & 1 ? sum(u.slices!, u.lanes!) : 0) +
    (k.PER_SAMPLE_BETA && u.finish! & 2 ? sum(u.chunks_per_plane!, u.lanes!) : 0),
  'acon_c:backward_group': (u) => sum(Math.min(u.group!, u.chunks_per_plane!), u.lanes!),
  'reduce:plane_partials': chunkWalk,
  'reduce:plane_partials4': chunkWalk,
  'reduce:plane_partials_cl4': (u, k) => tileWalk(u, k) + loop(4),
  'reduce:plane_partials_cl': tileWalk,
  'reduce:plane_means': (u) => sum(u.chunks!, u.lanes!),
  'reduce:plane_groups': (u) => sum(Math.min(u.group!, u.chunks!), u.lanes!),
  'reduce:broadcast_add': () => 0,
  'reduce:broadcast_add4': chunkWalk,
  'reduce:broadcast_add_cl4': tileWalk,
  'reduce:broadcast_add_cl': tileWalk,
  'conv1x1:forward': (u) => loop(u.in_features!),
  'conv1x1:forward_bn_eval': (u) => loop(u.in_features!),
  'conv1x1:backward_input': (u) => loop(u.out_features!),
  'conv1x1:backward_params': (u) => loop(u.batch!),
  'conv1x1:beta_eval': (u, k) => {
    const [c, r] = [u.in_features!, u.out_features!];
    const per = (f: number) => Math.ceil(f / k.WG!);
    return (
      per(c) * sum(u.chunks!, u.lanes!) +
      loop(per(c)) +
      per(r) * loop(c) +
      loop(per(r)) +
      per(c) * loop(r) +
      loop(per(c))
    );
  },
  'batchnorm:forward': (u) => (u.training ? 3 : 1) * loop(u.batch!),
  'batchnorm:backward': (u) => 2 * loop(u.batch!),
  'acon_frelu:fold': () => loop(9),
  'acon_frelu:pack_conv_bn1': () => loop(9),
  'acon_frelu:pack_bn2': () => 0,
  'acon_frelu:forward_eval_strip': (_, k) => loop(k.STRIP!),
  'acon_frelu:forward_eval_cl4_strip': (_, k) => loop(k.STRIP!),
  'acon_frelu:forward_eval_strip_any': (_, k) => loop(k.STRIP!),
  'acon_frelu:forward_eval_strip2_any': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:stats_pass': freluWalk,
  'acon_frelu_train:bn_grad_pass': freluWalk,
  'acon_frelu_train:conv_grad_pass': freluWalk,
  'acon_frelu_train:tap_grad_pass': (u) => loop(u.per!) + loop(9),
  'acon_frelu_train:stats_pass_cl4': (u) => freluWalk(u) + loop(4),
  'acon_frelu_train:bn_grad_pass_cl4': (u) => freluWalk(u) + 2 * loop(4),
  'acon_frelu_train:conv_grad_pass_cl4': (u) => freluWalk(u) + loop(4),
  'acon_frelu_train:tap_grad_pass_cl4': (u) => loop(u.per!) + loop(9) + 9 * loop(4),
  'acon_frelu_train:backward_dx_cl4_strip': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:backward_dx_strip_any': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:backward_dx_cl4_strip2': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:conv_cl4_strip': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:conv_strip_any': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:window_strip2_any': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:window_cl4_strip2': (_, k) => loop(k.STRIP!),
  'acon_frelu_train:finish': (u, k) => loop(u.chunks! * k.WG!),
  'acon_frelu_train:batch_params': () => loop(9) + loop(2),
  'acon_frelu_train:param_grads': () => loop(9),
  'acon_frelu_train:backward_dx': () => loop(9),
  'acon_frelu_train:to_channels_last': () => 0,
  'acon_frelu_train:to_channels_first': () => 0,
  'acon_frelu_train:to_channels_last4': () => loop(4),
  'acon_frelu_train:to_channels_first4': () => loop(4),
};

/** A walk of `per` positions. */
function freluWalk(u: Record<string, number>) {
  return loop(u.per!);
}

/** Dispatches whose invocations would loop beyond LOOP_BUDGET, as 'shader:entry trips'. */
const overBudget = (log: Recorded[]) =>
  log
    .map(
      (d) => [`${d.shader.name}:${d.entry}`, TRIPS[`${d.shader.name}:${d.entry}`]!(d.uniforms, d.constants)] as const,
    )
    .filter(([, trips]) => !(trips <= LOOP_BUDGET))
    .map(([entry, trips]) => `${entry} ${trips}`);

describe('loop budget: no invocation loops beyond LOOP_BUDGET (lavapipe caps an invocation at 65,535)', () => {
  test('the budget keeps a margin under the cap; every entry point of shaders/ has a trip model', () => {
    expect(LOOP_BUDGET).toBeLessThanOrEqual(LAVAPIPE_LOOP_CAP / 2);
    // backward_finish's two sums of FINISH_TERMS partials at the most, slices of one lane each
    expect(2 * sum(FINISH_TERMS, 1)).toBeLessThanOrEqual(LOOP_BUDGET);
    for (const file of readdirSync('shaders').filter((f) => f.endsWith('.wgsl') && !SNIPPETS.includes(f))) {
      const code = readFileSync(`shaders/${file}`, 'utf8').replace(/\/\/[^\n]*/g, '');
      for (const m of code.matchAll(/@compute\s+@workgroup_size\([^)]*\)\s*fn\s+(\w+)/g))
        expect(TRIPS, `${file}: ${m[1]}`).toHaveProperty([`${file.replace('.wgsl', '')}:${m[1]}`]);
    }
  });

  // Extremes: the per-sample NHWC backward that lavapipe got wrong ([70000, 4, 1, 1]: 70,000 slices
  // of 8 or 64 lanes per channel), millions of one-element samples, planes of 2^30 elements, odd C
  // and C ≡ 2 mod 4 on huge planes (scalar channels-last units), 1G-element batches; and ordinary shapes.
  const shapes: [number, number, number, number][] = [
    [70_000, 4, 1, 1],
    [20_000, 4, 1, 1],
    [5_000, 4, 1, 1],
    [1_000_000, 4, 1, 1],
    [16_000_000, 1, 1, 1],
    [1, 1, 32_768, 32_768],
    [1, 3, 16_384, 16_384],
    [2, 6, 9_999, 9_999],
    [4_096, 64, 64, 64],
    [1, 5, 1, 1_000_003],
    [2, 64, 56, 56],
    [128, 64, 56, 56],
    [32, 64, 7, 7],
    [1, 2_048, 1, 1],
    [3, 17, 13, 13],
  ];
  const cases = shapes.flatMap(([n, c, h, w]) =>
    (['NCHW', 'NHWC'] as const).flatMap((dataFormat) =>
      [false, true].flatMap((betaPerSample) =>
        [true, false].map(
          (software) =>
            [
              `[${n},${c},${h},${w}] ${dataFormat}${betaPerSample ? ' per-sample β' : ''} ${software ? 'software' : 'GPU'}`,
              { n, c, h, w, dataFormat, betaPerSample } as AconCGeometry,
              software,
            ] as const,
        ),
      ),
    ),
  );

  test.each(cases)('ACON-C forward, backward, the spatial mean and its adjoint: %s', (_, g, software) => {
    const { ctx, rec, log, buffer } = fakeGpu(software);
    const b = buffer(0) as Binding;
    encodeAconCForward(ctx, rec, g, { x: b, p1: b, p2: b, beta: b, y: b });
    encodeAconCBackward(ctx, rec, g, { x: b, dy: b, p1: b, p2: b, beta: b, dx: b, dp1: b, dp2: b, dbeta: b });
    encodePlaneMeans(ctx, rec, g, { x: b, means: b });
    encodeBroadcastAdd(ctx, rec, { ...g, scale: 1 / (g.h * g.w) }, { v: b, dx: b });
    expect(overBudget(log)).toEqual([]);
    // the group levels only shorten the addition chains the error bounds are derived from
    const p = backwardPlan(g, software);
    const single = p.termsPerInvocation + p.lanes + p.slices;
    if (p.finishing.length === 1) expect(p.depth).toBe(single);
    else expect(p.depth).toBeLessThan(single);
    const m = meanPlan(g, software);
    expect(m.depth).toBeLessThanOrEqual(Math.ceil(m.chunk / (m.cl ? m.cl.lanesP : m.wg)) + 2 + m.lanes + m.chunks);
  });

  test('NHWC [70000, 4, 1, 1] per-sample β: dβ per plane, dp1 and dp2 over group sums (was 560,000 trips)', () => {
    for (const software of [true, false]) {
      const g: AconCGeometry = { n: 70_000, c: 4, h: 1, w: 1, dataFormat: 'NHWC', betaPerSample: true };
      const p = backwardPlan(g, software);
      expect(p.slices * p.lanes).toBe(70_000 * (software ? 8 : 64));
      expect(p.finishing.map((s) => s.entry)).toEqual(['backward_finish', 'backward_group', 'backward_finish']);
      const { ctx, rec, log, buffer } = fakeGpu(software);
      const b = buffer(0) as Binding;
      encodeAconCBackward(ctx, rec, g, { x: b, dy: b, p1: b, p2: b, beta: b, dx: b, dp1: b, dp2: b, dbeta: b });
      expect(overBudget(log)).toEqual([]);
      // without the levels, one invocation per channel would sum every slice's lanes
      expect(sum(p.slices, p.lanes)).toBeGreaterThan(LAVAPIPE_LOOP_CAP);
    }
  });

  test.each([
    [1, 4, 4096, 4096, 1],
    [1, 2, 8192, 8192, 2],
    [128, 64, 56, 56, 1],
    [128, 64, 56, 56, 2],
    [3, 17, 13, 13, 2],
    [16_000_000, 1, 1, 1, 1],
  ] as const)('ACON-FReLU training forward and backward: [%i, %i, %i, %i] stride %i', (n, c, h, w, stride) => {
    for (const dataFormat of ['NCHW', 'NHWC'] as const) {
      const { ctx, rec, log, buffer } = fakeGpu(true);
      const b = buffer(0) as Binding;
      const geo = { n, c, h, w, dataFormat };
      const bn = { weight: b, bias: b, runningMean: b, runningVar: b };
      const params = { convFrelu: { weight: b, bias: b }, bn1: bn, bn2: bn };
      checkFrelu(ctx, geo, stride, false);
      recordAconFReluTrain(ctx, rec, geo, stride, { x: b, params, y: b });
      const grads = {
        dx: b,
        convFrelu: { weight: b, bias: b },
        bn1: { weight: b, bias: b },
        bn2: { weight: b, bias: b },
      };
      for (const training of [true, false])
        recordAconFReluBackward(ctx, rec, geo, stride, training, { x: b, dy: b, params, grads });
      expectWellFormed(log);
      expect(overBudget(log)).toEqual([]);
      const plan = freluReducePlan(geo, stride);
      // every position once: chunks of per·WG positions cover the count, the last chunk not empty
      expect(plan.chunks * plan.per * 64).toBeGreaterThanOrEqual(plan.count);
      expect((plan.chunks - 1) * plan.per * 64).toBeLessThan(plan.count);
      // a partial sum per lane holding a position, never more than the positions
      expect(plan.slots).toBe(Math.min(plan.chunks * 64, plan.count));
      expect(plan.slots).toBeLessThanOrEqual(plan.count);
    }
  });

  test("ACON-FReLU's partial sums: a slot per lane with a position, and within a buffer", () => {
    const geo = (n: number, c: number, h: number, w: number) => ({ n, c, h, w, dataFormat: 'NCHW' as const });
    // [2, 300000, 1, 1]: two positions per channel, two slots (not one chunk's 64: 691 MB of partials)
    expect(freluReducePlan(geo(2, 300_000, 1, 1), 1)).toMatchObject({ count: 2, chunks: 1, slots: 2 });
    expect(freluReducePlan(geo(8, 64, 56, 56), 1)).toMatchObject({ count: 25_088, chunks: 25, per: 16, slots: 1600 });
    // 9·C·2·4 bytes against maxTensorBytes (2^32 here): the partials are the larger buffer at N·Ho·Wo = 2
    const { ctx } = fakeGpu(true);
    expect(() => checkFrelu(ctx, geo(2, 59_652_323, 1, 1), 1, true)).not.toThrow();
    expect(() => checkFrelu(ctx, geo(2, 59_652_324, 1, 1), 1, true)).toThrow(/partial sums/);
  });

  test('ACON-FReLU refuses, in every call, parameters it cannot pack into one buffer (18·C floats)', () => {
    const { ctx } = fakeGpu(true);
    const call = (c: number, training: boolean) => () =>
      aconFReluKernels.check!(
        { ctx, geo: { n: 1, c, h: 1, w: 1, dataFormat: 'NCHW' }, options: { training } } as never,
        'forward',
      );
    // maxTensorBytes 2^32: 18·C·4 ≤ 2^32 up to C = 59,652,323 (the eval forward checks nothing else)
    expect(call(59_652_323, false)).not.toThrow();
    expect(call(59_652_324, false)).toThrow(/18 parameters per channel/);
  });

  test("ACON-FReLU's strip length: 8 rows on a GPU; on a CPU up to 64, shorter for fewer than 8 workgroups", () => {
    expect(stripRows(false, 56, 3584)).toBe(8);
    expect(stripRows(true, 56, 8 * 64 * 7)).toBe(56); // [8, 64, 56, 56] NCHW: one strip a column
    expect(stripRows(true, 56, 64 * 7)).toBe(28); // batch 1: 448 columns, two bands for 896 invocations
    expect(stripRows(true, 41, 4)).toBe(7); // few columns: strips of 8 rows at the least (six here)
    expect(stripRows(true, 200, 10_000)).toBe(50); // four strips of at most 64 rows
    for (const h of [1, 2, 7, 63, 64, 65, 129, 4096])
      for (const columns of [1, 3, 100, 512, 1e6]) {
        const rows = stripRows(true, h, columns);
        expect(rows).toBeGreaterThanOrEqual(1);
        expect(rows).toBeLessThanOrEqual(Math.min(64, h));
        expect(Number.isInteger(rows)).toBe(true);
      }
  });

  test('ACON-FReLU refuses more than 2^24 positions per channel, and a backward whose saved values exceed a buffer', () => {
    const { ctx } = fakeGpu(true);
    const geo = { n: 2, c: 1, h: 4097, w: 4096, dataFormat: 'NCHW' as const };
    expect(() => checkFrelu(ctx, geo, 1, false)).toThrow(LimitError);
    expect(() => checkFrelu(ctx, { ...geo, n: 1 }, 2, false)).not.toThrow();
    // 5 (backward) or 4 (training forward) ·C·N·Ho·Wo·4 bytes of kept values against maxTensorBytes
    // (2^32 here): with 2^22 positions, C = 64 fills a buffer exactly in the training forward
    const big = { n: 1, c: 64, h: 2048, w: 2048, dataFormat: 'NHWC' as const };
    expect(() => checkFrelu(ctx, big, 1, true)).toThrow(LimitError);
    expect(() => checkFrelu(ctx, { ...big, c: 51 }, 1, true)).not.toThrow();
    expect(() => checkFrelu(ctx, { ...big, c: 52 }, 1, true)).toThrow(LimitError);
    expect(() => checkFrelu(ctx, big, 1, false)).not.toThrow();
    expect(() => checkFrelu(ctx, { ...big, c: 65 }, 1, false)).toThrow(LimitError);
  });

  const gpuBuffer = () => ({ size: 2 ** 40, usage: 0x80 | 0x04 | 0x08 }) as unknown as GPUBuffer;
  const metaBuffers = () => {
    const bn = () => ({ weight: gpuBuffer(), bias: gpuBuffer(), runningMean: gpuBuffer(), runningVar: gpuBuffer() });
    const params = {
      p1: gpuBuffer(),
      p2: gpuBuffer(),
      fc1: { weight: gpuBuffer(), bias: gpuBuffer() },
      bn1: bn(),
      fc2: { weight: gpuBuffer(), bias: gpuBuffer() },
      bn2: bn(),
    };
    const wb = () => ({ weight: gpuBuffer(), bias: gpuBuffer() });
    const grads = { dx: gpuBuffer(), p1: gpuBuffer(), p2: gpuBuffer(), fc1: wb(), bn1: wb(), fc2: wb(), bn2: wb() };
    return { x: gpuBuffer(), y: gpuBuffer(), dy: gpuBuffer(), params, grads };
  };
  // the Meta-ACON ops check buffer usages against WebGPU's flags (a browser global)
  (globalThis as { GPUBufferUsage?: object }).GPUBufferUsage ??= {
    COPY_SRC: 0x04,
    COPY_DST: 0x08,
    UNIFORM: 0x40,
    STORAGE: 0x80,
  };

  test.each([
    // [shape, r]: at the batch and feature limits; planes of 2^28 elements; many channels on large
    // planes (beta_eval would loop too long: the staged passes); per-sample tiles of one pixel
    [[META_BATCH_MAX, 4, 1, 1], 4],
    [[2, META_FEATURES_MAX, 1, 1], 16],
    [[2, 1, 16_384, 16_384], 1],
    [[2, 2_000, 112, 112], 16],
    [[2, 1_000, 7, 7], 16],
    [[64, 3, 300, 301], 1],
  ] as [[number, number, number, number], number][])(
    'Meta-ACON-C forward (training, eval) and backward, recorded: %j r = %i',
    (shape, r) => {
      for (const software of [true, false])
        for (const dataFormat of ['NCHW', 'NHWC'] as const)
          for (const training of [true, false]) {
            const { ctx, rec, log } = fakeGpu(software);
            const { x, y, dy, params, grads } = metaBuffers();
            recordForward(ctx, metaAconC, rec, { x, y, params }, shape, { training, dataFormat, r });
            recordBackward(ctx, metaAconC, rec, { x, dy, params, grads }, shape, { training, dataFormat, r });
            expect(overBudget(log), `${software} ${dataFormat} ${training}`).toEqual([]);
          }
    },
  );

  test('Meta-ACON-C beyond the β generator loops: LimitError in training and backward, eval forward works', () => {
    const { ctx, rec, log } = fakeGpu(false);
    const { x, y, dy, params, grads } = metaBuffers();
    const big: [number, number, number, number] = [META_BATCH_MAX + 1, 4, 1, 1];
    expect(() => recordForward(ctx, metaAconC, rec, { x, y, params }, big, { training: true })).toThrow(LimitError);
    expect(() => recordBackward(ctx, metaAconC, rec, { x, dy, params, grads }, big, { training: false })).toThrow(
      LimitError,
    );
    const wide: [number, number, number, number] = [2, META_FEATURES_MAX + 1, 1, 1];
    expect(() => recordForward(ctx, metaAconC, rec, { x, y, params }, wide, { training: false })).toThrow(LimitError);
    expect(() =>
      recordForward(ctx, metaAconC, rec, { x, y, params }, [2, 8, 1, 1], { training: false, hidden: 20_000 }),
    ).toThrow(/at most 16384/);
    expect(log).toEqual([]);
    recordForward(ctx, metaAconC, rec, { x, y, params }, [70_000, 4, 1, 1], { training: false, dataFormat: 'NHWC' });
    expect(log.length).toBeGreaterThan(0);
    expect(overBudget(log)).toEqual([]);
  });
});
