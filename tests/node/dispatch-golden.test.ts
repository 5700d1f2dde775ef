// The dispatch golden: the WebGPU work of every public call form, recorded on a fake device
// (tests/helpers/fakeDevice.ts) and compared with tests/fixtures/golden/dispatch.json, so that a
// refactor that must not change behaviour shows it changed none: the same shader modules (by the
// hash of their code), entry points, pipeline constants, uniform bytes, bindings, workgroup grids,
// copies, passes and submits, in the same order, with the same data flow between buffers.
//
// The golden was recorded from commit bcc493a, and re-recorded since for a comment-only edit of
// shaders/acon_c.wgsl (only the module's code hash changed; every trace otherwise identical) and
// for foldGrid's LimitError (the 48 Meta-ACON backward traces at 7 workgroups per dimension end in
// that throw: only its type and message changed, from a RangeError's). Rewrite
// it (UPDATE_GOLDEN=1 npx vitest run --project node tests/node/dispatch-golden.test.ts) only for a
// change meant to alter the GPU work, such as a WGSL edit, and review the diff of its "traces"
// section with the change.
import { afterAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AconGPU, metaHiddenWidth, type DataFormat, type MetaAconCParams, type Shape4 } from '../../src/index';
import { normal, rng, uniform } from '../../src/ops/random';
import { FakeGPU, sha256, type TraceEvent } from '../helpers/fakeDevice';

const FILE = 'tests/fixtures/golden/dispatch.json';
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Cases whose whole trace the file keeps, for readable diffs. */
const SHOWN = [
  'aconC.forward host [2,8,4,4] NCHW per-channel software',
  'aconC.backward host [3,6,9,9] NHWC per-sample GPU',
  'aconC.backward encoder [2,8,4,4] NCHW per-sample GPU wg7',
  'metaAconC.forward host [4,256,7,7] r16 NHWC eval software',
  'metaAconC.backward host [3,17,5,5] r4 NCHW training debug GPU',
  'metaAconC.forward buffers [2,16,7,7] r16 NCHW eval storage-only GPU',
];

type Event = TraceEvent | { op: 'throw'; error: string };
interface Golden {
  about: string;
  /**
   * Per case: the sha256 of its trace (JSON), and 8 hex digits of the sha256 of each of its events
   * (to find where a trace first differs).
   */
  cases: Record<string, [string, string]>;
  traces: Record<string, Event[]>;
}

interface Config {
  software: boolean;
  maxWorkgroupsPerDimension?: number;
}
interface Case {
  name: string;
  config: Config;
  run: (acon: AconGPU, gpu: FakeGPU) => Promise<void>;
}

const S = () => GPUBufferUsage.STORAGE;
const RW = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Seeded host data, cached (the same array for the same length and seed). */
const cache = new Map<string, Float32Array>();
function data(n: number, seed: number): Float32Array {
  const key = `${n}:${seed}`;
  let a = cache.get(key);
  if (!a) cache.set(key, (a = normal(rng(seed), n)));
  return a;
}

/** Meta-ACON-C parameters with no two leaves alike (so that upload hashes tell every leaf apart). */
function metaParams(c: number, r: number, seed: number): MetaAconCParams {
  const R = metaHiddenWidth(c, r);
  const rand = rng(seed);
  const bn = (f: number) => ({
    weight: uniform(rand, f, 0.5, 1.5),
    bias: normal(rand, f, 0.2),
    runningMean: normal(rand, f, 0.1),
    runningVar: uniform(rand, f, 0.5, 2),
  });
  return {
    p1: normal(rand, c),
    p2: normal(rand, c),
    fc1: { weight: uniform(rand, R * c, -0.5, 0.5), bias: uniform(rand, R, -0.1, 0.1) },
    bn1: bn(R),
    fc2: { weight: uniform(rand, c * R, -0.5, 0.5), bias: uniform(rand, c, -0.1, 0.1) },
    bn2: bn(c),
  };
}

type Buffers<T> = { [K in keyof T]: T[K] extends number ? GPUBuffer : Buffers<T[K]> };

/** A tree of the caller's buffers named by role, one per leaf of `sizes` (element counts). */
function callerTree<T extends object>(gpu: FakeGPU, sizes: T, prefix: string, usage: number): Buffers<T> {
  return Object.fromEntries(
    Object.entries(sizes).map(([k, v]) => {
      const role = `${prefix}.${k}`;
      return [k, typeof v === 'number' ? gpu.callerBuffer(role, v * 4, usage) : callerTree(gpu, v, role, usage)];
    }),
  ) as Buffers<T>;
}

