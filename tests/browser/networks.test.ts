// The seed's networks as tf.layers models, and their training, on the tfjs webgpu backend.
import { describe, expect, test } from 'vitest';
import { tfjsWebGPUErrorScopes } from './tfjsScopes';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { AconC, MetaAconC, paramCounts, seedModel, summaryText, type NetKind } from '../../src/layers/index';
import { makeDataset } from '../../tools/data';
import { bceWithLogits, trainNetwork } from '../../tools/train';
import { FLUSH, gamma } from '../../src/reference/tolerance';
import { normal, rng } from '../../src/ops/random';

// Every test runs inside WebGPU error scopes on the tfjs device (see tfjsWebGPUErrorScopes).
tfjsWebGPUErrorScopes();

const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
const readAll = (ts: tf.Tensor[]) => Promise.all(ts.map(read));
const variables = (m: tfl.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
const aconWeights = (m: tfl.LayersModel) => (m.layers.find((l) => l instanceof AconC) as AconC).getWeights();

describe('seed networks as tf.layers models', () => {
  test("parameter counts (dcn3 158,913; dcn2+AconC 159,105; dcn2+MetaAconC 161,329 + 160 running statistics), as model.summary() prints them; the seed's shapes", () => {
    const before = tf.memory().numTensors;
    const want: Record<NetKind, [number, number]> = {
      dcn3: [158_913, 0],
      'dcn2-acon': [159_105, 0],
      'dcn2-meta': [161_329, 160],
    };
    for (const kind of ['dcn3', 'dcn2-acon', 'dcn2-meta'] as const) {
      const model = seedModel(kind);
      const { trainable, nonTrainable } = paramCounts(model);
      expect([trainable, nonTrainable], kind).toEqual(want[kind]);
      const text = summaryText(model);
      expect(text).toContain(`Trainable params: ${want[kind][0]}`);
      expect(text).toContain(`Non-trainable params: ${want[kind][1]}`);
      expect(text).toContain(`Total params: ${want[kind][0] + want[kind][1]}`);
      if (kind === 'dcn2-meta') console.log(text);
      // 32 → 32 ('same') → 15 → 7 → 4: PyTorch's p = 1, 0, 0, 1
      const shapes = model.layers.map((l) => [l.name, l.outputShape]);
      const act = kind === 'dcn3' ? [] : [[kind === 'dcn2-acon' ? 'acon_c' : 'meta_acon_c', [null, 7, 7, 64]]];
      expect(shapes).toEqual([
        ['conv1', [null, 32, 32, 32]],
        ['conv2', [null, 15, 15, 64]],
        ['conv3', [null, 7, 7, 64]],
        ...act,
        ['conv4', [null, 4, 4, 64]],
        ['flatten', [null, 1024]],
        ['fc1', [null, 64]],
        ['fc2', [null, 1]],
      ]);
      // MetaAconC(64): p1, p2 2·64; fc1 64·16 + 16; bn1 2·16 (+ 2·16 running); fc2 16·64 + 64; bn2 2·64 (+ 2·64 running)
      if (kind === 'dcn2-meta') expect(trainable - want.dcn3[0]).toBe(128 + 1_040 + 32 + 1_088 + 128);
      model.dispose();
    }
    const ten = seedModel('dcn3', { numClasses: 10 });
    expect(ten.outputShape).toEqual([null, 10]);
    ten.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test("conv4's 'same' padding on 7×7 (k3, s2) is PyTorch's padding = 1: equal to a valid convolution of the input padded by one on every side", async () => {
    const model = seedModel('dcn3', { seed: 2 });
    const conv4 = model.getLayer('conv4');
    const [kernel, bias] = conv4.getWeights() as [tf.Tensor4D, tf.Tensor1D];
    const x = tf.tensor4d(normal(rng(6), 2 * 7 * 7 * 64), [2, 7, 7, 64]);
    const got = conv4.apply(x) as tf.Tensor;
    const want = tf.tidy(() =>
      tf.relu(
        tf.add(
          tf.conv2d(
            tf.pad(x, [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ]),
            kernel,
            2,
            'valid',
          ),
          bias,
        ),
      ),
    );
    const mags = tf.tidy(() =>
      tf.add(
        tf.conv2d(
          tf.pad(tf.abs(x), [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ]),
          tf.abs(kernel),
          2,
          'valid',
        ),
        tf.abs(bias),
      ),
    );
    expect(got.shape).toEqual([2, 4, 4, 64]);
    // two float32 sums of the same 9·64 products and the bias, in whatever order each kernel
    // takes: each within γ₅₇₇·Σ|terms| of the exact sum, so within twice that of each other
    // (ReLU after both only shrinks differences; FLUSH allows for subnormals flushed to zero)
    const [g, w, m] = await readAll([got, want, mags]);
    g!.forEach((v, i) => expect(Math.abs(v - w![i]!)).toBeLessThanOrEqual(2 * gamma(577) * m![i]! + FLUSH));
    tf.dispose([x, got, want, mags]);
    model.dispose();
  });

  for (const kind of ['dcn2-acon', 'dcn2-meta'] as const) {
    test(`${kind}: one training step's gradients of every weight equal the composed model's`, async () => {
      const data = makeDataset(8, 5);
      const x = tf.tensor4d(data.images, [8, 32, 32, 3]);
      const y = tf.tensor2d(data.labels, [8, 1]);
      const fused = seedModel(kind, { seed: 9, impl: 'auto' });
      const composed = seedModel(kind, { seed: 9, impl: 'composed' });
      // one seed, one init: the comparison starts from the same weights
      expect(await readAll(composed.getWeights())).toEqual(await readAll(fused.getWeights()));
      const gf = tf.variableGrads(
        () => bceWithLogits(y, fused.apply(x, { training: true }) as tf.Tensor),
        variables(fused),
      );
      const gc = tf.variableGrads(
        () => bceWithLogits(y, composed.apply(x, { training: true }) as tf.Tensor),
        variables(composed),
      );
      // Both are float32 evaluations of the same function that differ only in the ACON layer
      // (ours: ≤ (35 + 14|z|)u per element; tfjs's: a dozen roundings plus its σ'(z) cancellation),
      // propagated through ≤ 4 layers of 3×3 convolutions and two dense layers. With the ACON
      // inputs' |z| ≲ 10 here the ACON-level differences stay below 1e-5 relative; the layers
      // around it amplify a normwise relative error by their condition, which stays below ~50 for
      // these small random networks, so 1e-3 of each layer's largest gradient is the bound.
      // The scale is per layer (weight and bias together): in training mode batch norm makes
      // the gradient of the bias before it exactly zero, which float32 returns as rounding noise
      // of the weight gradient's scale.
      const names = fused.trainableWeights.map((w) => w.originalName);
      expect(composed.trainableWeights.map((w) => w.originalName)).toEqual(names);
      const layer = (name: string) => name.replace(/(\/(kernel|bias)|\.(weight|bias))$/, '');
      const vf = variables(fused);
      const vc = variables(composed);
      const got = await readAll(vf.map((v) => gf.grads[v.name]!));
      const want = await readAll(vc.map((v) => gc.grads[v.name]!));
      const scale: Record<string, number> = {};
      names.forEach((n, i) => (scale[layer(n)] = Math.max(scale[layer(n)] ?? 0, ...Array.from(want[i]!, Math.abs))));
      names.forEach((n, i) => {
        let e = 0;
        want[i]!.forEach((w, k) => (e = Math.max(e, Math.abs(got[i]![k]! - w))));
        const m = scale[layer(n)]!;
        expect(m, `${n}: a gradient that is zero everywhere tests nothing`).toBeGreaterThan(0);
        expect(e, `${n}: max diff ${e} vs layer scale ${m}`).toBeLessThanOrEqual(1e-3 * m);
      });
      // the loss: a mean of 8 terms of size ≲ 1 from logits that agree to ~1e-6: 1e-5 leaves room
      expect(Math.abs((await read(gf.value))[0]! - (await read(gc.value))[0]!)).toBeLessThan(1e-5);
      tf.dispose([x, y, gf.value, gc.value, ...Object.values(gf.grads), ...Object.values(gc.grads)]);
      fused.dispose();
      composed.dispose();
    });
  }

  test('trainNetwork evaluates the held-out split on schedule with no onProgress callback', async () => {
    const before = tf.memory().numTensors;
    const res = await trainNetwork('dcn2-meta', {
      steps: 2,
      evalEvery: 1,
      batchSize: 4,
      trainSize: 8,
      testSize: 8,
      seed: 4,
    });
    expect(res.loss.length).toBe(2);
    expect(res.heldOut.map((h) => h.step)).toEqual([1, 2]);
    for (const h of res.heldOut) {
      expect(h.loss).toBeGreaterThan(0);
      expect(h.accuracy).toBeGreaterThanOrEqual(0);
      expect(h.accuracy).toBeLessThanOrEqual(1);
    }
    expect(res.network.layers.some((l) => l instanceof MetaAconC)).toBe(true);
    res.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  // On SwiftShader tfjs's own convolutions cost about 0.5 s per batch of 8 images per step (several
  // seconds on a busy 2-core machine), so CI trains 60 steps of 8 (a real GPU runs hundreds in
  // seconds; the demo trains longer).
  test('training dcn2+AconC lowers held-out loss clearly below chance; ACON parameters move; no tensor leaks', async () => {
    const before = tf.memory().numTensors;
    const tensorsAtStep: number[] = [];
    const res = await trainNetwork('dcn2-acon', {
      steps: 60,
      batchSize: 8,
      learningRate: 2e-3,
      seed: 3,
      trainSize: 480,
      testSize: 128,
      evalEvery: 10,
      onProgress: ({ step }) => {
        if (step > 5) tensorsAtStep.push(tf.memory().numTensors);
      },
    });
    // the same seed gives the same init: the trained p1, p2, β against their start
    const init = seedModel('dcn2-acon', { seed: 3 });
    const start = await readAll(aconWeights(init));
    const moved = (await readAll(aconWeights(res.network))).map((w, i) =>
      Math.max(...w.map((q, k) => Math.abs(q - start[i]![k]!))),
    );
    init.dispose();
    const lastThree = res.heldOut.slice(-3);
    const mean = (f: (h: (typeof lastThree)[number]) => number) =>
      lastThree.reduce((a, h) => a + f(h), 0) / lastThree.length;
    console.log(
      `dcn2-acon: held-out loss ${res.heldOut.map((h) => h.loss.toFixed(3)).join(' → ')}, accuracy ${res.heldOut.map((h) => h.accuracy.toFixed(2)).join(' → ')}, ${res.msPerStep.toFixed(0)} ms/step; |Δp1|, |Δp2|, |Δβ| max ${moved.map((m) => m.toExponential(2)).join(', ')}`,
    );
    expect(res.heldOut.map((h) => h.step)).toEqual([10, 20, 30, 40, 50, 60]);
    // Chance for balanced binary labels: loss ln 2 = 0.693, accuracy 0.5. Batch-8 Adam moves the
    // held-out loss by ±0.05 from one evaluation to the next, so the criterion is the mean of the
    // evaluations at steps 40, 50 and 60 (this seed's run plateaus near 0.43 and 0.8 from step 20).
    expect(mean((h) => h.loss)).toBeLessThan(0.5);
    expect(mean((h) => h.accuracy)).toBeGreaterThan(0.75);
    // 60 Adam steps of 2e-3 move a parameter with a steady gradient by up to 0.12; 1e-3 is far
    // below that and far above zero, what a parameter left out of the optimizer shows
    for (const m of moved) expect(m).toBeGreaterThan(1e-3);
    expect(tensorsAtStep.length).toBe(55);
    expect(new Set(tensorsAtStep).size).toBe(1);
    res.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 900_000);
});
