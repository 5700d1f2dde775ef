// Saved outputs of a real WebGPU engine (tests/dawn/golden.test.ts): the sha256 of each output's
// float32 bytes, with a few of its values for reading and for an ULP estimate on a mismatch. Bits
// depend on the engine, its driver and, for a CPU driver such as SwiftShader, the host CPU's vector
// instructions; so the file is named by a fingerprint of those, and a machine without a file of its
// own has nothing to compare with.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What is kept of one output: its length, the sha256 of its float32 bytes, its first values (to
 * read), and the bits of a few spread ones (float32 as 8 hex digits: an ULP estimate on a mismatch).
 */
export interface OutputSummary {
  n: number;
  sha256: string;
  head: (number | string)[];
  probe: string;
}
export type CaseOutputs = Record<string, OutputSummary>;

export interface OutputGoldenFile {
  about: string;
  fingerprint: Record<string, string>;
  /** Informational: what else could change bits (a mismatch report shows what differs). */
  environment: Record<string, string>;
  cases: Record<string, CaseOutputs>;
}

const PROBES = 8;
/** Where the probes are: spread evenly over the output, its last value included. */
const probeIndex = (n: number) => Array.from({ length: PROBES }, (_, i) => Math.floor((i * (n - 1)) / (PROBES - 1)));

export function summarize(values: ArrayLike<number>): OutputSummary {
  const f = Float32Array.from(values);
  const sha256 = createHash('sha256').update(new Uint8Array(f.buffer)).digest('hex');
  const head = Array.from(f.subarray(0, 4), (v) => (Number.isFinite(v) ? v : String(v)));
  const bits = new Uint32Array(f.buffer);
  const probe =
    f.length <= 4
      ? ''
      : probeIndex(f.length)
          .map((i) => bits[i]!.toString(16).padStart(8, '0'))
          .join(' ');
  return { n: f.length, sha256, head, probe };
}

/** Distance in units in the last place between two float32 values (Infinity when one is NaN). */
export function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  const ordered = (i: number) => (i < 0 ? -2147483648 - i : i);
  return Math.abs(ordered(bits[0]!) - ordered(bits[1]!));
}

/**
 * Words on how `now` differs from `saved`: the length, or the largest ULP distance among the
 * values both keep (a lower bound of the largest over all values, which only the hash covers).
 */
export function describeMismatch(name: string, saved: OutputSummary | undefined, now: OutputSummary): string {
  if (!saved) return `${name}: not in the golden`;
  if (saved.n !== now.n) return `${name}: ${now.n} values, ${saved.n} saved`;
  const float = (hex: string) => new Float32Array(Uint32Array.of(parseInt(hex, 16)).buffer)[0]!;
  const kept = (s: OutputSummary) => [...s.head.map(Number), ...(s.probe ? s.probe.split(' ').map(float) : [])];
  const [a, b] = [kept(saved), kept(now)];
  const ulp = Math.max(0, ...a.map((v, i) => ulpDistance(v, b[i]!)));
  const where = now.n > 4 ? `the first 4 and those at ${probeIndex(now.n).join(', ')}` : 'all';
  const found = ulp > 0 ? `max ULP distance ≥ ${ulp}` : 'the values kept agree, the difference is elsewhere';
  return (
    `${name} (n = ${now.n}): the bits differ; ${found} (kept: ${where}); ` +
    `saved head ${JSON.stringify(saved.head)}, now ${JSON.stringify(now.head)}`
  );
}

/** The CPU's vector extensions that SwiftShader's code generation looks at (Linux: /proc/cpuinfo). */
export function cpuFlags(): string {
  if (!existsSync('/proc/cpuinfo')) return 'unknown';
  const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  const have = new Set(line.trim().split(/\s+/));
  return ['sse4_1', 'avx2', 'fma', 'avx512f'].filter((f) => have.has(f)).join('+') || 'none';
}

/** The fingerprint of an adapter on this machine (and its driver library's hash), and the golden file's name for it. */
export function fingerprint(
  info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'>,
  driver: string,
  dir: string,
): { fingerprint: Record<string, string>; file: string } {
  // the driver's build too: Debian's Chromium updates bring a new SwiftShader, whose bits may differ
  const fp = {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    cpu: cpuFlags(),
    driver,
  };
  const slug = `${info.vendor}-${info.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const hash = createHash('sha256').update(JSON.stringify(fp)).digest('hex').slice(0, 8);
  return { fingerprint: fp, file: `${dir}/outputs-${slug.replace(/^-|-$/g, '') || 'adapter'}-${hash}.json` };
}

export function readGolden(file: string): OutputGoldenFile | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as OutputGoldenFile) : undefined;
}

/** Writes the file with one output per line. */
export function writeGolden(file: string, g: OutputGoldenFile): void {
  const j = JSON.stringify;
  const cases = Object.entries(g.cases).map(
    ([name, outs]) =>
      `    ${j(name)}: {\n${Object.entries(outs)
        .map(([k, v]) => `      ${j(k)}: ${j(v)}`)
        .join(',\n')}\n    }`,
  );
  const text = [
    '{',
    `  "about": ${j(g.about)},`,
    `  "fingerprint": ${j(g.fingerprint)},`,
    `  "environment": ${j(g.environment)},`,
    `  "cases": {\n${cases.join(',\n')}\n  }`,
    '}\n',
  ].join('\n');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
