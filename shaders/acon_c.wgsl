// ACON-C, fused: y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x on float32 tensors (NCHW or NHWC, given
// by strides), p1 and p2 per channel, β per channel or per (sample, channel) for Meta-ACON.
//
// The math, once (the reference in src/reference/aconC.ts writes the same formulas):
//   d = (p1 − p2)·x,  z = β·d,  s = σ(z),  s̄ = σ(−z) = 1 − s,  q = s·s̄ = σ'(z)
//   y      = d·s + p2·x                     = x·(p1·s + p2·s̄)          (since 1 − s = s̄)
//   ∂y/∂p1 = x·s + d·σ'(z)·β·x              = x·(s + z·q)  =: x·a
//   ∂y/∂p2 = x − ∂y/∂p1                     = x·(s̄ − z·q)  =: x·b      (1 − s − z·q = s̄ − z·q)
//   ∂y/∂x  = (p1 − p2)·(s + β·d·q) + p2     = p1·a + p2·b
//   ∂y/∂β  = d·σ'(z)·d                      = d²·q
// The symmetric forms never subtract nearly equal numbers: s, s̄ and q come from e = exp(−|z|) ≤ 1,
// so nothing overflows for large |z| and 1 − s is never formed by cancellation.
//
// Entry points (the dispatcher picks them, src/kernels/aconC.ts):
//   forward          one invocation per element, any layout
//   forward_rows4    NCHW with H·W a multiple of 4: vec4 loads along each (n, c) plane
//   backward         dx per element and, per workgroup, partial sums of dp1, dp2, dβ for one channel
//   backward_rows4   the same with vec4 loads (NCHW, H·W a multiple of 4)
//   backward_finish  per channel: sums the partials in a fixed order (deterministic, no atomics)

override WG: u32 = 256;   // workgroup size (the dispatcher sets it)

struct Geometry {
  count: u32,            // forward: elements; forward_rows4: planes (rows)
  batch: u32,            // N
  channels: u32,         // C
  plane: u32,            // H·W (in vec4s for the *_rows4 entry points)
  stride_n: u32,         // element strides: NCHW (C·H·W, H·W, 1), NHWC (H·W·C, 1, C)
  stride_c: u32,
  stride_hw: u32,
  beta_per_sample: u32,  // 0: β[c]; 1: β[n·C + c]
  slices: u32,           // backward: workgroups (slices) per channel
  planes_per_slice: u32, // backward: samples a slice covers
  chunks_per_plane: u32, // backward: slices a plane is cut into (1 when planes_per_slice > 1)
  chunk: u32,            // backward: elements (vec4s) of a plane per slice; forward_rows4: vec4s per workgroup
}

@group(0) @binding(0) var<uniform> g: Geometry;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> p1: array<f32>;
@group(0) @binding(3) var<storage, read> p2: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
// partials[(c·slices + slice)·3 + k], k: 0 dp1, 1 dp2, 2 dβ
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;
@group(0) @binding(9) var<storage, read_write> dp1: array<f32>;
@group(0) @binding(10) var<storage, read_write> dp2: array<f32>;
@group(0) @binding(12) var<storage, read_write> dbeta: array<f32>;
// vec4 views of the same tensors, for the *_rows4 entry points
@group(0) @binding(11) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> y4: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(17) var<storage, read_write> dx4: array<vec4<f32>>;

var<workgroup> red: array<vec3<f32>, WG>;

// (σ(z), σ(−z)) with e = exp(−|z|) ∈ (0, 1]: σ(|z|) = 1/(1 + e), σ(−|z|) = e/(1 + e).
// NaN in gives NaN out (exp, abs and the arithmetic all propagate it).
fn sigmoid_pair(z: f32) -> vec2<f32> {
  let e = exp(-abs(z));
  let big = 1.0 / (1.0 + e);
  let small = e * big;
  return select(vec2(small, big), vec2(big, small), z >= 0.0);
}

fn acon(xv: f32, a1: f32, a2: f32, b: f32) -> f32 {
  let ss = sigmoid_pair(b * ((a1 - a2) * xv));
  return xv * (a1 * ss.x + a2 * ss.y);
}

// One element's backward: (dx, dy·∂y/∂p1, dy·∂y/∂p2, dy·∂y/∂β).
fn acon_grad(xv: f32, g_out: f32, a1: f32, a2: f32, b: f32) -> vec4<f32> {
  let d = (a1 - a2) * xv;
  let z = b * d;
  let ss = sigmoid_pair(z);
  let q = ss.x * ss.y;
  let a = ss.x + z * q;
  let bb = ss.y - z * q;
  return vec4(g_out * (a1 * a + a2 * bb), g_out * xv * a, g_out * xv * bb, g_out * d * d * q);
}

fn beta_at(n: u32, c: u32) -> f32 {
  return beta[select(c, n * g.channels + c, g.beta_per_sample != 0u)];
}

// Workgroups come as a 2D grid (x fastest) so that more than 65,535 of them can be dispatched.
fn workgroup_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let e = workgroup_index(wid, nwg) * WG + lid;
  if (e >= g.count) { return; }
  let c = (e / g.stride_c) % g.channels;
  y[e] = acon(x[e], p1[c], p2[c], beta_at(e / g.stride_n, c));
}

