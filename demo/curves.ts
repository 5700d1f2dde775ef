// The curves panel: ACON-C and its first derivative over x, computed by the GPU kernels (the
// derivative is the backward pass with dy = 1), the CPU reference dashed on top, and the
// derivative's learnable bounds marked.
import type { AconGPU } from '../src/index';
import { aconCPartials, aconCValue } from '../src/activations/aconC/reference';
import { lineChart, type uPlot } from './charts';

const XS = Float32Array.from({ length: 481 }, (_, i) => -6 + i * 0.025);
/** u·tanh(u/2) = 2: the stationary points of (u·σ(u))' are at u = ±2.3994. */
const U_STAR = 2.399357280515;

export const PRESETS: Record<string, { p1: number; p2: number; beta: number }> = {
  'ACON-A (Swish)': { p1: 1, p2: 0, beta: 1 },
  'ACON-B': { p1: 1, p2: 0.25, beta: 1 },
  'ACON-C': { p1: 1.2, p2: -0.3, beta: 1.5 },
  ReLU: { p1: 1, p2: 0, beta: 40 },
  linear: { p1: 1, p2: 1, beta: 1 },
};

export function setupCurves(root: HTMLElement, acon: AconGPU | null): { ready: Promise<void> } {
  const state = { ...PRESETS['ACON-C']! };
  const sliders: Record<string, HTMLInputElement> = {};
  const controls = document.createElement('div');
  controls.className = 'controls';
  for (const [key, min, max] of [
    ['p1', -2, 2],
    ['p2', -2, 2],
    ['beta', -5, 10],
  ] as const) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    Object.assign(input, {
      type: 'range',
      min: String(min),
      max: String(max),
      step: '0.01',
      value: String(state[key]),
    });
    input.id = `slider-${key}`;
    const out = document.createElement('output');
    label.append(key === 'beta' ? 'β ' : `${key} `, input, out);
    controls.append(label);
    sliders[key] = input;
    input.addEventListener('input', () => {
      state[key] = Number(input.value);
      void redraw();
    });
  }
  const presets = document.createElement('div');
  presets.className = 'presets';
  for (const [name, p] of Object.entries(PRESETS)) {
    const b = document.createElement('button');
    b.textContent = name;
    b.addEventListener('click', () => {
      Object.assign(state, p);
      for (const k of ['p1', 'p2', 'beta'] as const) sliders[k]!.value = String(p[k]);
      void redraw();
    });
    presets.append(b);
  }
  const yEl = document.createElement('div');
  const dEl = document.createElement('div');
  const note = document.createElement('p');
  note.className = 'note';
  root.append(presets, controls, yEl, dEl, note);

  const xs = Array.from(XS);
  let yPlot: uPlot | undefined;
  let dPlot: uPlot | undefined;
  let pending = false;
  let busy = false;

  async function redraw(): Promise<void> {
    if (busy) {
      pending = true;
      return;
    }
    busy = true;
    const { p1, p2, beta } = state;
    for (const k of ['p1', 'p2', 'beta'] as const)
      (sliders[k]!.nextSibling as HTMLOutputElement).value = state[k].toFixed(2);
    const params = { p1: new Float32Array([p1]), p2: new Float32Array([p2]), beta: new Float32Array([beta]) };
    const shape = [1, 1, 1, XS.length] as const;
    let yGpu: (number | null)[] = xs.map(() => null);
    let dGpu: (number | null)[] = xs.map(() => null);
    if (acon) {
      const [y, g] = await Promise.all([
        acon.aconCForward(XS, shape, params),
        acon.aconCBackward(XS, new Float32Array(XS.length).fill(1), shape, params),
      ]);
      yGpu = Array.from(y);
      dGpu = Array.from(g.dx);
    }
    const yRef = xs.map((x) => aconCValue(x, p1, p2, beta));
    const dRef = xs.map((x) => aconCPartials(x, p1, p2, beta)[0]);
    // learnable bounds of the derivative: p1 and p2 as x → ±∞ (for β(p1 − p2) > 0), extremes at x*
    const k = beta * (p1 - p2);
    const hi = 1.0998 * (p1 - p2) + p2;
    const lo = -0.0998 * (p1 - p2) + p2;
    const xStar = k !== 0 ? U_STAR / k : NaN;
    const marks = xs.map(() => null as number | null);
    for (const xm of [xStar, -xStar]) {
      const i = Math.round((xm + 6) / 0.025);
      if (i >= 0 && i < xs.length) marks[i] = dRef[i]!;
    }
    const [top, bottom] = k >= 0 ? [p1, p2] : [p2, p1];
    const yData = [xs, yGpu, yRef] as uPlot.AlignedData;
    const dData = [
      xs,
      dGpu,
      dRef,
      xs.map(() => top),
      xs.map(() => bottom),
      xs.map(() => hi),
      xs.map(() => lo),
      marks,
    ] as uPlot.AlignedData;
    if (!yPlot) {
      yPlot = lineChart(
        yEl,
        'ACON-C  y(x)',
        [
          { label: 'GPU kernel', color: '#1a73e8', width: 3 },
          { label: 'CPU reference', color: '#d93025', dash: [6, 5], width: 1.5 },
        ],
        yData,
        { xLabel: 'x', yLabel: 'y' },
      );
      dPlot = lineChart(
        dEl,
        'first derivative  dy/dx, with its learnable bounds',
        [
          { label: 'GPU kernel', color: '#1a73e8', width: 3 },
          { label: 'CPU reference', color: '#d93025', dash: [6, 5], width: 1.5 },
          { label: 'asymptote x→+∞', color: '#188038', dash: [2, 4], width: 1 },
          { label: 'asymptote x→−∞', color: '#f29900', dash: [2, 4], width: 1 },
          { label: 'max 1.0998(p1−p2)+p2', color: '#9334e6', dash: [8, 4], width: 1 },
          { label: 'min −0.0998(p1−p2)+p2', color: '#5f6368', dash: [8, 4], width: 1 },
          { label: 'extremes at β(p1−p2)x = ±2.3994', color: '#000', points: true },
        ],
        dData,
        { xLabel: 'x', yLabel: 'dy/dx' },
      );
    } else {
      yPlot.setData(yData);
      dPlot!.setData(dData);
    }
    let maxErr = 0;
    if (acon) yGpu.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs((v ?? 0) - yRef[i]!))));
    note.textContent = acon
      ? `GPU vs CPU reference: max |Δy| = ${maxErr.toExponential(2)} over ${xs.length} points. ` +
        `β(p1 − p2) = ${k.toFixed(3)}; the derivative's extremes ${hi.toFixed(3)} and ${lo.toFixed(3)} sit at x = ±${Number.isFinite(xStar) ? Math.abs(xStar).toFixed(3) : '∞'}.`
      : 'WebGPU unavailable: the CPU reference alone is drawn.';
    busy = false;
    if (pending) {
      pending = false;
      await redraw();
    }
  }
  return { ready: redraw() };
}
