// Which Vulkan driver a WebGPU engine on Linux runs on, chosen deterministically and said plainly.
// Node built-ins only, so it works before `npm ci` has run. Used by ensure-setup.mjs, node-run.mjs,
// gpu-bundle-ci.sh and the dawn / deno test projects (tests/engines/global-setup.ts).
//   the loader: libvulkan.so.1 (Debian's libvulkan1), which ensure-setup.mjs installs when missing
//   a driver:   VK_ICD_FILENAMES / VK_DRIVER_FILES when set (used as they are); otherwise each driver
//               manifest the loader would find (/usr/share/vulkan/icd.d/*.json, …) and Chromium's
//               SwiftShader are probed one at a time, each in a child process of the engine itself
//               (a driver that prints, hangs or crashes harms only its probe), and the first that gives
//               an adapter in this order is chosen:
//                 1. a GPU: a system driver whose adapter is not a fallback (CPU) adapter, by path;
//                 2. Chromium's SwiftShader (the CPU driver the browser tests run on too);
//                 3. another CPU driver (Mesa's lavapipe), by path.
//               The chosen manifest alone goes into VK_ICD_FILENAMES, so the engine sees one adapter.
// Mesa's drivers talk on stderr when probed on a machine without their hardware ("XDG_RUNTIME_DIR is
// invalid", Dawn refusing lavapipe: "shaderUniform*ArrayDynamicIndexing required"): that chatter is
// kept as the reason a driver was skipped, never taken as a failure.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChrome } from './chrome.mjs';
import { findDeno } from './deno.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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

