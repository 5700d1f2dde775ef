/**
 * Every network this project builds, by the name the bench and `npm run models` use, with its
 * builder: the paper's ShuffleNetV2 at its four widths with ACON-C and Meta-ACON-C (1000 classes,
 * r as the official code sets it), its ResNet-50/101/152 with each (and ResNet-50 with ReLU), its
 * TFNet (ACON-FReLU) at four widths, and the seed's three small CNNs.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { NET_KINDS, seedModel } from '../layers/networks';
import type { Impl } from '../layers/common';
import { RESNET_DEPTHS, resNet } from './resnet';
import { MODEL_SIZES, shuffleNetV2 } from './shufflenet';
import { TFNET_SIZES, tfNet } from './tfnet';

export interface CatalogEntry {
  /** e.g. 'shufflenetv2-0.5x-meta', 'dcn2-acon'. */
  name: string;
  /** Logical input shape [N, C, H, W] at batch 1. */
  input: [number, number, number, number];
  build: (impl?: Impl) => tfl.LayersModel;
}

export function catalog(): CatalogEntry[] {
  const shuffle = MODEL_SIZES.flatMap((modelSize) =>
    (['acon', 'meta'] as const).map<CatalogEntry>((activation) => ({
      name: `shufflenetv2-${modelSize}-${activation}`,
      input: [1, 3, 224, 224],
      build: (impl) => shuffleNetV2({ activation, modelSize, ...(impl ? { impl } : {}) }),
    })),
  );
  const seeds = NET_KINDS.map<CatalogEntry>((kind) => ({
    name: kind,
    input: [1, 3, 32, 32],
    build: (impl) => seedModel(kind, impl ? { impl } : {}),
  }));
  // ResNet-50/101/152 with ACON-C and Meta-ACON-C, and ResNet-50 with ReLU in ACON-C's place (the bench's baseline)
  const resnets = [
    ...(['acon', 'meta'] as const).flatMap((activation) => RESNET_DEPTHS.map((depth) => ({ depth, activation }))),
    { depth: 50, activation: 'relu' } as const,
  ].map<CatalogEntry>((o) => ({
    name: `resnet${o.depth}-${o.activation}`,
    input: [1, 3, 224, 224],
    build: (impl) => resNet({ ...o, ...(impl ? { impl } : {}) }),
  }));
  const tfnets = TFNET_SIZES.map<CatalogEntry>((modelSize) => ({
    name: `tfnet-${modelSize.toFixed(1)}`,
    input: [1, 3, 224, 224],
    build: (impl) => tfNet({ modelSize, ...(impl ? { impl } : {}) }),
  }));
  return [...shuffle, ...resnets, ...tfnets, ...seeds];
}
