// window.__figures: the numbers behind the demo's figures, for the end-to-end test. Each entry is
// filled from the very arrays its chart draws (the chart's own data where uPlot holds it), never
// recomputed on the side; getters read what the chart shows now (its tick labels change with its width).

import type { ModelFigures } from './models';

/** One plotted series: its legend label and its values as the chart holds them (null: no point). */
export interface SeriesFigure {
  label: string;
  values: (number | null)[];
}

export interface Figures {
  /** 2D canvases (charts and thumbnails) watched for context loss; how many lost their context and how many were redrawn when it came back. */
  canvases: { watched: number; lost: number; restored: number };
  /** The dataset thumbnails: makeDataset(count, seed), drawn 1:1 into count canvases of 32×32 pixels. */
  samples?: { count: number; seed: number; kinds: number[] };
  /** The training-loss chart: x = steps, one series per network, what trainNetwork returned (its `loss`), and the y axis (range and tick labels as drawn). */
  loss?: {
    steps: number[];
    series: SeriesFigure[];
    returned: number[][];
    yRange: [number, number];
    axisLabels: string[];
  };
  /** The held-out accuracy chart, and the held-out evaluations trainNetwork returned. */
  accuracy?: {
    steps: number[];
    series: SeriesFigure[];
    returned: { step: number; loss: number; accuracy: number }[][];
    axisLabels: string[];
  };
  /** dcn2 + AconC's learned parameters per channel, as charted. */
  aconParams?: { beta: number[]; p1: number[]; p2: number[] };
  /** Meta-ACON's β over the held-out images: its summary, and the histogram's bins [k·binWidth, (k + 1)·binWidth) with their counts as charted. */
  betaHistogram?: {
    n: number;
    min: number;
    max: number;
    median: number;
    binWidth: number;
    counts: number[];
    labels: string[];
  };
  /** The model panel's last run: weights, load time, and the top-5 classes and ms per image shown for fused and composed ACON. */
  model?: ModelFigures;
}

export const figures: Figures = { canvases: { watched: 0, lost: 0, restored: 0 } };
