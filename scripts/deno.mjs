// Where Deno is: the binary of the npm package `deno` (a devDependency, pinned in the lock; npm installs
// only this platform's @deno/<target> package). Deno's WebGPU is wgpu/naga, the engine Firefox uses, so
// it runs the kernel tests and the command line on the second WebGPU engine family.
// Node built-ins only. Used by vitest-deno.mjs, node-run.mjs and vulkan.mjs.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const require = createRequire(import.meta.url);

/** The deno executable, or undefined when the npm package (or this platform's binary) is missing. */
export function findDeno() {
  if (process.env.DENO_PATH) return existsSync(process.env.DENO_PATH) ? process.env.DENO_PATH : undefined;
  try {
    // the package's own resolver: its deno binary, or the platform package's
    return require('deno/install_api.cjs').runInstall();
  } catch {
    return undefined;
  }
}
