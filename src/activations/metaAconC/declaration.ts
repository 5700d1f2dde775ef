// Meta-ACON-C, declared: ACON-C whose β is generated per sample and channel from the input by the β
// generator (./params.ts: mean → fc1 → bn1 → fc2 → bn2 → σ). Batch norm as PyTorch's: batch
// statistics in training mode (N ≥ 2), the running ones in eval mode. Everything else derives from
// this object; the kernels are ./kernels.ts.
import { OptionError } from '../../gpu/errors';
import {
  activation,
  options,
  type BackwardBuffersOf,
  type BackwardResultOf,
  type BuffersOptionsOf,
  type ForwardBuffersOf,
  type ForwardResultOf,
  type GradsOf,
  type HostOptionsOf,
  type Intermediates,
  type ParamsOf,
} from '../types';
import { metaAconCComposed, metaBetaComposed } from './composed';
import { metaAconCKernels } from './kernels';
import { metaAconCParams, metaHiddenWidth } from './params';

const positive = (name: string, v: unknown) => {
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new OptionError(`Meta-ACON-C: ${name} is not a positive integer`, 'a positive integer', JSON.stringify(v));
  return v as number;
};

export const metaAconC = activation({
  name: 'metaAconC',
  title: 'Meta-ACON-C',
  params: metaAconCParams,
  dims: {
    // the GPU-resident forms cannot read R off array lengths: `hidden` gives it, or `r` (default 16)
    R: {
      name: 'hidden',
      of: (c: number, o: { r?: number; hidden?: number }) =>
        o.hidden !== undefined ? positive('hidden', o.hidden) : metaHiddenWidth(c, positive('r', o.r ?? 16)),
      readFrom: 'fc1.bias',
    },
  },
  options: options<
    /** Training mode: batch statistics (N ≥ 2) and running-statistics update; else eval mode. `debug`: see MetaAconCOptions. */
    { training: boolean; debug?: boolean },
    { training: boolean; r?: number; hidden?: number }
  >((o) => {
    if (typeof o.training !== 'boolean')
      throw new OptionError(
        'Meta-ACON-C: options.training is required (batch statistics or running statistics)',
        'true or false',
        String(o.training),
      );
  }),
  batchStatistics:
    'Meta-ACON in training mode normalises β over the batch, and batch statistics over one sample are undefined; use eval mode (training: false) for a single sample',
  outputs: { beta: ['N', 'C'] },
  kernels: metaAconCKernels,
  composed: { y: metaAconCComposed, beta: metaBetaComposed },
  layer: {
    className: 'MetaAconC',
    args: [{ name: 'r', default: 16, description: 'the reduction of the hidden width' }],
  },
  bench: {
    bytes: { forward: [12, 0], backward: [24, 0] },
    options: { training: true },
    minBatch: 2,
    tfjs: ['forward'],
  },
});

/**
 * Meta-ACON-C's parameters, PyTorch's state-dict names: p1, p2 [C]; fc1 {weight [R, C], bias [R]};
 * bn1 {weight, bias, runningMean, runningVar} [R]; fc2 {weight [C, R], bias [C]}; bn2 [C] likewise.
 */
export type MetaAconCParams<T = Float32Array> = ParamsOf<typeof metaAconC, T>;
/** Meta-ACON-C's gradients: dx for the input, the rest keyed as the parameters (batch norms: weight and bias). */
export type MetaAconCGrads<T = Float32Array> = GradsOf<typeof metaAconC, T> & { intermediates?: Intermediates };
/**
 * `training` (required): batch statistics (N ≥ 2) and running-statistics update, else eval mode;
 * `dataFormat`: 'NCHW' (default) or 'NHWC'; `debug`: also return every intermediate of the β
 * generator (and of its backward) by name, for checking each kernel on its actual inputs (costs
 * read-back; off by default).
 */
export type MetaAconCOptions = HostOptionsOf<typeof metaAconC>;
/** Options of the GPU-resident calls, which cannot read R off array lengths: `r` (default 16) or `hidden` (R itself). */
export type MetaAconCBuffersOptions = BuffersOptionsOf<typeof metaAconC>;
/** y [N, C, H, W] in the input's layout; β [N·C]; the running statistics after the call (moved in training mode). */
export type MetaAconCForwardResult = ForwardResultOf<typeof metaAconC>;
/** The host backward's result: the gradients and, in debug, the intermediates. */
export type MetaAconCBackwardResult = BackwardResultOf<typeof metaAconC>;
/** GPU-resident forward: x and the parameters in, y out; training mode updates the running-statistics buffers in place. */
export type MetaAconCForwardBuffers = ForwardBuffersOf<typeof metaAconC>;
/** GPU-resident backward: x, dy and the parameters in, every gradient out. */
export type MetaAconCBackwardBuffers = BackwardBuffersOf<typeof metaAconC>;
/** Intermediates by name (m, h1, a1, saved1, h2, saved2, beta; backward adds gbeta, gh2, ga1, gh1, gm, dxDirect). */
export type MetaIntermediates = Intermediates;
