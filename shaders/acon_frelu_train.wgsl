// ACON-FReLU's training forward and its backward (either mode), over the output grid [N, C, Ho, Wo]
// (NCHW or NHWC; x [N, C, H, W] in the same format), from each output position's window (9 taps of
// x: the depthwise conv and, at stride 2, the max pool):
//   z  = Σ_taps w·x + bias           x2 = γ1·(z − μ1)·ι1 + β1,   ι = 1/√(var + ε)
//   d  = x1 − x2,  t = d·σ(d) + x2    y  = γ2·(t − μ2)·ι2 + β2
// Per-channel sums over the N·Ho·Wo positions come one stage at a time (the stage sets what is
// summed: `stats_pass` stages 0..3, `bn_grad_pass` 4 and 5, `conv_grad_pass` 6, `tap_grad_pass` 7), then `finish` adds
// each channel's partial sums into `sums` rows [18, C]:
//   stage 0  Σ z                           row 0       (BN1's batch mean)
//         1  Σ (z − μ1)²                   row 1       (its biased variance × count)
//         2  Σ t                           row 2       (BN2's)
//         3  Σ (t − μ2)²                   row 3
//         4  Σ dy, Σ dy·t̂                  rows 4, 5   (= dβ2, dγ2; t̂ = (t − μ2)·ι2)
//         5  Σ dx2, Σ dx2·ẑ                rows 6, 7   (= dβ1, dγ1; ẑ = (z − μ1)·ι1)
//         6  Σ dz                          row 8       (= dbias; conv_grad_pass)
//         7  Σ dz·x_tap (9 taps)           rows 9..17  (= dweight tap-major; tap_grad_pass)
// with, in training (batch statistics; P = N·Ho·Wo, PyTorch's batch-norm backward):
//   dt  = γ2·ι2·(dy − Σdy/P − t̂·Σ(dy·t̂)/P)        (eval: γ2·ι2·dy)
//   dx1 = dt·g(d),  dx2 = dt·(1 − g(d)),  g(d) = σ(d) + d·σ(d)·σ(−d)
//   dz  = γ1·ι1·(dx2 − Σdx2/P − ẑ·Σ(dx2·ẑ)/P)      (eval: γ1·ι1·dx2)
// A strip walk ahead of the passes keeps each position's window (the conv, x1 and the tap of the
// pool's maximum; at stride 1 the conv alone) in rows 0..2 of `saved` [5, Q] ([4, Q] in the
// training forward; Q = N·C·Ho·Wo in the output's layout), and every pass reads it back:
// `conv_strip_any` and `window_strip2_any` one channel per invocation, `conv_cl4_strip` and
// `window_cl4_strip2` four (C % 4 == 0). The first stage that needs BN1 and σ keeps t and g in rows
// 3 and 4 for the later ones (KEEP, KEPT below); stage 6 writes dz and dx1 over them, from which dx
// follows per input element: the conv's adjoint (9 taps) and dx1 at the window's centre (s = 1) or
// its first maximum (s = 2), walked in strips of rows (`backward_dx_strip_any` at stride 1;
// `backward_dx_cl4_strip`, `backward_dx_cl4_strip2` with C % 4 == 0) or, at stride 2 with
// C % 4 != 0, gathered per element (`backward_dx`).
// A workgroup takes one channel and one chunk of `per`·WG positions (position q = chunk·per·WG +
// k·WG + lid, k < per); each invocation sums in a register and stores its partial sum; `finish` adds
// a channel's partial sums in order. The training forward's y is the eval kernel
// (acon_frelu.wgsl) on
// parameters whose running statistics `batch_params` replaces by the batch's; it also moves the
// caller's running statistics (momentum 0.1, unbiased variance).
// `params` packs the parameters as acon_frelu.wgsl's does (18·C values; its pack entries write it).
// What a pass does is fixed when its pipeline is made (override constants, below), not read from the
// uniforms: SwiftShader pays for both sides of a branch on a uniform, so a pass that branched on its
// stage paid for the others' work, and every later pass for the first pass's nine-tap window (a
// pass computed the windows then). At
// [8, 64, 56, 56] NHWC, side by side with the uniform branches: the training forward 327 → 181 ms,
// the backward 778 → 524 (training mode) and 620 → 450 (eval mode).

// The pass's stage (0..6, the table above; the stage passes only) and whether x1 is the max pool of
// the window (stride 2) or its centre (stride 1; p.stride says the same for the index arithmetic).
override STAGE: u32 = 0u;
override POOL: bool = false;
// Stages 2..6 need each position's chain (BN1, σ, t; the table above): the first of them in a call
// (stage 2 in training, once stage 1 has BN1's batch statistics; stage 4 in eval mode) works it out
// from the window and keeps t (KEEP ≥ 1: the training forward) and g too (KEEP == 2: the backward)
// in rows 3 and 4 of `saved`; the later ones read them back (KEPT) instead of σ, and stage 6 then
// writes dz and dx1 over them.
override KEEP: u32 = 0u;
override KEPT: bool = false;
// The layout of the one-channel passes and walks (C % 4 != 0; the *_cl4 ones are channels-last by
// construction): NHWC or NCHW, so that index4 and strip_any have one side.
override CHANNELS_LAST: bool = false;
// Output rows per invocation of the strip walks (conv_strip_any, window_strip2_any, conv_cl4_strip,
// window_cl4_strip2, backward_dx_strip_any, backward_dx_cl4_strip, backward_dx_cl4_strip2; the eval
// forward's stripRows).
override STRIP: u32 = 8u;

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  ho: u32,
  wo: u32,
  stride: u32,
  eps: f32,
  momentum: f32,
  count: u32,
  chunks: u32,
  per: u32,
  training: u32,
  terms: u32,
  row: u32,
  step_n: u32,
  step_h: u32,
  step_w: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;
@group(0) @binding(5) var<storage, read> sums_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;
@group(0) @binding(7) var<storage, read> partials_in: array<f32>;
@group(0) @binding(8) var<storage, read_write> saved: array<f32>;
@group(0) @binding(9) var<storage, read> saved_in: array<f32>;
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;
@group(0) @binding(11) var<storage, read_write> batch: array<f32>;
// the caller's buffers written directly (STORAGE usage alone: no buffer copies): the running
// statistics (batch_params) and the parameters' gradients (param_grads)
@group(0) @binding(12) var<storage, read_write> bn1_mean: array<f32>;
@group(0) @binding(13) var<storage, read_write> bn1_var: array<f32>;
@group(0) @binding(14) var<storage, read_write> bn2_mean: array<f32>;
@group(0) @binding(15) var<storage, read_write> bn2_var: array<f32>;
@group(0) @binding(16) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(17) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(18) var<storage, read_write> dgamma1: array<f32>;
@group(0) @binding(19) var<storage, read_write> dbeta1: array<f32>;
@group(0) @binding(20) var<storage, read_write> dgamma2: array<f32>;
@group(0) @binding(21) var<storage, read_write> dbeta2: array<f32>;
// vec4 views for the channels-last passes with C % 4 == 0 (four channels per invocation; NCHW runs
// them on channels-last copies, see to_channels_last)
@group(0) @binding(22) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(23) var<storage, read> saved4: array<vec4<f32>>;
@group(0) @binding(24) var<storage, read_write> dx4: array<vec4<f32>>;
@group(0) @binding(25) var<storage, read_write> saved4_rw: array<vec4<f32>>;
@group(0) @binding(26) var<storage, read> dy4: array<vec4<f32>>;
// NCHW with C % 4 == 0: x and dy copied channels-last for the passes above, dx copied back
@group(0) @binding(27) var<storage, read> planar_in: array<f32>;
@group(0) @binding(28) var<storage, read_write> cl4_out: array<vec4<f32>>;
@group(0) @binding(29) var<storage, read> cl4_in: array<vec4<f32>>;
@group(0) @binding(30) var<storage, read_write> planar_out: array<f32>;
@group(0) @binding(31) var<storage, read> planar_in4: array<vec4<f32>>;
@group(0) @binding(32) var<storage, read_write> planar_out4: array<vec4<f32>>;


// The parameter `k` (0 bias, 1..4 bn1's weight, bias, running mean and variance, 5..8 bn2's) of channel c.
fn param(k: u32, c: u32) -> f32 {
  return params[(9u + k) * p.c + c];
}

