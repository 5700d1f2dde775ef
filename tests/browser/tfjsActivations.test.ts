// The tfjs op and the tf.layers layer every registered activation gets from its declaration, with no
// test code of its own, on the tfjs webgpu backend: the fused op's value and every gradient equal the
// host-array op's bitwise (the same kernels on the same bits), in both data formats and, where the
// activation has one, both modes; the composed form (the fallback on other backends) agrees with
// them; the layer builds its declared weights, predicts with the op, and survives save → load.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ACTIVATIONS } from '../../src/activations/registry';
import { aconFReLU } from '../../src/activations/aconFRelu/declaration';
import { buildTree, dimsOf, withTrainable, paramLeaves, readLeaf, resolveShape } from '../../src/activations/params';
import type { AnyActivation } from '../../src/activations/types';
import type { DataFormat, Shape4 } from '../../src/core/types';
import { GpuContext } from '../../src/gpu/context';
import { BatchSizeError, LimitError } from '../../src/gpu/errors';
import { hostBackward, hostForward } from '../../src/ops/forms';
import { initialParams } from '../../src/ops/hostLayer';
import { normal, rng } from '../../src/ops/random';
import { layerClasses } from '../../src/layers/index';
import { tfjsOp } from '../../src/tfjs/index';

let ctx: GpuContext;
beforeAll(async () => {
  await tf.setBackend('webgpu');
  await tf.ready();
  ctx = await GpuContext.create();
});
afterAll(() => ctx.destroy());

const read = async (t: tf.Tensor) => Array.from(await t.data());
const shape: Shape4 = [3, 12, 5, 5];
const physical = ([n, c, h, w]: Shape4, f: DataFormat): [number, number, number, number] =>
  f === 'NCHW' ? [n, c, h, w] : [n, h, w, c];

