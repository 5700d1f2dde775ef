// The metaAconC family: Meta-ACON-C in training mode, as the aconC family measures ACON-C (fused in
// both layouts, copy roofline, tfjs-composed in both layouts, CPU reference); only shapes with N ≥ 2.
import * as tf from '@tensorflow/tfjs-core';
import { encodeCopyRoofline } from '../roofline';
import { metaAconC, type MetaAconCParams, type MetaAconCGrads } from '../../src/activations/metaAconC/declaration';
import { backwardBuffers, forwardBuffers } from '../../src/ops/forms';
import { MetaAconC } from '../../src/index';
import { metaAconCBackwardRef, metaAconCForwardRef } from '../../src/reference/metaAconC';
import {
  aconCComposed,
  batchNormComposed,
  metaAconCComposed,
  type MetaComposedParams,
  type MetaComposedRunning,
} from '../../src/tfjs/composed';
import { timeCpu } from '../timing';
import { LAYOUTS, type BenchRun, type DataFormat, type Shape4 } from '../types';
import { broadcast, buffers, physical, randomArray, tidy, timeKernelOp, toNHWC } from './common';

/** Meta-ACON-C from tfjs primitives in either layout: composed.ts's formulas, with the mean and the broadcasts over the layout's axes. */
function metaComposedIn(
  layout: DataFormat,
  x: tf.Tensor4D,
  t: MetaComposedParams,
  running: MetaComposedRunning,
  training: boolean,
): tf.Tensor {
  if (layout === 'NCHW') return metaAconCComposed(x, t, running, training);
  const m = tf.mean(x, [1, 2]);
  const h1 = tf.add(tf.matMul(m, t.w1, false, true), t.b1);
  const a1 = batchNormComposed(h1, t.g1, t.be1, running.rm1, running.rv1, training);
  const h2 = tf.add(tf.matMul(a1, t.w2, false, true), t.b2);
  const beta = tf.sigmoid(batchNormComposed(h2, t.g2, t.be2, running.rm2, running.rv2, training));
  return aconCComposed(x, broadcast(t.p1, layout), broadcast(t.p2, layout), broadcast(beta, layout));
}

/** Meta-ACON-C in training mode (batch statistics; N ≥ 2). */
export async function benchMeta(bench: BenchRun, shape: Shape4) {
  const { ctx, record } = bench;
  const [N, C] = shape;
  if (N < 2) return;
  const count = shape.reduce((a, b) => a * b, 1);
  const x = randomArray(count, 6);
  const dy = randomArray(count, 7);
  const host = { NCHW: { x, dy }, NHWC: { x: toNHWC(x, shape), dy: toNHWC(dy, shape) } };
  const layer = new MetaAconC(C, 16, 1);
  const p = layer.params;
  const R = layer.hidden;
  const { buf, destroy } = buffers(ctx);
  const bn = (s: typeof p.bn1) => ({
    weight: buf(s.weight),
    bias: buf(s.bias),
    runningMean: buf(s.runningMean),
    runningVar: buf(s.runningVar),
  });
  const P: MetaAconCParams<GPUBuffer> = {
    p1: buf(p.p1),
    p2: buf(p.p2),
    fc1: { weight: buf(p.fc1.weight), bias: buf(p.fc1.bias) },
    bn1: bn(p.bn1),
    fc2: { weight: buf(p.fc2.weight), bias: buf(p.fc2.bias) },
    bn2: bn(p.bn2),
  };
  const G: Omit<MetaAconCGrads<GPUBuffer>, 'dx'> = {
    p1: buf(C),
    p2: buf(C),
    fc1: { weight: buf(R * C), bias: buf(R) },
    bn1: { weight: buf(R), bias: buf(R) },
    fc2: { weight: buf(C * R), bias: buf(C) },
    bn2: { weight: buf(C), bias: buf(C) },
  };
  const fused = LAYOUTS.map((layout) => {
    const io = { x: buf(host[layout].x), dy: buf(host[layout].dy), y: buf(count), dx: buf(count) };
    const opts = { training: true, hidden: R, dataFormat: layout };
    return {
      io,
      fwd: () => void forwardBuffers(ctx, metaAconC, { x: io.x, params: P, y: io.y }, shape, opts),
      bwd: () =>
        void backwardBuffers(
          ctx,
          metaAconC,
          { x: io.x, dy: io.dy, params: P, grads: { ...G, dx: io.dx } },
          shape,
          opts,
        ),
    };
  });
  const g = fused[0]!.io;
  const gx2 = buf(x);
  const scratch = buf(count);
  // bytes actually required: forward reads x twice (mean, then ACON) and writes y: 12 B/element;
  // backward reads x (mean), then x and dy (dβ), then x and dy writing dx: 24 B/element.
  const copyF = () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [g.x, gx2], g.y, count));
  const copyB = () =>
    ctx.submit((b) => {
      encodeCopyRoofline(ctx, b, [g.x, g.dy, gx2], g.dx, count);
      encodeCopyRoofline(ctx, b, [g.x], scratch, count);
    });

  const t: MetaComposedParams = {
    p1: tf.tensor1d(p.p1),
    p2: tf.tensor1d(p.p2),
    w1: tf.tensor2d(p.fc1.weight, [R, C]),
    b1: tf.tensor1d(p.fc1.bias),
    g1: tf.tensor1d(p.bn1.weight),
    be1: tf.tensor1d(p.bn1.bias),
    w2: tf.tensor2d(p.fc2.weight, [C, R]),
    b2: tf.tensor1d(p.fc2.bias),
    g2: tf.tensor1d(p.bn2.weight),
    be2: tf.tensor1d(p.bn2.bias),
  };
  const running = {
    rm1: tf.tensor1d(p.bn1.runningMean),
    rv1: tf.tensor1d(p.bn1.runningVar),
    rm2: tf.tensor1d(p.bn2.runningMean),
    rv2: tf.tensor1d(p.bn2.runningVar),
  };
  const keys = Object.keys(t) as (keyof MetaComposedParams)[];
  const composed = LAYOUTS.map((layout) => {
    const tx = tf.tensor4d(host[layout].x, physical(shape, layout));
    const tdy = tf.tensor4d(host[layout].dy, physical(shape, layout));
    const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) =>
      metaComposedIn(
        layout,
        xx as tf.Tensor4D,
        Object.fromEntries(keys.map((k, i) => [k, ps[i]!])) as unknown as MetaComposedParams,
        running,
        true,
      ),
    );
    return {
      tensors: [tx, tdy],
      fwd: tidy(() => metaComposedIn(layout, tx, t, running, true)),
      bwd: tidy(() => grads([tx, ...keys.map((k) => t[k])], tdy)),
    };
  });

  await timeKernelOp(bench, 'metaAconC', shape, fused, { fwd: copyF, bwd: copyB }, composed);
  await destroy();
  tf.dispose([...composed.flatMap((c) => c.tensors), ...Object.values(t), ...Object.values(running)]);

  const cpuRuns = count > 1e6 ? 3 : 7;
  record({
    op: 'metaAconC.forward',
    impl: 'reference',
    layout: 'NCHW',
    shape,
    ...timeCpu(() => metaAconCForwardRef(x, shape, p, true), cpuRuns),
  });
  record({
    op: 'metaAconC.backward',
    impl: 'reference',
    layout: 'NCHW',
    shape,
    ...timeCpu(() => metaAconCBackwardRef(x, dy, shape, p, true), cpuRuns),
  });
}
