// Runs a page of this project in headless Chromium and prints its result in the terminal.
//   node scripts/headless.mjs bench  [--json FILE] [--shapes "8,64,56,56;1,64,7,7"] [--ops aconC,metaAconC,train] [--train-batch 64]
//   node scripts/headless.mjs report [--json FILE]     (the validation report of the demo page)
// The page sets window.__result (or window.__error); lines it logs as "[progress] …" are echoed.
import { writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { chromium } from 'playwright';
import { findChrome, CHROME_ARGS } from './chrome.mjs';

const [mode, ...rest] = process.argv.slice(2);
const opt = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const pages = { bench: '/bench/index.html', report: '/demo/index.html?report=1' };
if (!pages[mode]) {
  console.error('usage: node scripts/headless.mjs bench|report [--json FILE] [--shapes "N,C,H,W;…"]');
  process.exit(2);
}

const server = await createServer({ logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
await server.listen();
const url = new URL(pages[mode], server.resolvedUrls.local[0]);
if (opt('--shapes')) url.searchParams.set('shapes', opt('--shapes'));
if (opt('--ops')) url.searchParams.set('ops', opt('--ops'));
if (opt('--train-batch')) url.searchParams.set('trainBatch', opt('--train-batch'));
const browser = await chromium.launch({ executablePath: findChrome(), args: CHROME_ARGS, headless: true });
let failed = false;
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('[progress]')) console.log(t.slice(11));
    else if (m.type() === 'error') console.error(`[page] ${t}`);
  });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(url.href);
  await page.waitForFunction(() => window.__result !== undefined || window.__error !== undefined, null, { timeout: 0, polling: 500 });
  const { result, error, text } = await page.evaluate(() => ({
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
      writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
      console.log(`\nwrote ${file}`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
