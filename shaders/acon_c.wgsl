// ACON-C, fused: y = (p1 − p2)·x·σ(β·(p1 − p2)·x) + p2·x on float32 tensors (NCHW or NHWC, given
// by strides), p1 and p2 per channel, β per channel or per (sample, channel) for Meta-ACON.
//
// The math, once (the reference in src/activations/aconC/reference.ts writes the same formulas):
//   d = (p1 − p2)·x,  z = β·d,  s = σ(z),  s̄ = σ(−z) = 1 − s,  q = s·s̄ = σ'(z)
//   y      = d·s + p2·x                     = x·(p1·s + p2·s̄)          (since 1 − s = s̄)
//   ∂y/∂p1 = x·s + d·σ'(z)·β·x              = x·(s + z·q)  =: x·a
//   ∂y/∂p2 = x − ∂y/∂p1                     = x·(s̄ − z·q)  =: x·b      (1 − s − z·q = s̄ − z·q)
//   ∂y/∂x  = (p1 − p2)·(s + β·d·q) + p2     = p1·a + p2·b
//   ∂y/∂β  = d·σ'(z)·d                      = d²·q
// The symmetric forms never subtract nearly equal numbers: s, s̄ and q come from e = exp(−|z|) ≤ 1,
// so nothing overflows for large |z| and 1 − s is never formed by cancellation.
//
// Entry points (the dispatcher picks them, src/activations/aconC/kernels.ts):
// Work is cut per channel: workgroup w serves channel c = w / slices and one slice of it, that is
// whole (n, c) planes of several samples when planes are small, or a chunk of one plane when they
// are large. Parameters are loaded once per workgroup and no element needs an index division.
//   forward          y per element, walking a slice (any layout)
//   forward_rows4    the same with vec4 loads (NCHW, H·W a multiple of 4)
//   forward_chunks4  one chunk of one large plane per workgroup, vec4, a single contiguous loop
//   forward_cl4      channels-last (NHWC): each invocation keeps a vec4 of channels and walks rows
//                    (the prelude's cl_tile; any C when the rows tile the planes); forward_cl: any C
//   backward         dx per element and, per invocation, partial sums of dp1, dp2, dβ for one channel
//   backward_rows4   the same with vec4 loads (NCHW, H·W a multiple of 4)
//   backward_planes  per-sample β with small planes: each invocation owns one (n, c) plane, so dβ[n, c]
//                    needs no workgroup reduction and a workgroup serves up to WG samples
//   backward_cl4     channels-last: dx and per-invocation partial sums of its vec4's four channels;
//                    backward_cl: any C
//   backward_finish  per channel: sums the partials in a fixed order (deterministic, no atomics)
//   backward_group   sums groups of slices first when a channel has too many partials for one
//                    invocation (src/kernels/budget.ts: lavapipe caps an invocation's loops)
// No entry point uses a workgroup barrier (see store_partials).

// β has one entry per (n, c) (Meta-ACON) instead of one per channel. A pipeline constant rather than
// a uniform, so each pipeline's loops carry no branch on it: on SwiftShader a per-iteration branch,
// even a uniform one, costs about a third of the forward pass.
override PER_SAMPLE_BETA: bool = false;

struct Geometry {
  count: u32,            // elements
  batch: u32,            // N
  channels: u32,         // C
  plane: u32,            // H·W (in vec4s for the vec4 entry points)
  stride_n: u32,         // element strides: NCHW (C·H·W, H·W, 1), NHWC (H·W·C, 1, C)
  stride_c: u32,
  stride_hw: u32,
  slices: u32,           // workgroups (slices) per channel
  planes_per_slice: u32, // samples a slice covers
  chunks_per_plane: u32, // slices a plane is cut into (1 when planes_per_slice > 1)
  chunk: u32,            // elements (vec4s) of a plane per slice
  finish: u32,           // backward_finish's sums: 1 dp1, dp2 (and a per-channel dβ), 2 a per-sample dβ
                         // (backward_planes writes that one itself), 3 both
  group: u32,            // backward_group: slices per group
  lanes: u32,            // partial sums per slice (WG; channels-last: LANES_P · repeats of a channel in a row)
  units: u32,            // channels-last: channel units per row (see the prelude)
  channel_blocks: u32,   // channels-last: workgroups across the channel units (LANES_C each)
}

