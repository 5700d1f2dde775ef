// A stand-in GPUDevice for CPU-only tests: it runs nothing, and records the work it is given as a
// canonical trace (tests/node/dispatch-golden.test.ts compares traces of every public call form with
// the ones saved in tests/fixtures/golden/dispatch.json).
//
// Trace events, in submission order:
//   { op: 'dispatch', module, entry, constants, bindings, workgroups }  a compute dispatch
//   { op: 'copy', src, srcOffset, dst, dstOffset, size }                 copyBufferToBuffer
//   { op: 'pass' }                                                       beginComputePass
//   { op: 'submit' }                                                     the end of a queue.submit
// `module` is the shader module's label and the sha256 of its code; `constants` are sorted by key;
// `bindings` maps a binding number to a buffer label (a uniform buffer by its bytes, 'u:<hex>'), with
// '[offset:size]' when only a range is bound. Buffer labels make the trace independent of allocation
// order and of the pool's reuse, yet keep the data flow: the caller's buffers by role (made with
// callerBuffer), the library's uploads by the sha256 of their contents ('in:<hex>'), and every other
// buffer of the library by its order of first use within the trace ('t0', 't1', …).
import { createHash } from 'node:crypto';

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

const USAGE = {
  MAP_READ: 0x1,
  MAP_WRITE: 0x2,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  INDEX: 0x10,
  VERTEX: 0x20,
  UNIFORM: 0x40,
  STORAGE: 0x80,
  INDIRECT: 0x100,
  QUERY_RESOLVE: 0x200,
};

/** Installs WebGPU's flag globals (GPUBufferUsage, GPUMapMode, GPUShaderStage) where any is missing or partial. */
export function installWebGPUGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  const complete = (name: string, values: Record<string, number>) => {
    const have = g[name] as Record<string, number> | undefined;
    if (!have || Object.keys(values).some((k) => have[k] !== values[k])) g[name] = { ...values };
  };
  complete('GPUBufferUsage', USAGE);
  complete('GPUMapMode', { READ: 0x1, WRITE: 0x2 });
  complete('GPUShaderStage', { VERTEX: 0x1, FRAGMENT: 0x2, COMPUTE: 0x4 });
}

export type TraceEvent =
  | {
      op: 'dispatch';
      module: string;
      entry: string;
      constants: [string, number][];
      bindings: Record<number, string>;
      workgroups: [number, number];
    }
  | { op: 'copy'; src: string; srcOffset: number; dst: string; dstOffset: number; size: number }
  | { op: 'pass' }
  | { op: 'submit' };

interface FakeBuffer {
  size: number;
  usage: number;
  label: string;
  mapState: GPUBufferMapState;
  role?: string;
  /** The bytes last written with queue.writeBuffer (kept for uniform buffers). */
  bytes?: Uint8Array;
}

interface FakePipeline {
  module: { label: string; code: string };
  entryPoint: string;
  constants: Record<string, number>;
}

type Entry = { binding: number; resource: GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number } };

/** Limits of a roomy desktop adapter: fixed, so that traces do not depend on the machine. */
export const FAKE_LIMITS = {
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 2 ** 31,
  maxBufferSize: 2 ** 31,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 64,
  maxStorageBuffersPerShaderStage: 10,
  maxBindGroups: 4,
  minStorageBufferOffsetAlignment: 256,
  minUniformBufferOffsetAlignment: 256,
};

/** A fake GPUDevice (`device`) and its trace. */
export class FakeGPU {
  private trace: TraceEvent[] = [];
  private labels = new Map<FakeBuffer, string>();
  private temps = 0;
  readonly device: GPUDevice;

  constructor() {
    installWebGPUGlobals();
    const queue = {
      writeBuffer: (buffer: GPUBuffer, offset: number, data: BufferSource, dataOffset = 0, size?: number) =>
        this.write(buffer as unknown as FakeBuffer, offset, data, dataOffset, size),
      submit: (buffers: { events: TraceEvent[] }[]) => {
        for (const b of buffers) this.trace.push(...b.events);
        this.trace.push({ op: 'submit' });
      },
      onSubmittedWorkDone: async () => {},
    };
    const device = {
      label: 'fake',
      limits: { ...FAKE_LIMITS },
      features: new Set<string>(),
      adapterInfo: { vendor: 'fake', architecture: 'fake', device: 'fake', description: 'a fake GPUDevice' },
      lost: new Promise<GPUDeviceLostInfo>(() => {}),
      queue,
      createBuffer: (d: GPUBufferDescriptor) => this.buffer(d.size, d.usage, d.label ?? ''),
      createShaderModule: (d: GPUShaderModuleDescriptor) => ({
        label: d.label ?? '',
        code: d.code,
        getCompilationInfo: async () => ({ messages: [] }),
      }),
      createComputePipeline: (d: GPUComputePipelineDescriptor): FakePipeline & { getBindGroupLayout(): object } => ({
        module: d.compute.module as unknown as FakePipeline['module'],
        entryPoint: d.compute.entryPoint ?? '',
        constants: { ...(d.compute.constants ?? {}) } as Record<string, number>,
        getBindGroupLayout: () => ({}),
      }),
      createBindGroup: (d: { entries: Iterable<Entry> }) => ({ entries: [...d.entries] }),
      createCommandEncoder: () => this.encoder(),
      createQuerySet: () => ({ destroy() {} }),
      pushErrorScope: () => {},
      popErrorScope: async () => null,
      destroy: () => {},
    };
    this.device = device as unknown as GPUDevice;
  }

