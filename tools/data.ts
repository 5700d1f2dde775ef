/**
 * A deterministic synthetic 32×32×3 dataset where both shape and colour matter: each image holds
 * one shape (a disc or a square) in one colour (red or blue) on a noisy grey background, at a
 * random place and size. Label 1: a red disc; label 0: a blue disc, a red square or a blue
 * square. Classes are balanced. Images are NHWC float32 in [0, 1].
 */
import { rng } from '../src/ops/random';

export interface Dataset {
  images: Float32Array;
  labels: Float32Array;
  count: number;
  /** For display: 0 red disc, 1 blue disc, 2 red square, 3 blue square. */
  kinds: Uint8Array;
}

export const IMAGE_SIZE = 32;

export function makeDataset(count: number, seed: number): Dataset {
  const r = rng(seed);
  const S = IMAGE_SIZE;
  const images = new Float32Array(count * S * S * 3);
  const labels = new Float32Array(count);
  const kinds = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    // half positives (red discs), the other half spread over the three negative kinds
    const kind = k % 2 === 0 ? 0 : 1 + Math.floor(r() * 3);
    kinds[k] = kind;
    labels[k] = kind === 0 ? 1 : 0;
    const disc = kind < 2;
    const red = kind === 0 || kind === 2;
    const size = 4 + r() * 5;
    const cx = 8 + r() * 16;
    const cy = 8 + r() * 16;
    const bg = 0.25 + r() * 0.25;
    const shade = 0.7 + r() * 0.3;
    const colour = red ? [shade, 0.15, 0.15] : [0.15, 0.2, shade];
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const inside = disc
          ? (x - cx) ** 2 + (y - cy) ** 2 <= size * size
          : Math.abs(x - cx) <= size * 0.85 && Math.abs(y - cy) <= size * 0.85;
        const base = ((k * S + y) * S + x) * 3;
        for (let ch = 0; ch < 3; ch++) {
          const noise = (r() - 0.5) * 0.1;
          images[base + ch] = Math.min(1, Math.max(0, (inside ? colour[ch]! : bg) + noise));
        }
      }
  }
  return { images, labels, count, kinds };
}
