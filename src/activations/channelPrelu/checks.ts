// Per-channel PReLU's reference side: the float64 reference and bounds bound to the declaration, and
// the validation report's cases (the generic check). Tests, tools and the report only.
import { normal, rng } from '../../ops/random';
import { reference, type ReportCase } from '../../reference/types';
import { backwardBounds, forwardBounds } from './bounds';
import { channelPrelu } from './declaration';
import { preluBackwardRef, preluForwardRef } from './reference';

/** Odd and large shapes in both data formats. */
const CASES: readonly ReportCase[] = [
  { shape: [1, 1, 1, 1], dataFormat: 'NCHW' },
  { shape: [3, 17, 7, 7], dataFormat: 'NCHW' },
  { shape: [3, 17, 7, 7], dataFormat: 'NHWC' },
  { shape: [8, 64, 56, 56], dataFormat: 'NHWC' },
];

export const channelPreluReference = reference({
  activation: channelPrelu,
  forward: (x, shape, p, o) => ({ y: preluForwardRef(x, shape, p, o.dataFormat) }),
  backward: (x, dy, shape, p, o) => preluBackwardRef(x, dy, shape, p, o.dataFormat),
  bounds: {
    forward: (x, shape, p, o) => forwardBounds(x, shape, p, o.dataFormat),
    backward: (x, dy, shape, p, depth, o) => backwardBounds(x, dy, shape, p, depth, o.dataFormat),
  },
  report: {
    cases: CASES,
    /** x ~ N(0, 4), dy ~ N(0, 1), weight ~ N(0, 0.25). */
    data: ({ shape, dataFormat }, k) => {
      const count = shape.reduce((a, b) => a * b, 1);
      return {
        x: normal(rng(60 + k), count, 2),
        dy: normal(rng(70 + k), count, 1),
        params: { weight: normal(rng(80 + k), shape[1], 0.5) },
        options: { dataFormat },
      };
    },
  },
});