// One workgroup covers g.chunk vec4s of one (n, c) plane; the channel is fixed per workgroup, so
// there is no per-element index arithmetic beyond an add.
@compute @workgroup_size(WG)
fn forward_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let chunks = (g.plane + g.chunk - 1u) / g.chunk;
  let w = workgroup_index(wid, nwg);
  let row = w / chunks;  // n·C + c
  if (row >= g.count) { return; }
  let c = row % g.channels;
  let a1 = p1[c];
  let a2 = p2[c];
  let b = beta_at(row / g.channels, c);
  let start = (w % chunks) * g.chunk;
  let end = min(start + g.chunk, g.plane);
  let base = row * g.plane;
  for (var i = start + lid; i < end; i += WG) {
    let v = x4[base + i];
    y4[base + i] = vec4(acon(v.x, a1, a2, b), acon(v.y, a1, a2, b), acon(v.z, a1, a2, b), acon(v.w, a1, a2, b));
  }
}

// Slice `s` of channel `c` covers samples [n0, n1) and plane positions [h0, h1): whole planes of
// several samples when planes are small, or a chunk of one plane when they are large.
struct Slice { n0: u32, n1: u32, h0: u32, h1: u32 }

fn slice_of(s: u32, plane: u32) -> Slice {
  let n0 = (s / g.chunks_per_plane) * g.planes_per_slice;
  let h0 = (s % g.chunks_per_plane) * g.chunk;
  return Slice(n0, min(n0 + g.planes_per_slice, g.batch), h0, min(h0 + g.chunk, plane));
}

// Tree-sums red[] over the workgroup; invocation 0 writes the slice's partials.
fn finish_slice(lid: u32, acc: vec3<f32>, slot: u32) {
  red[lid] = acc;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partials[slot * 3u] = red[0].x;
    partials[slot * 3u + 1u] = red[0].y;
    partials[slot * 3u + 2u] = red[0].z;
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wid, nwg);
  let c = w / g.slices;
  if (c >= g.channels) { return; }  // uniform per workgroup, so the barriers below stay uniform
  let sl = slice_of(w % g.slices, g.plane);
  let a1 = p1[c];
  let a2 = p2[c];
  var acc = vec3(0.0);
  for (var n = sl.n0; n < sl.n1; n++) {
    let b = beta_at(n, c);
    let base = n * g.stride_n + c * g.stride_c;
    for (var h = sl.h0 + lid; h < sl.h1; h += WG) {
      let i = base + h * g.stride_hw;
      let r = acon_grad(x[i], dy[i], a1, a2, b);
      dx[i] = r.x;
      acc += r.yzw;
    }
  }
  finish_slice(lid, acc, w);
}

@compute @workgroup_size(WG)
fn backward_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wid, nwg);
  let c = w / g.slices;
  if (c >= g.channels) { return; }
  let sl = slice_of(w % g.slices, g.plane);
  let a1 = p1[c];
  let a2 = p2[c];
  var acc = vec3(0.0);
  for (var n = sl.n0; n < sl.n1; n++) {
    let b = beta_at(n, c);
    let base = (n * g.channels + c) * g.plane;
    for (var h = sl.h0 + lid; h < sl.h1; h += WG) {
      let v = x4[base + h];
      let gy = dy4[base + h];
      let r0 = acon_grad(v.x, gy.x, a1, a2, b);
      let r1 = acon_grad(v.y, gy.y, a1, a2, b);
      let r2 = acon_grad(v.z, gy.z, a1, a2, b);
      let r3 = acon_grad(v.w, gy.w, a1, a2, b);
      dx4[base + h] = vec4(r0.x, r1.x, r2.x, r3.x);
      acc += (r0.yzw + r1.yzw) + (r2.yzw + r3.yzw);
    }
  }
  finish_slice(lid, acc, w);
}

// One workgroup per channel: dp1[c], dp2[c] (and dβ[c]) are tree sums over the channel's slices;
// with a per-sample β, dβ[n, c] sums the chunks of plane (n, c) in order.
@compute @workgroup_size(WG)
fn backward_finish(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let c = workgroup_index(wid, nwg);
  if (c >= g.channels) { return; }
  let base = c * g.slices;
  var acc = vec3(0.0);
  for (var s = lid; s < g.slices; s += WG) {
    let k = (base + s) * 3u;
    acc += vec3(partials[k], partials[k + 1u], partials[k + 2u]);
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    dp1[c] = red[0].x;
    dp2[c] = red[0].y;
    if (g.beta_per_sample == 0u) { dbeta[c] = red[0].z; }
  }
  if (g.beta_per_sample != 0u) {
    // planes_per_slice is 1 here, so slice n·Q + j holds chunk j of plane (n, c).
    for (var n = lid; n < g.batch; n += WG) {
      var sum = 0.0;
      for (var j = 0u; j < g.chunks_per_plane; j++) {
        sum += partials[(base + n * g.chunks_per_plane + j) * 3u + 2u];
      }
      dbeta[n * g.channels + c] = sum;
    }
  }
}
