// Hostile checkpoints (DESIGN.md, "Untrusted input"; issue 16): every attack found on the loader and
// the safetensors reader gives a typed error, in bounded time, with nothing built from the file's
// claims (no tf.Variable created) and tf.memory() exactly as before. Files are written with the
// independent writer of tests/helpers/safetensors.ts (raw headers where they must be malformed).
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { AconError, CheckpointError, StateDictError } from '../../src/gpu/errors';
import { loadCheckpoint, modelForMetadata, readSafetensors, type Safetensors } from '../../src/models/index';
import { rawSafetensors, splitSafetensors, writeSafetensors, type TensorSpec } from '../helpers/safetensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const measured: string[] = [];
afterAll(() => console.log(`hostile checkpoints (error, ms, variables created and disposed):\n${measured.join('\n')}`));

/**
 * A message quotes at most ~40 characters of the file per value: with our own text and up to 8
 * problems listed by a StateDictError, it stays under this whatever the file holds.
 */
const SHORT = 1200;

/**
 * Runs an attack: it must throw `type` with a message matching `message` (and short), within `maxMs`,
 * create no tf.Variable unless `builds` (then all are disposed again), and leave tf.memory() unchanged.
 */
function refused(
  name: string,
  run: () => unknown,
  type: typeof CheckpointError | typeof StateDictError,
  message: RegExp,
  { maxMs = 2000, builds = false } = {},
): AconError {
  const before = tf.memory();
  const makeVariable = vi.spyOn(tf.engine(), 'makeVariable');
  let error: unknown;
  const t0 = performance.now();
  try {
    run();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const variables = makeVariable.mock.calls.length;
  makeVariable.mockRestore();
  const after = tf.memory();
  const text = error instanceof Error ? error.message : String(error);
  measured.push(
    `  ${name}: ${(error as Error)?.name} in ${ms.toFixed(1)} ms, ${variables} variables; ${text.slice(0, 150)}`,
  );
  expect(error).toBeInstanceOf(type);
  expect(text).toMatch(message);
  expect(text.length).toBeLessThan(SHORT);
  expect(ms).toBeLessThan(maxMs);
  if (!builds) expect(variables).toBe(0);
  expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
  return error as AconError;
}

const fixture = (name: string) => new Uint8Array(readFileSync(`tests/fixtures/models/${name}.safetensors`));
const f32 = (shape: number[]): TensorSpec => ({
  dtype: 'F32',
  shape,
  data: new Float32Array(shape.reduce((a, d) => a * d, 1)),
});
const SHUFFLE_05 = {
  format: 'acon-webgpu/1',
  architecture: 'shufflenetv2-acon',
  model_size: '0.5x',
  stage_out_channels: '[-1, 24, 48, 96, 192, 1024]',
  n_class: '1000',
};
const TINY_META = {
  format: 'acon-webgpu/1',
  architecture: 'shufflenetv2-meta',
  model_size: 'custom',
  stage_out_channels: '[-1, 8, 16, 32, 64, 128]',
  n_class: '10',
  r: '8',
};
/** A fixture's tensors under other metadata. */
const fixtureWith = (name: string, metadata: Record<string, string>) => {
  const { header, data } = splitSafetensors(fixture(name));
  header.__metadata__ = metadata;
  return rawSafetensors(JSON.stringify(header), data);
};
/** The tiny Meta-ACON fixture's tensors under other metadata. */
const tinyMetaWith = (metadata: Record<string, string>) => fixtureWith('shufflenetv2-tiny-meta', metadata);
/** A file whose header is `entries` (JSON written as given) over `dataBytes` zero bytes. */
const rawFile = (entries: string, dataBytes: number) => rawSafetensors(entries, new Uint8Array(dataBytes));
const entry = (begin: number, end: number) =>
  `{"dtype":"U8","shape":[${end - begin}],"data_offsets":[${begin},${end}]}`;

describe('metadata: widths are checked against the tensors before anything is built', () => {
  test("the zoo's widths (ResNet planes, TFNet model_size): strict numbers within the bound, then the tensors", () => {
    const RESNET = {
      format: 'acon-webgpu/1',
      architecture: 'resnet-meta',
      depth: '50',
      planes: '4',
      num_classes: '10',
      r: '16',
    };
    const TFNET = { format: 'acon-webgpu/1', architecture: 'tfnet', model_size: '0.25', n_class: '10' };
    for (const planes of ['0', '-4', '4.0', '1e3', ' 4', '99999999'])
      refused(
        `planes ${planes}`,
        () => loadCheckpoint(fixtureWith('resnet50-tiny-meta', { ...RESNET, planes })),
        CheckpointError,
        /"planes" is not a positive integer/,
      );
    // 32768 is the bound (layer4's 32·planes = 2^20); one more is refused before any shape is computed
    refused(
      'planes 32769',
      () => loadCheckpoint(fixtureWith('resnet50-tiny-meta', { ...RESNET, planes: '32769' })),
      CheckpointError,
      /"planes" is wider/,
    );
    refused(
      'planes 32768 over planes 4',
      () => loadCheckpoint(fixtureWith('resnet50-tiny-meta', { ...RESNET, planes: '32768' })),
      StateDictError,
      /conv1\.weight: shape \[4, 3, 7, 7\], expected \[32768, 3, 7, 7\]/,
    );
    // a file without planes is the official width (64), which these tensors are not
    const { planes: _, ...official } = RESNET;
    refused(
      'no planes over planes 4',
      () => loadCheckpoint(fixtureWith('resnet50-tiny-meta', official)),
      StateDictError,
      /expected \[64, 3, 7, 7\]/,
    );
    for (const size of ['0.3', 'NaN', '1e3', '0.25 ', '-0.25', '.25', '0', '0.0', '4096.0625', '0x1p-2', '0.25e0'])
      refused(
        `model_size ${size}`,
        () => loadCheckpoint(fixtureWith('tfnet-tiny', { ...TFNET, model_size: size })),
        CheckpointError,
        /"model_size" is no TFNet width/,
      );
    refused(
      'model_size 0.5 over 0.25',
      () => loadCheckpoint(fixtureWith('tfnet-tiny', { ...TFNET, model_size: '0.5' })),
      StateDictError,
      /first_conv\.0\.weight: shape \[4, 3, 3, 3\], expected \[8, 3, 3, 3\]/,
    );
    // the untouched files load: the widths above are the only change
    for (const name of ['resnet50-tiny-meta', 'tfnet-tiny']) loadCheckpoint(fixture(name)).model.dispose();
  });

  test('175 bytes with n_class 250000 and no tensors: StateDictError listing the missing tensors, nothing built', () => {
    const file = writeSafetensors({}, { ...SHUFFLE_05, n_class: '250000' });
    expect(file.length).toBeLessThan(200);
    refused('n_class 250000, no tensors', () => loadCheckpoint(file), StateDictError, /first_conv\.0\.weight: missing/);
  });

  test('stage_out_channels with 100000000: CheckpointError (over the bound); within the bound but not the tensors: StateDictError', () => {
    const huge = writeSafetensors(
      {},
      { ...SHUFFLE_05, model_size: 'custom', stage_out_channels: '[-1, 24, 100000000, 96, 192, 1024]' },
    );
    refused('stage width 1e8', () => loadCheckpoint(huge), CheckpointError, /"stage_out_channels" is not a JSON list/);
    const big = tinyMetaWith({ ...TINY_META, stage_out_channels: '[-1, 8, 100000, 200000, 400000, 128]' });
    refused(
      'stage widths 1e5..4e5 over the tiny tensors',
      () => loadCheckpoint(big),
      StateDictError,
      /features\.0\.branch_main\.0\.weight: shape \[8, 8, 1, 1\], expected \[50000, 8, 1, 1\]/,
    );
    const shrinking = writeSafetensors(
      {},
      { ...SHUFFLE_05, model_size: 'custom', stage_out_channels: '[-1, 24, 16, 96, 192, 1024]' },
    );
    refused(
      'a stage narrower than its input',
      () => loadCheckpoint(shrinking),
      CheckpointError,
      /each wider than the one before/,
    );
  });

  test('n_class 1e9, r 1e9, num_classes 1e9 on dcn3: CheckpointError, nothing built', () => {
    refused(
      'n_class 1000000000',
      () => loadCheckpoint(tinyMetaWith({ ...TINY_META, n_class: '1000000000' })),
      CheckpointError,
      /"n_class" is not a positive integer/,
    );
    refused(
      'n_class 1048576 (the bound) over the tiny tensors',
      () => loadCheckpoint(tinyMetaWith({ ...TINY_META, n_class: '1048576' })),
      StateDictError,
      /classifier\.0\.weight: shape \[10, 128\], expected \[1048576, 128\]/,
    );
    refused(
      'r 1000000000',
      () => loadCheckpoint(tinyMetaWith({ ...TINY_META, r: '1000000000' })),
      CheckpointError,
      /"r" is not a positive integer/,
    );
    refused(
      'r 1000 over the tiny tensors',
      () => loadCheckpoint(tinyMetaWith({ ...TINY_META, r: '1000' })),
      StateDictError,
      /first_conv\.2\.fc1\.weight: shape \[8, 8, 1, 1\], expected \[1000, 8, 1, 1\]/,
    );
    const dcn3 = fixture('dcn3');
    const { header, data } = splitSafetensors(dcn3);
    header.__metadata__ = { format: 'acon-webgpu/1', architecture: 'dcn3', num_classes: '1000000000' };
    refused(
      'dcn3 num_classes 1000000000',
      () => loadCheckpoint(rawSafetensors(JSON.stringify(header), data)),
      CheckpointError,
      /"num_classes" is not a positive integer/,
    );
  });

  const NUMBERS = [
    '1e9',
    '-1',
    'NaN',
    '2.5',
    '0x10',
    '0',
    '010',
    ' 10',
    '10 ',
    '+10',
    'Infinity',
    '',
    '9'.repeat(1 << 20),
  ];
  test.each(NUMBERS.map((v) => [JSON.stringify(v).slice(0, 16), v]))(
    'n_class %s: CheckpointError quoting at most ~40 characters',
    (label, v) => {
      const e = refused(
        `n_class ${label}`,
        () => loadCheckpoint(tinyMetaWith({ ...TINY_META, n_class: v })),
        CheckpointError,
        /"n_class" is not a positive integer/,
      );
      expect(e.actual!.length).toBeLessThanOrEqual(41);
    },
  );

  test('stage_out_channels that are not a list of counts, and a 1 MB architecture name: CheckpointError, short', () => {
    for (const v of [
      '[-1, 8, 16, 32, 64]',
      '[-1, 8, 16.5, 32, 64, 128]',
      '[0, 8, 16, 32, 64, 128]',
      '{}',
      'x'.repeat(1 << 20),
    ])
      refused(
        `stage_out_channels ${v.slice(0, 20)}`,
        () => loadCheckpoint(tinyMetaWith({ ...TINY_META, stage_out_channels: v })),
        CheckpointError,
        /"stage_out_channels" is not a JSON list/,
      );
    refused(
      '1 MB architecture',
      () => loadCheckpoint(tinyMetaWith({ ...TINY_META, architecture: 'a'.repeat(1 << 20) })),
      CheckpointError,
      /unknown architecture/,
    );
  });

  test('a valid fixture with one tensor reshaped (same bytes): StateDictError naming it, nothing built', () => {
    const { header, data } = splitSafetensors(fixture('shufflenetv2-tiny-acon'));
    (header['classifier.0.weight'] as { shape: number[] }).shape = [20, 64];
    refused(
      'tiny-acon classifier reshaped',
      () => loadCheckpoint(rawSafetensors(JSON.stringify(header), data)),
      StateDictError,
      /classifier\.0\.weight: shape \[20, 64\], expected \[10, 128\]/,
    );
  });

  test('a 1 MB tensor name and a 100,000-dimension shape in an otherwise valid file: StateDictError, short', () => {
    const sd = splitSafetensors(fixture('dcn3'));
    const meta = sd.header.__metadata__ as Record<string, string>;
    const extra = { ['n'.repeat(1 << 20)]: f32([1]), ones: f32(new Array<number>(100_000).fill(1)) };
    const tensors = readSafetensors(fixture('dcn3')).tensors;
    const file = writeSafetensors(
      {
        ...Object.fromEntries(
          [...tensors].map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.data } as const]),
        ),
        ...extra,
      },
      meta,
    );
    refused(
      '1 MB name, 1e5-dimension shape',
      () => loadCheckpoint(file),
      StateDictError,
      /2 tensor\(s\) do not fit dcn3: "nnnn/,
    );
  });

  test('a build that fails after allocating (widths within the bounds, 2^37 weights): CheckpointError, every variable disposed', () => {
    refused(
      'modelForMetadata with 2^37 weights',
      () =>
        modelForMetadata({ ...TINY_META, stage_out_channels: '[-1, 24, 524288, 786432, 1048576, 1024]' }, 'composed'),
      CheckpointError,
      /could not build shufflenetv2-meta \(RangeError/,
      { builds: true, maxMs: 10_000 },
    );
  });

  test('a load that fails after the model is built: CheckpointError, every variable disposed', () => {
    const st = readSafetensors(fixture('dcn3'));
    const broken: Safetensors = {
      metadata: st.metadata,
      // right length for the checks, but not values tfjs can read
      tensors: new Map([
        ...st.tensors,
        ['fc2.bias', { dtype: 'F32', shape: [1], data: { length: 1 } as Float32Array }],
      ]),
    };
    refused('a tensor tfjs cannot read', () => loadCheckpoint(broken), CheckpointError, /could not build dcn3/, {
      builds: true,
    });
  });

  test('the fixtures still load, and disposing them leaves nothing behind', () => {
    const before = tf.memory().numTensors;
    for (const name of ['shufflenetv2-tiny-acon', 'shufflenetv2-tiny-meta', 'dcn3', 'dcn2-acon', 'dcn2-meta']) {
      const { model } = loadCheckpoint(fixture(name), { impl: 'composed' });
      expect(model.countParams()).toBeGreaterThan(1000);
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("a loaded fixture predicts PyTorch's logits on the CPU backend (the guarded build keeps every weight)", async () => {
    for (const name of ['dcn2-meta', 'dcn3']) {
      const io = readSafetensors(fixture(`${name}.io`));
      const u8 = io.tensors.get('input_u8')!;
      const logits64 = io.tensors.get('logits64')!.data as Float32Array;
      const [n, c, h, w] = u8.shape as [number, number, number, number];
      const { model } = loadCheckpoint(fixture(name), { impl: 'composed' });
      const y = tf.tidy(() => {
        const x = tf.transpose(
          tf.sub(tf.div(tf.tensor4d(Float32Array.from(u8.data), [n, c, h, w]), 64), 2),
          [0, 2, 3, 1],
        );
        return model.predict(x) as tf.Tensor;
      });
      const ours = (await y.data()) as Float32Array;
      tf.dispose(y);
      model.dispose();
      ours.forEach((v, i) => expect(Math.abs(v - logits64[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(logits64[i]!))));
    }
  });
});

describe('safetensors: the format is enforced', () => {
  test('256 entries aliasing one 1 MiB range: CheckpointError before any copy', () => {
    const entries = Array.from({ length: 256 }, (_, i) => `"t${i}":${entry(0, 1 << 20)}`).join(',');
    const file = rawFile(`{${entries}}`, 1 << 20);
    const heap = process.memoryUsage().arrayBuffers;
    refused(
      '256 aliases of 1 MiB',
      () => readSafetensors(file),
      CheckpointError,
      /tensor "t\d+"'s bytes overlap tensor "t\d+"'s/,
    );
    expect(process.memoryUsage().arrayBuffers - heap).toBeLessThan(16 << 20);
  });

  test.each([
    ['overlapping ranges', `{"a":${entry(0, 8)},"b":${entry(4, 12)}}`, 12, /tensor "b"'s bytes overlap tensor "a"'s/],
    [
      'a hole',
      `{"a":${entry(0, 4)},"b":${entry(8, 12)}}`,
      12,
      /data bytes 4 to 8 belong to no tensor \(a hole before tensor "b"\)/,
    ],
    ['trailing bytes', `{"a":${entry(0, 4)}}`, 8, /4 bytes after the last tensor's data belong to no tensor/],
    [
      'a range past the end',
      `{"a":${entry(0, 4)},"b":${entry(4, 16)}}`,
      12,
      /tensor "b" runs past the end of the file/,
    ],
    ['offsets begin > end', `{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, 4, /byte range does not match/],
    ['negative offsets', `{"a":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}}`, 4, /malformed data_offsets/],
    ['duplicate tensor names', `{"a":${entry(0, 4)},"a":${entry(4, 8)}}`, 8, /the key "a" twice/],
    ['duplicate names, one escaped', `{"a":${entry(0, 4)},"\\u0061":${entry(4, 8)}}`, 8, /the key "a" twice/],
    [
      'duplicate metadata keys',
      `{"__metadata__":{"format":"x","format":"acon-webgpu/1"},"a":${entry(0, 4)}}`,
      4,
      /the key "format" twice/,
    ],
    [
      'duplicate keys in an entry',
      `{"a":{"dtype":"F32","dtype":"U8","shape":[4],"data_offsets":[0,4]}}`,
      4,
      /key "dtype" twice/,
    ],
    ['a non-object header: a list', '[]', 0, /header is not a JSON object/],
    ['a non-object header: a string', '"x"', 0, /header is not a JSON object/],
    ['a non-object header: null', 'null', 0, /header is not a JSON object/],
    [
      'a metadata value that is a number',
      '{"__metadata__":{"n_class":10}}',
      0,
      /__metadata__ "n_class" is not a string/,
    ],
    ['a metadata value that is an object', '{"__metadata__":{"k":{"a":"b"}}}', 0, /__metadata__ "k" is not a string/],
    ['metadata that is a list', '{"__metadata__":["a"]}', 0, /__metadata__ is not an object/],
    ['a shape that is not a list', '{"a":{"dtype":"F32","shape":4,"data_offsets":[0,16]}}', 16, /malformed shape/],
    ['an unsupported dtype', '{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', 8, /unsupported dtype/],
  ] as const)('%s: CheckpointError', (name, header, dataBytes, message) => {
    refused(name, () => readSafetensors(rawFile(header, dataBytes)), CheckpointError, message);
  });

  test('unsorted offsets are accepted: entries are sorted by offset (the format orders keys by name, data by alignment)', () => {
    const file = rawSafetensors(
      `{"b":${entry(4, 8)},"a":${entry(0, 4)},"z":${entry(4, 4)}}`,
      Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    );
    const st = readSafetensors(file);
    expect(st.tensors.get('a')!.data).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(st.tensors.get('b')!.data).toEqual(Uint8Array.of(5, 6, 7, 8));
    expect(st.tensors.get('z')!.data).toEqual(new Uint8Array(0));
  });

  test('invalid UTF-8 in the header: CheckpointError', () => {
    const header = new TextEncoder().encode(`{"a\u00e9":${entry(0, 4)}}`);
    const bad = header.slice();
    bad[bad.indexOf(0xc3)] = 0xff;
    expect(readSafetensors(rawSafetensors(header, new Uint8Array(4))).tensors.has('a\u00e9')).toBe(true);
    refused(
      'invalid UTF-8',
      () => readSafetensors(rawSafetensors(bad, new Uint8Array(4))),
      CheckpointError,
      /not valid UTF-8/,
    );
  });

  test('a 1 MB tensor name: the message quotes ~40 characters of it', () => {
    const name = 'w'.repeat(1 << 20);
    const e = refused(
      '1 MB tensor name',
      () => readSafetensors(rawFile(`{"${name}":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, 8)),
      CheckpointError,
      /tensor "w{39}… has an unsupported dtype/,
    );
    expect(e.message.length).toBeLessThan(150);
    refused(
      '1 MB dtype',
      () => readSafetensors(rawFile(`{"a":{"dtype":"${name}","shape":[1],"data_offsets":[0,8]}}`, 8)),
      CheckpointError,
      /unsupported dtype \(expected F32 or U8, got "w{39}…\)/,
    );
  });

  test('a header length past the end of the file, or past 4 MiB: CheckpointError', () => {
    const header = `{"a":${entry(0, 4)}}`;
    for (const length of [BigInt(header.length + 5), 1n << 40n, (1n << 64n) - 1n])
      refused(
        `header length ${length}`,
        () => readSafetensors(rawSafetensors(header, new Uint8Array(4), length)),
        CheckpointError,
        /header runs past the end of the file/,
      );
    // a real 5 MB header of 100,000 zero-size tensors (the format allows them): refused by its size, at once
    const many = `{${Array.from({ length: 100_000 }, (_, i) => `"t${i}":${entry(0, 0)}`).join(',')}}`;
    expect(many.length).toBeGreaterThan(4 << 20);
    refused('a 5 MB header', () => readSafetensors(rawFile(many, 0)), CheckpointError, /past 4 MiB/, { maxMs: 200 });
  });

  test('JSON nested 5,000 deep (where JSON.stringify would overflow the stack): CheckpointError, not a RangeError', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    for (const [what, header] of [
      ['the header', deep],
      ['__metadata__', `{"__metadata__":${deep}}`],
      ['a metadata value', `{"__metadata__":{"format":${deep}}}`],
      ['a dtype', `{"a":{"dtype":${deep},"shape":[1],"data_offsets":[0,1]}}`],
      ['a shape', `{"a":{"dtype":"U8","shape":${deep},"data_offsets":[0,1]}}`],
    ])
      refused(what, () => readSafetensors(rawFile(header, 1)), CheckpointError, /nests deeper/);
    // shallow but wrong: the message shows the value's head, not the whole
    refused(
      'a dtype that is an object',
      () => readSafetensors(rawFile(`{"a":{"dtype":{"x":1,"y":2},"shape":[1],"data_offsets":[0,1]}}`, 1)),
      CheckpointError,
      /unsupported dtype \(expected F32 or U8, got \{keys "x","y"\}\)/,
    );
  });
});
