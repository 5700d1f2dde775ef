/**
 * The PyTorch state dict of an architecture, computed from its widths alone: name → shape of every
 * tensor (without num_batches_tracked), as the official modules name them. Pure arithmetic, no tfjs:
 * the checkpoint loader compares a file's tensors with this before it builds anything, so a file's
 * metadata can never make it allocate more than the file's own tensors. Each builder has its function
 * (the seed nets' here, ShuffleNetV2's next to its builder); tests/node/torch-shapes.test.ts checks
 * that each equals what the built tf.layers model expects.
 */
import { metaHiddenWidth } from '../activations/metaAconC/params';
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

/** AconC(c) when r is null, else MetaAconC(c, r): p1, p2 (, beta) [1, C, 1, 1]; the β generator C → R → C. */
export function acon(m: TorchShapes, name: string, c: number, r: number | null): void {
  m.set(`${name}.p1`, [1, c, 1, 1]);
  m.set(`${name}.p2`, [1, c, 1, 1]);
  if (r === null) {
    m.set(`${name}.beta`, [1, c, 1, 1]);
    return;
  }
  const hidden = metaHiddenWidth(c, r);
  conv(m, `${name}.fc1`, c, hidden, 1);
  batchNorm(m, `${name}.bn1`, hidden);
  conv(m, `${name}.fc2`, hidden, c, 1);
  batchNorm(m, `${name}.bn2`, c);
}

/** The seed networks (src/layers/networks.ts seedModel): fixed widths, `numClasses` outputs, Meta-ACON r 16. */
export function seedNetTorchShapes(kind: NetKind, numClasses: number): TorchShapes {
  const m: TorchShapes = new Map();
  conv(m, 'conv1', 3, 32, 3);
  conv(m, 'conv2', 32, 64, 3);
  conv(m, 'conv3', 64, 64, 3);
  if (kind !== 'dcn3') acon(m, 'act', 64, kind === 'dcn2-meta' ? 16 : null);
  conv(m, 'conv4', 64, 64, 3);
  linear(m, 'fc1', 4 * 4 * 64, 64);
  linear(m, 'fc2', 64, numClasses);
  return m;
}