/** The driver manifests installed where the loader looks by default, sorted by path. */
export function systemVulkanDrivers() {
  return ICD_DIRS.flatMap((d) => {
    try {
      return readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .sort()
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
 * The engines whose adapters can be probed: Dawn (npm `webgpu` in node) and wgpu (Deno). `env` is what
 * the engine always runs with: Deno's wgpu would otherwise also enumerate OpenGL (Mesa's llvmpipe through
 * EGL), which no Vulkan driver choice controls.
 */
export const ENGINES = {
  dawn: { name: 'Dawn', gpu: "(await import('webgpu')).create([])", env: {} },
  wgpu: { name: 'wgpu (Deno)', gpu: 'navigator.gpu', env: { DENO_WEBGPU_BACKEND: 'vulkan' } },
};

const PROBE_TIMEOUT_MS = 30_000;
const MARK = '@@adapter ';
// eslint-disable-next-line no-control-regex -- terminal colour codes are control characters
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/** What `engine` finds with the one driver manifest `icd`: { icd, adapter | null, said }. */
export function probeDriver(icd, engine = 'dawn', env = process.env) {
  const script =
    `const gpu = ${ENGINES[engine].gpu}; const a = await gpu.requestAdapter(); const i = a?.info;` +
    `console.log(${JSON.stringify(MARK)} + JSON.stringify(a ? { vendor: i.vendor, architecture: i.architecture,` +
    ` description: i.description, fallback: i.isFallbackAdapter ?? a.isFallbackAdapter ?? false } : null));` +
    `globalThis.process ? process.exit(0) : Deno.exit(0);`;
  const [cmd, args] =
    engine === 'dawn' ? [process.execPath, ['--input-type=module', '-e', script]] : [findDeno(), ['eval', script]];
  const probeEnv = { ...env, ...ENGINES[engine].env, VK_ICD_FILENAMES: icd, VK_DRIVER_FILES: icd, NO_COLOR: '1' };
  return new Promise((resolve) => {
    if (!cmd) return resolve({ icd, adapter: null, said: 'Deno not found (npm ci installs it)' });
    execFile(cmd, args, { cwd: root, env: probeEnv, timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (e, out, err) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      const adapter = line ? JSON.parse(line.slice(MARK.length)) : null;
      // the driver's own words, for the reason it was skipped: its distinct lines (Mesa's complaint about
      // XDG_RUNTIME_DIR, which says nothing about the device, last), capped
      const lines = [
        ...new Set(
          `${err}`
            .replace(ANSI_COLOUR, '')
            .split('\n')
            .map((l) => l.trim()),
        ),
      ].filter(Boolean);
      const words = [
        ...lines.filter((l) => !/XDG_RUNTIME_DIR/.test(l)),
        ...lines.filter((l) => /XDG_RUNTIME_DIR/.test(l)),
      ];
      const fallback = e ? (e.killed ? `no answer in ${PROBE_TIMEOUT_MS / 1000} s` : `exit status ${e.code}`) : '';
      const said = words.slice(0, 2).join(' / ').slice(0, 200) || fallback;
      resolve({ icd, adapter, said });
    });
  });
}

const describeAdapter = (a) =>
  `${a.vendor || '?'} / ${a.architecture || '?'} / ${a.description || '?'}${a.fallback ? ' (a CPU)' : ''}`;

/**
 * The rule, on the probes of every candidate: the first GPU (an adapter that is not a fallback one), else
 * SwiftShader, else the first other CPU driver, in the probes' order; every other probe is skipped, saying why.
 */
export function pickDriver(probes, swiftshader) {
  const rank = (p) => (!p.adapter ? 3 : !p.adapter.fallback ? 0 : p.icd === swiftshader ? 1 : 2);
  const best = probes.reduce((a, p) => (a === undefined || rank(p) < rank(a) ? p : a), undefined);
  const chosen = best && rank(best) < 3 ? best : undefined;
  const skipped = probes
    .filter((p) => p !== chosen)
    .map((p) => ({
      icd: p.icd,
      why: !p.adapter
        ? `no adapter${p.said ? ` (it said: ${p.said})` : ''}`
        : `${describeAdapter(p.adapter)}, after the chosen one in the order GPU, SwiftShader, other CPU drivers`,
    }));
  return { chosen, skipped };
}

/**
 * Chooses the Vulkan driver for `engine` (see the top of this file). Resolves to
 *   { env: to run the engine with: VK_ICD_FILENAMES / VK_DRIVER_FILES naming the chosen driver alone
 *          (absent when the caller set them), and the engine's own (ENGINES),
 *     icd, adapter (what the probe found; undefined when set by the caller or none found),
 *     skipped: [{ icd, why }], line: one sentence saying which driver and why the others were skipped }.
 */
export async function chooseVulkanDriver(engine = 'dawn', env = process.env) {
  const set = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  const who = ENGINES[engine].name;
  const own = ENGINES[engine].env;
  if (set)
    return {
      env: own,
      icd: set,
      skipped: [],
      line: `${who}'s Vulkan driver: ${set} (set by VK_DRIVER_FILES / VK_ICD_FILENAMES)`,
    };
  const swiftshader = swiftshaderIcd();
  const candidates = [...new Set([...systemVulkanDrivers(), ...(swiftshader ? [swiftshader] : [])])];
  const probes = await Promise.all(candidates.map((icd) => probeDriver(icd, engine, env)));
  const { chosen, skipped } = pickDriver(probes, swiftshader);
  const skips = skipped.length ? `; skipped ${skipped.map((s) => `${basename(s.icd)}: ${s.why}`).join('; ')}` : '';
  if (!chosen)
    return { env: own, icd: undefined, skipped, line: `${who} found no Vulkan adapter with any driver${skips}` };
  const kind = !chosen.adapter.fallback
    ? 'a GPU'
    : chosen.icd === swiftshader
      ? "Chromium's SwiftShader"
      : 'a CPU driver';
  return {
    env: { ...own, VK_ICD_FILENAMES: chosen.icd, VK_DRIVER_FILES: chosen.icd },
    icd: chosen.icd,
    adapter: chosen.adapter,
    skipped,
    line: `${who}'s Vulkan driver: ${chosen.icd}, ${kind}: ${describeAdapter(chosen.adapter)}${skips}`,
  };
}

/** What to install when the engine finds no adapter: the loader, a driver, and what was found. */
export function vulkanHelp() {
  const loader = findVulkanLoader();
  const drivers = [...systemVulkanDrivers(), swiftshaderIcd() ?? []].flat();
  return [
    `Vulkan loader (libvulkan.so.1): ${loader ?? 'NOT FOUND'}; Vulkan drivers: ${drivers.join(', ') || 'none found'}.`,
    'WebGPU on Linux (Dawn: npm webgpu; wgpu: Deno) needs:',
    '  the Vulkan loader:  sudo apt-get install -y libvulkan1   (npm test installs it on Debian as root)',
    '  a Vulkan driver:    a GPU driver with its ICD manifest in /usr/share/vulkan/icd.d (NVIDIA: nvidia_icd.json),',
    "                      or Chromium's SwiftShader (sudo apt-get install -y chromium: /usr/lib/chromium/vk_swiftshader_icd.json);",
    '                      VK_ICD_FILENAMES=/path/to/icd.json picks one. VK_LOADER_DEBUG=all shows what the loader tries.',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // node scripts/vulkan.mjs [dawn|wgpu]: the choice, as the test projects and node-run make it
  const choice = await chooseVulkanDriver(process.argv[2] ?? 'dawn');
  console.log(choice.line);
  process.exit(choice.icd ? 0 : 3);
}
