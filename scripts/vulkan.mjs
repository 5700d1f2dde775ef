// Where Dawn (npm `webgpu`, for the Node runs and the `dawn` test project) finds Vulkan on Linux.
// Node built-ins only, so it works before `npm ci` has run. Used by ensure-setup.mjs, node-run.mjs,
// gpu-bundle-ci.sh and tests/dawn/setup.ts.
//   the loader: libvulkan.so.1 (Debian's libvulkan1), which ensure-setup.mjs installs when missing
//   a driver:   VK_ICD_FILENAMES / VK_DRIVER_FILES when set; else the system's drivers
//               (/usr/share/vulkan/icd.d/*.json) and Chromium's SwiftShader (a CPU driver that ships
//               with the Chromium the browser tests use) after them, so that a GPU is preferred and
//               SwiftShader is there without one. (Debian 12's lavapipe, Mesa 22.3, is refused by
//               Dawn: "Vulkan shaderUniform*ArrayDynamicIndexing required".)
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { findChrome } from './chrome.mjs';

/** Directories the Vulkan loader searches for driver manifests by default (Linux). */
export const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];

/** Where a Vulkan loader libvulkan.so.1 is, from the linker cache or the usual directories; undefined if none. */
export function findVulkanLoader() {
  try {
    const line = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .find((l) => /^\s*libvulkan\.so\.1\s/.test(l));
    if (line) return line.split('=>').pop().trim();
  } catch {
    /* no ldconfig on PATH (not root): look in the usual places */
  }
  for (const d of [
    '/lib/x86_64-linux-gnu',
    '/usr/lib/x86_64-linux-gnu',
    '/lib/aarch64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
  ]) {
    if (existsSync(join(d, 'libvulkan.so.1'))) return join(d, 'libvulkan.so.1');
  }
  return undefined;
}

/** The driver manifests installed where the loader looks by default. */
export function systemVulkanDrivers() {
  return ICD_DIRS.flatMap((d) => {
    try {
      return readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(d, f));
    } catch {
      return [];
    }
  });
}

/** Chromium's (or Chrome's) SwiftShader driver manifest, or undefined. */
export function swiftshaderIcd() {
  const dirs = ['/usr/lib/chromium', '/opt/google/chrome', '/usr/lib/chromium-browser'];
  const chrome = findChrome();
  if (chrome) {
    try {
      dirs.unshift(dirname(realpathSync(chrome)));
    } catch {
      /* a dangling CHROME_PATH: findChrome already said */
    }
  }
  return dirs.map((d) => join(d, 'vk_swiftshader_icd.json')).find((f) => existsSync(f));
}

/**
 * The environment that names Dawn's Vulkan drivers, and a line saying which they are. Nothing is
 * changed when VK_ICD_FILENAMES or VK_DRIVER_FILES is set, or when Chromium's SwiftShader is not
 * found; otherwise VK_ICD_FILENAMES lists the system's drivers and SwiftShader last (Dawn prefers a
 * GPU's adapter to a CPU's). The loader reads it when Dawn creates its instance, so setting it in the
 * process before `create()` is early enough.
 */
export function vulkanDriverEnv(env = process.env) {
  const set = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  if (set) return { env: {}, driver: `${set} (from VK_DRIVER_FILES / VK_ICD_FILENAMES)` };
  const system = systemVulkanDrivers();
  const ss = swiftshaderIcd();
  if (!ss) return { env: {}, driver: system.length ? `the system's: ${system.join(', ')}` : 'none found' };
  const listed = system.length ? `the system's (${system.join(', ')}), then ` : '';
  return { env: { VK_ICD_FILENAMES: [...system, ss].join(':') }, driver: `${listed}Chromium's SwiftShader (${ss})` };
}

/** What to install when Dawn finds no adapter: the loader, a driver, and what was found. */
export function vulkanHelp(env = process.env) {
  const loader = findVulkanLoader();
  const { driver } = vulkanDriverEnv(env);
  return [
    `Vulkan loader (libvulkan.so.1): ${loader ?? 'NOT FOUND'}; Vulkan driver: ${driver}.`,
    'Dawn (npm webgpu) needs on Linux:',
    '  the Vulkan loader:  sudo apt-get install -y libvulkan1   (npm test installs it on Debian as root)',
    '  a Vulkan driver:    a GPU driver with its ICD manifest in /usr/share/vulkan/icd.d (NVIDIA: nvidia_icd.json),',
    "                      or Chromium's SwiftShader (sudo apt-get install -y chromium: /usr/lib/chromium/vk_swiftshader_icd.json);",
    '                      VK_ICD_FILENAMES=/path/to/icd.json picks one. VK_LOADER_DEBUG=all shows what the loader tries.',
  ].join('\n');
}