  /** A buffer of the caller's, named by its role in the call (x, params.p1, grads.dx, …). */
  callerBuffer(role: string, size: number, usage: number): GPUBuffer {
    const b = this.buffer(size, usage, role) as unknown as FakeBuffer;
    b.role = role;
    return b as unknown as GPUBuffer;
  }

  /** Starts a new trace: labels of uploads and temporaries start afresh. */
  begin(): void {
    this.trace = [];
    this.labels.clear();
    this.temps = 0;
  }

  /** The events since {@link begin}. */
  end(): TraceEvent[] {
    const t = this.trace;
    this.trace = [];
    return t;
  }

  private buffer(size: number, usage: number, label: string): GPUBuffer {
    const b: FakeBuffer & Record<string, unknown> = { size, usage, label, mapState: 'unmapped' };
    b.mapAsync = async () => void (b.mapState = 'mapped');
    b.getMappedRange = (offset = 0, length?: number) => new ArrayBuffer(length ?? size - offset);
    b.unmap = () => void (b.mapState = 'unmapped');
    b.destroy = () => {};
    return b as unknown as GPUBuffer;
  }

  private write(b: FakeBuffer, offset: number, data: BufferSource, dataOffset: number, size?: number): void {
    const view = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data as ArrayBuffer);
    const elementBytes = ArrayBuffer.isView(data) ? ((data as Uint8Array).BYTES_PER_ELEMENT ?? 1) : 1;
    const start = dataOffset * elementBytes;
    const bytes = view.slice(start, size === undefined ? undefined : start + size * elementBytes);
    if (b.usage & USAGE.UNIFORM) b.bytes = bytes;
    else if (!b.role) this.labels.set(b, `in:${sha256(bytes).slice(0, 16)}${offset ? `@${offset}` : ''}`);
  }

  /** A buffer's label in this trace (see the file's comment). */
  private label(b: FakeBuffer): string {
    if (b.role) return b.role;
    if (b.usage & USAGE.UNIFORM) return `u:${Buffer.from(b.bytes ?? []).toString('hex')}`;
    let l = this.labels.get(b);
    if (l === undefined) this.labels.set(b, (l = `t${this.temps++}`));
    return l;
  }

  private binding(r: Entry['resource']): string {
    if (!('buffer' in r)) return this.label(r as unknown as FakeBuffer);
    const l = this.label(r.buffer as unknown as FakeBuffer);
    if (r.offset === undefined && r.size === undefined) return l;
    return `${l}[${r.offset ?? 0}:${r.size ?? 'end'}]`;
  }

  private encoder() {
    const events: TraceEvent[] = [];
    let pipeline: FakePipeline | undefined;
    let group: { entries: Entry[] } | undefined;
    const pass = {
      setPipeline: (p: FakePipeline) => void (pipeline = p),
      setBindGroup: (_: number, g: { entries: Entry[] }) => void (group = g),
      dispatchWorkgroups: (x: number, y = 1) => {
        const p = pipeline!;
        const entries = [...group!.entries].sort((a, b) => a.binding - b.binding);
        events.push({
          op: 'dispatch',
          module: `${p.module.label}@${sha256(p.module.code).slice(0, 16)}`,
          entry: p.entryPoint,
          constants: Object.entries(p.constants).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          bindings: Object.fromEntries(entries.map((e) => [e.binding, this.binding(e.resource)])),
          workgroups: [x, y],
        });
      },
      end: () => {},
    };
    return {
      beginComputePass: () => {
        events.push({ op: 'pass' });
        return pass;
      },
      copyBufferToBuffer: (src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number) =>
        events.push({
          op: 'copy',
          src: this.label(src as unknown as FakeBuffer),
          srcOffset,
          dst: this.label(dst as unknown as FakeBuffer),
          dstOffset,
          size,
        }),
      resolveQuerySet: () => {},
      finish: () => ({ events }),
    };
  }
}
