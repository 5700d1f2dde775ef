import type { Batch, GpuContext } from './context';

/** A GPU time and how it was taken. */
export interface GpuTiming {
  ms: number;
  /** 'timestamp-query' when the device writes GPU timestamps, else wall-clock to queue drain. */
  source: 'timestamp-query' | 'wall-clock';
}

/**
 * Times the GPU work that `record` puts into one batch: with the 'timestamp-query' feature, GPU
 * timestamps written before and after it (resolved and read back); without, the wall-clock time
 * from submit until the queue has drained. Each call creates and destroys its own query objects.
 */
export async function timeGpuWork(ctx: GpuContext, record: (batch: Batch) => void): Promise<GpuTiming> {
  ctx.assertUsable();
  const device = ctx.device;
  if (!ctx.hasTimestamps) {
    await device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    await ctx.submit(record);
    await device.queue.onSubmittedWorkDone();
    return { ms: performance.now() - t0, source: 'wall-clock' };
  }
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  try {
    await ctx.submit((batch) => {
      batch.timestamp(querySet, 0);
      record(batch);
      batch.timestamp(querySet, 1);
      batch.commandEncoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    });
    const [raw] = await ctx.read([{ buffer: resolve, bytes: 16 }]);
    const [t0, t1] = new BigUint64Array(raw!);
    return { ms: Number(t1! - t0!) / 1e6, source: 'timestamp-query' };
  } finally {
    querySet.destroy();
    resolve.destroy();
  }
}