@group(0) @binding(0) var<uniform> g: Geometry;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> p1: array<f32>;
@group(0) @binding(3) var<storage, read> p2: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
// partials[((c·slices + slice)·lanes + lane)·3 + k], k: 0 dp1, 1 dp2, 2 dβ
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;
@group(0) @binding(9) var<storage, read_write> dp1: array<f32>;
@group(0) @binding(10) var<storage, read_write> dp2: array<f32>;
@group(0) @binding(11) var<storage, read_write> dbeta: array<f32>;
// vec4 views of the same tensors, for the *_rows4 entry points
@group(0) @binding(12) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> y4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> dx4: array<vec4<f32>>;
// backward_group's sums, laid out as partials with one lane per slice (the next level's partials)
@group(0) @binding(16) var<storage, read_write> group_sums: array<f32>;

// The forward in the form that costs least per element. With K = β·(p1 − p2), z = K·x and
// e = exp(−|z|), the larger of σ(z), σ(−z) is 1/(1 + e) and the smaller e/(1 + e), so
//   y = x·(p1·s + p2·s̄) = x/(1 + e)·(p_hi + p_lo·e),
// p_hi being the parameter paired with the larger sigmoid (p1 when z ≥ 0, p2 otherwise). The sign
// of z is the sign of K times the sign of x: per channel (or per (n, c)) the kernels keep −|K| and
// the pair for x ≥ 0, and each element only swaps the pair when x < 0 (z = 0 gives e = 1, where
// either order is right). One exp, one division, no overflow, no cancellation.
struct AconConsts { k: f32, hi: f32, lo: f32 }

fn acon_consts(a1: f32, a2: f32, b: f32) -> AconConsts {
  let kk = b * (a1 - a2);
  let up = kk >= 0.0;
  return AconConsts(-abs(kk), select(a2, a1, up), select(a1, a2, up));
}

fn acon(xv: f32, k: AconConsts) -> f32 {
  let e = exp(k.k * abs(xv));
  let neg = xv < 0.0;
  return xv / (1.0 + e) * (select(k.hi, k.lo, neg) + select(k.lo, k.hi, neg) * e);
}

// The same for four elements, each with its own constants (four channels in channels-last, or one
// channel splatted in NCHW).
struct AconConsts4 { k: vec4<f32>, hi: vec4<f32>, lo: vec4<f32> }

fn acon_consts4(a1: vec4<f32>, a2: vec4<f32>, b: vec4<f32>) -> AconConsts4 {
  let kk = b * (a1 - a2);
  let up = kk >= vec4(0.0);
  return AconConsts4(-abs(kk), select(a2, a1, up), select(a1, a2, up));
}

