// fetchCheckpoint: a checkpoint from a URL a visitor typed is downloaded with a byte cap (Node 20's
// Response and ReadableStream stand in for the network: a fake fetch). Refused at once when the
// Content-Length is over the cap; stopped as soon as the stream passes it, whatever the header said.
import { expect, test } from 'vitest';
import { CheckpointError, OptionError } from '../../src/gpu/errors';
import { fetchCheckpoint } from '../../src/models/fetch';

const KiB = 1024;

/** A body of `chunks` chunks of `size` bytes (byte i of chunk k is k), or endless; counts what was pulled. */
function body(size: number, chunks = Infinity) {
  const pulled = { chunks: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled.chunks === chunks) return controller.close();
      controller.enqueue(new Uint8Array(size).fill(pulled.chunks++ & 0xff));
    },
    cancel() {
      pulled.cancelled = true;
    },
  });
  return { stream, pulled };
}

const serve = (response: () => Response) => async (): Promise<Response> => response();

test('a body within the cap: its bytes, with progress after each chunk', async () => {
  const { stream } = body(64 * KiB, 3);
  const progress: [number, number | null][] = [];
  const bytes = await fetchCheckpoint('https://example.test/a.safetensors', {
    fetch: serve(() => new Response(stream, { headers: { 'content-length': String(192 * KiB) } })),
    maxBytes: 1024 * KiB,
    onProgress: (received, total) => progress.push([received, total]),
  });
  expect(bytes.length).toBe(192 * KiB);
  expect([bytes[0], bytes[64 * KiB], bytes[192 * KiB - 1]]).toEqual([0, 1, 2]);
  expect(progress).toEqual([
    [64 * KiB, 192 * KiB],
    [128 * KiB, 192 * KiB],
    [192 * KiB, 192 * KiB],
  ]);
});

test('a Content-Length over the cap: CheckpointError before any of the body is read', async () => {
  const { stream, pulled } = body(64 * KiB);
  const download = fetchCheckpoint('https://example.test/big', {
    fetch: serve(() => new Response(stream, { headers: { 'content-length': '1000000000' } })),
    maxBytes: 1024 * KiB,
  });
  await expect(download).rejects.toThrow(CheckpointError);
  await expect(download).rejects.toThrow(
    /larger than allowed \(expected ≤ 1048576 bytes, got 1000000000 bytes \(Content-Length\)\)/,
  );
  expect(pulled.chunks).toBeLessThanOrEqual(1); // a stream may pull one chunk ahead as it is made
  expect(pulled.cancelled).toBe(true);
});

test('a lying Content-Length, or none, over an endless stream: stopped once the cap is passed', async () => {
  for (const headers of [{ 'content-length': '100' }, {} as Record<string, string>]) {
    const { stream, pulled } = body(64 * KiB);
    const t0 = performance.now();
    await expect(
      fetchCheckpoint('https://example.test/endless', {
        fetch: serve(() => new Response(stream, { headers })),
        maxBytes: 1024 * KiB,
      }),
    ).rejects.toThrow(/larger than allowed \(expected ≤ 1048576 bytes, got more than 1048576 bytes received\)/);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(pulled.chunks).toBeLessThanOrEqual(1024 / 64 + 2);
    expect(pulled.cancelled).toBe(true);
  }
});

test('HTTP errors, a failing network, a stream that breaks: CheckpointError (a long URL quoted short); maxBytes NaN: OptionError', async () => {
  await expect(
    fetchCheckpoint('https://example.test/missing', {
      fetch: serve(() => new Response('not here', { status: 404, statusText: 'Not Found' })),
    }),
  ).rejects.toThrow(/answered HTTP 404 \(expected a 2xx status, got 404 Not Found\)/);
  const url = `https://example.test/${'x'.repeat(1 << 20)}`;
  const refused = fetchCheckpoint(url, {
    fetch: () => Promise.reject(new TypeError('fetch failed')),
  });
  await expect(refused).rejects.toThrow(CheckpointError);
  await expect(refused).rejects.toThrow(/downloading "https:\/\/example\.test\/x+… failed \(TypeError: fetch failed\)/);
  expect(((await refused.catch((e: Error) => e)) as Error).message.length).toBeLessThan(200);
  let n = 0;
  const broken = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (n++ < 2) controller.enqueue(new Uint8Array(KiB));
      else controller.error(new Error('connection reset'));
    },
  });
  await expect(
    fetchCheckpoint('https://example.test/reset', { fetch: serve(() => new Response(broken)) }),
  ).rejects.toThrow(/failed \(Error: connection reset\)/);
  await expect(fetchCheckpoint('https://example.test/x', { maxBytes: NaN })).rejects.toThrow(OptionError);
});

test('an abort rejects with the signal’s reason, as fetch does', async () => {
  const { stream, pulled } = body(64 * KiB);
  const controller = new AbortController();
  const download = fetchCheckpoint('https://example.test/slow', {
    fetch: serve(() => new Response(stream)),
    signal: controller.signal,
    onProgress: (received) => {
      if (received >= 256 * KiB) controller.abort();
    },
  });
  await expect(download).rejects.toMatchObject({ name: 'AbortError' });
  expect(pulled.chunks).toBeLessThanOrEqual(256 / 64 + 2);
  expect(pulled.cancelled).toBe(true);
});

test("Node's own fetch against a local server that never stops sending: stopped at the cap", async () => {
  const { createServer } = await import('node:http');
  const server = createServer((_, res) => {
    const chunk = Buffer.alloc(64 * KiB, 7);
    const send = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', send);
    };
    send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    await expect(fetchCheckpoint(`http://127.0.0.1:${port}/endless`, { maxBytes: 1024 * KiB })).rejects.toThrow(
      /larger than allowed/,
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
