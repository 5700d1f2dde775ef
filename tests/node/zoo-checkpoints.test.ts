// The paper's ResNet-50 with Meta-ACON-C and with ACON-C, and its TFNet 0.5 (ACON-FReLU), end to end:
// checkpoints saved as the official train.py saves them, converted by scripts/convert_checkpoint.py,
// loaded by loadCheckpoint, give PyTorch's logits. The ResNet files are 95 MB each, so
// scripts/make_model_fixtures.py --zoo writes them to a temporary folder here (seeded: the same bytes
// every run) instead of committing them. Needs Debian's
// PyTorch (python3-torch), which setup installs as root; skipped loudly without it. On tfjs's cpu
// backend (the composed ACON); the fused kernels' tfjs ops are checked bitwise against the host op
// elsewhere (tests/browser/tfjsActivations.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { CheckpointError, StateDictError } from '../../src/gpu/errors';
import { loadCheckpoint } from '../../src/models/checkpoint';
import { readSafetensors } from '../../src/models/safetensors';
import { paramCounts } from '../../src/layers/networks';
import { rawSafetensors, splitSafetensors } from '../helpers/safetensors';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch)
  console.warn(
    `*** tests/node/zoo-checkpoints.test.ts skipped: ${PYTHON} cannot import torch (apt-get install python3-torch as root; scripts/ensure-setup.mjs does it) ***`,
  );

let dir = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  if (!hasTorch) return;
  dir = mkdtempSync(join(tmpdir(), 'acon-zoo-'));
  const p = spawnSync(PYTHON, ['scripts/make_model_fixtures.py', '--zoo', dir], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`make_model_fixtures.py --zoo failed:\n${p.stderr}`);
  console.log(p.stdout.trim());
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Tolerance, as tests/browser/models.test.ts derives it: e = max |logits32 − logits64| of PyTorch on
 * these inputs is the scale of float32 rounding through the network; tfjs sums each output
 * sequentially, PyTorch in blocks, and their typical errors differ by √(K / log₂K) for K-term sums:
 * the longest here is layer4's 3×3 conv, K = 3·3·512 = 4608, so √(4608 / 12.2) = 19.4. We allow
 * 20·e + 16·u·max |logits64| against the float64 logits; a wrong weight layout is off by O(1).
 */
const U = 2 ** -24;
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test.skipIf(!hasTorch).each([
  ['resnet50-meta', 'resnet-meta', { trainable: 23_744_858, nonTrainable: 61_280 }],
  ['resnet50-acon', 'resnet-acon', { trainable: 23_566_410, nonTrainable: 53_120 }],
  ['tfnet-0.5', 'tfnet', { trainable: 329_754, nonTrainable: 17_488 }],
] as const)("%s: converted, loaded, PyTorch's logits (batch 2 and 1)", (name, architecture, counts) => {
  const io = readSafetensors(readFileSync(join(dir, `${name}.io.safetensors`)));
  const u8 = io.tensors.get('input_u8')!;
  const logits32 = io.tensors.get('logits32')!.data as Float32Array;
  const logits64 = io.tensors.get('logits64')!.data as Float32Array;
  const e = logits32.reduce((m, v, i) => Math.max(m, Math.abs(v - logits64[i]!)), 0);
  const tol = 20 * e + 16 * U * maxAbs(logits64);
  const [n, c, h, w] = u8.shape as [number, number, number, number];
  const before = tf.memory().numTensors;
  const { model, architecture: arch, metadata } = loadCheckpoint(readFileSync(join(dir, `${name}.safetensors`)));
  expect(arch).toBe(architecture);
  if (architecture === 'tfnet') expect([metadata.model_size, metadata.n_class]).toEqual(['0.5', '10']);
  else expect([metadata.depth, metadata.num_classes]).toEqual(['50', '10']);
  // the converter's counts (10 classes)
  expect(paramCounts(model)).toEqual(counts);
  const x = tf.tidy(() =>
    tf.transpose(tf.sub(tf.div(tf.tensor4d(Float32Array.from(u8.data), [n, c, h, w]), 64), 2), [0, 2, 3, 1]),
  );
  const run = (input: tf.Tensor) => tf.tidy(() => Array.from((model.predict(input) as tf.Tensor).dataSync()));
  const ours = run(x);
  const ours1 = tf.tidy(() => run(tf.slice(x, [0, 0, 0, 0], [1, h, w, c])));
  const err = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - logits64[i]!)), 0);
  const err1 = ours1.reduce((m, v, i) => Math.max(m, Math.abs(v - logits64[i]!)), 0);
  console.log(
    `${name}: max |ours − torch64| ${err.toExponential(2)} (batch 1: ${err1.toExponential(2)}); torch32 − torch64 ${e.toExponential(2)}; tolerance ${tol.toExponential(2)}`,
  );
  expect(ours.length).toBe(logits64.length);
  expect(err).toBeLessThanOrEqual(tol);
  expect(err1).toBeLessThanOrEqual(tol);
  x.dispose();
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

/** The converted file `name` with its metadata changed by `change`, its tensors as they are. */
function withMetadata(name: string, change: Record<string, string>): Uint8Array {
  const { header, data } = splitSafetensors(readFileSync(join(dir, `${name}.safetensors`)));
  const metadata = { ...(header.__metadata__ as Record<string, string>), ...change };
  return rawSafetensors(JSON.stringify({ ...header, __metadata__: metadata }), data);
}

test.skipIf(!hasTorch).each([
  ['resnet50-meta', { depth: '77' }, /"depth" is no ResNet depth/],
  ['resnet50-meta', { depth: '152' }, StateDictError],
  ['resnet50-meta', { num_classes: '1048576' }, StateDictError],
  ['resnet50-meta', { r: '8' }, StateDictError],
  ['resnet50-meta', { r: '1e9' }, CheckpointError],
  ['resnet50-acon', { architecture: 'resnet-meta', r: '16' }, StateDictError],
  ['tfnet-0.5', { model_size: '0.75' }, /"model_size" is no TFNet width/],
  ['tfnet-0.5', { model_size: '2.0' }, StateDictError],
  ['tfnet-0.5', { n_class: '0' }, CheckpointError],
] as const)(
  '%s with metadata %j that does not fit its tensors: a typed error, nothing allocated',
  (name, change, error) => {
    const file = withMetadata(name, change);
    const variables = () => Object.keys(tf.engine().registeredVariables).length;
    const before = [tf.memory().numTensors, variables()];
    expect(() => loadCheckpoint(file)).toThrow(error);
    expect([tf.memory().numTensors, variables()]).toEqual(before);
  },
);
