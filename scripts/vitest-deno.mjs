// Runs vitest in Deno: the `deno` test project (vite.config.ts), the kernel suite on wgpu/naga, the
// WebGPU engine Firefox uses. `npm test` runs it after the Node projects; arguments go to vitest
// (`node scripts/vitest-deno.mjs run tests/browser/aconC.test.ts`). Deno comes from the npm package
// `deno` (a devDependency); -A: vitest reads files, spawns its workers and serves its modules.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findDeno } from './deno.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const deno = findDeno();
if (!deno) {
  console.error('[deno tests] Deno not found: `npm ci` installs it (the devDependency `deno`), or set DENO_PATH.');
  process.exit(1);
}
const args = process.argv.slice(2);
const r = spawnSync(
  deno,
  ['run', '-A', join(root, 'node_modules/vitest/vitest.mjs'), ...(args.length ? args : ['run'])],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
  },
);
if (r.error) throw r.error;
process.exit(r.status ?? 1);
