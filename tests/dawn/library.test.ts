// The library in plain Node: AconGPU.create() with WebGPU from Dawn, through the `gpu` option (no
// navigator at all), through navigator.gpu (as setup.ts installs it) and from the caller's device;
// and the typed errors when something is missing.
import { afterEach, describe, expect, test } from 'vitest';
import { create } from 'webgpu';
import { AconGPU, WebGPUUnavailableError, aconCForwardRef, type Shape4 } from '../../src/index';

const shape: Shape4 = [2, 3, 4, 5];
const x = Float32Array.from({ length: 120 }, (_, i) => (i - 60) / 10);
const params = { p1: Float32Array.of(1, 0.5, -1), p2: Float32Array.of(0, 0.2, 0.3), beta: Float32Array.of(1, 2, -0.5) };

/** ACON-C forward on the context vs the float64 reference, within a float32 tolerance. */
async function expectAconC(acon: AconGPU) {
  const y = await acon.aconCForward(x, shape, params);
  const ref = aconCForwardRef(x, shape, params);
  expect(y.length).toBe(ref.length);
  for (let i = 0; i < y.length; i++)
    expect(Math.abs(y[i]! - ref[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[i]!)));
}

const g = globalThis as { navigator?: { gpu?: GPU }; GPUBufferUsage?: unknown };
const saved = { gpu: g.navigator!.gpu!, usage: g.GPUBufferUsage };
afterEach(() => {
  g.navigator!.gpu = saved.gpu;
  g.GPUBufferUsage = saved.usage;
});

describe('AconGPU on Dawn', () => {
  test('no navigator.gpu and no gpu option: WebGPUUnavailableError that points at the option', async () => {
    delete g.navigator!.gpu;
    const err = await AconGPU.create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebGPUUnavailableError);
    expect((err as Error).message).toMatch(/navigator\.gpu is undefined.*\{ gpu \}/s);
  });

  test('the gpu option without the WebGPU globals: WebGPUUnavailableError naming them', async () => {
    delete g.GPUBufferUsage;
    await expect(AconGPU.create({ gpu: create([]) })).rejects.toThrow(
      /globals \(GPUBufferUsage, GPUMapMode\) are missing/,
    );
  });

  test('the gpu option, with no navigator.gpu: ACON-C matches the reference', async () => {
    delete g.navigator!.gpu;
    // a Dawn instance of its own, referenced by nothing but the context (which keeps it alive: Dawn
    // tears the device down with a collected instance)
    const acon = await AconGPU.create({ gpu: create([]) });
    expect(acon.context.gpu).toBeDefined();
    try {
      await expectAconC(acon);
    } finally {
      acon.destroy();
    }
  });

  test('navigator.gpu from Dawn (as installed by installDawn): AconGPU.create() as in a browser', async () => {
    const acon = await AconGPU.create();
    try {
      expect(acon.context.software).toBe(true); // SwiftShader here; a GPU adapter gets the GPU tuning
      await expectAconC(acon);
    } finally {
      acon.destroy();
    }
  });

  test("the caller's device: used, and left alive by destroy()", async () => {
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    const acon = await AconGPU.create({ device });
    await expectAconC(acon);
    acon.destroy();
    const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.pushErrorScope('validation');
    device.queue.writeBuffer(buf, 0, new Float32Array(4));
    expect(await device.popErrorScope()).toBeNull();
    device.destroy();
  });

  test('an adapter that is not there: WebGPUUnavailableError saying what Dawn needs', async () => {
    const none = { requestAdapter: async () => null } as unknown as GPU;
    await expect(AconGPU.create({ gpu: none })).rejects.toThrow(/found no GPU adapter.*libvulkan\.so\.1/);
  });
});
