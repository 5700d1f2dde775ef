// The paper's ResNet-50 with Meta-ACON-C and with ACON-C, and its TFNet 0.5 (ACON-FReLU), end to end:
// checkpoints saved as the official train.py saves them, converted by scripts/convert_checkpoint.py,
// loaded by loadCheckpoint, give PyTorch's logits. The ResNet files are 95 MB each, so
// scripts/make_model_fixtures.py --zoo writes them to a temporary folder here (seeded: the same bytes
// every run) instead of committing them. Needs Debian's
// PyTorch (python3-torch), which setup installs as root; skipped loudly without it. On tfjs's cpu
// backend (the composed ACON); the fused kernels' tfjs ops are checked bitwise against the host op
// elsewhere (tests/browser/tfjsActivations.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { CheckpointError, StateDictError } from '../../src/gpu/errors';
import { loadCheckpoint } from '../../src/models/checkpoint';
import { paramCounts } from '../../src/layers/networks';
import { rawSafetensors, splitSafetensors } from '../helpers/safetensors';
import { hasTorch, makeZoo, PYTHON, zooInput, zooLogits } from '../helpers/zoo';

if (!hasTorch)
  console.warn(
    `*** tests/node/zoo-checkpoints.test.ts skipped: ${PYTHON} cannot import torch (apt-get install python3-torch as root; scripts/ensure-setup.mjs does it) ***`,
  );

let zoo: ReturnType<typeof makeZoo> | undefined;
let dir = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  if (!hasTorch) return;
  zoo = makeZoo();
  dir = zoo.dir;
}, 300_000);
afterAll(() => zoo?.remove());

test.skipIf(!hasTorch).each([
  ['resnet50-meta', 'resnet-meta', { trainable: 23_744_858, nonTrainable: 61_280 }],
  ['resnet50-acon', 'resnet-acon', { trainable: 23_566_410, nonTrainable: 53_120 }],
  ['tfnet-0.5', 'tfnet', { trainable: 329_754, nonTrainable: 17_488 }],
] as const)("%s: converted, loaded, PyTorch's logits (batch 2 and 1)", async (name, architecture, counts) => {
  const before = tf.memory().numTensors;
  const { model, architecture: arch, metadata } = loadCheckpoint(readFileSync(join(dir, `${name}.safetensors`)));
  expect(arch).toBe(architecture);
  if (architecture === 'tfnet') expect([metadata.model_size, metadata.n_class]).toEqual(['0.5', '10']);
  else expect([metadata.depth, metadata.planes, metadata.num_classes]).toEqual(['50', '64', '10']);
  // the converter's counts (10 classes)
  expect(paramCounts(model)).toEqual(counts);
  const input = zooInput(dir, name);
  const { length, err, err1 } = await zooLogits(model, input);
  console.log(
    `${name}: max |ours − torch64| ${err.toExponential(2)} (batch 1: ${err1.toExponential(2)}); torch32 − torch64 ${input.e.toExponential(2)}; tolerance ${input.tol.toExponential(2)}`,
  );
  expect(length).toBe(input.logits64.length);
  expect(err).toBeLessThanOrEqual(input.tol);
  expect(err1).toBeLessThanOrEqual(input.tol);
  input.x.dispose();
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
  ['resnet50-meta', { planes: '32' }, StateDictError],
  ['tfnet-0.5', { model_size: '0.3' }, /"model_size" is no TFNet width/],
  ['tfnet-0.5', { model_size: '0.75' }, StateDictError],
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
