// Meta-ACON-C's parameters: ACON-C's p1, p2, and the β generator declared once as a list of stages
// (src/activations/generator.ts), whose parameters, GPU encoding and debug read-back derive from it.
// The float64 reference (./reference.ts) keeps structurally identical types of its own,
// and tests/node/constants.test.ts checks that they agree.
import { aconCParams } from '../aconC/params';
import { batchNorm, conv1x1, generator, spatialMean } from '../generator';
import type { GradTree, Leaves } from '../types';

/** The β generator's hidden width R = max(r, ⌊C/r⌋) (PyTorch's MetaAconC: r = 16). */
export const metaHiddenWidth = (channels: number, r = 16) => Math.max(r, Math.floor(channels / r));

/** β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))): 1×1 convolutions C → R → C, per sample [N, C]. */
export const betaGenerator = generator([
  spatialMean({ from: 'x', to: 'm' }),
  conv1x1('fc1', { from: 'm', to: 'h1', in: 'C', out: 'R' }),
  batchNorm('bn1', { from: 'h1', to: 'a1', saved: 'saved1', features: 'R' }),
  conv1x1('fc2', { from: 'a1', to: 'h2', in: 'R', out: 'C' }),
  batchNorm('bn2', { from: 'h2', to: 'beta', saved: 'saved2', features: 'C', sigmoid: true }),
]);

/** p1, p2 [C]; fc1 {weight [R, C], bias [R]}; bn1 [R]; fc2 {weight [C, R], bias [C]}; bn2 [C]. */
export const metaAconCParams = { p1: aconCParams.p1, p2: aconCParams.p2, ...betaGenerator.params };

/** Meta-ACON-C parameters as host arrays or GPU buffers. */
export type MetaParamSet<T> = Leaves<typeof metaAconCParams, T>;
/** Gradients of the loss: dx [N, C, H, W] and one per trainable parameter, shaped as it. */
export type MetaGradSet<T> = GradTree<typeof metaAconCParams, T>;
