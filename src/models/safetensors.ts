/**
 * A reader for safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?:
 * {string: string}}, then the tensors' bytes (offsets relative to the end of the header). Only what
 * checkpoints here hold: F32 and U8 (other dtypes are refused by name).
 *
 * The file comes from a stranger, so the format's rules are enforced, as its own (Rust) reader does,
 * before anything is copied: the header is valid UTF-8 and JSON with no key twice in any object (JSON.parse
 * would silently keep the last), __metadata__ maps strings to strings, each tensor's byte range matches
 * its shape, and the ranges, sorted by offset, tile the data exactly: the first begins at 0, each begins
 * where the previous ended, the last ends at the end of the file (no overlap, alias, hole or trailing
 * bytes; zero-size tensors are fine). The header's key order is free (the format's writer orders keys
 * by name, the data by dtype alignment), so entries are sorted here. Copies then total the file's size.
 * Every error is a CheckpointError quoting at most ~40 characters of the file ({@link quote}).
 * (npm's `safetensors` package is a 0.0.1 placeholder, and the working readers come inside large
 * libraries such as transformers.js; this file is smaller than either.)
 */
import { CheckpointError } from '../gpu/errors';

export type SafetensorsDType = 'F32' | 'U8';

export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** A copy of the tensor's values (aligned, independent of the file's buffer). */
  data: Float32Array | Uint8Array;
}

export interface Safetensors {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDType, number> = { F32: 4, U8: 1 };
/**
 * A header larger than this is not a checkpoint's: ShuffleNetV2 with Meta-ACON (about 860 tensors)
 * has 82 KB, and every architecture here stays under a few thousand tensors. Reading a header costs
 * about 0.3 s and 20 MB of heap per MB (JSON.parse and the checks), so a file cannot make the reader
 * stall on its header (the format's own reader allows 100 MB, which takes half a minute here).
 */
const HEADER_MAX = 4 << 20;
/** Nesting of a header: the header object, a tensor's entry, its shape or offsets (metadata: 2 levels). */
const DEPTH_MAX = 3;
/** The most characters of the file an error message quotes. */
const QUOTE_MAX = 40;

/** `text` cut to `max` characters, with an ellipsis when cut. */
export const clip = (text: string, max = QUOTE_MAX): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A value read from a file as JSON, at most ~40 characters of it: error messages never echo the file. */
export function quote(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    // an array's first few items, an object's first few keys: never a walk of the whole (deep) value
    const head = Array.isArray(value) ? value.slice(0, 8) : Object.keys(value).slice(0, 8);
    const inner = head.map((v) => (typeof v === 'object' && v !== null ? '…' : JSON.stringify(v))).join(',');
    return clip(Array.isArray(value) ? `[${inner}]` : `{keys ${inner}}`);
  }
  return clip(JSON.stringify(typeof value === 'string' ? value.slice(0, QUOTE_MAX + 1) : value) ?? String(value));
}

/** A shape for a message, `[64, 3, 3, 3]`, cut to ~40 characters. */
export const shapeText = (shape: readonly number[]): string => clip(`[${shape.slice(0, QUOTE_MAX).join(', ')}]`);

interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

export function readSafetensors(file: ArrayBuffer | Uint8Array): Safetensors {
  // a plain Uint8Array view even of a Node Buffer, whose slice() would not copy
  const bytes =
    file instanceof Uint8Array ? new Uint8Array(file.buffer, file.byteOffset, file.byteLength) : new Uint8Array(file);
  if (bytes.length < 8)
    throw new CheckpointError(
      'safetensors: the file is shorter than its 8-byte header length',
      '≥ 8 bytes',
      `${bytes.length} bytes`,
    );
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const headerLength = Number(declared);
  if (headerLength > HEADER_MAX || 8 + headerLength > bytes.length) {
    throw new CheckpointError(
      'safetensors: the header runs past the end of the file or past 4 MiB (truncated, or not a safetensors file)',
      `≤ ${Math.min(bytes.length - 8, HEADER_MAX)} header bytes`,
      `${declared}`,
    );
  }
  const header = parseHeader(bytes.subarray(8, 8 + headerLength));
  const data = bytes.subarray(8 + headerLength);
  const metadata = readMetadata(header.__metadata__);
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, value]) => readEntry(name, value, data.length));
  checkTiling(entries, data.length);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    const raw = data.slice(begin, end); // a copy: aligned for Float32Array, and the file can be dropped
    tensors.set(name, { dtype, shape, data: dtype === 'F32' ? new Float32Array(raw.buffer) : raw });
  }
  return { tensors, metadata };
}

