// Copy rooflines for the benchmarks: kernels that move exactly the bytes an ACON op must move
// (read `inputs` tensors, write one) and compute nothing else, on the same device and grid.
//   copy1: y = x           (8 bytes per element: the forward pass)
//   copy2: y = x + dy      (12 bytes per element: the backward pass)
//   copy3: y = x + a + b   (16 bytes per element)
//   taps1: copy1 with nine multiply-adds per element: the arithmetic of a 3×3 depthwise conv per
//          output on values already in registers (no window loads), ACON-FReLU's floor

override ITEMS: u32 = 16;  // vec4s per invocation, as many as the ACON kernels take on this device

struct Params { count4: u32 }

@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> c: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

// Invocation lid of workgroup w copies vec4s w·WG·ITEMS + k·WG + lid, k < ITEMS (coalesced).
fn first(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return workgroup_index(wid, nwg) * WG * ITEMS + lid;
}

@compute @workgroup_size(WG)
fn copy1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let end = min(first(wid, nwg, 0u) + WG * ITEMS, u.count4);
  for (var i = first(wid, nwg, lid); i < end; i += WG) { y[i] = a[i]; }
}

@compute @workgroup_size(WG)
fn copy2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let end = min(first(wid, nwg, 0u) + WG * ITEMS, u.count4);
  for (var i = first(wid, nwg, lid); i < end; i += WG) { y[i] = a[i] + b[i]; }
}

@compute @workgroup_size(WG)
fn copy3(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let end = min(first(wid, nwg, 0u) + WG * ITEMS, u.count4);
  for (var i = first(wid, nwg, lid); i < end; i += WG) { y[i] = a[i] + b[i] + c[i]; }
}

// Nine multiply-adds per element with runtime weights (derived from the uniform, so nothing folds),
// the nine taps standing for lanes of the one vec4 loaded: no loads beyond copy1's.
@compute @workgroup_size(WG)
fn taps1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let end = min(first(wid, nwg, 0u) + WG * ITEMS, u.count4);
  let k = 0.1 + 0.01 * f32(u.count4 & 7u);
  for (var i = first(wid, nwg, lid); i < end; i += WG) {
    let v = a[i];
    var t = k * v.wxyz;
    t += (k + 0.01) * v;
    t += (k + 0.02) * v.yzwx;
    t += (k + 0.03) * v.zwxy;
    t += (k + 0.04) * v.yxwz;
    t += (k + 0.05) * v.wzyx;
    t += (k + 0.06) * v.xzyw;
    t += (k + 0.07) * v.ywxz;
    t += (k + 0.08) * v.zxwy;
    y[i] = t;
  }
}