describe.each((ACTIVATIONS as readonly AnyActivation[]).map((a) => [a.name, a] as const))('%s', (_, act) => {
  const leaves = paramLeaves(act.params);
  const trainable = leaves.filter((l) => l.decl.role === 'trainable');
  const modes =
    act.batchStatistics !== undefined || leaves.some((l) => l.decl.role === 'running') ? [true, false] : [null];

  // each value of a layer argument that has a list of them (ACON-FReLU's stride 1 and 2), else the defaults
  const variants: Record<string, number>[] = [{}];
  for (const a of act.layer.args)
    if (a.values)
      variants.splice(0, variants.length, ...variants.flatMap((v) => a.values!.map((k) => ({ ...v, [a.name]: k }))));
  const cases = variants.flatMap((args) => (['NCHW', 'NHWC'] as DataFormat[]).map((f) => [f, args] as const));

  test.each(cases)(
    'the op (%s, %j): value and every gradient equal the host op bitwise; the composed form agrees',
    async (dataFormat, args) => {
      const [N, C] = shape;
      const dims = { N, ...dimsOf(act, C) };
      const p = initialParams(act, dims, 5, 'fixture');
      const r = rng(6);
      const x = normal(r, N * C * 25, 2);
      const yShape = act.outShape ? act.outShape(shape, args) : shape;
      const dy = normal(
        r,
        yShape.reduce((a, b) => a * b, 1),
      );
      const op = tfjsOp(act) as (x: tf.Tensor, p: unknown, o: object) => tf.Tensor;
      for (const training of modes) {
        const mode = training === null ? { ...args } : { ...args, training };
        // fresh tensors per mode: a training call moves the running statistics, as the host op's does
        const params = buildTree(leaves, (l) => {
          const v = tf.tensor(readLeaf(p, l) as Float32Array, resolveShape(l.decl.shape, dims));
          return l.decl.role === 'running' ? tf.variable(v, false) : v;
        });
        const wantY = await hostForward(ctx, act, x, shape, p as never, { ...mode, dataFormat } as never);
        const want = await hostBackward(ctx, act, x, dy, shape, p as never, { ...mode, dataFormat } as never);
        const tx = tf.tensor4d(x, physical(shape, dataFormat));
        const tdy = tf.tensor4d(dy, physical(yShape, dataFormat));
        const inputs = [tx!, ...trainable.map((l) => readLeaf(params, l) as tf.Tensor)];
        // the op with x and the trainable parameters given (in training, the running ones move)
        const call = (impl: 'auto' | 'composed', xx: tf.Tensor, ps: tf.Tensor[]) =>
          op(xx, withTrainable(leaves, params, ps), { ...mode, dataFormat, impl });
        const y = op(tx!, params, { ...mode, dataFormat });
        const yHost = wantY instanceof Float32Array ? wantY : (wantY as { y: Float32Array }).y;
        expect(await read(y), `y ${String(training)}`).toEqual(Array.from(yHost));
        const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) => call('auto', xx, ps))(inputs, tdy);
        expect(await read(grads[0]!), `dx ${String(training)}`).toEqual(Array.from(want.dx as Float32Array));
        for (const [i, l] of trainable.entries())
          expect(await read(grads[i + 1]!), l.name).toEqual(Array.from(readLeaf(want, l) as Float32Array));
        // the composed form in eval mode (training's batch statistics amplify rounding: the
        // reference-bound suites cover it): a handful of float32 ops per element, each within u of
        // its inputs' scale; 1e-4 of the output's scale is ~800 u, and a wrong formula is off by O(1)
        if (training !== true) {
          const composed = await read(call('composed', tx!, inputs.slice(1)));
          const fused = await read(y);
          const scale = Math.max(...fused.map(Math.abs));
          const err = Math.max(...fused.map((v, i) => Math.abs(v - composed[i]!)));
          expect(err).toBeLessThanOrEqual(1e-4 * scale);
        } else {
          // the composed form's training call moves the running statistics as the host op does
          // (PyTorch's momentum 0.1 and unbiased batch variance; the host op's are checked against
          // the float64 reference in the kernel suite). Each is 0.9·r + 0.1·(a batch mean or
          // variance over N = 3) of values both compute in float32 from a dozen-term sum: they
          // differ by rounding (≤ 1.2e-7 of each statistic’s scale measured); 1e-4 leaves room, and a
          // biased variance would be off by a third of the batch part (N/(N − 1) = 1.5)
          const fresh = buildTree(leaves, (l) => {
            const v = tf.tensor(readLeaf(p, l) as Float32Array, resolveShape(l.decl.shape, dims));
            return l.decl.role === 'running' ? tf.variable(v, false) : v;
          });
          const yc = op(tx!, fresh, { ...mode, dataFormat, impl: 'composed' });
          for (const l of leaves.filter((leaf) => leaf.decl.role === 'running')) {
            const got = await read(readLeaf(fresh, l) as tf.Tensor);
            const want = Array.from(readLeaf(wantY as never, l) as Float32Array);
            const scale = Math.max(...want.map(Math.abs));
            const err = Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
            expect(err, `${l.name}: composed vs host after a training call`).toBeLessThanOrEqual(1e-4 * scale);
          }
          // and its y and every gradient in training mode against the host op's (which the kernel suite
          // holds to the float64 reference's derived bounds). Both are float32 with sums over N·H·W ≤ 75
          // positions in different orders: γ₇₅ ≈ 4.5e-6 of the summed terms' magnitudes, and the
          // normalisation divides by batch standard deviations of order 1 here. The scale: y's own,
          // and for the gradients the largest of them all, since a parameter feeding a batch norm
          // (ACON-FReLU's conv bias, Meta's fc1.bias) has a gradient of exactly 0 in training mode,
          // rounding noise from terms of the other gradients' size. 1e-4 of it leaves a margin over
          // the differences measured (at most 3.4e-6 of each one's own scale where it is not 0), and a wrong term
          // is off by O(1).
          const trained = buildTree(leaves, (l) => {
            const v = tf.tensor(readLeaf(p, l) as Float32Array, resolveShape(l.decl.shape, dims));
            return l.decl.role === 'running' ? tf.variable(v, false) : v;
          });
          const composedCall = (xx: tf.Tensor, ...ps: tf.Tensor[]) =>
            op(xx, withTrainable(leaves, trained, ps), { ...mode, dataFormat, impl: 'composed' });
          const gc = tf.grads(composedCall)(inputs, tdy);
          const wantGrads = [want.dx as Float32Array, ...trainable.map((l) => readLeaf(want, l) as Float32Array)];
          const scaleOf = (a: Float32Array) => Math.max(...Array.from(a, Math.abs));
          const gradScale = Math.max(...wantGrads.map(scaleOf));
          const near = async (what: string, t: tf.Tensor, w: Float32Array, scale: number) => {
            const got = await read(t);
            const err = Math.max(...Array.from(w, (v, i) => Math.abs(v - got[i]!)));
            expect(err, `${what}: composed vs host in training mode`).toBeLessThanOrEqual(1e-4 * scale);
          };
          await near('y', yc, yHost, scaleOf(yHost));
          const names = ['dx', ...trainable.map((l) => l.name)];
          for (const [i, w] of wantGrads.entries()) await near(names[i]!, gc[i]!, w, gradScale);
          tf.dispose([yc, ...gc, ...leaves.flatMap((l) => [readLeaf(fresh, l), readLeaf(trained, l)] as tf.Tensor[])]);
        }
        tf.dispose([y, ...grads, tx!, tdy!, ...leaves.map((l) => readLeaf(params, l) as tf.Tensor)]);
      }
    },
  );

  // Batch statistics (Meta-ACON's over N, ACON-FReLU's over N·Ho·Wo): a training call with one
  // value per channel to normalise over ([1, C, 1, 1]) is a BatchSizeError on every path, the host
  // forms, the tfjs op fused and composed (whose batch variance would divide by N − 1 = 0) and the
  // layer, with nothing left allocated; [2, C, 1, 1] runs.
  test.skipIf(act.batchStatistics === undefined)(
    'a training call with one value per channel to normalise over: BatchSizeError on every path, nothing allocated',
    async () => {
      const C = shape[1];
      const dims = { N: 1, ...dimsOf(act, C) };
      const p = initialParams(act, dims, 5, 'fixture');
      const one: Shape4 = [1, C, 1, 1];
      const x1 = normal(rng(8), C);
      await expect(hostForward(ctx, act, x1, one, p as never, { training: true } as never)).rejects.toThrow(
        BatchSizeError,
      );
      await expect(hostBackward(ctx, act, x1, x1, one, p as never, { training: true } as never)).rejects.toThrow(
        BatchSizeError,
      );
      const params = buildTree(leaves, (l) => {
        const v = tf.tensor(readLeaf(p, l) as Float32Array, resolveShape(l.decl.shape, dims));
        return l.decl.role === 'running' ? tf.variable(v, false) : v;
      });
      const op = tfjsOp(act) as (x: tf.Tensor, p: unknown, o: object) => tf.Tensor;
      const Layer = (layerClasses as Record<string, new (args: object) => tfl.layers.Layer>)[act.layer.className]!;
      const layer = new Layer({ seed: 3 });
      const [x, x2] = [tf.tensor4d(x1, [1, 1, 1, C]), tf.tensor4d(normal(rng(9), 2 * C), [2, 1, 1, C])];
      layer.apply(x2); // built (eval mode)
      const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
      for (const impl of ['auto', 'composed'])
        expect(() => op(x, params, { training: true, impl }), impl).toThrow(BatchSizeError);
      expect(() => layer.apply(x, { training: true })).toThrow(BatchSizeError);
      expect([tf.memory().numTensors, tf.engine().backend.numDataIds()]).toEqual(before);
      const y = op(x2, params, { training: true });
      expect(y.shape).toEqual([2, 1, 1, C]);
      tf.dispose([y, x, x2, ...leaves.map((l) => readLeaf(params, l) as tf.Tensor)]);
      layer.dispose();
    },
  );

  test('the layer: declared weights, predict with the op, save → load gives the same weights and outputs', async () => {
    const Layer = (layerClasses as Record<string, new (args: object) => tfl.layers.Layer>)[act.layer.className]!;
    const model = tfl.sequential({ layers: [new Layer({ inputShape: [5, 5, 12], seed: 3, name: 'act' })] });
    // tf.layers lists the trainable weights first, then the others, each in declaration order
    const names = (ls: typeof leaves) => ls.map((l) => `act/${l.name}`);
    const running = leaves.filter((l) => l.decl.role === 'running');
    expect(model.layers[0]!.weights.map((w) => w.originalName)).toEqual([...names(trainable), ...names(running)]);
    expect(model.layers[0]!.trainableWeights.length).toBe(trainable.length);
    const x = tf.tensor4d(normal(rng(7), 2 * 300, 2), [2, 5, 5, 12]);
    const y = model.predict(x) as tf.Tensor;
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(JSON.stringify(artifacts!.modelTopology)).toContain(`"class_name":"${act.layer.className}"`);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.layers[0]).toBeInstanceOf(Layer);
    const weights = async (m: tfl.LayersModel) => Promise.all(m.getWeights().map(read));
    expect(await weights(loaded)).toEqual(await weights(model));
    const y2 = loaded.predict(x) as tf.Tensor;
    expect(await read(y2)).toEqual(await read(y));
    tf.dispose([x, y, y2]);
    model.dispose();
    loaded.dispose();
  });
});

