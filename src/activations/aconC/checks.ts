// ACON-C's reference side: the float64 reference (./reference.ts) and float32 bounds (./bounds.ts)
// bound to the declaration, and the validation report's cases, which get the generic check (host
// forward and backward against the reference within the bounds). Tests, tools and the report only.
import type { DataFormat, Shape4 } from '../../core/types';
import { normal, rng } from '../../ops/random';
import { reference } from '../../reference/types';
import { aconC } from './declaration';
import { backwardBounds, forwardBounds } from './bounds';
import { aconCBackwardRef, aconCForwardRef } from './reference';

/** `perSample`: β per sample and channel (N·C values). */
export interface AconCCase {
  shape: Shape4;
  dataFormat: DataFormat;
  perSample?: boolean;
}

/** Odd and large shapes in both data formats, a per-sample β, and one plane past 2²⁰ elements. */
export const ACON_C_CASES: readonly AconCCase[] = [
  { shape: [1, 1, 1, 1], dataFormat: 'NCHW' },
  { shape: [2, 3, 7, 1], dataFormat: 'NCHW' },
  { shape: [3, 17, 7, 7], dataFormat: 'NCHW' },
  { shape: [3, 17, 7, 7], dataFormat: 'NHWC' },
  { shape: [8, 64, 56, 56], dataFormat: 'NCHW' },
  { shape: [8, 64, 56, 56], dataFormat: 'NHWC' },
  { shape: [32, 64, 16, 16], dataFormat: 'NCHW' },
  { shape: [32, 64, 16, 16], dataFormat: 'NHWC' },
  { shape: [4, 64, 7, 7], dataFormat: 'NCHW', perSample: true },
  { shape: [4, 64, 7, 7], dataFormat: 'NHWC', perSample: true },
  { shape: [1, 3, 1201, 1201], dataFormat: 'NHWC' },
];

/** Seeded N(0, scale²) data. */
const seeded = (n: number, seed: number, scale: number) => normal(rng(seed), n, scale);

export const aconCReference = reference({
  activation: aconC,
  forward: (x, shape, p, o) => ({ y: aconCForwardRef(x, shape, p, o.dataFormat) }),
  backward: (x, dy, shape, p, o) => aconCBackwardRef(x, dy, shape, p, o.dataFormat),
  bounds: {
    forward: (x, shape, p, o) => forwardBounds(x, shape, p, o.dataFormat),
    backward: (x, dy, shape, p, depth, o) => backwardBounds(x, dy, shape, p, depth, o.dataFormat),
  },
  report: {
    cases: ACON_C_CASES,
    /** x ~ N(0, 4), dy ~ N(0, 1), p1, p2 ~ N(0, 1) (p1 < p2 in about half the channels), β ~ N(0, 2.25). */
    data: ({ shape, dataFormat, perSample = false }, k) => {
      const [N, C, H, W] = shape;
      const count = N * C * H * W;
      return {
        x: seeded(count, 10 + k, 2),
        dy: seeded(count, 20 + k, 1),
        params: {
          p1: seeded(C, 30 + k, 1),
          p2: seeded(C, 40 + k, 1),
          beta: seeded(perSample ? N * C : C, 50 + k, 1.5),
        },
        options: { dataFormat },
      };
    },
  },
});
