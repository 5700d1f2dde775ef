// Thin helpers over uPlot for the demo's charts (line charts and grouped bars).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const COLORS = ['#1a73e8', '#d93025', '#188038', '#f29900', '#9334e6', '#5f6368'];

/** Width of a chart's container, so charts fit phones and desktops alike. */
const widthOf = (el: HTMLElement) => Math.max(260, Math.min(el.clientWidth || 600, 900));

export function lineChart(
  el: HTMLElement,
  title: string,
  series: { label: string; color: string; dash?: number[]; points?: boolean; width?: number }[],
  data: uPlot.AlignedData,
  opts: { height?: number; xLabel?: string; yLabel?: string; logY?: boolean } = {},
): uPlot {
  const plot = new uPlot(
    {
      title,
      width: widthOf(el),
      height: opts.height ?? 280,
      scales: { x: { time: false }, y: opts.logY ? { distr: 3 } : {} },
      axes: [{ label: opts.xLabel ?? '' }, { label: opts.yLabel ?? '' }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.points ? 'transparent' : s.color,
          width: s.width ?? 2,
          ...(s.dash ? { dash: s.dash } : {}),
          points: s.points ? { show: true, size: 9, fill: s.color, stroke: s.color } : { show: false },
          spanGaps: false,
        })),
      ],
    },
    data,
    el,
  );
  new ResizeObserver(() => plot.setSize({ width: widthOf(el), height: opts.height ?? 280 })).observe(el);
  return plot;
}

/**
 * Grouped bars: category k's bar for series i stands at x = k·(n + 1) + i (n series, one gap), each
 * series null elsewhere, drawn by uPlot's bars path builder.
 */
export function barChart(
  el: HTMLElement,
  title: string,
  categories: string[],
  series: { label: string; values: (number | null)[] }[],
  opts: { logY?: boolean; yLabel?: string; height?: number } = {},
): uPlot {
  const n = series.length;
  const xs: number[] = [];
  categories.forEach((_, k) => series.forEach((__, i) => xs.push(k * (n + 1) + i)));
  const data = [xs, ...series.map((s, i) => xs.map((x) => (x % (n + 1) === i ? (s.values[Math.floor(x / (n + 1))] ?? null) : null)))];
  const bars = uPlot.paths.bars!({ size: [0.9, 60], align: 0 });
  const plot = new uPlot(
    {
      title,
      width: widthOf(el),
      height: opts.height ?? 300,
      scales: { x: { time: false, range: [-1, categories.length * (n + 1) - 1] }, y: opts.logY ? { distr: 3 } : {} },
      axes: [
        {
          splits: () => categories.map((_, k) => k * (n + 1) + (n - 1) / 2),
          values: (_u, splits) => splits.map((sp) => categories[Math.round((sp - (n - 1) / 2) / (n + 1))] ?? ''),
          size: 50,
        },
        { label: opts.yLabel ?? '' },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          fill: COLORS[i % COLORS.length]!,
          stroke: COLORS[i % COLORS.length]!,
          paths: bars,
          points: { show: false },
        })),
      ],
    },
    data as uPlot.AlignedData,
    el,
  );
  new ResizeObserver(() => plot.setSize({ width: widthOf(el), height: opts.height ?? 300 })).observe(el);
  return plot;
}

export { uPlot };
