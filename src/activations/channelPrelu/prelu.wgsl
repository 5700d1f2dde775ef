// Per-channel PReLU, PyTorch's nn.PReLU(C): y = x where x ≥ 0, weight[c]·x below.
//   ∂y/∂x = 1 or weight[c];  ∂y/∂weight[c] = x where x < 0, 0 above.
// One invocation per element; the channel from the element's index and the data format's strides.
//   forward      y
//   backward     dx, and each element's term of dweight (dy·x where x < 0) into `terms`, which the
//                shared plane sums (src/kernels/reduce.ts) and then weight_sums reduce, deterministically
//   weight_sums  dweight per channel from the plane sums

struct Geometry {
  count: u32,          // elements
  batch: u32,          // N
  channels: u32,       // C
  plane: u32,          // H·W
  channels_last: u32,  // 1: NHWC (c = i mod C), 0: NCHW (c = (i / H·W) mod C)
}

@group(0) @binding(0) var<uniform> u: Geometry;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> terms: array<f32>;
@group(0) @binding(7) var<storage, read> sums: array<f32>;
@group(0) @binding(8) var<storage, read_write> dweight: array<f32>;

fn channel(i: u32) -> u32 {
  return select((i / u.plane) % u.channels, i % u.channels, u.channels_last == 1u);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  if (i >= u.count) { return; }
  let v = x[i];
  y[i] = select(weight[channel(i)] * v, v, v >= 0.0);
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  if (i >= u.count) { return; }
  let v = x[i];
  let g = dy[i];
  let negative = v < 0.0;
  dx[i] = select(g, weight[channel(i)] * g, negative);
  terms[i] = select(0.0, g * v, negative);
}

// dweight[c] = Σ_n sums[n·C + c], n in order (`sums`: the plane sums of `terms`).
@compute @workgroup_size(WG)
fn weight_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let c = global_index(wid, nwg, lid);
  if (c >= u.channels) { return; }
  var s = 0.0;
  for (var n = 0u; n < u.batch; n++) { s += sums[n * u.channels + c]; }
  dweight[c] = s;
}