// Element (n, c, h, w) of a [N, C, rows, cols] tensor in the call's data format.
fn index4(n: u32, c: u32, h: u32, w: u32, rows: u32, cols: u32) -> u32 {
  if (CHANNELS_LAST) {
    return ((n * rows + h) * cols + w) * p.c + c;
  }
  return ((n * p.c + c) * rows + h) * cols + w;
}

// Output position q of a channel (q < N·Ho·Wo) as (n, oh, ow).
fn position(q: u32) -> vec3<u32> {
  return vec3(q / (p.wo * p.ho), (q / p.wo) % p.ho, q % p.wo);
}

// The window of an output position: the conv (without its bias), x1, and x1's tap (0..8, row-major).
struct Window {
  conv: f32,
  x1: f32,
  tap: u32,
}

// The window of output position pos (o: its index on the output grid), read back from rows 0..2 of
// `saved`, where a strip walk ahead of the passes keeps it (conv_strip_any at stride 1: the conv
// alone, x1 is x at the window's centre and its tap 4; window_strip2_any at stride 2: the conv, the
// pool's best value and tap).
fn site(c: u32, pos: vec3<u32>, o: u32) -> Window {
  if (POOL) {
    let q_all = p.n * p.c * p.ho * p.wo;
    return Window(saved[o], saved[q_all + o], u32(saved[2u * q_all + o]));
  }
  return Window(saved[o], x[index4(pos.x, c, pos.y, pos.z, p.h, p.w)], 4u);
}

// (mean, 1/√(var + ε)) of batch norm `which` (0: BN1, 1: BN2) on channel c: the batch's from rows
// 2·which and 2·which + 1 of the sums (training), else the running statistics.
fn norm(which: u32, c: u32) -> vec2<f32> {
  if (p.training != 0u) {
    let count = f32(p.count);
    let mean = sums_in[2u * which * p.c + c] / count;
    return vec2(mean, inverseSqrt(sums_in[(2u * which + 1u) * p.c + c] / count + p.eps));
  }
  return vec2(param(3u + 4u * which, c), inverseSqrt(param(4u + 4u * which, c) + p.eps));
}

// Row `r` of the sums over the count: a batch mean of the backward (0 in eval mode, where batch norm
// is affine and its adjoint has no mean terms).
fn batch_mean(r: u32, c: u32) -> f32 {
  return select(0.0, sums_in[r * p.c + c] / f32(p.count), p.training != 0u);
}

// What stages 2..6 need of the forward at an output position after its window: ẑ, t and
// g(d) = σ(d) + d·σ(d)·σ(−d) (dx1 = dt·g, dx2 = dt·(1 − g)).
struct Chain {
  zhat: f32,
  t: f32,
  g: f32,
}

// A channel's constants, loaded once per invocation (as unit4 loads them for the vec4 passes; in the
// loops each load would be a gather per position): the conv bias, BN1's γ and β, both norms, BN1's
// γ·ι1 and BN2's γ·ι2, and the backward's batch means (rows 4..7).
struct Unit {
  bias: f32,
  g1: f32,
  b1: f32,
  n1: vec2<f32>,
  n2: vec2<f32>,
  gi1: f32,
  gi2: f32,
  m4: f32,
  m5: f32,
  m6: f32,
  m7: f32,
}

fn unit(c: u32) -> Unit {
  let n1 = norm(0u, c);
  let n2 = norm(1u, c);
  return Unit(param(0u, c), param(1u, c), param(2u, c), n1, n2, param(1u, c) * n1.y, param(5u, c) * n2.y,
              batch_mean(4u, c), batch_mean(5u, c), batch_mean(6u, c), batch_mean(7u, c));
}

fn chain(win: Window, zc: f32, u: Unit) -> Chain {
  let zhat = zc * u.n1.y;
  let x2 = u.g1 * zhat + u.b1;
  let d = win.x1 - x2;
  let s = sigmoid_pair(d);
  return Chain(zhat, d * s.x + x2, s.x + d * s.x * s.y);
}

// The chain at output position pos (o: its index on the output grid), zc = z − μ1: worked out from
// the window by the call's first pass that needs it, which keeps t (KEEP ≥ 1) and g (KEEP == 2) in
// rows 3 and 4 of `saved`; read back from there by the later passes (KEPT), ẑ from zc.
fn chain_at(c: u32, pos: vec3<u32>, o: u32, zc: f32, u: Unit) -> Chain {
  let q_all = p.n * p.c * p.ho * p.wo;
  if (KEPT) {
    return Chain(zc * u.n1.y, saved[3u * q_all + o], saved[4u * q_all + o]);
  }
  let f = chain(site(c, pos, o), zc, u);
  if (KEEP >= 1u) { saved[3u * q_all + o] = f.t; }
  if (KEEP == 2u) { saved[4u * q_all + o] = f.g; }
  return f;
}

// The backward down to dt and dx2 = dt·(1 − g(d)) at an output position; o its index in dy.
struct Upstream {
  dt: f32,
  dx2: f32,
}

fn upstream(f: Chain, o: u32, u: Unit) -> Upstream {
  let that = (f.t - u.n2.x) * u.n2.y;
  let dt = u.gi2 * (dy[o] - u.m4 - that * u.m5);
  return Upstream(dt, dt * (1.0 - f.g));
}

// An invocation's walk over its positions q = (chunk·per + k)·WG + lid, k < per: the first one's
// (n, oh, ow) from divisions, each next one's by adding WG's own (n, oh, ow) steps with carries (no
// division per position: SwiftShader spends more on those than on the loads).
struct Walk {
  q: u32,
  pos: vec3<u32>,
}

fn walk_start(chunk: u32, lid: u32) -> Walk {
  let q = chunk * p.per * WG + lid;
  return Walk(q, position(q));
}

fn walk_next(w: Walk) -> Walk {
  var ow = w.pos.z + p.step_w;
  var oh = w.pos.y + p.step_h;
  var n = w.pos.x + p.step_n;
  if (ow >= p.wo) {
    ow -= p.wo;
    oh += 1u;
  }
  if (oh >= p.ho) {
    oh -= p.ho;
    n += 1u;
  }
  return Walk(w.q + WG, vec3(n, oh, ow));
}

// Where an invocation's partial sum of term t goes: partials[(t·C + c)·slots + chunk·WG + lid], a
// channel's `slots` = min(chunks·WG, N·Ho·Wo) partial sums of a term in a row, which `finish` adds in
// order. With fewer positions than WG (a small plane, a batch of 1×1 ones) the lanes past the last
// position hold nothing and store nothing (their zeros would add nothing), so that the partials never
// outgrow 9 values per output element. No workgroup barrier: SwiftShader runs a barrier as a switch
// through all of the workgroup's invocations.
fn slots() -> u32 {
  return min(p.chunks * WG, p.count);
}

fn store_partial(t: u32, c: u32, chunk: u32, lid: u32, v: f32) {
  let i = chunk * WG + lid;
  if (i < slots()) {
    partials[(t * p.c + c) * slots() + i] = v;
  }
}

// Workgroup w: channel (or channel unit of four) w / chunks, chunk w mod chunks; past the last
// channel in a spare workgroup of a folded grid, which the passes leave at once (its partial sums
// would land in channel 0's next term).
fn chunk_of(wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  let wg = workgroup_index(wid, nwg);
  return vec2(wg / p.chunks, wg % p.chunks);
}

// Stages 0..3: the batch statistics' sums, one term.
@compute @workgroup_size(WG)
fn stats_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let c = cc.x;
  if (c >= p.c) { return; } // a spare workgroup of a folded grid
  let u = unit(c);
  let mean2 = sums_in[2u * p.c + c] / f32(p.count);
  var a = 0.0;
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let pos = w.pos;
      let o = index4(pos.x, c, pos.y, pos.z, p.ho, p.wo);
      let z = saved[o] + u.bias;
      let zc = z - u.n1.x;
      if (STAGE < 2u) {
        // stage 0 sums z (n1 is not yet known there), stage 1 (z − μ1)²
        a += select(zc * zc, z, STAGE == 0u);
      } else {
        let t = chain_at(c, pos, o, zc, u).t;
        a += select((t - mean2) * (t - mean2), t, STAGE == 2u);
      }
    }
    w = walk_next(w);
  }
  store_partial(0u, c, cc.y, lid, a);
}

