// The reference registry (src/activations/references.ts), without a GPU: every registered activation
// has its reference, from which alone the validation report (tools/report/validation.ts) makes its
// rows: cases whose seeded data is shaped as the declaration says, and either bounds for the generic
// check (forward and backward under the declaration's keys) or a check of its own.
import { expect, test } from 'vitest';
import * as REFERENCES from '../../src/activations/references';
import { ACTIVATIONS } from '../../src/activations/registry';
import { paramLeaves, readLeaf, sizeOf } from '../../src/activations/params';
import type { AnyReference, ReportCase } from '../../src/reference/types';

const references: readonly AnyReference[] = Object.values(REFERENCES);
const elements = ({ shape }: ReportCase) => shape.reduce((a, b) => a * b, 1);
const lengthOf = (v: unknown) => (v as ArrayLike<number>).length;

test('one reference per registered activation, in the registry order', () => {
  expect(references.map((r) => r.activation.name)).toEqual(ACTIVATIONS.map((a) => a.name));
  references.forEach((r, i) => expect(r.activation).toBe(ACTIVATIONS[i]));
});

test.each(references.map((r) => [r.activation.name, r] as const))(
  '%s: report cases with seeded data shaped as declared, and bounds or a check of its own',
  (_, ref) => {
    const act = ref.activation;
    const { cases, data, check } = ref.report;
    expect(cases.length).toBeGreaterThan(0);
    expect(ref.bounds !== undefined || check !== undefined, 'bounds (the generic check) or a check').toBe(true);
    // the smallest case: its data twice (seeded), every parameter of its declared size
    const k = cases.reduce((best, c, i) => (elements(c) < elements(cases[best]!) ? i : best), 0);
    const c = cases[k]!;
    const d = data(c, k);
    expect(data(c, k)).toEqual(d);
    const [N, C] = c.shape;
    expect([d.x.length, d.dy.length]).toEqual([elements(c), elements(c)]);
    expect(d.options.dataFormat).toBe(c.dataFormat);
    const leaves = paramLeaves(act.params);
    const dims: Record<string, number> = { N, C };
    for (const [dim, decl] of Object.entries(act.dims ?? {}))
      dims[dim] = lengthOf(
        readLeaf(
          d.params,
          leaves.find((l) => l.name === decl.readFrom)!,
        ),
      );
    for (const l of leaves) {
      const size = sizeOf(l.decl.shape, dims);
      expect(l.decl.perSample ? [size, N * size] : [size], l.name).toContain(lengthOf(readLeaf(d.params, l)));
    }
    if (!ref.bounds) return;
    // the generic check's contract: y, then dx and one gradient per trainable parameter, each with its bounds
    const { x, dy, params, options } = d;
    const y = ref.forward(x, c.shape, params, options).y;
    const yb = ref.bounds.forward(x, c.shape, params, options);
    expect([y.length, yb.length]).toEqual([elements(c), elements(c)]);
    const g = ref.backward(x, dy, c.shape, params, options);
    const gb = ref.bounds.backward(x, dy, c.shape, params, 1, options);
    expect([lengthOf(g.dx), lengthOf(gb.dx)]).toEqual([elements(c), elements(c)]);
    for (const l of leaves.filter((l) => l.decl.role === 'trainable')) {
      const n = lengthOf(readLeaf(params, l));
      expect([lengthOf(readLeaf(g, l)), lengthOf(readLeaf(gb, l))], l.name).toEqual([n, n]);
    }
    for (const b of [yb, gb.dx]) expect(b.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
  },
);
