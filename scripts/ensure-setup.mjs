// One-step set-up for a fresh machine, run by every npm entry point (test, report, bench, demo,
// gpu-bundle): installs the npm dependencies from the lock when they are missing, finds Chromium and,
// on Linux, the Vulkan loader that Dawn (npm `webgpu`: the Node runs and the `dawn` test project)
// loads, installing Debian's packages (chromium, libvulkan1) when running as root on Debian.
// Elsewhere it says exactly what to install. (The Vulkan driver needs nothing more: Chromium brings
// SwiftShader, which scripts/vulkan.mjs names after the system's own drivers, for machines without a GPU.)
import { existsSync, readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { findChrome } from './chrome.mjs';
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

if (!findChrome()) {
  if (isDebian && isRoot) {
    console.log('[setup] installing Chromium from Debian (apt-get install chromium)…');
    run('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium');
  }
  if (!findChrome()) {
    const os = existsSync('/etc/os-release')
      ? readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?(.*?)"?$/m)?.[1]
      : process.platform;
    console.error(
      `[setup] No Chromium or Chrome found (${os ?? 'unknown OS'}). Install one, then run again:\n` +
        '  Debian/Ubuntu:  sudo apt-get install -y chromium\n' +
        '  Fedora:         sudo dnf install -y chromium\n' +
        '  macOS:          brew install --cask chromium\n' +
        'or point CHROME_PATH at an existing Chrome/Chromium binary (version 113 or later, for WebGPU).',
    );
    process.exit(1);
  }
}

if (process.platform === 'linux' && !findVulkanLoader()) {
  if (isDebian && isRoot) {
    console.log("[setup] installing Debian's Vulkan loader for Dawn (apt-get install libvulkan1)…");
    run(
      'export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq --no-install-recommends libvulkan1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends libvulkan1)',
    );
  }
  if (!findVulkanLoader()) {
    // not fatal for the browser runs; the Node runs and the dawn tests stop with this message too
    console.error(
      `[setup] No Vulkan loader found: Dawn (the Node runs, the dawn tests) will find no adapter.\n${vulkanHelp()}`,
    );
  }
}
