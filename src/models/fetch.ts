/**
 * Downloading a checkpoint from a URL someone typed, with a bound: the body is streamed and counted,
 * refused at once when its Content-Length is over the cap and stopped as soon as the bytes received
 * pass it (a server may send no Content-Length, or a false one, and a compressed body decodes to more
 * bytes than its Content-Length), so memory never grows past the cap. Progress is reported per chunk.
 */
import { CheckpointError, OptionError } from '../gpu/errors';
import { clip, quote } from './safetensors';

export interface FetchCheckpointOptions {
  /** The most bytes accepted (default 256 MiB; the largest official ShuffleNetV2 checkpoint is ≈ 35 MB). */
  maxBytes?: number;
  /** Called after each chunk: bytes so far, and the Content-Length when the server sent one (else null). */
  onProgress?: (received: number, total: number | null) => void;
  /** Aborts the download; the promise then rejects with the signal's reason, as fetch does. */
  signal?: AbortSignal;
  /** The fetch to use (default the global one). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export const DEFAULT_MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024;

/** The bytes at `url`, at most `maxBytes` of them; throws a CheckpointError for HTTP errors, network errors and bodies over the cap. */
export async function fetchCheckpoint(url: string, options: FetchCheckpointOptions = {}): Promise<Uint8Array> {
  const { maxBytes = DEFAULT_MAX_CHECKPOINT_BYTES, onProgress, signal } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
    throw new OptionError('fetchCheckpoint: maxBytes is not a byte count', 'an integer ≥ 0', String(maxBytes));
  const get = options.fetch ?? ((u: string, init: RequestInit) => fetch(u, init));
  const where = quote(url);
  const failed = (e: unknown): never => {
    if (signal?.aborted) throw signal.reason;
    throw e instanceof CheckpointError
      ? e
      : new CheckpointError(`checkpoint: downloading ${where} failed (${clip(String(e), 80)})`);
  };
  const tooLarge = (got: string) =>
    new CheckpointError(`checkpoint: ${where} is larger than allowed`, `≤ ${maxBytes} bytes`, got);

  let response: Response;
  try {
    response = await get(url, signal ? { signal } : {});
  } catch (e) {
    return failed(e);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new CheckpointError(
      `checkpoint: ${where} answered HTTP ${response.status}`,
      'a 2xx status',
      `${response.status} ${clip(response.statusText)}`,
    );
  }
  const declared = response.headers.get('content-length');
  const total = declared !== null && /^[0-9]{1,16}$/.test(declared) ? Number(declared) : null;
  if (total !== null && total > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(`${total} bytes (Content-Length)`);
  }
  if (!response.body) return new Uint8Array(0);

  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted(); // fetch ties the body to the signal; a custom fetch may not
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) throw tooLarge(`more than ${maxBytes} bytes received`);
      chunks.push(value);
      onProgress?.(received, total);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    return failed(e);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
