// What the deno project runs on: Deno's own WebGPU (wgpu/naga, no npm `webgpu`), on the adapter of the
// Vulkan driver chosen for the run, with the library's tuning picked from that adapter.
import { expect, inject, test } from 'vitest';
import { AconGPU } from '../../src/index';

test("Deno's navigator.gpu (wgpu), on the chosen driver's adapter", async () => {
  expect('Deno' in globalThis).toBe(true);
  const adapter = await navigator.gpu.requestAdapter();
  expect(adapter).not.toBeNull();
  const seen = inject('vulkan').adapter;
  if (seen) expect(adapter!.info.description).toBe(seen.description); // else the caller named the driver
  const acon = await AconGPU.create();
  try {
    // a CPU adapter (SwiftShader, lavapipe) gets the CPU tuning, as on Dawn
    const fallback = (adapter!.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
    expect(acon.context.software).toBe(fallback === true || /swiftshader|llvmpipe/i.test(adapter!.info.description));
  } finally {
    acon.destroy();
  }
});
