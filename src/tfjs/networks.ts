/**
 * The seed's small CNNs on 32×32×3 inputs, built from tfjs-core ops (NHWC, since tfjs's conv2d is
 * channels-last; our ACON kernels take NHWC natively, so no transposes):
 *   conv1 3→32 k3 s1 p1, ReLU · conv2 32→64 k3 s2 p0, ReLU · conv3 64→64 k3 s2 p0, act ·
 *   conv4 64→64 k3 s2 p1, ReLU · flatten (1024) · Linear(1024, 64), ReLU · Linear(64, classes)
 * dcn3: act = ReLU (158,913 parameters for one class); dcn2-acon: act = AconC(64) (159,105);
 * dcn2-meta: act = MetaAconC(64) (r = 16, hidden 16). Init as PyTorch: U(±1/√fan_in).
 */
import * as tf from '@tensorflow/tfjs-core';
import { rng, uniform } from '../ops/random';
import { AconCLayer, MetaAconCLayer } from './layers';
import type { Impl } from './ops';

export type NetKind = 'dcn3' | 'dcn2-acon' | 'dcn2-meta';

interface Conv {
  name: string;
  w: tf.Variable;
  b: tf.Variable;
  stride: number;
  pad: number;
}

export interface SummaryRow {
  layer: string;
  outputShape: number[];
  params: number;
}

let networkId = 0;

export class Network {
  private readonly convs: Conv[];
  private readonly fc: { w: tf.Variable; b: tf.Variable }[];
  readonly act: AconCLayer | MetaAconCLayer | null;

  /**
   * @param impl 'auto' runs ACON on our kernels where the backend is webgpu; 'composed' writes it in
   *             tfjs primitives (the baseline the tests and benchmarks compare with).
   */
  constructor(
    readonly kind: NetKind,
    readonly numClasses = 1,
    seed = 0,
    readonly impl: Impl = 'auto',
  ) {
    const r = rng(seed);
    const id = `${kind}_${networkId++}`;
    const v = (shape: number[], fanIn: number, name: string) => {
      const b = 1 / Math.sqrt(fanIn);
      const values = uniform(r, shape.reduce((a, d) => a * d, 1), -b, b);
      return tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `${id}/${name}`));
    };
    const conv = (name: string, cin: number, cout: number, stride: number, pad: number): Conv => ({
      name, stride, pad, w: v([3, 3, cin, cout], cin * 9, `${name}.weight`), b: v([cout], cin * 9, `${name}.bias`),
    });
    this.convs = [conv('conv1', 3, 32, 1, 1), conv('conv2', 32, 64, 2, 0), conv('conv3', 64, 64, 2, 0), conv('conv4', 64, 64, 2, 1)];
    this.fc = [
      { w: v([1024, 64], 1024, 'fc1.weight'), b: v([64], 1024, 'fc1.bias') },
      { w: v([64, numClasses], 64, 'fc2.weight'), b: v([numClasses], 64, 'fc2.bias') },
    ];
    this.act = kind === 'dcn3' ? null : kind === 'dcn2-acon' ? new AconCLayer(64, seed + 1) : new MetaAconCLayer(64, 16, seed + 1);
  }

  /** Logits [N, classes] for images [N, 32, 32, 3]. */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor4D = x;
      this.convs.forEach((c, i) => {
        h = tf.add(tf.conv2d(h, c.w as tf.Tensor4D, c.stride, c.pad === 0 ? 'valid' : c.pad), c.b) as tf.Tensor4D;
        if (i === 2 && this.act instanceof AconCLayer) h = this.act.apply(h, 'NHWC', this.impl) as tf.Tensor4D;
        else if (i === 2 && this.act instanceof MetaAconCLayer) h = this.act.apply(h, { training, dataFormat: 'NHWC', impl: this.impl }) as tf.Tensor4D;
        else h = tf.relu(h);
      });
      const flat = tf.reshape(h, [h.shape[0], -1]);
      const f1 = tf.relu(tf.add(tf.matMul(flat, this.fc[0]!.w), this.fc[0]!.b));
      return tf.add(tf.matMul(f1, this.fc[1]!.w), this.fc[1]!.b) as tf.Tensor2D;
    });
  }

  /** conv1 → ReLU → conv2 → ReLU → conv3: the input of the activation under study, [N, 7, 7, 64] (NHWC). */
  featuresBeforeAct(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h: tf.Tensor4D = x;
      this.convs.slice(0, 3).forEach((c, i) => {
        h = tf.add(tf.conv2d(h, c.w as tf.Tensor4D, c.stride, c.pad === 0 ? 'valid' : c.pad), c.b) as tf.Tensor4D;
        if (i < 2) h = tf.relu(h);
      });
      return h;
    });
  }

  get trainableWeights(): tf.Variable[] {
    return [...this.convs.flatMap((c) => [c.w, c.b]), ...this.fc.flatMap((f) => [f.w, f.b]), ...(this.act?.trainableWeights ?? [])];
  }

  /** The seed's summary: layer, output shape (NCHW, as PyTorch prints it), parameter count. */
  summary(batch = 1): SummaryRow[] {
    const rows: SummaryRow[] = [];
    const count = (...vs: tf.Variable[]) => vs.reduce((a, v) => a + v.size, 0);
    const sizes = [32, 15, 7, 4];
    this.convs.forEach((c, i) => {
      rows.push({ layer: `Conv2D-${i + 1}`, outputShape: [batch, c.w.shape[3]!, sizes[i]!, sizes[i]!], params: count(c.w, c.b) });
      if (i === 2 && this.act) rows.push({ layer: this.act instanceof AconCLayer ? 'AconC-1' : 'MetaAconC-1', outputShape: [batch, 64, 7, 7], params: this.act.paramCount });
      else rows.push({ layer: `ReLU-${i + 1}`, outputShape: [batch, c.w.shape[3]!, sizes[i]!, sizes[i]!], params: 0 });
    });
    rows.push({ layer: 'Flatten-1', outputShape: [batch, 1024], params: 0 });
    rows.push({ layer: 'Linear-1', outputShape: [batch, 64], params: count(this.fc[0]!.w, this.fc[0]!.b) });
    rows.push({ layer: 'ReLU-5', outputShape: [batch, 64], params: 0 });
    rows.push({ layer: 'Linear-2', outputShape: [batch, this.numClasses], params: count(this.fc[1]!.w, this.fc[1]!.b) });
    return rows;
  }

  get paramCount(): number {
    return this.trainableWeights.reduce((a, v) => a + v.size, 0);
  }

  dispose(): void {
    tf.dispose([...this.convs.flatMap((c) => [c.w, c.b]), ...this.fc.flatMap((f) => [f.w, f.b])]);
    this.act?.dispose();
  }
}

/** The summary as the seed prints it: a table with totals. */
export function formatSummary(rows: SummaryRow[]): string {
  const line = '-'.repeat(64);
  const out = [line, `${'Layer (type)'.padEnd(22)}${'Output Shape'.padEnd(26)}${'Param #'.padStart(12)}`, '='.repeat(64)];
  for (const r of rows) out.push(`${r.layer.padEnd(22)}${`[${r.outputShape.join(', ')}]`.padEnd(26)}${r.params.toLocaleString('en-US').padStart(12)}`);
  const total = rows.reduce((a, r) => a + r.params, 0);
  out.push('='.repeat(64), `Total params: ${total.toLocaleString('en-US')}`, `Trainable params: ${total.toLocaleString('en-US')}`, 'Non-trainable params: 0', line);
  return out.join('\n');
}
