// Firefox, the browser on wgpu/naga, driven without a browser download: the system's Firefox (Debian's
// firefox-esr, which ensure-setup.mjs installs as root on Debian) over WebDriver BiDi, Firefox's own
// remote protocol, through puppeteer-core (a devDependency that downloads nothing). WebGPU is switched
// on by two prefs; the Vulkan driver is the one scripts/vulkan.mjs chooses for wgpu (Deno's probe: the
// same engine), so Firefox runs on the adapter the deno tests run on.
// Used by headless.mjs (`npm run report -- --firefox`) and firefox-provider.mjs (the `firefox` test project).
import { existsSync } from 'node:fs';
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

/** WebGPU on (Firefox ESR ships it off on Linux) and allowed on any adapter, software ones included. */
export const FIREFOX_PREFS = { 'dom.webgpu.enabled': true, 'gfx.webgpu.ignore-blocklist': true };

/** Launches headless Firefox on the chosen Vulkan driver; resolves to a puppeteer Browser. */
export async function launchFirefox() {
  const executablePath = findFirefox();
  if (!executablePath)
    throw new Error(
      '[firefox] no Firefox found: sudo apt-get install -y firefox-esr (npm test installs it on Debian as root), or set FIREFOX_PATH',
    );
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
