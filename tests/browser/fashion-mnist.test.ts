// Fashion-MNIST in the browser: the dev server serves Debian's files at /datasets/fashion-mnist/
// (scripts/datasets-plugin.mjs), and tools/fashionMnist.ts loads them with the browser's own
// DecompressionStream. Where dataset-fashion-mnist is missing the server answers 404 and the test
// checks that instead, loudly.
import { expect, test } from 'vitest';
import { FASHION_CLASSES, loadFashionMnist } from '../../tools/fashionMnist';

const get = async (file: string) => {
  const r = await fetch(`/datasets/fashion-mnist/${file}`);
  if (!r.ok) throw new Error(`${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
};

test('the test split loads in the browser: 10,000 images, 1,000 per class; the server serves nothing else', async () => {
  const probe = await fetch('/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz');
  // a name outside the four files is refused, whatever it points at
  expect((await fetch('/datasets/fashion-mnist/..%2F..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
  if (probe.status === 404) {
    console.warn('*** dataset-fashion-mnist is not installed: the server answers 404, as it should ***');
    return;
  }
  const d = await loadFashionMnist('test', get);
  expect(d.count).toBe(10_000);
  const perClass = new Array<number>(10).fill(0);
  for (const l of d.labels) perClass[l]!++;
  expect(perClass).toEqual(new Array(10).fill(1000));
  expect(FASHION_CLASSES[d.labels[0]!]).toBe('Ankle boot');
});