// Stages 4, 5: Σ dy and Σ dy·t̂ (BN2's gradients), or Σ dx2 and Σ dx2·ẑ (BN1's).
@compute @workgroup_size(WG)
fn bn_grad_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let c = cc.x;
  if (c >= p.c) { return; } // a spare workgroup of a folded grid
  let u = unit(c);
  var a0 = 0.0;
  var a1 = 0.0;
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let pos = w.pos;
      let o = index4(pos.x, c, pos.y, pos.z, p.ho, p.wo);
      let f = chain_at(c, pos, o, saved[o] + u.bias - u.n1.x, u);
      if (STAGE == 4u) {
        a0 += dy[o];
        a1 += dy[o] * ((f.t - u.n2.x) * u.n2.y);
      } else {
        let up = upstream(f, o, u);
        a0 += up.dx2;
        a1 += up.dx2 * f.zhat;
      }
    }
    w = walk_next(w);
  }
  store_partial(0u, c, cc.y, lid, a0);
  store_partial(1u, c, cc.y, lid, a1);
}

// Stage 6: dz = γ1·ι1·(dx2 − …); Σ dz; keeps dz and dx1 for tap_grad_pass and backward_dx.
@compute @workgroup_size(WG)
fn conv_grad_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let c = cc.x;
  if (c >= p.c) { return; } // a spare workgroup of a folded grid
  let u = unit(c);
  let q_all = p.n * p.c * p.ho * p.wo;
  var a = 0.0;
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let pos = w.pos;
      let o = index4(pos.x, c, pos.y, pos.z, p.ho, p.wo);
      let f = chain_at(c, pos, o, saved[o] + u.bias - u.n1.x, u);
      let up = upstream(f, o, u);
      let dz = u.gi1 * (up.dx2 - u.m6 - f.zhat * u.m7);
      saved[3u * q_all + o] = dz;
      saved[4u * q_all + o] = up.dt * f.g;
      a += dz;
    }
    w = walk_next(w);
  }
  store_partial(0u, c, cc.y, lid, a);
}

// Where tap t (0..8, row-major) of output position pos's window lies in x: its row and column
// clamped into the image (an address always inside), and whether it is inside (else padding).
struct TapAt {
  h: u32,
  w: u32,
  ok: bool,
}

fn tap_at(pos: vec3<u32>, t: u32) -> TapAt {
  let h = i32(pos.y * p.stride + t / 3u) - 1;
  let w = i32(pos.z * p.stride + t % 3u) - 1;
  let ok = (h >= 0) & (h < i32(p.h)) & (w >= 0) & (w < i32(p.w));
  return TapAt(u32(clamp(h, 0, i32(p.h) - 1)), u32(clamp(w, 0, i32(p.w) - 1)), ok);
}

// x's tap t of output position pos's window in channel c, zero in the padding: branch-free (a
// clamped address, a select), as tap4 reads four channels.
fn tap1(pos: vec3<u32>, t: u32, c: u32) -> f32 {
  let a = tap_at(pos, t);
  return select(0.0, x[index4(pos.x, c, a.h, a.w, p.h, p.w)], a.ok);
}

// Stage 7: Σ dz·x_tap from the kept dz, the nine taps' sums side by side over one walk (dz loaded
// once per position), its taps read branch-free: a padding tap adds dz·0, as the reference and
// tap_grad_pass_cl4 have it (with branches, nine sums at once took SwiftShader over 30 s to compile).
@compute @workgroup_size(WG)
fn tap_grad_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let c = cc.x;
  if (c >= p.c) { return; } // a spare workgroup of a folded grid
  let dz_at = 3u * p.n * p.c * p.ho * p.wo;
  var a = array<f32, 9>();
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let pos = w.pos;
      let dz = saved_in[dz_at + index4(pos.x, c, pos.y, pos.z, p.ho, p.wo)];
      a[0] += dz * tap1(pos, 0u, c);
      a[1] += dz * tap1(pos, 1u, c);
      a[2] += dz * tap1(pos, 2u, c);
      a[3] += dz * tap1(pos, 3u, c);
      a[4] += dz * tap1(pos, 4u, c);
      a[5] += dz * tap1(pos, 5u, c);
      a[6] += dz * tap1(pos, 6u, c);
      a[7] += dz * tap1(pos, 7u, c);
      a[8] += dz * tap1(pos, 8u, c);
    }
    w = walk_next(w);
  }
  for (var tap = 0u; tap < 9u; tap++) {
    store_partial(tap, c, cc.y, lid, a[tap]);
  }
}

// Invocation (term, c): the channel's slots() partial sums in order, into sums row `row` + term.
@compute @workgroup_size(WG)
fn finish(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  if (i >= p.terms * p.c) { return; }
  let L = slots();
  var s = 0.0;
  for (var j = 0u; j < L; j++) {
    s += partials_in[i * L + j];
  }
  sums[p.row * p.c + i] = s;
}

// One invocation per channel: `batch` = params with the running statistics replaced by the batch's
// mean and biased variance (for acon_frelu.wgsl's fold), and the running statistics moved, as
// PyTorch's: (1 − m)·r + m·batch, the variance unbiased.
@compute @workgroup_size(WG)
fn batch_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let c = global_index(wid, nwg, lid);
  let C = p.c;
  if (c >= C) { return; }
  for (var k = 0u; k < 9u; k++) {
    batch[c * 9u + k] = params[c * 9u + k];
  }
  let count = f32(p.count);
  let m = p.momentum;
  batch[9u * C + c] = param(0u, c);
  var moved: array<f32, 4>;
  for (var b = 0u; b < 2u; b++) {
    let mean = sums_in[2u * b * C + c] / count;
    let sq = sums_in[(2u * b + 1u) * C + c];
    batch[(10u + 4u * b) * C + c] = param(1u + 4u * b, c);
    batch[(11u + 4u * b) * C + c] = param(2u + 4u * b, c);
    batch[(12u + 4u * b) * C + c] = mean;
    batch[(13u + 4u * b) * C + c] = sq / count;
    moved[2u * b] = (1.0 - m) * param(3u + 4u * b, c) + m * mean;
    moved[2u * b + 1u] = (1.0 - m) * param(4u + 4u * b, c) + m * (sq / (count - 1.0));
  }
  bn1_mean[c] = moved[0];
  bn1_var[c] = moved[1];
  bn2_mean[c] = moved[2];
  bn2_var[c] = moved[3];
}

// One invocation per channel: the parameters' gradients from the sums rows: dweight [C, 9]
// (PyTorch's [C, 1, 3, 3]) from the tap-major rows 9..17, dbias row 8, BN1's γ, β rows 7, 6, BN2's 5, 4.
@compute @workgroup_size(WG)
fn param_grads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let c = global_index(wid, nwg, lid);
  let C = p.c;
  if (c >= C) { return; }
  for (var k = 0u; k < 9u; k++) {
    dweight[c * 9u + k] = sums_in[(9u + k) * C + c];
  }
  dbias[c] = sums_in[8u * C + c];
  dgamma1[c] = sums_in[7u * C + c];
  dbeta1[c] = sums_in[6u * C + c];
  dgamma2[c] = sums_in[5u * C + c];
  dbeta2[c] = sums_in[4u * C + c];
}

// dx at stride 2 with C % 4 != 0: one invocation per element of x, the windows that read it, in tap
// order: w·dz (the conv's adjoint) and dx1 where the window's pool kept this element. (Stride 1 and
// C % 4 == 0 walk strips of rows: backward_dx_strip_any, backward_dx_cl4_strip, _strip2.)
@compute @workgroup_size(WG)
fn backward_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let C = p.c;
  if (i >= p.n * C * p.h * p.w) { return; }
  var n: u32;
  var c: u32;
  var h: u32;
  var w: u32;
  if (CHANNELS_LAST) {
    c = i % C;
    let pix = i / C;
    w = pix % p.w;
    h = (pix / p.w) % p.h;
    n = pix / (p.w * p.h);
  } else {
    w = i % p.w;
    h = (i / p.w) % p.h;
    let plane = i / (p.w * p.h);
    c = plane % C;
    n = plane / C;
  }
  let q_all = p.n * C * p.ho * p.wo;
  var s = 0.0;
  for (var k = 0u; k < 9u; k++) {
    // the window (oh, ow) whose tap k is (h, w): oh·s − 1 + k / 3 = h
    let rh = i32(h) + 1 - i32(k / 3u);
    let rw = i32(w) + 1 - i32(k % 3u);
    if (rh < 0 || rw < 0) { continue; }
    // (a shift and a parity test, not a division)
    let oh = u32(rh) >> 1u;
    let ow = u32(rw) >> 1u;
    if (((u32(rh) | u32(rw)) & 1u) != 0u || oh >= p.ho || ow >= p.wo) { continue; }
    let o = index4(n, c, oh, ow, p.ho, p.wo);
    s += params[c * 9u + k] * saved_in[3u * q_all + o];
    // dx1 where x1 came from: the pool's kept tap
    if (saved_in[2u * q_all + o] == f32(k)) {
      s += saved_in[4u * q_all + o];
    }
  }
  dx[i] = s;
}

