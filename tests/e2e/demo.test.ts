// End-to-end: the built demo (vite build + vite preview) in headless Chromium, every panel run,
// no console errors; screenshots go to tests/e2e/artifacts (git-ignored).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync } from 'node:fs';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright';
import { findChrome, CHROME_ARGS } from '../../scripts/chrome.mjs';

const ART = 'tests/e2e/artifacts';
let server: PreviewServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  mkdirSync(ART, { recursive: true });
  const config = { configFile: false as const, root: process.cwd(), base: './', logLevel: 'error' as const, build: { outDir: 'dist-demo', target: 'esnext', rollupOptions: { input: 'demo/index.html' } } };
  await build(config);
  server = await preview({ ...config, preview: { host: '127.0.0.1', port: 0 } });
  base = server.resolvedUrls!.local[0]!;
  browser = await chromium.launch({ executablePath: findChrome(), args: CHROME_ARGS, headless: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => server?.httpServer.close(() => r()));
});

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

async function runPanel(page: Page, button: string, name: string, timeout: number) {
  await page.click(`#${button}`);
  await page.waitForFunction((n) => window.__panels?.[n] === 'ok' || window.__panels?.[n] === 'failed', name, { timeout, polling: 500 });
  return page.evaluate((n) => window.__panels![n], name);
}

describe('demo', () => {
  test('every panel runs and reports success, with no console errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${base}demo/index.html?bench=2,16,8,8&steps=2&batch=4`);
    await page.waitForFunction(() => window.__panels?.curves === 'ok', null, { timeout: 120_000 });
    expect(await page.locator('#curves-body .uplot').count()).toBe(2);
    expect(await page.textContent('#curves-body .note')).toMatch(/GPU vs CPU reference: max \|Δy\| = /);
    await page.click('text=ACON-A (Swish)');
    await page.locator('#curves-body').screenshot({ path: `${ART}/curves.png` });

    expect(await runPanel(page, 'run-validation', 'validation', 600_000)).toBe('ok');
    // 11 ACON-C shapes × forward and backward, and 7 Meta-ACON cases (demo/validation.ts)
    expect(await page.locator('#table tbody tr').count()).toBe(2 * 11 + 7);
    expect(await page.locator('#table .fail').count()).toBe(0);
    await page.locator('#validation').screenshot({ path: `${ART}/validation.png` });

    expect(await runPanel(page, 'run-bench', 'benchmark', 600_000)).toBe('ok');
    expect(await page.locator('#bench-body .uplot').count()).toBe(1);
    expect(await page.getAttribute('#bench-body a', 'download')).toBe('acon-bench.json');
    await page.locator('#benchmark').screenshot({ path: `${ART}/benchmark.png` });

    expect(await runPanel(page, 'run-training', 'training', 600_000)).toBe('ok');
    expect(await page.textContent('#train-status')).toMatch(/dcn3: held-out loss .* dcn2-acon: .* dcn2-meta: /);
    expect(await page.locator('#train-body .uplot').count()).toBe(4);
    expect(await page.locator('#samples canvas').count()).toBe(16);
    // the charts and samples hold real pixels (not blank)
    const inked = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#train-body canvas, #samples canvas')).every((c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && (d[i]! < 250 || d[i + 1]! < 250 || d[i + 2]! < 250)) return true;
        return false;
      }),
    );
    expect(inked).toBe(true);
    // phone width: charts resize, nothing overflows sideways
    await page.setViewportSize({ width: 390, height: 844 });
    // charts follow their container through ResizeObservers, which a busy page may deliver late
    await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth, null, { timeout: 15_000 }).catch(() => undefined);
    const wide = await page.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll, pre'))
        .slice(0, 5)
        .map((e) => `${e.closest('section')?.id} ${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)} parent ${Math.round(e.parentElement!.getBoundingClientRect().width)}`),
    );
    expect(wide, 'elements wider than a phone screen').toEqual([]);
    // Headless Chromium on SwiftShader stops compositing 2D canvases after the tfjs WebGPU training
    // (their pixels stay intact, as checked above), so training.png and the full-page shots show
    // empty chart areas there; curves.png and benchmark.png are taken before training.
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
    await page.close();
  }, 1_500_000);

  test('without WebGPU: a clear message, and the CPU-reference curves still draw', async () => {
    const noGpu = await chromium.launch({ executablePath: findChrome(), args: CHROME_ARGS.filter((a) => a !== '--enable-unsafe-webgpu').concat('--disable-features=WebGPU'), headless: true });
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
