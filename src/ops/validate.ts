import {
  BufferError,
  DTypeError,
  EmptyTensorError,
  LengthError,
  LimitError,
  OptionError,
  ShapeError,
} from '../gpu/errors';
import type { DataFormat } from '../core/types';

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(v)) return `Array(${v.length})`;
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
};

/** Checks that `shape` is four positive integers; returns the element count. */
export function checkShape(shape: unknown, name = 'shape'): number {
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new ShapeError(
      `${name} must be [N, C, H, W]`,
      'an array of 4 dimensions',
      Array.isArray(shape) ? `${shape.length} dimensions [${shape.join(', ')}]` : describe(shape),
    );
  }
  for (const [i, d] of shape.entries()) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${name}[${i}] must be a non-negative integer`, 'an integer ≥ 0', String(d));
    }
  }
  if (shape.some((d) => d === 0)) {
    throw new EmptyTensorError(`${name} has a zero-sized dimension`, 'every dimension ≥ 1', `[${shape.join(', ')}]`);
  }
  return shape.reduce((a: number, b: number) => a * b, 1);
}

/** Checks that `dataFormat` is NCHW or NHWC. */
export function checkDataFormat(dataFormat: unknown): DataFormat {
  if (dataFormat !== 'NCHW' && dataFormat !== 'NHWC')
    throw new OptionError('unknown dataFormat', "'NCHW' or 'NHWC'", JSON.stringify(dataFormat));
  return dataFormat;
}

/** Checks that `data` is a Float32Array of `length` elements. */
export function checkFloat32(data: unknown, length: number, name: string): Float32Array {
  if (!(data instanceof Float32Array))
    throw new DTypeError(`${name} must be float32 data`, 'Float32Array', describe(data));
  if (data.length !== length) {
    throw new LengthError(`${name} has the wrong number of elements`, `${length}`, `${data.length}`);
  }
  return data;
}

/** Checks that β has C (per channel) or N·C (per sample) entries; true for per sample. */
export function betaIsPerSample(length: number, n: number, c: number, name = 'beta'): boolean {
  if (length === c) return false;
  if (length === n * c) return true;
  throw new ShapeError(
    `${name} must hold one value per channel or per (sample, channel)`,
    `C = ${c} or N·C = ${n * c} values`,
    `${length}`,
  );
}

/** Checks that `bytes` fits in one storage binding on this device. */
export function checkFits(bytes: number, maxBytes: number, name: string): void {
  if (bytes > maxBytes) {
    throw new LimitError(
      `${name} is larger than this device can bind in one storage buffer`,
      `at most ${maxBytes} bytes (${Math.floor(maxBytes / 4)} float32 elements)`,
      `${bytes} bytes`,
    );
  }
}

/** Checks a caller's GPUBuffer: big enough, with STORAGE usage. */
export function checkGPUBuffer(buffer: unknown, bytes: number, name: string): GPUBuffer {
  if (
    typeof buffer !== 'object' ||
    buffer === null ||
    typeof (buffer as GPUBuffer).size !== 'number' ||
    typeof (buffer as GPUBuffer).usage !== 'number'
  ) {
    throw new BufferError(`${name} must be a GPUBuffer`, 'GPUBuffer', describe(buffer));
  }
  const b = buffer as GPUBuffer;
  if (b.size < bytes) throw new BufferError(`${name} is too small`, `at least ${bytes} bytes`, `${b.size} bytes`);
  if ((b.usage & GPUBufferUsage.STORAGE) === 0) {
    throw new BufferError(
      `${name} lacks STORAGE usage`,
      'usage including GPUBufferUsage.STORAGE',
      `usage 0x${b.usage.toString(16)}`,
    );
  }
  return b;
}

/**
 * Written buffers must be distinct from every other buffer of the call (WebGPU forbids aliasing a
 * written binding): `buffers` is every buffer of the call, `names` how errors name them, `written`
 * the indices of the written ones.
 */
export function checkDistinct(names: readonly string[], buffers: readonly unknown[], written: readonly number[]): void {
  for (const o of written)
    for (let j = 0; j < buffers.length; j++)
      if (j !== o && buffers[j] === buffers[o])
        throw new BufferError(
          `${names[o]} (written) is the same GPUBuffer as ${names[j]}`,
          'a buffer of its own',
          `the buffer of ${names[j]}`,
        );
}
