// Saved tf.layers models stay loadable: models saved by the code of commit bcc493a (model.json and
// weights, in tests/fixtures/layers/) load through tf.loadLayersModel with the same layer classes,
// weight names and config keys, and predict what they predicted then (on the tfjs cpu backend, where
// the layers run their composed form). This pins the serialization format that users' saved models
// depend on. UPDATE_GOLDEN=1 saves them anew: only from the base of a refactor, never to make this pass.
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { AconC, MetaAconC, seedModel } from '../../src/layers/index';
import { normal, rng, uniform } from '../../src/ops/random';

const DIR = 'tests/fixtures/layers';
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** The models, as the code of the base commit builds them; `input` is the predict input's shape (NHWC). */
const MODELS: Record<string, { build: () => tfl.LayersModel; input: number[]; randomize: boolean }> = {
  acon: {
    build: () =>
      tfl.sequential({
        name: 'acon_model',
        layers: [
          tfl.layers.conv2d({ name: 'conv', inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same' }),
          new AconC({ name: 'acon_last', seed: 2 }),
          new AconC({ name: 'acon_first', dataFormat: 'channelsFirst', impl: 'composed', seed: 4 }),
        ],
      }),
    input: [2, 6, 6, 3],
    randomize: true,
  },
  meta: {
    build: () =>
      tfl.sequential({
        name: 'meta_model',
        layers: [
          tfl.layers.conv2d({ name: 'conv', inputShape: [5, 5, 3], filters: 20, kernelSize: 3, padding: 'same' }),
          new MetaAconC({ name: 'meta_last', r: 4, seed: 5 }),
          new MetaAconC({ name: 'meta_first', dataFormat: 'channelsFirst', r: 2, impl: 'composed', seed: 6 }),
          tfl.layers.flatten({ name: 'flatten' }),
          tfl.layers.dense({ name: 'dense', units: 3 }),
        ],
      }),
    input: [3, 5, 5, 3],
    randomize: true,
  },
  'dcn2-meta': { build: () => seedModel('dcn2-meta', { seed: 1 }), input: [2, 32, 32, 3], randomize: false },
};

/** Trainable weights first, then the running statistics: tf.layers' order of model.weights. */
const metaWeights = (layer: string, stats: boolean) =>
  stats
    ? ['bn1', 'bn2'].flatMap((bn) => [`${layer}/${bn}.running_mean`, `${layer}/${bn}.running_var`])
    : [
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
      ].map((w) => `${layer}/${w}`);
const conv = (name: string) => [`${name}/kernel`, `${name}/bias`];

/** What the base commit saved: each model's layer classes and weight names, in order. */
const EXPECTED: Record<string, { classes: string[]; weights: string[] }> = {
  acon: {
    classes: ['Conv2D', 'AconC', 'AconC'],
    weights: [
      ...conv('conv'),
      ...['acon_last', 'acon_first'].flatMap((l) => ['p1', 'p2', 'beta'].map((w) => `${l}/${w}`)),
    ],
  },
  meta: {
    classes: ['Conv2D', 'MetaAconC', 'MetaAconC', 'Flatten', 'Dense'],
    weights: [
      ...conv('conv'),
      ...metaWeights('meta_last', false),
      ...metaWeights('meta_first', false),
      ...conv('dense'),
      ...metaWeights('meta_last', true),
      ...metaWeights('meta_first', true),
    ],
  },
  'dcn2-meta': {
    classes: ['Conv2D', 'Conv2D', 'Conv2D', 'MetaAconC', 'Conv2D', 'Flatten', 'Dense', 'Dense'],
    weights: [
      ...['conv1', 'conv2', 'conv3'].flatMap(conv),
      ...metaWeights('meta_acon_c', false),
      ...['conv4', 'fc1', 'fc2'].flatMap(conv),
      ...metaWeights('meta_acon_c', true),
    ],
  },
};
/** The ACON layers' getConfig() keys (tf.layers writes them in snake_case: data_format, …). */
const CONFIG_KEYS: Record<string, string[]> = {
  AconC: ['dataFormat', 'impl', 'name', 'seed', 'trainable'],
  MetaAconC: ['dataFormat', 'impl', 'name', 'r', 'seed', 'trainable'],
};

/** model.json as tfjs's file and http handlers write it, with the weights in `<name>.weights.bin`. */
interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** Non-default weights (seeded): random trainable ones, running statistics away from their init. */
function randomize(model: tfl.LayersModel): void {
  const rand = rng(99);
  const values = model.weights.map((w) => {
    const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    const v = w.originalName.endsWith('running_var')
      ? uniform(rand, n, 0.5, 2)
      : normal(rand, n, w.originalName.endsWith('running_mean') ? 0.1 : 0.5);
    return tf.tensor(v, w.shape as number[]);
  });
  model.setWeights(values);
  tf.dispose(values);
}

const input = (shape: number[]) =>
  tf.tensor(
    normal(
      rng(7),
      shape.reduce((a, b) => a * b, 1),
      2,
    ),
    shape,
  );

/** What model.save hands an io handler. */
async function artifactsOf(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts!;
}

async function save(name: string): Promise<void> {
  const { build, input: shape, randomize: r } = MODELS[name]!;
  const model = build();
  if (r) randomize(model);
  const a = await artifactsOf(model);
  const json: ModelJson = {
    modelTopology: a.modelTopology as object,
    weightsManifest: [{ paths: [`./${name}.weights.bin`], weights: a.weightSpecs! }],
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
  };
  mkdirSync(DIR, { recursive: true });
  writeFileSync(`${DIR}/${name}.json`, JSON.stringify(json) + '\n');
  writeFileSync(`${DIR}/${name}.weights.bin`, new Uint8Array(a.weightData as ArrayBuffer));
  const y = model.predict(input(shape)) as tf.Tensor;
  const outputs = { input: { seed: 7, scale: 2, shape }, shape: y.shape, y: Array.from(await y.data()) };
  writeFileSync(`${DIR}/${name}.predict.json`, JSON.stringify(outputs) + '\n');
}

async function load(name: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(`${DIR}/${name}.json`, 'utf8')) as ModelJson;
  const bin = readFileSync(`${DIR}/${name}.weights.bin`);
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((m) => m.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  if (UPDATE) for (const name of Object.keys(MODELS)) await save(name);
});

describe.each(Object.keys(MODELS))('saved model %s', (name) => {
  test('loads: layer classes, weight names in order, config keys', async () => {
    expect(existsSync(`${DIR}/${name}.json`), `${DIR}/${name}.json`).toBe(true);
    const model = await load(name);
    expect(model.layers.map((l) => l.getClassName())).toEqual(EXPECTED[name]!.classes);
    expect(model.weights.map((w) => w.originalName)).toEqual(EXPECTED[name]!.weights);
    for (const layer of model.layers) {
      const keys = CONFIG_KEYS[layer.getClassName()];
      if (keys) expect(Object.keys(layer.getConfig()).sort(), layer.name).toEqual([...keys].sort());
    }
    // the config's values survive too (a layer built from the saved config, not the defaults)
    for (const layer of model.layers.filter((l) => l instanceof AconC || l instanceof MetaAconC)) {
      const config = layer.getConfig();
      expect(config.seed, layer.name).toEqual(expect.any(Number));
      expect(['auto', 'composed']).toContain(config.impl);
    }
    model.dispose();
  });

  test('saved again: the same topology, weight manifest and weight bytes', async () => {
    const json = JSON.parse(readFileSync(`${DIR}/${name}.json`, 'utf8')) as ModelJson;
    const model = await load(name);
    const again = await artifactsOf(model);
    expect(again.modelTopology).toEqual(json.modelTopology);
    expect(again.weightSpecs).toEqual(json.weightsManifest.flatMap((m) => m.weights));
    const bytes = new Uint8Array(again.weightData as ArrayBuffer);
    expect(Buffer.from(bytes).equals(readFileSync(`${DIR}/${name}.weights.bin`))).toBe(true);
    model.dispose();
  });

  test('predicts what it predicted when saved (tfjs cpu backend)', async () => {
    const model = await load(name);
    const saved = JSON.parse(readFileSync(`${DIR}/${name}.predict.json`, 'utf8')) as {
      input: { shape: number[] };
      shape: number[];
      y: number[];
    };
    const y = model.predict(input(saved.input.shape)) as tf.Tensor;
    expect(y.shape).toEqual(saved.shape);
    const got = await y.data();
    // the same float32 arithmetic on the same engine gives the same bits; the margin only
    // allows another JavaScript engine's exp and log (a few ulp, amplified by the later layers)
    const bad = saved.y.flatMap((v, i) => (Math.abs(got[i]! - v) <= 1e-5 * (1 + Math.abs(v)) ? [] : [[i, v, got[i]]]));
    expect(bad.slice(0, 5)).toEqual([]);
    model.dispose();
  });
});
