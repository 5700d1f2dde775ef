// Thin helpers over uPlot for the demo's charts (line charts and grouped bars). Every chart
// redraws itself when the browser gives its canvas back after a context loss (keepDrawn); axisLabels
// reads the tick labels a chart drew, for the end-to-end test.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { figures } from './figures';

export const COLORS = ['#1a73e8', '#d93025', '#188038', '#f29900', '#9334e6', '#5f6368'];

/** Width of a chart's container, so charts fit phones and desktops alike. */
const widthOf = (el: HTMLElement) => Math.max(260, Math.min(el.clientWidth || 600, 900));

/**
 * Repaints a 2D canvas when the browser restores its context: a lost context comes back cleared
 * (Chromium drops every canvas of a page together with its GPU channel), and nothing else would
 * draw it again. Counts losses and restores in window.__figures.canvases.
 */
export function keepDrawn(canvas: HTMLCanvasElement, repaint: () => void): void {
  figures.canvases.watched++;
  canvas.addEventListener('contextlost', () => figures.canvases.lost++);
  canvas.addEventListener('contextrestored', () => {
    figures.canvases.restored++;
    repaint();
  });
}

/** A chart's canvas, kept drawn: setSize (even to the same size) resets uPlot's cached canvas state and redraws everything. */
function keepPlotDrawn(plot: uPlot): uPlot {
  keepDrawn(plot.ctx.canvas, () => plot.setSize({ width: plot.width, height: plot.height }));
  return plot;
}

/** The tick labels axis `axis` of `plot` showed at its last draw (uPlot keeps them as the axis's `_values`). */
export function axisLabels(plot: uPlot, axis: number): string[] {
  const drawn = (plot.axes[axis] as uPlot.Axis & { _values?: unknown[] })._values ?? [];
  return drawn.map((v) => (v == null ? '' : String(v)));
}

/**
 * Numeric tick labels with the fewest decimals that still write every tick exactly (uPlot's
 * default keeps 3 decimals, so ticks 0.0002 apart all read 0.693), in en-US grouping.
 */
