export const ICD_DIRS: string[];
export function findVulkanLoader(): string | undefined;
export function systemVulkanDrivers(): string[];
export function swiftshaderIcd(): string | undefined;
export function vulkanDriverEnv(env?: Record<string, string | undefined>): {
  env: Record<string, string>;
  driver: string;
};
export function vulkanHelp(env?: Record<string, string | undefined>): string;
