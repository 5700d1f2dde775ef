// The README's Node (Dawn) example, verbatim, against the built library (`npm run build`'s
// dist/acon-webgpu.js, built here into a temporary folder) in a plain `node` process: no navigator,
// no Vite, nothing browser-only; its printed numbers must match the float64 reference.
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { build } from 'vite';
import { aconCForwardRef } from '../../src/index';

const root = resolve(import.meta.dirname, '../..');
let dir: string;

/** The first ```js block of the README's "## Node (Dawn)" section. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Node (Dawn)\n'));
  const code = section.match(/```js\n([\s\S]*?)```/)?.[1];
  if (!code || !readme.includes('\n## Node (Dawn)\n'))
    throw new Error('README.md has no ```js example under "## Node (Dawn)"');
  return code;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acon-readme-'));
  const pkg = join(dir, 'node_modules', 'acon-webgpu');
  mkdirSync(pkg, { recursive: true });
  // the library build of vite.config.ts (as `npm run build`), into the temporary package
  await build({
    configFile: join(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    build: { outDir: join(pkg, 'dist'), emptyOutDir: true, sourcemap: false },
  });
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'acon-webgpu', type: 'module', exports: manifest.exports }),
  );
  symlinkSync(join(root, 'node_modules', 'webgpu'), join(dir, 'node_modules', 'webgpu'), 'dir');
  writeFileSync(join(dir, 'example.mjs'), readmeExample());
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the README's Node example runs in plain node on the built library and prints ACON-C's values", () => {
  const r = spawnSync(process.execPath, ['example.mjs'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...inject('vulkan').env }, // the driver chosen for the run
  });
  // the exit status and the numbers printed; stderr may hold a Vulkan driver's chatter, which says nothing about us
  expect(r.status, r.stderr).toBe(0);
  const printed = JSON.parse(r.stdout) as number[]; // console.log of a short number array: "[ -0.1423, … ]"
  const x = Float32Array.of(-3, -1, 0, 1, 3, 5);
  const ref = aconCForwardRef(x, [1, 2, 1, 3], {
    p1: Float32Array.of(1, 1),
    p2: Float32Array.of(0, 0.25),
    beta: Float32Array.of(1, 10),
  });
  expect(printed).toEqual(Array.from(ref, (v) => +v.toFixed(4)));
}, 90_000);
