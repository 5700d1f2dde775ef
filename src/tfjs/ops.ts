/**
 * TensorFlow.js face: differentiable aconC and metaAconC for tf.Tensors.
 *
 * On the `webgpu` backend they run our WGSL kernels on the backend's own GPUDevice, reading the
 * input tensors' GPUBuffers and writing into buffers the backend allocates for the outputs: no
 * download, no upload, no copy, and the outputs are ordinary tfjs tensors (tf.memory() counts and
 * frees them). Gradients come from tf.customGrad with our analytic backward kernels. On any other
 * backend the same formulas run as tfjs primitives (src/tfjs/composed.ts) and tfjs's autodiff
 * gives the gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GpuContext } from '../gpu/context';
import { DTypeError, ShapeError } from '../gpu/errors';
import { aconCBackwardGPU, aconCForwardGPU } from '../ops/aconC';
import { BN_MOMENTUM, metaAconCBackwardGPU, metaAconCForwardGPU, type MetaGradSet, type MetaParamSet } from '../ops/metaAconC';
import { aconCComposed, batchNormComposed } from './composed';

export type DataFormat = 'NCHW' | 'NHWC';
/** 'auto': our kernels on the webgpu backend, tfjs primitives elsewhere; 'composed': primitives always. */
export type Impl = 'auto' | 'composed';

/** The parts of tfjs-backend-webgpu's WebGPUBackend used here (public in its typings but commandEncoder). */
interface WebGPUBackendLike {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource?: unknown; values?: unknown } };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder?: GPUCommandEncoder | null;
}

const contexts = new WeakMap<GPUDevice, GpuContext>();

/** Our dispatcher on the tfjs webgpu backend's device, or null on any other backend. */
function webgpu(): { backend: WebGPUBackendLike; ctx: GpuContext } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  let ctx = contexts.get(backend.device);
  if (!ctx) contexts.set(backend.device, (ctx = GpuContext.fromDevice(backend.device)));
  return { backend, ctx };
}

/** The GPUBuffer holding a tensor on the webgpu backend (uploaded first if tfjs kept it on the CPU). */
function bufferOf(backend: WebGPUBackendLike, t: tf.Tensor): GPUBuffer {
  backend.uploadToGPU(t.dataId);
  return backend.tensorMap.get(t.dataId).resource as GPUBuffer;
}

/** A new float32 tensor whose GPUBuffer the backend allocates; our kernels fill it. */
function newTensor(backend: WebGPUBackendLike, shape: number[]): { tensor: () => tf.Tensor; buffer: GPUBuffer } {
  const info = backend.makeTensorInfo(shape, 'float32');
  backend.uploadToGPU(info.dataId);
  const buffer = backend.tensorMap.get(info.dataId).resource as GPUBuffer;
  return { buffer, tensor: () => tf.engine().makeTensorFromTensorInfo(info) };
}

/**
 * Submits tfjs's pending commands, so that work on its buffers (uploads included) is queued before
 * ours. Call it after every bufferOf/newTensor of the operation and before our submit.
 */
