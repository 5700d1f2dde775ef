// The tfnet family (opt-in: a minute or more on a CPU adapter): inference of the paper's TFNet 0.5
// (17 ACON-FReLU layers, 4 of them at stride 2) with our fused ACON-FReLU against the same network
// with ACON-FReLU from tfjs ops (the declaration's composed form), shared random weights, batch 1 at
// 224×224 NHWC (BenchOptions.netInput), side by side; a few timed runs after a warm-up (the JSON's
// `runs` says how many). Also what ACON-FReLU's 3×3 window costs by itself: tfjs's own depthwise
// conv (no bias, no BN, no pool, no σ) beside our whole fused tfjs op and tf.relu at [8, 64, 56, 56]
// NHWC (BenchOptions.windowShape); and on our device our fused forward in each layout beside the
// window roofline (a kernel that only sums each output's window, with the fused kernel's walk), the
// arithmetic roofline (the forward's arithmetic per output with the copy's loads and no window) and
// the copy roofline.
import * as tf from '@tensorflow/tfjs-core';
import { tfNet } from '../../src/models/index';
import { initialParams } from '../../src/ops/hostLayer';
import { buildTree, paramLeaves, readLeaf, resolveShape } from '../../src/activations/params';
import { aconFReLU as decl } from '../../src/activations/aconFRelu/declaration';
import { aconFReLU } from '../../src/tfjs/index';
import { forwardBuffers } from '../../src/ops/forms';
import { encodeArithRoofline, encodeCopyRoofline, encodeTapsRoofline, encodeWindowRoofline } from '../roofline';
import { buffers, randomArray } from './common';
import { checkAgree } from '../timing';
import type { BenchRun, Entry, Shape4 } from '../types';
import { sideBySide, tidy } from './common';

export async function benchTfNet(bench: BenchRun) {
  const { tfDrain, netInput: side } = bench;
  const shape: Shape4 = [1, 3, side, side];
  const x = tf.randomNormal([1, side, side, 3], 0, 1, 'float32', 7);
  const [fused, composed] = (['auto', 'composed'] as const).map((impl) =>
    tfNet({ modelSize: 0.5, impl, inputSize: side }),
  );
  composed!.setWeights(fused!.getWeights());
  await checkAgree('net.infer tfnet-0.5', fused!.predict(x) as tf.Tensor, composed!.predict(x) as tf.Tensor);
  const entries = (
    [
      ['fused', fused!],
      ['tfjs-composed', composed!],
    ] as const
  ).map(([impl, model]): Entry => ({
    impl,
    layout: 'NHWC',
    net: 'tfnet-0.5',
    run: tidy(() => model.predict(x)),
    drain: tfDrain,
  }));
  await sideBySide(bench, 'net.infer', shape, entries, 1, { batchMs: 1, batches: 5, minBatches: 3 });
  await tfDrain();
  fused!.dispose();
  composed!.dispose();
  x.dispose();
  await benchWindow(bench);
  await benchWindowRoofline(bench);
}

/**
 * aconFReLU.window: the eval forward on our device beside the window roofline in each layout, the
 * taps, arithmetic and copy rooflines, at windowShape.
 */
async function benchWindowRoofline(bench: BenchRun) {
  const { ctx, ourDrain, windowShape: shape } = bench;
  const count = shape.reduce((a, b) => a * b, 1);
  const dims = { N: shape[0], C: shape[1] };
  const p = initialParams(decl, dims, 10, 'fixture');
  const { buf, destroy } = buffers(ctx);
  const P = buildTree(paramLeaves(decl.params), (l) => buf(readLeaf(p, l) as Float32Array));
  const [x, y] = [buf(randomArray(count, 11)), buf(count)];
  const entry = (impl: Entry['impl'], run: () => unknown, layout: Entry['layout'] = 'NCHW'): Entry => ({
    impl,
    layout,
    run,
    drain: ourDrain,
  });
  const fused = (dataFormat: Entry['layout']) => () =>
    forwardBuffers(ctx, decl, { x, params: P as never, y }, shape, { training: false, dataFormat });
  await sideBySide(bench, 'aconFReLU.window', shape, [
    entry('fused', fused('NCHW')),
    entry('window-roofline', () => ctx.submit((b) => encodeWindowRoofline(ctx, b, x, y, shape))),
    entry('fused', fused('NHWC'), 'NHWC'),
    entry('window-roofline', () => ctx.submit((b) => encodeWindowRoofline(ctx, b, x, y, shape, 'NHWC')), 'NHWC'),
    entry('taps-roofline', () => ctx.submit((b) => encodeTapsRoofline(ctx, b, x, y, count))),
    entry('arith-roofline', () => ctx.submit((b) => encodeArithRoofline(ctx, b, x, y, shape))),
    entry('copy-roofline', () => ctx.submit((b) => encodeCopyRoofline(ctx, b, [x], y, count))),
  ]);
  await destroy();
}

/** tfjs.aconFReLU.forward (eval) beside tf.depthwiseConv2d 3×3 alone and tf.relu, at windowShape (NHWC). */
async function benchWindow(bench: BenchRun) {
  const { tfDrain, windowShape: shape } = bench;
  const [N, C, H, W] = shape;
  const x = tf.randomNormal([N, H, W, C], 0, 1, 'float32', 8);
  const filter = tf.randomNormal([3, 3, C, 1], 0, 0.3, 'float32', 9) as tf.Tensor4D;
  const dims = { N, C };
  const p = initialParams(decl, dims, 10, 'fixture');
  const params = buildTree(paramLeaves(decl.params), (l) => {
    const t = tf.tensor(readLeaf(p, l) as Float32Array, resolveShape(l.decl.shape, dims));
    return l.decl.role === 'running' ? tf.variable(t, false) : t;
  });
  const entries: Entry[] = [
    ['fused', () => aconFReLU(x, params as never, { training: false })],
    ['tfjs-depthwise3x3', () => tf.depthwiseConv2d(x as tf.Tensor4D, filter, 1, 'same')],
    ['relu', () => tf.relu(x)],
  ].map(([impl, fn]) => ({
    impl: impl as Entry['impl'],
    layout: 'NHWC',
    run: tidy(fn as () => tf.Tensor),
    drain: tfDrain,
  }));
  await sideBySide(bench, 'tfjs.aconFReLU.forward', shape, entries);
  await tfDrain();
  tf.dispose([x, filter, ...paramLeaves(decl.params).map((l) => readLeaf(params, l) as tf.Tensor)]);
}
