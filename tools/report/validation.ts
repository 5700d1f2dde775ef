// The validation report: every GPU kernel against the CPU reference on a set of shapes, on whatever
// adapter runs it. No DOM code: shared by the demo's validation panel and `npm run report` (node/cli.ts).
import { AconGPU, MetaAconC, type DataFormat, type Shape4 } from '../../src/index';
import { backwardPlan } from '../../src/activations/aconC/kernels';
import { aconCBackwardRef, aconCForwardRef } from '../../src/reference/aconC';
import { backwardBounds, forwardBounds } from '../../src/reference/aconBounds';
import { compare } from '../../src/reference/tolerance';
import { checkMetaStages } from './metaStages';
import { normal, rng } from '../../src/ops/random';

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
  rows: ValidationRow[];
}

/** Meta-ACON-C cases: every stage of forward and backward is checked on its own inputs. */
export const META_CASES: { shape: Shape4; r: number; training: boolean; dataFormat: DataFormat }[] = [
  { shape: [2, 16, 7, 7], r: 16, training: true, dataFormat: 'NCHW' },
  { shape: [3, 17, 1, 1], r: 4, training: true, dataFormat: 'NCHW' },
  { shape: [8, 64, 56, 56], r: 16, training: true, dataFormat: 'NCHW' },
  { shape: [4, 256, 7, 7], r: 16, training: false, dataFormat: 'NCHW' },
  { shape: [3, 17, 5, 5], r: 4, training: true, dataFormat: 'NHWC' },
  { shape: [8, 64, 56, 56], r: 16, training: true, dataFormat: 'NHWC' },
  { shape: [4, 256, 7, 7], r: 16, training: false, dataFormat: 'NHWC' },
];

export const VALIDATION_CASES: { shape: Shape4; dataFormat: DataFormat; perSample?: boolean }[] = [
  { shape: [1, 1, 1, 1], dataFormat: 'NCHW' },
  { shape: [2, 3, 7, 1], dataFormat: 'NCHW' },
  { shape: [3, 17, 7, 7], dataFormat: 'NCHW' },
  { shape: [3, 17, 7, 7], dataFormat: 'NHWC' },
  { shape: [8, 64, 56, 56], dataFormat: 'NCHW' },
  { shape: [8, 64, 56, 56], dataFormat: 'NHWC' },
  { shape: [32, 64, 16, 16], dataFormat: 'NCHW' },
  { shape: [32, 64, 16, 16], dataFormat: 'NHWC' },
  { shape: [4, 64, 7, 7], dataFormat: 'NCHW', perSample: true },
  { shape: [4, 64, 7, 7], dataFormat: 'NHWC', perSample: true },
  { shape: [1, 3, 1201, 1201], dataFormat: 'NHWC' },
];

/** Seeded N(0, scale²) data. */
const seeded = (n: number, seed: number, scale: number) => normal(rng(seed), n, scale);

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
    rows: [],
  };
  const total = VALIDATION_CASES.length * 2 + META_CASES.length;
  const push = (row: ValidationRow) => {
    report.rows.push(row);
    report.ok &&= row.pass;
    onRow?.(row, report.rows.length, total);
  };
  try {
    for (const [k, { shape, dataFormat, perSample = false }] of VALIDATION_CASES.entries()) {
      const [N, C, H, W] = shape;
      const count = N * C * H * W;
      const x = seeded(count, 10 + k, 2);
      const dy = seeded(count, 20 + k, 1);
      const params = {
        p1: seeded(C, 30 + k, 1),
        p2: seeded(C, 40 + k, 1),
        beta: seeded(perSample ? N * C : C, 50 + k, 1.5),
      };
      let t0 = performance.now();
      const y = await acon.aconCForward(x, shape, params, { dataFormat });
      let ms = performance.now() - t0;
      const fwd = compare(
        y,
        aconCForwardRef(x, shape, params, dataFormat),
        forwardBounds(x, shape, params, dataFormat),
      );
      push({
        kernel: 'aconC.forward',
        shape,
        layout: dataFormat,
        maxAbs: fwd.maxAbs,
        maxRel: fwd.maxRel,
        worst: fwd.worst,
        pass: fwd.bad.length === 0,
        ms,
      });
      t0 = performance.now();
      const g = await acon.aconCBackward(x, dy, shape, params, { dataFormat });
      ms = performance.now() - t0;
      const ref = aconCBackwardRef(x, dy, shape, params, dataFormat);
      const geo = { n: N, c: C, h: H, w: W, dataFormat, betaPerSample: perSample && N > 1 };
      const b = backwardBounds(x, dy, shape, params, backwardPlan(geo, acon.context.software).depth, dataFormat);
      const parts = (['dx', 'p1', 'p2', 'beta'] as const).map((key) => compare(g[key], ref[key], b[key]));
      push({
        kernel: 'aconC.backward',
        shape,
        layout: dataFormat,
        maxAbs: Math.max(...parts.map((p) => p.maxAbs)),
        maxRel: Math.max(...parts.map((p) => p.maxRel)),
        worst: Math.max(...parts.map((p) => p.worst)),
        pass: parts.every((p) => p.bad.length === 0),
        ms,
      });
    }
    for (const [k, { shape, r, training, dataFormat }] of META_CASES.entries()) {
      const [N, C, H, W] = shape;
      const count = N * C * H * W;
      const layer = new MetaAconC(C, r, k + 1);
      // perturb the fresh-init BN statistics so eval mode is not the identity
      layer.params.bn2.runningVar = seeded(C, 60 + k, 0.3).map((v) => 1 + Math.abs(v));
      const t0 = performance.now();
      const stages = await checkMetaStages(
        acon.context,
        seeded(count, 70 + k, 2),
        seeded(count, 80 + k, 1),
        shape,
        layer.params,
        training,
        dataFormat,
      );
      push({
        kernel: `metaAconC ${training ? 'train' : 'eval'} (${stages.length} stages)`,
        shape,
        layout: dataFormat,
        maxAbs: Math.max(...stages.map((s) => s.maxAbs)),
        maxRel: Math.max(...stages.map((s) => s.maxRel)),
        worst: Math.max(...stages.map((s) => s.worst)),
        pass: stages.every((s) => s.pass),
        ms: performance.now() - t0,
      });
    }
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
    'fraction of its float32 error bound (derived in src/reference/*Bounds.ts); a check passes when',
    'every element is within its bound.',
    r.ok ? `all ${r.rows.length} checks pass` : 'SOME CHECKS FAILED',
  ].join('\n');
}
