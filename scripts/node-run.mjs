// Runs the validation report or the benchmarks off the browser, on Node through Dawn (npm `webgpu`) or
// on Deno through its own wgpu, instead of headless Chromium:
//   node scripts/headless.mjs report|bench --node|--deno [options]   (npm run report -- --deno; npm run bench -- --node)
//   node scripts/node-run.mjs [--deno] info|report|bench [options]   (the same, plus `info`: adapter, limits, Vulkan libraries)
// Same options, same tables, same JSON as the browser runs (plus adapter.runtime "node-dawn" / "deno-wgpu").
// Builds node/main.ts or node/deno.ts into build-node/acon-node.mjs / acon-deno.mjs (vite.node.config.ts,
// about a second) and runs it in a child process on the Vulkan driver scripts/vulkan.mjs chooses:
// VK_ICD_FILENAMES / VK_DRIVER_FILES when set, else a GPU, else Chromium's SwiftShader, else another CPU
// driver, saying which and why the others were skipped.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { build } from 'vite';
import { chooseVulkanDriver, vulkanHelp } from './vulkan.mjs';
import { findDeno } from './deno.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const RUNNERS = {
  node: { engine: 'dawn', mode: 'production', module: 'acon-node.mjs', command: () => [process.execPath, []] },
  deno: { engine: 'wgpu', mode: 'deno', module: 'acon-deno.mjs', command: () => [findDeno(), ['run', '-A']] },
};

/** Builds the command line for `runtime` ('node' or 'deno') and runs `mode` with `args`; resolves to its exit status. */
export async function runOffBrowser(runtime, mode, args) {
  const runner = RUNNERS[runtime];
  const [cmd, cmdArgs] = runner.command();
  if (!cmd) {
    console.error('[node-run] Deno not found: `npm ci` installs it (the devDependency `deno`), or set DENO_PATH.');
    return 1;
  }
  await build({ configFile: join(root, 'vite.node.config.ts'), root, logLevel: 'warn', mode: runner.mode });
  const choice = await chooseVulkanDriver(runner.engine);
  const version = runtime === 'node' ? `Node ${process.versions.node}` : 'Deno';
  console.log(`[node-run] ${version}; ${choice.line}`);
  const r = spawnSync(cmd, [...cmdArgs, join(root, 'build-node', runner.module), mode, ...args], {
    stdio: 'inherit',
    env: {
      ...process.env,
      ...choice.env,
      DENO_NO_UPDATE_CHECK: '1',
      ACON_VULKAN_HELP: `${choice.line}\n${vulkanHelp()}`,
    },
  });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/** The Node (Dawn) run, as before. */
export const runOnNode = (mode, args) => runOffBrowser('node', mode, args);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const runtime = argv.includes('--deno') ? 'deno' : 'node';
  const [mode = 'info', ...args] = argv.filter((a) => a !== '--deno' && a !== '--node');
  process.exit(await runOffBrowser(runtime, mode, args));
}
