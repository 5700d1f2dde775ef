// Setup of the `dawn` test project: the kernel tests (tests/browser/aconC, metaAconC, errors) and
// tests/dawn run in plain Node on WebGPU from Dawn (npm `webgpu`), unchanged: navigator.gpu and the
// WebGPU globals are installed as a browser has them. The Vulkan driver was chosen once for the run by
// tests/helpers/vulkan-setup.ts; `npm test` installs the loader (libvulkan1). No adapter fails every
// file of the project, saying what to install: nothing here is skipped.
import { inject } from 'vitest';
import { installDawn } from '../../node/dawn';
import { vulkanHelp } from '../../scripts/vulkan.mjs';

const vulkan = inject('vulkan');
// read by the Vulkan loader when Dawn creates its instance, so setting them now is in time
Object.assign(process.env, vulkan.env);
const gpu = installDawn();
const adapter = await gpu.requestAdapter();
if (!adapter) {
  throw new Error(
    `[dawn tests] Dawn (npm webgpu) found no WebGPU adapter, so the dawn project cannot run.\n${vulkan.line}\n${vulkanHelp()}`,
  );
}
