import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import type { BrowserInstanceOption, BrowserProviderOption } from 'vitest/node';
import { playwright } from '@vitest/browser-playwright';
import { resolve } from 'node:path';
import { findChrome, CHROME_ARGS } from './scripts/chrome.mjs';
import { firefoxBidi } from './scripts/firefox-provider.mjs';
import { firefoxWebGPUProblem } from './scripts/firefox.mjs';
import { datasets } from './scripts/datasets-plugin.mjs';

const executablePath = findChrome();
/**
 * The firefox project runs where the system's Firefox has WebGPU; elsewhere it is left out, loudly
 * (once: vitest's workers evaluate this file again, and inherit the answer through the environment).
 * Only under vitest: the dev server, the bench and the report have no test projects.
 */
const firefoxProblem = 'Deno' in globalThis || !process.env.VITEST ? undefined : checkFirefoxOnce();
function checkFirefoxOnce(): string | undefined {
  const known = process.env.ACON_FIREFOX_PROBLEM;
  if (known !== undefined) return known || undefined;
  const problem = firefoxWebGPUProblem();
  process.env.ACON_FIREFOX_PROBLEM = problem ?? '';
  if (problem) console.warn(`*** the firefox test project is left out: ${problem} ***`);
  return problem;
}

/** The kernel suite: every kernel against the float64 reference, run on each WebGPU engine. */
const KERNEL_TESTS = [
  'tests/browser/aconC.test.ts',
  'tests/browser/metaAconC.test.ts',
  'tests/browser/errors.test.ts',
  'tests/browser/shaders.test.ts',
  'tests/browser/activations.test.ts',
  'tests/browser/aconFRelu.test.ts',
];

/**
 * A project that runs test files outside a browser on one WebGPU engine: the Vulkan driver chosen once for
 * the run (tests/helpers/vulkan-setup.ts), then `setupFile` installs or checks the engine's navigator.gpu.
 */
const engineProject = (name: string, include: string[], setupFile: string): TestProjectInlineConfiguration => ({
  extends: true,
  test: {
    name,
    include,
    environment: 'node',
    globalSetup: ['tests/helpers/vulkan-setup.ts'],
    setupFiles: [setupFile],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});

/** A project that runs test files in a headless browser driven by `provider`. */
const browserProject = (
  name: string,
  include: string[],
  browser: BrowserInstanceOption['browser'],
  provider: BrowserProviderOption,
): TestProjectInlineConfiguration => ({
  extends: true,
  test: {
    name,
    include,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    browser: { enabled: true, headless: true, screenshotFailures: false, provider, instances: [{ browser }] },
  },
});

export default defineConfig({
  plugins: [datasets()],
  build: {
    // `npm run build`: the library (shaders inlined through ?raw) for other projects to import.
    lib: {
      entry: {
        'acon-webgpu': resolve(import.meta.dirname, 'src/index.ts'),
        tfjs: resolve(import.meta.dirname, 'src/tfjs/index.ts'),
        layers: resolve(import.meta.dirname, 'src/layers/index.ts'),
        models: resolve(import.meta.dirname, 'src/models/index.ts'),
      },
      formats: ['es'],
    },
    rollupOptions: { external: [/^@tensorflow\//] },
    outDir: 'dist',
    sourcemap: true,
  },
  // Pre-bundle every tfjs package up front: on a cold cache, Vite discovering @tensorflow/tfjs-layers
  // mid-run re-optimises and reloads, leaving two copies of tfjs-core (the second without our
  // registered layer classes).
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-layers',
      'fast-check',
      'uplot',
    ],
  },
  test: {
    // In Deno (scripts/vitest-deno.mjs) only the kernel suite on wgpu; in Node everything else.
    projects:
      'Deno' in globalThis
        ? // the kernel suite in Deno, on wgpu/naga (Firefox's engine), plus tests/deno
          [engineProject('deno', [...KERNEL_TESTS, 'tests/deno/**/*.test.ts'], 'tests/deno/setup.ts')]
        : [
            {
              extends: true,
              test: {
                name: 'node',
                include: ['tests/node/**/*.test.ts'],
                environment: 'node',
                testTimeout: 60_000,
              },
            },
            browserProject(
              'browser',
              ['tests/browser/**/*.test.ts'],
              'chromium',
              playwright({ launchOptions: { executablePath, args: CHROME_ARGS } }),
            ),
            // The kernel tests once more in plain Node on Dawn (npm `webgpu`, Vulkan), plus the Node face
            // (tests/dawn): the library, the command line and the bench off the browser.
            engineProject('dawn', [...KERNEL_TESTS, 'tests/dawn/**/*.test.ts'], 'tests/dawn/setup.ts'),
            // The kernel suite in the system's Firefox (wgpu/naga), over WebDriver BiDi: no browser download.
            ...(firefoxProblem ? [] : [browserProject('firefox', KERNEL_TESTS, 'firefox', firefoxBidi())]),
            {
              extends: true,
              test: {
                name: 'e2e',
                include: ['tests/e2e/**/*.test.ts'],
                environment: 'node',
                testTimeout: 1_500_000,
                hookTimeout: 300_000,
              },
            },
          ],
  },
});
