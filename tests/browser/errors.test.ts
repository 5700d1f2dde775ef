// Bad input gives a typed error naming what was expected and what came; nothing is written.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AconGPU,
  BufferError,
  ContextDestroyedError,
  DeviceLostError,
  DTypeError,
  EmptyTensorError,
  LengthError,
  LimitError,
  MetaAconC,
  AconC,
  OptionError,
  ShapeError,
  type Shape4,
} from '../../src/index';
import { makeMetaParams, metaParamBuffers } from '../helpers/fixtures';

let acon: AconGPU;
beforeAll(async () => {
  acon = await AconGPU.create();
});
afterAll(() => acon.destroy());

const C = 3;
const shape: Shape4 = [2, C, 4, 4];
const count = 2 * C * 16;
const params = () => ({ p1: new Float32Array(C).fill(1), p2: new Float32Array(C), beta: new Float32Array(C).fill(1) });
const x = () => new Float32Array(count).fill(0.5);

async function rejects<E extends Error>(
  p: Promise<unknown>,
  type: new (...a: never[]) => E,
  expected?: RegExp,
  actual?: RegExp,
) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  const e = err as E & { expected?: string; actual?: string };
  if (expected) expect(e.expected).toMatch(expected);
  if (actual) expect(e.actual).toMatch(actual);
  return e;
}

describe('host arrays', () => {
  test('wrong rank', async () => {
    await rejects(
      acon.aconCForward(x(), [2, 3, 16] as unknown as Shape4, params()),
      ShapeError,
      /4 dimensions/,
      /3 dimensions/,
    );
  });
  test('non-integer and negative dimensions', async () => {
    await rejects(acon.aconCForward(x(), [2, 3, 4.5, 4] as Shape4, params()), ShapeError, /integer/, /4\.5/);
    await rejects(acon.aconCForward(x(), [2, -3, 4, 4] as Shape4, params()), ShapeError, /integer/, /-3/);
  });
  test('zero-sized dimension', async () => {
    await rejects(
      acon.aconCForward(new Float32Array(0), [0, 3, 4, 4], params()),
      EmptyTensorError,
      /≥ 1/,
      /\[0, 3, 4, 4\]/,
    );
  });
  test('C differs from the parameter length', async () => {
    await rejects(acon.aconCForward(x(), shape, { ...params(), p1: new Float32Array(4) }), LengthError, /^3$/, /^4$/);
    await rejects(
      acon.aconCForward(x(), shape, { ...params(), beta: new Float32Array(5) }),
      ShapeError,
      /C = 3 or N·C = 6/,
      /^5$/,
    );
  });
  test('data length differs from the product of the shape', async () => {
    await rejects(acon.aconCForward(new Float32Array(count - 1), shape, params()), LengthError, /^96$/, /^95$/);
    await rejects(acon.aconCBackward(x(), new Float32Array(count + 4), shape, params()), LengthError, /^96$/, /^100$/);
  });
  test('non-float32 data', async () => {
    await rejects(
      acon.aconCForward(new Float64Array(count) as unknown as Float32Array, shape, params()),
      DTypeError,
      /Float32Array/,
      /Float64Array/,
    );
    await rejects(
      acon.aconCForward(Array.from(x()) as unknown as Float32Array, shape, params()),
      DTypeError,
      /Float32Array/,
      /Array\(96\)/,
    );
    await rejects(
      acon.aconCForward(x(), shape, { ...params(), p2: new Int32Array(C) as unknown as Float32Array }),
      DTypeError,
      /Float32Array/,
      /Int32Array/,
    );
  });
  test('unknown dataFormat', async () => {
    await rejects(
      acon.aconCForward(x(), shape, params(), { dataFormat: 'CHWN' as 'NCHW' }),
      OptionError,
      /NCHW/,
      /CHWN/,
    );
  });
  test('a tensor over the device limit is refused before anything is allocated', async () => {
    const max = acon.context.maxTensorBytes / 4;
    const big: Shape4 = [1, 1, Math.ceil(max / 1024) + 1, 1024];
    const live = acon.liveBuffers;
    // The data is not even looked at: the limit check comes first, so no giant array is needed.
    await rejects(
      acon.aconCForward(new Float32Array(4), big, {
        p1: new Float32Array(1),
        p2: new Float32Array(1),
        beta: new Float32Array(1),
      }),
      LimitError,
      /at most \d+ bytes/,
      /bytes/,
    );
    expect(acon.liveBuffers).toBe(live);
  });
});

