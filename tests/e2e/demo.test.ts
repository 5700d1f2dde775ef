// End-to-end: the built demo (vite build + vite preview) in headless Chromium, every panel run,
// no console errors, the numbers behind every figure (window.__figures, demo/figures.ts) and the
// pixels on screen checked; screenshots go to tests/e2e/artifacts (git-ignored). The preview serves
// Debian's Fashion-MNIST as the dev server does (scripts/datasets-plugin.mjs); a second one serves an
// empty folder instead, for the page without the dataset.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { build, preview, type InlineConfig, type PreviewServer } from 'vite';
import type { Figures } from '../../demo/figures';
import { chromium, type Browser, type Locator, type Page } from 'playwright';
import { findChrome, CHROME_ARGS } from '../../scripts/chrome.mjs';
import { datasets } from '../../scripts/datasets-plugin.mjs';
import { makeDataset } from '../../tools/data';
import { FASHION_CLASSES, fashionMnist, gunzip, type FashionMnist } from '../../tools/fashionMnist';

const ART = 'tests/e2e/artifacts';
/** Whether Debian's dataset-fashion-mnist is installed: the Fashion-MNIST checks run, or the fallback's. */
const FASHION = existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');
let server: PreviewServer;
/** The same build, served with no dataset. */
let bare: PreviewServer;
let emptyDir: string;
let browser: Browser;
let base: string;
let bareBase: string;
/** PyTorch's side of the Fashion-MNIST experiment: parameter counts, and its seed-0 predictions of the 10,000 test images. */
const EXPERIMENT = JSON.parse(readFileSync('demo/fashion/experiment.json', 'utf8')) as {
  summary: Record<string, { params: number }>;
  predictions_seed0: Record<string, string>;
};
/** The first 1,000 test images and labels (tests/fixtures/fashion-mnist, equal to Debian's). */
let fixture: FashionMnist;

beforeAll(async () => {
  mkdirSync(ART, { recursive: true });
  if (!FASHION)
    console.warn(
      '*** dataset-fashion-mnist is not installed: the demo trains on the synthetic task, and the e2e test checks that instead of Fashion-MNIST ***',
    );
  const config = (dir?: string): InlineConfig => ({
    configFile: false,
    root: process.cwd(),
    base: './',
    logLevel: 'error',
    plugins: [datasets(dir ? { dir } : {})],
    build: { outDir: 'dist-demo', target: 'esnext', rollupOptions: { input: 'demo/index.html' } },
  });
  await build(config());
  server = await preview({ ...config(), preview: { host: '127.0.0.1', port: 0 } });
  base = server.resolvedUrls!.local[0]!;
  emptyDir = mkdtempSync(join(tmpdir(), 'acon-no-datasets-'));
  bare = await preview({ ...config(emptyDir), preview: { host: '127.0.0.1', port: 0 } });
  bareBase = bare.resolvedUrls!.local[0]!;
  browser = await chromium.launch({ executablePath: findChrome(), args: CHROME_ARGS, headless: true });
  const file = (name: string) => readFileSync(`tests/fixtures/fashion-mnist/test-1000-${name}.gz`);
  fixture = fashionMnist(
    await gunzip(file('images-idx3-ubyte'), 'images'),
    await gunzip(file('labels-idx1-ubyte'), 'labels'),
  );
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const s of [server, bare]) await new Promise<void>((r) => (s ? s.httpServer.close(() => r()) : r()));
  if (emptyDir) rmSync(emptyDir, { recursive: true, force: true });
});

/**
 * Console errors and page errors. Where the page runs without the dataset (`datasetAbsent`), the
 * browser's own line for each 404 from /datasets/fashion-mnist/ is expected (the page says so itself).
 */
function collectErrors(page: Page, datasetAbsent = !FASHION): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    const missing = /status of 404/.test(m.text()) && m.location().url.includes('/datasets/fashion-mnist/');
    if (m.type() === 'error' && !(datasetAbsent && missing)) errors.push(m.text());
    // tfjs's webgpu backend says so on its first synchronous read (dataSync, arraySync), which on
    // SwiftShader loses the page's GPU channel (see the context-loss check below)
    if (m.type() === 'warning' && /synchronously reading data from GPU/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are) as RGBA pixels. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let [width, height, depth, type, interlace] = [0, 0, 0, 0, 0];
  const idat: Buffer[] = [];
  for (let pos = 8; pos < buf.length;) {
    const len = buf.readUInt32BE(pos);
    const name = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (name === 'IHDR')
      [width, height, depth, type, interlace] = [
        data.readUInt32BE(0),
        data.readUInt32BE(4),
        data[8]!,
        data[9]!,
        data[12]!,
      ];
    if (name === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  if (depth !== 8 || (type !== 2 && type !== 6) || interlace !== 0)
    throw new Error(`PNG depth ${depth}, colour type ${type}, interlace ${interlace}: not decoded here`);
  const bpp = type === 6 ? 4 : 3;
  const stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      cur[i] = (line[i]! + [0, a, b, (a + b) >> 1, paeth][filter]!) & 255;
    }
    for (let x = 0; x < width; x++)
      for (let ch = 0; ch < 4; ch++) rgba[(y * width + x) * 4 + ch] = ch < bpp ? cur[x * bpp + ch]! : 255;
    prev = cur;
  }
  return { width, height, rgba };
}