// The conv weights of tap k for channels 4·cu .. 4·cu + 3 (params is [C, 9]).
fn weights4(cu: u32, k: u32) -> vec4<f32> {
  let c = 4u * cu;
  return vec4(params[c * 9u + k], params[(c + 1u) * 9u + k], params[(c + 2u) * 9u + k], params[(c + 3u) * 9u + k]);
}

// All nine taps' weights4, loaded once per invocation by the strip walks.
fn weights9(cu: u32) -> array<vec4<f32>, 9> {
  return array(weights4(cu, 0u), weights4(cu, 1u), weights4(cu, 2u), weights4(cu, 3u), weights4(cu, 4u),
               weights4(cu, 5u), weights4(cu, 6u), weights4(cu, 7u), weights4(cu, 8u));
}

// x's tap t (0..8, row-major) of output position pos's window for channels 4·cu .. 4·cu + 3, zero in
// the padding: branch-free (a clamped address, a select), as tap1 reads one channel.
fn tap4(pos: vec3<u32>, t: u32, cu: u32, U: u32) -> vec4<f32> {
  let a = tap_at(pos, t);
  return select(vec4(0.0), x4[((pos.x * p.h + a.h) * p.w + a.w) * U + cu], a.ok);
}

// tap_grad_pass for NHWC with C % 4 == 0: workgroup w takes channels 4·cu .. 4·cu + 3 (cu = w /
// chunks) and chunk w mod chunks; the same sums in the same order, four channels at once, the nine
// taps' sums side by side over one walk (dz loaded once per position, not once per tap).
@compute @workgroup_size(WG)
fn tap_grad_pass_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let cu = cc.x;
  if (cu >= p.c / 4u) { return; } // a spare workgroup of a folded grid
  let U = p.c / 4u;
  let dz_at = 3u * p.n * U * p.ho * p.wo;
  var a = array<vec4<f32>, 9>();
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let pos = w.pos;
      let dz = saved4[dz_at + ((pos.x * p.ho + pos.y) * p.wo + pos.z) * U + cu];
      a[0] += dz * tap4(pos, 0u, cu, U);
      a[1] += dz * tap4(pos, 1u, cu, U);
      a[2] += dz * tap4(pos, 2u, cu, U);
      a[3] += dz * tap4(pos, 3u, cu, U);
      a[4] += dz * tap4(pos, 4u, cu, U);
      a[5] += dz * tap4(pos, 5u, cu, U);
      a[6] += dz * tap4(pos, 6u, cu, U);
      a[7] += dz * tap4(pos, 7u, cu, U);
      a[8] += dz * tap4(pos, 8u, cu, U);
    }
    w = walk_next(w);
  }
  for (var tap = 0u; tap < 9u; tap++) {
    for (var j = 0u; j < 4u; j++) {
      store_partial(tap, 4u * cu + j, cc.y, lid, a[tap][j]);
    }
  }
}

// dz's row hh of sample n as the 3×3 neighbourhoods of four pixels (columns w0 .. w0 + 3) of unit cu
// need it: the six pixels w0 − 1 .. w0 + 4, zeros outside the grid (hh ≥ H: the row above the first
// wraps to 2³² − 1). Branch-free as frelu_rows.wgsl's pixels6 (that file, prepended to this one, has
// Pixels6): clamped addresses, selects.
fn dz_pixels6(n: u32, hh: u32, w0: u32, cu: u32, U: u32) -> Pixels6 {
  let ok = hh < p.h;
  let r = 3u * p.n * p.h * p.w * U + (n * p.h + min(hh, p.h - 1u)) * p.w * U + cu;
  let c0 = i32(w0) - 1;
  return Pixels6(dz_pixel4(r, ok, c0, U), dz_pixel4(r, ok, c0 + 1, U), dz_pixel4(r, ok, c0 + 2, U),
                 dz_pixel4(r, ok, c0 + 3, U), dz_pixel4(r, ok, c0 + 4, U), dz_pixel4(r, ok, c0 + 5, U));
}

fn dz_pixel4(r: u32, ok: bool, col: i32, U: u32) -> vec4<f32> {
  let v = saved4[r + u32(clamp(col, 0, i32(p.w) - 1)) * U];
  return select(vec4(0.0), v, ok & (col >= 0) & (col < i32(p.w)));
}

// One pixel's dx at stride 1: its neighbourhood of dz, columns right of (r), at (m) and left of (l)
// it in the rows below (b), at (h) and above (a) — taps 0..8 — and dx1, in backward_dx's order.
fn dx_pixel4(k: array<vec4<f32>, 9>, br: vec4<f32>, bm: vec4<f32>, bl: vec4<f32>, hr: vec4<f32>,
             hm: vec4<f32>, hl: vec4<f32>, ar: vec4<f32>, am: vec4<f32>, al: vec4<f32>,
             dx1: vec4<f32>) -> vec4<f32> {
  return (((((((((k[0] * br + k[1] * bm) + k[2] * bl) + k[3] * hr) + k[4] * hm) + dx1) + k[5] * hl) + k[6] * ar)
           + k[7] * am) + k[8] * al);
}

// backward_dx for C % 4 == 0 at stride 1 as the eval forward walks (acon_frelu.wgsl's
// forward_eval_cl4_strip):
// dx is the conv's adjoint, a 3×3 correlation of dz with the flipped weights, so one invocation per
// four channels of four pixels of a strip of STRIP rows walks down, dz's three rows in registers and
// one new row of six pixels a step, the weights loaded once: 1.5 loads of dz per pixel instead of 9.
@compute @workgroup_size(WG)
fn backward_dx_cl4_strip(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let U = p.c / 4u;
  let at = strip_cl4(global_index(wid, nwg, lid), U, 4u, p.w, p.h);
  if (!at.ok) { return; }
  let cu = at.cu;
  let w0 = at.ow0;
  let h0 = at.h0;
  let n = at.n;
  let k = weights9(cu);
  let dx1_at = 4u * p.n * p.h * p.w * U + cu;
  var above = dz_pixels6(n, h0 - 1u, w0, cu, U);
  var here = dz_pixels6(n, h0, w0, cu, U);
  let end = min(h0 + STRIP, p.h);
  for (var h = h0; h < end; h++) {
    let below = dz_pixels6(n, h + 1u, w0, cu, U);
    let o = ((n * p.h + h) * p.w + w0) * U;
    let a = above;
    let b = below;
    dx4[o + cu] = dx_pixel4(k, b.v2, b.v1, b.v0, here.v2, here.v1, here.v0, a.v2, a.v1, a.v0, saved4[dx1_at + o]);
    if (w0 + 1u < p.w) {
      dx4[o + U + cu] = dx_pixel4(k, b.v3, b.v2, b.v1, here.v3, here.v2, here.v1, a.v3, a.v2, a.v1, saved4[dx1_at + o + U]);
    }
    if (w0 + 2u < p.w) {
      dx4[o + 2u * U + cu] = dx_pixel4(k, b.v4, b.v3, b.v2, here.v4, here.v3, here.v2, a.v4, a.v3, a.v2,
                                       saved4[dx1_at + o + 2u * U]);
    }
    if (w0 + 3u < p.w) {
      dx4[o + 3u * U + cu] = dx_pixel4(k, b.v5, b.v4, b.v3, here.v5, here.v4, here.v3, a.v5, a.v4, a.v3,
                                       saved4[dx1_at + o + 3u * U]);
    }
    above = here;
    here = below;
  }
}

