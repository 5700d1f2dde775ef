// The output golden: what the library computes on a real engine (Dawn here; SwiftShader on a
// machine without a GPU), bit for bit, through the public faces: ACON-C and Meta-ACON-C in their
// host, buffer and encoder forms; the tfjs ops (fused and composed) with their gradients; the
// tf.layers layers and seed models; the host layers' initial weights. Compared with
// tests/fixtures/golden/outputs-<fingerprint>.json (tests/helpers/outputGolden.ts), recorded from
// commit bcc493a, so that a refactor meant to change no behaviour shows that no bit changed.
//
// Bits depend on the adapter and, for a CPU driver, on the CPU: a machine whose fingerprint has no
// file skips this suite (saying so). UPDATE_GOLDEN=1 writes the file for this machine: only from a
// commit whose outputs are the reference (the base of a refactor), never to make a failure pass.
import { afterAll, describe, expect, inject, test } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  AconC as HostAconC,
  AconGPU,
  MetaAconC as HostMetaAconC,
  metaHiddenWidth,
  type DataFormat,
  type MetaAconCParams,
  type Shape4,
} from '../../src/index';
import { aconC, metaAconC, type MetaAconCTensors } from '../../src/tfjs/index';
import { AconC, MetaAconC, seedModel } from '../../src/layers/index';
import { normal, rng, uniform } from '../../src/ops/random';
import {
  describeMismatch,
  fingerprint,
  readGolden,
  summarize,
  writeGolden,
  type CaseOutputs,
} from '../helpers/outputGolden';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const base = await AconGPU.create();
const info = (base.device as GPUDevice & { adapterInfo: GPUAdapterInfo }).adapterInfo;

/** What else can change bits besides the fingerprint; shown when outputs differ. */
function environment(): Record<string, string> {
  const icd = inject('vulkan').icd;
  let driver = 'unknown';
  if (icd && existsSync(icd)) {
    const lib = resolve(
      dirname(icd),
      (JSON.parse(readFileSync(icd, 'utf8')) as { ICD: { library_path: string } }).ICD.library_path,
    );
    if (existsSync(lib))
      driver = `${lib} sha256 ${createHash('sha256').update(readFileSync(lib)).digest('hex').slice(0, 16)}`;
  }
  const version = (pkg: string) =>
    (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;
  return { driver, webgpu: version('webgpu'), tfjs: version('@tensorflow/tfjs-core'), node: process.version };
}
const env = environment();
const { fingerprint: fp, file: FILE } = fingerprint(
  info,
  env.driver.replace(/^.* sha256 /, ''),
  'tests/fixtures/golden',
);
const golden = readGolden(FILE);

const SKIP = !golden && !UPDATE;
if (SKIP) {
  console.warn(
    `\n*** output golden SKIPPED: no saved outputs for this adapter and CPU (${FILE} does not exist; ` +
      `fingerprint ${JSON.stringify(fp)}). On a GPU or another CPU the bits differ, so there is nothing to compare with. ` +
      'Record one with UPDATE_GOLDEN=1 from the base commit of a refactor. ***\n',
  );
  base.destroy();
}

const recorded: Record<string, CaseOutputs> = {};
const GROUPS = ['ACON-C', 'Meta-ACON-C', 'tfjs ops', 'tf.layers', 'initial weights'];
const done = new Set<string>();

/** Records a case's outputs and returns how they differ from the golden (nothing in UPDATE mode). */
function check(name: string, outputs: Record<string, ArrayLike<number>>): string[] {
  const now = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, summarize(v)]));
  if (name in recorded) throw new Error(`case named twice: ${name}`);
  recorded[name] = now;
  if (UPDATE) return [];
  const saved = golden!.cases[name];
  if (!saved) return [`${name}: not in the golden`];
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])];
  return keys
    .filter((k) => saved[k]?.sha256 !== now[k]?.sha256)
    .map((k) => (now[k] ? describeMismatch(`${name} › ${k}`, saved[k], now[k]) : `${name} › ${k}: no longer computed`));
}

/** Fails with every difference, and what of the environment differs from the recording's. */
function expectNone(problems: string[]): void {
  const drift = Object.entries(env).filter(([k, v]) => golden && golden.environment[k] !== v);
  const note = drift.map(([k, v]) => `  environment ${k}: recorded ${golden!.environment[k]}, now ${v}`);
  expect(problems.length, [`${problems.length} outputs differ:`, ...problems.slice(0, 12), ...note].join('\n')).toBe(0);
}

