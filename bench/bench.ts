// Benchmarks, run in the browser (headless by `npm run bench`, or from the demo page). Every GPU
// implementation is timed the same way: warm up, then batches of k back-to-back calls ended by
// waiting for the queue to drain; the figure is the median over batches of (batch time / k). The
// implementations of one op take turns batch by batch, so their ratios are measured side by side.
//
// Families:
//   aconC, metaAconC  one per registered activation (families/activation.ts, read off its declaration):
//                     the GPU-resident ops (our own device, our own buffers) in both layouts, next to
//                     a copy roofline, the same formulas composed from tfjs primitives in the same
//                     layout, and the float64 CPU reference (NCHW only: it is slow); at `shapes`
//   tfjs              every registered activation's TensorFlow.js op (src/tfjs/op.ts) on NHWC tensors,
//                     fused vs composed vs tf.relu on the same tensor; at its own fixed shapes (TFJS_SHAPES)
//   net               inference of the seed networks as tf.layers models (src/layers), batch 1 and 64
//   shufflenet        inference of the paper's ShuffleNetV2 0.5× (src/models) with ACON-C and Meta-ACON-C,
//                     fused vs composed ACON, batch 1 at 224×224
//   train             one Adam step of dcn2+AconC / dcn2+MetaAconC (opt-in: slow on SwiftShader)
// Every result names the memory layout it ran in; `shape` is always the logical [N, C, H, W].
// The kernel families' GPU results also carry the effective bandwidth `gbps`: the bytes the op must
// move (bytesMoved) over its time, to read beside the copy roofline's and, on a known card, its peak
// (PEAK_BANDWIDTH). Runs in a browser and in Node through Dawn (node/cli.ts): `adapter.runtime` says which.
//
// Where things live: run.ts (runBench: options, devices, progress, the families in order), families/
// (one module per family, activation.ts serving every activation's, and common.ts: data, buffers,
// side-by-side timing), timing.ts (how a
// contender is timed), bandwidth.ts (bytesMoved, known peaks), format.ts (the tables), types.ts (the
// JSON schema and options), roofline.ts (the copy roofline's kernel). This module is the public face.
export type {
  BenchAdapter,
  BenchOptions,
  BenchReport,
  BenchResult,
  DataFormat,
  Family,
  BenchImpl,
  KernelOp,
  NetName,
  Op,
  Shape4,
  TfjsOp,
} from './types';
export { ALL_FAMILIES, DEFAULT_FAMILIES, DEFAULT_SHAPES, NET_BATCHES, TFJS_SHAPES, runBench } from './run';
export { PEAK_BANDWIDTH, bytesMoved, gbPerSecond, peakBandwidth } from './bandwidth';
export { formatReport } from './format';