describe('Meta-ACON-C sizes beyond what one invocation of the β generator loops over (lavapipe caps it)', () => {
  test('N > 8192 in training mode and in backward, R > 16384: LimitError before anything is allocated; eval forward works', async () => {
    const n = 8193;
    const big: Shape4 = [n, 4, 1, 1];
    const p = makeMetaParams(4, 2, 3);
    const data = new Float32Array(n * 4).fill(0.5);
    const live = acon.liveBuffers;
    await rejects(acon.metaAconCForward(data, big, p, { training: true }), LimitError, /N at most 8192/, /N = 8193/);
    await rejects(acon.metaAconCBackward(data, data, big, p, { training: false }), LimitError, /8192/, /8193/);
    // R = max(r, C/r) = 16,385 hidden features (fc1.weight [R, C] stays small with C = 4)
    const wide = makeMetaParams(4, 16_385, 3);
    await rejects(
      acon.metaAconCForward(data, big, wide, { training: false }),
      LimitError,
      /C and R at most 16384/,
      /16385/,
    );
    expect(acon.liveBuffers).toBe(live);
    const eval_ = await acon.metaAconCForward(data, big, p, { training: false });
    expect(eval_.y.length).toBe(n * 4);
    expect(eval_.y.every(Number.isFinite)).toBe(true);
  });
});

