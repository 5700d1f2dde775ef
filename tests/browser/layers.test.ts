// The tf.layers face (acon-webgpu/layers): AconC and MetaAconC as tf.layers layers on the webgpu backend.
import { describe, expect, test } from 'vitest';
import { tfjsWebGPUErrorScopes } from './tfjsScopes';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { AconC, MetaAconC } from '../../src/layers/index';
import { BatchSizeError, DTypeError, OptionError, ShapeError } from '../../src/gpu/errors';
import { aconCForwardRef } from '../../src/activations/aconC/reference';
import { forwardBounds } from '../../src/activations/aconC/bounds';
import { FLUSH, U, compare } from '../../src/reference/tolerance';
import { normal, rng, uniform } from '../../src/ops/random';

// Every test runs inside WebGPU error scopes on the tfjs device (see tfjsWebGPUErrorScopes).
tfjsWebGPUErrorScopes();

const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
const readAll = (ts: tf.Tensor[]) => Promise.all(ts.map(read));
/** NHWC → NCHW on host data. */
function toNCHW(x: Float32Array, [N, H, W, C]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N!; n++)
    for (let h = 0; h < H!; h++)
      for (let w = 0; w < W!; w++)
        for (let c = 0; c < C!; c++) out[((n * C! + c) * H! + h) * W! + w] = x[((n * H! + h) * W! + w) * C! + c]!;
  return out;
}
/** Values k/8 with integer k in [−16, 16]: sums of up to 2¹⁸ of them are exact in float32. */
const eighths = (r: () => number, n: number) => Float32Array.from({ length: n }, () => Math.round(r() * 32 - 16) / 8);

/** An in-memory round trip through model.save and tf.loadLayersModel. */
async function roundTrip(
  model: tfl.LayersModel,
): Promise<{ loaded: tfl.LayersModel; artifacts: tf.io.ModelArtifacts }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  return { loaded, artifacts: artifacts! };
}