/**
 * A screenshot of each uPlot chart under `scope`: how many of its pixels show each series colour
 * (within 8 per channel: the cores of lines, points and bars; anti-aliased edges blend), and how
 * many distinct colours it holds. A blank canvas, or Chromium's broken-image placeholder, shows
 * none of the series colours.
 */
async function chartInk(
  page: Page,
  scope: string,
): Promise<{ title: string; ink: Record<string, number>; distinct: number }[]> {
  const out = [];
  const charts = page.locator(`${scope} .uplot`);
  for (let i = 0; i < (await charts.count()); i++) {
    const chart: Locator = charts.nth(i);
    const colors = (await chart.evaluate((e) => e.parentElement!.dataset.colors ?? '')).split(' ').filter(Boolean);
    const { rgba } = decodePng(await chart.locator('canvas').screenshot());
    const ink: Record<string, number> = Object.fromEntries(colors.map((c) => [c, 0]));
    const distinct = new Set<number>();
    const rgb = colors.map((c) =>
      c.length === 4
        ? [1, 2, 3].map((k) => 17 * parseInt(c[k]!, 16))
        : [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)),
    );
    for (let p = 0; p < rgba.length; p += 4) {
      distinct.add((rgba[p]! << 16) | (rgba[p + 1]! << 8) | rgba[p + 2]!);
      rgb.forEach((c, k) => {
        if (
          Math.abs(rgba[p]! - c[0]!) <= 8 &&
          Math.abs(rgba[p + 1]! - c[1]!) <= 8 &&
          Math.abs(rgba[p + 2]! - c[2]!) <= 8
        )
          ink[colors[k]!]!++;
      });
    }
    out.push({ title: (await chart.locator('.u-title').textContent()) ?? '', ink, distinct: distinct.size });
  }
  return out;
}

async function runPanel(page: Page, button: string, name: string, timeout: number) {
  await page.click(`#${button}`);
  await page.waitForFunction((n) => window.__panels?.[n] === 'ok' || window.__panels?.[n] === 'failed', name, {
    timeout,
    polling: 500,
  });
  return page.evaluate((n) => window.__panels![n], name);
}

/** Fewest pixels of a series colour that count as drawn: a 9-px point shows about 60, a line across the plot hundreds. */
const MIN_INK = 30;

/**
 * Every chart shows each of its series' colours and is no flat fill; `mayHide` names colours allowed
 * to be absent because each of their points lies under a later series' point.
 */
function expectDrawn(
  charts: Awaited<ReturnType<typeof chartInk>>,
  count: number,
  mayHide: Record<string, string[]> = {},
) {
  expect(charts).toHaveLength(count);
  for (const c of charts) {
    expect(c.distinct, `${c.title}: distinct colours`).toBeGreaterThan(20);
    const missing = Object.entries(c.ink).filter(([color, n]) => n < MIN_INK && !mayHide[c.title]?.includes(color));
    expect(missing, `${c.title}: series colours (with their pixel counts) missing on screen`).toEqual([]);
  }
}

/** Tick labels: distinct numbers, evenly spaced (each writes its tick exactly), inside the axis range, which holds the data. */
function expectAxis(labels: string[], [lo, hi]: [number, number], data: number[]) {
  const ticks = labels.map((l) => Number(l.replaceAll(',', '')));
  expect(new Set(labels).size, `labels ${labels.join(' ')}`).toBe(labels.length);
  expect(labels.length).toBeGreaterThanOrEqual(3);
  const step = ticks[1]! - ticks[0]!;
  expect(step).toBeGreaterThan(0);
  ticks.forEach((t, i) =>
    expect(Math.abs(t - (ticks[0]! + i * step)), `labels ${labels.join(' ')}`).toBeLessThan(step * 1e-6),
  );
  expect(ticks[0]!).toBeGreaterThanOrEqual(lo - step * 1e-6);
  expect(ticks.at(-1)!).toBeLessThanOrEqual(hi + step * 1e-6);
  expect(lo).toBeLessThanOrEqual(Math.min(...data));
  expect(hi).toBeGreaterThanOrEqual(Math.max(...data));
}

