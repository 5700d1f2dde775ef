import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { resolve } from 'node:path';
import { findChrome, CHROME_ARGS } from './scripts/chrome.mjs';
import { firefoxBidi } from './scripts/firefox-provider.mjs';

const executablePath = findChrome();

/** The kernel suite: every kernel against the float64 reference, run on each WebGPU engine. */
const KERNEL_TESTS = [
  'tests/browser/aconC.test.ts',
  'tests/browser/metaAconC.test.ts',
  'tests/browser/errors.test.ts',
  'tests/browser/shaders.test.ts',
];

/** The kernel suite in Deno, on wgpu/naga (Firefox's engine), plus tests/deno: run by scripts/vitest-deno.mjs. */
const denoProject: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'deno',
    include: [...KERNEL_TESTS, 'tests/deno/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['tests/helpers/vulkan-setup.ts'],
    setupFiles: ['tests/deno/setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
};

export default defineConfig({
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
        ? [denoProject]
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
            {
              extends: true,
              test: {
                name: 'browser',
                include: ['tests/browser/**/*.test.ts'],
                testTimeout: 180_000,
                hookTimeout: 60_000,
                browser: {
                  enabled: true,
                  headless: true,
                  screenshotFailures: false,
                  provider: playwright({ launchOptions: { executablePath, args: CHROME_ARGS } }),
                  instances: [{ browser: 'chromium' }],
                },
              },
            },
            {
              // The kernel tests once more in plain Node on Dawn (npm `webgpu`, Vulkan), plus the Node face
              // (tests/dawn): the library, the command line and the bench off the browser.
              extends: true,
              test: {
                name: 'dawn',
                include: [...KERNEL_TESTS, 'tests/dawn/**/*.test.ts'],
                environment: 'node',
                globalSetup: ['tests/helpers/vulkan-setup.ts'],
                setupFiles: ['tests/dawn/setup.ts'],
                testTimeout: 180_000,
                hookTimeout: 60_000,
              },
            },
            {
              // The kernel suite in the system's Firefox (wgpu/naga), over WebDriver BiDi: no browser download.
              extends: true,
              test: {
                name: 'firefox',
                include: KERNEL_TESTS,
                testTimeout: 180_000,
                hookTimeout: 60_000,
                browser: {
                  enabled: true,
                  headless: true,
                  screenshotFailures: false,
                  provider: firefoxBidi(),
                  instances: [{ browser: 'firefox' }],
                },
              },
            },
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