fn acon4(v: vec4<f32>, k: AconConsts4) -> vec4<f32> {
  let e = exp(k.k * abs(v));
  let neg = v < vec4(0.0);
  return v / (1.0 + e) * (select(k.hi, k.lo, neg) + select(k.lo, k.hi, neg) * e);
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

// Four elements' backward, each component with its own parameters: the formulas of acon_grad.
struct Grad4 { dx: vec4<f32>, g1: vec4<f32>, g2: vec4<f32>, gb: vec4<f32> }

fn acon_grad4(v: vec4<f32>, g_out: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, b: vec4<f32>) -> Grad4 {
  let d = (a1 - a2) * v;
  let z = b * d;
  let ss = sigmoid_pair4(z);
  let q = ss.s * ss.sb;
  let a = ss.s + z * q;
  let bb = ss.sb - z * q;
  return Grad4(g_out * (a1 * a + a2 * bb), g_out * v * a, g_out * v * bb, g_out * d * d * q);
}

// Per-channel values for the four channels `ch` of a channels-last vec4 unit (β of plane `pl`).
fn gather4_p1(ch: vec4<u32>) -> vec4<f32> { return vec4(p1[ch.x], p1[ch.y], p1[ch.z], p1[ch.w]); }
fn gather4_p2(ch: vec4<u32>) -> vec4<f32> { return vec4(p2[ch.x], p2[ch.y], p2[ch.z], p2[ch.w]); }
fn gather4_beta(ch: vec4<u32>, pl: u32) -> vec4<f32> {
  let b = select(ch, pl * g.channels + ch, PER_SAMPLE_BETA);
  return vec4(beta[b.x], beta[b.y], beta[b.z], beta[b.w]);
}

fn beta_at(n: u32, c: u32) -> f32 {
  return beta[select(c, n * g.channels + c, PER_SAMPLE_BETA)];
}

// Slice `s` of channel `c` covers samples [n0, n1) and plane positions [h0, h1): whole planes of
// several samples when planes are small, or a chunk of one plane when they are large.
struct Slice { n0: u32, n1: u32, h0: u32, h1: u32 }

fn slice_of(s: u32, plane: u32) -> Slice {
  let n0 = (s / g.chunks_per_plane) * g.planes_per_slice;
  let h0 = (s % g.chunks_per_plane) * g.chunk;
  return Slice(n0, min(n0 + g.planes_per_slice, g.batch), h0, min(h0 + g.chunk, plane));
}

// Workgroup w of the slice entry points serves channel c = w / slices and slice (w mod slices) of it.
struct ChannelSlice { w: u32, c: u32, ok: bool, sl: Slice }

fn channel_slice(wid: vec3<u32>, nwg: vec3<u32>) -> ChannelSlice {
  let w = workgroup_index(wid, nwg);
  let c = w / g.slices;
  return ChannelSlice(w, c, c < g.channels, slice_of(w % g.slices, g.plane));
}

// Stores an invocation's three running sums in its own slot of `partials`. No workgroup barrier:
// on software rasterisers (SwiftShader) one barrier costs more than the whole slice's arithmetic,
// and the extra traffic is 3 floats per invocation, under 2 % of the pass's bytes.
fn store_partials(lane: u32, acc: vec3<f32>) {
  partials[lane * 3u] = acc.x;
  partials[lane * 3u + 1u] = acc.y;
  partials[lane * 3u + 2u] = acc.z;
}

fn partial(lane: u32) -> vec3<f32> {
  return vec3(partials[lane * 3u], partials[lane * 3u + 1u], partials[lane * 3u + 2u]);
}

// An invocation's walk over a slice: it takes every WG-th (n, h) pair, h running fastest, and steps
// without a division per element.
struct Walk { n: u32, h: u32, dn: u32, dh: u32, len: u32 }

fn walk_start(sl: Slice, lid: u32) -> Walk {
  let len = sl.h1 - sl.h0;
  return Walk(sl.n0 + lid / len, lid % len, WG / len, WG % len, len);
}

fn walk_next(w: ptr<function, Walk>) {
  let h = (*w).h + (*w).dh;
  let wrap = h >= (*w).len;   // a select, not a branch: cheaper in a software adapter's loops
  (*w).h = select(h, h - (*w).len, wrap);
  (*w).n += (*w).dn + select(0u, 1u, wrap);
}

// The channels-last entry points' tile (the prelude's cl_tile on this file's geometry).
fn tile(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> ClTile {
  return cl_tile(workgroup_index(wid, nwg), lid, g.units, g.channel_blocks, g.batch, g.plane, g.chunks_per_plane, g.chunk);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let cs = channel_slice(wid, nwg);
  if (!cs.ok) { return; }
  let c = cs.c;
  let sl = cs.sl;
  let a1 = p1[c];
  let a2 = p2[c];
  var k = acon_consts(a1, a2, beta_at(sl.n0, c));
  for (var it = walk_start(sl, lid); it.n < sl.n1; walk_next(&it)) {
    if (PER_SAMPLE_BETA) { k = acon_consts(a1, a2, beta_at(it.n, c)); }
    let i = it.n * g.stride_n + c * g.stride_c + (sl.h0 + it.h) * g.stride_hw;
    y[i] = acon(x[i], k);
  }
}

@compute @workgroup_size(WG)
fn forward_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let cs = channel_slice(wid, nwg);
  if (!cs.ok) { return; }
  let c = cs.c;
  let sl = cs.sl;
  let a1 = p1[c];
  let a2 = p2[c];
  var k = acon_consts4(vec4(a1), vec4(a2), vec4(beta_at(sl.n0, c)));
  for (var it = walk_start(sl, lid); it.n < sl.n1; walk_next(&it)) {
    if (PER_SAMPLE_BETA) { k = acon_consts4(vec4(a1), vec4(a2), vec4(beta_at(it.n, c))); }
    let i = (it.n * g.channels + c) * g.plane + sl.h0 + it.h;
    y4[i] = acon4(x4[i], k);
  }
}

// Large NCHW planes (H·W a multiple of 4): workgroup w takes chunk j of plane p = n·C + c, in memory
// order, so its elements are contiguous and one plain loop walks them. Software adapters pay for
// every instruction in a loop (SwiftShader: an extra loop level or a per-iteration branch costs
// about a third of the pass), so this is the leanest loop the op allows.
@compute @workgroup_size(WG)
fn forward_chunks4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wid, nwg);
  let p = w / g.chunks_per_plane;
  if (p >= g.batch * g.channels) { return; }
  let c = p % g.channels;
  let k = acon_consts4(vec4(p1[c]), vec4(p2[c]), vec4(beta_at(p / g.channels, c)));
  let start = p * g.plane + (w % g.chunks_per_plane) * g.chunk;
  let end = min(start + g.chunk, (p + 1u) * g.plane);
  for (var i = start + lid; i < end; i += WG) { y4[i] = acon4(x4[i], k); }
}

