// The window roofline of ACON-FReLU's forward: what any kernel computing it from each output's 3×3
// window must at least do, and nothing more. NCHW, stride 1, W % 4 == 0, with acon_frelu.wgsl's
// forward_eval_rows4 walk (four outputs of a row per invocation; each window row read as an aligned
// vec4 and its two neighbours): y = the sum of the nine taps with fixed weights. No parameters, no
// batch norm, no max, no σ.

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

@compute @workgroup_size(WG)
fn window_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let Q = p.w / 4u;
  if (i >= p.n * p.c * p.h * Q) { return; }
  let ow0 = 4u * (i % Q);
  let row = i / Q;
  let oh = row % p.h;
  let base = (row / p.h) * p.h * p.w;
  var conv = vec4(0.0);
  for (var kh = 0u; kh < 3u; kh++) {
    let hh = i32(oh + kh) - 1;
    if (hh < 0 || hh >= i32(p.h)) { continue; }
    let r = base + u32(hh) * p.w;
    let mid = x4[(r + ow0) / 4u];
    let before = select(0.0, x[r + max(ow0, 1u) - 1u], ow0 > 0u);
    let after = select(0.0, x[r + min(ow0 + 4u, p.w - 1u)], ow0 + 4u < p.w);
    conv += 0.25 * vec4(before, mid.xyz);
    conv += 0.5 * mid;
    conv += 0.25 * vec4(mid.yzw, after);
  }
  y4[i] = conv;
}
