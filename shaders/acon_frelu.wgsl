// ACON-FReLU (TFNet's Acon_FReLU), eval mode: both batch norms on their running statistics, so the
// whole activation is one pass, one invocation per output element [N, C, Ho, Wo] (NCHW or NHWC):
//   c  = Σ_taps w·x                     the 3×3 depthwise window, padding 1, stride s
//   x2 = a1·c + b1                      BN1 folded: a1 = γ1/√(rv1 + ε), b1 = β1 + a1·(bias − rm1)
//   x1 = x at the window's centre (s = 1), or the window's maximum (s = 2: the max pool 3×3 / 2 / 1
//        reads the conv's window)
//   d  = x1 − x2,  t = d·σ(d) + x2
//   y  = a2·t + b2                      BN2 folded: a2 = γ2/√(rv2 + ε), b2 = β2 − a2·rm2
// The window is read once for the conv and the pool. `params` packs the parameters in declaration
// order, C values each (the conv weight 9·C, [C, 1, 3, 3] row-major): weight, bias, bn1.{weight,
// bias, running_mean, running_var}, bn2.{…}; pack_conv_bn1 and pack_bn2 write it. A first, tiny dispatch (`fold`, one invocation per
// channel) writes `folded`: the 9 taps' weights tap-major ([9, C], so four channels' weights of a tap
// are one vec4), then a1, b1, a2, b2 ([4, C]).

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  ho: u32,
  wo: u32,
  stride: u32,
  channels_last: u32,
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

// d·σ(d) + x2 then BN2, for four channels: the activation after the window.
fn smooth_max4(x1: vec4<f32>, x2: vec4<f32>, a2: vec4<f32>, b2: vec4<f32>) -> vec4<f32> {
  let d = x1 - x2;
  let s = sigmoid_pair4(d).s;
  return a2 * (d * s + x2) + b2;
}

// NHWC with C % 4 == 0: one invocation per output pixel and four consecutive channels (unit cu of
// C/4), which load as vec4s: one division per four outputs, the folded parameters as vec4s.
@compute @workgroup_size(WG)
fn forward_eval_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let U = p.c / 4u;
  if (i >= p.n * p.ho * p.wo * U) { return; }
  let cu = i % U;
  let pix = i / U;
  let ow = pix % p.wo;
  let oh = (pix / p.wo) % p.ho;
  let n = pix / (p.wo * p.ho);
  let base = n * p.h * p.w * U + cu;
  let h0 = i32(oh * p.stride) - 1;
  let w0 = i32(ow * p.stride) - 1;
  var conv = vec4(0.0);
  var best = vec4(0.0);
  var first = true;
  for (var kh = 0; kh < 3; kh++) {
    let hh = h0 + kh;
    if (hh < 0 || hh >= i32(p.h)) { continue; }
    for (var kw = 0; kw < 3; kw++) {
      let ww = w0 + kw;
      if (ww < 0 || ww >= i32(p.w)) { continue; }
      let v = x4[base + (u32(hh) * p.w + u32(ww)) * U];
      conv += folded4[u32(kh * 3 + kw) * U + cu] * v;
      // per component, as the scalar kernel: a greater value (or NaN) replaces the best
      best = select(best, v, (v > best) | (v != v) | vec4(first));
      first = false;
    }
  }
  var x1 = best;
  if (p.stride == 1u) {
    x1 = x4[base + (oh * p.w + ow) * U];
  }
  let x2 = folded4[9u * U + cu] * conv + folded4[10u * U + cu];
  y4[i] = smooth_max4(x1, x2, folded4[11u * U + cu], folded4[12u * U + cu]);
}

// x's pixel (n·H + row, col) of channel unit cu as a vec4 (NHWC, U = C/4 units), zero outside the
// row (the conv's padding: a zero tap adds an exact zero).
fn pixel4(nrow: u32, col: i32, cu: u32, U: u32) -> vec4<f32> {
  if (col < 0 || col >= i32(p.w)) { return vec4(0.0); }
  return x4[(nrow * p.w + u32(col)) * U + cu];
}

