// Runs the validation report or the benchmarks on Node through Dawn instead of headless Chromium:
//   node scripts/headless.mjs report|bench --node [options]   (npm run report -- --node; npm run bench -- --node)
//   node scripts/node-run.mjs info|report|bench [options]     (the same, plus `info`: adapter, limits, Vulkan libraries)
// Same options, same tables, same JSON as the browser runs (plus adapter.runtime "node-dawn").
// Builds node/main.ts into build-node/acon-node.mjs (vite.node.config.ts, about a second) and runs it
// in a child node whose Vulkan driver is chosen by scripts/vulkan.mjs: VK_ICD_FILENAMES /
// VK_DRIVER_FILES when set, else the system's drivers, else Chromium's SwiftShader.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { build } from 'vite';
import { vulkanDriverEnv, vulkanHelp } from './vulkan.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the command line and runs `mode` with `args`; resolves to its exit status. */
export async function runOnNode(mode, args) {
  await build({ configFile: join(root, 'vite.node.config.ts'), root, logLevel: 'warn' });
  const { env, driver } = vulkanDriverEnv();
  console.log(`[node-run] Dawn on Node ${process.versions.node}; Vulkan driver: ${driver}`);
  const r = spawnSync(process.execPath, [join(root, 'build-node', 'acon-node.mjs'), mode, ...args], {
    stdio: 'inherit',
    env: { ...process.env, ...env, ACON_VULKAN_HELP: vulkanHelp({ ...process.env, ...env }) },
  });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [mode = 'info', ...args] = process.argv.slice(2);
  process.exit(await runOnNode(mode, args));
}
