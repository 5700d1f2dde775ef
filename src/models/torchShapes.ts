/**
 * The PyTorch state dict of an architecture, computed from its widths alone: name → shape of every
 * tensor (without num_batches_tracked), as the official modules name them. Pure arithmetic, no tfjs:
 * the checkpoint loader compares a file's tensors with this before it builds anything, so a file's
 * metadata can never make it allocate more than the file's own tensors. Each builder has its function
 * (the seed nets' here, ShuffleNetV2's next to its builder); tests/node/torch-shapes.test.ts checks
 * that each equals what the built tf.layers model expects.
 */
import { aconC } from '../activations/aconC/declaration';
import { metaAconC } from '../activations/metaAconC/declaration';
import { dimsOf, paramLeaves, resolveShape } from '../activations/params';
import type { AnyActivation } from '../activations/types';
import type { NetKind } from '../layers/networks';

/** PyTorch tensor name → shape. */
export type TorchShapes = Map<string, number[]>;

/** nn.Conv2d(cin, cout, k) with bias; depthwise: groups = cin = cout. */
export function conv(m: TorchShapes, name: string, cin: number, cout: number, k: number, depthwise = false): void {
  m.set(`${name}.weight`, [cout, depthwise ? 1 : cin, k, k]);
  m.set(`${name}.bias`, [cout]);
}

/** nn.Linear(cin, cout). */
export function linear(m: TorchShapes, name: string, cin: number, cout: number): void {
  m.set(`${name}.weight`, [cout, cin]);
  m.set(`${name}.bias`, [cout]);
}

/** nn.BatchNorm2d(c) (and BatchNorm1d): affine parameters and running statistics. */
export function batchNorm(m: TorchShapes, name: string, c: number): void {
  for (const p of ['weight', 'bias', 'running_mean', 'running_var']) m.set(`${name}.${p}`, [c]);
}

/**
 * An activation module of c channels as its declaration gives it: every parameter under its PyTorch
 * name with its PyTorch shape, the derived dims from `options` (MetaAconC's r).
 */
export function activationTorchShapes(m: TorchShapes, name: string, act: AnyActivation, c: number, options = {}): void {
  const dims = dimsOf(act, c, options);
  for (const leaf of paramLeaves(act.params))
    m.set(`${name}.${leaf.name}`, resolveShape(leaf.decl.torchShape ?? leaf.decl.shape, dims));
}

/** The seed networks (src/layers/networks.ts seedModel): fixed widths, `numClasses` outputs, Meta-ACON r 16. */
export function seedNetTorchShapes(kind: NetKind, numClasses: number): TorchShapes {
  const m: TorchShapes = new Map();
  conv(m, 'conv1', 3, 32, 3);
  conv(m, 'conv2', 32, 64, 3);
  conv(m, 'conv3', 64, 64, 3);
  if (kind !== 'dcn3') activationTorchShapes(m, 'act', kind === 'dcn2-meta' ? metaAconC : aconC, 64, { r: 16 });
  conv(m, 'conv4', 64, 64, 3);
  linear(m, 'fc1', 4 * 4 * 64, 64);
  linear(m, 'fc2', 64, numClasses);
  return m;
}
