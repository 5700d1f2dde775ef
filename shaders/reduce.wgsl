// Spatial reductions of [N, C, H, W] float32 tensors (NCHW or NHWC, given by strides).
//   plane_partials  workgroup w sums chunk (w mod chunks) of plane (n, c) = w / chunks; every
//                   invocation stores its own running sum (no barrier; see acon_c.wgsl)
//   plane_partials4 the same with vec4 loads (NCHW, H·W a multiple of 4; plane and chunk in vec4s)
//   plane_partials_cl4, plane_partials_cl  channels-last (NHWC): the prelude's tile over one sample;
//                   each invocation sums its channels over its rows and stores one partial per
//                   channel, slot ((n·C + c)·chunks + chunk)·lanes + lane·reps + rep
//   plane_means     one invocation per plane: lanes of a chunk, then chunks, in a fixed order; × scale (1/(H·W))
//   plane_groups    sums groups of chunks first when a plane has too many partials for one invocation
//                   (src/kernels/budget.ts: lavapipe caps an invocation's loops)
//   broadcast_add   dx[n, c, h, w] += v[n, c]·scale: the adjoint of the mean (scale = 1/(H·W))
//   broadcast_add4  the same for NCHW planes of a multiple of 4: workgroup w takes chunk (w mod chunks)
//                   of plane w / chunks with vec4s in one plain loop (no index division per element)
//   broadcast_add_cl4, broadcast_add_cl  the same for channels-last, on the prelude's tile

struct Geometry {
  count: u32,      // elements N·C·H·W
  batch: u32,
  channels: u32,
  plane: u32,      // H·W
  stride_n: u32,   // element strides: NCHW (C·H·W, H·W, 1), NHWC (H·W·C, 1, C)
  stride_c: u32,
  stride_hw: u32,
  chunks: u32,     // chunks per plane
  chunk: u32,      // elements per chunk
  scale: f32,
  lanes: u32,      // partial sums per chunk (WG; channels-last: LANES_P · repeats of a channel in a row)
  units: u32,      // channels-last: channel units per row (see the prelude)
  blocks: u32,     // channels-last: workgroups across the channel units
  group: u32,      // plane_groups: chunks per group
}

@group(0) @binding(0) var<uniform> g: Geometry;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<storage, read_write> means: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dx4: array<vec4<f32>>;
// plane_groups' sums, laid out as partials with one lane per chunk (the next level's partials)
@group(0) @binding(8) var<storage, read_write> group_sums: array<f32>;

// The channels-last entry points' tile (the prelude's cl_tile on this file's geometry).
fn tile(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> ClTile {
  return cl_tile(workgroup_index(wid, nwg), lid, g.units, g.blocks, g.batch, g.plane, g.chunks, g.chunk);
}

@compute @workgroup_size(WG)
fn plane_partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wid, nwg);
  let pl = w / g.chunks;
  if (pl >= g.batch * g.channels) { return; }
  let n = pl / g.channels;
  let c = pl % g.channels;
  let h0 = (w % g.chunks) * g.chunk;
  let h1 = min(h0 + g.chunk, g.plane);
  let base = n * g.stride_n + c * g.stride_c;
  var acc = 0.0;
  for (var h = h0 + lid; h < h1; h += WG) { acc += x[base + h * g.stride_hw]; }
  partials[w * WG + lid] = acc;
}

@compute @workgroup_size(WG)
fn plane_partials4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wid, nwg);
  let pl = w / g.chunks;
  if (pl >= g.batch * g.channels) { return; }
  let h0 = (w % g.chunks) * g.chunk;
  let h1 = min(h0 + g.chunk, g.plane);
  let base = pl * g.plane;
  var acc = vec4(0.0);
  for (var h = h0 + lid; h < h1; h += WG) { acc += x4[base + h]; }
  partials[w * WG + lid] = (acc.x + acc.y) + (acc.z + acc.w);
}

@compute @workgroup_size(WG)
fn plane_partials_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  var acc = vec4(0.0);
  for (var i = t.first; i < t.end; i += t.step) { acc += x4[i]; }
  let chunk = t.slice % g.chunks;
  let ch = unit_channels(t.unit, g.channels);
  let rep = unit_reps(t.unit, g.channels);
  let reps = g.lanes / LANES_P;
  for (var j = 0u; j < 4u; j++) {
    partials[((t.plane * g.channels + ch[j]) * g.chunks + chunk) * g.lanes + t.lane * reps + rep[j]] = acc[j];
  }
}

@compute @workgroup_size(WG)
fn plane_partials_cl(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  var acc = 0.0;
  for (var i = t.first; i < t.end; i += t.step) { acc += x[i]; }
  partials[((t.plane * g.channels + t.unit) * g.chunks + t.slice % g.chunks) * g.lanes + t.lane] = acc;
}

// Chunks [j0, j1) of plane pl summed in a fixed order: lanes within a chunk first, then chunks.
fn sum_chunks(pl: u32, j0: u32, j1: u32) -> f32 {
  var total = 0.0;
  for (var j = j0; j < j1; j++) {
    var chunk = 0.0;
    let lane0 = (pl * g.chunks + j) * g.lanes;
    for (var l = 0u; l < g.lanes; l++) { chunk += partials[lane0 + l]; }
    total += chunk;
  }
  return total;
}

// The planner (meanPlan) keeps a plane's partials within FINISH_TERMS, with plane_groups levels
// before this pass where a plane has more.
@compute @workgroup_size(WG)
fn plane_means(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let pl = global_index(wid, nwg, lid);
  if (pl >= g.batch * g.channels) { return; }
  means[pl] = sum_chunks(pl, 0u, g.chunks) * g.scale;
}

// One level of a hierarchical mean: invocation t sums group j of plane pl (t = pl·J + j, J =
// ⌈chunks / group⌉ groups per plane) in plane_means' order, into slot t of group_sums.
@compute @workgroup_size(WG)
fn plane_groups(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let t = global_index(wid, nwg, lid);
  let per_plane = (g.chunks + g.group - 1u) / g.group;
  if (t >= g.batch * g.channels * per_plane) { return; }
  let j0 = (t % per_plane) * g.group;
  group_sums[t] = sum_chunks(t / per_plane, j0, min(j0 + g.group, g.chunks));
}

@compute @workgroup_size(WG)
fn broadcast_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let e = global_index(wid, nwg, lid);
  if (e >= g.count) { return; }
  let c = (e / g.stride_c) % g.channels;
  dx[e] += v[(e / g.stride_n) * g.channels + c] * g.scale;
}

@compute @workgroup_size(WG)
fn broadcast_add4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wid, nwg);
  let pl = w / g.chunks;
  if (pl >= g.batch * g.channels) { return; }
  let add = vec4(v[pl] * g.scale);   // NCHW: plane n·C + c is v's entry
  let start = pl * g.plane + (w % g.chunks) * g.chunk;
  let end = min(start + g.chunk, (pl + 1u) * g.plane);
  for (var i = start + lid; i < end; i += WG) { dx4[i] += add; }
}

@compute @workgroup_size(WG)
fn broadcast_add_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  let b = t.plane * g.channels + unit_channels(t.unit, g.channels);
  let add = vec4(v[b.x], v[b.y], v[b.z], v[b.w]) * g.scale;
  for (var i = t.first; i < t.end; i += t.step) { dx4[i] += add; }
}

@compute @workgroup_size(WG)
fn broadcast_add_cl(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  let add = v[t.plane * g.channels + t.unit] * g.scale;
  for (var i = t.first; i < t.end; i += t.step) { dx[i] += add; }
}