const cache = new Map<string, Float32Array>();
/** Seeded N(0, scale²) data, cached. */
function data(n: number, seed: number, scale = 1): Float32Array {
  const key = `${n}:${seed}:${scale}`;
  let a = cache.get(key);
  if (!a) cache.set(key, (a = normal(rng(seed), n, scale)));
  return a;
}
const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const at = (s: readonly number[]) => `[${s.join(',')}]`;

/** Meta-ACON-C parameters: convs in PyTorch's init range, batch norms away from their init. */
function metaParams(c: number, r: number, seed: number): MetaAconCParams {
  const R = metaHiddenWidth(c, r);
  const rand = rng(seed);
  const bn = (f: number) => ({
    weight: uniform(rand, f, 0.5, 1.5),
    bias: normal(rand, f, 0.2),
    runningMean: normal(rand, f, 0.1),
    runningVar: uniform(rand, f, 0.5, 2),
  });
  const b1 = 1 / Math.sqrt(c);
  const b2 = 1 / Math.sqrt(R);
  return {
    p1: normal(rand, c),
    p2: normal(rand, c),
    fc1: { weight: uniform(rand, R * c, -b1, b1), bias: uniform(rand, R, -0.1, 0.1) },
    bn1: bn(R),
    fc2: { weight: uniform(rand, c * R, -b2, b2), bias: uniform(rand, c, -0.1, 0.1) },
    bn2: bn(c),
  };
}

/** A nested object of arrays flattened to 'a.b' keys. */
function flat(o: object, prefix = ''): Record<string, ArrayLike<number>> {
  return Object.fromEntries(
    Object.entries(o).flatMap(([k, v]) =>
      ArrayBuffer.isView(v) ? [[prefix + k, v as Float32Array]] : Object.entries(flat(v as object, `${prefix}${k}.`)),
    ),
  );
}

const tunings = async () => ({
  software: await AconGPU.create({ device: base.device, software: true }),
  GPU: await AconGPU.create({ device: base.device, software: false }),
  'software wg7': await AconGPU.create({ device: base.device, software: true, maxWorkgroupsPerDimension: 7 }),
  'GPU wg7': await AconGPU.create({ device: base.device, software: false, maxWorkgroupsPerDimension: 7 }),
});

