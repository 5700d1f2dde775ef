// Writes tests/fixtures/fashion-mnist/ (committed, ≤ 1 MB): the first 1,000 images and labels of
// Fashion-MNIST's test split, as gzipped IDX files like Debian's, from Debian's dataset-fashion-mnist
// (/usr/share/datasets/fashion-mnist). Byte for byte reproducible: node scripts/make-fashion-subset.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

const SOURCE = '/usr/share/datasets/fashion-mnist';
const OUT = new URL('../tests/fixtures/fashion-mnist/', import.meta.url);
const COUNT = 1000;

/** The first `count` items of a gunzipped IDX file: its header with the first dimension set to count. */
function firstItems(idx, count) {
  const rank = idx[3];
  const header = 4 + 4 * rank;
  const view = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  let item = 1;
  for (let i = 1; i < rank; i++) item *= view.getUint32(4 + 4 * i, false);
  const out = new Uint8Array(header + count * item);
  out.set(idx.subarray(0, header + count * item));
  new DataView(out.buffer).setUint32(4, count, false);
  return out;
}

mkdirSync(OUT, { recursive: true });
for (const [name, file] of [
  ['images', 't10k-images-idx3-ubyte.gz'],
  ['labels', 't10k-labels-idx1-ubyte.gz'],
]) {
  const subset = gzipSync(firstItems(gunzipSync(readFileSync(`${SOURCE}/${file}`)), COUNT), { level: 9 });
  const out = new URL(`test-${COUNT}-${name}-${name === 'images' ? 'idx3' : 'idx1'}-ubyte.gz`, OUT);
  writeFileSync(out, subset);
  console.log(`${out.pathname}: ${subset.length} bytes`);
}
