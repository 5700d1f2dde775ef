// The validation report: every registered activation's GPU kernels against its float64 reference on
// the report cases of its reference (src/activations/references.ts), on whatever adapter runs it. Each
// case gets the generic check (rows '<name>.forward', '<name>.backward': the host forms against the
// reference within its float32 bounds, the backward's at the kernels' reduction depth) or the
// activation's own (Meta-ACON: every stage of its β generator). No DOM code: shared by the demo's
// validation panel and `npm run report` (node/cli.ts).
import { AconGPU, type DataFormat, type Shape4 } from '../../src/index';
import { paramLeaves, readLeaf } from '../../src/activations/params';
import type { AnyActivation } from '../../src/activations/types';
import * as REFERENCES from '../../src/activations/references';
import { compare } from '../../src/reference/tolerance';
import type { AnyReference, Checked, ReportCase, ReportData } from '../../src/reference/types';

export interface ValidationRow {
  kernel: string;
  shape: Shape4;
  /** The data format the case ran in (the report's key, as the bench's JSON names it). */
  layout: DataFormat;
  maxAbs: number;
  maxRel: number;
  /** Largest error as a fraction of its float32 bound (≤ 1 passes). */
  worst: number;
  pass: boolean;
  ms: number;
}

export interface ValidationReport {
  ok: boolean;
  adapter: { vendor: string; architecture: string; description: string; software: boolean };
  /** The rows the registered references' cases make: a finished report has this many. */
  total: number;
  rows: ValidationRow[];
}

/** The registered references, in the registry's order (the rows' order). */
const references: readonly AnyReference[] = Object.values(REFERENCES);

/** A row from its comparisons: the largest errors, and whether every element of every one is within its bound. */
const row = (kernel: string, c: ReportCase, parts: readonly Omit<Checked, 'stage' | 'pass'>[], ms: number) => ({
  kernel,
  shape: c.shape,
  layout: c.dataFormat,
  maxAbs: Math.max(...parts.map((p) => p.maxAbs)),
  maxRel: Math.max(...parts.map((p) => p.maxRel)),
  worst: Math.max(...parts.map((p) => p.worst)),
  pass: parts.every((p) => p.bad.length === 0),
  ms,
});

/**
 * The generic check of one case: the host forward's y against the reference within the forward bounds,
 * then the host backward's dx and each trainable parameter's gradient within the backward bounds at
 * the reduction depth of the kernels that ran (a perSample parameter is per sample when it holds N·C values).
 */
async function genericRows(acon: AconGPU, ref: AnyReference, c: ReportCase, d: ReportData<AnyActivation>) {
  const act = ref.activation;
  const bounds = ref.bounds;
  if (!bounds) throw new Error(`${act.name}: its reference has neither bounds nor a check of its own`);
  const op = acon.op(act);
  const { shape } = c;
  const [N, C, H, W] = shape;
  const { x, dy, params, options } = d;
  let t0 = performance.now();
  const out = (await op.forward(x, shape, params, options)) as Float32Array | { y: Float32Array };
  let ms = performance.now() - t0;
  const y = out instanceof Float32Array ? out : out.y;
  const forward = row(
    `${act.name}.forward`,
    c,
    [compare(y, ref.forward(x, shape, params, options).y, bounds.forward(x, shape, params, options))],
    ms,
  );
  t0 = performance.now();
  const g = await op.backward(x, dy, shape, params, options);
  ms = performance.now() - t0;
  const leaves = paramLeaves(act.params);
  const perSample = Object.fromEntries(
    leaves
      .filter((l) => l.decl.perSample)
      .map((l) => [l.name, (readLeaf(params, l) as ArrayLike<number>).length === N * C && N > 1]),
  );
  const geo = { n: N, c: C, h: H, w: W, dataFormat: c.dataFormat };
  const depth = act.kernels.reductionDepth?.(geo, perSample, acon.context.software) ?? 0;
  const want = ref.backward(x, dy, shape, params, options);
  const b = bounds.backward(x, dy, shape, params, depth, options);
  const parts = [compare(g.dx, want.dx, b.dx)];
  for (const l of leaves)
    if (l.decl.role === 'trainable')
      parts.push(
        compare(readLeaf(g, l) as Float32Array, readLeaf(want, l) as Float64Array, readLeaf(b, l) as Float64Array),
      );
  return [forward, row(`${act.name}.backward`, c, parts, ms)];
}

/** The rows of a reference's report case number k: the generic check's two, or the activation's own one. */
export async function caseRows(acon: AconGPU, ref: AnyReference, k: number): Promise<ValidationRow[]> {
  const c = ref.report.cases[k]!;
  const data = ref.report.data(c, k);
  if (!ref.report.check) return genericRows(acon, ref, c, data);
  const t0 = performance.now();
  const { kernel, checks } = await ref.report.check(acon.context, data, c);
  return [row(kernel, c, checks, performance.now() - t0)];
}

export async function runValidation(
  onRow?: (row: ValidationRow, done: number, total: number) => void,
): Promise<ValidationReport> {
  const acon = await AconGPU.create();
  const info = (acon.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const report: ValidationReport = {
    ok: true,
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      description: info?.description ?? '',
      software: acon.context.software,
    },
    total: references.reduce((n, r) => n + r.report.cases.length * (r.report.check ? 1 : 2), 0),
    rows: [],
  };
  const push = (row: ValidationRow) => {
    report.rows.push(row);
    report.ok &&= row.pass;
    onRow?.(row, report.rows.length, report.total);
  };
  try {
    for (const ref of references)
      for (const k of ref.report.cases.keys()) for (const r of await caseRows(acon, ref, k)) push(r);
  } finally {
    acon.destroy();
  }
  return report;
}

export function formatValidation(r: ValidationReport): string {
  const head = `adapter: ${r.adapter.vendor} ${r.adapter.architecture} ${r.adapter.description}${r.adapter.software ? ' (software)' : ''}`;
  const rows = r.rows.map(
    (w) =>
      `${w.kernel.padEnd(34)}${`[${w.shape.join(',')}] ${w.layout}`.padEnd(26)}` +
      `${w.maxAbs.toExponential(2).padStart(10)}${w.maxRel.toExponential(2).padStart(11)}${w.worst.toFixed(3).padStart(11)}${w.ms.toFixed(1).padStart(10)}   ${w.pass ? 'pass' : 'FAIL'}`,
  );
  return [
    head,
    `${'kernel'.padEnd(34)}${'shape'.padEnd(26)}${'max abs'.padStart(10)}${'max rel'.padStart(11)}${'err/bound'.padStart(11)}${'ms'.padStart(10)}   result`,
    ...rows,
    '',
    'max rel: max |error| / max |reference| over the output; err/bound: the largest error as a',
    'fraction of its float32 error bound (derived in src/activations/*/bounds.ts); a check passes when',
    'every element is within its bound.',
    r.ok ? `all ${r.rows.length} checks pass` : 'SOME CHECKS FAILED',
  ].join('\n');
}
