// ACON-FReLU (TFNet's Acon_FReLU), eval mode: both batch norms on their running statistics, so the
// whole activation is one pass over the output [N, C, Ho, Wo] (NCHW or NHWC), each invocation
// walking down a strip of rows of a few outputs (the entry points below say which):
//   c  = Σ_taps w·x                     the 3×3 depthwise window, padding 1, stride s
//   x2 = a1·c + b1                      BN1 folded: a1 = γ1/√(rv1 + ε), b1 = β1 + a1·(bias − rm1)
//   x1 = x at the window's centre (s = 1), or the window's maximum (s = 2: the max pool 3×3 / 2 / 1
//        reads the conv's window)
//   d  = x1 − x2,  t = d·σ(d) + x2
//   y  = a2·t + b2                      BN2 folded: a2 = γ2/√(rv2 + ε), b2 = β2 − a2·rm2
// The window is read once for the conv and the pool. `params` packs the parameters in declaration
// order, C values each (the conv weight 9·C, [C, 1, 3, 3] row-major): weight, bias, bn1.{weight,
// bias, running_mean, running_var}, bn2.{…}; pack_conv_bn1 and pack_bn2 write it. A first, tiny
// dispatch (`fold`, one invocation per channel) writes `folded`: the 9 taps' weights tap-major
// ([9, C], so four channels' weights of a tap are one vec4), then a1, b1, a2, b2 ([4, C]).
// The strip walks read x's rows, place their invocations and sum their windows through
// frelu_rows.wgsl, prepended to this file.

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  ho: u32,
  wo: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> folded: array<f32>;
@group(0) @binding(5) var<storage, read> folded_in: array<f32>;
@group(0) @binding(6) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> folded4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> y4: array<vec4<f32>>;
// the parameters as the caller holds them, for pack_conv_bn1 and pack_bn2 (at most 8 storage
// bindings per dispatch: two dispatches), and `packed`, which they write (params' layout)
@group(0) @binding(9) var<storage, read> conv_weight: array<f32>;
@group(0) @binding(10) var<storage, read> conv_bias: array<f32>;
@group(0) @binding(11) var<storage, read> bn1_weight: array<f32>;
@group(0) @binding(12) var<storage, read> bn1_bias: array<f32>;
@group(0) @binding(13) var<storage, read> bn1_mean: array<f32>;
@group(0) @binding(14) var<storage, read> bn1_var: array<f32>;
@group(0) @binding(15) var<storage, read> bn2_weight: array<f32>;
@group(0) @binding(16) var<storage, read> bn2_bias: array<f32>;
@group(0) @binding(17) var<storage, read> bn2_mean: array<f32>;
@group(0) @binding(18) var<storage, read> bn2_var: array<f32>;
@group(0) @binding(19) var<storage, read_write> packed: array<f32>;

// The parameter `k` (0 bias, 1..4 bn1, 5..8 bn2) of channel c.
fn param(k: u32, c: u32) -> f32 {
  return params[(9u + k) * p.c + c];
}

// One invocation per channel: the conv's parameters and BN1's into `packed` (kernels bind the
// caller's buffers with STORAGE usage alone: no buffer copies).
@compute @workgroup_size(WG)
fn pack_conv_bn1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let c = global_index(wid, nwg, lid);
  let C = p.c;
  if (c >= C) { return; }
  for (var k = 0u; k < 9u; k++) { packed[c * 9u + k] = conv_weight[c * 9u + k]; }
  packed[9u * C + c] = conv_bias[c];
  packed[10u * C + c] = bn1_weight[c];
  packed[11u * C + c] = bn1_bias[c];
  packed[12u * C + c] = bn1_mean[c];
  packed[13u * C + c] = bn1_var[c];
}

// BN2's parameters into `packed`.
@compute @workgroup_size(WG)
fn pack_bn2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let c = global_index(wid, nwg, lid);
  let C = p.c;
  if (c >= C) { return; }
  packed[14u * C + c] = bn2_weight[c];
  packed[15u * C + c] = bn2_bias[c];
  packed[16u * C + c] = bn2_mean[c];
  packed[17u * C + c] = bn2_var[c];
}

@compute @workgroup_size(WG)
fn fold(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = global_index(wid, nwg, lid);
  let C = p.c;
  if (c >= C) { return; }
  for (var k = 0u; k < 9u; k++) { folded[k * C + c] = params[c * 9u + k]; }
  let a1 = param(1u, c) * inverseSqrt(param(4u, c) + p.eps);
  let a2 = param(5u, c) * inverseSqrt(param(8u, c) + p.eps);
  folded[9u * C + c] = a1;
  folded[10u * C + c] = param(2u, c) + a1 * (param(0u, c) - param(3u, c));
  folded[11u * C + c] = a2;
  folded[12u * C + c] = param(6u, c) - a2 * param(7u, c);
}

