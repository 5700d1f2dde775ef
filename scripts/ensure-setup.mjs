// One-step set-up for a fresh machine, run by every npm entry point (test, report, bench, demo):
// installs the npm dependencies from the lock when they are missing, and finds Chromium, installing
// Debian's package when running as root on Debian. Elsewhere it says exactly what to install.
import { existsSync, readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { findChrome } from './chrome.mjs';

const run = (cmd) => execSync(cmd, { stdio: 'inherit' });

if (!existsSync('node_modules/.package-lock.json') || !existsSync('node_modules/vitest')) {
  console.log('[setup] installing npm dependencies (npm ci)…');
  run('npm ci --no-audit --no-fund');
}

if (!findChrome()) {
  const isDebian = existsSync('/etc/debian_version');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isDebian && isRoot) {
    console.log('[setup] installing Chromium from Debian (apt-get install chromium)…');
    run('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium');
  }
  if (!findChrome()) {
    const os = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?(.*?)"?$/m)?.[1] : process.platform;
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
