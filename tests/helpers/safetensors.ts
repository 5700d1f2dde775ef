// A minimal safetensors writer for tests (the format: 8-byte LE header length, JSON header, data),
// written independently of src/models/safetensors.ts so that the reader is checked against the format.
export interface TensorSpec {
  dtype: 'F32' | 'U8' | 'F16';
  shape: number[];
  data: Float32Array | Uint8Array;
}

export function writeSafetensors(tensors: Record<string, TensorSpec>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * A file with `header` verbatim as its header (any text or bytes: malformed JSON, invalid UTF-8,
 * duplicate keys) and `data` after it; `headerLength` replaces the true length in the first 8 bytes.
 */
export function rawSafetensors(
  header: string | Uint8Array,
  data: Uint8Array = new Uint8Array(0),
  headerLength?: bigint,
): Uint8Array {
  const head = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

/** A file's header as parsed JSON and its data bytes (for tampering with a valid file). */
export function splitSafetensors(file: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const length = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as Record<string, unknown>;
  return { header, data: file.subarray(8 + length) };
}
