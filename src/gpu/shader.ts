/**
 * A WGSL kernel file and its interface, read from the WGSL itself: each kernel's bindings and uniform
 * fields are declared once, in its .wgsl file, and the TypeScript side binds buffers and packs
 * uniforms by name through this reflection (as webgpu-utils does), so a binding number or a uniform
 * field's position is written nowhere else. A name the WGSL does not declare, a uniform field left
 * out or one too many, throws (tests/node/kernels.test.ts runs every dispatcher path without a GPU).
 */
import type { Binding } from './context';

/** The scalar types a uniform field may have (a struct of 4-byte scalars, packed in order). */
export type UniformScalar = 'u32' | 'i32' | 'f32';

export interface BindingDecl {
  name: string;
  binding: number;
  /** 'uniform', 'read' or 'read_write'. */
  access: 'uniform' | 'read' | 'read_write';
  /** The WGSL type, e.g. 'array<f32>', 'Geometry'. */
  type: string;
}

/** What one entry point uses, with every function it calls: the resources a pipeline of it binds. */
export interface EntryInterface {
  /** Binding names, in binding order (the uniform included when the entry point reads it). */
  bindings: string[];
  /** Pipeline-overridable constants. */
  overrides: string[];
}

export interface ShaderInterface {
  /** Every `@group(0) @binding(n) var…` in declaration order. */
  bindings: BindingDecl[];
  /** The uniform struct's fields in order (binding 0). */
  uniform: { name: string; struct: string; fields: { name: string; type: UniformScalar }[] };
  /** Every `@compute` entry point by name. */
  entries: Map<string, EntryInterface>;
}

const stripComments = (code: string) => code.replace(/\/\/[^\n]*/g, '');

/**
 * Which module-scope names each entry point uses: a function's body is its text between matched braces;
 * its names are the identifiers in it that are not a member (after a '.') and not declared in it (its
 * parameters, let/var/const); the functions it calls are followed. (A pipeline with layout 'auto' has
 * exactly the bindings its entry point uses statically, and binding one more is a validation error, so
 * this tells what a dispatch must bind without a GPU: tests/node/kernels.test.ts checks every path.)
 */
