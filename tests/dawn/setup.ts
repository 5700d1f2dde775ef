// Setup of the `dawn` test project: the kernel tests (tests/browser/aconC, metaAconC, errors) and
// tests/dawn run in plain Node on WebGPU from Dawn (npm `webgpu`), unchanged: navigator.gpu and the
// WebGPU globals are installed as a browser has them. The Vulkan driver is chosen by
// scripts/vulkan.mjs (VK_ICD_FILENAMES / VK_DRIVER_FILES, else the system's, else Chromium's
// SwiftShader); `npm test` installs the loader (libvulkan1). No adapter fails every file of the
// project, saying what to install: nothing here is skipped.
import { installDawn } from '../../node/dawn';
import { vulkanDriverEnv, vulkanHelp } from '../../scripts/vulkan.mjs';

const { env } = vulkanDriverEnv();
// read by the Vulkan loader when Dawn creates its instance, so setting them now is in time
Object.assign(process.env, env);
const gpu = installDawn();
const adapter = await gpu.requestAdapter();
if (!adapter) {
  throw new Error(
    `[dawn tests] Dawn (npm webgpu) found no WebGPU adapter, so the dawn project cannot run.\n${vulkanHelp()}`,
  );
}
