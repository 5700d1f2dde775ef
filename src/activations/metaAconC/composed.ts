// Meta-ACON-C from tfjs primitives: the β generator's composed form (each stage's, declared with the
// stage in src/activations/generator.ts), then ACON-C's with that β. Only tfjs's types are imported.
import { aconCComposed } from '../aconC/composed';
import type { Composed } from '../types';
import { betaGenerator, type metaAconCParams } from './params';

type P = typeof metaAconCParams;

/** β [N, C] = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))). */
export const metaBetaComposed: Composed<P> = (tf, x, p, o) => betaGenerator.composed(tf, x, p, o);

/** y: ACON-C with the generated β. */
export const metaAconCComposed: Composed<P> = (tf, x, p, o) =>
  aconCComposed(tf, x, { p1: p.p1, p2: p.p2, beta: betaGenerator.composed(tf, x, p, o) }, o);
