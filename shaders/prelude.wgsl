// Shared by every kernel file (the dispatcher prepends it): the grid index, σ and its derivative,
// and the channels-last walk.

override WG: u32 = 64;  // workgroup size (the dispatcher sets it per pipeline)

// Workgroups come as a 2D grid (x fastest) so that more than 65,535 of them can be dispatched.
fn workgroup_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// The invocation's index over the whole grid, for one-item-per-invocation entry points.
fn global_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return workgroup_index(wid, nwg) * WG + lid;
}

// σ without overflow: e = exp(−|z|) ∈ (0, 1], σ(|z|) = 1/(1 + e), σ(−|z|) = e/(1 + e).
fn sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e, 1.0, z >= 0.0) / (1.0 + e);
}

// σ'(z) = σ(z)·σ(−z) = e/(1 + e)², from the same e: no cancellation in 1 − σ.
fn sigmoid_grad(z: f32) -> f32 {
  let e = exp(-abs(z));
  let r = 1.0 / (1.0 + e);
  return e * r * r;
}

// (σ(z), σ(−z)) from one e = exp(−|z|): σ(|z|) = 1/(1 + e), σ(−|z|) = e·σ(|z|); their product is
// σ'(z). NaN in gives NaN out (exp, abs and the arithmetic all propagate it).
fn sigmoid_pair(z: f32) -> vec2<f32> {
  let e = exp(-abs(z));
  let big = 1.0 / (1.0 + e);
  let small = e * big;
  return select(vec2(small, big), vec2(big, small), z >= 0.0);
}

// The same for four values: s = σ(z) and sb = σ(−z), component by component.
struct SigmoidPair4 { s: vec4<f32>, sb: vec4<f32> }

fn sigmoid_pair4(z: vec4<f32>) -> SigmoidPair4 {
  let e = exp(-abs(z));
  let big = 1.0 / (1.0 + e);
  let small = e * big;
  let pos = z >= vec4(0.0);
  return SigmoidPair4(select(small, big, pos), select(big, small, pos));
}

// Channels-last (NHWC) walk. Consecutive elements are consecutive channels, so a tensor is a
// matrix of rows × channel units, `units` per row: in the vec4 kernels a row is lcm(C, 4) elements
// (one pixel when C % 4 == 0, two when C ≡ 2 mod 4, four when C is odd) and a unit is a vec4 whose
// components belong to channels (4·unit + k) mod C, the same in every row; in the scalar kernels a
// row is a pixel and a unit a channel. A workgroup is LANES_C × LANES_P invocations and takes one
// tile: LANES_C consecutive units (block `cb` of `blocks`) over one chunk of rows of one plane (the
// rows of one sample, or of the whole batch when nothing is per sample). Each invocation keeps one
// unit for the whole walk (its channels' parameters stay in registers) and steps over the chunk's
// rows LANES_P apart; neighbouring invocations read neighbouring units, so loads coalesce on a GPU.
// No division or modulo per element, none by a runtime value per invocation but the tile's set-up.
override LANES_C: u32 = 1u;
override LANES_P: u32 = 64u;

struct ClTile {
  unit: u32,    // channel unit this invocation keeps
  plane: u32,   // plane index (the sample when planes are samples)
  slice: u32,   // tile index within its channel block: plane · chunks + chunk
  lane: u32,    // pixel lane, 0 ≤ lane < LANES_P
  first: u32,   // first element (in units) of the walk
  end: u32,     // one past the last element of the chunk
  step: u32,    // elements between two steps: LANES_P · units
  ok: bool,     // this invocation has a tile (the grid's surplus and a ragged last block have none)
}

// blocks: channel blocks; planes: planes (N or 1); plane: rows per plane; chunks: chunks per
// plane; chunk: rows per chunk.
fn cl_tile(w: u32, lid: u32, units: u32, blocks: u32, planes: u32, plane: u32, chunks: u32, chunk: u32) -> ClTile {
  let slice = w / blocks;
  let unit = (w % blocks) * LANES_C + lid % LANES_C;
  let lane = lid / LANES_C;
  let pl = slice / chunks;
  let p0 = pl * plane + (slice % chunks) * chunk;
  let p1 = min(p0 + chunk, (pl + 1u) * plane);
  let ok = unit < units && pl < planes;
  return ClTile(unit, pl, slice, lane, (p0 + lane) * units + unit, p1 * units, LANES_P * units, ok);
}

// The channels of vec4 unit `unit` (element 4·unit + k of a row of lcm(C, 4) elements), and which
// of the row's repeats of that channel each component is: 0 ≤ rep < 4/gcd(C, 4).
fn unit_channels(unit: u32, channels: u32) -> vec4<u32> {
  return (4u * unit + vec4(0u, 1u, 2u, 3u)) % channels;
}

fn unit_reps(unit: u32, channels: u32) -> vec4<u32> {
  return (4u * unit + vec4(0u, 1u, 2u, 3u)) / channels;
}
