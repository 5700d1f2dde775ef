// The aconC family: ACON-C's GPU-resident ops (our own device, our own buffers) in both layouts, next to
// a copy roofline, the same formula composed from tfjs primitives in the same layout, and the float64
// CPU reference (NCHW only: it is slow).
import * as tf from '@tensorflow/tfjs-core';
import { aconC } from '../../src/activations/aconC/declaration';
import { backwardBuffers, forwardBuffers } from '../../src/ops/forms';
import { encodeCopyRoofline } from '../roofline';
import { aconCBackwardRef, aconCForwardRef } from '../../src/reference/aconC';
import { aconCComposed } from '../../src/tfjs/composed';
import { timeCpu } from '../timing';
import { LAYOUTS, type BenchRun, type DataFormat, type Shape4 } from '../types';
import { broadcast, buffers, physical, randomArray, tidy, timeKernelOp, toNHWC } from './common';

/**
 * ACON-C at one shape: x, dy ~ U[−2, 2) (seeds 1, 2), p1, p2, β per channel (seeds 3–5); fused in both
 * layouts, the copy roofline, tfjs-composed in both layouts, then the CPU reference.
 */
export async function benchAconC(bench: BenchRun, shape: Shape4) {
  const { ctx, record } = bench;
  const [, C] = shape;
  const count = shape.reduce((a, b) => a * b, 1);
  const host = { NCHW: { x: randomArray(count, 1), dy: randomArray(count, 2) } } as Record<
    DataFormat,
    { x: Float32Array<ArrayBuffer>; dy: Float32Array<ArrayBuffer> }
  >;
  host.NHWC = { x: toNHWC(host.NCHW.x, shape), dy: toNHWC(host.NCHW.dy, shape) };
  const params = { p1: randomArray(C, 3), p2: randomArray(C, 4), beta: randomArray(C, 5) };

  // fused (both layouts) and copy-roofline on our device
  const { buf, destroy } = buffers(ctx);
  const p = { p1: buf(params.p1), p2: buf(params.p2), beta: buf(params.beta) };
  const grads = { p1: buf(C), p2: buf(C), beta: buf(C) };
  const fused = LAYOUTS.map((layout) => {
    const io = { x: buf(host[layout].x), dy: buf(host[layout].dy), y: buf(count), dx: buf(count) };
    return {
      io,
      fwd: () => void forwardBuffers(ctx, aconC, { x: io.x, params: p, y: io.y }, shape, { dataFormat: layout }),
      bwd: () =>
        void backwardBuffers(ctx, aconC, { x: io.x, dy: io.dy, params: p, grads: { dx: io.dx, ...grads } }, shape, {
          dataFormat: layout,
        }),
    };
  });
  const g = fused[0]!.io;
  const copyF = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x], g.y, count));
  const copyB = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x, g.dy], g.dx, count));

  // tfjs-composed: the same formula from tfjs primitives on the tfjs WebGPU backend, in each layout
  const tp = [params.p1, params.p2, params.beta].map((v) => tf.tensor1d(v));
  const composed = LAYOUTS.map((layout) => {
    const tx = tf.tensor4d(host[layout].x, physical(shape, layout));
    const tdy = tf.tensor4d(host[layout].dy, physical(shape, layout));
    const f = (xx: tf.Tensor, a1: tf.Tensor, a2: tf.Tensor, b: tf.Tensor) =>
      aconCComposed(xx, broadcast(a1, layout), broadcast(a2, layout), broadcast(b, layout));
    const grads = tf.grads((xx, a1, a2, b) => f(xx, a1, a2, b) as tf.Tensor4D);
    return {
      tensors: [tx, tdy],
      fwd: tidy(() => f(tx, tp[0]!, tp[1]!, tp[2]!)),
      bwd: tidy(() => grads([tx, ...tp], tdy)),
    };
  });

  await timeKernelOp(bench, 'aconC', shape, fused, { fwd: copyF, bwd: copyB }, composed);
  await destroy();
  tf.dispose([...tp, ...composed.flatMap((c) => c.tensors)]);

  // the CPU reference (NCHW only: it is slow, and its layouts agree by the tests)
  const cpuRuns = count > 1e6 ? 3 : 7;
  const { x, dy } = host.NCHW;
  record({
    op: 'aconC.forward',
    impl: 'reference',
    layout: 'NCHW',
    shape,
    ...timeCpu(() => aconCForwardRef(x, shape, params), cpuRuns),
  });
  record({
    op: 'aconC.backward',
    impl: 'reference',
    layout: 'NCHW',
    shape,
    ...timeCpu(() => aconCBackwardRef(x, dy, shape, params), cpuRuns),
  });
}
