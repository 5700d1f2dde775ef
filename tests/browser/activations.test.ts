// The kernel suite every registered activation gets from its declaration and its reference, with no
// test code of its own: its report cases checked against the float64 reference within the derived
// float32 bounds (the validation report's check), deterministic gradients, and typed errors for a
// parameter of the wrong length. In KERNEL_TESTS: on every engine. (ACON-C's and
// Meta-ACON-C's own suites, aconC.test.ts and metaAconC.test.ts, go further into their kernels' plans.)
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AconGPU } from '../../src/index';
import * as REFERENCES from '../../src/activations/references';
import { buildTree, paramLeaves, readLeaf } from '../../src/activations/params';
import { LengthError, ShapeError } from '../../src/gpu/errors';
import type { AnyReference, ReportCase } from '../../src/reference/types';
import { caseRows } from '../../tools/report/validation';

const references: readonly AnyReference[] = Object.values(REFERENCES);
/** Report cases up to this many elements (the large ones are the report's: minutes on a CPU adapter). */
const MAX_ELEMENTS = 1 << 18;

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

describe.each(references.map((r) => [r.activation.name, r] as const))('%s', (_, ref) => {
  const act = ref.activation;
  const all: readonly ReportCase[] = ref.report.cases;
  const cases = [...all.keys()].filter((k) => all[k]!.shape.reduce((a, b) => a * b, 1) <= MAX_ELEMENTS);

  test.each(cases)('report case %i within the float32 bounds of the reference', async (k) => {
    const rows = await caseRows(acon, ref, k);
    for (const r of rows) expect(r.pass, `${r.kernel} [${r.shape.join(',')}] ${r.layout}: worst ${r.worst}`).toBe(true);
  });

  test('the backward is deterministic: two calls agree bit for bit', async () => {
    const k = cases[cases.length - 1]!;
    const c = all[k]!;
    const { x, dy, params, options } = ref.report.data(c, k);
    const op = acon.op(act);
    const [a, b] = [
      await op.backward(x, dy, c.shape, params, options),
      await op.backward(x, dy, c.shape, params, options),
    ];
    expect(Array.from(b.dx)).toEqual(Array.from(a.dx));
    for (const l of paramLeaves(act.params).filter((l) => l.decl.role === 'trainable'))
      expect(Array.from(readLeaf(b, l) as Float32Array), l.name).toEqual(Array.from(readLeaf(a, l) as Float32Array));
  });

  test('a parameter of the wrong length is a typed error that names it', async () => {
    const k = cases[0]!;
    const c = all[k]!;
    const { x, params, options } = ref.report.data(c, k);
    const op = acon.op(act);
    // a derived dim is read off one parameter (Meta's R off fc1.bias): the others are then named
    const readFrom = new Set(Object.values(act.dims ?? {}).map((d) => d.readFrom));
    for (const leaf of paramLeaves(act.params)) {
      const bad = buildTree(paramLeaves(act.params), (l) => {
        const v = readLeaf(params, l) as Float32Array;
        return l === leaf ? new Float32Array(v.length + 1) : v;
      });
      const call = () => op.forward(x, c.shape, bad as never, options);
      // LengthError, or ShapeError where the length could be per channel or per sample (β)
      await expect(call(), leaf.name).rejects.toThrow(leaf.decl.perSample ? ShapeError : LengthError);
      if (!readFrom.has(leaf.name)) await expect(call(), leaf.name).rejects.toThrow(leaf.name);
    }
  });
});
