// The zoo's large networks (ResNet-50 with Meta-ACON-C and ACON-C, TFNet 0.5), written by
// scripts/make_model_fixtures.py --zoo to a temporary folder (95 MB each: not committed), and the
// check of our logits against PyTorch's that tests/node/zoo-checkpoints.test.ts (tfjs's cpu backend)
// and tests/dawn/zoo-webgpu.test.ts (the webgpu backend, fused and composed) share.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readSafetensors } from '../../src/models/safetensors';

export const PYTHON = '/usr/bin/python3';
export const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** Writes the zoo's fixtures to a fresh temporary folder; returns it and its removal. */
export function makeZoo(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'acon-zoo-'));
  const p = spawnSync(PYTHON, ['scripts/make_model_fixtures.py', '--zoo', dir], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`make_model_fixtures.py --zoo failed:\n${p.stderr}`);
  console.log(p.stdout.trim());
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Tolerance, as tests/browser/models.test.ts derives it: e = max |logits32 − logits64| of PyTorch on
 * these inputs is the scale of float32 rounding through the network; tfjs sums each output
 * sequentially, PyTorch in blocks, and their typical errors differ by √(K / log₂K) for K-term sums:
 * the longest here is layer4's 3×3 conv, K = 3·3·512 = 4608, so √(4608 / 12.2) = 19.4. We allow
 * 20·e + 16·u·max |logits64| against the float64 logits; a wrong weight layout is off by O(1).
 */
const U = 2 ** -24;
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** A zoo fixture's input (NHWC, x = u8/64 − 2) and PyTorch's logits. */
export function zooInput(dir: string, name: string) {
  const io = readSafetensors(readFileSync(join(dir, `${name}.io.safetensors`)));
  const u8 = io.tensors.get('input_u8')!;
  const logits32 = io.tensors.get('logits32')!.data as Float32Array;
  const logits64 = io.tensors.get('logits64')!.data as Float32Array;
  const e = maxDiff(logits32, logits64);
  const [n, c, h, w] = u8.shape as [number, number, number, number];
  const x = tf.tidy(() =>
    tf.transpose(tf.sub(tf.div(tf.tensor4d(Float32Array.from(u8.data), [n, c, h, w]), 64), 2), [0, 2, 3, 1]),
  );
  return { x, logits64, e, tol: 20 * e + 16 * U * maxAbs(logits64), shape: [n, h, w, c] as const };
}

/** Our logits for batch 2 and for its first sample alone, and their largest errors against PyTorch's float64. */
export async function zooLogits(model: tfl.LayersModel, input: ReturnType<typeof zooInput>) {
  const [, h, w, c] = input.shape;
  const both = model.predict(input.x) as tf.Tensor;
  const first = tf.tidy(() => model.predict(tf.slice(input.x, [0, 0, 0, 0], [1, h, w, c])) as tf.Tensor);
  const [ours, ours1] = [Array.from(await both.data()), Array.from(await first.data())];
  tf.dispose([both, first]);
  return { ours, length: ours.length, err: maxDiff(ours, input.logits64), err1: maxDiff(ours1, input.logits64) };
}
