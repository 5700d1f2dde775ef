// The library and the float64 reference each keep their own definitions of Meta-ACON's constants
// and parameter sets (the reference imports nothing of ours, the library nothing of the reference):
// they must agree.
import { expect, expectTypeOf, test } from 'vitest';
import { BN_EPS, BN_MOMENTUM } from '../../src/kernels/batchnorm';
import { metaHiddenWidth, type MetaGradSet, type MetaParamSet } from '../../src/activations/metaAconC/params';
import type { DataFormat, Shape4 } from '../../src/core/types';
import * as ref from '../../src/activations/metaAconC/reference';
import type * as refAconC from '../../src/activations/aconC/reference';

test('batch-norm constants: the kernels and the reference agree', () => {
  expect(BN_EPS).toBe(ref.BN_EPS);
  expect(BN_MOMENTUM).toBe(ref.BN_MOMENTUM);
});

test('metaHiddenWidth: the library and the reference agree', () => {
  for (const c of [1, 3, 16, 17, 64, 255, 256, 257, 1024, 2048, 16_384])
    for (const r of [1, 2, 4, 16, 32])
      expect(metaHiddenWidth(c, r), `C = ${c}, r = ${r}`).toBe(ref.metaHiddenWidth(c, r));
  expect(metaHiddenWidth(512)).toBe(ref.metaHiddenWidth(512));
});

test('the parameter and gradient sets, the shape and the data format: the same types', () => {
  expectTypeOf<MetaParamSet<number>>().toEqualTypeOf<ref.MetaParamSet<number>>();
  expectTypeOf<MetaGradSet<number>>().toEqualTypeOf<ref.MetaGradSet<number>>();
  expectTypeOf<Shape4>().toEqualTypeOf<refAconC.Shape4>();
  expectTypeOf<DataFormat>().toEqualTypeOf<refAconC.DataFormat>();
});
