import code from './roofline.wgsl?raw';
import windowCode from './window.wgsl?raw';
import type { GpuContext, Recorder } from '../src/gpu/context';
import { Shader } from '../src/gpu/shader';
import { forwardSliceElements, sliceWorkgroup, WGSL_PRELUDE } from '../src/kernels/plan';
import * as frelu from '../src/activations/aconFRelu/kernels';

export const ROOFLINE_SHADER = new Shader('roofline', WGSL_PRELUDE + code);

/**
 * The copy's grid over `count4` vec4s: the ACON kernels' workgroup size and slice on this adapter (on
 * SwiftShader also the fastest copy measured: 8 × 128 vec4s against 64 × 16, about 10 % less time),
 * as the pipeline constants WG and ITEMS, and the workgroups that cover count4. The copy, taps and
 * arithmetic rooflines all run on it.
 */
function copyGrid(software: boolean, count4: number) {
  const wg = sliceWorkgroup(software);
  const items = forwardSliceElements(software) / 4 / wg;
  return { constants: { WG: wg, ITEMS: items }, workgroups: Math.ceil(count4 / (wg * items)) };
}

/**
 * Records a copy kernel that reads `inputs` (1 to 3 buffers of `count` float32, count a multiple of 4)
 * and writes `output`: the memory traffic of an elementwise op with nothing computed.
 */
export function encodeCopyRoofline(
  ctx: GpuContext,
  batch: Recorder,
  inputs: GPUBuffer[],
  output: GPUBuffer,
  count: number,
): void {
  if (inputs.length < 1 || inputs.length > 3) throw new RangeError('roofline takes 1 to 3 inputs');
  const count4 = Math.ceil(count / 4);
  const bytes = count4 * 16;
  const bindings: Record<string, { buffer: GPUBuffer; size: number }> = { y: { buffer: output, size: bytes } };
  inputs.forEach((b, i) => (bindings['abc'[i]!] = { buffer: b, size: bytes }));
  const grid = copyGrid(ctx.software, count4);
  batch.dispatch(
    ctx.pipeline(ROOFLINE_SHADER, `copy${inputs.length}`, grid.constants),
    ROOFLINE_SHADER.uniforms({ count4 }),
    ROOFLINE_SHADER.bind(bindings),
    grid.workgroups,
  );
}

/**
 * Records the copy roofline with nine multiply-adds per element (roofline.wgsl's taps1): x into y,
 * `count` float32 (a multiple of 4), on the copy's grid. The arithmetic of a 3×3 window per output
 * with none of its loads: under this no kernel computing ACON-FReLU's depthwise conv can go.
 */
export function encodeTapsRoofline(ctx: GpuContext, batch: Recorder, x: GPUBuffer, y: GPUBuffer, count: number): void {
  const count4 = Math.ceil(count / 4);
  const grid = copyGrid(ctx.software, count4);
  batch.dispatch(
    ctx.pipeline(ROOFLINE_SHADER, 'taps1', grid.constants),
    ROOFLINE_SHADER.uniforms({ count4 }),
    ROOFLINE_SHADER.bind({ a: { buffer: x, size: count4 * 16 }, y: { buffer: y, size: count4 * 16 } }),
    grid.workgroups,
  );
}

export const WINDOW_SHADER = new Shader('window', WGSL_PRELUDE + frelu.FRELU_ROWS_WGSL + windowCode);

/**
 * Records the window roofline of ACON-FReLU's forward (bench/window.wgsl): x [N, C, H, W] in
 * `dataFormat` into y of the same shape, each output the weighted sum of its 3×3 window, with the
 * fused kernel's strip walk and strip length for that format: NCHW with W % 8 == 0, NHWC with C % 4 == 0.
 */
export function encodeWindowRoofline(
  ctx: GpuContext,
  batch: Recorder,
  x: GPUBuffer,
  y: GPUBuffer,
  [n, c, h, w]: readonly [number, number, number, number],
  dataFormat: 'NCHW' | 'NHWC' = 'NCHW',
): void {
  const nhwc = dataFormat === 'NHWC';
  if (nhwc ? c % 4 !== 0 : w % 8 !== 0)
    throw new RangeError(`the window roofline takes ${nhwc ? 'C % 4 == 0 in NHWC' : 'W % 8 == 0 in NCHW'}`);
  const grid = frelu.stripGrid(ctx.software, h, nhwc ? n * Math.ceil(w / 4) * (c / 4) : n * c * (w / 8));
  batch.dispatch(
    ctx.pipeline(WINDOW_SHADER, nhwc ? 'window_strip_cl4' : 'window_strip', { WG: 64, STRIP: grid.rows }),
    WINDOW_SHADER.uniforms({ n, c, h, w }),
    WINDOW_SHADER.bind(nhwc ? { x4: x, y4: y } : { x, x4: x, y4: y }),
    Math.ceil(grid.invocations / 64),
  );
}

/**
 * Records the arithmetic roofline of ACON-FReLU's eval forward (bench/window.wgsl's arith_roofline):
 * x [N, C, H, W] into y, each element through the forward's whole arithmetic per output (nine
 * multiply-adds, BN1's affine, σ and BN2 by the kernel's own smooth_max4) with none of its window
 * loads, on the copy's grid: what the arithmetic costs where the loads cost as little as a copy's.
 * Not a strict floor: a strip walk spends less per element on its loop than the copy's grid does
 * (on SwiftShader the fused NCHW forward measures at or just under it).
 */
export function encodeArithRoofline(
  ctx: GpuContext,
  batch: Recorder,
  x: GPUBuffer,
  y: GPUBuffer,
  [n, c, h, w]: readonly [number, number, number, number],
): void {
  const count = n * c * h * w;
  if (count % 4 !== 0) throw new RangeError('the arithmetic roofline takes N·C·H·W % 4 == 0');
  const grid = copyGrid(ctx.software, count / 4);
  batch.dispatch(
    ctx.pipeline(WINDOW_SHADER, 'arith_roofline', grid.constants),
    WINDOW_SHADER.uniforms({ n, c, h, w }),
    WINDOW_SHADER.bind({ x4: x, y4: y }),
    grid.workgroups,
  );
}
