// The tfjs face and the tf.layers layers are derived from the declarations: a new activation (here a
// made-up one, declared in this file and registered nowhere) gets its tfjs op, with the checks and
// the composed fallback, and its layer class, with weights, inits, config and save/load, with no code
// of its own in src/tfjs or src/layers. The public types keep the shapes the hand-written ones had.
// On the tfjs cpu backend (the composed forms); the fused path is the browser and dawn suites'.
import { expect, expectTypeOf, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfl from '@tensorflow/tfjs-layers';
import { activation, type LayerArg } from '../../src/activations/types';
import { aconCKernels } from '../../src/activations/aconC/kernels';
import { layerClass, layerClasses, AconC, MetaAconC, type MetaAconCArgs } from '../../src/layers/index';
import { hostLayers } from '../../src/ops/hostLayer';
import { ACTIVATIONS } from '../../src/activations/registry';
import { ops, tfjsOp, type MetaAconCTensors } from '../../src/tfjs/index';
import { OptionError, ShapeError } from '../../src/gpu/errors';

await tf.setBackend('cpu');

/** y = x·σ(β·x) + bias·x with β = 1 and bias ~ U(−0.1, 0.1) per channel: Swish with a leak. */
const leakySwish = activation({
  name: 'leakySwish',
  title: 'leaky Swish',
  params: {
    beta: { shape: ['C'], role: 'trainable', init: { kind: 'const', value: 1 } },
    leak: { shape: ['C'], role: 'trainable', init: { kind: 'uniform', lo: -0.1, hi: 0.1 } },
  },
  kernels: aconCKernels as never, // never reached on the cpu backend
  composed: {
    y: (tf, x, p, o) => {
      const shape = o.dataFormat === 'NCHW' ? [1, o.dims.C!, 1, 1] : [1, 1, 1, o.dims.C!];
      const [b, l] = [tf.reshape(p.beta, shape), tf.reshape(p.leak, shape)];
      return tf.add(tf.mul(x, tf.sigmoid(tf.mul(b, x))), tf.mul(l, x));
    },
  },
  layer: { className: 'LeakySwish', args: [] },
  bench: { bytes: { forward: [8, 8], backward: [12, 16] }, tfjs: ['forward'] },
});

test('a new declaration gets a tfjs op: checks with the layout hint, composed fallback, gradients', () => {
  const op = tfjsOp(leakySwish);
  const x = tf.tensor4d([-2, -1, 0, 1, 2, 3], [1, 1, 2, 3]);
  const p = { beta: tf.ones([3]), leak: tf.fill([3], 0.5) };
  const y = op(x, p);
  const want = [-2, -1, 0, 1, 2, 3].map((v) => v / (1 + Math.exp(-v)) + 0.5 * v);
  Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  const [, gBeta, gLeak] = tf.grads((a: tf.Tensor, b: tf.Tensor, l: tf.Tensor) => op(a, { beta: b, leak: l }))([
    x,
    p.beta,
    p.leak,
  ]);
  expect(gLeak!.shape).toEqual([3]);
  expect(gBeta!.dataSync().every(Number.isFinite)).toBe(true);
  // the checks of the generic op, named by the declaration's leaves
  const nchw = tf.zeros([2, 3, 4, 4]);
  expect(() => op(nchw, p)).toThrow(ShapeError);
  expect(() => op(nchw, p)).toThrow(
    /beta does not fit the input \[2, 3, 4, 4\] as NHWC \(the input looks channels-first/,
  );
  expect(() => op(x, p, { impl: 'fast' as never })).toThrow(OptionError);
  tf.dispose([x, y, nchw, gBeta!, gLeak!, p.beta, p.leak]);
});

test('a new declaration gets a tf.layers layer: weights, seeded inits, config, save and load', async () => {
  const LeakySwish = layerClass(leakySwish);
  tf.serialization.registerClass(LeakySwish as never);
  const model = tfl.sequential({ layers: [new LeakySwish({ inputShape: [2, 2, 4], seed: 3, name: 'act' })] });
  const layer = model.layers[0] as InstanceType<typeof LeakySwish>;
  expect(layer.weights.map((w) => w.originalName)).toEqual(['act/beta', 'act/leak']);
  expect(layer.channels).toBe(4);
  expect(Array.from(layer.beta!.read().dataSync())).toEqual([1, 1, 1, 1]);
  const leak = layer.leak!.read().dataSync();
  expect(leak.every((v) => Math.abs(v) <= 0.1)).toBe(true);
  // seeded: the first random init takes the seed itself
  const again = new LeakySwish({ seed: 3 });
  again.build([null, 2, 2, 4]);
  expect(again.leak!.read().dataSync()).toEqual(leak);
  expect(layer.getConfig()).toMatchObject({ dataFormat: 'channelsLast', impl: 'auto', seed: 3 });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: {} as never })));
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  const x = tf.randomNormal([2, 2, 2, 4]);
  const [y0, y1] = [model, loaded].map((m) => m.predict(x) as tf.Tensor);
  expect(y1!.dataSync()).toEqual(y0!.dataSync());
  tf.dispose([x, y0!, y1!]);
  model.dispose();
  loaded.dispose();
});