const numericTicks: uPlot.Axis.DynamicValues = (_u, splits, _axis, _space, incr) => {
  let d = 0;
  while (d < 12 && !splits.every((v) => Math.abs(Number(v.toFixed(d)) - v) <= Math.abs(incr) * 1e-6)) d++;
  return splits.map((v) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
};

export function lineChart(
  el: HTMLElement,
  title: string,
  series: { label: string; color: string; dash?: number[]; points?: boolean; width?: number }[],
  data: uPlot.AlignedData,
  opts: { height?: number; xLabel?: string; yLabel?: string; logY?: boolean; integerX?: boolean } = {},
): uPlot {
  el.dataset.colors = series.map((s) => s.color).join(' ');
  const plot = new uPlot(
    {
      title,
      width: widthOf(el),
      height: opts.height ?? 280,
      scales: { x: { time: false }, y: opts.logY ? { distr: 3 } : {} },
      axes: [
        {
          label: opts.xLabel ?? '',
          values: numericTicks,
          ...(opts.integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}),
        },
        { label: opts.yLabel ?? '', ...(opts.logY ? {} : { values: numericTicks }) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          // points only: no line path, but the stroke colours the legend's marker
          stroke: s.color,
          ...(s.points ? { paths: () => null } : {}),
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
  return keepPlotDrawn(plot);
}

/** Width in CSS px of a label in uPlot's axis font (12 px system-ui). */
const measure = (() => {
  let ctx: CanvasRenderingContext2D | null = null;
  return (text: string) => {
    ctx ??= document.createElement('canvas').getContext('2d')!;
    ctx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
    return ctx.measureText(text).width;
  };
})();

/** uPlot's axis line height (12 px font × lineGap 1.5), and the tick plus gap above the labels. */
const LINE_PX = 18;
const TICK_GAP_PX = 16;

/**
 * Category labels that do not overlap, for the width the chart has now: short labels (numbers)
 * stay level and, where too many, every k-th one is shown; longer ones wrap at spaces when every
 * word fits its slot, and otherwise stand vertical (every k-th one where even that is too wide).
 */
function categoryAxis(
  categories: string[],
  centre: (k: number) => number,
): { axis: uPlot.Axis; extraHeight: (width: number) => number } {
  const widest = Math.max(...categories.map(measure));
  const short = Math.max(...categories.map((c) => c.length)) <= 5;
  const widestWord = Math.max(...categories.flatMap((c) => c.split(' ').map(measure)));
  const layout = (slot: number) => {
    const mode = short ? 'level' : widestWord + 6 <= slot ? 'lines' : 'vertical';
    const need = mode === 'level' ? widest + 6 : mode === 'lines' ? 0 : LINE_PX;
    return { mode, every: Math.max(1, Math.ceil(need / slot)) };
  };
  const slotOf = (u: uPlot) => (u.bbox.width / devicePixelRatio || u.width) / categories.length;
  const wrap = (label: string, slot: number) =>
    label.split(' ').reduce<string[]>((lines, w) => {
      if (lines.length && measure(`${lines.at(-1)} ${w}`) + 6 <= slot) lines[lines.length - 1] += ` ${w}`;
      else lines.push(w);
      return lines;
    }, []);
  const labels = (slot: number) => {
    const { mode, every } = layout(slot);
    return categories.map((c, k) => (k % every ? '' : mode === 'lines' ? wrap(c, slot).join('\n') : c));
  };
  const size = (slot: number, values: string[]) =>
    layout(slot).mode === 'vertical'
      ? widest + TICK_GAP_PX
      : TICK_GAP_PX + LINE_PX * Math.max(1, ...values.map((v) => v.split('\n').length));
  return {
    axis: {
      splits: () => categories.map((_, k) => centre(k)),
      values: (u) => labels(slotOf(u)),
      rotate: (u) => (layout(slotOf(u)).mode === 'vertical' ? 90 : 0),
      size: (u) => size(slotOf(u), labels(slotOf(u))),
    },
    // the labels' height beyond one line, for a chart `width` px wide (its plot about 70 px narrower)
    extraHeight: (width) => {
      const slot = (width - 70) / categories.length;
      return size(slot, labels(slot)) - TICK_GAP_PX - LINE_PX;
    },
  };
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
  const data = [
    xs,
    ...series.map((s, i) => xs.map((x) => (x % (n + 1) === i ? (s.values[Math.floor(x / (n + 1))] ?? null) : null))),
  ];
  const bars = uPlot.paths.bars!({ size: [0.9, 60], align: 0 });
  const color = (i: number) => COLORS[i % COLORS.length]!;
  el.dataset.colors = series.map((_, i) => color(i)).join(' ');
  const xAxis = categoryAxis(categories, (k) => k * (n + 1) + (n - 1) / 2);
  // the plot keeps its height; long category labels add theirs below
  const heightAt = (width: number) => (opts.height ?? 300) + xAxis.extraHeight(width);
  const plot = new uPlot(
    {
      title,
      width: widthOf(el),
      height: heightAt(widthOf(el)),
      scales: { x: { time: false, range: [-1, categories.length * (n + 1) - 1] }, y: opts.logY ? { distr: 3 } : {} },
      axes: [xAxis.axis, { label: opts.yLabel ?? '', ...(opts.logY ? {} : { values: numericTicks }) }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          fill: color(i),
          stroke: color(i),
          paths: bars,
          points: { show: false },
        })),
      ],
    },
    data as uPlot.AlignedData,
    el,
  );
  new ResizeObserver(() => plot.setSize({ width: widthOf(el), height: heightAt(widthOf(el)) })).observe(el);
  return keepPlotDrawn(plot);
}

export { uPlot };
