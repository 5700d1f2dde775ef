// WebGPU in plain Node through Dawn (npm `webgpu`, which carries dawn.node for each platform). Its
// index.js also makes GPUDevice.destroy() unmap the device's buffers, as the spec says and dawn.node
// alone does not, so dawn.node is always loaded through it. Bundled (scripts/gpu-bundle.sh), `webgpu`
// stays an external module that the bundle carries with only the linux-x64 binary.
//
// On Linux, Dawn runs on Vulkan: it dlopen()s the loader libvulkan.so.1 (Debian: libvulkan1), which
// finds the drivers (ICDs) named by VK_ICD_FILENAMES / VK_DRIVER_FILES or installed in
// /usr/share/vulkan/icd.d. Without a loader or a driver, requestAdapter() resolves to null.
import { create, globals } from 'webgpu';

/** dawn.node's create() options from DAWN_OPTIONS (space-separated, e.g. "backend=vulkan adapter=NVIDIA"). */
export function dawnOptions(env: Record<string, string | undefined> = process.env): string[] {
  return (env.DAWN_OPTIONS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Installs the WebGPU globals (GPUBufferUsage, GPUMapMode, GPUBuffer, …) and `navigator.gpu` from
 * Dawn, as a browser has them, and returns the GPU object. Node 20 has no `navigator`: one is defined.
 * Needed before anything that looks for navigator.gpu when it loads (tfjs-backend-webgpu registers its
 * backend only if navigator.gpu exists when its module is evaluated); the library itself needs only
 * the globals, given `AconGPU.create({ gpu })`.
 */
export function installDawn(options: string[] = dawnOptions()): GPU {
  Object.assign(globalThis, globals);
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  const gpu = create(options);
  g.navigator!.gpu = gpu;
  return gpu;
}