const fmtShape = (s: Shape4) => `[${s.join(',')}]`;
const tune = (c: Config) =>
  `${c.software ? 'software' : 'GPU'}${c.maxWorkgroupsPerDimension ? ` wg${c.maxWorkgroupsPerDimension}` : ''}`;
const configs = (wg7: boolean): Config[] =>
  [true, false].map((software) => (wg7 ? { software, maxWorkgroupsPerDimension: 7 } : { software }));

/** Runs `fn` with an encoder of the caller's, which it submits afterwards (the encoder form). */
async function encoded(acon: AconGPU, gpu: FakeGPU, fn: (e: ReturnType<AconGPU['encoder']>) => void) {
  const enc = gpu.device.createCommandEncoder();
  const e = acon.encoder(enc);
  fn(e);
  gpu.device.queue.submit([enc.finish()]);
  e.release();
}

function aconCCases(shapes: Shape4[], wg7: boolean): Case[] {
  const out: Case[] = [];
  for (const shape of shapes)
    for (const dataFormat of ['NCHW', 'NHWC'] as DataFormat[])
      for (const perSample of [false, true])
        for (const config of configs(wg7)) {
          const [n, c] = shape;
          const count = shape.reduce((a, b) => a * b, 1);
          const betaLength = perSample ? n * c : c;
          const at = `${fmtShape(shape)} ${dataFormat} ${perSample ? 'per-sample' : 'per-channel'} ${tune(config)}`;
          const params = { p1: data(c, 3), p2: data(c, 4), beta: data(betaLength, 5) };
          const [x, dy] = [data(count, 1), data(count, 2)];
          const opts = { dataFormat, betaLength };
          const buffers = (gpu: FakeGPU) => ({
            x: gpu.callerBuffer('x', count * 4, RW()),
            dy: gpu.callerBuffer('dy', count * 4, RW()),
            y: gpu.callerBuffer('y', count * 4, RW()),
            params: callerTree(gpu, { p1: c, p2: c, beta: betaLength }, 'params', RW()),
            grads: callerTree(gpu, { dx: count, p1: c, p2: c, beta: betaLength }, 'grads', RW()),
          });
          const add = (name: string, run: Case['run']) => out.push({ name: `${name} ${at}`, config, run });
          add('aconC.forward host', async (a) => void (await a.aconCForward(x, shape, params, { dataFormat })));
          add('aconC.backward host', async (a) => void (await a.aconCBackward(x, dy, shape, params, { dataFormat })));
          add('aconC.forward buffers', (a, g) => a.aconCForwardBuffers(buffers(g), shape, opts));
          add('aconC.backward buffers', (a, g) => a.aconCBackwardBuffers(buffers(g), shape, opts));
          add('aconC.forward encoder', (a, g) => encoded(a, g, (e) => e.aconCForward(buffers(g), shape, opts)));
          add('aconC.backward encoder', (a, g) => encoded(a, g, (e) => e.aconCBackward(buffers(g), shape, opts)));
        }
  return out;
}