describe.skipIf(SKIP)(`output golden (${FILE})`, () => {
  afterAll(() => {
    base.destroy();
    if (!UPDATE) return;
    if (GROUPS.some((g) => !done.has(g))) throw new Error(`UPDATE_GOLDEN: not every group ran; ${FILE} kept`);
    writeGolden(FILE, {
      about:
        'Outputs of tests/dawn/golden.test.ts on this fingerprint, recorded from commit bcc493a: sha256 of the ' +
        'float32 bytes, the first 4 values, and the bits of 8 spread ones. Rewrite only deliberately (UPDATE_GOLDEN=1).',
      fingerprint: fp,
      environment: env,
      cases: recorded,
    });
    console.log(`wrote ${FILE}: ${Object.keys(recorded).length} cases`);
  });

  test('ACON-C: host forward and backward, buffers and encoder forms', async () => {
    const acon = await tunings();
    const problems: string[] = [];
    const run = async (tag: keyof typeof acon, shape: Shape4, dataFormat: DataFormat, perSample: boolean) => {
      const [n, c] = shape;
      const x = data(count(shape), 1, 2);
      const dy = data(count(shape), 2);
      const p = { p1: data(c, 3), p2: data(c, 4), beta: uniform(rng(5), perSample ? n * c : c, -2, 2) };
      const y = await acon[tag].aconCForward(x, shape, p, { dataFormat });
      const g = await acon[tag].aconCBackward(x, dy, shape, p, { dataFormat });
      const name = `aconC host ${at(shape)} ${dataFormat} ${perSample ? 'per-sample' : 'per-channel'} ${tag}`;
      problems.push(...check(name, { y, ...flat(g) }));
    };
    const small: Shape4[] = [
      [2, 8, 4, 4],
      [1, 3, 5, 7],
      [3, 6, 9, 9],
      [5, 5, 3, 3],
      [1, 130, 2, 2],
      [1, 1, 1, 1],
      [2, 3, 7, 1],
      [3, 17, 7, 7],
      [4, 64, 7, 7],
    ];
    for (const shape of small)
      for (const f of ['NCHW', 'NHWC'] as const)
        for (const perSample of [false, true])
          for (const tag of ['software', 'GPU'] as const) await run(tag, shape, f, perSample);
    for (const shape of small.slice(0, 4))
      for (const f of ['NCHW', 'NHWC'] as const)
        for (const perSample of [false, true])
          for (const tag of ['software wg7', 'GPU wg7'] as const) await run(tag, shape, f, perSample);
    // the report's larger cases: ResNet stage shapes, a batch of small planes, a high-resolution image
    for (const tag of ['software', 'GPU'] as const) {
      for (const f of ['NCHW', 'NHWC'] as const) {
        await run(tag, [8, 64, 56, 56], f, false);
        await run(tag, [32, 64, 16, 16], f, false);
      }
      await run(tag, [8, 64, 56, 56], 'NHWC', true);
      await run(tag, [1, 3, 1201, 1201], 'NHWC', false);
    }
    // the GPU-resident forms: the caller's buffers, submitted by the library or recorded into the caller's encoder
    const a = acon.software;
    for (const f of ['NCHW', 'NHWC'] as const) {
      const shape: Shape4 = [3, 17, 7, 7];
      const k = count(shape);
      const buf = (v: Float32Array) => a.createBuffer(v);
      const params = { p1: buf(data(17, 3)), p2: buf(data(17, 4)), beta: buf(uniform(rng(5), 51, -2, 2)) };
      const [x, dy, y] = [buf(data(k, 1, 2)), buf(data(k, 2)), buf(new Float32Array(k))];
      const grads = {
        dx: buf(new Float32Array(k)),
        p1: buf(new Float32Array(17)),
        p2: buf(new Float32Array(17)),
        beta: buf(new Float32Array(51)),
      };
      const opts = { dataFormat: f, betaLength: 51 };
      await a.aconCForwardBuffers({ x, params, y }, shape, opts);
      await a.aconCBackwardBuffers({ x, dy, params, grads }, shape, opts);
      const read = async () => ({
        y: await a.readBuffer(y, k),
        dx: await a.readBuffer(grads.dx, k),
        p1: await a.readBuffer(grads.p1, 17),
        p2: await a.readBuffer(grads.p2, 17),
        beta: await a.readBuffer(grads.beta, 51),
      });
      problems.push(...check(`aconC buffers ${at(shape)} ${f} per-sample software`, await read()));
      for (const b of [y, ...Object.values(grads)]) a.device.queue.writeBuffer(b, 0, new Float32Array(b.size / 4));
      const enc = a.device.createCommandEncoder();
      const e = a.encoder(enc);
      e.aconCForward({ x, params, y }, shape, opts);
      e.aconCBackward({ x, dy, params, grads }, shape, opts);
      a.device.queue.submit([enc.finish()]);
      e.release();
      problems.push(...check(`aconC encoder ${at(shape)} ${f} per-sample software`, await read()));
      for (const b of [x, dy, y, ...Object.values(params), ...Object.values(grads)]) b.destroy();
    }
    for (const h of Object.values(acon)) h.destroy();
    done.add('ACON-C');
    expectNone(problems);
  });

  test('Meta-ACON-C: host forward and backward (training, eval, debug), buffers and encoder forms', async () => {
    const acon = await tunings();
    const problems: string[] = [];
    const cases: { shape: Shape4; r: number; debug: boolean }[] = [
      { shape: [2, 16, 7, 7], r: 16, debug: true },
      { shape: [3, 17, 1, 1], r: 4, debug: true },
      { shape: [3, 17, 5, 5], r: 4, debug: true },
      { shape: [4, 256, 7, 7], r: 16, debug: false },
      { shape: [8, 64, 56, 56], r: 16, debug: false },
      { shape: [2, 2000, 3, 3], r: 16, debug: false },
    ];
    for (const { shape, r, debug } of cases)
      for (const dataFormat of ['NCHW', 'NHWC'] as const)
        for (const tag of ['software', 'GPU'] as const) {
          const params = metaParams(shape[1], r, 6);
          const x = data(count(shape), 1, 2);
          const dy = data(count(shape), 2);
          for (const training of [true, false]) {
            const name = `metaAconC host ${at(shape)} r${r} ${dataFormat} ${training ? 'training' : 'eval'} ${tag}`;
            const o = { training, dataFormat };
            const fwd = await acon[tag].metaAconCForward(x, shape, params, o);
            problems.push(...check(`${name} forward`, flat(fwd)));
            problems.push(
              ...check(`${name} backward`, flat(await acon[tag].metaAconCBackward(x, dy, shape, params, o))),
            );
            if (!debug) continue;
            const dbg = { ...o, debug: true };
            problems.push(
              ...check(`${name} forward debug`, flat(await acon[tag].metaAconCForward(x, shape, params, dbg))),
            );
            problems.push(
              ...check(`${name} backward debug`, flat(await acon[tag].metaAconCBackward(x, dy, shape, params, dbg))),
            );
          }
        }
    for (const tag of ['software wg7', 'GPU wg7'] as const) {
      const shape: Shape4 = [2, 16, 7, 7];
      const params = metaParams(16, 16, 6);
      for (const training of [true, false]) {
        const o = { training, dataFormat: 'NCHW' as const };
        const name = `metaAconC host ${at(shape)} r16 NCHW ${training ? 'training' : 'eval'} ${tag}`;
        const x = data(count(shape), 1, 2);
        problems.push(...check(`${name} forward`, flat(await acon[tag].metaAconCForward(x, shape, params, o))));
        const g = await acon[tag].metaAconCBackward(x, data(count(shape), 2), shape, params, o);
        problems.push(...check(`${name} backward`, flat(g)));
      }
    }
    // GPU-resident: parameters with COPY_SRC (the one-pass eval generator) and STORAGE-only ones (the staged passes)
    const a = acon.GPU;
    const shape: Shape4 = [4, 32, 5, 5];
    const k = count(shape);
    const host = metaParams(32, 4, 7);
    for (const [usage, tag] of [
      [GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'copy-src'],
      [GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, 'storage-only'],
    ] as const)
      for (const dataFormat of ['NCHW', 'NHWC'] as const)
        for (const form of ['buffers', 'encoder'] as const) {
          const made: GPUBuffer[] = [];
          const make = (v: Float32Array, u: number = usage) => {
            const b = a.device.createBuffer({ size: v.byteLength, usage: u });
            a.device.queue.writeBuffer(b, 0, v.buffer as ArrayBuffer, v.byteOffset, v.byteLength);
            made.push(b);
            return b;
          };
          const tree = <T extends object>(o: T): T =>
            Object.fromEntries(
              Object.entries(o).map(([n, v]) => [
                n,
                ArrayBuffer.isView(v) ? make(v as Float32Array) : tree(v as object),
              ]),
            ) as T;
          const params = tree(host) as unknown as MetaAconCParams<GPUBuffer>;
          const x = make(data(k, 1, 2), usage | GPUBufferUsage.COPY_SRC);
          const y = make(new Float32Array(k), usage | GPUBufferUsage.COPY_SRC);
          const opts = { training: false, dataFormat, r: 4 };
          if (form === 'buffers') await a.metaAconCForwardBuffers({ x, y, params }, shape, opts);
          else {
            const enc = a.device.createCommandEncoder();
            const e = a.encoder(enc);
            e.metaAconCForward({ x, y, params }, shape, opts);
            a.device.queue.submit([enc.finish()]);
            e.release();
          }
          problems.push(
            ...check(`metaAconC ${form} ${at(shape)} r4 ${dataFormat} eval ${tag} GPU`, {
              y: await a.readBuffer(y, k),
            }),
          );
          for (const b of made) b.destroy();
        }
    for (const h of Object.values(acon)) h.destroy();
    done.add('Meta-ACON-C');
    expectNone(problems);
  });
  test('tfjs ops on the webgpu backend: aconC and metaAconC, fused and composed, values and gradients', async () => {
    await tf.setBackend('webgpu');
    await tf.ready();
    const problems: string[] = [];
    const read = async (ts: Record<string, tf.Tensor>) =>
      Object.fromEntries(await Promise.all(Object.entries(ts).map(async ([k, t]) => [k, await t.data()] as const)));
    const layout = ([n, c, h, w]: Shape4, f: DataFormat) => (f === 'NCHW' ? [n, c, h, w] : [n, h, w, c]);
    for (const impl of ['auto', 'composed'] as const)
      for (const dataFormat of ['NHWC', 'NCHW'] as const) {
        for (const [shape, perSample] of [
          [[2, 5, 6, 6], false],
          [[3, 6, 4, 4], true],
          [[2, 64, 14, 14], false],
        ] as [Shape4, boolean][]) {
          const [n, c] = shape;
          const x = tf.tensor(data(count(shape), 11, 2), layout(shape, dataFormat));
          const dy = tf.tensor(data(count(shape), 12), layout(shape, dataFormat));
          const p1 = tf.tensor(data(c, 13), [c]);
          const p2 = tf.tensor(data(c, 14), [c]);
          const beta = tf.tensor(uniform(rng(15), perSample ? n * c : c, -2, 2), perSample ? [n, c] : [c]);
          const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => aconC(a, b, d, e, { dataFormat, impl });
          const { value, grads } = tf.valueAndGrads(f)([x, p1, p2, beta], dy);
          const [dx, dp1, dp2, dbeta] = grads as tf.Tensor[];
          const name = `tfjs aconC ${impl} ${at(shape)} ${dataFormat} ${perSample ? 'per-sample' : 'per-channel'}`;
          problems.push(...check(name, await read({ y: value, dx: dx!, p1: dp1!, p2: dp2!, beta: dbeta! })));
          tf.dispose([x, dy, p1, p2, beta, value, ...grads]);
        }
        for (const [shape, r] of [
          [[3, 17, 5, 5], 4],
          [[2, 64, 7, 7], 16],
        ] as [Shape4, number][])
          for (const training of [true, false]) {
            const h = metaParams(shape[1], r, 16);
            const v = (a: Float32Array) => tf.variable(tf.tensor(a), false);
            const running = [h.bn1.runningMean, h.bn1.runningVar, h.bn2.runningMean, h.bn2.runningVar].map(v);
            const ts = [
              h.p1,
              h.p2,
              h.fc1.weight,
              h.fc1.bias,
              h.bn1.weight,
              h.bn1.bias,
              h.fc2.weight,
              h.fc2.bias,
              h.bn2.weight,
              h.bn2.bias,
            ].map((a) => tf.tensor(a));
            const tensors = (t: tf.Tensor[]): MetaAconCTensors => ({
              p1: t[0]!,
              p2: t[1]!,
              fc1: { weight: t[2]!, bias: t[3]! },
              bn1: { weight: t[4]!, bias: t[5]!, runningMean: running[0]!, runningVar: running[1]! },
              fc2: { weight: t[6]!, bias: t[7]! },
              bn2: { weight: t[8]!, bias: t[9]!, runningMean: running[2]!, runningVar: running[3]! },
            });
            const x = tf.tensor(data(count(shape), 17, 2), layout(shape, dataFormat));
            const dy = tf.tensor(data(count(shape), 18), layout(shape, dataFormat));
            const f = (a: tf.Tensor, ...t: tf.Tensor[]) => metaAconC(a, tensors(t), { training, dataFormat, impl });
            const { value, grads } = tf.valueAndGrads(f)([x, ...ts], dy);
            const names = [
              'dx',
              'p1',
              'p2',
              'fc1.weight',
              'fc1.bias',
              'bn1.weight',
              'bn1.bias',
              'fc2.weight',
              'fc2.bias',
              'bn2.weight',
              'bn2.bias',
            ];
            const stats = ['bn1.running_mean', 'bn1.running_var', 'bn2.running_mean', 'bn2.running_var'];
            const out: Record<string, tf.Tensor> = {
              y: value,
              ...Object.fromEntries(grads.map((g, i) => [names[i]!, g])),
            };
            if (training) running.forEach((s, i) => (out[stats[i]!] = s));
            const name = `tfjs metaAconC ${impl} ${at(shape)} r${r} ${dataFormat} ${training ? 'training' : 'eval'}`;
            problems.push(...check(name, await read(out)));
            tf.dispose([x, dy, value, ...grads, ...ts, ...running]);
          }
      }
    done.add('tfjs ops');
    expectNone(problems);
  });

  test('tf.layers: AconC and MetaAconC (initial weights, predict, one training step), seed models', async () => {
    await tf.setBackend('webgpu');
    const problems: string[] = [];
    const weights = async (m: tfl.LayersModel) =>
      Object.fromEntries(
        await Promise.all(m.weights.map(async (w, i) => [`${i}:${w.originalName}`, await w.read().data()] as const)),
      );
    const xs = (shape: number[], seed: number) => tf.tensor(data(count(shape), seed, 2), shape);
    const layers: [string, () => tfl.layers.Layer, number[]][] = [
      ['AconC channelsLast', () => new AconC({ name: 'acon', inputShape: [5, 6, 8], seed: 3 }), [4, 5, 6, 8]],
      [
        'AconC channelsFirst',
        () => new AconC({ name: 'acon', inputShape: [8, 5, 6], dataFormat: 'channelsFirst', seed: 3 }),
        [4, 8, 5, 6],
      ],
      [
        'MetaAconC channelsLast',
        () => new MetaAconC({ name: 'meta', inputShape: [5, 5, 17], r: 4, seed: 5 }),
        [4, 5, 5, 17],
      ],
      [
        'MetaAconC channelsFirst',
        () => new MetaAconC({ name: 'meta', inputShape: [17, 5, 5], dataFormat: 'channelsFirst', r: 4, seed: 5 }),
        [4, 17, 5, 5],
      ],
    ];
    for (const [name, layer, shape] of layers) {
      const model = tfl.sequential({ layers: [layer()] });
      problems.push(...check(`layers ${name} initial weights`, await weights(model)));
      const x = xs(shape, 21);
      const y = model.predict(x) as tf.Tensor;
      problems.push(...check(`layers ${name} predict`, { y: await y.data() }));
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const target = xs(shape, 22);
      const loss = (await model.trainOnBatch(x, target)) as number;
      problems.push(...check(`layers ${name} sgd step`, { loss: [loss], ...(await weights(model)) }));
      tf.dispose([x, y, target]);
      model.dispose();
    }
    for (const kind of ['dcn2-acon', 'dcn2-meta'] as const) {
      const x = xs([2, 32, 32, 3], 23);
      for (const impl of ['auto', 'composed'] as const) {
        const model = seedModel(kind, { seed: 1, impl });
        const y = model.predict(x) as tf.Tensor;
        problems.push(...check(`seedModel ${kind} seed 1 ${impl} predict`, { y: await y.data() }));
        y.dispose();
        if (impl === 'auto') {
          problems.push(...check(`seedModel ${kind} seed 1 initial weights`, await weights(model)));
          model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
          const target = tf.tensor(data(2, 24), [2, 1]);
          const loss = (await model.trainOnBatch(x, target)) as number;
          problems.push(...check(`seedModel ${kind} seed 1 adam step`, { loss: [loss], ...(await weights(model)) }));
          target.dispose();
        }
        model.dispose();
      }
      x.dispose();
    }
    // the models saved by the base commit (tests/node/layers-saved.test.ts), loaded and run on webgpu
    for (const name of ['acon', 'meta', 'dcn2-meta']) {
      const json = JSON.parse(readFileSync(`tests/fixtures/layers/${name}.json`, 'utf8')) as {
        modelTopology: object;
        weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
      };
      const bin = readFileSync(`tests/fixtures/layers/${name}.weights.bin`);
      const model = await tfl.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest.flatMap((m) => m.weights),
          weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
        }),
      );
      const shape = model.inputs[0]!.shape.map((d) => d ?? 2);
      const x = xs(shape, 25);
      const y = model.predict(x) as tf.Tensor;
      problems.push(...check(`saved model ${name} loaded, predict`, { y: await y.data() }));
      tf.dispose([x, y]);
      model.dispose();
    }
    done.add('tf.layers');
    expectNone(problems);
  });

  test('the host layers initial weights (src/ops/layers.ts)', () => {
    const problems: string[] = [];
    const state = (d: Record<string, { data: Float32Array }>) =>
      Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.data]));
    for (const seed of [0, 7]) {
      problems.push(...check(`host AconC(64, ${seed}) state dict`, state(new HostAconC(64, seed).stateDict())));
      problems.push(
        ...check(`host MetaAconC(64, 16, ${seed}) state dict`, state(new HostMetaAconC(64, 16, seed).stateDict())),
      );
      problems.push(
        ...check(`host MetaAconC(17, 4, ${seed}) state dict`, state(new HostMetaAconC(17, 4, seed).stateDict())),
      );
    }
    done.add('initial weights');
    expectNone(problems);
  });

  test.skipIf(UPDATE)('every saved case was computed', () => {
    expect(Object.keys(golden!.cases).filter((name) => !(name in recorded))).toEqual([]);
  });
});
