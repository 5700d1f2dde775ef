// Side-effect module: installs navigator.gpu and the WebGPU globals from Dawn. Imported first by
// main.ts, before anything that looks for navigator.gpu at load time (tfjs-backend-webgpu registers
// its backend only if navigator.gpu exists when its module is evaluated).
import { installDawn } from './dawn';

export const gpu = installDawn();
