// Fashion-MNIST (Zalando; Debian's dataset-fashion-mnist: the four IDX files, gzipped) for Node and the
// browser: gunzip with a byte cap, IDX parsing with every header field checked against the bytes
// there are, and the pairing of images with labels. Bad files throw DatasetError and load nothing:
// sizes come from the bytes, never from what a header claims, and nothing is allocated before the
// header agrees with them.
import { DatasetError } from '../src/gpu/errors';

/** Where Debian's package puts the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz', count: 60_000 },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz', count: 10_000 },
} as const;
export type FashionSplit = keyof typeof FASHION_MNIST_FILES;

/** The ten classes, by label. */
export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export const IMAGE_SIZE = 28;
/** The largest file gunzip returns: the train images are 47,040,016 bytes. */
export const MAX_IDX_BYTES = 64 << 20;

/** An IDX file's contents: unsigned bytes and their dimensions. */
export interface Idx {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes (magic 0x0000 08 0D, D dimensions, each a big-endian u32, then
 * the data) of `rank` dimensions: the data must be exactly the product of the dimensions, not a byte
 * more or less (a view into `bytes`, nothing copied).
 */
export function parseIdx(bytes: Uint8Array, rank: number, what: string): Idx {
  const header = 4 + 4 * rank;
  const truncated = () =>
    new DatasetError(`${what}: truncated IDX header`, `at least ${header} bytes`, `${bytes.length}`);
  if (bytes.length < 4) throw truncated();
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || bytes[3] !== rank) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DatasetError(
      `${what}: not an IDX file of unsigned bytes with ${rank} dimension(s)`,
      `magic 00 00 08 0${rank}`,
      magic,
    );
  }
  if (bytes.length < header) throw truncated();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const available = bytes.length - header;
  // the product, stopped as soon as it passes the bytes there are (so it never leaves exact integers)
  let size = 1;
  for (const d of dims) {
    size *= d;
    if (size > available) break;
  }
  if (size !== available)
    throw new DatasetError(
      `${what}: ${size > available ? 'truncated' : 'trailing bytes after the data'} (dimensions ${dims.join(' × ')})`,
      `${dims.join(' × ')} = ${size > available ? `more than ${available}` : size} data bytes`,
      `${available}`,
    );
  return { dims, data: bytes.subarray(header) };
}

/** Gunzips `gz` (DecompressionStream, in Node and browsers alike), refusing output past `maxBytes`. */
export async function gunzip(gz: Uint8Array, what: string, maxBytes = MAX_IDX_BYTES): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const stream = new Blob([gz as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes)
        throw new DatasetError(`${what}: decompresses past ${maxBytes} bytes`, `at most ${maxBytes} bytes`, `more`);
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw new DatasetError(
      `${what}: not a gzip file, or a corrupt one (${String((e as Error).message ?? e).slice(0, 80)})`,
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** One split: `count` images of 28 × 28 grey bytes (row-major, 0 = background) and their labels 0–9. */
export interface FashionMnist {
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

/** Pairs the (gunzipped) images and labels files of one split, checking each against the other. */
export function fashionMnist(images: Uint8Array, labels: Uint8Array, what = 'Fashion-MNIST'): FashionMnist {
  const im = parseIdx(images, 3, `${what} images`);
  const lb = parseIdx(labels, 1, `${what} labels`);
  const [n, h, w] = im.dims as [number, number, number];
  if (h !== IMAGE_SIZE || w !== IMAGE_SIZE)
    throw new DatasetError(`${what} images: not 28 × 28`, `${IMAGE_SIZE} × ${IMAGE_SIZE}`, `${h} × ${w}`);
  if (lb.dims[0] !== n)
    throw new DatasetError(`${what}: the labels do not match the images`, `${n} labels`, `${lb.dims[0]}`);
  const bad = lb.data.findIndex((l) => l >= FASHION_CLASSES.length);
  if (bad >= 0)
    throw new DatasetError(
      `${what} labels: label ${bad} is no class`,
      `0 to ${FASHION_CLASSES.length - 1}`,
      `${lb.data[bad]}`,
    );
  return { count: n, images: im.data, labels: lb.data };
}

/** A split from its two gzipped files, fetched by name (a file read, a fetch: the caller's). */
export async function loadFashionMnist(
  split: FashionSplit,
  read: (file: string) => Promise<Uint8Array>,
): Promise<FashionMnist> {
  const files = FASHION_MNIST_FILES[split];
  const [images, labels] = await Promise.all(
    [files.images, files.labels].map(async (f) => gunzip(await read(f), `${split} ${f}`)),
  );
  return fashionMnist(images!, labels!, `Fashion-MNIST ${split}`);
}
