/**
 * ACON-A and ACON-B are ACON-C with fixed parameters, so they run on the same kernels:
 *   ACON-A (Swish):  p1 = 1, p2 = 0        → y = x·σ(β·x)
 *   ACON-B:          p1 = 1, p2 learnable  → y = (1 − p2)·x·σ(β·(1 − p2)·x) + p2·x
 * (ReLU is the limit β → +∞ with p1 = 1, p2 = 0; a linear unit (p1 + p2)/2·x is β = 0.)
 */
import type { AconCParams } from '../activations/aconC/declaration';

const ones = (n: number) => new Float32Array(n).fill(1);

/** ACON-A (Swish) with `channels` channels and β (default 1). */
export function aconAParams(channels: number, beta: ArrayLike<number> = ones(channels)): AconCParams {
  return { p1: ones(channels), p2: new Float32Array(channels), beta: Float32Array.from(beta) };
}

/** ACON-B with the given p2 (one per channel) and β (default 1). */
export function aconBParams(p2: ArrayLike<number>, beta: ArrayLike<number> = ones(p2.length)): AconCParams {
  return { p1: ones(p2.length), p2: Float32Array.from(p2), beta: Float32Array.from(beta) };
}
