// The seed's networks and their training on the tfjs webgpu backend.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-cpu';
import { AconCLayer, Network, formatSummary, trainNetwork, bceLoss, makeDataset } from '../../src/tfjs/index';

// The tfjs API is synchronous, so the ops report WebGPU validation errors of their queued work
// through console.error (typed AconErrors); every test fails on any of them.
const gpuErrors: unknown[] = [];
const consoleError = console.error;
beforeAll(async () => {
  console.error = (...a: unknown[]) => {
    if (a.some((x) => x instanceof Error)) gpuErrors.push(a);
    consoleError(...a);
  };
  await tf.setBackend('webgpu');
  await tf.ready();
});
afterEach(async () => {
  await (tf.backend() as unknown as { device?: GPUDevice }).device?.queue.onSubmittedWorkDone();
  await new Promise((r) => setTimeout(r, 0));
  expect(gpuErrors, 'WebGPU errors reported by the tfjs ops').toEqual([]);
});
afterAll(async () => {
  console.error = consoleError;
  await tf.setBackend('webgpu');
});

describe('networks', () => {
  test('parameter counts as in the seed: dcn3 158,913; dcn2+AconC 159,105; dcn2+MetaAconC reported', () => {
    const counts = (['dcn3', 'dcn2-acon', 'dcn2-meta'] as const).map((k) => {
      const net = new Network(k);
      const rows = net.summary();
      const total = rows.reduce((a, r) => a + r.params, 0);
      expect(total).toBe(net.paramCount);
      if (k === 'dcn2-meta') console.log(formatSummary(rows));
      net.dispose();
      return total;
    });
    expect(counts[0]).toBe(158_913);
    expect(counts[1]).toBe(159_105);
    // MetaAconC(64): fc1 64·16 + 16, bn1 2·16, fc2 16·64 + 64, bn2 2·64, p1 + p2 2·64
    expect(counts[2]).toBe(158_913 + 1_040 + 32 + 1_088 + 128 + 128);
  });

  for (const kind of ['dcn2-acon', 'dcn2-meta'] as const) {
    test(`${kind}: one training step's gradients of every variable equal the composed network's`, async () => {
      const data = makeDataset(8, 5);
      const x = tf.tensor4d(data.images, [8, 32, 32, 3]);
      const y = tf.tensor1d(data.labels);
      const fused = new Network(kind, 1, 9, 'auto');
      const composed = new Network(kind, 1, 9, 'composed');
      const gf = tf.variableGrads(() => bceLoss(fused.forward(x, true), y), fused.trainableWeights);
      const gc = tf.variableGrads(() => bceLoss(composed.forward(x, true), y), composed.trainableWeights);
      // Both are float32 evaluations of the same function that differ only in the ACON layer
      // (ours: ≤ (35 + 14|z|)u per element; tfjs's: a dozen roundings plus its σ'(z) cancellation),
      // propagated through ≤ 4 layers of 3×3 convolutions and two linear layers. With the ACON
      // inputs' |z| ≲ 10 here the ACON-level differences stay below 1e-5 relative; the layers
      // around it amplify a normwise relative error by their condition, which stays below ~50 for
      // these small random networks, so 1e-3 of each variable's largest gradient is the bound.
      // The scale is per layer (weight and bias together): in training mode batch norm makes
      // the gradient of the bias before it exactly zero, which float32 returns as rounding noise
      // of the weight gradient's scale.
      const names = fused.trainableWeights.map((v) => v.name);
      expect(names.length).toBe(composed.trainableWeights.length);
      const layer = (name: string) => name.replace(/\.(weight|bias)$/, '');
      const got: Record<string, Float32Array> = {};
      const want: Record<string, Float32Array> = {};
      const scale: Record<string, number> = {};
      for (let i = 0; i < names.length; i++) {
        got[names[i]!] = (await gf.grads[names[i]!]!.data()) as Float32Array;
        want[names[i]!] = (await gc.grads[composed.trainableWeights[i]!.name]!.data()) as Float32Array;
        const l = layer(names[i]!);
        scale[l] = Math.max(scale[l] ?? 0, ...Array.from(want[names[i]!]!, Math.abs));
      }
      for (const name of names) {
        let e = 0;
        want[name]!.forEach((w, k) => (e = Math.max(e, Math.abs(got[name]![k]! - w))));
        const m = scale[layer(name)]!;
        expect(e, `${name}: max diff ${e} vs layer scale ${m}`).toBeLessThanOrEqual(1e-3 * m);
      }
      expect(Math.abs((await gf.value.data())[0]! - (await gc.value.data())[0]!)).toBeLessThan(1e-5);
      tf.dispose([x, y, gf.value, gc.value, ...Object.values(gf.grads), ...Object.values(gc.grads)]);
      fused.dispose();
      composed.dispose();
    });
  }

  // On SwiftShader tfjs's own convolutions cost about 0.5 s per batch of 8 images per step, so CI
  // trains 60 steps of 8 (a real GPU runs hundreds in seconds; the demo trains longer).
  test('training dcn2+AconC lowers held-out loss clearly below chance; ACON parameters move; no tensor leaks', async () => {
    const before = tf.memory().numTensors;
    let tensorsAtStep: number[] = [];
    const res = await trainNetwork('dcn2-acon', {
      steps: 60,
      batchSize: 8,
      learningRate: 3e-3,
      seed: 3,
      trainSize: 480,
      testSize: 128,
      evalEvery: 30,
      onProgress: ({ step }) => {
        if (step > 5) tensorsAtStep.push(tf.memory().numTensors);
      },
    });
    const act = res.network.act as AconCLayer;
    const init = new AconCLayer(64, 3 + 1);
    const moved = await Promise.all([act.p1, act.p2, act.beta].map(async (v, i) => {
      const a = await v.data();
      const b = await [init.p1, init.p2, init.beta][i]!.data();
      return Math.max(...a.map((q, k) => Math.abs(q - b[k]!)));
    }));
    init.dispose();
    const last = res.heldOut.at(-1)!;
    console.log(`dcn2-acon: held-out loss ${res.heldOut.map((h) => h.loss.toFixed(3)).join(' → ')}, accuracy ${last.accuracy.toFixed(3)}, ${res.msPerStep.toFixed(0)} ms/step; |Δp1|, |Δp2|, |Δβ| max ${moved.map((m) => m.toExponential(2)).join(', ')}`);
    // chance for balanced binary labels: ln 2 = 0.693
    expect(last.loss).toBeLessThan(0.5);
    expect(last.accuracy).toBeGreaterThan(0.75);
    for (const m of moved) expect(m).toBeGreaterThan(1e-3);
    expect(new Set(tensorsAtStep).size).toBe(1);
    res.network.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tensorsAtStep = [];
  }, 900_000);
});