/** Meta-ACON-C shapes with r; `host` also runs the host-array forms (the others need no data). */
function metaCases(shapes: { shape: Shape4; r: number; host: boolean }[], wg7: boolean): Case[] {
  const out: Case[] = [];
  for (const { shape, r, host } of shapes)
    for (const dataFormat of ['NCHW', 'NHWC'] as DataFormat[])
      for (const training of [true, false])
        for (const config of configs(wg7)) {
          const [, c] = shape;
          const R = metaHiddenWidth(c, r);
          const count = shape.reduce((a, b) => a * b, 1);
          const mode = training ? 'training' : 'eval';
          const at = (extra: string) =>
            `${fmtShape(shape)} r${r} ${dataFormat} ${mode}${extra ? ` ${extra}` : ''} ${tune(config)}`;
          const add = (name: string, extra: string, run: Case['run']) =>
            out.push({ name: `${name} ${at(extra)}`, config, run });
          if (host) {
            const params = metaParams(c, r, 6);
            const [x, dy] = [data(count, 1), data(count, 2)];
            for (const debug of [false, true]) {
              const o = { training, dataFormat, debug };
              const tag = debug ? 'debug' : '';
              add('metaAconC.forward host', tag, async (a) => void (await a.metaAconCForward(x, shape, params, o)));
              add(
                'metaAconC.backward host',
                tag,
                async (a) => void (await a.metaAconCBackward(x, dy, shape, params, o)),
              );
            }
          }
          const bn = (f: number) => ({ weight: f, bias: f, runningMean: f, runningVar: f });
          const paramSizes = { p1: c, p2: c, fc1: { weight: R * c, bias: R }, bn1: bn(R) };
          const sizes = { ...paramSizes, fc2: { weight: c * R, bias: c }, bn2: bn(c) };
          const wb = (f: number, k: number) => ({ weight: f * k, bias: f });
          const gradSizes = { dx: count, p1: c, p2: c, fc1: wb(R, c), bn1: wb(R, 1), fc2: wb(c, R), bn2: wb(c, 1) };
          const opts = { training, dataFormat, r };
          for (const [usage, tag] of [
            [RW, 'copy-src'],
            [S, 'storage-only'],
          ] as const) {
            const buffers = (gpu: FakeGPU) => ({
              x: gpu.callerBuffer('x', count * 4, RW()),
              dy: gpu.callerBuffer('dy', count * 4, RW()),
              y: gpu.callerBuffer('y', count * 4, RW()),
              params: callerTree(gpu, sizes, 'params', usage()),
              grads: callerTree(gpu, gradSizes, 'grads', RW()),
            });
            add('metaAconC.forward buffers', tag, (a, g) => a.metaAconCForwardBuffers(buffers(g), shape, opts));
            add('metaAconC.backward buffers', tag, (a, g) => a.metaAconCBackwardBuffers(buffers(g), shape, opts));
            add('metaAconC.forward encoder', tag, (a, g) =>
              encoded(a, g, (e) => e.metaAconCForward(buffers(g), shape, opts)),
            );
            add('metaAconC.backward encoder', tag, (a, g) =>
              encoded(a, g, (e) => e.metaAconCBackward(buffers(g), shape, opts)),
            );
          }
        }
  return out;
}

// The geometries of tests/node/kernels.test.ts and the small ones of demo/validation.ts; Meta-ACON
// as the report's META_CASES, plus C + R beyond the one-pass eval generator (the staged passes) and
// long planes; with a 7-workgroup grid limit, shapes that fit a 7×7 grid (folding in both axes).
const GROUPS: Record<string, () => Case[]> = {
  aconC: () =>
    aconCCases(
      [
        [2, 8, 4, 4],
        [1, 3, 5, 7],
        [3, 6, 9, 9],
        [2, 64, 56, 56],
        [5, 5, 3, 3],
        [1, 130, 2, 2],
        [1, 1, 1, 1],
        [2, 3, 7, 1],
        [3, 17, 7, 7],
        [4, 64, 7, 7],
      ],
      false,
    ),
  'aconC wg7': () =>
    aconCCases(
      [
        [2, 8, 4, 4],
        [1, 3, 5, 7],
        [5, 5, 3, 3],
        [2, 3, 7, 1],
      ],
      true,
    ),
  metaAconC: () =>
    metaCases(
      [
        { shape: [2, 16, 7, 7], r: 16, host: true },
        { shape: [3, 17, 1, 1], r: 4, host: true },
        { shape: [3, 17, 5, 5], r: 4, host: true },
        { shape: [4, 256, 7, 7], r: 16, host: true },
        { shape: [8, 64, 56, 56], r: 16, host: true },
        { shape: [2, 2000, 7, 7], r: 16, host: false },
        { shape: [64, 3, 300, 301], r: 1, host: false },
      ],
      false,
    ),
  'metaAconC wg7': () =>
    metaCases(
      [
        { shape: [2, 16, 7, 7], r: 16, host: true },
        { shape: [3, 17, 5, 5], r: 4, host: true },
      ],
      true,
    ),
};

/** Each case's trace, on one AconGPU per configuration (its caches and pool carry over, as a user's would). */
async function traces(cases: Case[]): Promise<Map<string, Event[]>> {
  const gpu = new FakeGPU();
  const handles = new Map<string, AconGPU>();
  const out = new Map<string, Event[]>();
  for (const c of cases) {
    const key = tune(c.config);
    let acon = handles.get(key);
    if (!acon) handles.set(key, (acon = await AconGPU.create({ device: gpu.device, ...c.config })));
    gpu.begin();
    const events: Event[] = [];
    try {
      await c.run(acon, gpu);
    } catch (e) {
      events.push({ op: 'throw', error: `${(e as Error).name}: ${(e as Error).message}` });
    }
    out.set(c.name, [...gpu.end(), ...events]);
  }
  for (const acon of handles.values()) acon.destroy();
  return out;
}

