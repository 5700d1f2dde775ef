// WebGPU in plain Node through Dawn (npm `webgpu`, which carries dawn.node for each platform). Its
// index.js also makes GPUDevice.destroy() unmap the device's buffers, as the spec says and dawn.node
// alone does not, so dawn.node is always loaded through it. Bundled (scripts/gpu-bundle.sh), `webgpu`
// stays an external module that the bundle carries with only the linux-x64 binary.
//
// On Linux, Dawn runs on Vulkan: it dlopen()s the loader libvulkan.so.1 (Debian: libvulkan1), which
// finds the drivers (ICDs) named by VK_ICD_FILENAMES / VK_DRIVER_FILES or installed in
// /usr/share/vulkan/icd.d. Without a loader or a driver, requestAdapter() resolves to null.
import { readFileSync } from 'node:fs';
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

/**
 * The Vulkan libraries this process has loaded (the loader, the driver), from /proc/self/maps: which
 * loader and which driver Dawn really uses. Empty off Linux or before Vulkan was loaded.
 */
export function loadedVulkanLibraries(): string[] {
  let maps = '';
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return [];
  }
  const paths = new Set<string>();
  for (const line of maps.split('\n')) {
    const at = line.indexOf('/');
    if (at >= 0 && /libvulkan|vk_swiftshader|GLX_nvidia|nvidia-glcore|vulkan_lvp/i.test(line.slice(at)))
      paths.add(line.slice(at));
  }
  return [...paths];
}
