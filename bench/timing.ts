// How the bench times things (moved verbatim from bench.ts): GPU implementations side by side, batch
// by batch, ended by a queue drain; the CPU reference call by call; and the check that a fused result
// agrees with the composed one before either is timed.
import * as tf from '@tensorflow/tfjs-core';
import type { Contender } from './types';

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Times implementations of one op side by side: each is warmed up and given a batch size k (about
 * `batchMs` of work), then the timed batches take turns (a, b, c, a, b, c, …), so that a slow spell
 * of a shared machine falls on all of them alike. Where one round of batches would take so long that
 * `batches` rounds overrun `groupMs` (a network at batch 64 on a software adapter), fewer rounds are
 * timed, never fewer than `minBatches`. Returns, per contender, the median ms per call and the
 * number of timed calls.
 */
export async function timeSideBySide(
  contenders: Contender[],
  t: { batchMs: number; batches: number; groupMs: number; warmup?: number; minBatches?: number },
) {
  const { batchMs, warmup = 3, minBatches = 3 } = t;
  const ks: number[] = [];
  let roundMs = 0;
  for (const { run, drain } of contenders) {
    for (let i = 0; i < warmup; i++) run();
    await drain();
    const t0 = performance.now();
    run();
    await drain();
    const single = Math.max(performance.now() - t0, 0.01);
    const k = Math.max(1, Math.min(200, Math.round(batchMs / single)));
    ks.push(k);
    roundMs += k * single;
  }
  const batches = Math.max(Math.min(minBatches, t.batches), Math.min(t.batches, Math.floor(t.groupMs / roundMs)));
  const per: number[][] = contenders.map(() => []);
  for (let b = 0; b < batches; b++) {
    for (const [j, { run, drain }] of contenders.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < ks[j]!; i++) run();
      await drain();
      per[j]!.push((performance.now() - t0) / ks[j]!);
    }
  }
  return per.map((p, j) => ({ ms: median(p), runs: ks[j]! * batches }));
}

export function timeCpu(run: () => void, runs: number) {
  const per: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    run();
    per.push(performance.now() - t0);
  }
  return { ms: median(per), runs };
}

/**
 * Fails the run when a fused result does not match the composed one (a timing of a wrong result is
 * worthless): max |a − b| ≤ 1e-3·(1 + max |b|), loose enough for float32 reassociation, far below any
 * real error. One read-back each, before the timing.
 */
export async function checkAgree(what: string, fused: tf.Tensor, composed: tf.Tensor): Promise<void> {
  const [a, b] = await Promise.all([fused.data(), composed.data()]);
  tf.dispose([fused, composed]);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  if (a.length !== b.length || !(diff <= 1e-3 * (1 + scale))) {
    throw new Error(
      `bench: ${what}: the fused result differs from the composed one (max |diff| ${diff}, max |composed| ${scale}); not timing a wrong result`,
    );
  }
}