// NHWC at stride 1 with C % 4 == 0: one invocation per four channels of four consecutive pixels (a
// row's last group may be shorter) of a strip of STRIP rows, walking down: the window's three rows
// stay in registers and each step reads one new row's six pixels, 6 vec4 loads per sixteen outputs.
// Invocations as frelu_rows.wgsl's strip_cl4 places them.
@compute @workgroup_size(WG)
fn forward_eval_cl4_strip(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
  let U = p.c / 4u;
  let at = strip_cl4(global_index(wid, nwg, lid), U, 4u, p.w, p.h);
  if (!at.ok) { return; }
  let cu = at.cu;
  let ow0 = at.ow0;
  let h0 = at.h0;
  let n = at.n;
  let k00 = folded4[cu];
  let k01 = folded4[U + cu];
  let k02 = folded4[2u * U + cu];
  let k10 = folded4[3u * U + cu];
  let k11 = folded4[4u * U + cu];
  let k12 = folded4[5u * U + cu];
  let k20 = folded4[6u * U + cu];
  let k21 = folded4[7u * U + cu];
  let k22 = folded4[8u * U + cu];
  let a1 = folded4[9u * U + cu];
  let b1 = folded4[10u * U + cu];
  let a2 = folded4[11u * U + cu];
  let b2 = folded4[12u * U + cu];
  var above = pixels6(n, h0 - 1u, ow0, cu, U);
  var here = pixels6(n, h0, ow0, cu, U);
  let end = min(h0 + STRIP, p.h);
  let zero = Conv4(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
  for (var oh = h0; oh < end; oh++) {
    let below = pixels6(n, oh + 1u, ow0, cu, U);
    let conv = taps_pixels(taps_pixels(taps_pixels(zero, k00, k01, k02, above), k10, k11, k12, here), k20, k21, k22, below);
    let o = ((n * p.h + oh) * p.w + ow0) * U + cu;
    y4[o] = smooth_max4(here.v1, a1 * conv.c0 + b1, a2, b2);
    if (ow0 + 1u < p.w) { y4[o + U] = smooth_max4(here.v2, a1 * conv.c1 + b1, a2, b2); }
    if (ow0 + 2u < p.w) { y4[o + 2u * U] = smooth_max4(here.v3, a1 * conv.c2 + b1, a2, b2); }
    if (ow0 + 3u < p.w) { y4[o + 3u * U] = smooth_max4(here.v4, a1 * conv.c3 + b1, a2, b2); }
    above = here;
    here = below;
  }
}

// A channel's folded parameters (`folded`): the taps' weights by kernel row, BN1's a1, b1 and BN2's
// a2, b2 (as vec4s, for four outputs at a time).
struct FoldedChannel {
  k0: vec3<f32>,
  k1: vec3<f32>,
  k2: vec3<f32>,
  a1: f32,
  b1: f32,
  a2: vec4<f32>,
  b2: vec4<f32>,
}

fn folded_channel(c: u32) -> FoldedChannel {
  let C = p.c;
  return FoldedChannel(vec3(folded_in[c], folded_in[C + c], folded_in[2u * C + c]),
                       vec3(folded_in[3u * C + c], folded_in[4u * C + c], folded_in[5u * C + c]),
                       vec3(folded_in[6u * C + c], folded_in[7u * C + c], folded_in[8u * C + c]),
                       folded_in[9u * C + c], folded_in[10u * C + c], vec4(folded_in[11u * C + c]),
                       vec4(folded_in[12u * C + c]));
}

// NCHW at stride 1 with W % 4 == 0: one invocation per eight consecutive columns (four at a row's
// end when W % 8 == 4) of STRIP rows of a plane, walking down the rows: the window's three rows stay
// in registers and each step reads one new row (two aligned vec4s and their two neighbours), 10
// values per eight outputs instead of 54, the channel's parameters once per strip. The taps are added
// row by row, left to right, as in every walk here (a padding tap adds an exact zero). Invocations
// take the column groups fastest, then the strips, then the planes.
override STRIP: u32 = 8u;

@compute @workgroup_size(WG)
fn forward_eval_strip(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let Q = (p.w + 7u) / 8u;
  let strips = (p.h + STRIP - 1u) / STRIP;
  if (i >= p.n * p.c * strips * Q) { return; }
  let C = p.c;
  let ow0 = 8u * (i % Q);
  let g = i / Q;
  let h0 = STRIP * (g % strips);
  let plane = g / strips;
  let c = plane % C;
  let base = plane * p.h * p.w;
  let f = folded_channel(c);
  let two = ow0 + 4u < p.w;
  // h0 − 1 wraps past the last row when h0 == 0: row10 reads it as padding
  var above = row10(base, h0 - 1u, ow0);
  var here = row10(base, h0, ow0);
  let end = min(h0 + STRIP, p.h);
  for (var oh = h0; oh < end; oh++) {
    let below = row10(base, oh + 1u, ow0);
    let lo = taps_lo(taps_lo(taps_lo(vec4(0.0), f.k0, above), f.k1, here), f.k2, below);
    let o = (base + oh * p.w + ow0) / 4u;
    y4[o] = smooth_max4(here.m0, f.a1 * lo + f.b1, f.a2, f.b2);
    if (two) {
      let hi = taps_hi(taps_hi(taps_hi(vec4(0.0), f.k0, above), f.k1, here), f.k2, below);
      y4[o + 1u] = smooth_max4(here.m1, f.a1 * hi + f.b1, f.a2, f.b2);
    }
    above = here;
    here = below;
  }
}

// Stride 1 where the vec4 walks do not apply (NHWC with C % 4 != 0, NCHW with W % 4 != 0): one
// invocation per channel of eight consecutive columns (fewer at a row's end) of a strip of STRIP
// rows, walking down as forward_eval_strip does but with scalar loads, ten per row
// (frelu_rows.wgsl's row10_any), so any C and W; invocations as strip_any places them. The same
// taps, order and activation as the vec4 walks.
@compute @workgroup_size(WG)
fn forward_eval_strip_any(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
  let at = strip_any(global_index(wid, nwg, lid), 8u, p.w, p.h, CHANNELS_LAST);
  if (!at.ok) { return; }
  let f = folded_channel(at.c);
  // at.h0 − 1 wraps past the last row when at.h0 == 0: row10_any reads it as padding
  var above = row10_any(at.base, at.h0 - 1u, at.ow0, at.sw);
  var here = row10_any(at.base, at.h0, at.ow0, at.sw);
  let end = min(at.h0 + STRIP, p.h);
  for (var oh = at.h0; oh < end; oh++) {
    let below = row10_any(at.base, oh + 1u, at.ow0, at.sw);
    let lo = smooth_max4(here.m0, f.a1 * taps_lo(taps_lo(taps_lo(vec4(0.0), f.k0, above), f.k1, here), f.k2, below) + f.b1, f.a2, f.b2);
    let hi = smooth_max4(here.m1, f.a1 * taps_hi(taps_hi(taps_hi(vec4(0.0), f.k0, above), f.k1, here), f.k2, below) + f.b1, f.a2, f.b2);
    let o = at.base + (oh * p.w + at.ow0) * at.sw;
    y[o] = lo.x;
    if (at.ow0 + 1u < p.w) { y[o + at.sw] = lo.y; }
    if (at.ow0 + 2u < p.w) { y[o + 2u * at.sw] = lo.z; }
    if (at.ow0 + 3u < p.w) { y[o + 3u * at.sw] = lo.w; }
    if (at.ow0 + 4u < p.w) { y[o + 4u * at.sw] = hi.x; }
    if (at.ow0 + 5u < p.w) { y[o + 5u * at.sw] = hi.y; }
    if (at.ow0 + 6u < p.w) { y[o + 6u * at.sw] = hi.z; }
    if (at.ow0 + 7u < p.w) { y[o + 7u * at.sw] = hi.w; }
    above = here;
    here = below;
  }
}

// Stride 2 (the conv's and the max pool's), any C and W, either layout: one invocation per channel
// of four consecutive output columns (fewer at a row's end) of a strip of STRIP output rows, walking
// down: an output row's windows read input rows 2·oh − 1 .. 2·oh + 1, so each step loads two new rows
// (nine scalars each, frelu_rows.wgsl's row9_any) and keeps the third from the step before, 4.5 loads
// per output instead of nine. Invocations as strip_any places them (over Ho × Wo).
@compute @workgroup_size(WG)
fn forward_eval_strip2_any(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                           @builtin(local_invocation_index) lid: u32) {
  let at = strip_any(global_index(wid, nwg, lid), 4u, p.wo, p.ho, CHANNELS_LAST);
  if (!at.ok) { return; }
  let out = strip_out(at, p.ho * p.wo, CHANNELS_LAST);
  let f = folded_channel(at.c);
  let ok = pool_columns(at.ow0);
  // 2·at.h0 − 1 wraps past the last row when at.h0 == 0: row9_any reads it as padding
  var above = row9_any(at.base, 2u * at.h0 - 1u, at.ow0, at.sw);
  let end = min(at.h0 + STRIP, p.ho);
  for (var oh = at.h0; oh < end; oh++) {
    let here = row9_any(at.base, 2u * oh, at.ow0, at.sw);
    let below = row9_any(at.base, 2u * oh + 1u, at.ow0, at.sw);
    let win = pool_window(f.k0, f.k1, f.k2, above, here, below, ok);
    let v = smooth_max4(win.best, f.a1 * win.conv + f.b1, f.a2, f.b2);
    let o = out + (oh * p.wo + at.ow0) * at.sw;
    y[o] = v.x;
    if (at.ow0 + 1u < p.wo) { y[o + at.sw] = v.y; }
    if (at.ow0 + 2u < p.wo) { y[o + 2u * at.sw] = v.z; }
    if (at.ow0 + 3u < p.wo) { y[o + 3u * at.sw] = v.w; }
    above = below;
  }
}

// The layout of forward_eval_strip_any and forward_eval_strip2_any, as a pipeline constant:
// SwiftShader pays for both sides of a branch on a uniform.
override CHANNELS_LAST: bool = false;
