// The checkpoint loader compares a file with the state dict computed arithmetically from its metadata
// (src/models/torchShapes.ts, shuffleNetV2TorchShapes) before it builds anything. Those functions
// restate the builders' structure, so here each must equal what the built tf.layers model expects,
// through the loader's own PyTorch ↔ tfjs mapping (torchShapesOf): they can never drift apart.
import { beforeAll, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { torchShapesOf } from '../../src/models/checkpoint';
import {
  MODEL_SIZES,
  shuffleNetV2,
  shuffleNetV2TorchShapes,
  type ShuffleNetV2Options,
} from '../../src/models/shufflenet';
import { seedNetTorchShapes } from '../../src/models/torchShapes';
import { resNet, resNetTorchShapes, type ResNetOptions } from '../../src/models/resnet';
import { TFNET_SIZES, tfNet, tfNetTorchShapes } from '../../src/models/tfnet';
import { NET_KINDS, seedModel } from '../../src/layers/networks';
import { OptionError } from '../../src/gpu/errors';
import type * as tfl from '@tensorflow/tfjs-layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** The two maps as sorted entry lists, so a difference prints as the names that differ. */
function expectSame(computed: Map<string, number[]>, model: tfl.LayersModel) {
  try {
    const sorted = (m: Map<string, number[]>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(sorted(computed)).toEqual(sorted(torchShapesOf(model)));
  } finally {
    model.dispose();
  }
}

const SHUFFLE: [string, Omit<ShuffleNetV2Options, 'impl'>][] = [
  ...MODEL_SIZES.flatMap((modelSize) =>
    (['acon', 'meta'] as const).map((activation): [string, Omit<ShuffleNetV2Options, 'impl'>] => [
      `${modelSize} ${activation}`,
      { activation, modelSize },
    ]),
  ),
  ...(['acon', 'meta', 'relu'] as const).map((activation): [string, Omit<ShuffleNetV2Options, 'impl'>] => [
    `tiny [-1, 8, 16, 32, 64, 128] ${activation}, r 8, 10 classes`,
    { activation, stageOutChannels: [-1, 8, 16, 32, 64, 128], r: 8, numClasses: 10 },
  ]),
];

test.each(SHUFFLE)('ShuffleNetV2 %s: shuffleNetV2TorchShapes equals the built model', (_, options) => {
  expectSame(shuffleNetV2TorchShapes(options), shuffleNetV2({ ...options, impl: 'composed' }));
});

test.each(NET_KINDS.flatMap((kind) => [1, 7].map((numClasses) => [kind, numClasses] as const)))(
  'seed net %s with %i classes: seedNetTorchShapes equals the built model',
  (kind, numClasses) => {
    expectSame(seedNetTorchShapes(kind, numClasses), seedModel(kind, { impl: 'composed', numClasses }));
  },
);

// ResNet-101 and -152 differ from -50 only in their block counts (the walk is the same): -50 of each
// activation, and a Meta-ACON ResNet-101 with another r and class count
test.each([
  ['50 acon', { depth: 50, activation: 'acon' }],
  ['50 meta', { depth: 50, activation: 'meta' }],
  ['50 relu', { depth: 50, activation: 'relu' }],
  ['101 meta r 8, 10 classes', { depth: 101, activation: 'meta', r: 8, numClasses: 10 }],
  ['50 meta at planes 4 (the reduced-width fixture)', { depth: 50, activation: 'meta', planes: 4, numClasses: 10 }],
] as [string, Omit<ResNetOptions, 'impl'>][])('ResNet %s: resNetTorchShapes equals the built model', (_, options) => {
  expectSame(resNetTorchShapes(options), resNet({ ...options, inputSize: 64, impl: 'composed' }));
});

test.each([...TFNET_SIZES, 0.25, 0.1875].map((modelSize) => [modelSize]))(
  'TFNet %s: tfNetTorchShapes equals the built model',
  (modelSize) => {
    expectSame(tfNetTorchShapes({ modelSize, numClasses: 10 }), tfNet({ modelSize, numClasses: 10 }));
  },
);

test('TFNet and ResNet widths other than whole channel counts are OptionErrors', () => {
  for (const modelSize of [0.3, 0, -0.5, NaN, Infinity, 4096.0625, '0.5' as unknown as number])
    expect(() => tfNetTorchShapes({ modelSize }), String(modelSize)).toThrow(OptionError);
  for (const planes of [0, 3.5, -4, 32769, NaN])
    expect(() => resNetTorchShapes({ depth: 50, activation: 'acon', planes }), String(planes)).toThrow(OptionError);
});