// At stride 1 with C % 4 == 0, the windows' convs (without the bias) into row 0 of `saved` before
// the passes, as the eval forward walks (forward_eval_cl4_strip): four channels of four pixels of a
// strip of STRIP rows per invocation, 1.5 loads of x per output instead of the nine taps a pass that
// computed them gathered. The taps in site4's order: the same bits. Every pass then reads them back.
@compute @workgroup_size(WG)
fn conv_cl4_strip(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let U = p.c / 4u;
  let at = strip_cl4(global_index(wid, nwg, lid), U, 4u, p.w, p.h);
  if (!at.ok) { return; }
  let cu = at.cu;
  let ow0 = at.ow0;
  let n = at.n;
  let k = weights9(cu);
  var above = pixels6(n, at.h0 - 1u, ow0, cu, U);
  var here = pixels6(n, at.h0, ow0, cu, U);
  let end = min(at.h0 + STRIP, p.h);
  let zero = Conv4(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
  for (var oh = at.h0; oh < end; oh++) {
    let below = pixels6(n, oh + 1u, ow0, cu, U);
    let conv = taps_pixels(taps_pixels(taps_pixels(zero, k[0], k[1], k[2], above), k[3], k[4], k[5], here), k[6], k[7], k[8], below);
    let o = ((n * p.h + oh) * p.w + ow0) * U + cu;
    saved4_rw[o] = conv.c0;
    if (ow0 + 1u < p.w) { saved4_rw[o + U] = conv.c1; }
    if (ow0 + 2u < p.w) { saved4_rw[o + 2u * U] = conv.c2; }
    if (ow0 + 3u < p.w) { saved4_rw[o + 3u * U] = conv.c3; }
    above = here;
    here = below;
  }
}

// Kernel row kr (weights k[3·kr] .. k[3·kr + 2]) of one output pixel's stride-2 window, four
// channels (frelu_rows.wgsl's Pool4), over three pixels of a row, left to right.
fn pool_row_cl4(a: Pool4, k: array<vec4<f32>, 9>, kr: u32, l: vec4<f32>, m: vec4<f32>, r: vec4<f32>,
                ok: vec3<bool>) -> Pool4 {
  let t = 3u * kr;
  return pool_tap(pool_tap(pool_tap(a, k[t], f32(t), l, vec4(ok.x)), k[t + 1u], f32(t + 1u), m, vec4(ok.y)), k[t + 2u],
                  f32(t + 2u), r, vec4(ok.z));
}

// Row hh of sample n as two stride-2 windows (output columns ow0, ow0 + 1) need it: the five pixels
// of columns w0 .. w0 + 4 (w0 = 2·ow0 − 1), zeros outside the image; ok: the row lies inside.
struct Row5 {
  ok: bool,
  v0: vec4<f32>,
  v1: vec4<f32>,
  v2: vec4<f32>,
  v3: vec4<f32>,
  v4: vec4<f32>,
}

fn row5(n: u32, hh: u32, w0: i32, cu: u32, U: u32) -> Row5 {
  let ok = hh < p.h;
  let r = n * p.h + min(hh, p.h - 1u);
  return Row5(ok, pixel4(r, ok, w0, cu, U), pixel4(r, ok, w0 + 1, cu, U), pixel4(r, ok, w0 + 2, cu, U),
              pixel4(r, ok, w0 + 3, cu, U), pixel4(r, ok, w0 + 4, cu, U));
}

// At stride 2 with C % 4 == 0, the windows (conv without the bias, the pool's best value and tap)
// into rows 0..2 of `saved` before the passes, as conv_cl4_strip does at stride 1: four channels of
// two output columns of a strip of STRIP output rows per invocation, walking down. Output row oh
// reads input rows 2·oh − 1 .. 2·oh + 1, so each step loads two new rows of five pixels and keeps the
// third from the step before: 5 loads of x per output instead of nine taps (and nine weights)
// gathered per position. Placed by strip_cl4 (two output columns); the taps in site4's order: the same bits.
@compute @workgroup_size(WG)
fn window_cl4_strip2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let U = p.c / 4u;
  let at = strip_cl4(global_index(wid, nwg, lid), U, 2u, p.wo, p.ho);
  if (!at.ok) { return; }
  let cu = at.cu;
  let ow0 = at.ow0;
  let h0 = at.h0;
  let n = at.n;
  let k = weights9(cu);
  // the five columns inside the image (2·ow0 = w0 + 1 always is), the windows' left, middle, right
  let w0 = 2 * i32(ow0) - 1;
  let W = i32(p.w);
  let left = vec3(w0 >= 0, true, w0 + 2 < W);
  let right = vec3(w0 + 2 < W, w0 + 3 < W, w0 + 4 < W);
  let q4 = p.n * U * p.ho * p.wo;
  let start = Pool4(vec4(0.0), vec4(0.0), vec4(4.0), vec4(true));
  // 2·h0 − 1 wraps past the last row when h0 == 0: row5 reads it as padding
  var above = row5(n, 2u * h0 - 1u, w0, cu, U);
  let end = min(h0 + STRIP, p.ho);
  for (var oh = h0; oh < end; oh++) {
    let here = row5(n, 2u * oh, w0, cu, U);
    let below = row5(n, 2u * oh + 1u, w0, cu, U);
    let a = pool_row_cl4(pool_row_cl4(pool_row_cl4(start, k, 0u, above.v0, above.v1, above.v2, left & vec3(above.ok)), k, 1u,
                                here.v0, here.v1, here.v2, left & vec3(here.ok)), k, 2u,
                      below.v0, below.v1, below.v2, left & vec3(below.ok));
    let o = ((n * p.ho + oh) * p.wo + ow0) * U + cu;
    saved4_rw[o] = a.conv;
    saved4_rw[q4 + o] = a.best;
    saved4_rw[2u * q4 + o] = a.tap;
    if (ow0 + 1u < p.wo) {
      let b = pool_row_cl4(pool_row_cl4(pool_row_cl4(start, k, 0u, above.v2, above.v3, above.v4, right & vec3(above.ok)), k, 1u,
                                  here.v2, here.v3, here.v4, right & vec3(here.ok)), k, 2u,
                        below.v2, below.v3, below.v4, right & vec3(below.ok));
      saved4_rw[o + U] = b.conv;
      saved4_rw[q4 + o + U] = b.best;
      saved4_rw[2u * q4 + o + U] = b.tap;
    }
    above = below;
  }
}

// Channel c's conv weights (params is [C, 9]) by kernel row, for the one-channel walks.
fn kernel_rows(c: u32) -> array<vec3<f32>, 3> {
  let b = c * 9u;
  return array(vec3(params[b], params[b + 1u], params[b + 2u]), vec3(params[b + 3u], params[b + 4u], params[b + 5u]),
               vec3(params[b + 6u], params[b + 7u], params[b + 8u]));
}

// dz's row hh of a channel as a stride-1 dx walk of eight pixels (columns ow0 .. ow0 + 7) needs it,
// as frelu_rows.wgsl's row10_any reads x: columns ow0 − 1 .. ow0 + 8 of the row sw·W·hh past base
// in dz (saved row 3), zeros outside the grid.
fn dz_row10(base: u32, hh: u32, ow0: u32, sw: u32) -> Row10 {
  let ok = hh < p.h;
  let r = 3u * p.n * p.c * p.h * p.w + base + min(hh, p.h - 1u) * p.w * sw;
  let w0 = i32(ow0) - 1;
  return Row10(dz_at(r, ok, w0, sw),
               vec4(dz_at(r, ok, w0 + 1, sw), dz_at(r, ok, w0 + 2, sw), dz_at(r, ok, w0 + 3, sw), dz_at(r, ok, w0 + 4, sw)),
               vec4(dz_at(r, ok, w0 + 5, sw), dz_at(r, ok, w0 + 6, sw), dz_at(r, ok, w0 + 7, sw), dz_at(r, ok, w0 + 8, sw)),
               dz_at(r, ok, w0 + 9, sw));
}

fn dz_at(r: u32, ok: bool, col: i32, sw: u32) -> f32 {
  let v = saved_in[r + u32(clamp(col, 0, i32(p.w) - 1)) * sw];
  return select(0.0, v, ok & (col >= 0) & (col < i32(p.w)));
}