const eventHash = (e: Event) => sha256(JSON.stringify(e)).slice(0, 8);
const traceHash = (t: Event[]) => sha256(JSON.stringify(t));

const golden: Golden | undefined = existsSync(FILE) ? (JSON.parse(readFileSync(FILE, 'utf8')) as Golden) : undefined;
const recorded: Golden = {
  about:
    'WebGPU work of every public call form on a fake device (tests/node/dispatch-golden.test.ts), recorded from ' +
    'commit bcc493a. Rewrite only deliberately (UPDATE_GOLDEN=1), for a change meant to alter the GPU work.',
  cases: {},
  traces: {},
};

/** The golden as JSON with one case (or one event of a kept trace) per line. */
function serialize(g: Golden): string {
  const j = JSON.stringify;
  const block = (o: Record<string, unknown>, item: (v: never) => string) =>
    Object.entries(o)
      .map(([k, v]) => `    ${j(k)}: ${item(v as never)}`)
      .join(',\n');
  const trace = (t: Event[]) => `[\n${t.map((e) => `      ${j(e)}`).join(',\n')}\n    ]`;
  return [
    '{',
    `  "about": ${j(g.about)},`,
    `  "cases": {\n${block(g.cases, j)}\n  },`,
    `  "traces": {\n${block(g.traces, trace)}\n  }`,
    '}\n',
  ].join('\n');
}

/** What differs between a case's trace and the golden's, in words (the first differing event). */
function explain(name: string, now: Event[]): string {
  const before = golden!.cases[name]?.[1].split(' ') ?? [];
  const hashes = now.map(eventHash);
  const i = hashes.findIndex((h, k) => h !== before[k]);
  const k = i < 0 ? hashes.length : i;
  // the old event itself where some kept trace has it (the same event often recurs across cases)
  const known = new Map(Object.values(golden!.traces).flatMap((t) => t.map((e) => [eventHash(e), e] as const)));
  const old = golden!.traces[name]?.[k] ?? known.get(before[k] ?? '');
  return [
    `${name}: ${before.length} events before, ${now.length} now; first difference at event ${k}`,
    `  now:    ${k < now.length ? JSON.stringify(now[k]) : '(none)'}`,
    `  before: ${old ? JSON.stringify(old) : k < before.length ? `(event hash ${before[k]}; full traces are kept only for ${SHOWN.length} cases)` : '(none)'}`,
  ].join('\n');
}

describe(`dispatch golden (${FILE})`, () => {
  test.each(Object.keys(GROUPS))('%s: every trace as recorded', async (group) => {
    const cases = GROUPS[group]!();
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    const got = await traces(cases);
    for (const [name, t] of got) {
      recorded.cases[name] = [traceHash(t), t.map(eventHash).join(' ')];
      if (SHOWN.includes(name)) recorded.traces[name] = t;
    }
    if (UPDATE) return;
    expect(golden, `${FILE} is missing: record it from the base commit with UPDATE_GOLDEN=1`).toBeDefined();
    const want = Object.keys(golden!.cases).filter((name) => cases.some((c) => c.name === name));
    expect([...got.keys()].sort(), 'the cases of this group').toEqual(want.sort());
    // the cases whose whole trace is kept first: their old events can be shown
    const changed = [...got]
      .filter(([name, t]) => traceHash(t) !== golden!.cases[name]?.[0])
      .sort(([a], [b]) => Number(SHOWN.includes(b)) - Number(SHOWN.includes(a)));
    const report = [
      `${changed.length} of ${got.size} traces differ from the golden:`,
      ...changed.slice(0, 3).map(([name, t]) => explain(name, t)),
      ...changed.slice(3, 20).map(([name]) => `  also: ${name}`),
    ].join('\n');
    expect(changed.length, report).toBe(0);
  });

  afterAll(() => {
    if (!UPDATE) return;
    // only a complete run rewrites the file (not one filtered with -t)
    const all = Object.values(GROUPS).flatMap((g) => g().map((c) => c.name));
    if (all.some((name) => !(name in recorded.cases)))
      throw new Error(`UPDATE_GOLDEN: not every case ran; ${FILE} kept`);
    mkdirSync(dirname(FILE), { recursive: true });
    writeFileSync(FILE, serialize(recorded));
    console.log(`wrote ${FILE}: ${all.length} cases`);
  });
});