describe('GPU buffers', () => {
  const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  function buffers(yBytes = count * 4) {
    const d = acon.device;
    return {
      x: acon.createBuffer(x()),
      p1: acon.createBuffer(params().p1),
      p2: acon.createBuffer(params().p2),
      beta: acon.createBuffer(params().beta),
      y: d.createBuffer({ size: yBytes, usage: usage() }),
    };
  }
  const destroyAll = (b: Record<string, GPUBuffer>) => Object.values(b).forEach((v) => v.destroy());
  const fwdBuffers = (b: Record<'x' | 'p1' | 'p2' | 'beta' | 'y', GPUBuffer>) => ({
    x: b.x,
    params: { p1: b.p1, p2: b.p2, beta: b.beta },
    y: b.y,
  });

  test('too-small output buffer', async () => {
    const b = buffers(count * 4 - 16);
    await rejects(acon.aconCForwardBuffers(fwdBuffers(b), shape), BufferError, /at least 384 bytes/, /368 bytes/);
    destroyAll(b);
  });

  test('buffer without STORAGE usage', async () => {
    const b = buffers();
    b.y.destroy();
    b.y = acon.device.createBuffer({ size: count * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    await rejects(acon.aconCForwardBuffers(fwdBuffers(b), shape), BufferError, /STORAGE/, /usage/);
    destroyAll(b);
  });

  test('output aliasing an input', async () => {
    const b = buffers();
    await rejects(acon.aconCForwardBuffers(fwdBuffers({ ...b, y: b.x }), shape), BufferError, /own/, /x/);
    destroyAll(b);
  });

  test('destroyed input: typed error and the output is left untouched', async () => {
    const b = buffers();
    const sentinel = new Float32Array(count).fill(-7);
    acon.device.queue.writeBuffer(b.y, 0, sentinel);
    b.x.destroy();
    await rejects(acon.aconCForwardBuffers(fwdBuffers(b), shape), BufferError, /live GPUBuffer/, /destroyed/);
    expect(await acon.readBuffer(b.y, count)).toEqual(sentinel);
    destroyAll(b);
  });

  test('GPU-resident forward and backward match the host-array path', async () => {
    const b = buffers();
    const p = params();
    p.p2.set([0.3, -0.2, 1]);
    p.beta.set([2, -1, 0]);
    const xs = new Float32Array(count).map((_, i) => Math.sin(i) * 3);
    const dy = new Float32Array(count).map((_, i) => Math.cos(i));
    const gx = acon.createBuffer(xs);
    const gdy = acon.createBuffer(dy);
    const [gp1, gp2, gbeta] = [p.p1, p.p2, p.beta].map((a) => acon.createBuffer(a)) as [
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
    ];
    const out = () => acon.device.createBuffer({ size: count * 4, usage: usage() });
    const small = () => acon.device.createBuffer({ size: C * 4, usage: usage() });
    const [dx, dp1, dp2, dbeta] = [out(), small(), small(), small()];
    const gparams = { p1: gp1, p2: gp2, beta: gbeta };
    await acon.aconCForwardBuffers({ x: gx, params: gparams, y: b.y }, shape);
    await acon.aconCBackwardBuffers(
      { x: gx, dy: gdy, params: gparams, grads: { dx, p1: dp1, p2: dp2, beta: dbeta } },
      shape,
    );
    expect(await acon.readBuffer(b.y, count)).toEqual(await acon.aconCForward(xs, shape, p));
    const host = await acon.aconCBackward(xs, dy, shape, p);
    expect(await acon.readBuffer(dx, count)).toEqual(host.dx);
    expect(await acon.readBuffer(dp1, C)).toEqual(host.p1);
    expect(await acon.readBuffer(dbeta, C)).toEqual(host.beta);
    for (const v of [gx, gdy, gp1, gp2, gbeta, dx, dp1, dp2, dbeta]) v.destroy();
    destroyAll(b);
  });
});

const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

describe('recording into your own command encoder', () => {
  test('acon.encoder(enc): ACON-C forward and backward and Meta-ACON-C eval forward between passes of your own, one submit, the host-array results', async () => {
    const p = params();
    p.p2.set([0.3, -0.2, 1]);
    p.beta.set([2, -1, 0.5]);
    const xs = new Float32Array(count).map((_, i) => Math.sin(i) * 3);
    const dy = new Float32Array(count).map((_, i) => Math.cos(i));
    const mk = (n: number) => acon.device.createBuffer({ size: n * 4, usage: usage() });
    const [gx, gdy] = [acon.createBuffer(xs), acon.createBuffer(dy)];
    const gp = { p1: acon.createBuffer(p.p1), p2: acon.createBuffer(p.p2), beta: acon.createBuffer(p.beta) };
    const [y, dx, g1, g2, gb, ym] = [mk(count), mk(count), mk(C), mk(C), mk(C), mk(count)];
    const mp = makeMetaParams(C, 2, 5);
    const mparams = metaParamBuffers(mp, (a) => acon.createBuffer(a));
    // a pass of the caller's own before and a copy after: the library's passes sit between them
    const copyOfY = mk(count);
    const enc = acon.device.createCommandEncoder();
    enc.beginComputePass().end();
    const rec = acon.encoder(enc);
    rec.aconCForward({ x: gx, params: gp, y }, shape);
    rec.aconCBackward({ x: gx, dy: gdy, params: gp, grads: { dx, p1: g1, p2: g2, beta: gb } }, shape);
    rec.metaAconCForward({ x: gx, params: mparams, y: ym }, shape, { training: false, r: 2 });
    enc.copyBufferToBuffer(y, 0, copyOfY, 0, count * 4);
    acon.device.queue.submit([enc.finish()]);
    rec.release();
    const host = await acon.aconCBackward(xs, dy, shape, p);
    expect(await acon.readBuffer(copyOfY, count)).toEqual(await acon.aconCForward(xs, shape, p));
    expect(await acon.readBuffer(dx, count)).toEqual(host.dx);
    expect(await acon.readBuffer(g1, C)).toEqual(host.p1);
    expect(await acon.readBuffer(gb, C)).toEqual(host.beta);
    expect(await acon.readBuffer(ym, count)).toEqual(
      (await acon.metaAconCForward(xs, shape, mp, { training: false })).y,
    );
    // bad input throws synchronously, before anything is recorded
    const enc2 = acon.device.createCommandEncoder();
    expect(() => acon.encoder(enc2).aconCForward({ x: gx, params: gp, y: gx }, shape)).toThrow(BufferError);
    expect(() => acon.encoder(enc2).aconCForward({ x: gx, params: gp, y }, [2, 4, 4, 4])).toThrow(BufferError);
    for (const b of [gx, gdy, gp.p1, gp.p2, gp.beta, y, dx, g1, g2, gb, ym, copyOfY]) b.destroy();
  });
});

describe('small defects', () => {
  test('readBuffer checks the length against the buffer; createBuffer checks its data', async () => {
    const b = acon.createBuffer(new Float32Array(4));
    await rejects(acon.readBuffer(b, 5), BufferError, /≥ 20 bytes/, /16 bytes/);
    await rejects(acon.readBuffer(b, -1), LengthError);
    expect(() => acon.createBuffer([1, 2] as unknown as Float32Array)).toThrow(DTypeError);
    b.destroy();
  });

  test('a too-small dx buffer is named grads.dx', async () => {
    const mk = (n: number) => acon.device.createBuffer({ size: n * 4, usage: usage() });
    const gp = { p1: mk(C), p2: mk(C), beta: mk(C) };
    const b = {
      x: mk(count),
      dy: mk(count),
      params: gp,
      grads: { dx: mk(count - 4), p1: mk(C), p2: mk(C), beta: mk(C) },
    };
    await rejects(acon.aconCBackwardBuffers(b, shape), BufferError).then((e) => expect(e.message).toMatch(/grads\.dx/));
  });

  test('Meta-ACON-C GPU-resident calls refuse aliased outputs', async () => {
    const mk = (n: number) => acon.device.createBuffer({ size: Math.max(16, n * 4), usage: usage() });
    const R = 16;
    const bn = (f: number) => ({ weight: mk(f), bias: mk(f), runningMean: mk(f), runningVar: mk(f) });
    const params = {
      p1: mk(C),
      p2: mk(C),
      fc1: { weight: mk(R * C), bias: mk(R) },
      bn1: bn(R),
      fc2: { weight: mk(C * R), bias: mk(C) },
      bn2: bn(C),
    };
    const x = mk(count);
    await rejects(
      acon.metaAconCForwardBuffers({ x, params, y: x }, shape, { training: false }),
      BufferError,
      /own/,
      /x/,
    );
    const grads = {
      dx: x,
      p1: mk(C),
      p2: mk(C),
      fc1: { weight: mk(R * C), bias: mk(R) },
      bn1: { weight: mk(R), bias: mk(R) },
      fc2: { weight: mk(C * R), bias: mk(C) },
      bn2: { weight: mk(C), bias: mk(C) },
    };
    await rejects(
      acon.metaAconCBackwardBuffers({ x, dy: mk(count), params, grads }, shape, { training: false }),
      BufferError,
      /own/,
      /x/,
    );
  });

  test('Meta-ACON-C eval forward on STORAGE-only parameter buffers (no COPY_SRC to pack them): the staged passes, the same y', async () => {
    const mp = makeMetaParams(C, 2, 3);
    const storageOnly = (a: Float32Array) => {
      const b = acon.device.createBuffer({
        size: Math.max(16, a.byteLength),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      acon.device.queue.writeBuffer(b, 0, a.buffer as ArrayBuffer, a.byteOffset, a.byteLength);
      return b;
    };
    const params = metaParamBuffers(mp, storageOnly);
    const xs = new Float32Array(count).map((_, i) => Math.sin(i) * 2);
    const [gx, gy] = [acon.createBuffer(xs), acon.device.createBuffer({ size: count * 4, usage: usage() })];
    await acon.metaAconCForwardBuffers({ x: gx, params, y: gy }, shape, { training: false, r: 2 });
    expect(await acon.readBuffer(gy, count)).toEqual(
      (await acon.metaAconCForward(xs, shape, mp, { training: false })).y,
    );
  });

  test('constructors validate widths, r and seeds', () => {
    expect(() => new MetaAconC(0)).toThrow(OptionError);
    expect(() => new MetaAconC(64, 0)).toThrow(
      /MetaAconC: r \(the reduction of the hidden width\) is not a positive integer \(expected a positive integer, got 0\)/,
    );
    expect(() => new MetaAconC(64, 16, 1.5)).toThrow(/seed is not an integer/);
    expect(() => new AconC(-3)).toThrow(/width is not a positive integer/);
    expect(() => new AconC(Number.NaN)).toThrow(OptionError);
  });

  test('Meta-ACON-C needs options.training (a boolean), not a silent eval mode', async () => {
    const p = makeMetaParams(C, 2, 1);
    await rejects(
      acon.metaAconCForward(x(), shape, p, {} as { training: boolean }),
      OptionError,
      /true or false/,
      /undefined/,
    );
  });
});

describe('lifecycle', () => {
  test('use after destroy', async () => {
    const a = await AconGPU.create();
    a.destroy();
    await rejects(a.aconCForward(x(), shape, params()), ContextDestroyedError);
    expect(() => a.createBuffer(x())).toThrow(ContextDestroyedError);
    a.destroy(); // idempotent
  });

  test('device lost surfaces as DeviceLostError', async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    const a = await AconGPU.create({ device });
    device.destroy();
    await device.lost;
    const e = await rejects(a.aconCForward(x(), shape, params()), DeviceLostError);
    expect(e.message).toMatch(/lost/);
    a.destroy();
  });
});

describe('GPU timing', () => {
  test('timeGpuWork times a batch (timestamp-query where the device has it)', async () => {
    const { timeGpuWork } = await import('../../src/index');
    const { encodeAconCForward } = await import('../../src/activations/aconC/kernels');
    const n = 1 << 20;
    const x = acon.createBuffer(new Float32Array(n).fill(1));
    const y = acon.createBuffer(new Float32Array(n));
    const p = acon.createBuffer(new Float32Array(4).fill(1));
    const geo = { n: 1, c: 1, h: 1024, w: 1024, dataFormat: 'NCHW' as const, betaPerSample: false };
    const small = await timeGpuWork(acon.context, (b) =>
      encodeAconCForward(acon.context, b, { ...geo, h: 4 }, { x, p1: p, p2: p, beta: p, y }),
    );
    const big = await timeGpuWork(acon.context, (b) => {
      for (let k = 0; k < 8; k++) encodeAconCForward(acon.context, b, geo, { x, p1: p, p2: p, beta: p, y });
    });
    expect(big.source).toBe(acon.context.hasTimestamps ? 'timestamp-query' : 'wall-clock');
    expect(big.ms).toBeGreaterThan(0);
    // eight passes over 4 MiB take longer than one over 16 KiB
    expect(big.ms).toBeGreaterThan(small.ms);
    for (const b of [x, y, p]) b.destroy();
  });
});

describe('no leaks', () => {
  test('10,000 forward+backward calls leave the live buffer count unchanged', async () => {
    const s: Shape4 = [2, 3, 5, 5];
    const n = 150;
    const p = params();
    const xs = new Float32Array(n).fill(0.25);
    const mk = (len: number) =>
      acon.device.createBuffer({
        size: len * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
    const io = {
      x: acon.createBuffer(xs),
      dy: acon.createBuffer(xs),
      y: mk(n),
      dx: mk(n),
      dp1: mk(3),
      dp2: mk(3),
      dbeta: mk(3),
    };
    const [gp1, gp2, gbeta] = [p.p1, p.p2, p.beta].map((a) => acon.createBuffer(a)) as [
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
    ];
    const gparams = { p1: gp1, p2: gp2, beta: gbeta };
    const fwd = () => acon.aconCForwardBuffers({ x: io.x, params: gparams, y: io.y }, s);
    const bwd = () =>
      acon.aconCBackwardBuffers(
        { x: io.x, dy: io.dy, params: gparams, grads: { dx: io.dx, p1: io.dp1, p2: io.dp2, beta: io.dbeta } },
        s,
      );
    // warm-up, including the host-array path (uploads and read-back)
    await Promise.all([fwd(), bwd(), acon.aconCForward(xs, s, p), acon.aconCBackward(xs, xs, s, p)]);
    const live = acon.liveBuffers;
    for (let i = 0; i < 10_000; i += 100) {
      const pending: Promise<void>[] = [];
      for (let k = 0; k < 100; k++) pending.push(fwd(), bwd());
      await Promise.all(pending);
    }
    for (let i = 0; i < 100; i++) await Promise.all([acon.aconCForward(xs, s, p), acon.aconCBackward(xs, xs, s, p)]);
    expect(acon.liveBuffers).toBe(live);
    expect(acon.context.pool.idleBuffers).toBe(live);
    for (const b of [...Object.values(io), gp1, gp2, gbeta]) b.destroy();
  });
});
