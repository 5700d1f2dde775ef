// Error-scope hooks for the test files that run the tfjs face on the webgpu backend.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Hooks for a test file on the tfjs webgpu backend: every test runs inside validation and
 * out-of-memory error scopes on the tfjs device. The ops record into tfjs's stream without error
 * scopes of their own, so any WebGPU error they cause lands here (after tfjs's pending work is
 * submitted) and fails the test.
 */
export function tfjsWebGPUErrorScopes(): void {
  let scoped: GPUDevice | undefined;
  const device = () => (tf.backend() as unknown as { device: GPUDevice }).device;
  beforeAll(async () => {
    await tf.setBackend('webgpu');
    await tf.ready();
  });
  beforeEach(() => {
    scoped = device();
    scoped.pushErrorScope('out-of-memory');
    scoped.pushErrorScope('validation');
  });
  afterEach(async () => {
    await tf.setBackend('webgpu');
    const backend = tf.backend() as unknown as {
      endComputePassEncoder(): void;
      ensureCommandEncoderReady(): void;
      submitQueue(): void;
    };
    backend.endComputePassEncoder();
    backend.ensureCommandEncoderReady();
    backend.submitQueue();
    const v = await scoped!.popErrorScope();
    const o = await scoped!.popErrorScope();
    expect(v?.message ?? null, 'WebGPU validation error').toBeNull();
    expect(o?.message ?? null, 'WebGPU out-of-memory error').toBeNull();
  });
  afterAll(async () => {
    await tf.setBackend('webgpu');
  });
}
