// Runs a page of this project in headless Chromium and prints its result in the terminal.
//   node scripts/headless.mjs bench  [--json FILE] [--ops aconC,metaAconC,aconFReLU,tfjs,net,shufflenet,resnet,tfnet,train] [--shapes "8,64,56,56;1,64,7,7"]
//                                     [--tfjs-shapes "1,64,7,7;…"] [--net-batches 1,64] [--batches N] [--group-ms MS] [--train-batch 64]
//     --ops picks the families (default aconC,metaAconC,aconFReLU,tfjs,net,shufflenet); --shapes applies to the activations only
//     (logical N,C,H,W; both layouts are measured), --tfjs-shapes to the tfjs family (logical N,C,H,W, run
//     NHWC), --net-batches to net.infer; --batches sets the timed batches per measurement (default 11),
//     --group-ms the time budget of one side-by-side group past which fewer batches (≥ 3) are timed (60000).
//   node scripts/headless.mjs report [--json FILE]     (the validation report of the demo page)
//   node scripts/headless.mjs experiment [--json FILE] [--limit N] [--train] [--train-limit N] [--epochs N]
//     (the seed's Fashion-MNIST experiment from our side, tools/experiment: the shipped networks evaluated on
//     the first N test images, all 10,000 on a GPU and 1,000 on a CPU adapter by default; --train also trains
//     them with the recipe, on a subset on a CPU adapter)
//   --node / --deno (with either): run it on Node through Dawn, or on Deno through wgpu, instead of
//     Chromium (scripts/node-run.mjs): the same options, tables and JSON, plus adapter.runtime "node-dawn"
//     / "deno-wgpu".
//   --firefox (with either): the page in the system's Firefox (wgpu) instead, driven over WebDriver BiDi
//     (scripts/firefox.mjs).
// The page sets window.__result (or window.__error); lines it logs as "[progress] …" are echoed.
import { writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { chromium } from 'playwright';
import { findChrome, CHROME_ARGS } from './chrome.mjs';
import { firefoxWebGPUProblem, launchFirefox } from './firefox.mjs';

const [mode, ...rest] = process.argv.slice(2);
const engine = ['--node', '--deno'].find((f) => rest.includes(f));
if (engine && (mode === 'bench' || mode === 'report')) {
  const { runOffBrowser } = await import('./node-run.mjs');
  process.exit(
    await runOffBrowser(
      engine.slice(2),
      mode,
      rest.filter((a) => a !== engine),
    ),
  );
}
const firefox = rest.includes('--firefox');
const opt = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const pages = {
  bench: '/bench/index.html',
  report: '/demo/index.html?report=1',
  experiment: '/tools/experiment/index.html',
};
if (!pages[mode]) {
  console.error(
    'usage: node scripts/headless.mjs bench|report|experiment [--node] [--json FILE] [--ops a,b] [--shapes "N,C,H,W;…"] [--tfjs-shapes "N,C,H,W;…"] [--net-batches 1,64] [--batches N]',
  );
  process.exit(2);
}

const noWebGPU = firefox && firefoxWebGPUProblem();
if (noWebGPU) {
  console.error(`[firefox] this machine's Firefox has no WebGPU: ${noWebGPU}`);
  process.exit(1);
}

// no file watching, no HMR: in a shared checkout someone's edit must not reload the page mid-run
const server = await createServer({
  logLevel: 'error',
  server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
});
await server.listen();
const url = new URL(pages[mode], server.resolvedUrls.local[0]);
if (opt('--shapes')) url.searchParams.set('shapes', opt('--shapes'));
if (opt('--ops')) url.searchParams.set('ops', opt('--ops'));
if (opt('--train-batch')) url.searchParams.set('trainBatch', opt('--train-batch'));
if (opt('--tfjs-shapes')) url.searchParams.set('tfjsShapes', opt('--tfjs-shapes'));
if (opt('--net-batches')) url.searchParams.set('netBatches', opt('--net-batches'));
if (opt('--batches')) url.searchParams.set('batches', opt('--batches'));
if (opt('--group-ms')) url.searchParams.set('groupMs', opt('--group-ms'));
if (opt('--limit')) url.searchParams.set('limit', opt('--limit'));
if (rest.includes('--train')) url.searchParams.set('train', '1');
if (opt('--train-limit')) url.searchParams.set('trainLimit', opt('--train-limit'));
if (opt('--epochs')) url.searchParams.set('epochs', opt('--epochs'));
const browser = firefox
  ? await launchFirefox()
  : await chromium.launch({ executablePath: findChrome(), args: CHROME_ARGS, headless: true });
let failed = false;
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('[progress]')) console.log(t.slice(11));
    else if (m.type() === 'error') console.error(`[page] ${t}`);
  });
  // a module that fails to load or link (a missing file, a missing export) leaves the page without
  // a result forever: fail at once instead of waiting
  let broken;
  const brokenPage = new Promise((resolve) => (broken = resolve));
  page.on('response', (r) => {
    if (r.status() >= 400 && r.request().resourceType() === 'script')
      broken(`could not load ${r.url()} (HTTP ${r.status()})`);
  });
  page.on('pageerror', (e) => {
    console.error(`[page] ${e.message}`);
    if (e.name === 'SyntaxError') broken(`${e.name}: ${e.message}`);
  });
  await page.goto(url.href);
  // the same wait in Playwright's signature (fn, arg, options) and puppeteer's (fn, options)
  const done = () => window.__result !== undefined || window.__error !== undefined;
  const wait = { timeout: 0, polling: 500 };
  const settled = firefox ? page.waitForFunction(done, wait) : page.waitForFunction(done, null, wait);
  settled.catch(() => {});
  const loadError = await Promise.race([settled.then(() => undefined), brokenPage]);
  const { result, error, text } = loadError
    ? { error: `the page did not start: ${loadError}` }
    : await page.evaluate(() => ({
        result: window.__result,
        error: window.__error,
        text: document.getElementById('out')?.textContent ?? '',
      }));
  if (error) {
    console.error(error);
    failed = true;
  } else {
    console.log('\n' + text);
    if (result && typeof result === 'object' && 'ok' in result && !result.ok) failed = true;
    const file = opt('--json');
    if (file) {
      // which browser ran it: Firefox hides the adapter's names, so the JSON says it here
      const version = await browser.version();
      writeFileSync(file, JSON.stringify({ ...result, browser: version }, null, 2) + '\n');
      console.log(`\nwrote ${file}`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
