/**
 * A reader for safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?:
 * {string: string}}, then the tensors' bytes (offsets relative to the end of the header). Only what
 * checkpoints here hold: F32 and U8 (other dtypes are refused by name). Everything is checked before
 * anything is returned: the header's size against the file, each tensor's byte range against the data
 * and against its shape, so a truncated or malformed file throws a CheckpointError naming the tensor.
 * (npm's `safetensors` package is a 0.0.1 placeholder, and the working readers come inside large
 * libraries such as transformers.js; 60 lines are smaller than either.)
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
/** A header larger than this is not a checkpoint's (the format's own reader refuses 100 MB). */
const HEADER_MAX = 100_000_000;

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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > HEADER_MAX || 8 + headerLength > bytes.length) {
    throw new CheckpointError(
      'safetensors: the header runs past the end of the file (truncated, or not a safetensors file)',
      `≤ ${bytes.length - 8} header bytes`,
      `${headerLength}`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`safetensors: the header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new CheckpointError('safetensors: the header is not a JSON object');
  const data = bytes.subarray(8 + headerLength);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32' && dtype !== 'U8')
      throw new CheckpointError(
        `safetensors: tensor ${name} has an unsupported dtype`,
        'F32 or U8',
        JSON.stringify(dtype),
      );
    const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!Array.isArray(shape) || !shape.every(isCount))
      throw new CheckpointError(
        `safetensors: tensor ${name} has a malformed shape`,
        'a list of non-negative integers',
        JSON.stringify(shape),
      );
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
      throw new CheckpointError(
        `safetensors: tensor ${name} has malformed data_offsets`,
        '[begin, end]',
        JSON.stringify(offsets),
      );
    const [begin, end] = offsets as [number, number];
    const size = (shape as number[]).reduce((a, d) => a * d, 1) * BYTES[dtype];
    if (end - begin !== size)
      throw new CheckpointError(
        `safetensors: tensor ${name}'s byte range does not match its shape [${shape.join(', ')}]`,
        `${size} bytes`,
        `${end - begin}`,
      );
    if (end > data.length)
      throw new CheckpointError(
        `safetensors: tensor ${name} runs past the end of the file (truncated)`,
        `≤ ${data.length} data bytes`,
        `data up to byte ${end}`,
      );
    const raw = data.slice(begin, end); // a copy: aligned for Float32Array, and the file can be dropped
    tensors.set(name, {
      dtype,
      shape: [...(shape as number[])],
      data: dtype === 'F32' ? new Float32Array(raw.buffer) : raw,
    });
  }
  return { tensors, metadata };
}
