// Checks what the GPU bundle's run step wrote (node/run.sh OUT_DIR …): used by gpu-bundle-ci.sh in CI.
//   node scripts/gpu-bundle-check.mjs OUT_DIR [--ops aconC,metaAconC] [--shapes "N,C,H,W;…"]
// report.json: every check passed, every row of the validation report (29 for ACON-C and Meta-ACON-C), adapter.runtime "node-dawn";
// bench.json: the browser bench's shape (adapter block + results) with adapter.runtime "node-dawn",
// for every kernel op and shape asked for: fused in both layouts, the copy roofline, the tfjs-composed
// and the CPU reference, each GPU result with its effective GB/s (bytes the op must move / time);
// run.log: the Vulkan loader that Dawn loaded is the bundle's (unpacked into run.sh's directory), not
// the system's. Exits 1 with every problem listed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, ...rest] = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : dflt;
};
if (!out) {
  console.error('usage: node scripts/gpu-bundle-check.mjs OUT_DIR [--ops a,b] [--shapes "N,C,H,W;…"]');
  process.exit(2);
}
const ops = opt('--ops', 'aconC,metaAconC').split(',');
const shapes = opt('--shapes', '8,64,56,56;32,64,16,16;1,64,7,7')
  .split(';')
  .map((s) => s.split(',').map(Number));
const problems = [];
const check = (ok, what) => {
  if (!ok) problems.push(what);
};
const read = (file) => {
  try {
    return readFileSync(join(out, file), 'utf8');
  } catch (e) {
    problems.push(`${file}: ${e.message}`);
    return undefined;
  }
};
const json = (file) => {
  const text = read(file);
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch (e) {
    problems.push(`${file}: not JSON (${e.message})`);
    return undefined;
  }
};

const report = json('report.json');
if (report) {
  check(report.ok === true, 'report.json: ok is not true (a check failed)');
  // every registered activation's cases: 29 rows for ACON-C and Meta-ACON-C
  check(
    report.rows?.length === report.total && report.total >= 29,
    `report.json: ${report.rows?.length} rows of ${report.total}, want all of at least 29`,
  );
  check(
    report.rows?.every((r) => r.pass === true && r.worst <= 1),
    'report.json: a row did not pass',
  );
  check(
    report.adapter?.runtime === 'node-dawn',
    `report.json: adapter.runtime ${report.adapter?.runtime}, want node-dawn`,
  );
}

const bench = json('bench.json');
if (bench) {
  const a = bench.adapter ?? {};
  for (const k of ['vendor', 'architecture', 'device', 'description'])
    check(typeof a[k] === 'string', `bench.json: adapter.${k} missing`);
  check(typeof a.software === 'boolean', 'bench.json: adapter.software missing');
  check(a.runtime === 'node-dawn', `bench.json: adapter.runtime ${a.runtime}, want node-dawn`);
  const results = bench.results ?? [];
  for (const r of results) {
    const keys = Object.keys(r).sort().join(',');
    check(
      ['gbps,impl,layout,ms,op,runs,shape', 'impl,layout,ms,op,runs,shape'].includes(keys),
      `bench.json: a result with keys ${keys}`,
    );
    check(
      r.ms > 0 && Number.isFinite(r.ms) && r.runs > 0,
      `bench.json: ${r.op} ${r.impl} ${r.layout} [${r.shape}]: ms ${r.ms}, runs ${r.runs}`,
    );
    if (r.impl !== 'reference')
      check(
        r.gbps > 0 && Number.isFinite(r.gbps),
        `bench.json: ${r.op} ${r.impl} ${r.layout} [${r.shape}] has no GB/s`,
      );
  }
  const want = [];
  for (const shape of shapes) {
    for (const fam of ops) {
      if (fam === 'metaAconC' && shape[0] < 2) continue; // training mode needs N ≥ 2
      for (const dir of ['forward', 'backward']) {
        const op = `${fam}.${dir}`;
        want.push([op, 'fused', 'NCHW', shape], [op, 'fused', 'NHWC', shape], [op, 'copy-roofline', 'NCHW', shape]);
        want.push(
          [op, 'tfjs-composed', 'NCHW', shape],
          [op, 'tfjs-composed', 'NHWC', shape],
          [op, 'reference', 'NCHW', shape],
        );
      }
    }
  }
  for (const [op, impl, layout, shape] of want) {
    check(
      results.some((r) => r.op === op && r.impl === impl && r.layout === layout && String(r.shape) === String(shape)),
      `bench.json: no ${op} ${impl} ${layout} [${shape}]`,
    );
  }
  check(results.length === want.length, `bench.json: ${results.length} results, want ${want.length}`);
}

const log = read('run.log');
if (log) {
  const work = log.match(/unpacked node, dawn\.node and \d+ packages into (\S+)/)?.[1];
  check(work !== undefined, 'run.log: run.sh did not say where it unpacked');
  const loaders = [...log.matchAll(/^vulkan: (.*)$/gm)]
    .flatMap((m) => m[1].split(', '))
    .filter((p) => p.includes('libvulkan'));
  check(loaders.length > 0, 'run.log: no Vulkan loader reported');
  check(
    work !== undefined && loaders.every((p) => p.startsWith(`${work}/vulkan/`)),
    `run.log: Dawn loaded ${[...new Set(loaders)].join(', ')}, not the bundle's loader`,
  );
  check(
    /summary: info=0\(\d+s\) report=0\(\d+s\) bench=0\(\d+s\)/.test(log),
    'run.log: a step did not end with exit 0',
  );
}

if (problems.length) {
  console.error(`[gpu-bundle-check] ${out}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `[gpu-bundle-check] ${out}: report (${report.rows.length} checks pass), bench (${bench.results.length} results, GB/s on each GPU result) and run.log (the bundle's Vulkan loader) as expected`,
);