function reflectEntries(src: string, bindings: readonly BindingDecl[]): Map<string, EntryInterface> {
  const fns = new Map<string, { compute: boolean; names: Set<string> }>();
  for (const m of src.matchAll(/(@compute[^;{]*?)?\bfn\s+(\w+)\s*\(/g)) {
    let depth = 0;
    let i = src.indexOf('{', m.index);
    const start = i;
    for (; i < src.length; i++) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}' && --depth === 0) break;
    }
    const text = src.slice(m.index + m[0].length - 1, i + 1); // parameters (from the "(") and body
    const local = new Set(
      [...text.matchAll(/(?:\b(?:let|var|const)\s+|[(,]\s*(?:@\w+\(\w+\)\s*)?)(\w+)\s*(?::|=(?!=))/g)].map(
        (d) => d[1]!,
      ),
    );
    const names = new Set(
      [...src.slice(start, i + 1).matchAll(/(?<![.\w])[A-Za-z_]\w*/g)].map((t) => t[0]).filter((t) => !local.has(t)),
    );
    for (const t of (m[1] ?? '').matchAll(/(?<![.\w])[A-Za-z_]\w*/g)) names.add(t[0]); // @workgroup_size(WG)
    fns.set(m[2]!, { compute: !!m[1], names });
  }
  // module-scope workgroup / private variables and constants: using one uses the names in its declaration
  for (const m of src.matchAll(/^\s*(?:var<(?:workgroup|private)>|const)\s+(\w+)([^;]*);/gm))
    fns.set(m[1]!, { compute: false, names: new Set([...m[2]!.matchAll(/(?<![.\w])[A-Za-z_]\w*/g)].map((t) => t[0])) });
  const overrides = [...src.matchAll(/\boverride\s+(\w+)/g)].map((o) => o[1]!);
  const entries = new Map<string, EntryInterface>();
  for (const [name, fn] of fns) {
    if (!fn.compute) continue;
    const used = new Set<string>();
    const visit = (f: string) => {
      for (const t of fns.get(f)!.names) {
        if (used.has(t)) continue;
        used.add(t);
        if (fns.has(t)) visit(t);
      }
    };
    visit(name);
    entries.set(name, {
      bindings: bindings.filter((b) => used.has(b.name)).map((b) => b.name),
      overrides: overrides.filter((o) => used.has(o)),
    });
  }
  return entries;
}

/** Reads the bindings and the uniform struct of a WGSL module (the subset this project writes). */
export function reflectWgsl(code: string): ShaderInterface {
  const src = stripComments(code);
  const bindings: BindingDecl[] = [];
  for (const m of src.matchAll(
    /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var(?:<([^>]*)>)?\s+(\w+)\s*:\s*([^;]+);/g,
  )) {
    const space = (m[2] ?? '').split(',').map((s) => s.trim());
    const access = space[0] === 'uniform' ? 'uniform' : space[1] === 'read_write' ? 'read_write' : 'read';
    bindings.push({ name: m[3]!, binding: Number(m[1]), access, type: m[4]!.trim() });
  }
  const uniforms = bindings.filter((b) => b.access === 'uniform');
  if (uniforms.length !== 1) throw new Error(`WGSL: expected one uniform binding, found ${uniforms.length}`);
  const u = uniforms[0]!;
  const body = new RegExp(`struct\\s+${u.type}\\s*\\{([^}]*)\\}`).exec(src)?.[1];
  if (body === undefined) throw new Error(`WGSL: no struct ${u.type} for the uniform ${u.name}`);
  const fields = body
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => {
      const [name, type] = f.split(':').map((s) => s.trim()) as [string, string];
      if (type !== 'u32' && type !== 'i32' && type !== 'f32')
        throw new Error(`WGSL: uniform field ${u.type}.${name} is a ${type}; only u32, i32 and f32 are packed`);
      return { name, type: type as UniformScalar };
    });
  return { bindings, uniform: { name: u.name, struct: u.type, fields }, entries: reflectEntries(src, bindings) };
}

/** A kernel file (its name keys the pipeline cache) with its reflected interface. */
export class Shader {
  readonly iface: ShaderInterface;
  private readonly numbers: Map<string, number>;

  constructor(
    readonly name: string,
    readonly code: string,
  ) {
    this.iface = reflectWgsl(code);
    this.numbers = new Map(this.iface.bindings.map((b) => [b.name, b.binding]));
  }

  /** Bindings by WGSL variable name → by binding number. */
  bind(buffers: Record<string, Binding>): Record<number, Binding> {
    const out: Record<number, Binding> = {};
    for (const [name, b] of Object.entries(buffers)) {
      const n = this.numbers.get(name);
      if (n === undefined || n === 0) throw new Error(`${this.name}.wgsl declares no storage binding '${name}'`);
      out[n] = b;
    }
    return out;
  }

  /**
   * The uniform struct packed from its fields by name: every field exactly once (4 bytes each, in
   * declaration order, the buffer padded to 16 bytes). u32 fields take non-negative integers.
   */
  uniforms(values: Record<string, number>): ArrayBuffer {
    const { fields, struct } = this.iface.uniform;
    const extra = Object.keys(values).filter((k) => !fields.some((f) => f.name === k));
    if (extra.length) throw new Error(`${this.name}.wgsl: struct ${struct} has no field ${extra.join(', ')}`);
    const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
    const view = new DataView(buf);
    fields.forEach(({ name, type }, i) => {
      const v = values[name];
      if (v === undefined) throw new Error(`${this.name}.wgsl: uniform field ${struct}.${name} not given`);
      if (type === 'f32') view.setFloat32(i * 4, v, true);
      else if (type === 'i32') view.setInt32(i * 4, v, true);
      else {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
          throw new RangeError(`${this.name}.wgsl: ${struct}.${name} is not a u32: ${v}`);
        view.setUint32(i * 4, v, true);
      }
    });
    return buf;
  }
}
