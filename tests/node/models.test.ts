// Checkpoint reading and loading without a GPU (tfjs's CPU backend): the safetensors reader against
// an independent writer, the PyTorch → tf.layers layout conversion on hand-computed indices, every
// bad-file case as a typed error with nothing left allocated, and the parameter counts of every
// network against what PyTorch counts for the official modules (tests/fixtures/models/param-counts.json,
// written by scripts/make_model_fixtures.py).
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { CheckpointError, OptionError, StateDictError } from '../../src/gpu/errors';
import {
  catalog,
  imagenetCrop,
  imagenetInput,
  loadCheckpoint,
  readSafetensors,
  shuffleNetV2,
  tfNet,
} from '../../src/models/index';
import { paramCounts } from '../../src/layers/networks';
import { writeSafetensors, type TensorSpec } from '../helpers/safetensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Distinct values: element i of tensor k is k + i/2^20 (exact in float32 for these sizes). */
const ramp = (k: number, n: number) => Float32Array.from({ length: n }, (_, i) => k + i / 2 ** 20);
const f32 = (shape: number[], k: number): TensorSpec => ({
  dtype: 'F32',
  shape,
  data: ramp(
    k,
    shape.reduce((a, d) => a * d, 1),
  ),
});

/** The seed's dcn3 in PyTorch's names and shapes (conv weights [O, I, kh, kw], linear [O, I]). */
function dcn3StateDict(): Record<string, TensorSpec> {
  const shapes: Record<string, number[]> = {
    'conv1.weight': [32, 3, 3, 3],
    'conv1.bias': [32],
    'conv2.weight': [64, 32, 3, 3],
    'conv2.bias': [64],
    'conv3.weight': [64, 64, 3, 3],
    'conv3.bias': [64],
    'conv4.weight': [64, 64, 3, 3],
    'conv4.bias': [64],
    'fc1.weight': [64, 1024],
    'fc1.bias': [64],
    'fc2.weight': [1, 64],
    'fc2.bias': [1],
  };
  return Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, f32(s, i)]));
}
const DCN3_META = { format: 'acon-webgpu/1', architecture: 'dcn3', num_classes: '1' };

describe('safetensors reader', () => {
  test('reads F32 and U8 tensors, shapes and metadata', () => {
    const file = writeSafetensors(
      {
        a: { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, -6.5) },
        b: { dtype: 'U8', shape: [3], data: Uint8Array.of(0, 7, 255) },
      },
      { k: 'v' },
    );
    const st = readSafetensors(file);
    expect(st.metadata).toEqual({ k: 'v' });
    expect(st.tensors.get('a')).toEqual({ dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, -6.5) });
    expect(st.tensors.get('b')).toEqual({ dtype: 'U8', shape: [3], data: Uint8Array.of(0, 7, 255) });
    // a Node Buffer (readFileSync) with the file at an offset of a larger buffer: values copied, not viewed
    const pooled = Buffer.alloc(file.length + 3);
    pooled.set(file, 3);
    expect(readSafetensors(pooled.subarray(3)).tensors.get('a')!.data).toEqual(Float32Array.of(1, 2, 3, 4, 5, -6.5));
  });

  test('a truncated file, a header past the end, a non-JSON header, an unsupported dtype, a range that does not match the shape: CheckpointError naming the tensor', () => {
    const file = writeSafetensors({ w: f32([4, 4], 1) });
    expect(() => readSafetensors(file.subarray(0, file.length - 1))).toThrow(
      /tensor "w" runs past the end of the file/,
    );
    expect(() => readSafetensors(file.subarray(0, 20))).toThrow(CheckpointError);
    expect(() => readSafetensors(file.subarray(0, 5))).toThrow(/shorter than its 8-byte header length/);
    const garbled = file.slice();
    garbled[8] = 0x41; // 'A' instead of '{'
    expect(() => readSafetensors(garbled)).toThrow(/header is not JSON/);
    expect(() =>
      readSafetensors(writeSafetensors({ h: { dtype: 'F16', shape: [2], data: new Uint8Array(4) } })),
    ).toThrow(/tensor "h" has an unsupported dtype \(expected F32 or U8, got "F16"\)/);
    expect(() =>
      readSafetensors(writeSafetensors({ s: { dtype: 'F32', shape: [3], data: new Float32Array(4) } })),
    ).toThrow(/tensor "s"'s byte range does not match its shape \[3\] \(expected 12 bytes, got 16\)/);
  });
});

