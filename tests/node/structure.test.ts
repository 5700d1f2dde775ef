// The library apart from its tools: src/ (what the package's entries export) never imports the
// benchmark, the validation harness, the synthetic data and training loop (tools/), the demo, the
// Node runner or the tests; those import the library, never the other way round. Inside src/, the
// arrows point down (DESIGN.md): the reference side (each activation's float64 reference.ts, its
// bounds.ts and checks.ts, the registry src/activations/references.ts, the shared src/reference/) is
// for tests, tools and the report, so the library imports nothing from it (src/index.ts re-exports
// the references' public functions), and the float64 references and bounds import nothing of ours
// but each other; the shared kernel infrastructure (src/kernels) stands on src/gpu and src/core
// alone; src/core imports nothing.
import { expect, test } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

/** A module's relative imports and re-exports, resolved against the repository root. */
function dependencies(file: string): { kind: 'import' | 'export'; path: string }[] {
  const code = readFileSync(file, 'utf8');
  return [...code.matchAll(/^(import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm)].map((m) => ({
    kind: m[1] === 'export' ? 'export' : 'import',
    path: join(dirname(file), (m[2] ?? m[3])!),
  }));
}

test('every relative import in src/ stays in src/ (or reaches the kernels in shaders/)', () => {
  const sources = files('src');
  expect(sources.length).toBeGreaterThan(20);
  for (const file of sources) {
    const relative = [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s+'(\.[^']+)'/g)].map((m) =>
      join(dirname(file), m[1]!),
    );
    expect(
      relative.filter((p) => !p.startsWith('src/') && !p.startsWith('shaders/')),
      file,
    ).toEqual([]);
  }
});

test('the entries export the library, not its tools', () => {
  for (const entry of ['src/index.ts', 'src/tfjs/index.ts', 'src/layers/index.ts', 'src/models/index.ts']) {
    expect(readFileSync(entry, 'utf8'), entry).not.toMatch(/makeDataset|trainNetwork|roofline|metaStages/);
  }
});

/** The reference side (paths as `dependencies` resolves them, with or without '.ts'). */
const REFERENCE_SIDE =
  /^src\/(reference\/|activations\/references(\.ts)?$|activations\/[^/]+\/(reference|bounds|checks)(\.ts)?$)/;
/** The float64 references, their bounds and the shared error analysis: what imports nothing of ours. */
const FLOAT64 = /^src\/(reference\/tolerance|activations\/[^/]+\/(reference|bounds))(\.ts)?$/;

test('the library imports nothing from the reference side (src/index.ts only re-exports the float64 references)', () => {
  const sources = files('src');
  const reference = sources.filter((f) => REFERENCE_SIDE.test(f));
  expect(reference).toEqual(expect.arrayContaining(['src/activations/references.ts', 'src/reference/tolerance.ts']));
  expect(reference.filter((f) => FLOAT64.test(f)).length).toBeGreaterThanOrEqual(5);
  for (const file of sources.filter((f) => !REFERENCE_SIDE.test(f))) {
    const reaching = dependencies(file).filter(
      (d) =>
        REFERENCE_SIDE.test(d.path) &&
        !(file === 'src/index.ts' && d.kind === 'export' && /^src\/activations\/[^/]+\/reference$/.test(d.path)),
    );
    expect(reaching, file).toEqual([]);
  }
});

test('the float64 references and their bounds import nothing of ours but each other', () => {
  for (const file of files('src').filter((f) => FLOAT64.test(f)))
    expect(
      dependencies(file).filter((d) => !FLOAT64.test(d.path)),
      file,
    ).toEqual([]);
});

test('src/kernels stands on src/gpu and src/core alone; src/core imports nothing', () => {
  for (const file of files('src/kernels')) {
    const outside = dependencies(file).filter(
      (d) => !/^(src\/kernels|src\/gpu|src\/core)\//.test(d.path) && !d.path.startsWith('shaders/'),
    );
    expect(outside, file).toEqual([]);
  }
  for (const file of files('src/core')) expect(dependencies(file), file).toEqual([]);
});

test('no file in src/, bench/, demo/ or tools/ is longer than 600 lines', () => {
  const long = ['src', 'bench', 'demo', 'tools']
    .flatMap(files)
    .map((f) => [f, readFileSync(f, 'utf8').split('\n').length - 1] as const)
    .filter(([, lines]) => lines > 600);
  expect(long).toEqual([]);
});