describe('tf.layers face', () => {
  test('only src/layers and src/models import @tensorflow/tfjs-layers (acon-webgpu and acon-webgpu/tfjs users pay nothing for it)', () => {
    const sources = import.meta.glob('../../src/**/*.ts', { query: '?raw', import: 'default', eager: true }) as Record<
      string,
      string
    >;
    const files = Object.keys(sources);
    expect(files.some((f) => f.includes('/src/layers/'))).toBe(true);
    expect(files.length).toBeGreaterThan(10);
    for (const [file, text] of Object.entries(sources)) {
      if (file.includes('/src/layers/') || file.includes('/src/models/')) continue;
      expect(text, file).not.toMatch(/@tensorflow\/tfjs-layers/);
      expect(text, file).not.toMatch(/from ['"][./]*\/(layers|models)\//);
    }
  });

  test('AconC builds p1, p2 ~ N(0, 1) (seeded: replayable, p1 ≠ p2) and β = 1 of shape [C]; output shape = input shape', async () => {
    const a = new AconC({ seed: 5 });
    const b = new AconC({ seed: 5 });
    const x = tf.zeros([2, 3, 3, 40]);
    tf.dispose([a.apply(x) as tf.Tensor, b.apply(x) as tf.Tensor]);
    expect(a.getWeights().map((w) => w.shape)).toEqual([[40], [40], [40]]);
    expect(a.weights.map((w) => w.originalName.split('/').at(-1))).toEqual(['p1', 'p2', 'beta']);
    const [p1, p2, beta] = await readAll(a.getWeights());
    expect(await readAll(b.getWeights())).toEqual([p1, p2, beta]);
    expect(p1).not.toEqual(p2);
    expect(Array.from(beta!)).toEqual(new Array(40).fill(1));
    // 40 N(0,1) samples: |mean| < 4σ/√40 ≈ 0.63 and a spread between 0.5 and 1.6 hold with overwhelming probability
    for (const p of [p1!, p2!]) {
      const mean = p.reduce((s, v) => s + v, 0) / p.length;
      const sd = Math.sqrt(p.reduce((s, v) => s + (v - mean) ** 2, 0) / p.length);
      expect(Math.abs(mean)).toBeLessThan(0.63);
      expect(sd).toBeGreaterThan(0.5);
      expect(sd).toBeLessThan(1.6);
    }
    expect(a.computeOutputShape([null, 7, 7, 40])).toEqual([null, 7, 7, 40]);
    a.dispose();
    b.dispose();
    x.dispose();
  });

  test("MetaAconC builds the PyTorch module's parameters: R = max(r, ⌊C/r⌋), running statistics non-trainable", async () => {
    const layer = new MetaAconC({ seed: 1 });
    const y = layer.apply(tf.zeros([1, 2, 2, 64])) as tf.Tensor;
    expect(layer.hidden).toBe(16);
    const named = Object.fromEntries(layer.weights.map((w) => [w.originalName.split('/').at(-1)!, w]));
    const shapes = Object.fromEntries(Object.entries(named).map(([k, w]) => [k, w.shape]));
    expect(shapes).toEqual({
      p1: [64],
      p2: [64],
      'fc1.weight': [16, 64],
      'fc1.bias': [16],
      'bn1.weight': [16],
      'bn1.bias': [16],
      'bn1.running_mean': [16],
      'bn1.running_var': [16],
      'fc2.weight': [64, 16],
      'fc2.bias': [64],
      'bn2.weight': [64],
      'bn2.bias': [64],
      'bn2.running_mean': [64],
      'bn2.running_var': [64],
    });
    expect(layer.nonTrainableWeights.map((w) => w.originalName.split('/').at(-1))).toEqual([
      'bn1.running_mean',
      'bn1.running_var',
      'bn2.running_mean',
      'bn2.running_var',
    ]);
    expect(layer.countParams()).toBe(2 * 64 + 16 * 64 + 16 + 4 * 16 + 64 * 16 + 64 + 4 * 64);
    // PyTorch's conv init: U(±1/√fan_in), fan_in = 64 for fc1, 16 for fc2
    const w1 = await read(named['fc1.weight']!.read());
    const w2 = await read(named['fc2.weight']!.read());
    expect(Math.max(...w1.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...w1.map(Math.abs))).toBeGreaterThan(0.9 / 8);
    expect(Math.max(...w2.map(Math.abs))).toBeLessThanOrEqual(1 / 4);
    expect(Array.from(await read(named['bn1.running_var']!.read()))).toEqual(new Array(16).fill(1));
    expect(new MetaAconC({ r: 4 }).r).toBe(4);
    y.dispose();
    layer.dispose();
  });

  test('AconC: channelsFirst on NCHW data equals channelsLast on the same data in NHWC, both within the float32 bound of the float64 reference', async () => {
    const [N, H, W, C] = [3, 5, 7, 17];
    const r = rng(11);
    const xL = normal(r, N * H * W * C, 3);
    const xF = toNCHW(xL, [N, H, W, C]);
    const p = { p1: normal(r, C), p2: normal(r, C), beta: uniform(r, C, -2, 2) };
    const last = new AconC({ dataFormat: 'channelsLast' });
    const first = new AconC({ dataFormat: 'channelsFirst' });
    const tL = tf.tensor4d(xL, [N, H, W, C]);
    const tF = tf.tensor4d(xF, [N, C, H, W]);
    tf.dispose([last.apply(tL) as tf.Tensor, first.apply(tF) as tf.Tensor]);
    for (const l of [last, first]) l.setWeights([tf.tensor1d(p.p1), tf.tensor1d(p.p2), tf.tensor1d(p.beta)]);
    const yL = last.apply(tL) as tf.Tensor;
    const yF = first.apply(tF) as tf.Tensor;
    expect(yF.shape).toEqual([N, C, H, W]);
    const shape = [N, C, H, W] as const;
    // each layout against the reference in its own layout, per element (bound derived in tolerance.ts)
    const cL = compare(await read(yL), aconCForwardRef(xL, shape, p, 'NHWC'), forwardBounds(xL, shape, p, 'NHWC'));
    const cF = compare(await read(yF), aconCForwardRef(xF, shape, p, 'NCHW'), forwardBounds(xF, shape, p, 'NCHW'));
    expect(cL.bad).toEqual([]);
    expect(cF.bad).toEqual([]);
    // and the two layouts agree element for element, within the sum of their bounds
    const gotF = toNCHW(await read(yL), [N, H, W, C]);
    const bF = forwardBounds(xF, shape, p, 'NCHW');
    const yFv = await read(yF);
    gotF.forEach((v, i) => expect(Math.abs(v - yFv[i]!), `element ${i}`).toBeLessThanOrEqual(2 * bF[i]!));
    tf.dispose([tL, tF, yL, yF]);
    last.dispose();
    first.dispose();
  });

  test('MetaAconC: channelsFirst equals channelsLast on transposed data (inference and training calls)', async () => {
    // x = k/8 on 4×4 planes: every spatial sum is exact in float32 whatever the summation order,
    // and /16 is exact, so both layouts feed identical means to the layout-independent β generator
    // and get identical β; what is left is ACON-C per element, the same formula in both layouts,
    // each within the forward bound of the exact value for that β, so within twice it of each other.
    const [N, H, W, C] = [4, 4, 4, 24];
    const r = rng(12);
    const xL = eighths(r, N * H * W * C);
    const xF = toNCHW(xL, [N, H, W, C]);
    const last = new MetaAconC({ dataFormat: 'channelsLast', r: 4, seed: 3 });
    const first = new MetaAconC({ dataFormat: 'channelsFirst', r: 4, seed: 99 });
    const tL = tf.tensor4d(xL, [N, H, W, C]);
    const tF = tf.tensor4d(xF, [N, C, H, W]);
    tf.dispose([last.apply(tL) as tf.Tensor, first.apply(tF) as tf.Tensor]);
    // non-trivial running statistics and BN affine parameters, the same in both
    const ws = last.getWeights();
    const rr = rng(13);
    const values = ws.map((w, i) =>
      /running_var|bn.\.weight/.test(last.weights[i]!.originalName)
        ? uniform(rr, w.size, 0.5, 2)
        : normal(rr, w.size, 0.5),
    );
    const fresh = values.map((v, i) => tf.tensor(v, ws[i]!.shape));
    last.setWeights(fresh);
    first.setWeights(fresh);
    tf.dispose(fresh);
    const p1 = values[0]!;
    const p2 = values[1]!;
    // β = σ(·) ∈ (0, 1), so |z| ≤ |p1 − p2|·|x| and |p1·s| + |p2·s̄| ≤ |p1| + |p2|: the forward bound
    // of tolerance.ts, (15 + 7|z|)·u·|x|·(|p1·s| + |p2·s̄|), taken at its largest over β
    const bound = (i: number) => {
      const c = Math.floor(i / (H * W)) % C;
      const xv = Math.abs(xF[i]!);
      return (15 + 7 * Math.abs(p1[c]! - p2[c]!) * xv) * U * xv * (Math.abs(p1[c]!) + Math.abs(p2[c]!)) + FLUSH;
    };
    for (const training of [false, true]) {
      const yL = last.apply(tL, { training }) as tf.Tensor;
      const yF = first.apply(tF, { training }) as tf.Tensor;
      const gotF = toNCHW(await read(yL), [N, H, W, C]);
      const yFv = await read(yF);
      let worst = 0;
      gotF.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - yFv[i]!) / (2 * bound(i)));
        expect(Math.abs(v - yFv[i]!), `training ${training}, element ${i}`).toBeLessThanOrEqual(2 * bound(i));
      });
      console.log(`MetaAconC layouts, training ${training}: largest difference ${worst.toFixed(3)} of its bound`);
      tf.dispose([yL, yF]);
    }
    // the generated β for inspection: [N, C], in (0, 1), the same from both layouts to float32 rounding
    const [bL, bFirst] = [last.computeBeta(tL), first.computeBeta(tF)];
    expect(bL.shape).toEqual([N, C]);
    const [vL, vF] = await readAll([bL, bFirst]);
    vL!.forEach((v, i) => {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(1);
      expect(Math.abs(v - vF![i]!)).toBeLessThan(1e-6);
    });
    tf.dispose([bL, bFirst]);
    // training calls moved both layers' running statistics identically (same exact means)
    const rl = await readAll(last.nonTrainableWeights.map((w) => w.read()));
    const rf = await readAll(first.nonTrainableWeights.map((w) => w.read()));
    expect(rl).toEqual(rf);
    tf.dispose([tL, tF]);
    last.dispose();
    first.dispose();
  });

  for (const dataFormat of ['channelsLast', 'channelsFirst'] as const) {
    test(`save → load round trip (${dataFormat}): config, weights and outputs identical`, async () => {
      const inputShape = dataFormat === 'channelsLast' ? [5, 5, 12] : [12, 5, 5];
      const model = tfl.sequential({
        layers: [
          new AconC({ inputShape, dataFormat, name: 'act_a' }),
          new MetaAconC({ dataFormat, r: 4, impl: 'composed', name: 'act_meta' }),
          new AconC({ dataFormat, impl: 'composed', seed: 4, name: 'act_b' }),
        ],
      });
      const x = tf.tensor4d(normal(rng(21), 4 * 300, 2), [4, ...inputShape] as [number, number, number, number]);
      // move MetaAconC's running statistics away from (0, 1), so the check covers them
      tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
      tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
      const before = tf.memory().numTensors;
      const { loaded, artifacts } = await roundTrip(model);
      const topology = JSON.stringify(artifacts.modelTopology);
      expect(topology).toContain('"class_name":"AconC"');
      expect(topology).toContain('"class_name":"MetaAconC"');
      expect(topology).toContain(
        `"data_format":"${dataFormat === 'channelsLast' ? 'channels_last' : 'channels_first'}"`,
      );
      const [a, meta, b] = loaded.layers as [AconC, MetaAconC, AconC];
      expect(a).toBeInstanceOf(AconC);
      expect(meta).toBeInstanceOf(MetaAconC);
      expect([a.dataFormat, meta.dataFormat, b.dataFormat]).toEqual([dataFormat, dataFormat, dataFormat]);
      expect([a.impl, meta.impl, b.impl, meta.r, b.seed]).toEqual(['auto', 'composed', 'composed', 4, 4]);
      expect(loaded.weights.map((w) => w.originalName)).toEqual(model.weights.map((w) => w.originalName));
      expect(await readAll(loaded.getWeights())).toEqual(await readAll(model.getWeights()));
      const runningMean = await read(meta.nonTrainableWeights[0]!.read());
      expect(Math.max(...runningMean.map(Math.abs))).toBeGreaterThan(1e-3);
      // the same kernels on the same bits: identical outputs
      const y0 = model.predict(x) as tf.Tensor;
      const y1 = loaded.predict(x) as tf.Tensor;
      expect(await read(y1)).toEqual(await read(y0));
      tf.dispose([y0, y1]);
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
      x.dispose();
    });
  }

  test('model.fit trains p1, p2 and β and the loss falls (a task a linear model cannot fit)', async () => {
    // Each sample is s·|g| with a random sign s shared by the whole sample and a scale in [0.5, 2];
    // the target, the mean of |x|, does not depend on s, so the best model linear in x only predicts
    // the target's mean (loss = its variance); ACON-C with p1 ≈ −p2 and β large gives |x|.
    const [N, H, W, C] = [64, 4, 4, 8];
    const r = rng(31);
    const xs = new Float32Array(N * H * W * C);
    const ys = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      const s = (r() < 0.5 ? -1 : 1) * (0.5 + 1.5 * r());
      let sum = 0;
      for (let i = 0; i < H * W * C; i++) {
        const v = s * Math.abs(normal(r, 1)[0]!);
        xs[n * H * W * C + i] = v;
        sum += Math.abs(v);
      }
      ys[n] = sum / (H * W * C);
    }
    const mean = ys.reduce((a, v) => a + v, 0) / N;
    const variance = ys.reduce((a, v) => a + (v - mean) ** 2, 0) / N;
    const act = new AconC({ inputShape: [H, W, C], seed: 8 });
    const model = tfl.sequential({
      layers: [
        act,
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.constant({ value: 1 / C }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const x = tf.tensor4d(xs, [N, H, W, C]);
    const y = tf.tensor2d(ys, [N, 1]);
    const init = await readAll(act.getWeights());
    const hist = await model.fit(x, y, { epochs: 20, batchSize: 16, shuffle: false });
    const loss = hist.history.loss as number[];
    const moved = (await readAll(act.getWeights())).map((w, i) =>
      Math.max(...w.map((v, k) => Math.abs(v - init[i]![k]!))),
    );
    console.log(
      `AconC fit: loss ${loss[0]!.toFixed(4)} → ${loss.at(-1)!.toFixed(4)} (target variance ${variance.toFixed(4)}); max |Δp1|, |Δp2|, |Δβ| ${moved.map((m) => m.toFixed(3)).join(', ')}`,
    );
    // 80 Adam steps of lr 0.05: a parameter with a gradient of steady sign moves by ≈ 0.05 a step;
    // 0.05 in total is a sixteenth of that, and zero is what a parameter left out of training shows
    for (const m of moved) expect(m).toBeGreaterThan(0.05);
    expect(loss.at(-1)!).toBeLessThan(0.5 * loss[0]!);
    // below what any model linear in x can reach: the nonlinearity was learned
    expect(loss.at(-1)!).toBeLessThan(0.5 * variance);
    tf.dispose([x, y]);
    model.optimizer.dispose();
    model.dispose();
  });

  test('MetaAconC in model.fit: p1, p2 and the generator train, the running statistics move; predict moves nothing', async () => {
    const [N, H, W, C] = [32, 4, 4, 8];
    const r = rng(41);
    const x = tf.tensor4d(normal(r, N * H * W * C), [N, H, W, C]);
    const y = tf.tensor2d(uniform(r, N, 0, 1), [N, 1]);
    const act = new MetaAconC({ inputShape: [H, W, C], r: 4, seed: 2 });
    // the dense layer seeded too: the whole run replays
    const dense = tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) });
    const model = tfl.sequential({ layers: [act, tfl.layers.flatten(), dense] });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const init = await readAll(act.getWeights());
    const name = (i: number) => act.weights[i]!.originalName.split('/').at(-1)!;
    const hist = await model.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false });
    const afterFit = await readAll(act.getWeights());
    const moved = afterFit.map((w, i) => Math.max(...w.map((v, k) => Math.abs(v - init[i]![k]!))));
    console.log(
      `MetaAconC fit: loss ${(hist.history.loss as number[]).map((l) => l.toFixed(3)).join(' → ')}; moved ${moved.map((m, i) => `${name(i)} ${m.toExponential(1)}`).join(', ')}`,
    );
    // 12 Adam steps of lr 0.01 move every trained parameter by up to 0.12; the running statistics
    // after 12 updates of momentum 0.1 hold ≈ 72 % of the batch statistics, of order 0.1–1 here.
    // fc1.bias, bn1.bias and fc2.bias are the exception: each adds a shift common to the batch
    // before a batch norm in training mode (bn1 for fc1.bias; bn2 for bn1.bias, through the linear
    // fc2, and for fc2.bias), where it cancels in h − mean: their gradients are exactly zero, and
    // whether they move is rounding noise (which Adam normalises). Every other weight must move.
    const zeroGradient = new Set(['fc1.bias', 'bn1.bias', 'fc2.bias']);
    for (let i = 0; i < moved.length; i++) {
      if (zeroGradient.has(name(i))) continue;
      expect(moved[i], name(i)).toBeGreaterThan(1e-3);
    }
    const running = act.nonTrainableWeights.map((w) => w.read());
    const before = await readAll(running);
    const p = model.predict(x) as tf.Tensor;
    await p.data();
    p.dispose();
    expect(await readAll(running)).toEqual(before);
    expect(await readAll(act.getWeights())).toEqual(afterFit);
    tf.dispose([x, y]);
    model.optimizer.dispose();
    model.dispose();
  });

  test('bad input: typed errors thrown synchronously, nothing built, no tensor leaked', () => {
    const a = new AconC();
    const m = new MetaAconC();
    const built = [tf.zeros([2, 7, 7, 64])];
    tf.dispose([a.apply(built[0]!) as tf.Tensor, m.apply(built[0]!, { training: true }) as tf.Tensor]);
    const inputs = {
      rank3: tf.zeros([2, 7, 64]),
      nchw: tf.zeros([2, 64, 7, 7]),
      fewer: tf.zeros([2, 7, 7, 32]),
      int: tf.zeros([2, 7, 7, 64], 'int32'),
      one: tf.zeros([1, 7, 7, 64]),
    };
    const count = tf.memory().numTensors;
    const throws = (fn: () => unknown, cls: new (...a: never[]) => Error, message?: RegExp) => {
      expect(fn).toThrow(cls);
      if (message) expect(fn).toThrow(message);
      expect(tf.memory().numTensors).toBe(count);
    };
    for (const layer of [a, m]) {
      throws(() => layer.apply(inputs.rank3), ShapeError, /rank 4/);
      throws(() => layer.apply(inputs.nchw), ShapeError, /looks channels-first/);
      throws(() => layer.apply(inputs.fewer), ShapeError, /built for 64 channels/);
      throws(() => layer.apply(inputs.int), DTypeError, /float32/);
      throws(() => layer.call(inputs.int, {}), DTypeError);
    }
    throws(() => m.apply(inputs.one, { training: true }), BatchSizeError, /at least 2 samples/);
    throws(() => m.call(inputs.one, { training: true }), BatchSizeError);
    // a channelsFirst layer fed channels-last data says so too
    const f = new AconC({ dataFormat: 'channelsFirst' });
    tf.dispose(f.apply(inputs.nchw) as tf.Tensor);
    const count2 = tf.memory().numTensors;
    expect(() => f.apply(built[0]!)).toThrow(/looks channels-last/);
    expect(tf.memory().numTensors).toBe(count2);
    // an unbuilt layer refuses before creating its weights
    const fresh = new MetaAconC();
    const count3 = tf.memory().numTensors;
    expect(() => fresh.apply(inputs.int)).toThrow(DTypeError);
    expect(() => fresh.apply(inputs.rank3)).toThrow(ShapeError);
    expect(() => fresh.apply(inputs.one, { training: true })).toThrow(BatchSizeError);
    expect(fresh.built).toBe(false);
    expect(tf.memory().numTensors).toBe(count3);
    // inference takes a single sample
    const y = m.apply(inputs.one) as tf.Tensor;
    expect(y.shape).toEqual([1, 7, 7, 64]);
    // symbolic: a model with a wrong-rank input fails when it is put together
    expect(() => new AconC().apply(tfl.input({ shape: [10] }))).toThrow(ShapeError);
    expect(() =>
      new AconC({ dataFormat: 'channelsFirst' }).apply(tfl.input({ shape: [null, 4, 4] as unknown as number[] })),
    ).toThrow(/channel dimension/);
    // a config typo does not fall back silently
    expect(() => new AconC({ dataFormat: 'NHWC' as never })).toThrow(OptionError);
    expect(() => new AconC({ dataFormat: 'NHWC' as never })).toThrow(/channelsLast/);
    expect(() => new MetaAconC({ impl: 'fused' as never })).toThrow(/impl/);
    expect(() => new MetaAconC({ r: 0 })).toThrow(OptionError);
    expect(() => new MetaAconC({ r: 2.5 })).toThrow(/positive integer/);
    expect(() => new AconC({ seed: 1.5 })).toThrow(
      /AconC: seed is not an integer \(expected an integer or null, got 1.5\)/,
    );
    expect(() => new MetaAconC({ seed: 'x' as never })).toThrow(OptionError);
    tf.dispose([y, ...built, ...Object.values(inputs)]);
    for (const l of [a, m, f]) l.dispose();
  });
});
