// The bench report as fixed-width tables (what `npm run bench` prints and the demo shows).
import { LAYOUTS, type BenchReport, type BenchResult } from './types';

// three decimals, or three significant digits below 0.1 ms (a GPU's microseconds)
const fmtMs = (n?: number, w = 10) => (n === undefined ? '-' : n < 0.1 ? n.toPrecision(3) : n.toFixed(3)).padEnd(w);
const fmtRatio = (a?: number, b?: number, w = 12) =>
  (a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) + '×' : '-').padEnd(w);

/** Results grouped by a key, in first-seen order, each group's ms by a sub-key. */
function groupBy(results: BenchResult[], key: (r: BenchResult) => string, sub: (r: BenchResult) => string) {
  const groups = new Map<string, { first: BenchResult; ms: Record<string, number> }>();
  for (const r of results) {
    const gr = groups.get(key(r)) ?? { first: r, ms: {} };
    gr.ms[sub(r)] = r.ms;
    groups.set(key(r), gr);
  }
  return [...groups.values()];
}

/** The GB/s columns of a kernel row: fused, copy roofline, fused as a share of the card's peak. */
function fusedBandwidth(fused: number | undefined, copy: number | undefined, peak: number | undefined): string {
  const share = fused !== undefined && peak !== undefined ? `${((100 * fused) / peak).toFixed(1)} %` : '-';
  return '   ' + fmtGBps(fused, 11) + fmtGBps(copy, 10) + (peak !== undefined ? share : '');
}

const fmtGBps = (n?: number, w = 10) => (n === undefined ? '-' : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)).padEnd(w);

/**
 * The report as fixed-width tables, with the ratios the targets are stated in: for the kernel ops
 * NHWC/NCHW of the fused kernels (same bytes, same arithmetic: should be ≈ 1), for the tfjs face
 * fused/relu and composed/relu, for net.infer each network against dcn3 (ReLU) at the same batch.
 * On a GPU adapter (not software) the kernel table adds the effective bandwidth of the fused kernel
 * and of the copy roofline, and, where the card's peak is known, the fused kernel's share of it.
 */