const NETS = [
  ['dcn3', 'dcn3 (ReLU)'],
  ['dcn2-acon', 'dcn2 + AconC'],
  ['dcn2-meta', 'dcn2 + MetaAconC'],
] as const;

/**
 * The training panel's numbers (window.__figures) after `steps` steps, on Fashion-MNIST or (`fashion`
 * false) the synthetic task; `canvases` is how many the page watches. Returns the accuracy colours
 * that coinciding points may hide.
 */
async function checkFigures(page: Page, steps: number, fashion: boolean, canvases: number): Promise<string[]> {
  const f = (await page.evaluate(() => window.__figures))!;
  expect(f.task).toBe(fashion ? 'fashion-mnist' : 'synthetic');
  const xs = Array.from({ length: steps }, (_, i) => i + 1);
  // training loss: the plotted values are those training returned, finite, and near chance: ln 10
  // over 10 classes (the untrained logits are small, and a step or two of Adam at lr 1e-3 moves
  // them little; a batch of 4 leaves the loss noisy), ln 2 on the synthetic task's one logit
  const loss = f.loss!;
  expect(loss.steps).toEqual(xs);
  expect(loss.series.map((s) => s.label)).toEqual(NETS.map(([, label]) => label));
  expect(loss.series.map((s) => s.values)).toEqual(loss.returned);
  const values = loss.returned.flat();
  expect(values).toHaveLength(NETS.length * steps);
  const [chance, within] = fashion ? [Math.LN10, 0.5] : [Math.LN2, 0.05];
  for (const v of values) expect(Math.abs(v - chance), `loss ${v}`).toBeLessThan(within);
  expectAxis(loss.axisLabels, loss.yRange, values);
  // held-out accuracy: plotted at the evaluated steps (all of them for 10 steps or fewer), k/n of the n held-out images
  const acc = f.accuracy!;
  expect(acc.steps).toEqual(xs);
  expect(acc.images).toBe(fashion ? 200 : 64);
  acc.returned.forEach((evals, i) => {
    expect(evals.map((e) => e.step)).toEqual(xs);
    expect(acc.series[i]!.values).toEqual(evals.map((e) => e.accuracy));
    for (const e of evals) {
      const k = e.accuracy * acc.images;
      expect(Math.abs(k - Math.round(k)) < 1e-6 && e.accuracy >= 0 && e.accuracy <= 1, `accuracy ${e.accuracy}`).toBe(
        true,
      );
    }
  });
  const status = (await page.textContent('#train-status'))!;
  expect(status).toMatch(fashion ? /^Trained on Fashion-MNIST \(60,000 training images/ : /^Trained on the synthetic/);
  NETS.forEach(([kind], i) => {
    const last = acc.returned[i]!.at(-1)!;
    const heldOutLoss = fashion ? '' : `held-out loss ${last.loss!.toFixed(3)}, `;
    expect(status).toContain(
      `${kind}: training loss ${loss.returned[i]!.at(-1)!.toFixed(3)}, ${heldOutLoss}accuracy ${(100 * last.accuracy).toFixed(1)} %`,
    );
  });
  // dcn2 + AconC's parameters: 64 channels, finite
  for (const v of Object.values(f.aconParams!)) {
    expect(v).toHaveLength(64);
    expect(v.every(Number.isFinite)).toBe(true);
  }
  // Meta-ACON β over 64 held-out images × 64 channels: σ's range, spread (not one value: a failed
  // read gives all zeros), and a histogram that counts every value in the bins between min and max
  const beta = f.betaHistogram!;
  expect(beta.n).toBe(64 * 64);
  expect(beta.min).toBeGreaterThan(0);
  expect(beta.max).toBeLessThan(1);
  expect(beta.max - beta.min).toBeGreaterThan(0.01);
  expect(beta.median).toBeGreaterThanOrEqual(beta.min);
  expect(beta.median).toBeLessThanOrEqual(beta.max);
  expect(beta.labels).toEqual(beta.counts.map((_, k) => (k * beta.binWidth).toFixed(2)));
  expect(beta.counts.reduce((a, b) => a + b, 0)).toBe(beta.n);
  const [first, last] = [Math.floor(beta.min / beta.binWidth), Math.floor(beta.max / beta.binWidth)];
  expect(beta.counts[first]).toBeGreaterThan(0);
  expect(beta.counts[last]).toBeGreaterThan(0);
  beta.counts.forEach((c, k) => (k < first || k > last) && expect(c, `bin ${k}`).toBe(0));
  // no canvas lost its context
  expect(f.canvases).toEqual({ watched: canvases, lost: 0, restored: 0 });
  // accuracy points that every later series covers (equal values at every step) may be hidden
  const series = acc.series.map((s) => s.values);
  const colors = (await page.locator('#train-body > div').nth(1).getAttribute('data-colors'))!.split(' ');
  return colors.filter((_, i) => xs.every((_x, t) => series.slice(i + 1).some((later) => later[t] === series[i]![t])));
}

/**
 * Canvas `locator` shows `expected(p, ch)` (pixel p of a size × size image, RGB) exactly in canvas
 * memory and on screen at `scale`× (pixelated) inside a 1-px border; the element's box may start at a
 * fractional pixel, so the image is looked for at each whole-pixel offset the screenshot allows.
 * Returns the channel values that differ in memory and on screen.
 */
async function wrongPixels(locator: Locator, size: number, expected: (p: number, ch: number) => number, scale = 2) {
  const memory = await locator.evaluate((c: HTMLCanvasElement) =>
    Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data),
  );
  expect(memory).toHaveLength(size * size * 4);
  let inMemory = 0;
  for (let p = 0; p < size * size; p++)
    for (let ch = 0; ch < 4; ch++) if (memory[p * 4 + ch] !== (ch === 3 ? 255 : expected(p, ch))) inMemory++;
  const shot = decodePng(await locator.screenshot());
  const S = scale * size;
  expect(shot.width).toBeGreaterThanOrEqual(S + 2);
  expect(shot.height).toBeGreaterThanOrEqual(S + 2);
  const wrongOnScreen = (ox: number, oy: number) => {
    let wrong = 0;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const [p, q] = [Math.floor(y / scale) * size + Math.floor(x / scale), ((oy + y) * shot.width + ox + x) * 4];
        for (let ch = 0; ch < 3; ch++) if (Math.abs(shot.rgba[q + ch]! - expected(p, ch)) > 2) wrong++;
      }
    }
    return wrong;
  };
  const offsets = Array.from(
    { length: (shot.width - S + 1) * (shot.height - S + 1) },
    (_, i) => [i % (shot.width - S + 1), Math.floor(i / (shot.width - S + 1))] as const,
  );
  const onScreen = Math.min(...offsets.map(([ox, oy]) => wrongOnScreen(ox, oy)));
  return { inMemory, onScreen, shot: `${shot.width}×${shot.height}` };
}