// NHWC at stride 1 with C % 4 == 0: one invocation per four consecutive pixels of a row (a row's last
// group may be shorter) and four channels. Each of the window's rows is read as the six pixels the
// four windows span, shared: 18 vec4 loads for four outputs instead of 36, and one index
// decomposition for sixteen outputs. The taps are added in forward_eval_cl4's order.
@compute @workgroup_size(WG)
fn forward_eval_cl4_row4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let U = p.c / 4u;
  let Q = (p.w + 3u) / 4u;
  if (i >= p.n * p.h * Q * U) { return; }
  let cu = i % U;
  let g = i / U;
  let ow0 = 4u * (g % Q);
  let nrow = g / Q; // n·H + oh
  let oh = nrow % p.h;
  let w0 = i32(ow0) - 1;
  var c0 = vec4(0.0);
  var c1 = vec4(0.0);
  var c2 = vec4(0.0);
  var c3 = vec4(0.0);
  var centre = array<vec4<f32>, 4>();
  for (var kh = 0u; kh < 3u; kh++) {
    let hh = i32(oh + kh) - 1;
    if (hh < 0 || hh >= i32(p.h)) { continue; }
    let r = nrow + kh - 1u;
    let v0 = pixel4(r, w0, cu, U);
    let v1 = pixel4(r, w0 + 1, cu, U);
    let v2 = pixel4(r, w0 + 2, cu, U);
    let v3 = pixel4(r, w0 + 3, cu, U);
    let v4 = pixel4(r, w0 + 4, cu, U);
    let v5 = pixel4(r, w0 + 5, cu, U);
    let k0 = folded4[3u * kh * U + cu];
    let k1 = folded4[(3u * kh + 1u) * U + cu];
    let k2 = folded4[(3u * kh + 2u) * U + cu];
    c0 = ((c0 + k0 * v0) + k1 * v1) + k2 * v2;
    c1 = ((c1 + k0 * v1) + k1 * v2) + k2 * v3;
    c2 = ((c2 + k0 * v2) + k1 * v3) + k2 * v4;
    c3 = ((c3 + k0 * v3) + k1 * v4) + k2 * v5;
    if (kh == 1u) {
      centre = array(v1, v2, v3, v4);
    }
  }
  var convs = array(c0, c1, c2, c3);
  let a1 = folded4[9u * U + cu];
  let b1 = folded4[10u * U + cu];
  let a2 = folded4[11u * U + cu];
  let b2 = folded4[12u * U + cu];
  for (var k = 0u; k < 4u; k++) {
    if (ow0 + k < p.w) {
      y4[(nrow * p.w + ow0 + k) * U + cu] = smooth_max4(centre[k], a1 * convs[k] + b1, a2, b2);
    }
  }
}

// NCHW at stride 1 with W % 4 == 0: one invocation per four consecutive outputs of a row (a vec4
// store; the parameters are one channel's). Each of the window's rows is read as one aligned vec4
// and its two neighbours, from which the three taps' vec4s are formed: 6 values read per row for
// four outputs instead of 12. The taps are added in the scalar kernel's order (a padding tap adds
// an exact zero).
@compute @workgroup_size(WG)
fn forward_eval_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let Q = p.w / 4u;
  if (i >= p.n * p.c * p.h * Q) { return; }
  let C = p.c;
  let ow0 = 4u * (i % Q);
  let row = i / Q;
  let oh = row % p.h;
  let plane = row / p.h;
  let c = plane % C;
  let base = plane * p.h * p.w;
  var conv = vec4(0.0);
  var centre = vec4(0.0);
  for (var kh = 0u; kh < 3u; kh++) {
    let hh = i32(oh + kh) - 1;
    if (hh < 0 || hh >= i32(p.h)) { continue; }
    let r = base + u32(hh) * p.w;
    let mid = x4[(r + ow0) / 4u];
    let before = select(0.0, x[r + max(ow0, 1u) - 1u], ow0 > 0u);
    let after = select(0.0, x[r + min(ow0 + 4u, p.w - 1u)], ow0 + 4u < p.w);
    conv += folded_in[3u * kh * C + c] * vec4(before, mid.xyz);
    conv += folded_in[(3u * kh + 1u) * C + c] * mid;
    conv += folded_in[(3u * kh + 2u) * C + c] * vec4(mid.yzw, after);
    if (kh == 1u) {
      centre = mid;
    }
  }
  let x2 = folded_in[9u * C + c] * conv + folded_in[10u * C + c];
  y4[i] = smooth_max4(centre, x2, vec4(folded_in[11u * C + c]), vec4(folded_in[12u * C + c]));
}

@compute @workgroup_size(WG)
fn forward_eval(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let C = p.c;
  if (i >= p.n * C * p.ho * p.wo) { return; }
  var n: u32;
  var c: u32;
  var oh: u32;
  var ow: u32;
  // x's strides: channel, row, column, sample
  var sc: u32;
  var sw: u32;
  if (p.channels_last != 0u) {
    c = i % C;
    let pix = i / C;
    ow = pix % p.wo;
    oh = (pix / p.wo) % p.ho;
    n = pix / (p.wo * p.ho);
    sc = 1u;
    sw = C;
  } else {
    ow = i % p.wo;
    oh = (i / p.wo) % p.ho;
    let plane = i / (p.wo * p.ho);
    c = plane % C;
    n = plane / C;
    sc = p.h * p.w;
    sw = 1u;
  }
  let sh = sw * p.w;
  let base = n * C * p.h * p.w + c * sc;
  let h0 = i32(oh * p.stride) - 1;
  let w0 = i32(ow * p.stride) - 1;
  var conv = 0.0;
  var best = 0.0;
  var first = true;
  for (var kh = 0; kh < 3; kh++) {
    let hh = h0 + kh;
    if (hh < 0 || hh >= i32(p.h)) { continue; }
    for (var kw = 0; kw < 3; kw++) {
      let ww = w0 + kw;
      if (ww < 0 || ww >= i32(p.w)) { continue; }
      let v = x[base + u32(hh) * sh + u32(ww) * sw];
      conv += folded_in[u32(kh * 3 + kw) * C + c] * v;
      // PyTorch's max pool: a greater value (or NaN) replaces the best, so the first maximum wins
      if (first || v > best || v != v) {
        best = v;
      }
      first = false;
    }
  }
  var x1 = best;
  if (p.stride == 1u) {
    x1 = x[base + oh * sh + ow * sw];
  }
  let x2 = folded_in[9u * C + c] * conv + folded_in[10u * C + c];
  let d = x1 - x2;
  let t = d * sigmoid(d) + x2;
  y[i] = folded_in[11u * C + c] * t + folded_in[12u * C + c];
}