// Four pixels' dx at stride 1 from dz's rows below (b), here (h) and above (a), each as the pixels'
// right (r), middle (m) and left (l) neighbours, in backward_dx's order (taps 0..8, dx1 after tap 4).
fn dx_four(k: array<vec3<f32>, 3>, br: vec4<f32>, bm: vec4<f32>, bl: vec4<f32>, hr: vec4<f32>, hm: vec4<f32>,
           hl: vec4<f32>, ar: vec4<f32>, am: vec4<f32>, al: vec4<f32>, dx1: vec4<f32>) -> vec4<f32> {
  let s = ((((vec4(0.0) + k[0].x * br) + k[0].y * bm) + k[0].z * bl) + k[1].x * hr) + k[1].y * hm;
  return ((((s + dx1) + k[1].z * hl) + k[2].x * ar) + k[2].y * am) + k[2].z * al;
}

// dx1 of pixels ow0 .. ow0 + 3 (saved row 4, o the first's index; a pixel past the row reads as 0).
fn dx1_four(o: u32, ow0: u32, sw: u32) -> vec4<f32> {
  let r = 4u * p.n * p.c * p.h * p.w + o - ow0 * sw;
  let w0 = i32(ow0);
  return vec4(dz_at(r, true, w0, sw), dz_at(r, true, w0 + 1, sw), dz_at(r, true, w0 + 2, sw), dz_at(r, true, w0 + 3, sw));
}

// backward_dx at stride 1 with C % 4 != 0 (either layout) as a strip walk, as backward_dx_cl4_strip
// is for C % 4 == 0: one channel of eight columns of a strip of STRIP rows per invocation (strip_any
// places them), dz's three rows in registers and one new row of ten values a step, the weights
// loaded once, instead of nine gathers of dz per element. The same sums as backward_dx (a window
// outside the grid adds w·0 where it skipped it, an exact zero for finite w).
@compute @workgroup_size(WG)
fn backward_dx_strip_any(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let at = strip_any(global_index(wid, nwg, lid), 8u, p.w, p.h, CHANNELS_LAST);
  if (!at.ok) { return; }
  let k = kernel_rows(at.c);
  // at.h0 − 1 wraps past the last row when at.h0 == 0: dz_row10 reads it as padding
  var above = dz_row10(at.base, at.h0 - 1u, at.ow0, at.sw);
  var here = dz_row10(at.base, at.h0, at.ow0, at.sw);
  let end = min(at.h0 + STRIP, p.h);
  for (var h = at.h0; h < end; h++) {
    let below = dz_row10(at.base, h + 1u, at.ow0, at.sw);
    let o = at.base + (h * p.w + at.ow0) * at.sw;
    let a = above;
    let b = below;
    let lo = dx_four(k, right_lo(b), b.m0, left_lo(b), right_lo(here), here.m0, left_lo(here), right_lo(a), a.m0,
                     left_lo(a), dx1_four(o, at.ow0, at.sw));
    let hi = dx_four(k, right_hi(b), b.m1, left_hi(b), right_hi(here), here.m1, left_hi(here), right_hi(a), a.m1,
                     left_hi(a), dx1_four(o + 4u * at.sw, at.ow0 + 4u, at.sw));
    dx[o] = lo.x;
    if (at.ow0 + 1u < p.w) { dx[o + at.sw] = lo.y; }
    if (at.ow0 + 2u < p.w) { dx[o + 2u * at.sw] = lo.z; }
    if (at.ow0 + 3u < p.w) { dx[o + 3u * at.sw] = lo.w; }
    if (at.ow0 + 4u < p.w) { dx[o + 4u * at.sw] = hi.x; }
    if (at.ow0 + 5u < p.w) { dx[o + 5u * at.sw] = hi.y; }
    if (at.ow0 + 6u < p.w) { dx[o + 6u * at.sw] = hi.z; }
    if (at.ow0 + 7u < p.w) { dx[o + 7u * at.sw] = hi.w; }
    above = here;
    here = below;
  }
}

// At stride 1 with C % 4 != 0 (either layout), the windows' convs (without the bias) into row 0 of
// `saved` before the passes, as conv_cl4_strip does for C % 4 == 0: one channel of eight columns of a
// strip of STRIP rows per invocation, walking down with scalar loads (row10_any, ten a row), placed
// as strip_any places the eval forward's forward_eval_strip_any, instead of the first pass gathering
// nine taps per position that it replaces. The taps row by row, left to right, as that pass summed
// them: the same bits (a padding tap adds w·0 where it skipped the tap, an exact zero for finite w).
@compute @workgroup_size(WG)
fn conv_strip_any(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let at = strip_any(global_index(wid, nwg, lid), 8u, p.w, p.h, CHANNELS_LAST);
  if (!at.ok) { return; }
  let k = kernel_rows(at.c);
  // at.h0 − 1 wraps past the last row when at.h0 == 0: row10_any reads it as padding
  var above = row10_any(at.base, at.h0 - 1u, at.ow0, at.sw);
  var here = row10_any(at.base, at.h0, at.ow0, at.sw);
  let end = min(at.h0 + STRIP, p.h);
  for (var oh = at.h0; oh < end; oh++) {
    let below = row10_any(at.base, oh + 1u, at.ow0, at.sw);
    let lo = taps_lo(taps_lo(taps_lo(vec4(0.0), k[0], above), k[1], here), k[2], below);
    let hi = taps_hi(taps_hi(taps_hi(vec4(0.0), k[0], above), k[1], here), k[2], below);
    let o = at.base + (oh * p.w + at.ow0) * at.sw;
    saved[o] = lo.x;
    if (at.ow0 + 1u < p.w) { saved[o + at.sw] = lo.y; }
    if (at.ow0 + 2u < p.w) { saved[o + 2u * at.sw] = lo.z; }
    if (at.ow0 + 3u < p.w) { saved[o + 3u * at.sw] = lo.w; }
    if (at.ow0 + 4u < p.w) { saved[o + 4u * at.sw] = hi.x; }
    if (at.ow0 + 5u < p.w) { saved[o + 5u * at.sw] = hi.y; }
    if (at.ow0 + 6u < p.w) { saved[o + 6u * at.sw] = hi.z; }
    if (at.ow0 + 7u < p.w) { saved[o + 7u * at.sw] = hi.w; }
    above = here;
    here = below;
  }
}

// Keeps output o's window (its conv, x1 and x1's tap) in rows 0..2 of `saved` (q_all outputs a row).
fn keep(o: u32, q_all: u32, conv: f32, best: f32, tap: f32) {
  saved[o] = conv;
  saved[q_all + o] = best;
  saved[2u * q_all + o] = tap;
}

// At stride 2 with C % 4 != 0 (either layout), the windows (conv without the bias, the pool's best
// value and tap) into rows 0..2 of `saved` before the passes, as window_cl4_strip2 does for
// C % 4 == 0: one channel of four output columns of a strip of STRIP output rows per invocation,
// walking down as the eval forward's forward_eval_strip2_any does (two new rows of nine scalars a
// step, frelu_rows.wgsl's pool_window), instead of the first pass gathering nine taps per position
// that it replaces; the same bits, as conv_strip_any.
@compute @workgroup_size(WG)
fn window_strip2_any(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let at = strip_any(global_index(wid, nwg, lid), 4u, p.wo, p.ho, CHANNELS_LAST);
  if (!at.ok) { return; }
  let out = strip_out(at, p.ho * p.wo, CHANNELS_LAST);
  let q_all = p.n * p.c * p.ho * p.wo;
  let k = kernel_rows(at.c);
  let ok = pool_columns(at.ow0);
  // 2·at.h0 − 1 wraps past the last row when at.h0 == 0: row9_any reads it as padding
  var above = row9_any(at.base, 2u * at.h0 - 1u, at.ow0, at.sw);
  let end = min(at.h0 + STRIP, p.ho);
  for (var oh = at.h0; oh < end; oh++) {
    let here = row9_any(at.base, 2u * oh, at.ow0, at.sw);
    let below = row9_any(at.base, 2u * oh + 1u, at.ow0, at.sw);
    let win = pool_window(k[0], k[1], k[2], above, here, below, ok);
    let o = out + (oh * p.wo + at.ow0) * at.sw;
    keep(o, q_all, win.conv.x, win.best.x, win.tap.x);
    if (at.ow0 + 1u < p.wo) { keep(o + at.sw, q_all, win.conv.y, win.best.y, win.tap.y); }
    if (at.ow0 + 2u < p.wo) { keep(o + 2u * at.sw, q_all, win.conv.z, win.best.z, win.tap.z); }
    if (at.ow0 + 3u < p.wo) { keep(o + 3u * at.sw, q_all, win.conv.w, win.best.w, win.tap.w); }
    above = below;
  }
}

