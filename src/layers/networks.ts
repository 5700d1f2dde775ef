/**
 * The seed's small CNNs as tf.layers models on 32×32×3 channels-last images (tf.layers' and
 * tfjs's fast layout; our ACON layers take NHWC natively, so nothing is transposed):
 *
 *   conv1 3→32 k3 s1 'same' + ReLU · conv2 32→64 k3 s2 'valid' + ReLU ·
 *   conv3 64→64 k3 s2 'valid' + act · conv4 64→64 k3 s2 'same' + ReLU ·
 *   flatten (4·4·64 = 1024) · dense 64 + ReLU · dense numClasses (logits)
 *
 * act: ReLU fused into conv3 (dcn3), AconC (dcn2-acon) or MetaAconC with r = 16 (dcn2-meta).
 * Spatial sizes 32 → 32 → 15 → 7 → 4: 'same' with k3 s2 on 7×7 pads one row/column on each side,
 * exactly PyTorch's padding = 1. Initialised as PyTorch initialises the seed's modules:
 * weights and biases U(±1/√fan_in). Flatten walks H, W, C (NHWC), not PyTorch's C, H, W.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { OptionError } from '../gpu/errors';
import type { Impl } from './common';
import { layerClasses } from './layer';

const opt = (seed: number | undefined) => (seed === undefined ? {} : { seed });

export type NetKind = 'dcn3' | 'dcn2-acon' | 'dcn2-meta';
export const NET_KINDS: readonly NetKind[] = ['dcn3', 'dcn2-acon', 'dcn2-meta'];

export interface SeedModelOptions {
  /** How the ACON layer runs: 'auto' (our kernels on webgpu) or 'composed' (tfjs primitives). */
  impl?: Impl;
  /** Seeds every initialiser, so two models with one seed start equal; random init when absent. */
  seed?: number;
  /** Width of the last dense layer (default 1: one logit, as the seed's num_classes = 1). */
  numClasses?: number;
}

/** The seed's network `kind` as a tf.Sequential (not compiled). Input [N, 32, 32, 3], output [N, numClasses] logits. */
export function seedModel(kind: NetKind, options: SeedModelOptions = {}): tfl.Sequential {
  const { impl = 'auto', seed, numClasses = 1 } = options;
  if (!(NET_KINDS as readonly string[]).includes(kind))
    throw new OptionError(
      'seedModel: unknown network kind',
      NET_KINDS.map((k) => `'${k}'`).join(', '),
      JSON.stringify(kind),
    );
  let next = 0;
  // one seed per initialiser (ACON layers take a block of 8)
  const seedOf = (n = 1) => {
    const s = seed === undefined ? undefined : seed * 1000 + next;
    next += n;
    return s;
  };
  const init = (fanIn: number) => {
    const b = 1 / Math.sqrt(fanIn);
    return {
      kernelInitializer: tfl.initializers.randomUniform({ minval: -b, maxval: b, ...opt(seedOf()) }),
      biasInitializer: tfl.initializers.randomUniform({ minval: -b, maxval: b, ...opt(seedOf()) }),
    };
  };
  const conv = (
    name: string,
    cin: number,
    filters: number,
    strides: number,
    padding: 'same' | 'valid',
    activation: 'relu' | 'linear',
    inputShape?: number[],
  ) =>
    tfl.layers.conv2d({
      name,
      filters,
      kernelSize: 3,
      strides,
      padding,
      activation,
      dataFormat: 'channelsLast',
      ...(inputShape ? { inputShape } : {}),
      ...init(cin * 9),
    });
  const act =
    kind === 'dcn3'
      ? []
      : kind === 'dcn2-acon'
        ? [new layerClasses.AconC({ name: 'acon_c', impl, seed: seedOf(8) ?? null })]
        : [new layerClasses.MetaAconC({ name: 'meta_acon_c', r: 16, impl, seed: seedOf(8) ?? null })];
  return tfl.sequential({
    name: kind.replace(/-/g, '_'),
    layers: [
      conv('conv1', 3, 32, 1, 'same', 'relu', [32, 32, 3]),
      conv('conv2', 32, 64, 2, 'valid', 'relu'),
      conv('conv3', 64, 64, 2, 'valid', kind === 'dcn3' ? 'relu' : 'linear'),
      ...act,
      conv('conv4', 64, 64, 2, 'same', 'relu'),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ name: 'fc1', units: 64, activation: 'relu', ...init(1024) }),
      tfl.layers.dense({ name: 'fc2', units: numClasses, ...init(64) }),
    ],
  });
}

/** Trainable and non-trainable parameter counts (what model.summary() prints). */
export function paramCounts(model: tfl.LayersModel): { trainable: number; nonTrainable: number } {
  const count = (ws: tfl.LayerVariable[]) =>
    ws.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);
  return { trainable: count(model.trainableWeights), nonTrainable: count(model.nonTrainableWeights) };
}

/** model.summary() as text (tf.layers prints it through console.log by default). */
export function summaryText(model: tfl.LayersModel, lineLength = 80): string {
  const lines: string[] = [];
  model.summary(lineLength, undefined, (...m: unknown[]) => lines.push(m.join(' ')));
  return lines.join('\n');
}