test('the public types of the tfjs face and the layers', () => {
  type V = tf.Variable;
  type T = tf.Tensor;
  expectTypeOf<MetaAconCTensors>().toEqualTypeOf<{
    p1: T;
    p2: T;
    fc1: { weight: T; bias: T };
    bn1: { weight: T; bias: T; runningMean: V; runningVar: V };
    fc2: { weight: T; bias: T };
    bn2: { weight: T; bias: T; runningMean: V; runningVar: V };
  }>();
  expectTypeOf<Parameters<typeof ops.aconC>[1]>().toEqualTypeOf<{ p1: T; p2: T; beta: T }>();
  expectTypeOf<Parameters<typeof ops.metaAconC>['length']>().toEqualTypeOf<3>();
  type Meta = InstanceType<typeof MetaAconC>;
  expectTypeOf<Meta['fc1']>().toEqualTypeOf<{ weight: tfl.LayerVariable; bias: tfl.LayerVariable } | null>();
  expectTypeOf<Meta['r']>().toEqualTypeOf<number>();
  expectTypeOf<Meta['hidden']>().toEqualTypeOf<number | null>();
  expectTypeOf<ReturnType<Meta['computeBeta']>>().toEqualTypeOf<tf.Tensor2D>();
  expectTypeOf<InstanceType<typeof AconC>['beta']>().toEqualTypeOf<tfl.LayerVariable | null>();
  expectTypeOf<MetaAconCArgs['r']>().toEqualTypeOf<number | undefined>();
  expect([AconC.className, MetaAconC.className]).toEqual(['AconC', 'MetaAconC']);
});

test("every registered layer argument (Meta-ACON's r, ACON-FReLU's stride) refuses what it cannot take: an OptionError in the tfjs op, the tf.layers layer and the host layer", () => {
  const x = tf.zeros([1, 4, 4, 8]);
  let tried = 0;
  for (const act of ACTIVATIONS)
    for (const a of act.layer.args as readonly LayerArg[]) {
      const bad: unknown[] = [0, -1, 1.5, NaN, Infinity, '2', [2], {}];
      if (a.values) bad.push(Math.max(...a.values) + 1);
      for (const v of bad) {
        const what = `${act.name} ${a.name} ${JSON.stringify(v) ?? String(v)}`;
        const Layer = (layerClasses as Record<string, new (c: object) => unknown>)[act.layer.className]!;
        const Host = (hostLayers as Record<string, new (width: number, ...args: unknown[]) => unknown>)[
          act.layer.className
        ]!;
        const hostArgs = act.layer.args.map((b) => (b === a ? v : b.default));
        // the error is the argument's (not, say, the op's missing options.training or parameters)
        const refused = (f: () => unknown, where: string) => {
          expect(f, `${where}: ${what}`).toThrow(OptionError);
          expect(f, `${where}: ${what}`).toThrow(new RegExp(`: ${a.name}\\b.* is not`));
        };
        refused(() => new Layer({ [a.name]: v }), 'layer');
        refused(() => new Host(8, ...hostArgs), 'host');
        const op = (ops as Record<string, (...a: unknown[]) => unknown>)[act.name]!;
        refused(() => op(x, {}, { training: false, [a.name]: v }), 'op');
        tried++;
      }
      // and the declared default is taken
      expect(
        () =>
          new (layerClasses as Record<string, new (c: object) => unknown>)[act.layer.className]!({
            [a.name]: a.default,
          }),
      ).not.toThrow();
    }
  x.dispose();
  expect(tried).toBeGreaterThanOrEqual(16); // Meta-ACON's r and ACON-FReLU's stride at least
});
