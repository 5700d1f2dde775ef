/** A uniform field: a plain number is a u32, `{ f32: v }` a float. */
export type UniformField = number | { f32: number };

/**
 * Packs fields in order, 4 bytes each, into a buffer padded to 16 bytes, matching a WGSL struct
 * whose members are all u32/f32 scalars declared in the same order.
 */
export function packUniforms(fields: readonly UniformField[]): ArrayBuffer {
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const buf = new ArrayBuffer(bytes);
  const view = new DataView(buf);
  fields.forEach((f, i) => {
    if (typeof f === 'number') {
      if (!Number.isInteger(f) || f < 0 || f > 0xffffffff) throw new RangeError(`uniform field ${i} is not a u32: ${f}`);
      view.setUint32(i * 4, f, true);
    } else {
      view.setFloat32(i * 4, f.f32, true);
    }
  });
  return buf;
}
