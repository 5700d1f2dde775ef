// The Vulkan driver choice (scripts/vulkan.mjs) that the dawn and deno projects, node-run and Firefox
// use: the rule on probe results, and a real probe of a driver that cannot load, in a child process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { chooseVulkanDriver, pickDriver, probeDriver, type DriverProbe } from '../../scripts/vulkan.mjs';

const SS = '/usr/lib/chromium/vk_swiftshader_icd.json';
const cpu = (description: string) => ({ vendor: 'v', architecture: '', description, fallback: true });
const probes: Record<string, DriverProbe> = {
  intel: {
    icd: '/usr/share/vulkan/icd.d/intel_icd.x86_64.json',
    adapter: null,
    said: 'Failed to detect any valid GPUs',
  },
  lvp: { icd: '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', adapter: cpu('llvmpipe'), said: '' },
  nvidia: {
    icd: '/usr/share/vulkan/icd.d/nvidia_icd.json',
    adapter: { vendor: 'nvidia', architecture: 'hopper', description: 'H200', fallback: false },
    said: '',
  },
  nvidia2: {
    icd: '/usr/share/vulkan/icd.d/nvidia_layers.json',
    adapter: { vendor: 'nvidia', architecture: 'hopper', description: 'H200 #2', fallback: false },
    said: '',
  },
  swiftshader: { icd: SS, adapter: cpu('SwiftShader'), said: '' },
};
const pick = (...names: string[]) =>
  pickDriver(
    names.map((n) => probes[n]!),
    SS,
  );

describe('pickDriver: a GPU, else SwiftShader, else another CPU driver; the first in order among equals', () => {
  test('a GPU wins over the CPU drivers, wherever it is listed', () => {
    expect(pick('intel', 'lvp', 'swiftshader', 'nvidia').chosen).toBe(probes.nvidia);
    expect(pick('nvidia2', 'nvidia', 'swiftshader').chosen).toBe(probes.nvidia2);
  });
  test('without a GPU, SwiftShader wins over lavapipe, which comes earlier', () => {
    expect(pick('intel', 'lvp', 'swiftshader').chosen).toBe(probes.swiftshader);
  });
  test('without SwiftShader, another CPU driver; with nothing, none', () => {
    expect(pick('intel', 'lvp').chosen).toBe(probes.lvp);
    expect(pick('intel').chosen).toBeUndefined();
  });
  test('each skipped driver says why: its own words, or that it came later in the order', () => {
    const { skipped } = pick('intel', 'lvp', 'swiftshader');
    expect(skipped).toEqual([
      { icd: probes.intel!.icd, why: 'no adapter (it said: Failed to detect any valid GPUs)' },
      { icd: probes.lvp!.icd, why: expect.stringMatching(/llvmpipe \(a CPU\), after the chosen one/) },
    ]);
  });
});

describe('probes and the choice on this machine', () => {
  test("a driver whose library cannot be loaded gives no adapter, and the probe keeps the loader's words", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acon-icd-'));
    try {
      const icd = join(dir, 'broken_icd.json');
      writeFileSync(icd, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: join(dir, 'nope.so') } }));
      const p = await probeDriver(icd, 'dawn');
      expect(p).toMatchObject({ icd, adapter: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a driver named in VK_ICD_FILENAMES is used as it is, and said so', async () => {
    const c = await chooseVulkanDriver('dawn', { ...process.env, VK_ICD_FILENAMES: '/x/icd.json' });
    expect(c.icd).toBe('/x/icd.json');
    expect(c.line).toMatch(/Dawn's Vulkan driver: \/x\/icd\.json \(set by VK_DRIVER_FILES \/ VK_ICD_FILENAMES\)/);
    const w = await chooseVulkanDriver('wgpu', { ...process.env, VK_ICD_FILENAMES: '/x/icd.json' });
    expect(w.env).toEqual({ DENO_WEBGPU_BACKEND: 'vulkan' }); // Deno's wgpu on Vulkan only, never its GL fallback
  });
});
