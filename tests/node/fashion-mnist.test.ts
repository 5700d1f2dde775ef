// Fashion-MNIST's loader (tools/fashionMnist.ts): the committed 1,000-image subset of the test split
// (scripts/make-fashion-subset.mjs), Debian's full files where dataset-fashion-mnist is installed
// (setup installs it as root; skipped loudly otherwise), and bad files: each a DatasetError, in
// bounded time, before anything the header claims is allocated.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { DatasetError } from '../../src/gpu/errors';
import {
  FASHION_CLASSES,
  FASHION_MNIST_DIR,
  fashionMnist,
  gunzip,
  loadFashionMnist,
  parseIdx,
} from '../../tools/fashionMnist';

const SUBSET = 'tests/fixtures/fashion-mnist';
const subset = async () =>
  fashionMnist(
    await gunzip(readFileSync(join(SUBSET, 'test-1000-images-idx3-ubyte.gz')), 'subset images'),
    await gunzip(readFileSync(join(SUBSET, 'test-1000-labels-idx1-ubyte.gz')), 'subset labels'),
  );

/** An IDX file of unsigned bytes: magic, dims (big-endian u32), data. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 0x08, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const installed = existsSync(join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
if (!installed)
  console.warn(
    `*** tests/node/fashion-mnist.test.ts: the full-dataset tests skipped: ${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist; scripts/ensure-setup.mjs does it as root) ***`,
  );

describe('the committed subset', () => {
  test('1,000 images of 28 × 28 with labels 0–9; the first is an ankle boot, as in the published test split', async () => {
    const d = await subset();
    expect(d.count).toBe(1000);
    expect(d.images.length).toBe(1000 * 28 * 28);
    expect(FASHION_CLASSES[d.labels[0]!]).toBe('Ankle boot');
    // every class present, and the images are images (not all background)
    expect(new Set(d.labels).size).toBe(10);
    expect(d.images.subarray(0, 784).some((v) => v > 0)).toBe(true);
  });

  test.skipIf(!installed)('equals the first 1,000 of Debian’s test split', async () => {
    const full = await loadFashionMnist('test', async (f) => readFileSync(join(FASHION_MNIST_DIR, f)));
    const d = await subset();
    expect(Buffer.from(full.images.subarray(0, d.images.length)).equals(Buffer.from(d.images))).toBe(true);
    expect(Array.from(full.labels.subarray(0, 1000))).toEqual(Array.from(d.labels));
  });
});

test.skipIf(!installed)(
  'Debian’s files: 60,000 training and 10,000 test images, 6,000 and 1,000 per class',
  async () => {
    for (const [split, count] of [
      ['train', 60_000],
      ['test', 10_000],
    ] as const) {
      const d = await loadFashionMnist(split, async (f) => readFileSync(join(FASHION_MNIST_DIR, f)));
      expect(d.count).toBe(count);
      const perClass = new Array<number>(10).fill(0);
      for (const l of d.labels) perClass[l]!++;
      expect(perClass).toEqual(new Array(10).fill(count / 10));
    }
  },
);

describe('bad files: a DatasetError, nothing loaded', () => {
  const images = idx([2, 28, 28], new Uint8Array(2 * 784));
  const labels = idx([2], new Uint8Array([3, 9]));
  test('a good pair loads (the cases below break one thing each)', () => {
    expect(fashionMnist(images, labels).count).toBe(2);
  });
  test.each([
    ['truncated data', images.subarray(0, images.length - 1), labels, /truncated/],
    ['a truncated header', images.subarray(0, 10), labels, /truncated IDX header/],
    ['trailing bytes', new Uint8Array([...images, 0]), labels, /trailing bytes/],
    ['a wrong magic number', Uint8Array.from(images, (v, i) => (i === 2 ? 0x09 : v)), labels, /magic 00 00 08 03/],
    ['the labels file as images', labels, labels, /3 dimension/],
    ['28 × 27 images', idx([2, 28, 27], new Uint8Array(2 * 28 * 27)), labels, /not 28 × 28/],
    ['fewer labels than images', images, idx([1], new Uint8Array([3])), /labels do not match/],
    ['a label past 9', images, idx([2], new Uint8Array([3, 10])), /label 1 is no class/],
    // 2^32 − 1 images claimed by a 12-byte header: refused at once, nothing of that size allocated
    ['a header claiming 4 billion images', idx([0xffffffff, 28, 28], new Uint8Array(0)), labels, /truncated/],
  ])('%s', (_, im, lb, message) => {
    expect(() => fashionMnist(im, lb)).toThrow(DatasetError);
    expect(() => fashionMnist(im, lb)).toThrow(message);
  });

  test('a gzip that expands past the cap is refused while it decompresses; not gzip at all, too', async () => {
    const bomb = gzipSync(new Uint8Array(8 << 20)); // 8 MiB of zeros in ~8 KB
    await expect(gunzip(bomb, 'bomb', 1 << 20)).rejects.toThrow(/decompresses past 1048576 bytes/);
    await expect(gunzip(new Uint8Array([1, 2, 3, 4]), 'junk')).rejects.toThrow(DatasetError);
    expect(() => parseIdx(new Uint8Array(0), 1, 'empty')).toThrow(DatasetError);
  });
});