function parseHeader(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw new CheckpointError('safetensors: the header is not valid UTF-8');
  }
  const depth = nesting(text);
  if (depth > DEPTH_MAX)
    throw new CheckpointError(
      'safetensors: the header nests deeper than a safetensors header does',
      `≤ ${DEPTH_MAX} levels`,
      `${depth}`,
    );
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`safetensors: the header is not JSON (${clip((e as Error).message, 80)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new CheckpointError('safetensors: the header is not a JSON object', 'an object', quote(header));
  const twice = duplicateKey(text);
  if (twice !== undefined)
    throw new CheckpointError(`safetensors: the header has the key ${quote(twice)} twice in one object`);
  return header as Record<string, unknown>;
}

/** How deep `json`'s brackets nest outside strings (any text: this runs before JSON.parse). */
function nesting(json: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < json.length && json.charCodeAt(i) !== 0x22; i++) if (json.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return deepest;
}

/**
 * The first key that occurs twice in one object of `json` (text that JSON.parse accepted), or undefined.
 * One pass: a set of keys per open object; a string is a key when it follows `{` or an object's `,`.
 */
function duplicateKey(json: string): string | undefined {
  const open: (Set<string> | null)[] = []; // per open bracket: the object's keys so far, null for an array
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < json.length && json.charCodeAt(j) !== 0x22; j++) {
        if (json.charCodeAt(j) === 0x5c /* \ */) {
          escaped = true;
          j++; // the escaped character
        }
      }
      if (expectKey) {
        const key = escaped ? (JSON.parse(json.slice(i, j + 1)) as string) : json.slice(i + 1, j);
        const keys = open[open.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) open.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) open.pop();
    else if (c === 0x2c /* , */) expectKey = open[open.length - 1] instanceof Set;
  }
  return undefined;
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CheckpointError('safetensors: __metadata__ is not an object', '{string: string}', quote(value));
  for (const [key, v] of Object.entries(value))
    if (typeof v !== 'string')
      throw new CheckpointError(`safetensors: __metadata__ ${quote(key)} is not a string`, 'a string', quote(v));
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function readEntry(name: string, value: unknown, dataLength: number): Entry {
  const tensor = `safetensors: tensor ${quote(name)}`;
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { dtype, shape, data_offsets: offsets } = fields;
  if (dtype !== 'F32' && dtype !== 'U8')
    throw new CheckpointError(`${tensor} has an unsupported dtype`, 'F32 or U8', quote(dtype));
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw new CheckpointError(`${tensor} has a malformed shape`, 'a list of non-negative integers', quote(shape));
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    throw new CheckpointError(`${tensor} has malformed data_offsets`, '[begin, end]', quote(offsets));
  const [begin, end] = offsets as [number, number];
  // exact: each factor is a safe integer, and a product past 2^53 stays far above any file's size
  const size = (shape as number[]).reduce((a, d) => a * d, 1) * BYTES[dtype];
  if (end - begin !== size)
    throw new CheckpointError(
      `${tensor}'s byte range does not match its shape ${shapeText(shape)}`,
      `${size} bytes`,
      `${end - begin}`,
    );
  if (end > dataLength)
    throw new CheckpointError(
      `${tensor} runs past the end of the file (truncated)`,
      `≤ ${dataLength} data bytes`,
      `data up to byte ${end}`,
    );
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** The byte ranges, sorted, must tile [0, dataLength): no overlap or alias, no hole, nothing after the last. */
function checkTiling(entries: readonly Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: Entry | null = null;
  for (const e of sorted) {
    if (e.begin < at)
      throw new CheckpointError(
        `safetensors: tensor ${quote(e.name)}'s bytes overlap tensor ${quote(previous!.name)}'s`,
        `data from byte ${at}`,
        `[${e.begin}, ${e.end}]`,
      );
    if (e.begin > at)
      throw new CheckpointError(
        `safetensors: data bytes ${at} to ${e.begin} belong to no tensor (a hole before tensor ${quote(e.name)})`,
      );
    at = e.end;
    previous = e;
  }
  if (at !== dataLength)
    throw new CheckpointError(
      `safetensors: ${dataLength - at} bytes after the last tensor's data belong to no tensor`,
      `${at} data bytes`,
      `${dataLength}`,
    );
}
