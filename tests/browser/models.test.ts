// PyTorch checkpoints in the browser: fixtures written by scripts/make_model_fixtures.py (the
// official modules in PyTorch with random non-default weights and BN statistics, saved as the
// official train.py saves them and converted by scripts/convert_checkpoint.py) loaded into our
// tf.layers networks on the webgpu backend, logits compared with PyTorch's, fused and composed ACON.
import { describe, expect, test } from 'vitest';
import { tfjsWebGPUErrorScopes } from './tfjsScopes';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { loadCheckpoint, readSafetensors } from '../../src/models/index';
import { paramCounts } from '../../src/layers/index';

tfjsWebGPUErrorScopes();

const fixtures = import.meta.glob('../fixtures/models/*.safetensors', {
  query: '?url',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const bytes = async (name: string) => {
  const url = fixtures[`../fixtures/models/${name}`];
  if (!url) throw new Error(`fixture ${name} is missing (run /usr/bin/python3 scripts/make_model_fixtures.py)`);
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
};

/**
 * The tolerance. Both our network and PyTorch's float32 run differ from exact arithmetic by the
 * float32 rounding of the same operations (dot products of K ≤ 1024 terms in every conv and linear
 * layer, one exp per σ), propagated through the same network; only the order of the additions and
 * the exp's last bits differ. The fixture measures PyTorch's float32 deviation from its float64 run
 * on these very inputs, e = max |logits32 − logits64|: that is the scale of float32 rounding through
 * this network. tfjs sums each output sequentially (error bound growing as K·u) where PyTorch's CPU
 * kernels sum in blocks (≈ log K·u); for K ≤ 1024 the worst case of sequential over blocked is
 * below the ratio of their bounds, but the typical errors (random-walk, √K·u vs ≈ √(log K)·u) differ
 * by √(K / log K) ≤ 8.6 at K = 1024. So we allow 8·e + 16·u·max|logits64| (the second term covers
 * the last rounding of logits where e happens to be tiny) against the float64 logits.
 */
const U = 2 ** -24;
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

const CASES = [
  ['shufflenetv2-tiny-acon', 'shufflenetv2-acon'],
  ['shufflenetv2-tiny-meta', 'shufflenetv2-meta'],
  ['dcn3', 'dcn3'],
  ['dcn2-acon', 'dcn2-acon'],
  ['dcn2-meta', 'dcn2-meta'],
  // the zoo at reduced widths: ResNet-50 (every bottleneck, planes 4) with ACON-C and Meta-ACON-C on
  // 64×64, TFNet 0.25 (ACON-FReLU at strides 1 and 2) on 224×224
  ['resnet50-tiny-acon', 'resnet-acon'],
  ['resnet50-tiny-meta', 'resnet-meta'],
  ['tfnet-tiny', 'tfnet'],
] as const;

describe("converted PyTorch checkpoints: logits equal PyTorch's", () => {
  test.each(CASES)('%s (batch 2 and batch 1; fused and composed ACON)', async (name, architecture) => {
    const io = readSafetensors(await bytes(`${name}.io.safetensors`));
    const u8 = io.tensors.get('input_u8')!;
    const logits32 = io.tensors.get('logits32')!.data as Float32Array;
    const logits64 = io.tensors.get('logits64')!.data as Float32Array;
    const [n, c, h, w] = u8.shape as [number, number, number, number];
    const classes = logits64.length / n;
    const e = maxAbsDiff(logits32, logits64);
    const tol = 8 * e + 16 * U * maxAbs(logits64);
    const file = await bytes(`${name}.safetensors`);
    const before = tf.memory().numTensors;
    // x = u8 / 64 − 2 (exact in float32), NCHW → NHWC
    const x = tf.tidy(() =>
      tf.transpose(tf.sub(tf.div(tf.tensor4d(Float32Array.from(u8.data), [n, c, h, w]), 64), 2), [0, 2, 3, 1]),
    );
    for (const impl of ['auto', 'composed'] as const) {
      const { model, architecture: arch } = loadCheckpoint(file, { impl });
      expect(arch).toBe(architecture);
      const both = model.predict(x) as tf.Tensor;
      const first = tf.tidy(() => model.predict(tf.slice(x, [0, 0, 0, 0], [1, h, w, c])) as tf.Tensor);
      const [ours, ours1] = [(await both.data()) as Float32Array, (await first.data()) as Float32Array];
      tf.dispose([both, first]);
      model.dispose();
      const err = maxAbsDiff(ours, logits64);
      const err1 = maxAbsDiff(ours1, logits64.subarray(0, classes));
      console.log(
        `${name} ${impl}: max |ours − torch64| = ${err.toExponential(2)} (batch 1: ${err1.toExponential(2)}); torch32 − torch64: ${e.toExponential(2)}; tolerance ${tol.toExponential(2)}; max |logit| ${maxAbs(logits64).toFixed(3)}`,
      );
      expect(ours.length).toBe(logits64.length);
      expect(err).toBeLessThanOrEqual(tol);
      expect(err1).toBeLessThanOrEqual(tol);
    }
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('parameter counts of the converted networks', () => {
  test("equal PyTorch's (param-counts.json: trainable parameters; running means and variances as non-trainable weights)", async () => {
    const counts = (await (
      await fetch(new URL('../fixtures/models/param-counts.json', import.meta.url))
    ).json()) as Record<string, { trainable: number; buffers: number }>;
    for (const [name] of CASES) {
      const { model } = loadCheckpoint(await bytes(`${name}.safetensors`));
      expect(paramCounts(model), name).toEqual({
        trainable: counts[name]!.trainable,
        nonTrainable: counts[name]!.buffers,
      });
      model.dispose();
    }
  });
});