describe('loading a converted checkpoint', () => {
  test('PyTorch layouts become tf.layers layouts: conv [O, I, kh, kw] → [kh, kw, I, O]; linear after a flatten reordered from (c, h, w) to (h, w, c)', () => {
    const sd = dcn3StateDict();
    const { model, architecture } = loadCheckpoint(writeSafetensors(sd, DCN3_META));
    try {
      expect(architecture).toBe('dcn3');
      const w = Object.fromEntries(model.weights.map((v) => [v.originalName, v.read().dataSync()]));
      // conv2 kernel [3, 3, 32, 64] at (kh, kw, i, o) = (1, 2, 5, 7) ← PyTorch [64, 32, 3, 3] at (7, 5, 1, 2)
      expect(w['conv2/kernel']![((1 * 3 + 2) * 32 + 5) * 64 + 7]).toBe(
        sd['conv2.weight']!.data[((7 * 32 + 5) * 3 + 1) * 3 + 2],
      );
      // fc1 kernel [1024, 64]: row (h, w, c) = (2, 3, 10) of the NHWC flatten ← PyTorch column c·16 + h·4 + w
      const row = (2 * 4 + 3) * 64 + 10;
      expect(w['fc1/kernel']![row * 64 + 9]).toBe(sd['fc1.weight']!.data[9 * 1024 + 10 * 16 + 2 * 4 + 3]);
      expect(w['fc2/kernel']![5]).toBe(sd['fc2.weight']!.data[5]);
      expect(w['conv4/bias']).toEqual(sd['conv4.bias']!.data);
    } finally {
      model.dispose();
    }
  });

  test('missing, unexpected and wrongly shaped tensors, an unknown architecture, a foreign file: typed errors naming them, and nothing left allocated', () => {
    const cases: [
      Record<string, TensorSpec>,
      Record<string, string>,
      RegExp,
      typeof CheckpointError | typeof StateDictError,
    ][] = [];
    const missing = dcn3StateDict();
    delete missing['conv2.bias'];
    cases.push([missing, DCN3_META, /conv2\.bias: missing \(expected \[64\]\)/, StateDictError]);
    const shaped = dcn3StateDict();
    shaped['conv3.weight'] = f32([64, 64, 1, 1], 3);
    cases.push([shaped, DCN3_META, /conv3\.weight: shape \[64, 64, 1, 1\], expected \[64, 64, 3, 3\]/, StateDictError]);
    cases.push([
      { ...dcn3StateDict(), 'act.p1': f32([1, 64, 1, 1], 9) },
      DCN3_META,
      /"act\.p1": unexpected/,
      StateDictError,
    ]);
    cases.push([dcn3StateDict(), { ...DCN3_META, architecture: 'resnet50' }, /unknown architecture/, CheckpointError]);
    cases.push([dcn3StateDict(), { architecture: 'dcn3' }, /not a converted checkpoint/, CheckpointError]);
    cases.push([
      dcn3StateDict(),
      { ...DCN3_META, num_classes: 'two' },
      /"num_classes" is not a positive integer/,
      CheckpointError,
    ]);
    const before = tf.memory().numTensors;
    for (const [sd, meta, message, type] of cases) {
      const file = writeSafetensors(sd, meta);
      expect(() => loadCheckpoint(file)).toThrow(type);
      expect(() => loadCheckpoint(file)).toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  test('ShuffleNetV2 options are checked', () => {
    expect(() => shuffleNetV2({ activation: 'acon', modelSize: '0.75x' as '0.5x' })).toThrow(OptionError);
    expect(() => shuffleNetV2({ activation: 'meta', stageOutChannels: [-1, 24, 50, 96, 192, 1024] })).toThrow(
      /divisible by 4/,
    );
    expect(() => shuffleNetV2({ activation: 'acon', stageOutChannels: [-1, 24, 24, 96, 192, 1024] })).toThrow(
      /each wider than the one before/,
    );
    expect(() => shuffleNetV2({ activation: 'swish' as 'acon' })).toThrow(/unknown activation/);
    expect(() => shuffleNetV2({ activation: 'meta', r: 0 })).toThrow(OptionError);
  });
});

describe('parameter counts: every network of the catalog as PyTorch counts the official module', () => {
  // PyTorch's trainable parameters; its running means and variances are our non-trainable weights
  // (its num_batches_tracked buffers have no counterpart: nothing in eval mode reads them)
  const counts = JSON.parse(readFileSync('tests/fixtures/models/param-counts.json', 'utf8')) as Record<
    string,
    { trainable: number; buffers: number }
  >;
  test.each(catalog().map((e) => [e.name, e] as const))('%s', (name, entry) => {
    expect(counts[name], `param-counts.json has ${name}`).toBeDefined();
    const model = entry.build('composed');
    try {
      expect(paramCounts(model)).toEqual({ trainable: counts[name]!.trainable, nonTrainable: counts[name]!.buffers });
    } finally {
      model.dispose();
    }
  });

  // the catalog (npm run models, the demo's list) is every full-size network PyTorch counted: none lost
  test('the catalog lists every full-size network of param-counts.json, and only those', () => {
    const full = Object.keys(counts).filter((name) => !name.includes('-tiny-') && !name.endsWith('-tiny'));
    expect(full.length).toBe(22);
    expect(
      catalog()
        .map((e) => e.name)
        .sort(),
    ).toEqual(full.sort());
  });

  test('npm run models -- --json: one JSON line per network with its counts', () => {
    const out = execFileSync(process.execPath, ['scripts/models.mjs', '--json', '--only', 'tfnet-0.5,resnet50-relu'], {
      encoding: 'utf8',
    });
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { name: string; trainable: number; nonTrainable: number });
    expect(lines.map((l) => l.name).sort()).toEqual(['resnet50-relu', 'tfnet-0.5']);
    for (const l of lines)
      expect([l.trainable, l.nonTrainable]).toEqual([counts[l.name]!.trainable, counts[l.name]!.buffers]);
  }, 120_000);

  test('a fixture read from disk with readFileSync (a Node Buffer) loads', () => {
    const { model, architecture } = loadCheckpoint(readFileSync('tests/fixtures/models/dcn2-meta.safetensors'));
    expect(architecture).toBe('dcn2-meta');
    expect(paramCounts(model)).toEqual({ trainable: 161_329, nonTrainable: 160 });
    model.dispose();
  });

  test("the ImageNet labels: 1000, in the models' order", async () => {
    const { IMAGENET_LABELS } = await import('../../src/models/index');
    expect(IMAGENET_LABELS.length).toBe(1000);
    expect([IMAGENET_LABELS[0], IMAGENET_LABELS[1], IMAGENET_LABELS[999]]).toEqual([
      'tench, Tinca tinca',
      'goldfish, Carassius auratus',
      'toilet tissue, toilet paper, bathroom tissue',
    ]);
  });
});

// The official evaluation (train.py of all three families): OpencvResize(256), then torchvision's
// CenterCrop(224), then ToBGRTensor. Expected values from the Python formulas themselves
// (int(256/H*W + 0.5); int(round((side - 224)/2.)), Python's round), not from our code.
describe("the official evaluation's preprocessing", () => {
  test('resize and crop: the shorter side to 256, the longer rounded half up; the crop offset rounded half to even', () => {
    expect(imagenetCrop(480, 640)).toEqual({ rh: 256, rw: 341, top: 16, left: 58 });
    expect(imagenetCrop(256, 343)).toEqual({ rh: 256, rw: 343, top: 16, left: 60 }); // 59.5 → 60
    expect(imagenetCrop(500, 500)).toEqual({ rh: 256, rw: 256, top: 16, left: 16 });
    expect(imagenetCrop(1000, 333)).toEqual({ rh: 769, rw: 256, top: 272, left: 16 }); // 272.5 → 272
    expect(imagenetCrop(301, 100)).toEqual({ rh: 771, rw: 256, top: 274, left: 16 }); // 273.5 → 274
  });

  test('the crop of an image already 256 on its shorter side, in BGR, whole levels', async () => {
    // 256 × 343, R = column mod 256, G = row, B = 7: no resampling, so the crop shows where it starts
    const [h, w] = [256, 343];
    const rgb = tf.tensor3d(
      Float32Array.from({ length: h * w * 3 }, (_, i) => {
        const [p, k] = [Math.floor(i / 3), i % 3];
        return [p % w, Math.floor(p / w), 7][k]! % 256;
      }),
      [h, w, 3],
      'float32',
    );
    const x = imagenetInput(rgb);
    expect(x.shape).toEqual([1, 224, 224, 3]);
    const v = await x.data();
    const at = (i: number, j: number) => Array.from(v.slice((i * 224 + j) * 3, (i * 224 + j) * 3 + 3));
    expect(at(0, 0)).toEqual([7, 16, 60]); // rows from 16, columns from 60 (CenterCrop's round(59.5))
    expect(at(223, 223)).toEqual([7, 239, (60 + 223) % 256]);
    expect(v.every((e) => Number.isInteger(e))).toBe(true);
    tf.dispose([rgb, x]);
  });
});

// TFNet/network.py: `if self.model_size > 0.5: self.dropout = nn.Dropout(0.2)` between the global pool
// and the classifier; invisible to eval logits and parameter counts, so checked by the layers.
test("TFNet's dropout: rate 0.2 before the classifier above 0.5, none at 0.5", () => {
  for (const modelSize of [0.5, 1.0, 2.0] as const) {
    const model = tfNet({ modelSize, numClasses: 10 });
    const names = model.layers.map((l) => l.name);
    const dropout = model.layers.find((l) => l.getClassName() === 'Dropout');
    if (modelSize === 0.5) expect(dropout, String(modelSize)).toBeUndefined();
    else {
      expect((dropout?.getConfig() as { rate?: number } | undefined)?.rate, String(modelSize)).toBe(0.2);
      expect(names.slice(-3)).toEqual(['globalpool', 'dropout', 'classifier.0']);
    }
    model.dispose();
  }
});
