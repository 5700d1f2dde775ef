/**
 * TensorFlow.js face: differentiable aconC and metaAconC for tf.Tensors, channels-last (NHWC) by
 * default as tfjs itself is; `dataFormat: 'NCHW'` takes channels-first tensors.
 *
 * On the `webgpu` backend they record our WGSL kernels into the backend's own command stream, as
 * tfjs's own kernels are recorded (see ./stream.ts): they read the input tensors' GPUBuffers and
 * write into buffers the backend allocates for the outputs (no download, no upload, no copy, no
 * submit of their own), so a model's ACON layers batch with its convolutions. Every input is
 * validated synchronously before any output exists, and bad input throws the library's typed
 * errors from the call. Gradients come from tf.customGrad with our analytic backward kernels. On
 * any other backend the same formulas run as tfjs primitives (src/tfjs/composed.ts) and tfjs's
 * autodiff gives the gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GpuContext } from '../gpu/context';
import { BatchSizeError, DTypeError, OptionError, ShapeError } from '../gpu/errors';
import { recordBackward, recordForward } from '../ops/forms';
import { aconC as aconCDecl } from '../activations/aconC/declaration';
import {
  metaAconC as metaAconCDecl,
  type MetaAconCGrads,
  type MetaAconCParams,
} from '../activations/metaAconC/declaration';
import { BN_MOMENTUM } from '../kernels/batchnorm';
import type { DataFormat } from '../core/types';
import { checkDataFormat, checkFits } from '../ops/validate';
import { aconCComposed, batchNormComposed } from './composed';
import { isStreamCompatible, TfjsStream, type WebGPUBackendLike } from './stream';

/** Memory layout of a 4D tensor, named as tf.conv2d names it: 'NHWC' (tfjs's default) or 'NCHW'. */
export type { DataFormat };
/** 'auto': our kernels on the webgpu backend, tfjs primitives elsewhere; 'composed': primitives always. */
export type Impl = 'auto' | 'composed';

const contexts = new WeakMap<GPUDevice, GpuContext>();

/** Our dispatcher on the tfjs webgpu backend's device, or null on any other backend. */
function webgpu(): { backend: WebGPUBackendLike; ctx: GpuContext } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  let ctx = contexts.get(backend.device);
  if (!ctx) {
    // once per device: the backend's fields this face records through (a tfjs upgrade fails here, loudly)
    if (!isStreamCompatible(backend)) {
      throw new Error(
        'acon-webgpu/tfjs: this @tensorflow/tfjs-backend-webgpu is not the 4.x this library records into; use impl: "composed"',
      );
    }
    contexts.set(backend.device, (ctx = GpuContext.fromDevice(backend.device, { checkErrors: false })));
  }
  return { backend, ctx };
}

function checkImpl(i: unknown): Impl {
  if (i !== 'auto' && i !== 'composed')
    throw new OptionError('impl is not a known implementation', '"auto" or "composed"', JSON.stringify(i));
  return i;
}

