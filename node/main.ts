// acon-webgpu's command line on Node through Dawn: `node acon-node.mjs info|report|bench [options]`
// (see cli.ts). Built by vite.node.config.ts into build-node/acon-node.mjs; `npm run report -- --node`
// and `npm run bench -- --node` run it here, and the GPU bundle (scripts/gpu-bundle.sh) carries it.
import { gpu } from './install'; // first: navigator.gpu must exist before tfjs-backend-webgpu is evaluated
import { runCli } from './cli';

process.exitCode = await runCli(gpu, process.argv.slice(2));
