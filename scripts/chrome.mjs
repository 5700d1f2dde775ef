// Finds a Chromium/Chrome binary that can run WebGPU headless. Node built-ins only, so it works
// before `npm ci` has run. Used by ensure-setup.mjs, vite.config.ts and headless.mjs.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
];

/** The browser's path, or undefined when none is installed. CHROME_PATH wins when set. */
export function findChrome() {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  for (const p of CANDIDATES) if (existsSync(p)) return p;
  for (const name of ['chromium', 'google-chrome', 'chromium-browser']) {
    try {
      const p = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch {
      /* not on PATH */
    }
  }
  return undefined;
}

/**
 * Flags that give headless Chromium WebGPU (SwiftShader's Vulkan adapter where no GPU exists) and
 * keep it off the network, which CI machines do not have.
 */
export const CHROME_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
  // 2D canvases (the demo's charts) drawn in software: steadier next to heavy WebGPU work on SwiftShader
  '--disable-accelerated-2d-canvas',
];
