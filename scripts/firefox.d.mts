/** Why this machine's Firefox cannot run WebGPU, in a sentence, or undefined when it can. */
export function firefoxWebGPUProblem(): string | undefined;
export function findFirefox(): string | undefined;
export function firefoxVersion(path?: string): string | undefined;
export const FIREFOX_WEBGPU_SINCE: number;