export function formatReport(report: BenchReport): string {
  const a = report.adapter;
  const lines = [
    `adapter: ${a.vendor} ${a.architecture} ${a.device ?? ''} ${a.description}`.replace(/ +/g, ' ').trim() +
      (a.runtime ? ` (${a.runtime}${a.software ? ', software' : ''})` : ''),
  ];
  // older reports have no `software`: GB/s only where the adapter is known to be a GPU
  const showGBps = a.software === false;
  const peak = showGBps ? a.peakGBps : undefined;
  if (peak !== undefined)
    lines.push(
      `peak memory bandwidth: ${peak} GB/s (${a.peakName ?? 'known card'}); GB/s = bytes the op must move / time`,
    );
  else if (showGBps) lines.push('GB/s = bytes the op must move / time (no peak known for this adapter)');
  const shapeOf = (r: BenchResult) => `[${r.shape.join(',')}]`;

  const kernel = report.results.filter(
    (r) => !r.op.startsWith('tfjs.') && r.op !== 'net.infer' && r.op !== 'train.step',
  );
  if (kernel.length) {
    // the copy roofline and the reference ran once per op and shape (NCHW); the copy is layout-free
    const perShape = groupBy(
      kernel,
      (r) => `${r.op}|${shapeOf(r)}`,
      (r) => `${r.impl}|${r.layout}`,
    );
    const gbpsOf = new Map(kernel.map((r) => [`${r.op}|${shapeOf(r)}|${r.impl}|${r.layout}`, r.gbps]));
    lines.push(
      '',
      'kernels (our device, GPU-resident)',
      'op                   shape           layout  fused ms  tfjs ms   copy ms   ref ms    tfjs/fused  fused/copy  NHWC/NCHW' +
        (showGBps ? '   fused GB/s copy GB/s' + (peak !== undefined ? ' fused/peak' : '') : ''),
    );
    for (const { first, ms } of perShape) {
      const copy = ms['copy-roofline|NCHW'] ?? ms['copy-roofline|NHWC'];
      const at = `${first.op}|${shapeOf(first)}`;
      const copyGBps = gbpsOf.get(`${at}|copy-roofline|NCHW`) ?? gbpsOf.get(`${at}|copy-roofline|NHWC`);
      for (const layout of LAYOUTS) {
        const fused = ms[`fused|${layout}`];
        const composed = ms[`tfjs-composed|${layout}`];
        const ref = ms[`reference|${layout}`];
        if (fused === undefined && composed === undefined && ref === undefined) continue;
        lines.push(
          `${first.op.padEnd(21)}${shapeOf(first).padEnd(16)}${layout.padEnd(8)}` +
            fmtMs(fused) +
            fmtMs(composed) +
            fmtMs(layout === 'NCHW' ? copy : undefined) +
            fmtMs(ref) +
            fmtRatio(composed, fused) +
            fmtRatio(fused, copy) +
            (layout === 'NHWC' ? fmtRatio(fused, ms['fused|NCHW']) : '-'.padEnd(12)) +
            (showGBps
              ? fusedBandwidth(gbpsOf.get(`${at}|fused|${layout}`), layout === 'NCHW' ? copyGBps : undefined, peak)
              : ''),
        );
      }
    }
  }

  const face = report.results.filter((r) => r.op.startsWith('tfjs.'));
  if (face.length) {
    lines.push(
      '',
      'tfjs face (tfjs tensors [N,H,W,C]; shape is the logical [N,C,H,W])',
      'op                      shape           layout  fused ms  composed  relu ms   fused/relu  composed/relu',
    );
    for (const { first, ms } of groupBy(
      face,
      (r) => `${r.op}|${shapeOf(r)}|${r.layout}`,
      (r) => r.impl,
    )) {
      lines.push(
        `${first.op.padEnd(24)}${shapeOf(first).padEnd(16)}${first.layout.padEnd(8)}` +
          fmtMs(ms.fused) +
          fmtMs(ms['tfjs-composed']) +
          fmtMs(ms.relu) +
          fmtRatio(ms.fused, ms.relu) +
          fmtRatio(ms['tfjs-composed'], ms.relu, 0),
      );
    }
  }

  const nets = report.results.filter((r) => r.op === 'net.infer');
  if (nets.length) {
    lines.push(
      '',
      'net.infer (tf.layers models, NHWC; ratios: each network against its ReLU twin at the same shape (dcn3 for the seed networks), fused against composed)',
      'shape             net                       impl           ms        of ReLU   of composed',
    );
    const key = (net: string | undefined, r: BenchResult) => `${net}|${shapeOf(r)}`;
    const byNet = new Map(nets.map((r) => [`${key(r.net, r)}|${r.impl}`, r.ms]));
    /** The ReLU twin of a network: dcn3 for the seed networks, <family>-relu otherwise. */
    const reluOf = (net = '') => (net.startsWith('dcn') ? 'dcn3' : net.replace(/-(acon|meta)$/, '-relu'));
    for (const r of nets) {
      const relu = r.impl === 'relu' ? undefined : byNet.get(`${key(reluOf(r.net), r)}|relu`);
      const composed = r.impl === 'fused' ? byNet.get(`${key(r.net, r)}|tfjs-composed`) : undefined;
      lines.push(
        `${shapeOf(r).padEnd(18)}${(r.net ?? '').padEnd(26)}${r.impl.padEnd(15)}${fmtMs(r.ms)}` +
          (relu === undefined ? ''.padEnd(10) : fmtRatio(r.ms, relu, 10)) +
          (composed === undefined ? '' : fmtRatio(r.ms, composed, 0)),
      );
    }
  }

  const train = report.results.filter((r) => r.op === 'train.step');
  if (train.length) {
    lines.push(
      '',
      'train.step (one Adam step, NHWC; ratios against dcn3 (ReLU) at the same batch, composed against fused)',
      'net         shape           fused ms  tfjs ms   relu ms   fused/dcn3  tfjs/fused',
    );
    const dcn3 = new Map(train.filter((r) => r.net === 'dcn3').map((r) => [shapeOf(r), r.ms]));
    for (const { first, ms } of groupBy(
      train,
      (r) => `${r.net}|${shapeOf(r)}`,
      (r) => r.impl,
    )) {
      lines.push(
        `${(first.net ?? '').padEnd(12)}${shapeOf(first).padEnd(16)}${fmtMs(ms.fused)}${fmtMs(ms['tfjs-composed'])}` +
          `${fmtMs(ms.relu)}${fmtRatio(ms.fused, first.net === 'dcn3' ? undefined : dcn3.get(shapeOf(first)))}` +
          fmtRatio(ms['tfjs-composed'], ms.fused, 0),
      );
    }
  }
  return lines.join('\n');
}
