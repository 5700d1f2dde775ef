// The Node command line (node/cli.ts) in-process, `npm run report|bench -- --node|--deno`'s runner
// (scripts/node-run.mjs) in a child process, and the loud failures when Dawn finds no adapter: the
// command line's exit status 3, and this very test project's setup. What is asserted is what matters,
// exit statuses, values and the adapter the driver choice promised, never the absence of words on
// stderr: Vulkan drivers print there (Mesa's, on most Linux desktops, even for devices they skip).
import { afterEach, describe, expect, inject, test, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { runCli } from '../../node/cli';
import { loadedVulkanLibraries } from '../../node/vulkanLibraries';

const root = resolve(import.meta.dirname, '../..');
const NO_DRIVER = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };
const vulkan = inject('vulkan');
/** The adapter line's text for the adapter the driver choice saw (any adapter when the caller named the driver). */
const chosenAdapter = vulkan.adapter ? vulkan.adapter.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '.*';

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

  test('info: the chosen adapter with its tuning and the runtime, and the Vulkan loader and driver Dawn loaded', async () => {
    const { result, text } = await captured(() => runCli(gpu(), ['info']));
    expect(result).toBe(0);
    // a fallback (CPU) adapter gets the CPU tuning; any tuning when the caller named the driver
    const tuning = !vulkan.adapter ? '[^;]*' : vulkan.adapter.fallback ? 'software: CPU tuning' : 'GPU tuning';
    expect(text).toMatch(new RegExp(`^adapter: .* / ${chosenAdapter} \\(${tuning}; runtime node-dawn\\)$`, 'm'));
    expect(text).toMatch(/^vulkan: .*libvulkan\.so\.1/m);
    expect(text).toMatch(/^limits: maxBufferSize \d+/m);
    expect(loadedVulkanLibraries().some((p) => p.includes('libvulkan.so.1'))).toBe(true);
    // the driver named in VK_ICD_FILENAMES, and no other, is the one loaded (SwiftShader's library here)
    if (vulkan.icd?.includes('swiftshader'))
      expect(
        loadedVulkanLibraries().filter((p) => /vk_swiftshader|vulkan_lvp|vulkan_intel|vulkan_radeon/.test(p)),
      ).toEqual([expect.stringContaining('libvk_swiftshader.so')]);
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

  test('builds the command line and runs it on Dawn, on the driver it names', () => {
    const r = run(['info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[node-run\] Node \d+\.\d+\.\d+; Dawn's Vulkan driver: /m);
    if (vulkan.icd) expect(r.stdout).toContain(`Vulkan driver: ${vulkan.icd}`);
    expect(r.stdout).toMatch(new RegExp(`^adapter: .* / ${chosenAdapter} .*runtime node-dawn\\)$`, 'm'));
  }, 120_000);

  test('--deno: the same command line on Deno, on wgpu', () => {
    const r = run(['--deno', 'info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[node-run\] Deno; wgpu \(Deno\)'s Vulkan driver: /m);
    expect(r.stdout).toMatch(/^adapter: .*runtime deno-wgpu\)$/m);
    expect(r.stdout).toMatch(/^limits: maxBufferSize \d+/m);
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
