// The Node command line (node/cli.ts) in-process, `npm run report|bench -- --node`'s runner
// (scripts/node-run.mjs) in a child process, and the loud failures when Dawn finds no adapter: the
// command line's exit status 3, and this very test project's setup.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { runCli, RUNTIME } from '../../node/cli';
import { loadedVulkanLibraries } from '../../node/dawn';

const root = resolve(import.meta.dirname, '../..');
const NO_DRIVER = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };

/** Runs fn with console.log/error captured; returns its result and what was printed. */
async function captured<T>(fn: () => Promise<T>) {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    return { result: await fn(), text: out.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('node/cli.ts', () => {
  const gpu = () => navigator.gpu;

  test('info: the adapter with the tuning and runtime, and the Vulkan loader Dawn loaded', async () => {
    const { result, text } = await captured(() => runCli(gpu(), ['info']));
    expect(result).toBe(0);
    expect(text).toMatch(/^adapter: google \/ swiftshader .*\(software: CPU tuning; runtime node-dawn\)$/m);
    expect(text).toMatch(/^vulkan: .*libvulkan\.so\.1/m);
    expect(text).toMatch(/^limits: maxBufferSize \d+/m);
    expect(loadedVulkanLibraries().some((p) => p.includes('libvulkan.so.1'))).toBe(true);
    expect(RUNTIME).toBe('node-dawn');
  });

  test('a bad command line: exit status 2 and the usage', async () => {
    for (const argv of [
      ['nonsense'],
      ['bench', '--nope', '1'],
      ['bench', '--ops', 'aconC,bogus'],
      ['report', '--json'],
      ['bench', '--shapes', '1,2,3'],
      ['bench', '--net-batches', '1,x'],
      ['bench', '--batches', 'many'],
    ]) {
      const { result, text } = await captured(() => runCli(gpu(), argv));
      expect(result, argv.join(' ')).toBe(2);
      expect(text, argv.join(' ')).toMatch(/unknown|needs a value|bad shape|bad list/);
    }
  });

  test('no adapter: exit status 3 saying what Dawn needs', async () => {
    const none = { requestAdapter: async () => null } as unknown as GPU;
    const { result, text } = await captured(() => runCli(none, ['info']));
    expect(result).toBe(3);
    expect(text).toMatch(/no WebGPU adapter.*libvulkan\.so\.1.*Vulkan driver/s);
  });
});

describe('scripts/node-run.mjs (npm run report|bench -- --node)', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['scripts/node-run.mjs', ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...env },
    });

  test('builds the command line and runs it on Dawn', () => {
    const r = run(['info']);
    expect(r.stderr).not.toMatch(/error|abort|fault/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\[node-run\] Dawn on Node .*Vulkan driver: /m);
    expect(r.stdout).toMatch(/^adapter: .*runtime node-dawn\)$/m);
  }, 120_000);

  test('with no Vulkan driver: exit status 3, and what to install', () => {
    const r = run(['info'], NO_DRIVER);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no WebGPU adapter/);
    expect(r.stderr).toMatch(/apt-get install -y libvulkan1/);
    expect(r.stderr).toMatch(/vk_swiftshader_icd\.json/);
  }, 120_000);
});

test('this test project, when Dawn finds no adapter: every file fails, saying what to install', () => {
  const r = spawnSync(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--project', 'dawn', 'tests/dawn/library.test.ts'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...NO_DRIVER, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  );
  const text = r.stdout + r.stderr;
  expect(r.status).not.toBe(0);
  expect(text).toMatch(/Dawn \(npm webgpu\) found no WebGPU adapter, so the dawn project cannot run/);
  expect(text).toMatch(/apt-get install -y libvulkan1/);
  expect(text).toMatch(/Test Files\s+1 failed/);
}, 120_000);