// Channels-last: the prelude's tile; WG = LANES_C · LANES_P.
@compute @workgroup_size(WG)
fn forward_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  let ch = unit_channels(t.unit, g.channels);
  let k = acon_consts4(gather4_p1(ch), gather4_p2(ch), gather4_beta(ch, t.plane));
  for (var i = t.first; i < t.end; i += t.step) { y4[i] = acon4(x4[i], k); }
}

@compute @workgroup_size(WG)
fn forward_cl(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  let k = acon_consts(p1[t.unit], p2[t.unit], beta[select(t.unit, t.plane * g.channels + t.unit, PER_SAMPLE_BETA)]);
  for (var i = t.first; i < t.end; i += t.step) { y[i] = acon(x[i], k); }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let cs = channel_slice(wid, nwg);
  if (!cs.ok) { return; }
  let c = cs.c;
  let sl = cs.sl;
  let a1 = p1[c];
  let a2 = p2[c];
  var acc = vec3(0.0);
  for (var it = walk_start(sl, lid); it.n < sl.n1; walk_next(&it)) {
    let i = it.n * g.stride_n + c * g.stride_c + (sl.h0 + it.h) * g.stride_hw;
    let r = acon_grad(x[i], dy[i], a1, a2, beta_at(it.n, c));
    dx[i] = r.x;
    acc += r.yzw;
  }
  store_partials(cs.w * WG + lid, acc);
}

@compute @workgroup_size(WG)
fn backward_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let cs = channel_slice(wid, nwg);
  if (!cs.ok) { return; }
  let c = cs.c;
  let sl = cs.sl;
  let a1 = p1[c];
  let a2 = p2[c];
  var acc = vec3(0.0);
  for (var it = walk_start(sl, lid); it.n < sl.n1; walk_next(&it)) {
    let i = (it.n * g.channels + c) * g.plane + sl.h0 + it.h;
    let r = acon_grad4(x4[i], dy4[i], vec4(a1), vec4(a2), vec4(beta_at(it.n, c)));
    dx4[i] = r.dx;
    acc += vec3((r.g1.x + r.g1.y) + (r.g1.z + r.g1.w), (r.g2.x + r.g2.y) + (r.g2.z + r.g2.w), (r.gb.x + r.gb.y) + (r.gb.z + r.gb.w));
  }
  store_partials(cs.w * WG + lid, acc);
}

// Per-sample β with small planes: invocation lid of slice s owns plane (n = s·WG + lid, c) whole.
@compute @workgroup_size(WG)
fn backward_planes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let w = workgroup_index(wid, nwg);
  let c = w / g.slices;
  if (c >= g.channels) { return; }
  let n = (w % g.slices) * WG + lid;
  let a1 = p1[c];
  let a2 = p2[c];
  var acc = vec3(0.0);
  if (n < g.batch) {
    let b = beta_at(n, c);
    let base = n * g.stride_n + c * g.stride_c;
    for (var h = 0u; h < g.plane; h++) {
      let i = base + h * g.stride_hw;
      let r = acon_grad(x[i], dy[i], a1, a2, b);
      dx[i] = r.x;
      acc += r.yzw;
    }
    dbeta[n * g.channels + c] = acc.z;
  }
  store_partials(w * WG + lid, acc);
}

