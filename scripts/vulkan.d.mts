export const ICD_DIRS: string[];
export function findVulkanLoader(): string | undefined;
export function systemVulkanDrivers(): string[];
export function swiftshaderIcd(): string | undefined;
export type Engine = 'dawn' | 'wgpu';
export const ENGINES: Record<Engine, { name: string; gpu: string }>;
export interface AdapterSeen {
  vendor: string;
  architecture: string;
  description: string;
  fallback: boolean;
}
export interface DriverProbe {
  icd: string;
  adapter: AdapterSeen | null;
  said: string;
}
export function probeDriver(
  icd: string,
  engine?: Engine,
  env?: Record<string, string | undefined>,
): Promise<DriverProbe>;
export interface DriverChoice {
  env: Record<string, string>;
  icd: string | undefined;
  adapter?: AdapterSeen;
  skipped: { icd: string; why: string }[];
  line: string;
}
export function chooseVulkanDriver(engine?: Engine, env?: Record<string, string | undefined>): Promise<DriverChoice>;
export function vulkanHelp(): string;
export function pickDriver(
  probes: DriverProbe[],
  swiftshader: string | undefined,
): { chosen: DriverProbe | undefined; skipped: { icd: string; why: string }[] };