/** Fashion-MNIST test image `i` of the fixture, grey, as RGB channel values. */
const fashionPixel = (i: number) => (p: number) => fixture.images[i * 28 * 28 + p]!;

/**
 * The 16 thumbnails: the first 16 Fashion-MNIST test images (28 × 28 grey) with their classes, or
 * without the dataset makeDataset(16, 42) (32 × 32 RGB), exactly in canvas memory and on screen at 2×.
 */
async function checkSamples(page: Page, fashion: boolean) {
  const samples = (await page.evaluate(() => window.__figures!.samples))!;
  const thumbs = page.locator('#samples canvas');
  expect(await thumbs.count()).toBe(16);
  let size: number;
  let expected: (k: number) => (p: number, ch: number) => number;
  if (fashion) {
    const indices = Array.from({ length: 16 }, (_, i) => i);
    expect(samples).toEqual({
      source: 'fashion-mnist',
      split: 'test',
      indices,
      labels: indices.map((i) => fixture.labels[i]),
    });
    expect(await page.locator('#samples figcaption').allTextContents()).toEqual(
      indices.map((i) => FASHION_CLASSES[fixture.labels[i]!]),
    );
    [size, expected] = [28, fashionPixel];
  } else {
    const d = makeDataset(16, 42);
    expect(samples).toEqual({ source: 'synthetic', count: 16, seed: 42, kinds: Array.from(d.kinds) });
    size = 32;
    expected = (k) => (p, ch) => Math.round(d.images[(k * 1024 + p) * 3 + ch]! * 255);
  }
  for (let k = 0; k < 16; k++) {
    const wrong = await wrongPixels(thumbs.nth(k), size, expected(k));
    expect(wrong.inMemory, `thumbnail ${k}: channel values that differ from the dataset in canvas memory`).toBe(0);
    expect(
      wrong.onScreen,
      `thumbnail ${k}: channel values that differ from the dataset on screen (${wrong.shot} shot)`,
    ).toBe(0);
  }
}

