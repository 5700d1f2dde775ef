// The command line behind main.ts (Node, on Dawn) and deno.ts (Deno, on wgpu), on the engine's GPU object
// (navigator.gpu must exist before this module is imported, for tfjs-backend-webgpu):
//   info                      the adapter (as the library sees it), its features and limits, the Vulkan libraries loaded
//   report [--json FILE]      every GPU kernel vs the float64 CPU reference: the validation report of
//                             `npm run report`, same table and same JSON (plus adapter.runtime)
//   bench  [--json FILE] [--ops aconC,metaAconC,tfjs,net,shufflenet,resnet,train] [--shapes "N,C,H,W;…"] [--tfjs-shapes "N,C,H,W;…"]
//          [--net-batches 1,64] [--train-batch 64,16] [--batches N] [--group-ms MS]
//                             the benchmarks of `npm run bench`, same options, table and JSON
// Exit status: 0; 1 when a check fails; 2 for a bad command line; 3 when the engine finds no adapter.
import { writeFileSync } from 'node:fs';
import { runValidation, formatValidation } from '../tools/report/validation';
import { runBench, formatReport, ALL_FAMILIES, type BenchOptions, type Family, type Shape4 } from '../bench/bench';
import { isSoftwareDevice } from '../src/gpu/context';
import { loadedVulkanLibraries } from './vulkanLibraries';

/** Which engine runs the command line: Node with Dawn (npm `webgpu`), or Deno with its own wgpu. */
export type Runtime = 'node-dawn' | 'deno-wgpu';
const ENGINE: Record<Runtime, string> = { 'node-dawn': 'Dawn', 'deno-wgpu': 'wgpu (Deno)' };

const USAGE =
  'usage: acon-node info | report [--json FILE] | bench [--json FILE] [--ops aconC,metaAconC,tfjs,net,shufflenet,resnet,train] ' +
  '[--shapes "N,C,H,W;…"] [--tfjs-shapes "N,C,H,W;…"] [--net-batches 1,64] [--train-batch 64,16] [--batches N] [--group-ms MS]';

/** What to install when the engine finds no adapter (filled in by the caller that knows the machine, e.g. node-run.mjs). */
const noAdapterHelp = () =>
  process.env.ACON_VULKAN_HELP ??
  'WebGPU on Linux needs the Vulkan loader libvulkan.so.1 (Debian: apt-get install libvulkan1) and a Vulkan driver ' +
    "(a GPU's ICD in /usr/share/vulkan/icd.d, or Chromium's SwiftShader; VK_ICD_FILENAMES names one).";

const OPTIONS: Record<string, string[]> = {
  info: [],
  report: ['--json'],
  bench: ['--json', '--ops', '--shapes', '--tfjs-shapes', '--net-batches', '--train-batch', '--batches', '--group-ms'],
};

/** Parses `--name value` pairs; throws on an unknown name or a missing value. */
function parseOptions(mode: string, args: string[]): Record<string, string> {
  const known = OPTIONS[mode];
  if (!known) throw new Error(`unknown mode '${mode}'`);
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!;
    if (!known.includes(name))
      throw new Error(`unknown option '${name}' for ${mode} (known: ${known.join(' ') || 'none'})`);
    if (args[i + 1] === undefined) throw new Error(`${name} needs a value`);
    out[name] = args[i + 1]!;
  }
  return out;
}

const shapeList = (s: string): Shape4[] =>
  s.split(';').map((t) => {
    const v = t.split(',').map(Number);
    if (v.length !== 4 || !v.every((n) => Number.isInteger(n) && n > 0))
      throw new Error(`bad shape '${t}': want N,C,H,W`);
    return v as Shape4;
  });
const numbers = (s: string) => {
  const v = s.split(',').map(Number);
  if (!v.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`bad list '${s}': want positive integers`);
  return v;
};

function writeJson(file: string | undefined, value: unknown) {
  if (!file) return;
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
}

/** The bench's options from the command line; throws on a bad value. */
function benchOptions(opt: Record<string, string>, runtime: Runtime): BenchOptions {
  const families = opt['--ops']?.split(',') as Family[] | undefined;
  const unknown = families?.filter((f) => !ALL_FAMILIES.includes(f)) ?? [];
  if (unknown.length) throw new Error(`unknown families ${unknown.join(', ')} (known: ${ALL_FAMILIES.join(', ')})`);
  return {
    runtime,
    ...(opt['--shapes'] ? { shapes: shapeList(opt['--shapes']) } : {}),
    ...(opt['--tfjs-shapes'] ? { tfjsShapes: shapeList(opt['--tfjs-shapes']) } : {}),
    ...(opt['--net-batches'] ? { netBatches: numbers(opt['--net-batches']) } : {}),
    ...(opt['--train-batch'] ? { trainBatches: numbers(opt['--train-batch']) } : {}),
    ...(families ? { families } : {}),
    ...(opt['--batches'] ? { batches: numbers(opt['--batches'])[0]! } : {}),
    ...(opt['--group-ms'] ? { groupMs: numbers(opt['--group-ms'])[0]! } : {}),
  };
}

/** Runs one command; resolves to the process exit status. */
export async function runCli(gpu: GPU, argv: string[], runtime: Runtime = 'node-dawn'): Promise<number> {
  const [mode = 'info', ...rest] = argv;
  let opt: Record<string, string>;
  let bench: BenchOptions | undefined;
  try {
    opt = parseOptions(mode, rest);
    if (mode === 'bench') bench = benchOptions(opt, runtime);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    console.error(`no WebGPU adapter: ${ENGINE[runtime]} found no Vulkan device.\n${noAdapterHelp()}`);
    return 3;
  }
  const info = adapter.info;
  const software = isSoftwareDevice({ adapterInfo: info } as unknown as GPUDevice);
  console.log(
    `adapter: ${info.vendor} / ${info.architecture} / ${info.device} / ${info.description}` +
      ` (${software ? 'software: CPU tuning' : 'GPU tuning'}; runtime ${runtime})`,
  );
  console.log(`vulkan: ${loadedVulkanLibraries().join(', ') || '(no Vulkan library loaded)'}`);

  if (mode === 'info') {
    console.log('features:', [...adapter.features].sort().join(' '));
    const l = adapter.limits;
    const names = [
      'maxBufferSize',
      'maxStorageBufferBindingSize',
      'maxComputeWorkgroupsPerDimension',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupStorageSize',
      'maxStorageBuffersPerShaderStage',
    ] as const;
    console.log('limits:', names.map((n) => `${n} ${l[n]}`).join(', '));
    return 0;
  }

  if (mode === 'report') {
    const r = await runValidation((row, done, total) =>
      console.log(
        `${done}/${total} ${row.kernel} [${row.shape.join(',')}] ${row.layout} ${row.pass ? 'pass' : 'FAIL'}`,
      ),
    );
    console.log('\n' + formatValidation(r));
    writeJson(opt['--json'], { ...r, adapter: { ...r.adapter, runtime } });
    return r.ok ? 0 : 1;
  }

  const r = await runBench({ ...bench, onProgress: (done, total, line) => console.log(`${done}/${total} ${line}`) });
  console.log('\n' + formatReport(r));
  writeJson(opt['--json'], r);
  return 0;
}
