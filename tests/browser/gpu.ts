import { expect } from 'vitest';
/**
 * Runs fn inside validation and out-of-memory error scopes and fails the test on anything they
 * catch, so that no WebGPU error goes unnoticed.
 */
export async function noGpuErrors<T>(device: GPUDevice, fn: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const v = await device.popErrorScope();
    const o = await device.popErrorScope();
    expect(v?.message ?? null, 'WebGPU validation error').toBeNull();
    expect(o?.message ?? null, 'WebGPU out-of-memory error').toBeNull();
  }
  return result;
}
