// The kernel family of any registered activation (--ops aconC, metaAconC, …), read off its declaration:
// its GPU-resident ops (our own device, our own buffers) in both layouts, next to a copy roofline of
// the bytes it must move (bench.bytes), its composed form from tfjs primitives in the same layout, and
// its float64 CPU reference (NCHW only: it is slow). Timed in the declaration's bench options (Meta's
// training mode), at shapes with N ≥ its minBatch.
import * as tf from '@tensorflow/tfjs-core';
import * as REFERENCES from '../../src/activations/references';
import {
  buildTree,
  dimsOf,
  withTrainable,
  paramLeaves,
  readLeaf,
  resolveShape,
  sizeOf,
} from '../../src/activations/params';
import type { Registered } from '../../src/activations/registry';
import type { AnyActivation } from '../../src/activations/types';
import { initialParams } from '../../src/ops/hostLayer';
import { backwardBuffers, forwardBuffers } from '../../src/ops/forms';
import type { AnyReference } from '../../src/reference/types';
import { encodeCopyRoofline } from '../roofline';
import { timeCpu } from '../timing';
import { LAYOUTS, type BenchRun, type Shape4 } from '../types';
import { buffers, physical, randomArray, tidy, timeKernelOp, toNHWC } from './common';

/** The seeds of x, dy and the parameters (the parameters: the declared inits, from one stream). */
const SEEDS = { x: 1, dy: 2, params: 3 };

/** An activation at one shape: fused in both layouts, the copy roofline, tfjs-composed in both layouts, then the reference. */
export async function benchActivation(bench: BenchRun, registered: Registered, shape: Shape4) {
  const act: AnyActivation = registered;
  const { ctx, record } = bench;
  const [N, C] = shape;
  if (N < (act.bench.minBatch ?? 1)) return;
  const count = shape.reduce((a, b) => a * b, 1);
  const x = randomArray(count, SEEDS.x);
  const dy = randomArray(count, SEEDS.dy);
  const host = { NCHW: { x, dy }, NHWC: { x: toNHWC(x, shape), dy: toNHWC(dy, shape) } };
  const options: Record<string, unknown> = { ...act.bench.options };
  // the backward's options where they differ (ACON-FReLU: an eval forward, a training backward)
  const backwardOptions: Record<string, unknown> = { ...options, ...act.bench.backwardOptions };
  const args = Object.fromEntries(act.layer.args.map((a) => [a.name, a.default]));
  // N, C and the derived dims at their defaults (Meta's R), also given to the buffers forms by name (hidden)
  const dims: Record<string, number> = { N, ...dimsOf(act, C) };
  for (const [dim, d] of Object.entries(act.dims ?? {})) options[d.name] = dims[dim];
  const leaves = paramLeaves(act.params);
  const trainable = leaves.filter((l) => l.decl.role === 'trainable');
  const p = initialParams(act, dims, SEEDS.params);

  const { buf, destroy } = buffers(ctx);
  const P = buildTree(leaves, (l) => buf(readLeaf(p, l) as Float32Array));
  const G = buildTree(trainable, (l) => buf(sizeOf(l.decl.shape, dims)));
  const fused = LAYOUTS.map((dataFormat) => {
    const io = { x: buf(host[dataFormat].x), dy: buf(host[dataFormat].dy), y: buf(count), dx: buf(count) };
    const o = { ...options, dataFormat };
    const ob = { ...backwardOptions, dataFormat };
    return {
      io,
      fwd: () => void forwardBuffers(ctx, act, { x: io.x, params: P as never, y: io.y }, shape, o),
      bwd: () =>
        void backwardBuffers(
          ctx,
          act,
          { x: io.x, dy: io.dy, params: P as never, grads: { ...G, dx: io.dx } },
          shape,
          ob,
        ),
    };
  });

  // the copy roofline: as many float32 words per element as the op must move (bench.bytes), read from
  // x, dy and x's copy into y or dx, in copies of at most four words (three reads, one write)
  const io = fused[0]!.io;
  const sources = [io.x, io.dy, buf(x)];
  const copy = (bytes: number) => {
    const words: number[] = [];
    for (let left = bytes / 4; left > 0; left -= 4) words.push(Math.min(left, 4));
    const outputs = [io.dx, buf(count)];
    return () =>
      ctx.submit((b) =>
        words.forEach((w, i) => encodeCopyRoofline(ctx, b, sources.slice(0, w - 1), outputs[i]!, count)),
      );
  };

  // tfjs-composed: the declaration's composed form (the tfjs op's fallback) in each layout; in training
  // mode on the batch's statistics, the running statistics left as they are
  const composedY = act.composed?.y;
  const t = buildTree(leaves, (l) => tf.tensor(readLeaf(p, l) as Float32Array, resolveShape(l.decl.shape, dims)));
  const composed = LAYOUTS.map((dataFormat) => {
    const tx = tf.tensor4d(host[dataFormat].x, physical(shape, dataFormat));
    const tdy = tf.tensor4d(host[dataFormat].dy, physical(shape, dataFormat));
    const mode = (training: boolean) => ({ dataFormat, training, updateRunning: false, dims, args });
    const y = (xx: tf.Tensor, params: unknown, training = options.training === true) =>
      composedY!(tf, xx, params as never, mode(training));
    const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) =>
      y(xx, withTrainable(leaves, t, ps), backwardOptions.training === true),
    );
    return {
      tensors: [tx, tdy],
      fwd: tidy(() => y(tx, t)),
      bwd: tidy(() => grads([tx, ...trainable.map((l) => readLeaf(t, l) as tf.Tensor)], tdy)),
    };
  });

  const { forward, backward } = act.bench.bytes;
  await timeKernelOp(bench, registered.name, shape, fused, { fwd: copy(forward[0]), bwd: copy(backward[0]) }, composed);
  await destroy();
  tf.dispose([...composed.flatMap((c) => c.tensors), ...leaves.map((l) => readLeaf(t, l) as tf.Tensor)]);

  // the CPU reference (NCHW only: it is slow, and its layouts agree by the tests)
  const ref: AnyReference = (REFERENCES as Record<string, AnyReference>)[act.name]!;
  const cpuRuns = count > 1e6 ? 3 : 7;
  const o = { ...options, dataFormat: 'NCHW' } as const;
  const ob = { ...backwardOptions, dataFormat: 'NCHW' } as const;
  for (const [op, run] of [
    ['forward', () => ref.forward(x, shape, p, o)],
    ['backward', () => ref.backward(x, dy, shape, p, ob)],
  ] as const)
    record({ op: `${registered.name}.${op}`, impl: 'reference', layout: 'NCHW', shape, ...timeCpu(run, cpuRuns) });
}