// What dx at stride 2 needs of one output pixel (row oh, column ow) of unit cu: dz, the pool's kept
// tap and dx1 (saved rows 3, 2 and 4); ok false outside the output grid (nothing is added then).
struct Out4 {
  ok: bool,
  dz: vec4<f32>,
  tap: vec4<f32>,
  dx1: vec4<f32>,
}

fn out_pixel4(n: u32, oh: u32, ow: u32, cu: u32, U: u32) -> Out4 {
  let q4 = p.n * U * p.ho * p.wo;
  let o = ((n * p.ho + min(oh, p.ho - 1u)) * p.wo + min(ow, p.wo - 1u)) * U + cu;
  return Out4((oh < p.ho) & (ow < p.wo), saved4[3u * q4 + o], saved4[2u * q4 + o], saved4[4u * q4 + o]);
}

// An output row's three pixels (columns ow0 .. ow0 + 2) as the windows of four input columns
// 2·ow0 .. 2·ow0 + 3 reach them.
struct OutRow3 {
  a: Out4,
  b: Out4,
  c: Out4,
}

fn out_row3(n: u32, oh: u32, ow0: u32, cu: u32, U: u32) -> OutRow3 {
  return OutRow3(out_pixel4(n, oh, ow0, cu, U), out_pixel4(n, oh, ow0 + 1u, cu, U), out_pixel4(n, oh, ow0 + 2u, cu, U));
}

// backward_dx's step for tap k (weights wk, four channels) of output pixel o: its conv term, then
// dx1 where the pool kept tap k; nothing where o lies outside the output grid, as the gather skips it.
fn dx_tap(s: vec4<f32>, wk: vec4<f32>, k: f32, o: Out4) -> vec4<f32> {
  let a = s + wk * o.dz;
  return select(s, a + select(vec4(0.0), o.dx1, o.tap == vec4(k)), o.ok);
}

// backward_dx for C % 4 == 0 at stride 2 as a strip walk. An input row 2·oh is reached by output row oh alone
// (kernel row 1), row 2·oh + 1 by rows oh + 1 (kernel row 0) and oh (kernel row 2), and columns the
// same way, so one invocation per four channels of two output columns of a strip of STRIP output
// rows walks down and writes the 2 × 4 input pixels under each step's output row: each output pixel's
// dz, kept tap and dx1 are loaded once (three pixels a row, the row below carried to the next step)
// instead of once per tap of every input pixel. The terms in backward_dx's order (k ascending).
@compute @workgroup_size(WG)
fn backward_dx_cl4_strip2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
  let U = p.c / 4u;
  let at = strip_cl4(global_index(wid, nwg, lid), U, 2u, p.wo, p.ho);
  if (!at.ok) { return; }
  let cu = at.cu;
  let ow0 = at.ow0;
  let h0 = at.h0;
  let n = at.n;
  let k = weights9(cu);
  let w0 = 2u * ow0;
  let zero = vec4(0.0);
  var here = out_row3(n, h0, ow0, cu, U);
  let end = min(h0 + STRIP, p.ho);
  for (var oh = h0; oh < end; oh++) {
    let next = out_row3(n, oh + 1u, ow0, cu, U);
    // input row 2·oh: kernel row 1 of output row oh; even columns tap 4, odd ones taps 3 and 5
    let e0 = dx_tap(zero, k[4], 4.0, here.a);
    let o0 = dx_tap(dx_tap(zero, k[3], 3.0, here.b), k[5], 5.0, here.a);
    let e1 = dx_tap(zero, k[4], 4.0, here.b);
    let o1 = dx_tap(dx_tap(zero, k[3], 3.0, here.c), k[5], 5.0, here.b);
    // input row 2·oh + 1: kernel row 0 of output row oh + 1, then kernel row 2 of row oh
    let e2 = dx_tap(dx_tap(zero, k[1], 1.0, next.a), k[7], 7.0, here.a);
    let o2 = dx_tap(dx_tap(dx_tap(dx_tap(zero, k[0], 0.0, next.b), k[2], 2.0, next.a), k[6], 6.0, here.b), k[8], 8.0, here.a);
    let e3 = dx_tap(dx_tap(zero, k[1], 1.0, next.b), k[7], 7.0, here.b);
    let o3 = dx_tap(dx_tap(dx_tap(dx_tap(zero, k[0], 0.0, next.c), k[2], 2.0, next.b), k[6], 6.0, here.c), k[8], 8.0, here.b);
    let h = 2u * oh;
    let top = ((n * p.h + h) * p.w + w0) * U + cu;
    dx4[top] = e0;
    if (w0 + 1u < p.w) { dx4[top + U] = o0; }
    if (w0 + 2u < p.w) { dx4[top + 2u * U] = e1; }
    if (w0 + 3u < p.w) { dx4[top + 3u * U] = o1; }
    if (h + 1u < p.h) {
      let low = top + p.w * U;
      dx4[low] = e2;
      if (w0 + 1u < p.w) { dx4[low + U] = o2; }
      if (w0 + 2u < p.w) { dx4[low + 2u * U] = e3; }
      if (w0 + 3u < p.w) { dx4[low + 3u * U] = o3; }
    }
    here = next;
  }
}

// ---- the passes for NHWC with C % 4 == 0: channels 4·cu .. 4·cu + 3 per invocation -------------
// The scalar passes' arithmetic, component by component in the same order (same sums, same
// bounds); workgroup w takes channel unit cu = w / chunks and chunk w mod chunks, and each
// invocation stores four partial sums per term.

fn param4(k: u32, cu: u32) -> vec4<f32> {
  let b = (9u + k) * p.c + 4u * cu;
  return vec4(params[b], params[b + 1u], params[b + 2u], params[b + 3u]);
}

fn row4(r: u32, cu: u32) -> vec4<f32> {
  let b = r * p.c + 4u * cu;
  return vec4(sums_in[b], sums_in[b + 1u], sums_in[b + 2u], sums_in[b + 3u]);
}

struct Norm4 {
  mean: vec4<f32>,
  inv: vec4<f32>,
}

fn norm4(which: u32, cu: u32) -> Norm4 {
  if (p.training != 0u) {
    let count = f32(p.count);
    return Norm4(row4(2u * which, cu) / count, inverseSqrt(row4(2u * which + 1u, cu) / count + p.eps));
  }
  return Norm4(param4(3u + 4u * which, cu), inverseSqrt(param4(4u + 4u * which, cu) + p.eps));
}

fn batch_mean4(r: u32, cu: u32) -> vec4<f32> {
  return select(vec4(0.0), row4(r, cu) / f32(p.count), p.training != 0u);
}

struct Window4 {
  conv: vec4<f32>,
  x1: vec4<f32>,
  tap: vec4<f32>,
}

// site() for four channels, o4 the output's vec4 index: read back from `saved`, where a strip walk
// ahead of the passes keeps it (conv_cl4_strip at stride 1: the conv alone, x1 is x at the window's
// centre and its tap 4; window_cl4_strip2 at stride 2: the conv, the pool's best value and tap).
fn site4(cu: u32, pos: vec3<u32>, o4: u32) -> Window4 {
  if (POOL) {
    let q4 = p.n * (p.c / 4u) * p.ho * p.wo;
    return Window4(saved4_rw[o4], saved4_rw[q4 + o4], saved4_rw[2u * q4 + o4]);
  }
  let centre = ((pos.x * p.h + pos.y) * p.w + pos.z) * (p.c / 4u) + cu;
  return Window4(saved4_rw[o4], x4[centre], vec4(4.0));
}

struct Chain4 {
  zhat: vec4<f32>,
  t: vec4<f32>,
  g: vec4<f32>,
}

// A channel unit's constants, loaded once per invocation (not per position: the loop writes storage,
// so a compiler cannot hoist the loads, and on SwiftShader each is four gathers): the conv bias,
// BN1's γ and β, both norms, BN2's γ·ι2 and BN1's γ·ι1, and the backward's batch means (rows 4..7).
struct Unit4 {
  bias: vec4<f32>,
  g1: vec4<f32>,
  b1: vec4<f32>,
  n1: Norm4,
  n2: Norm4,
  gi1: vec4<f32>,
  gi2: vec4<f32>,
  m4: vec4<f32>,
  m5: vec4<f32>,
  m6: vec4<f32>,
  m7: vec4<f32>,
}