/** The classify panel's test image: the fixture's image it names, in canvas memory and on screen at 4×. */
async function checkTestImage(page: Page) {
  const { index } = (await page.evaluate(() => window.__figures!.testImage))!;
  const wrong = await wrongPixels(page.locator('#classify-body canvas.test-image'), 28, fashionPixel(index), 4);
  expect(
    [wrong.inMemory, wrong.onScreen],
    `test image ${index}: channel values that differ (${wrong.shot} shot)`,
  ).toEqual([0, 0]);
}

/** The training panel's note without the dataset. */
const FALLBACK =
  'Fashion-MNIST not found (Debian package dataset-fashion-mnist): training on the synthetic red-disc task instead';

describe('demo', () => {
  test('every panel runs and reports success, with no console errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${base}demo/index.html?bench=2,16,8,8&steps=2&batch=4&classify=10`);
    await page.waitForFunction(() => window.__panels?.curves === 'ok', null, { timeout: 120_000 });
    // the training panel says what it trains on once the test split has loaded (or failed to)
    await page.waitForFunction(() => window.__figures?.samples !== undefined, null, { timeout: 60_000 });
    if (FASHION) {
      expect(await page.textContent('#train-task')).toMatch(/^Task: Fashion-MNIST, 10 classes/);
      // the networks with 10 outputs have PyTorch's parameter counts (experiment.json)
      const summary = (await page.locator('#summaries summary').allTextContents()).join('\n');
      for (const [kind] of NETS)
        expect(summary).toContain(`${EXPERIMENT.summary[kind].params.toLocaleString('en-US')} trainable parameters`);
    } else expect(await page.textContent('#train-task')).toContain(FALLBACK);
    expect(await page.locator('#curves-body .uplot').count()).toBe(2);
    expect(await page.textContent('#curves-body .note')).toMatch(/GPU vs CPU reference: max \|Δy\| = /);
    await page.click('text=ACON-A (Swish)');
    await page.locator('#curves-body').screenshot({ path: `${ART}/curves.png` });
    expectDrawn(await chartInk(page, '#curves-body'), 2);

    expect(await runPanel(page, 'run-validation', 'validation', 600_000)).toBe('ok');
    // 11 ACON-C shapes × forward and backward, 7 Meta-ACON cases, 7 ACON-FReLU cases × forward and
    // backward (tools/report/validation.ts)
    expect(await page.locator('#table tbody tr').count()).toBe(2 * 11 + 7 + 2 * 7);
    expect(await page.locator('#table .fail').count()).toBe(0);
    await page.locator('#validation').screenshot({ path: `${ART}/validation.png` });

    expect(await runPanel(page, 'run-bench', 'benchmark', 600_000)).toBe('ok');
    expect(await page.locator('#bench-body .uplot').count()).toBe(1);
    expect(await page.getAttribute('#bench-body a', 'download')).toBe('acon-bench.json');
    await page.locator('#benchmark').screenshot({ path: `${ART}/benchmark.png` });
    expectDrawn(await chartInk(page, '#bench-body'), 1);

    expect(await runPanel(page, 'run-training', 'training', 600_000)).toBe('ok');
    expect(await page.textContent('#train-status')).toMatch(/dcn3: training loss .* dcn2-acon: .* dcn2-meta: /);
    expect(await page.locator('#train-body .uplot').count()).toBe(4);
    expect(await page.locator('#samples canvas').count()).toBe(16);
    // the charts and samples hold real pixels (not blank)
    const inked = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll('#train-body canvas, #samples canvas')).every((c) => {
          const cv = c as HTMLCanvasElement;
          const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
          for (let i = 0; i < d.length; i += 4)
            if (d[i + 3]! > 0 && (d[i]! < 250 || d[i + 1]! < 250 || d[i + 2]! < 250)) return true;
          return false;
        }),
      );
    expect(await inked()).toBe(true);
    // 2 curves, 1 benchmark chart, 4 training charts, 16 thumbnails, and the classify panel's test image
    const canvases = FASHION ? 24 : 23;
    const accuracyTitle = (await page.locator('#train-body .u-title').nth(1).textContent())!;
    expect(accuracyTitle).toMatch(/^held-out accuracy/);
    const mayHide = { [accuracyTitle]: await checkFigures(page, 2, FASHION, canvases) };
    expectDrawn(await chartInk(page, '#train-body'), 4, mayHide);
    await checkSamples(page, FASHION);
    if (FASHION) {
      // the classify panel on 10 images (the next test runs 1,000)
      expect(await runPanel(page, 'run-classify', 'classify', 300_000)).toBe('ok');
      const c = (await page.evaluate(() => window.__figures!.classify))!;
      expect([c.count, c.leakedTensors, c.nets.dcn3.predictions.length]).toEqual([10, 0, 10]);
    } else expect(await page.isDisabled('#run-classify')).toBe(true);
    // phone width: charts resize, nothing overflows sideways
    await page.setViewportSize({ width: 390, height: 844 });
    // charts follow their container through ResizeObservers, which a busy page may deliver late
    await page
      .waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth, null, { timeout: 15_000 })
      .catch(() => undefined);
    const wide = await page.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll, pre'))
        .slice(0, 5)
        .map(
          (e) =>
            `${e.closest('section')?.id} ${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)} parent ${Math.round(e.parentElement!.getBoundingClientRect().width)}`,
        ),
    );
    expect(wide, 'elements wider than a phone screen').toEqual([]);
    const tall = async (width: number) => {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(300);
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(500);
    };
    await tall(390);
    await page.screenshot({ path: `${ART}/phone.png` });
    await tall(1100);
    await page.locator('#training').screenshot({ path: `${ART}/training.png` });
    await page.screenshot({ path: `${ART}/desktop.png` });
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => window.__figures!.canvases.lost)).toBe(0);

    // Context loss, and the page's recovery. Writing a WebGPU canvas's texture (what tfjs's webgpu
    // dataSync does to read a tensor) makes Chromium on SwiftShader fail to create that canvas's
    // shared image ("Could not find SharedImageBackingFactory … WebgpuSwapChainTexture"), and the page
    // loses its GPU channel: the WebGPU device, and every 2D canvas, cleared, until the browser hands
    // it back. The demo no longer reads that way (lost = 0 above); the test does it here on purpose
    // and checks that every chart and thumbnail is drawn again.
    const software = await page.evaluate(async () => {
      const adapter = (await navigator.gpu.requestAdapter())!;
      const device = await adapter.requestDevice();
      const ctx = new OffscreenCanvas(256, 256).getContext('webgpu')!;
      ctx.configure({ device, format: 'bgra8unorm', usage: GPUTextureUsage.COPY_DST });
      const buffer = device.createBuffer({ size: 256 * 16 * 4, usage: GPUBufferUsage.COPY_SRC });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToTexture(
        { buffer, bytesPerRow: 256 * 4 },
        { texture: ctx.getCurrentTexture() },
        { width: 256, height: 16 },
      );
      device.queue.submit([encoder.finish()]);
      return adapter.info.architecture === 'swiftshader';
    });
    const recovered = await page
      .waitForFunction(
        () => {
          const c = window.__figures!.canvases;
          return c.lost > 0 && c.restored === c.watched;
        },
        null,
        { timeout: 30_000 },
      )
      .then(
        () => true,
        () => false,
      );
    // a hardware adapter may well create that shared image and lose nothing; SwiftShader must
    if (software) expect(recovered, 'canvases lost and restored on SwiftShader').toBe(true);
    if (recovered) {
      expect(await page.evaluate(() => window.__figures!.canvases)).toEqual({
        watched: canvases,
        lost: canvases,
        restored: canvases,
      });
      expect(await inked()).toBe(true);
      expectDrawn(await chartInk(page, '#curves-body'), 2);
      expectDrawn(await chartInk(page, '#bench-body'), 1);
      expectDrawn(await chartInk(page, '#train-body'), 4, mayHide);
      await checkSamples(page, FASHION);
      if (FASHION) await checkTestImage(page);
      await page.locator('#training').screenshot({ path: `${ART}/training-restored.png` });
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 1_500_000);

  test('classify panel: the converted networks predict as PyTorch did on the first 1,000 test images, and the page shows their accuracy', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${base}demo/index.html?classify=1000`);
    await page.waitForFunction(() => window.__figures?.samples !== undefined, null, { timeout: 120_000 });
    if (!FASHION) {
      console.warn(
        '*** dataset-fashion-mnist is not installed: the classify panel is checked to say so, and no more ***',
      );
      expect(await page.textContent('#classify-body')).toContain('Fashion-MNIST not found');
      expect(await page.isDisabled('#run-classify')).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
      return;
    }
    expect(await page.inputValue('#classify-count')).toBe('1000');
    // the panel counts tf.memory()'s tensors before and after its run: wait until the page's one other
    // tensor user, the model panel's preview (a tensor read back, freed, then drawn), is done
    await page.waitForFunction(
      () => {
        const c = document.querySelector<HTMLCanvasElement>('#model-body canvas.preview')!;
        return c
          .getContext('2d')!
          .getImageData(0, 0, c.width, c.height)
          .data.some((v, i) => i % 4 === 3 && v > 0);
      },
      null,
      { timeout: 120_000 },
    );
    const t0 = performance.now();
    expect(await runPanel(page, 'run-classify', 'classify', 900_000)).toBe('ok');
    const seconds = (performance.now() - t0) / 1000;
    const c = (await page.evaluate(() => window.__figures!.classify))!;
    expect(c.count).toBe(1000);
    // every model and input freed
    expect(c.leakedTensors).toBe(0);
    // PyTorch's predictions (and the labels, in beforeAll) read here from the files themselves
    const torch = EXPERIMENT.predictions_seed0;
    const labels = fixture.labels;
    for (const [kind] of NETS) {
      const r = c.nets[kind];
      expect(r.predictions).toHaveLength(1000);
      const differ = r.predictions.filter((p, i) => p !== Number(torch[kind]![i])).length;
      const correct = r.predictions.filter((p, i) => p === labels[i]).length;
      console.log(
        `${kind}: accuracy ${correct / 1000} on the first 1,000 test images; ${differ} of 1,000 predictions differ from PyTorch's (${r.ms.toFixed(0)} ms)`,
      );
      expect(differ, `${kind}: predictions that differ from PyTorch's`).toBeLessThanOrEqual(1);
      expect([r.differFromTorch, r.correct, r.accuracy]).toEqual([differ, correct, correct / 1000]);
      // what the page shows: the accuracy and the count of differences, as text
      const row = page.locator(`#classify-body tr[data-net="${kind}"]`);
      expect(await row.locator('td.accuracy').textContent()).toBe(
        `${correct} / 1,000 (${(correct / 10).toFixed(1)} %)`,
      );
      expect(await row.locator('td.differ').textContent()).toBe(`${differ} of 1,000`);
      expect(await page.textContent('#classify-status')).toContain(`${kind} ${r.shownAccuracyText}, ${differ} differ`);
      // a trained network, far above chance (0.1)
      expect(correct / 1000).toBeGreaterThan(0.8);
    }
    console.log(`classify panel: 3 networks × 1,000 images in ${seconds.toFixed(0)} s`);
    // the test image: its class and each network's answer, here and PyTorch's; "Next mistake" goes
    // to the next image some network gets wrong
    const answers = async () => {
      const shown = (await page.evaluate(() => window.__figures!.testImage))!;
      const i = shown.index;
      expect(shown).toEqual({
        index: i,
        label: labels[i],
        predicted: NETS.map(([kind]) => c.nets[kind].predictions[i]),
        torch: NETS.map(([kind]) => Number(torch[kind]![i])),
      });
      expect(await page.textContent('#classify-body .truth')).toBe(`test image ${i}: ${FASHION_CLASSES[labels[i]!]}`);
      const rows = await page.locator('#classify-body table.answers tr').allTextContents();
      expect(rows.slice(1)).toEqual(
        NETS.map(
          ([, label], k) => `${label}${FASHION_CLASSES[shown.predicted[k]!]}${FASHION_CLASSES[shown.torch[k]!]}`,
        ),
      );
      await checkTestImage(page);
      return i;
    };
    expect(await answers()).toBe(0);
    await page.click('text=Next mistake');
    const mistake = NETS.map(([kind]) => c.nets[kind].predictions.findIndex((p, i) => i > 0 && p !== labels[i]));
    expect(await answers()).toBe(Math.min(...mistake.filter((i) => i > 0)));
    await page.locator('#classify').screenshot({ path: `${ART}/classify.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 1_200_000);

  test('without the dataset: the page says so, trains on the synthetic task, and the classify panel stays off', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = collectErrors(page, true);
    await page.goto(`${bareBase}demo/index.html?steps=1&batch=4`);
    await page.waitForFunction(() => window.__figures?.samples !== undefined, null, { timeout: 120_000 });
    expect(await page.textContent('#train-task')).toContain(FALLBACK);
    expect(await page.getAttribute('#train-task', 'class')).toBe('warn');
    expect(await page.textContent('#classify-body')).toContain('Fashion-MNIST not found');
    expect(await page.isDisabled('#run-classify')).toBe(true);
    expect(await runPanel(page, 'run-training', 'training', 300_000)).toBe('ok');
    expect(await page.evaluate(() => window.__figures!.task)).toBe('synthetic');
    expect(await page.textContent('#train-status')).toMatch(/^Trained on the synthetic red-disc task\. dcn3: /);
    await checkSamples(page, false);
    await page.locator('#training').screenshot({ path: `${ART}/training-no-dataset.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 600_000);

  test('model panel: ShuffleNetV2 with random weights, then a converted checkpoint; fused and composed agree; a truncated file is refused', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${base}demo/index.html`);
    await page.waitForFunction(() => window.__panels?.curves === 'ok', null, { timeout: 120_000 });
    expect(errors).toEqual([]);
    expect(await page.textContent('#model-body .note')).toMatch(/RANDOM weights/);
    const model = async () => {
      expect(await runPanel(page, 'run-model', 'model', 600_000)).toBe('ok');
      return (await page.evaluate(() => window.__figures!.model))!;
    };
    // the figures behind the two top-5 tables
    const checkTop5 = (f: NonNullable<Figures['model']>, classes: number) => {
      for (const top of [f.fused, f.composed]) {
        expect(top.length).toBe(5);
        for (const p of top)
          expect(
            p.probability > 0 && p.probability < 1 && Number.isInteger(p.index) && p.index >= 0 && p.index < classes,
          ).toBe(true);
        for (let i = 1; i < 5; i++) expect(top[i]!.probability).toBeLessThanOrEqual(top[i - 1]!.probability);
        expect(top.reduce((a, p) => a + p.probability, 0)).toBeLessThanOrEqual(1 + 1e-6);
      }
      // the same network and weights: the same classes, probabilities equal to float32 rounding through the network
      expect(f.fused[0]!.index).toBe(f.composed[0]!.index);
      expect(Math.abs(f.fused[0]!.probability - f.composed[0]!.probability)).toBeLessThan(1e-3);
      expect(f.fusedMs > 0 && f.composedMs > 0).toBe(true);
    };
    const random = await model();
    expect([random.source, random.architecture, random.trainable, random.loadMs]).toEqual([
      'random',
      'shufflenetv2-meta',
      1_686_620,
      0,
    ]);
    checkTop5(random, 1000);
    expect(await page.locator('#model-body table.top5').count()).toBe(2);
    expect(await page.textContent('#model-status')).toMatch(/fused \d+ ms, composed \d+ ms per image/);

    await page.setInputFiles(
      '#model-body input[accept=".safetensors"]',
      'tests/fixtures/models/shufflenetv2-tiny-meta.safetensors',
    );
    await page.waitForFunction(
      () => /loaded in/.test(document.querySelector('#model-body .note')!.textContent!),
      null,
      { timeout: 60_000 },
    );
    const loaded = await model();
    expect([loaded.source, loaded.architecture, loaded.trainable]).toEqual([
      'shufflenetv2-tiny-meta.safetensors',
      'shufflenetv2-meta',
      49_362,
    ]);
    expect(loaded.loadMs).toBeGreaterThan(0);
    checkTop5(loaded, 10);
    expect(await page.textContent('#model-body .note')).not.toMatch(/RANDOM/);
    await page.locator('#model').screenshot({ path: `${ART}/model.png` });

    const bytes = readFileSync('tests/fixtures/models/shufflenetv2-tiny-meta.safetensors');
    await page.setInputFiles('#model-body input[accept=".safetensors"]', {
      name: 'cut.safetensors',
      mimeType: 'application/octet-stream',
      buffer: bytes.subarray(0, bytes.length - 100),
    });
    await page.waitForFunction(
      () => /could not load cut\.safetensors/.test(document.querySelector('#model-body .note')!.textContent!),
      null,
      { timeout: 60_000 },
    );
    expect(await page.textContent('#model-body .note')).toMatch(/runs past the end of the file \(truncated\)/);
    expect(errors).toEqual([]);
    await page.close();
  }, 900_000);

  test('without WebGPU: a clear message, and the CPU-reference curves still draw', async () => {
    const noGpu = await chromium.launch({
      executablePath: findChrome(),
      args: CHROME_ARGS.filter((a) => a !== '--enable-unsafe-webgpu').concat('--disable-features=WebGPU'),
      headless: true,
    });
    const page = await noGpu.newPage({ viewport: { width: 900, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${base}demo/index.html`);
    await page.waitForFunction(() => window.__panels?.curves === 'ok', null, { timeout: 60_000 });
    expect(await page.isVisible('#nogpu')).toBe(true);
    expect(await page.textContent('#nogpu')).toMatch(/WebGPU is not available/);
    expect(await page.isDisabled('#run-validation')).toBe(true);
    expect(await page.textContent('#curves-body .note')).toMatch(/CPU reference alone/);
    await page.screenshot({ path: `${ART}/no-webgpu.png`, fullPage: false });
    expect(errors).toEqual([]);
    await noGpu.close();
  }, 120_000);
});
