// Which Vulkan libraries the engine really loaded: read from /proc/self/maps, so it works in Node
// (Dawn) and in Deno (wgpu) alike, with nothing engine-specific imported.
import { readFileSync } from 'node:fs';

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