fn unit4(cu: u32) -> Unit4 {
  let n1 = norm4(0u, cu);
  let n2 = norm4(1u, cu);
  return Unit4(param4(0u, cu), param4(1u, cu), param4(2u, cu), n1, n2, param4(1u, cu) * n1.inv,
               param4(5u, cu) * n2.inv, batch_mean4(4u, cu), batch_mean4(5u, cu), batch_mean4(6u, cu),
               batch_mean4(7u, cu));
}

fn chain4(win: Window4, zc: vec4<f32>, u: Unit4) -> Chain4 {
  let zhat = zc * u.n1.inv;
  let x2 = u.g1 * zhat + u.b1;
  let d = win.x1 - x2;
  let s = sigmoid_pair4(d);
  return Chain4(zhat, d * s.s + x2, s.s + d * s.s * s.sb);
}

// chain_at for four channels, o4 the output's vec4 index.
fn chain4_at(cu: u32, pos: vec3<u32>, o4: u32, zc: vec4<f32>, u: Unit4) -> Chain4 {
  let q4 = p.n * (p.c / 4u) * p.ho * p.wo;
  if (KEPT) {
    return Chain4(zc * u.n1.inv, saved4_rw[3u * q4 + o4], saved4_rw[4u * q4 + o4]);
  }
  let f = chain4(site4(cu, pos, o4), zc, u);
  if (KEEP >= 1u) { saved4_rw[3u * q4 + o4] = f.t; }
  if (KEEP == 2u) { saved4_rw[4u * q4 + o4] = f.g; }
  return f;
}

struct Upstream4 {
  dt: vec4<f32>,
  dx2: vec4<f32>,
}

fn upstream4(f: Chain4, g_dy: vec4<f32>, u: Unit4) -> Upstream4 {
  let that = (f.t - u.n2.mean) * u.n2.inv;
  let dt = u.gi2 * (g_dy - u.m4 - that * u.m5);
  return Upstream4(dt, dt * (1.0 - f.g));
}

fn store4(t: u32, cu: u32, chunk: u32, lid: u32, a: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    store_partial(t, 4u * cu + j, chunk, lid, a[j]);
  }
}

// The output's vec4 index of position pos, channels 4·cu .. 4·cu + 3.
fn out4(pos: vec3<u32>, cu: u32) -> u32 {
  return ((pos.x * p.ho + pos.y) * p.wo + pos.z) * (p.c / 4u) + cu;
}

@compute @workgroup_size(WG)
fn stats_pass_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let cu = cc.x;
  if (cu >= p.c / 4u) { return; } // a spare workgroup of a folded grid
  let u = unit4(cu);
  let mean2 = row4(2u, cu) / f32(p.count);
  var a = vec4(0.0);
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let o4 = out4(w.pos, cu);
      let z = saved4_rw[o4] + u.bias;
      let zc = z - u.n1.mean;
      if (STAGE < 2u) {
        a += select(zc * zc, z, STAGE == 0u);
      } else {
        let t = chain4_at(cu, w.pos, o4, zc, u).t;
        a += select((t - mean2) * (t - mean2), t, STAGE == 2u);
      }
    }
    w = walk_next(w);
  }
  store4(0u, cu, cc.y, lid, a);
}

@compute @workgroup_size(WG)
fn bn_grad_pass_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let cu = cc.x;
  if (cu >= p.c / 4u) { return; } // a spare workgroup of a folded grid
  let u = unit4(cu);
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let o4 = out4(w.pos, cu);
      let f = chain4_at(cu, w.pos, o4, saved4_rw[o4] + u.bias - u.n1.mean, u);
      let g_dy = dy4[o4];
      if (STAGE == 4u) {
        a0 += g_dy;
        a1 += g_dy * ((f.t - u.n2.mean) * u.n2.inv);
      } else {
        let up = upstream4(f, g_dy, u);
        a0 += up.dx2;
        a1 += up.dx2 * f.zhat;
      }
    }
    w = walk_next(w);
  }
  store4(0u, cu, cc.y, lid, a0);
  store4(1u, cu, cc.y, lid, a1);
}

@compute @workgroup_size(WG)
fn conv_grad_pass_cl4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let cc = chunk_of(wid, nwg);
  let cu = cc.x;
  if (cu >= p.c / 4u) { return; } // a spare workgroup of a folded grid
  let u = unit4(cu);
  let q4 = p.n * (p.c / 4u) * p.ho * p.wo;
  var a = vec4(0.0);
  var w = walk_start(cc.y, lid);
  for (var k = 0u; k < p.per; k++) {
    if (w.q < p.count) {
      let o4 = out4(w.pos, cu);
      let f = chain4_at(cu, w.pos, o4, saved4_rw[o4] + u.bias - u.n1.mean, u);
      let up = upstream4(f, dy4[o4], u);
      let dz = u.gi1 * (up.dx2 - u.m6 - f.zhat * u.m7);
      saved4_rw[3u * q4 + o4] = dz;
      saved4_rw[4u * q4 + o4] = up.dt * f.g;
      a += dz;
    }
    w = walk_next(w);
  }
  store4(0u, cu, cc.y, lid, a);
}

// NCHW with C % 4 == 0 runs the channels-last passes (the *_cl4 entry points) on copies: a
// [N, C, P] tensor (P = h·w pixels) to [N, P, C/4] vec4s, and back. One invocation per vec4 (per
// element back), pixels fastest, so that the NCHW side's accesses are consecutive.
@compute @workgroup_size(WG)
fn to_channels_last(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let U = p.c / 4u;
  let P = p.h * p.w;
  if (i >= p.n * U * P) { return; }
  let pix = i % P;
  let nu = i / P; // n·U + cu
  let cu = nu % U;
  let n = nu / U;
  let at = (n * p.c + 4u * cu) * P + pix;
  cl4_out[(n * P + pix) * U + cu] = vec4(planar_in[at], planar_in[at + P], planar_in[at + 2u * P], planar_in[at + 3u * P]);
}

@compute @workgroup_size(WG)
fn to_channels_first(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let i = global_index(wid, nwg, lid);
  let U = p.c / 4u;
  let P = p.h * p.w;
  if (i >= p.n * p.c * P) { return; }
  let pix = i % P;
  let nc = i / P; // n·C + c
  let c = nc % p.c;
  let n = nc / p.c;
  planar_out[i] = cl4_in[(n * P + pix) * U + c / 4u][c % 4u];
}

// The same copies with P % 4 == 0, a 4×4 block per invocation (four pixels of four channels): four
// vec4 loads and four vec4 stores, each side's rows consecutive, transposed in registers.
struct Block4 {
  U: u32,  // channel units C/4
  P4: u32, // pixel quads h·w/4
  q: u32,
  cu: u32,
  n: u32,  // p.n or more: past the end
}

// Invocation i's block: its pixel quad fastest, then its channel unit, then its sample.
fn block4(i: u32) -> Block4 {
  let U = p.c / 4u;
  let P4 = p.h * p.w / 4u;
  let nu = i / P4; // n·U + cu
  return Block4(U, P4, i % P4, nu % U, nu / U);
}

@compute @workgroup_size(WG)
fn to_channels_last4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let b = block4(global_index(wid, nwg, lid));
  if (b.n >= p.n) { return; }
  let at = (b.n * p.c + 4u * b.cu) * b.P4 + b.q;
  let m = transpose(mat4x4(planar_in4[at], planar_in4[at + b.P4], planar_in4[at + 2u * b.P4], planar_in4[at + 3u * b.P4]));
  let out = (b.n * 4u * b.P4 + 4u * b.q) * b.U + b.cu;
  for (var j = 0u; j < 4u; j++) { cl4_out[out + j * b.U] = m[j]; }
}

@compute @workgroup_size(WG)
fn to_channels_first4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let b = block4(global_index(wid, nwg, lid));
  if (b.n >= p.n) { return; }
  let at = (b.n * 4u * b.P4 + 4u * b.q) * b.U + b.cu;
  let m = transpose(mat4x4(cl4_in[at], cl4_in[at + b.U], cl4_in[at + 2u * b.U], cl4_in[at + 3u * b.U]));
  let out = (b.n * p.c + 4u * b.cu) * b.P4 + b.q;
  for (var k = 0u; k < 4u; k++) { planar_out4[out + k * b.P4] = m[k]; }
}
