// ACON-FReLU's reference side: the float64 reference (./reference.ts) and the float32 bounds
// (./bounds.ts) bound to the declaration, and the validation report's cases (the generic check: host
// forward and backward against the reference within the bounds), in both modes and both strides.
// Tests, tools and the report only.
import type { DataFormat, Shape4 } from '../../core/types';
import { normal, rng, uniform } from '../../ops/random';
import { reference } from '../../reference/types';
import { aconFReLU } from './declaration';
import { backwardBounds, evalForwardBounds, trainForwardBounds } from './bounds';
import { freluReducePlan } from './kernels';
import { aconFReluBackwardRef, aconFReluForwardRef } from './reference';

export interface AconFReluCase {
  shape: Shape4;
  dataFormat: DataFormat;
  stride: 1 | 2;
  training: boolean;
}

/** Odd shapes (C = 1, 3, 17; planes of one element, ragged rows), both strides, modes and layouts. */
export const ACON_FRELU_CASES: readonly AconFReluCase[] = [
  { shape: [2, 1, 1, 1], dataFormat: 'NCHW', stride: 1, training: true },
  { shape: [2, 3, 7, 9], dataFormat: 'NCHW', stride: 1, training: true },
  { shape: [2, 3, 7, 9], dataFormat: 'NHWC', stride: 2, training: true },
  { shape: [1, 17, 5, 6], dataFormat: 'NHWC', stride: 2, training: false },
  { shape: [3, 8, 12, 12], dataFormat: 'NCHW', stride: 2, training: false },
  { shape: [4, 16, 28, 28], dataFormat: 'NHWC', stride: 1, training: true },
  { shape: [4, 16, 28, 28], dataFormat: 'NCHW', stride: 2, training: true },
];

/** Seeded N(0, scale²) data. */
const seeded = (n: number, seed: number, scale: number) => normal(rng(seed), n, scale);
const geometry = (shape: Shape4, dataFormat: DataFormat) => {
  const [n, c, h, w] = shape;
  return { n, c, h, w, dataFormat };
};

export const aconFReluReference = reference({
  activation: aconFReLU,
  forward: (x, shape, p, o) => ({ y: aconFReluForwardRef(x, shape, p, { ...o, stride: o.stride ?? 1 }).y }),
  backward: (x, dy, shape, p, o) => {
    const g = aconFReluBackwardRef(x, dy, shape, p, { ...o, stride: o.stride ?? 1 });
    return { dx: g.dx, convFrelu: g.convFrelu, bn1: g.bn1, bn2: g.bn2 };
  },
  bounds: {
    forward: (x, shape, p, o) => {
      const stride = o.stride ?? 1;
      if (!o.training) return evalForwardBounds(x, shape, p, stride, o.dataFormat);
      const depth = freluReducePlan(geometry(shape, o.dataFormat), stride).depth;
      return trainForwardBounds(x, shape, p, stride, o.dataFormat, depth).y;
    },
    backward: (x, dy, shape, p, depth, o) => {
      const g = backwardBounds(x, dy, shape, p, o.stride ?? 1, o.dataFormat, o.training, depth);
      return { dx: g.dx, convFrelu: g.convFrelu, bn1: g.bn1, bn2: g.bn2 };
    },
  },
  report: {
    cases: ACON_FRELU_CASES,
    /**
     * x ~ N(0, 4) (ties in the pool on a grid of 1/4 at stride 2), dy ~ N(0, 1); the conv ~ N(0, 0.25),
     * its bias ~ N(0, 0.09); γ ~ N(0, 1) (negative ones included), β ~ N(0, 1); running statistics
     * N(0, 1) and U(0.05, 3).
     */
    data: ({ shape, dataFormat, stride, training }, k) => {
      const [N, C, H, W] = shape;
      const [Ho, Wo] = [Math.floor((H - 1) / stride) + 1, Math.floor((W - 1) / stride) + 1];
      const x = seeded(N * C * H * W, 110 + k, 2);
      const r = rng(130 + k);
      const bn = () => ({
        weight: normal(r, C),
        bias: normal(r, C),
        runningMean: normal(r, C),
        runningVar: uniform(r, C, 0.05, 3),
      });
      return {
        x: stride === 2 ? x.map((v) => Math.round(v * 4) / 4) : x,
        dy: seeded(N * C * Ho * Wo, 120 + k, 1),
        params: {
          convFrelu: { weight: normal(r, 9 * C, 0.5), bias: normal(r, C, 0.3) },
          bn1: bn(),
          bn2: bn(),
        },
        options: { dataFormat, stride, training },
      };
    },
  },
});
