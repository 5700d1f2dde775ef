// The library apart from its tools: src/ (what the package's entries export) never imports the
// benchmark, the validation harness, the synthetic data and training loop (tools/), the demo, the
// Node runner or the tests; those import the library, never the other way round. Inside src/, the
// arrows point down (DESIGN.md): the float64 reference is for tests, tools and the report, so the
// library imports nothing from it (src/index.ts re-exports its public functions); the shared kernel
// infrastructure (src/kernels) stands on src/gpu and src/core alone; src/core imports nothing.
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

test('the library imports nothing from the reference (src/index.ts only re-exports its public functions)', () => {
  const library = files('src').filter((f) => !f.startsWith('src/reference/'));
  for (const file of library) {
    const reaching = dependencies(file).filter(
      (d) => d.path.startsWith('src/reference/') && !(file === 'src/index.ts' && d.kind === 'export'),
    );
    expect(reaching, file).toEqual([]);
  }
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

test('no file in src/ is longer than 600 lines', () => {
  const long = files('src')
    .map((f) => [f, readFileSync(f, 'utf8').split('\n').length - 1] as const)
    .filter(([, lines]) => lines > 600);
  expect(long).toEqual([]);
});
