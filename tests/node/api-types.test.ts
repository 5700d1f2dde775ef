// The public types derived from the declarations (src/activations/*/declaration.ts) keep the shapes the
// hand-written ones had: AconGPU's per-activation methods, their results, options and buffers, the
// host layers. Type-level checks (tsc runs them), plus the methods' presence at run time.
import { expect, expectTypeOf, test } from 'vitest';
import { ACTIVATIONS } from '../../src/activations/registry';
import {
  AconC,
  AconEncoder,
  AconGPU,
  MetaAconC,
  activations,
  type AconCGrads,
  type AconCParams,
  type MetaAconCForwardResult,
  type MetaAconCGrads,
  type MetaAconCOptions,
  type MetaAconCParams,
  type Shape4,
} from '../../src/index';

type Meta = { weight: Float32Array; bias: Float32Array };
type BN = { weight: Float32Array; bias: Float32Array; runningMean: Float32Array; runningVar: Float32Array };

test('parameter, gradient and result trees', () => {
  expectTypeOf<AconCParams>().toEqualTypeOf<{ p1: Float32Array; p2: Float32Array; beta: Float32Array }>();
  expectTypeOf<AconCGrads<GPUBuffer>>().toEqualTypeOf<{
    dx: GPUBuffer;
    p1: GPUBuffer;
    p2: GPUBuffer;
    beta: GPUBuffer;
  }>();
  expectTypeOf<MetaAconCParams>().toEqualTypeOf<{
    p1: Float32Array;
    p2: Float32Array;
    fc1: Meta;
    bn1: BN;
    fc2: Meta;
    bn2: BN;
  }>();
  expectTypeOf<MetaAconCGrads>().toExtend<{ dx: Float32Array; fc1: Meta; bn1: Meta; fc2: Meta; bn2: Meta }>();
  expectTypeOf<MetaAconCGrads['bn1']>().toEqualTypeOf<Meta>();
  expectTypeOf<MetaAconCForwardResult>().toEqualTypeOf<{
    y: Float32Array;
    beta: Float32Array;
    bn1: { runningMean: Float32Array; runningVar: Float32Array };
    bn2: { runningMean: Float32Array; runningVar: Float32Array };
    intermediates?: Record<string, Float32Array>;
  }>();
  expectTypeOf<MetaAconCOptions['training']>().toEqualTypeOf<boolean>();
});

test('AconGPU and AconEncoder: a method per activation and form, options required where the activation needs them', () => {
  expectTypeOf<ReturnType<AconGPU['aconCForward']>>().toEqualTypeOf<Promise<Float32Array>>();
  expectTypeOf<ReturnType<AconGPU['metaAconCForward']>>().toEqualTypeOf<Promise<MetaAconCForwardResult>>();
  expectTypeOf<Parameters<AconGPU['aconCForward']>[2]>().toEqualTypeOf<AconCParams>();
  expectTypeOf<Parameters<AconGPU['aconCForward']>[1]>().toEqualTypeOf<Shape4>();
  expectTypeOf<Parameters<AconGPU['aconCForward']>['length']>().toEqualTypeOf<3 | 4>();
  // Meta's training is required: no call without options
  expectTypeOf<Parameters<AconGPU['metaAconCForward']>['length']>().toEqualTypeOf<4>();
  expectTypeOf<Parameters<AconGPU['metaAconCBackwardBuffers']>[2]>().toExtend<{ training: boolean; r?: number }>();
  expectTypeOf<Parameters<AconGPU['aconCForwardBuffers']>[2]>().toExtend<{ betaLength?: number } | undefined>();
  expectTypeOf<ReturnType<AconEncoder['metaAconCBackward']>>().toEqualTypeOf<void>();
  const names = (o: object) => Object.getOwnPropertyNames(o).filter((n) => /Forward|Backward/.test(n));
  // exactly these for each registered activation (ACON-C and Meta-ACON-C among them, by these names)
  const registered = ACTIVATIONS.map((a) => a.name);
  expect(registered.slice(0, 2)).toEqual(['aconC', 'metaAconC']);
  const each = (forms: string[]) => registered.flatMap((a) => forms.map((f) => a + f)).sort();
  expect(names(AconGPU.prototype).sort()).toEqual(each(['Forward', 'Backward', 'ForwardBuffers', 'BackwardBuffers']));
  expect(names(AconEncoder.prototype).sort()).toEqual(each(['Forward', 'Backward']));
  expect(Object.keys(activations)).toEqual(registered);
});

test('host layers: constructors (width, …args, seed), the parameters as fields', () => {
  expectTypeOf<ConstructorParameters<typeof AconC>>().toEqualTypeOf<[width: number, seed?: number]>();
  expectTypeOf<ConstructorParameters<typeof MetaAconC>>().toEqualTypeOf<[width: number, r?: number, seed?: number]>();
  expectTypeOf<InstanceType<typeof AconC>['p1']>().toEqualTypeOf<Float32Array>();
  expectTypeOf<InstanceType<typeof MetaAconC>['params']>().toEqualTypeOf<MetaAconCParams>();
  expectTypeOf<InstanceType<typeof MetaAconC>['hidden']>().toEqualTypeOf<number>();
  const a = new AconC(3, 1);
  expect(a.p1).toBe(a.params.p1);
  expect(new MetaAconC(20, 4).hidden).toBe(5);
  expect(MetaAconC.name).toBe('MetaAconC');
});
