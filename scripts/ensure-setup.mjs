// One-step set-up for a fresh machine, run by every npm entry point (test, report, bench, demo,
// gpu-bundle): installs the npm dependencies from the lock when they are missing (Deno and puppeteer-core
// among them), then what the tests need from Debian when it is missing, when running as root on Debian:
//   chromium       the browser tests, the demo's e2e, and SwiftShader, the Vulkan driver of every engine
//                  on a machine without a GPU
//   libvulkan1     the Vulkan loader that Dawn (npm `webgpu`) and wgpu (Deno, Firefox) load
//   firefox-esr    the kernel suite and the report in Firefox (wgpu), over WebDriver BiDi
//   python3-torch  the PyTorch converter's tests (scripts/test_convert.py), for Debian's /usr/bin/python3
//   dataset-fashion-mnist  Fashion-MNIST (/usr/share/datasets/fashion-mnist): the dataset tests, the demo
// Elsewhere it says exactly what to install. Mesa's Vulkan drivers are neither needed nor installed: the
// tests pass with and without them (scripts/vulkan.mjs chooses among the drivers there are).
import { existsSync, readFileSync } from 'node:fs';
import { execSync, spawnSync } from 'node:child_process';
import { findChrome } from './chrome.mjs';
import { findFirefox } from './firefox.mjs';
import { findVulkanLoader, vulkanHelp } from './vulkan.mjs';

const run = (cmd) => execSync(cmd, { stdio: 'inherit' });

// every devDependency present (a checkout whose package.json gained one since its last install re-installs)
const devDependencies = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).devDependencies ?? {});
if (
  !existsSync('node_modules/.package-lock.json') ||
  devDependencies.some((d) => !existsSync(`node_modules/${d}/package.json`))
) {
  console.log('[setup] installing npm dependencies (npm ci)…');
  run('npm ci --no-audit --no-fund');
}

const isDebian = existsSync('/etc/debian_version');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** Debian's interpreter can import Debian's PyTorch (a pyenv python3 earlier on PATH cannot). */
const hasTorch = () => spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

const NEEDS = [
  {
    pkg: 'chromium',
    present: () => !!findChrome(),
    help: 'Chromium 113 or later (or CHROME_PATH), for the browser tests',
  },
  { pkg: 'libvulkan1', present: () => process.platform !== 'linux' || !!findVulkanLoader(), help: vulkanHelp() },
  {
    pkg: 'firefox-esr',
    present: () => !!findFirefox(),
    help: 'Firefox with WebGPU (ESR 153 is tested; or FIREFOX_PATH), for the firefox tests',
  },
  { pkg: 'python3-torch', present: hasTorch, help: "PyTorch for /usr/bin/python3, for the converter's tests" },
  {
    pkg: 'dataset-fashion-mnist',
    present: () => existsSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'),
    help: 'Fashion-MNIST, for the dataset tests and the demo (the tests pass without it, saying so)',
  },
];

const missing = NEEDS.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length && isDebian && isRoot) {
  console.log(`[setup] installing from Debian: ${missing.join(' ')}…`);
  // Chromium as it always was (with its recommended fonts, for the demo's charts); the rest without
  // recommends: libvulkan1 recommends Mesa's drivers, which the tests neither need nor mind
  const install = (pkgs, flags = '') =>
    pkgs.length &&
    run(
      `export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq ${flags} ${pkgs.join(' ')} || ` +
        `(apt-get update -qq && apt-get install -y -qq ${flags} ${pkgs.join(' ')})`,
    );
  install(missing.filter((p) => p === 'chromium'));
  install(
    missing.filter((p) => p !== 'chromium'),
    '--no-install-recommends',
  );
}
const still = NEEDS.filter((n) => !n.present());
if (still.length) {
  const os = existsSync('/etc/os-release')
    ? readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?(.*?)"?$/m)?.[1]
    : process.platform;
  console.error(
    `[setup] missing on this machine (${os ?? 'unknown OS'}): ${still.map((n) => n.pkg).join(', ')}. ` +
      `On Debian/Ubuntu: sudo apt-get install -y ${still.map((n) => n.pkg).join(' ')}\n` +
      still.map((n) => `  ${n.pkg}: ${n.help}`).join('\n'),
  );
  // the browser is needed by every entry point; the rest only by some tests, which say so themselves
  if (still.some((n) => n.pkg === 'chromium')) process.exit(1);
}
