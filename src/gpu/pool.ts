/**
 * A pool of GPUBuffers keyed by usage and a size bucket, so that repeated calls with the same shapes
 * allocate nothing after the first. Buckets grow in steps of 1/8 of the size's power of two, which
 * wastes at most 12.5 % and keeps the number of distinct sizes small.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private created = 0;
  private destroyed = 0;
  private closed = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {}

  /** Buffers this pool created and has not destroyed, in use or idle. */
  get liveBuffers(): number {
    return this.created - this.destroyed;
  }

  /** Idle buffers waiting for reuse. */
  get idleBuffers(): number {
    let k = 0;
    for (const list of this.free.values()) k += list.length;
    return k;
  }

  /** A buffer of at least `size` bytes with exactly `usage`; give it back with {@link release}. */
  acquire(size: number, usage: GPUBufferUsageFlags, label = 'acon-pool'): GPUBuffer {
    const bytes = bucket(size, this.maxBufferSize);
    const list = this.free.get(key(bytes, usage));
    const reused = list?.pop();
    if (reused) return reused;
    this.created++;
    return this.device.createBuffer({ size: bytes, usage, label });
  }

  /** Returns a buffer for reuse. Safe right after the queue submit that uses it: the queue orders later writes after it. */
  release(buffer: GPUBuffer): void {
    if (this.closed) return this.destroyBuffer(buffer);
    const k = key(buffer.size, buffer.usage);
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    list.push(buffer);
  }

  /** Destroys the idle buffers (those in use are destroyed when released after {@link destroy}). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.destroyBuffer(b);
    this.free.clear();
  }

  /** Destroys every idle buffer now and every busy one as it is released. */
  close(): void {
    this.closed = true;
    this.trim();
  }

  private destroyBuffer(b: GPUBuffer): void {
    b.destroy();
    this.destroyed++;
  }
}

const key = (bytes: number, usage: number) => `${usage}:${bytes}`;

/** Rounds a byte size up to its bucket: at least 256 bytes, a multiple of 1/8 of its power of two. */
export function bucket(size: number, maxBufferSize: number): number {
  const min = Math.max(size, 16);
  const granule = Math.max(256, 2 ** (Math.floor(Math.log2(min)) - 3));
  const rounded = Math.ceil(min / granule) * granule;
  return rounded <= maxBufferSize ? rounded : Math.ceil(min / 16) * 16;
}
