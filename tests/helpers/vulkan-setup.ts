// Global setup of the engine test projects, `dawn` (Node + npm webgpu) and `deno` (wgpu): chooses the
// Vulkan driver once for the run (scripts/vulkan.mjs: a GPU, else Chromium's SwiftShader, else another
// CPU driver, each probed alone in a child process), says which and why the others were skipped, and
// hands the choice to every test file (inject('vulkan')), whose setup puts it in the environment before
// the engine creates its Vulkan instance.
import type { TestProject } from 'vitest/node';
import { chooseVulkanDriver, type AdapterSeen } from '../../scripts/vulkan.mjs';

export interface VulkanChoice {
  /** VK_ICD_FILENAMES / VK_DRIVER_FILES naming the chosen driver alone ({} when the caller set them). */
  env: Record<string, string>;
  icd: string | null;
  /** The adapter the probe saw with the chosen driver (null when the caller set the driver). */
  adapter: AdapterSeen | null;
  line: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    vulkan: VulkanChoice;
  }
}

export default async function setup(project: TestProject) {
  const choice = await chooseVulkanDriver('Deno' in globalThis ? 'wgpu' : 'dawn');
  console.log(`[${project.name} tests] ${choice.line}`);
  project.provide('vulkan', {
    env: choice.env,
    icd: choice.icd ?? null,
    adapter: choice.adapter ?? null,
    line: choice.line,
  });
}
