// Every WGSL module compiles on this engine with no message at all (no error, warning or info), and
// every entry point of every library module is created as a pipeline and run, under the pipeline
// constants the planners choose for it (both tunings, both layouts, per-channel and per-sample β,
// Meta-ACON training, eval and its staged passes), with no validation error. In KERNEL_TESTS, so it
// runs on Dawn (Chromium, Node) and on wgpu/naga (Deno, Firefox), whose validators differ.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AconGPU, type DataFormat, type Shape4 } from '../../src/index';
import { ACTIVATIONS } from '../../src/activations/registry';
import { initialParams } from '../../src/ops/hostLayer';
import { dimsOf } from '../../src/activations/params';
import type { AnyActivation, LayerArg } from '../../src/activations/types';
import { BATCHNORM_SHADER } from '../../src/kernels/batchnorm';
import { CONV1X1_SHADER } from '../../src/kernels/conv1x1';
import { REDUCE_SHADER } from '../../src/kernels/reduce';
import { ROOFLINE_SHADER, WINDOW_SHADER } from '../../bench/roofline';
import { normal, rng } from '../../src/ops/random';
import { makeMetaParams } from '../helpers/fixtures';
import { noGpuErrors } from './gpu';

/** Every registered activation's modules, then the shared kernels'. */
const LIBRARY = [
  ...new Set([...ACTIVATIONS.flatMap((a) => a.kernels.shaders), REDUCE_SHADER, CONV1X1_SHADER, BATCHNORM_SHADER]),
];

/** The compute entry points a module declares. */
const entryPoints = (code: string) =>
  [...code.matchAll(/@compute\s+@workgroup_size\([^)]*\)\s*fn\s+(\w+)/g)].map((m) => m[1]!);

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

test('every module compiles with no message', async () => {
  for (const shader of [...LIBRARY, ROOFLINE_SHADER, WINDOW_SHADER]) {
    const module = acon.device.createShaderModule({ code: shader.code, label: shader.name });
    const { messages } = await module.getCompilationInfo();
    expect(
      messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`),
      shader.name,
    ).toEqual([]);
    expect(entryPoints(shader.code).length, shader.name).toBeGreaterThan(0);
  }
});

describe('every entry point runs under the constants its planner picks', () => {
  const created = new Set<string>();

  /** A context of either tuning whose pipelines are recorded as they are created. */
  async function recording(software: boolean) {
    const a = await AconGPU.create({ software });
    const pipeline = a.context.pipeline.bind(a.context);
    a.context.pipeline = (shader, entry, constants) => {
      created.add(`${shader.name}:${entry}`);
      return pipeline(shader, entry, constants);
    };
    return a;
  }

  const data = (n: number, seed: number) => normal(rng(seed), n);

  async function aconC(a: AconGPU, shape: Shape4, dataFormat: DataFormat, perSample: boolean) {
    const [n, c, h, w] = shape;
    const count = n * c * h * w;
    const params = { p1: data(c, 1), p2: data(c, 2), beta: data(perSample ? n * c : c, 3) };
    await a.aconCForward(data(count, 4), shape, params, { dataFormat });
    await a.aconCBackward(data(count, 4), data(count, 5), shape, params, { dataFormat });
  }

  async function meta(a: AconGPU, shape: Shape4, dataFormat: DataFormat, r: number) {
    const [n, c, h, w] = shape;
    const count = n * c * h * w;
    const params = makeMetaParams(c, r, 6);
    for (const training of [true, false]) {
      await a.metaAconCForward(data(count, 7), shape, params, { dataFormat, training });
      await a.metaAconCBackward(data(count, 7), data(count, 8), shape, params, { dataFormat, training });
    }
    // the staged eval passes: the debug read-back keeps every intermediate apart
    await a.metaAconCForward(data(count, 7), shape, params, { dataFormat, training: false, debug: true });
  }

  /** Any registered activation's host forms on its seeded fixture, in its bench options (Meta: training; ACON-FReLU: both modes). */
  async function any(a: AconGPU, shape: Shape4, dataFormat: DataFormat) {
    const [n, c, h, w] = shape;
    const count = n * c * h * w;
    for (const act of ACTIVATIONS as readonly AnyActivation[]) {
      const params = initialParams(act, dimsOf(act, c), 10, 'fixture') as never;
      const options = { ...act.bench.options, dataFormat };
      // and in the backward's bench options where they differ (ACON-FReLU: training mode)
      const variants = act.bench.backwardOptions ? [options, { ...options, ...act.bench.backwardOptions }] : [options];
      // and each other value of a layer argument that lists its values (ACON-FReLU's stride 2)
      for (const arg of act.layer.args as readonly LayerArg[])
        for (const v of arg.values ?? []) if (v !== arg.default) variants.push({ ...options, [arg.name]: v });
      for (const o of variants) {
        await a.op(act).forward(data(count, 11), shape, params, o as never);
        const yShape = act.outShape?.(shape, o as never) ?? shape; // dy is y's shape (stride 2: halved)
        await a.op(act).backward(
          data(count, 11),
          data(
            yShape.reduce((p, d) => p * d, 1),
            12,
          ),
          shape,
          params,
          o as never,
        );
      }
    }
  }

  test.each([true, false])('software tuning %s', async (software) => {
    const a = await recording(software);
    try {
      await noGpuErrors(a.device, async () => {
        for (const dataFormat of ['NCHW', 'NHWC'] as DataFormat[]) {
          await any(a, [2, 3, 7, 7], dataFormat);
          await any(a, [2, 8, 16, 16], dataFormat);
          await any(a, [2, 4, 5, 5], dataFormat); // C % 4 == 0 over an odd plane (ACON-FReLU's NCHW copies per element)
          for (const perSample of [false, true]) {
            await aconC(a, [2, 3, 7, 7], dataFormat, perSample); // scalar walks, small planes
            await aconC(a, [2, 8, 16, 16], dataFormat, perSample); // vec4 rows and units
            await aconC(a, [1, 4, 96, 100], dataFormat, perSample); // planes cut into chunks
          }
          await aconC(a, [5000, 4, 1, 1], dataFormat, true); // many partials per channel: group levels
          await meta(a, [2, 8, 5, 5], dataFormat, 2);
          await meta(a, [2, 3, 300, 301], dataFormat, 1); // several mean chunks (group levels on the GPU tuning)
          await meta(a, [2, 3, 5, 5], dataFormat, 1); // NHWC: 25 pixels do not tile 4-pixel rows: scalar units
        }
        // C + R past the one-pass generator's workgroup memory: the means, then each 1×1 conv with its BN
        await a.metaAconCForward(data(2048, 9), [1, 2048, 1, 1], makeMetaParams(2048, 16, 9), { training: false });
      });
    } finally {
      a.destroy();
    }
  });

  test('… and together they reach every entry point of every library module', () => {
    const missing = LIBRARY.flatMap((s) => entryPoints(s.code).map((e) => `${s.name}:${e}`)).filter(
      (k) => !created.has(k),
    );
    expect(missing).toEqual([]);
  });
});
