// Setup of the `deno` test project: the kernel tests (tests/browser/aconC, metaAconC, errors) and
// tests/deno run unchanged in Deno, on its own navigator.gpu: wgpu and naga, the WebGPU engine of
// Firefox, where Chromium and Node run Dawn and Tint. The Vulkan driver was chosen once for the run by
// tests/helpers/vulkan-setup.ts. No adapter fails every file, saying what to install.
import { inject } from 'vitest';
import { vulkanHelp } from '../../scripts/vulkan.mjs';

if (!('Deno' in globalThis))
  throw new Error('[deno tests] this project runs in Deno: node scripts/vitest-deno.mjs (npm test runs it)');
const vulkan = inject('vulkan');
// read by the Vulkan loader when wgpu creates its instance, at the first requestAdapter()
Object.assign(process.env, vulkan.env);
const adapter = await navigator.gpu?.requestAdapter();
if (!adapter) {
  throw new Error(
    `[deno tests] Deno (wgpu) found no WebGPU adapter, so the deno project cannot run.\n${vulkan.line}\n${vulkanHelp()}`,
  );
}
