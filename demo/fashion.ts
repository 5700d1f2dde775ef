// Fashion-MNIST on the demo page: Debian's files as the dev server and `vite preview` serve them
// (scripts/datasets-plugin.mjs), loaded once per split, and the sample thumbnails with their classes.
import { FASHION_CLASSES, IMAGE_SIZE, loadFashionMnist, type FashionMnist } from '../tools/fashionMnist';
import type { FashionSplit } from '../tools/fashionMnist';
import { keepDrawn } from './charts';
import { figures } from './figures';

/** The package is not installed: the server answered 404. */
export class DatasetAbsent extends Error {}

/**
 * The files' address, relative to the page: it is demo/index.html both in the dev server (root = the
 * repository) and in the built demo (dist-demo/demo/index.html), and the plugin serves /datasets/ beside it.
 */
const datasetUrl = (file: string) => new URL(`../datasets/fashion-mnist/${file}`, location.href);

async function read(file: string): Promise<Uint8Array> {
  const r = await fetch(datasetUrl(file));
  if (r.status === 404) throw new DatasetAbsent(`${file}: not found`);
  if (!r.ok) throw new Error(`${file}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const loads = new Map<FashionSplit, Promise<FashionMnist>>();

/** A split (the test split: 10,000 images, 7.8 MB; the train split: 60,000, 47 MB), fetched and parsed once. */
export function fashionSplit(split: FashionSplit): Promise<FashionMnist> {
  if (!loads.has(split)) loads.set(split, loadFashionMnist(split, read));
  return loads.get(split)!;
}

/** Why the page cannot use Fashion-MNIST, in words: the package is missing, or its files are unreadable. */
export const unavailable = (e: unknown): string =>
  e instanceof DatasetAbsent
    ? 'Fashion-MNIST not found (Debian package dataset-fashion-mnist)'
    : `Fashion-MNIST could not be read (${e instanceof Error ? e.message : String(e)})`;

/** A 28 × 28 canvas showing image `index` of `data` (grey, white clothes on black), kept drawn: it repaints the image it shows then. */
export function fashionCanvas(data: FashionMnist, index: number): HTMLCanvasElement {
  const canvas = Object.assign(document.createElement('canvas'), { width: IMAGE_SIZE, height: IMAGE_SIZE });
  canvas.className = 'fashion';
  paintFashion(canvas, data, index);
  keepDrawn(canvas, () => paintFashion(canvas, data, Number(canvas.dataset.index)));
  return canvas;
}

/** Draws image `index` of `data` into `canvas` (28 × 28), and notes which in its data-index. */
export function paintFashion(canvas: HTMLCanvasElement, data: FashionMnist, index: number): void {
  const img = new ImageData(IMAGE_SIZE, IMAGE_SIZE);
  const src = data.images.subarray(index * IMAGE_SIZE * IMAGE_SIZE, (index + 1) * IMAGE_SIZE * IMAGE_SIZE);
  src.forEach((v, p) => img.data.set([v, v, v, 255], 4 * p));
  canvas.getContext('2d')!.putImageData(img, 0, 0);
  canvas.dataset.index = String(index);
}

/** The first `count` test images with their classes, drawn 1:1 into 28 × 28 canvases. */
export function fashionSamples(root: HTMLElement, test: FashionMnist, count = 16): void {
  const grid = Object.assign(document.createElement('div'), { className: 'samples' });
  for (let i = 0; i < count; i++) {
    const name = FASHION_CLASSES[test.labels[i]!]!;
    const figure = document.createElement('figure');
    const caption = Object.assign(document.createElement('figcaption'), { textContent: name });
    const canvas = fashionCanvas(test, i);
    canvas.title = name;
    figure.append(canvas, caption);
    grid.append(figure);
  }
  root.replaceChildren(grid);
  const indices = Array.from({ length: count }, (_, i) => i);
  figures.samples = { source: 'fashion-mnist', split: 'test', indices, labels: indices.map((i) => test.labels[i]!) };
}
