/**
 * Typed errors. Every error this library throws is an {@link AconError}; the subclass says what went
 * wrong and `expected` / `actual` say how, so callers can branch on `instanceof` or `code`.
 */
export type AconErrorCode =
  | 'SHAPE'
  | 'OPTION'
  | 'LENGTH'
  | 'DTYPE'
  | 'EMPTY'
  | 'LIMIT'
  | 'BUFFER'
  | 'BATCH'
  | 'STATE'
  | 'CHECKPOINT'
  | 'DATASET'
  | 'DESTROYED'
  | 'DEVICE_LOST'
  | 'NO_WEBGPU'
  | 'GPU_VALIDATION';

export class AconError extends Error {
  readonly code: AconErrorCode;
  readonly expected?: string;
  readonly actual?: string;

  constructor(code: AconErrorCode, message: string, expected?: string, actual?: string) {
    const detail = expected !== undefined ? ` (expected ${expected}, got ${actual})` : '';
    super(message + detail);
    this.name = new.target.name;
    this.code = code;
    if (expected !== undefined) this.expected = expected;
    if (actual !== undefined) this.actual = actual;
  }
}

/** A shape is not [N, C, H, W], or parameter shapes do not match it. */
export class ShapeError extends AconError {
  constructor(message: string, expected?: string, actual?: string) {
    super('SHAPE', message, expected, actual);
  }
}

/** An option or constructor argument has a value outside the ones allowed (a data format, a width, r, …). */
export class OptionError extends AconError {
  constructor(message: string, expected: string, actual: string) {
    super('OPTION', message, expected, actual);
  }
}

/** An array's length differs from the product of its shape. */
export class LengthError extends AconError {
  constructor(message: string, expected: string, actual: string) {
    super('LENGTH', message, expected, actual);
  }
}

/** Data is not float32. */
export class DTypeError extends AconError {
  constructor(message: string, expected: string, actual: string) {
    super('DTYPE', message, expected, actual);
  }
}

/** A tensor with a zero-sized dimension. */
export class EmptyTensorError extends AconError {
  constructor(message: string, expected: string, actual: string) {
    super('EMPTY', message, expected, actual);
  }
}

/** A tensor larger than the device can bind or allocate. */
export class LimitError extends AconError {
  constructor(message: string, expected: string, actual: string) {
    super('LIMIT', message, expected, actual);
  }
}

/** A caller's GPUBuffer that is too small, lacks a usage flag, or was destroyed. */
export class BufferError extends AconError {
  constructor(message: string, expected?: string, actual?: string) {
    super('BUFFER', message, expected, actual);
  }
}

/** Training-mode batch statistics over a batch of one. */
export class BatchSizeError extends AconError {
  constructor(message: string, expected: string, actual: string) {
    super('BATCH', message, expected, actual);
  }
}

/** A state dict with a missing key or a wrongly shaped entry. */
export class StateDictError extends AconError {
  constructor(message: string, expected?: string, actual?: string) {
    super('STATE', message, expected, actual);
  }
}

/** A checkpoint file that cannot be read: truncated, a malformed header, an unknown architecture. */
export class CheckpointError extends AconError {
  constructor(message: string, expected?: string, actual?: string) {
    super('CHECKPOINT', message, expected, actual);
  }
}

/** A dataset file that cannot be read: truncated, a wrong magic number, counts or sizes that disagree. */
export class DatasetError extends AconError {
  constructor(message: string, expected?: string, actual?: string) {
    super('DATASET', message, expected, actual);
  }
}

/** The context was destroyed by its owner; create a new one. */
export class ContextDestroyedError extends AconError {
  constructor() {
    super('DESTROYED', 'this AconGPU context has been destroyed; create a new one with AconGPU.create()');
  }
}

/** The GPUDevice was lost (driver reset, tab backgrounded, device.destroy()); create a new context. */
export class DeviceLostError extends AconError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('DEVICE_LOST', `the GPU device was lost (${reason}): ${message}; create a new context to continue`);
    this.reason = reason;
  }
}

/** No WebGPU in this environment, or no adapter. */
export class WebGPUUnavailableError extends AconError {
  constructor(message: string) {
    super('NO_WEBGPU', message);
  }
}

/** WebGPU reported a validation or out-of-memory error for work this library submitted. */
export class GPUValidationError extends AconError {
  constructor(message: string) {
    super('GPU_VALIDATION', message);
  }
}
