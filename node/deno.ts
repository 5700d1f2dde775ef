// acon-webgpu's command line in Deno, on Deno's own WebGPU (wgpu/naga, the engine Firefox uses; no npm
// `webgpu`): `deno run -A acon-deno.mjs info|report|bench [options]`, the same commands, tables and JSON
// as on Node (cli.ts), with adapter.runtime "deno-wgpu". Built by vite.node.config.ts (mode deno) into
// build-node/acon-deno.mjs; `npm run report|bench -- --deno` runs it (scripts/node-run.mjs).
import { runCli } from './cli';

process.exitCode = await runCli(navigator.gpu, process.argv.slice(2), 'deno-wgpu');
