// The library apart from its tools: src/ (what the package's entries export) never imports the
// benchmark, the validation harness, the synthetic data and training loop (tools/), the demo, the
// Node runner or the tests; those import the library, never the other way round.
import { expect, test } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

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