// ACON-FReLU normalises over N·Ho·Wo, not N: one sample of a 1×2 plane gives two positions at stride
// 1 and one at stride 2. And a call its kernels refuse (N·Ho·Wo past 2^24: a LimitError from their
// checks) leaves nothing allocated: the checks run before the outputs are.
describe('aconFReLU: batch statistics over N·Ho·Wo, refused calls allocate nothing', () => {
  const op = tfjsOp(aconFReLU as AnyActivation) as (x: tf.Tensor, p: unknown, o: object) => tf.Tensor;
  const leaves = paramLeaves(aconFReLU.params);
  const tensors = (C: number) =>
    buildTree(leaves, (l) => {
      const v = tf.tensor(
        readLeaf(initialParams(aconFReLU, { N: 1, C }, 5, 'fixture'), l) as Float32Array,
        resolveShape(l.decl.shape, { C }),
      );
      return l.decl.role === 'running' ? tf.variable(v, false) : v;
    });
  const free = (params: unknown) => tf.dispose(leaves.map((l) => readLeaf(params, l) as tf.Tensor));

  test('[1, 3, 1, 2] (NHWC [1, 1, 2, 3]): stride 1 trains on its two positions; stride 2 (one) is a BatchSizeError', async () => {
    const params = tensors(3);
    const x = tf.tensor4d(normal(rng(10), 6), [1, 1, 2, 3]);
    for (const impl of ['auto', 'composed']) {
      const y = op(x, params, { training: true, stride: 1, impl });
      expect(y.shape).toEqual([1, 1, 2, 3]);
      expect((await y.data()).every(Number.isFinite), impl).toBe(true);
      y.dispose();
      expect(() => op(x, params, { training: true, stride: 2, impl }), impl).toThrow(BatchSizeError);
    }
    const Layer = layerClasses.AconFReLU as unknown as new (args: object) => tfl.layers.Layer;
    expect(() => new Layer({ stride: 2 }).apply(x, { training: true })).toThrow(/values per channel \(N·Ho·Wo\)/);
    free(params);
    x.dispose();
  });

  test('a training forward past 2^24 positions per channel ([1, 1, 4097, 4097]): LimitError, no tensor or GPU buffer left', () => {
    const params = tensors(1);
    const x = tf.zeros([1, 4097, 4097, 1]);
    const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
    expect(() => op(x, params, { training: true })).toThrow(LimitError);
    expect([tf.memory().numTensors, tf.engine().backend.numDataIds()]).toEqual(before);
    free(params);
    x.dispose();
  });
});