// Channels-last backward: each invocation sums its own channels' terms over its walk and stores
// them per channel, slot ((c·slices + slice)·lanes + lane·reps + rep), for backward_finish (reps:
// how often a channel occurs in a row, 1 when C % 4 == 0).
@compute @workgroup_size(WG)
fn backward_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  let ch = unit_channels(t.unit, g.channels);
  let a1 = gather4_p1(ch);
  let a2 = gather4_p2(ch);
  let b = gather4_beta(ch, t.plane);
  var s1 = vec4(0.0);
  var s2 = vec4(0.0);
  var sb = vec4(0.0);
  for (var i = t.first; i < t.end; i += t.step) {
    let r = acon_grad4(x4[i], dy4[i], a1, a2, b);
    dx4[i] = r.dx;
    s1 += r.g1;
    s2 += r.g2;
    sb += r.gb;
  }
  let rep = unit_reps(t.unit, g.channels);
  let reps = g.lanes / LANES_P;
  for (var j = 0u; j < 4u; j++) {
    store_partials((ch[j] * g.slices + t.slice) * g.lanes + t.lane * reps + rep[j], vec3(s1[j], s2[j], sb[j]));
  }
}

@compute @workgroup_size(WG)
fn backward_cl(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let t = tile(wid, nwg, lid);
  if (!t.ok) { return; }
  let a1 = p1[t.unit];
  let a2 = p2[t.unit];
  let b = beta[select(t.unit, t.plane * g.channels + t.unit, PER_SAMPLE_BETA)];
  var acc = vec3(0.0);
  for (var i = t.first; i < t.end; i += t.step) {
    let r = acon_grad(x[i], dy[i], a1, a2, b);
    dx[i] = r.x;
    acc += r.yzw;
  }
  store_partials((t.unit * g.slices + t.slice) * LANES_P + t.lane, acc);
}

// Slices [s0, s1) of channel c summed in a fixed order: lanes within a slice first, then slices.
fn sum_slices(c: u32, s0: u32, s1: u32) -> vec3<f32> {
  var total = vec3(0.0);
  for (var s = s0; s < s1; s++) {
    var slice = vec3(0.0);
    let lane0 = (c * g.slices + s) * g.lanes;
    for (var l = 0u; l < g.lanes; l++) { slice += partial(lane0 + l); }
    total += slice;
  }
  return total;
}

// One invocation per channel (and per (n, c) for a per-sample β): sums the partials in a fixed
// order, so the result is the same on every run. The planner (backwardPlan) keeps the terms of each
// sum within FINISH_TERMS, with backward_group levels before this pass where a channel has more.
@compute @workgroup_size(WG)
fn backward_finish(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let t = global_index(wid, nwg, lid);
  if (t < g.channels && (g.finish & 1u) != 0u) {
    let total = sum_slices(t, 0u, g.slices);
    dp1[t] = total.x;
    dp2[t] = total.y;
    if (!PER_SAMPLE_BETA) { dbeta[t] = total.z; }
  }
  if (PER_SAMPLE_BETA && (g.finish & 2u) != 0u && t < g.batch * g.channels) {
    // planes_per_slice is 1 here, so slice n·Q + j of channel c holds chunk j of plane (n, c).
    let n = t / g.channels;
    let c = t % g.channels;
    var total = 0.0;
    for (var j = 0u; j < g.chunks_per_plane; j++) {
      var chunk = 0.0;
      let lane0 = (c * g.slices + n * g.chunks_per_plane + j) * g.lanes;
      for (var l = 0u; l < g.lanes; l++) { chunk += partials[(lane0 + l) * 3u + 2u]; }
      total += chunk;
    }
    dbeta[t] = total;
  }
}

// One level of a hierarchical finish: invocation t sums group j of run r of channel c (t = c·G + r·J
// + j, with J = ⌈run / group⌉ groups per run of chunks_per_plane slices and G groups per channel)
// in backward_finish's order, into slot t of group_sums: the next level's partials, one lane per
// slice, runs of J slices (so a per-sample dβ still finds each plane's sums in one run).
@compute @workgroup_size(WG)
fn backward_group(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let t = global_index(wid, nwg, lid);
  let per_run = (g.chunks_per_plane + g.group - 1u) / g.group;
  let groups = (g.slices / g.chunks_per_plane) * per_run;
  if (t >= g.channels * groups) { return; }
  let c = t / groups;
  let r = (t % groups) / per_run;
  let s0 = r * g.chunks_per_plane + (t % per_run) * g.group;
  let total = sum_slices(c, s0, min(s0 + g.group, (r + 1u) * g.chunks_per_plane));
  group_sums[t * 3u] = total.x;
  group_sums[t * 3u + 1u] = total.y;
  group_sums[t * 3u + 2u] = total.z;
}
