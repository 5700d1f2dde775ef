// The zoo's networks on tfjs's webgpu backend (Dawn): ResNet-50 with Meta-ACON-C and with ACON-C, and
// TFNet 0.5 (ACON-FReLU at strides 1 and 2), converted from PyTorch checkpoints (written by
// scripts/make_model_fixtures.py --zoo to a temporary folder: 95 MB each, full width, ResNet on
// 64×64 inputs, TFNet on 224×224), give PyTorch's logits with our fused kernels and with the
// composed forms, at batch 2 and batch 1. Needs Debian's PyTorch; skipped loudly without it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { loadCheckpoint } from '../../src/models/checkpoint';
import { hasTorch, makeZoo, PYTHON, zooInput, zooLogits } from '../helpers/zoo';

if (!hasTorch)
  console.warn(
    `*** tests/dawn/zoo-webgpu.test.ts skipped: ${PYTHON} cannot import torch (setup installs python3-torch) ***`,
  );

let zoo: ReturnType<typeof makeZoo> | undefined;
beforeAll(async () => {
  await tf.setBackend('webgpu');
  await tf.ready();
  if (hasTorch) zoo = makeZoo();
}, 300_000);
afterAll(() => zoo?.remove());

test.skipIf(!hasTorch).each(['resnet50-meta', 'resnet50-acon', 'tfnet-0.5'])(
  "%s on webgpu: PyTorch's logits, fused and composed, batch 2 and 1",
  async (name) => {
    const dir = zoo!.dir;
    const input = zooInput(dir, name);
    const file = readFileSync(join(dir, `${name}.safetensors`));
    const before = tf.memory().numTensors;
    const logits: number[][] = [];
    for (const impl of ['auto', 'composed'] as const) {
      const { model } = loadCheckpoint(file, { impl });
      const { length, err, err1, ours } = await zooLogits(model, input);
      logits.push(ours);
      model.dispose();
      console.log(
        `${name} ${impl}: max |ours − torch64| ${err.toExponential(2)} (batch 1: ${err1.toExponential(2)}); torch32 − torch64 ${input.e.toExponential(2)}; tolerance ${input.tol.toExponential(2)}`,
      );
      expect(length).toBe(input.logits64.length);
      expect(err).toBeLessThanOrEqual(input.tol);
      expect(err1).toBeLessThanOrEqual(input.tol);
    }
    // two paths: the fused kernels' rounding is not the composed form's (equal bits would mean one ran twice)
    expect(logits[0]).not.toEqual(logits[1]);
    expect(tf.memory().numTensors).toBe(before);
    input.x.dispose();
  },
  600_000,
);
