// window.__figures: the numbers behind the demo's figures, for the end-to-end test. Each entry is
// filled from the very arrays its chart draws (the chart's own data where uPlot holds it), never
// recomputed on the side; getters read what the chart shows now (its tick labels change with its width).

import type { ClassifyFigures } from './classify';
import type { ModelFigures } from './models';

/** One plotted series: its legend label and its values as the chart holds them (null: no point). */
export interface SeriesFigure {
  label: string;
  values: (number | null)[];
}

export interface Figures {
  /** 2D canvases (charts and thumbnails) watched for context loss; how many lost their context and how many were redrawn when it came back. */
  canvases: { watched: number; lost: number; restored: number };
  /**
   * The dataset thumbnails: Fashion-MNIST's test images `indices` (classes `labels`), drawn 1:1 into
   * canvases of 28×28 pixels; or, without the dataset, makeDataset(count, seed) into 32×32.
   */
  samples?:
    | { source: 'fashion-mnist'; split: 'test'; indices: number[]; labels: number[] }
    | { source: 'synthetic'; count: number; seed: number; kinds: number[] };
  /** What the training panel trained on. */
  task?: 'fashion-mnist' | 'synthetic';
  /** The training-loss chart: x = steps, one series per network, the losses training returned, and the y axis (range and tick labels as drawn). */
  loss?: {
    steps: number[];
    series: SeriesFigure[];
    returned: number[][];
    yRange: [number, number];
    axisLabels: string[];
  };
  /** The held-out accuracy chart, and the held-out evaluations (`images` of them; a loss on the synthetic task alone). */
  accuracy?: {
    steps: number[];
    series: SeriesFigure[];
    images: number;
    returned: { step: number; accuracy: number; loss?: number }[][];
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
  /** The test image the classify panel shows, its class and each network's prediction (null before a run reaches it). */
  testImage?: { index: number; label: number; predicted: (number | null)[]; torch: number[] };
  /** The classify panel's last run. */
  classify?: ClassifyFigures;
}

export const figures: Figures = { canvases: { watched: 0, lost: 0, restored: 0 } };