function flush(backend: WebGPUBackendLike): void {
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

/** Surfaces GPU validation errors of queued work (the tfjs API is synchronous). */
const report = (p: Promise<void>) => void p.catch((e: unknown) => console.error(e));

function checkX(x: tf.Tensor, name = 'x'): [number, number, number, number] {
  if (!(x instanceof tf.Tensor)) throw new DTypeError(`${name} must be a tf.Tensor`, 'tf.Tensor', typeof x);
  if (x.rank !== 4) throw new ShapeError(`${name} must be a 4D tensor`, 'rank 4', `rank ${x.rank} [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new DTypeError(`${name} must be float32`, 'float32', x.dtype);
  return x.shape as [number, number, number, number];
}

function checkParam(t: tf.Tensor, name: string, sizes: number[]): void {
  if (!(t instanceof tf.Tensor)) throw new DTypeError(`${name} must be a tf.Tensor`, 'tf.Tensor', typeof t);
  if (t.dtype !== 'float32') throw new DTypeError(`${name} must be float32`, 'float32', t.dtype);
  if (!sizes.includes(t.size)) {
    throw new ShapeError(`${name} does not fit the input`, `${sizes.join(' or ')} values`, `${t.size} values, shape [${t.shape.join(', ')}]`);
  }
}

/** [N, C] from a 4D shape in either format. */
const nc = (s: number[], f: DataFormat): [number, number] => [s[0]!, f === 'NCHW' ? s[1]! : s[3]!];
/** A [C] or [N·C] parameter reshaped to broadcast against x. */
function broadcastable(t: tf.Tensor, n: number, c: number, f: DataFormat): tf.Tensor {
  const lead = t.size === c ? 1 : n;
  return tf.reshape(t, f === 'NCHW' ? [lead, c, 1, 1] : [lead, 1, 1, c]);
}

/**
 * ACON-C on a 4D float32 tensor (NCHW by default, or NHWC). p1, p2: C values (any shape, e.g.
 * [1, C, 1, 1] as in PyTorch); β: C values, or N·C for a per-sample β. Differentiable in all four.
 */
export function aconC(x: tf.Tensor, p1: tf.Tensor, p2: tf.Tensor, beta: tf.Tensor, options: { dataFormat?: DataFormat; impl?: Impl } = {}): tf.Tensor {
  const fmt = options.dataFormat ?? 'NCHW';
  const shape = checkX(x);
  const [n, c] = nc(shape, fmt);
  checkParam(p1, 'p1', [c]);
  checkParam(p2, 'p2', [c]);
  checkParam(beta, 'beta', [c, n * c]);
  const gpu = options.impl === 'composed' ? null : webgpu();
  if (!gpu) {
    return tf.tidy(() => aconCComposed(x, broadcastable(p1, n, c, fmt), broadcastable(p2, n, c, fmt), broadcastable(beta, n, c, fmt)));
  }
  const { backend, ctx } = gpu;
  const ourShape: [number, number, number, number] = fmt === 'NCHW' ? shape : [shape[0], shape[3], shape[1], shape[2]];
  const opts = { layout: fmt, betaLength: beta.size };
  const op = tf.customGrad((...args: unknown[]) => {
    const [xx, a1, a2, b] = args as tf.Tensor[];
    (args[4] as tf.GradSaveFunc)([xx!, a1!, a2!, b!]);
    // buffers first: an upload tfjs still has to do is queued in its encoder, which flush submits
    const [bx, b1, b2, bb] = [xx!, a1!, a2!, b!].map((t) => bufferOf(backend, t)) as GPUBuffer[];
    const y = newTensor(backend, shape);
    flush(backend);
    report(aconCForwardGPU(ctx, { x: bx!, p1: b1!, p2: b2!, beta: bb!, y: y.buffer }, ourShape, opts));
    return {
      value: y.tensor(),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        // the saved inputs: tfjs keeps them alive until the backward has run
        const [xx, a1, a2, b] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const g = Array.isArray(dy) ? dy[0]! : dy;
        const [bx, bdy, b1, b2, bb] = [xx, g, a1, a2, b].map((t) => bufferOf(backend, t)) as GPUBuffer[];
        const out = [xx, a1, a2, b].map((t) => newTensor(backend, t.shape));
        flush(backend);
        const [dx, dp1, dp2, dbeta] = out.map((o) => o.buffer) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
        report(aconCBackwardGPU(ctx, { x: bx!, dy: bdy!, p1: b1!, p2: b2!, beta: bb!, dx, dp1, dp2, dbeta }, ourShape, opts));
        return out.map((o) => o.tensor());
      },
    };
  });
  return op(x, p1, p2, beta);
}

/** Meta-ACON-C's parameters as tfjs tensors; running statistics are Variables (training updates them). */
export interface MetaAconCTensors {
  p1: tf.Tensor;
  p2: tf.Tensor;
  fc1: { weight: tf.Tensor; bias: tf.Tensor };
  bn1: { weight: tf.Tensor; bias: tf.Tensor; runningMean: tf.Variable; runningVar: tf.Variable };
  fc2: { weight: tf.Tensor; bias: tf.Tensor };
  bn2: { weight: tf.Tensor; bias: tf.Tensor; runningMean: tf.Variable; runningVar: tf.Variable };
}

/** Trainable tensors in the order the custom gradient takes them. */
const trainable = (p: MetaAconCTensors) => [p.p1, p.p2, p.fc1.weight, p.fc1.bias, p.bn1.weight, p.bn1.bias, p.fc2.weight, p.fc2.bias, p.bn2.weight, p.bn2.bias];

/**
 * Meta-ACON-C on a 4D float32 tensor: β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) per sample and channel.
 * fc1.weight has R·C values ([R, C] or [R, C, 1, 1]), fc2.weight C·R. Differentiable in x and every
 * trainable parameter; in training mode (N ≥ 2) the running statistics move.
 */
export function metaAconC(x: tf.Tensor, p: MetaAconCTensors, options: { training: boolean; dataFormat?: DataFormat; impl?: Impl }): tf.Tensor {
  const fmt = options.dataFormat ?? 'NCHW';
  const shape = checkX(x);
  const [n, c] = nc(shape, fmt);
  const r = p.fc1.bias.size;
  const sizes: [tf.Tensor, string, number][] = [
    [p.p1, 'p1', c], [p.p2, 'p2', c], [p.fc1.weight, 'fc1.weight', r * c], [p.fc1.bias, 'fc1.bias', r],
    [p.bn1.weight, 'bn1.weight', r], [p.bn1.bias, 'bn1.bias', r], [p.bn1.runningMean, 'bn1.running_mean', r], [p.bn1.runningVar, 'bn1.running_var', r],
    [p.fc2.weight, 'fc2.weight', c * r], [p.fc2.bias, 'fc2.bias', c],
    [p.bn2.weight, 'bn2.weight', c], [p.bn2.bias, 'bn2.bias', c], [p.bn2.runningMean, 'bn2.running_mean', c], [p.bn2.runningVar, 'bn2.running_var', c],
  ];
  for (const [t, name, size] of sizes) checkParam(t, name, [size]);
  if (options.training && n < 2) {
    throw new ShapeError('Meta-ACON in training mode needs batch statistics over at least 2 samples', 'N ≥ 2 in training mode', `N = ${n}`);
  }
  const gpu = options.impl === 'composed' ? null : webgpu();
  if (!gpu) return metaComposed(x, p, n, c, r, fmt, options.training);

  const { backend, ctx } = gpu;
  const ourShape: [number, number, number, number] = fmt === 'NCHW' ? shape : [shape[0], shape[3], shape[1], shape[2]];
  const opts = { training: options.training, layout: fmt, hidden: r };
  const running = [p.bn1.runningMean, p.bn1.runningVar, p.bn2.runningMean, p.bn2.runningVar];
  const op = tf.customGrad((...args: unknown[]) => {
    const inputs = args.slice(0, 11) as tf.Tensor[];
    (args[11] as tf.GradSaveFunc)(inputs);
    const [xx, ...ts] = inputs;
    const bx = bufferOf(backend, xx!);
    const [p1, p2, w1, b1, g1, be1, w2, b2, g2, be2] = ts.map((t) => bufferOf(backend, t)) as GPUBuffer[];
    const current = running.map((v) => bufferOf(backend, v));
    // training moves the running statistics: into fresh tensors (copies of the current ones) that
    // the forward updates in place and the Variables then take; eval only reads the current ones
    const fresh = options.training ? running.map((v) => newTensor(backend, v.shape)) : null;
    const y = newTensor(backend, shape);
    flush(backend);
    const [rm1, rv1, rm2, rv2] = (fresh ? fresh.map((s) => s.buffer) : current) as GPUBuffer[];
    const params: MetaParamSet<GPUBuffer> = {
      p1: p1!, p2: p2!, fc1: { weight: w1!, bias: b1! }, bn1: { weight: g1!, bias: be1!, runningMean: rm1!, runningVar: rv1! },
      fc2: { weight: w2!, bias: b2! }, bn2: { weight: g2!, bias: be2!, runningMean: rm2!, runningVar: rv2! },
    };
    if (fresh) report(ctx.submit((batch) => running.forEach((v, i) => batch.copy(current[i]!, fresh[i]!.buffer, v.size * 4))));
    report(metaAconCForwardGPU(ctx, { x: bx, y: y.buffer }, params, ourShape, opts));
    if (fresh) {
      const moved = fresh.map((s) => s.tensor());
      running.forEach((v, i) => v.assign(moved[i]!));
      tf.dispose(moved);
    }
    return {
      value: y.tensor(),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0]! : dy;
        const [sx, q1, q2, sw1, sb1, sg1, sbe1, sw2, sb2, sg2, sbe2] = saved.map((t) => bufferOf(backend, t)) as GPUBuffer[];
        const [rm1b, rv1b, rm2b, rv2b] = running.map((v) => bufferOf(backend, v));
        const gb = bufferOf(backend, g);
        const out = saved.map((t) => newTensor(backend, t.shape));
        flush(backend);
        const b = out.map((o) => o.buffer);
        const grads: MetaGradSet<GPUBuffer> = {
          dx: b[0]!, p1: b[1]!, p2: b[2]!, fc1: { weight: b[3]!, bias: b[4]! }, bn1: { weight: b[5]!, bias: b[6]! },
          fc2: { weight: b[7]!, bias: b[8]! }, bn2: { weight: b[9]!, bias: b[10]! },
        };
        // the backward reads running statistics only in eval mode and never writes them
        const P: MetaParamSet<GPUBuffer> = {
          p1: q1!, p2: q2!, fc1: { weight: sw1!, bias: sb1! },
          bn1: { weight: sg1!, bias: sbe1!, runningMean: rm1b!, runningVar: rv1b! },
          fc2: { weight: sw2!, bias: sb2! },
          bn2: { weight: sg2!, bias: sbe2!, runningMean: rm2b!, runningVar: rv2b! },
        };
        report(metaAconCBackwardGPU(ctx, { x: sx!, dy: gb }, P, grads, ourShape, opts));
        return out.map((o) => o.tensor());
      },
    };
  });
  return op(x, ...trainable(p));
}

/** The composed fallback: tfjs primitives, autodiff, running statistics updated with tfjs ops. */
function metaComposed(x: tf.Tensor, p: MetaAconCTensors, n: number, c: number, r: number, fmt: DataFormat, training: boolean): tf.Tensor {
  const axes = fmt === 'NCHW' ? [2, 3] : [1, 2];
  const y = tf.tidy(() => {
    const m = tf.mean(x, axes);
    const h1 = tf.add(tf.matMul(m, tf.reshape(p.fc1.weight, [r, c]), false, true), p.fc1.bias);
    const a1 = batchNormComposed(h1, p.bn1.weight, p.bn1.bias, p.bn1.runningMean, p.bn1.runningVar, training);
    const h2 = tf.add(tf.matMul(a1, tf.reshape(p.fc2.weight, [c, r]), false, true), p.fc2.bias);
    const beta = tf.sigmoid(batchNormComposed(h2, p.bn2.weight, p.bn2.bias, p.bn2.runningMean, p.bn2.runningVar, training));
    if (training) {
      for (const [h, s] of [[h1, p.bn1], [h2, p.bn2]] as const) {
        const mean = tf.mean(h, 0);
        const unbiased = tf.div(tf.sum(tf.square(tf.sub(h, mean)), 0), n - 1);
        s.runningMean.assign(tf.add(tf.mul(s.runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
        s.runningVar.assign(tf.add(tf.mul(s.runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }
    }
    return aconCComposed(x, broadcastable(p.p1, n, c, fmt), broadcastable(p.p2, n, c, fmt), broadcastable(beta, n, c, fmt));
  });
  return y;
}

