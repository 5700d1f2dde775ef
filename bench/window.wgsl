// The window roofline of ACON-FReLU's forward: what any kernel computing it from each output's 3×3
// window must at least do, and nothing more. NCHW, stride 1, W % 8 == 0, with acon_frelu.wgsl's
// forward_eval_strip walk (eight columns of a strip of STRIP rows per invocation, walking down; the
// window's rows kept in registers, one new row read per step as two aligned vec4s and their two
// neighbours): y = the sum of the nine taps with fixed weights. No parameters, no batch norm, no max,
// no σ. window_strip_cl4 does the same in NHWC (C % 4 == 0) with forward_eval_cl4_strip's walk (four
// pixels of four channels per invocation, one new row of six pixels read per step). The rows are read
// by the fused kernel's own row10 and pixels6 and summed by its taps_lo, taps_hi and taps_pixels
// (shaders/frelu_rows.wgsl, prepended).
// And the arithmetic roofline (arith_roofline): the eval forward's arithmetic per output with none
// of its window: the copy's loads and stores, nine multiply-adds, BN1's affine, and the kernel's own
// smooth_max4 (σ and BN2).

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4<f32>>;

override STRIP: u32 = 8u;

// A row's three taps with the fixed weights k·(1/4, 1/2, 1/4), through the fused kernel's own
// taps_lo and taps_hi (frelu_rows.wgsl).
fn fixed(k: f32) -> vec3<f32> {
  return vec3(0.25 * k, 0.5 * k, 0.25 * k);
}

@compute @workgroup_size(WG)
fn window_strip(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let Q = p.w / 8u;
  let strips = (p.h + STRIP - 1u) / STRIP;
  if (i >= p.n * p.c * strips * Q) { return; }
  let ow0 = 8u * (i % Q);
  let g = i / Q;
  let h0 = STRIP * (g % strips);
  let base = (g / strips) * p.h * p.w;
  var above = row10(base, h0 - 1u, ow0);
  var here = row10(base, h0, ow0);
  let end = min(h0 + STRIP, p.h);
  for (var oh = h0; oh < end; oh++) {
    let below = row10(base, oh + 1u, ow0);
    let o = (base + oh * p.w + ow0) / 4u;
    y4[o] = taps_lo(taps_lo(taps_lo(vec4(0.0), fixed(0.5), above), fixed(1.0), here), fixed(0.5), below);
    y4[o + 1u] = taps_hi(taps_hi(taps_hi(vec4(0.0), fixed(0.5), above), fixed(1.0), here), fixed(0.5), below);
    above = here;
    here = below;
  }
}

// A row's three taps with the fixed weights k·(1/4, 1/2, 1/4), through the fused kernel's own
// taps_pixels (frelu_rows.wgsl).
fn taps_fixed(a: Conv4, k: f32, r: Pixels6) -> Conv4 {
  let f = fixed(k);
  return taps_pixels(a, vec4(f.x), vec4(f.y), vec4(f.z), r);
}

@compute @workgroup_size(WG)
fn window_strip_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let U = p.c / 4u;
  let at = strip_cl4(global_index(wid, nwg, lid), U, 4u, p.w, p.h);
  if (!at.ok) { return; }
  let cu = at.cu;
  let ow0 = at.ow0;
  let h0 = at.h0;
  let n = at.n;
  var above = pixels6(n, h0 - 1u, ow0, cu, U);
  var here = pixels6(n, h0, ow0, cu, U);
  let end = min(h0 + STRIP, p.h);
  let zero = Conv4(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
  for (var oh = h0; oh < end; oh++) {
    let below = pixels6(n, oh + 1u, ow0, cu, U);
    let conv = taps_fixed(taps_fixed(taps_fixed(zero, 0.5, above), 1.0, here), 0.5, below);
    let o = ((n * p.h + oh) * p.w + ow0) * U + cu;
    y4[o] = conv.c0;
    if (ow0 + 1u < p.w) { y4[o + U] = conv.c1; }
    if (ow0 + 2u < p.w) { y4[o + 2u * U] = conv.c2; }
    if (ow0 + 3u < p.w) { y4[o + 3u * U] = conv.c3; }
    above = here;
    here = below;
  }
}

// The copy's grid (bench/roofline.wgsl): invocation lid of workgroup w takes vec4s
// w·WG·ITEMS + k·WG + lid, k < ITEMS, of the N·C·H·W/4.
override ITEMS: u32 = 16u;

// Per element of x (as vec4s): nine multiply-adds over lanes of the one vec4 loaded (roofline.wgsl's
// taps1), x2 = a1·t + b1, y = smooth_max4(x, x2, a2, b2): all of the eval forward's arithmetic per
// output. The weights k + j/128 (j = 0..8), a1 = 1 + k, b1 = −k, a2 = 1 − k and b2 = k come from the
// uniform (k = 1/8 + (C mod 8)/128), so nothing folds, and are exact in float32.
@compute @workgroup_size(WG)
fn arith_roofline(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let count4 = p.n * p.c * p.h * p.w / 4u;
  let first = workgroup_index(wid, nwg) * WG * ITEMS;
  let end = min(first + WG * ITEMS, count4);
  let k = 0.125 + f32(p.c & 7u) / 128.0;
  let step = 1.0 / 128.0;
  let a1 = vec4(1.0 + k);
  let b1 = vec4(-k);
  let a2 = vec4(1.0 - k);
  let b2 = vec4(k);
  for (var i = first + lid; i < end; i += WG) {
    let v = x4[i];
    var t = k * v.wxyz;
    t += (k + step) * v;
    t += (k + 2.0 * step) * v.yzwx;
    t += (k + 3.0 * step) * v.zwxy;
    t += (k + 4.0 * step) * v.yxwz;
    t += (k + 5.0 * step) * v.wzyx;
    t += (k + 6.0 * step) * v.xzyw;
    t += (k + 7.0 * step) * v.ywxz;
    t += (k + 8.0 * step) * v.zxwy;
    y4[i] = smooth_max4(v, a1 * t + b1, a2, b2);
  }
}