function checkX(x: tf.Tensor, name = 'x'): [number, number, number, number] {
  if (!(x instanceof tf.Tensor)) throw new DTypeError(`${name} must be a tf.Tensor`, 'tf.Tensor', typeof x);
  if (x.rank !== 4)
    throw new ShapeError(`${name} must be a 4D tensor`, 'rank 4', `rank ${x.rank} [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new DTypeError(`${name} must be float32`, 'float32', x.dtype);
  if (x.size === 0) throw new ShapeError(`${name} is empty`, 'a non-empty tensor', `[${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

/**
 * Checks a per-channel parameter against the input; when the sizes only fit the other data format,
 * says so (channels-first data passed as channels-last, or the reverse).
 */
function checkParam(t: tf.Tensor, name: string, sizes: number[], shape?: number[], fmt?: DataFormat): void {
  if (!(t instanceof tf.Tensor)) throw new DTypeError(`${name} must be a tf.Tensor`, 'tf.Tensor', typeof t);
  if (t.dtype !== 'float32') throw new DTypeError(`${name} must be float32`, 'float32', t.dtype);
  if (!sizes.includes(t.size)) {
    const other = shape && fmt ? (fmt === 'NHWC' ? shape[1] : shape[3]) : undefined;
    const hint =
      other === t.size
        ? ` (the input looks ${fmt === 'NHWC' ? 'channels-first: pass dataFormat "NCHW"' : 'channels-last: pass dataFormat "NHWC"'})`
        : '';
    const input = shape && fmt ? ` [${shape.join(', ')}] as ${fmt}` : '';
    throw new ShapeError(
      `${name} does not fit the input${input}${hint}`,
      `${sizes.join(' or ')} values`,
      `${t.size} values, shape [${t.shape.join(', ')}]`,
    );
  }
}

/** [N, C] from a 4D shape in either format. */
const nc = (s: number[], f: DataFormat): [number, number] => [s[0]!, f === 'NCHW' ? s[1]! : s[3]!];
/** The logical [N, C, H, W] of a tensor in either format (what our kernels take, with the layout). */
const logical = (s: [number, number, number, number], f: DataFormat): [number, number, number, number] =>
  f === 'NCHW' ? s : [s[0], s[3], s[1], s[2]];
/** A [C] or [N·C] parameter reshaped to broadcast against x. */
function broadcastable(t: tf.Tensor, n: number, c: number, f: DataFormat): tf.Tensor {
  const lead = t.size === c ? 1 : n;
  return tf.reshape(t, f === 'NCHW' ? [lead, c, 1, 1] : [lead, 1, 1, c]);
}

/**
 * ACON-C on a 4D float32 tensor, NHWC by default (`dataFormat: 'NCHW'` for channels-first).
 * p1, p2: C values (any shape, e.g. [C] or [1, 1, 1, C]); β: C values, or N·C for a per-sample β.
 * Differentiable in all four.
 */
export function aconC(
  x: tf.Tensor,
  p1: tf.Tensor,
  p2: tf.Tensor,
  beta: tf.Tensor,
  options: { dataFormat?: DataFormat; impl?: Impl } = {},
): tf.Tensor {
  const fmt = checkDataFormat(options.dataFormat ?? 'NHWC');
  const shape = checkX(x);
  const [n, c] = nc(shape, fmt);
  checkParam(p1, 'p1', [c], shape, fmt);
  checkParam(p2, 'p2', [c], shape, fmt);
  checkParam(beta, 'beta', [c, n * c], shape, fmt);
  const gpu = checkImpl(options.impl ?? 'auto') === 'composed' ? null : webgpu();
  if (!gpu) {
    return tf.tidy(() =>
      aconCComposed(x, broadcastable(p1, n, c, fmt), broadcastable(p2, n, c, fmt), broadcastable(beta, n, c, fmt)),
    );
  }
  const { backend, ctx } = gpu;
  checkFits(x.size * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  const ourShape = logical(shape, fmt);
  const opts = { dataFormat: fmt, betaLength: beta.size };
  const op = tf.customGrad((...args: unknown[]) => {
    const [xx, a1, a2, b] = args as tf.Tensor[];
    (args[4] as tf.GradSaveFunc)([xx!, a1!, a2!, b!]);
    const stream = new TfjsStream(backend);
    const [bx, b1, b2, bb] = [xx!, a1!, a2!, b!].map((t) => stream.bufferOf(t)) as GPUBuffer[];
    const y = stream.output(shape);
    recordForward(
      ctx,
      aconCDecl,
      stream,
      { x: bx!, params: { p1: b1!, p2: b2!, beta: bb! }, y: y.buffer },
      ourShape,
      opts,
    );
    stream.end();
    return {
      value: y.tensor(),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        // the saved inputs: tfjs keeps them alive until the backward has run
        const [xx, a1, a2, b] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const g = Array.isArray(dy) ? dy[0]! : dy;
        const stream = new TfjsStream(backend);
        const [bx, bdy, b1, b2, bb] = [xx, g, a1, a2, b].map((t) => stream.bufferOf(t)) as GPUBuffer[];
        const out = [xx, a1, a2, b].map((t) => stream.output(t.shape));
        const [dx, gp1, gp2, gbeta] = out.map((o) => o.buffer) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
        const grads = { dx, p1: gp1, p2: gp2, beta: gbeta };
        recordBackward(
          ctx,
          aconCDecl,
          stream,
          { x: bx!, dy: bdy!, params: { p1: b1!, p2: b2!, beta: bb! }, grads },
          ourShape,
          opts,
        );
        stream.end();
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
const trainable = (p: MetaAconCTensors) => [
  p.p1,
  p.p2,
  p.fc1.weight,
  p.fc1.bias,
  p.bn1.weight,
  p.bn1.bias,
  p.fc2.weight,
  p.fc2.bias,
  p.bn2.weight,
  p.bn2.bias,
];

/**
 * Meta-ACON-C on a 4D float32 tensor: β = σ(BN2(fc2(BN1(fc1(mean_HW(x)))))) per sample and channel.
 * fc1.weight has R·C values ([R, C] or [R, C, 1, 1]), fc2.weight C·R. Differentiable in x and every
 * trainable parameter; in training mode (N ≥ 2) the running statistics move.
 */
export function metaAconC(
  x: tf.Tensor,
  p: MetaAconCTensors,
  options: { training: boolean; dataFormat?: DataFormat; impl?: Impl },
): tf.Tensor {
  if (typeof options?.training !== 'boolean') {
    throw new OptionError(
      'metaAconC: options.training is required (batch or running statistics)',
      'true or false',
      String(options?.training),
    );
  }
  const fmt = checkDataFormat(options.dataFormat ?? 'NHWC');
  const shape = checkX(x);
  const [n, c] = nc(shape, fmt);
  checkParam(p.p1, 'p1', [c], shape, fmt);
  const r = p.fc1.bias.size;
  const sizes: [tf.Tensor, string, number][] = [
    [p.p2, 'p2', c],
    [p.fc1.weight, 'fc1.weight', r * c],
    [p.fc1.bias, 'fc1.bias', r],
    [p.bn1.weight, 'bn1.weight', r],
    [p.bn1.bias, 'bn1.bias', r],
    [p.bn1.runningMean, 'bn1.running_mean', r],
    [p.bn1.runningVar, 'bn1.running_var', r],
    [p.fc2.weight, 'fc2.weight', c * r],
    [p.fc2.bias, 'fc2.bias', c],
    [p.bn2.weight, 'bn2.weight', c],
    [p.bn2.bias, 'bn2.bias', c],
    [p.bn2.runningMean, 'bn2.running_mean', c],
    [p.bn2.runningVar, 'bn2.running_var', c],
  ];
  for (const [t, name, size] of sizes) checkParam(t, name, [size]);
  if (options.training && n < 2) {
    throw new BatchSizeError(
      'Meta-ACON in training mode normalises β over the batch, and batch statistics over one sample are undefined; use training: false for a single sample',
      'N ≥ 2 in training mode',
      `N = ${n}`,
    );
  }
  const gpu = checkImpl(options.impl ?? 'auto') === 'composed' ? null : webgpu();
  if (!gpu) return metaComposed(x, p, n, c, r, fmt, options.training);

  const { backend, ctx } = gpu;
  checkFits(x.size * 4, ctx.maxTensorBytes, `a [${shape.join(', ')}] float32 tensor`);
  const ourShape = logical(shape, fmt);
  const opts = { training: options.training, dataFormat: fmt, hidden: r };
  const running = [p.bn1.runningMean, p.bn1.runningVar, p.bn2.runningMean, p.bn2.runningVar];
  const params = (b: GPUBuffer[], stats: GPUBuffer[]): MetaAconCParams<GPUBuffer> => ({
    p1: b[0]!,
    p2: b[1]!,
    fc1: { weight: b[2]!, bias: b[3]! },
    bn1: { weight: b[4]!, bias: b[5]!, runningMean: stats[0]!, runningVar: stats[1]! },
    fc2: { weight: b[6]!, bias: b[7]! },
    bn2: { weight: b[8]!, bias: b[9]!, runningMean: stats[2]!, runningVar: stats[3]! },
  });
  const op = tf.customGrad((...args: unknown[]) => {
    const inputs = args.slice(0, args.length - 1) as tf.Tensor[];
    (args[args.length - 1] as tf.GradSaveFunc)(inputs);
    const [xx, ...ts] = inputs;
    const stream = new TfjsStream(backend);
    const bx = stream.bufferOf(xx!);
    const trainables = ts.map((t) => stream.bufferOf(t));
    const current = running.map((v) => stream.bufferOf(v));
    // training moves the running statistics: into fresh tensors (copies of the current ones) that
    // the forward updates in place and the Variables then take; eval only reads the current ones
    const fresh = options.training ? running.map((v) => stream.output(v.shape)) : null;
    const y = stream.output(shape);
    if (fresh) running.forEach((v, i) => stream.copy(current[i]!, fresh[i]!.buffer, v.size * 4));
    recordForward(
      ctx,
      metaAconCDecl,
      stream,
      { x: bx, y: y.buffer, params: params(trainables, fresh ? fresh.map((s) => s.buffer) : current) },
      ourShape,
      opts,
    );
    stream.end();
    if (fresh) {
      const moved = fresh.map((s) => s.tensor());
      running.forEach((v, i) => v.assign(moved[i]!));
      tf.dispose(moved);
    }
    return {
      value: y.tensor(),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0]! : dy;
        const stream = new TfjsStream(backend);
        const [sx, ...sp] = saved.map((t) => stream.bufferOf(t));
        // the backward reads running statistics only in eval mode and never writes them
        const stats = running.map((v) => stream.bufferOf(v));
        const gb = stream.bufferOf(g);
        const out = saved.map((t) => stream.output(t.shape));
        const b = out.map((o) => o.buffer);
        const grads: MetaAconCGrads<GPUBuffer> = {
          dx: b[0]!,
          p1: b[1]!,
          p2: b[2]!,
          fc1: { weight: b[3]!, bias: b[4]! },
          bn1: { weight: b[5]!, bias: b[6]! },
          fc2: { weight: b[7]!, bias: b[8]! },
          bn2: { weight: b[9]!, bias: b[10]! },
        };
        recordBackward(
          ctx,
          metaAconCDecl,
          stream,
          { x: sx!, dy: gb, params: params(sp, stats), grads },
          ourShape,
          opts,
        );
        stream.end();
        return out.map((o) => o.tensor());
      },
    };
  });
  return op(x, ...trainable(p));
}

/** The composed fallback: tfjs primitives, autodiff, running statistics updated with tfjs ops. */
function metaComposed(
  x: tf.Tensor,
  p: MetaAconCTensors,
  n: number,
  c: number,
  r: number,
  fmt: DataFormat,
  training: boolean,
): tf.Tensor {
  const axes = fmt === 'NCHW' ? [2, 3] : [1, 2];
  const y = tf.tidy(() => {
    const m = tf.mean(x, axes);
    const h1 = tf.add(tf.matMul(m, tf.reshape(p.fc1.weight, [r, c]), false, true), p.fc1.bias);
    const a1 = batchNormComposed(h1, p.bn1.weight, p.bn1.bias, p.bn1.runningMean, p.bn1.runningVar, training);
    const h2 = tf.add(tf.matMul(a1, tf.reshape(p.fc2.weight, [c, r]), false, true), p.fc2.bias);
    const beta = tf.sigmoid(
      batchNormComposed(h2, p.bn2.weight, p.bn2.bias, p.bn2.runningMean, p.bn2.runningVar, training),
    );
    if (training) {
      for (const [h, s] of [
        [h1, p.bn1],
        [h2, p.bn2],
      ] as const) {
        const mean = tf.mean(h, 0);
        const unbiased = tf.div(tf.sum(tf.square(tf.sub(h, mean)), 0), n - 1);
        s.runningMean.assign(tf.add(tf.mul(s.runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
        s.runningVar.assign(tf.add(tf.mul(s.runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }
    }
    return aconCComposed(
      x,
      broadcastable(p.p1, n, c, fmt),
      broadcastable(p.p2, n, c, fmt),
      broadcastable(beta, n, c, fmt),
    );
  });
  return y;
}
