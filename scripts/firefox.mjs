// Firefox, the browser on wgpu/naga, driven without a browser download: the system's Firefox (Debian's
// firefox-esr, which ensure-setup.mjs installs as root on Debian) over WebDriver BiDi, Firefox's own
// remote protocol, through puppeteer-core (a devDependency that downloads nothing). WebGPU is switched
// on by two prefs; the Vulkan driver is the one scripts/vulkan.mjs chooses for wgpu (Deno's probe: the
// same engine), so Firefox runs on the adapter the deno tests run on.
// Used by headless.mjs (`npm run report -- --firefox`) and firefox-provider.mjs (the `firefox` test project).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { chooseVulkanDriver } from './vulkan.mjs';

const CANDIDATES = [
  '/usr/bin/firefox-esr',
  '/usr/bin/firefox',
  '/usr/lib/firefox-esr/firefox-esr',
  '/usr/lib/firefox/firefox',
];

/** The Firefox binary (FIREFOX_PATH when set), or undefined. */
export function findFirefox() {
  const fromEnv = process.env.FIREFOX_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Release builds of Firefox expose WebGPU from 141 on; older ones (Debian 12's firefox-esr was 140 for
 * a while) answer requestAdapter() with NotSupportedError "WebGPU is not yet available in Release or
 * late Beta builds", whatever the prefs say.
 */
export const FIREFOX_WEBGPU_SINCE = 141;

/** `firefox --version`'s version ('140.12.0esr'), or undefined. */
export function firefoxVersion(path = findFirefox()) {
  if (!path) return undefined;
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return /Firefox\s+(\d+\.[\w.]+)/.exec(r.stdout ?? '')?.[1];
}

/** Why this machine's Firefox cannot run WebGPU, in a sentence, or undefined when it can. */
export function firefoxWebGPUProblem() {
  const path = findFirefox();
  if (!path) return 'no Firefox found (sudo apt-get install -y firefox-esr, or set FIREFOX_PATH)';
  const version = firefoxVersion(path);
  if (!version) return `${path} --version says no version`;
  if (parseInt(version, 10) < FIREFOX_WEBGPU_SINCE)
    return (
      `${path} is Firefox ${version}, and release builds have WebGPU from Firefox ${FIREFOX_WEBGPU_SINCE} on ` +
      '(a newer firefox-esr, or FIREFOX_PATH=a newer Firefox)'
    );
  return undefined;
}

/** WebGPU on (Firefox ESR ships it off on Linux) and allowed on any adapter, software ones included. */
export const FIREFOX_PREFS = { 'dom.webgpu.enabled': true, 'gfx.webgpu.ignore-blocklist': true };

/** Launches headless Firefox on the chosen Vulkan driver; resolves to a puppeteer Browser. */
export async function launchFirefox() {
  const problem = firefoxWebGPUProblem();
  if (problem) throw new Error(`[firefox] no WebGPU here: ${problem}`);
  const executablePath = findFirefox();
  const choice = await chooseVulkanDriver('wgpu');
  console.log(`[firefox] ${executablePath}; ${choice.line}`);
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
    env: { ...process.env, ...choice.env },
  });
}

// `node scripts/firefox.mjs --webgpu`: exits 0 when this machine's Firefox can run WebGPU, else prints why and exits 1
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv.includes('--webgpu')) {
  const problem = firefoxWebGPUProblem();
  if (problem) console.log(`[firefox] no WebGPU: ${problem}`);
  process.exit(problem ? 1 : 0);
}
