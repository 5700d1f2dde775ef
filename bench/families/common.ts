// What the families share: seeded host data in either layout, our device's buffers, one call inside
// tf.tidy, and the side-by-side timing of one op's implementations, recorded with their bandwidth.
import * as tf from '@tensorflow/tfjs-core';
import type { GpuContext } from '../../src/gpu/context';
import { rng, uniform } from '../../src/ops/random';
import { bytesMoved, gbPerSecond, isKernelOp } from '../bandwidth';
import { timeSideBySide } from '../timing';
import {
  LAYOUTS,
  type ActivationName,
  type BenchRun,
  type DataFormat,
  type Entry,
  type Op,
  type Shape4,
} from '../types';

/** Seeded data uniform in [−2, 2). */
export const randomArray = (n: number, seed: number) => uniform(rng(seed), n, -2, 2) as Float32Array<ArrayBuffer>;

/** NCHW host data rearranged as NHWC (the same tensor in the other layout). */
export function toNHWC(x: Float32Array<ArrayBuffer>, [N, C, H, W]: Shape4): Float32Array<ArrayBuffer> {
  const y = new Float32Array(x.length);
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const src = (n * C + c) * HW;
      const dst = n * HW * C + c;
      for (let p = 0; p < HW; p++) y[dst + p * C] = x[src + p]!;
    }
  }
  return y;
}

/** The tensor shape of logical [N, C, H, W] in a layout. */
export const physical = ([N, C, H, W]: Shape4, layout: DataFormat): Shape4 =>
  layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];

/** Per-channel parameters [C] (or per-sample [N, C]) shaped to broadcast against x in a layout. */
export const broadcast = (t: tf.Tensor, layout: DataFormat) => {
  const lead = t.rank === 2 ? t.shape[0]! : 1;
  const c = t.shape[t.rank - 1]!;
  return tf.reshape(t, layout === 'NCHW' ? [lead, c, 1, 1] : [lead, 1, 1, c]);
};

/** One call inside tf.tidy: its result (and every intermediate) is disposed, nothing is read back. */
export const tidy = (f: () => unknown) => () => tf.tidy(() => void f());

/** Storage buffers on our device, destroyed together. */
export function buffers(ctx: GpuContext) {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const made: GPUBuffer[] = [];
  const buf = (data: Float32Array | number) => {
    const b = ctx.device.createBuffer({ size: (typeof data === 'number' ? data : data.length) * 4, usage });
    if (typeof data !== 'number') ctx.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
    made.push(b);
    return b;
  };
  const destroy = async () => {
    await ctx.device.queue.onSubmittedWorkDone();
    for (const b of made) b.destroy();
  };
  return { buf, destroy };
}

/** Times the implementations of one op at one shape side by side and records each. */
export async function sideBySide(
  bench: BenchRun,
  op: Op,
  shape: Shape4,
  entries: Entry[],
  warmup?: number,
  timing: { batchMs?: number; groupMs?: number; batches?: number; minBatches?: number } = {},
) {
  const { batchMs, batches, groupMs, record } = bench;
  const times = await timeSideBySide(entries, {
    batchMs,
    batches,
    groupMs,
    ...timing,
    ...(warmup === undefined ? {} : { warmup }),
  });
  entries.forEach(({ impl, layout, net }, j) => {
    const gbps = isKernelOp(op) ? { gbps: gbPerSecond(bytesMoved(op, shape), times[j]!.ms) } : {};
    record({ op, impl, layout, shape, ...(net ? { net } : {}), ...times[j]!, ...gbps });
  });
}

/**
 * A kernel op's forward and backward, each timed side by side: fused in both layouts, the copy
 * roofline (layout-free, reported as NCHW) and tfjs-composed in both layouts.
 */
export async function timeKernelOp(
  bench: BenchRun,
  op: ActivationName,
  shape: Shape4,
  fused: { fwd: () => void; bwd: () => void }[],
  copy: { fwd: () => void; bwd: () => void },
  composed: { fwd: () => void; bwd: () => void }[],
) {
  const { ourDrain, tfDrain } = bench;
  for (const dir of ['fwd', 'bwd'] as const) {
    await sideBySide(bench, dir === 'fwd' ? `${op}.forward` : `${op}.backward`, shape, [
      ...LAYOUTS.map((layout, i) => ({ impl: 'fused' as const, layout, run: fused[i]![dir], drain: ourDrain })),
      { impl: 'copy-roofline', layout: 'NCHW', run: copy[dir], drain: ourDrain },
      ...LAYOUTS.map((layout, i) => ({
        impl: 'tfjs-composed' as const,
        layout,
        run: composed[i]![dir],
        drain: tfDrain,
      })),
    ]);
  }
}
