// What ACON-FReLU's strip walks share: the rows of x they read (pixels6, row10, row10_any,
// row9_any), where their invocations work (strip_cl4, strip_any, strip_out), the window sums (Conv4
// and taps_pixels in NHWC, taps_lo and taps_hi over Row10s), the stride-2 windows' conv and max
// pool (Pool4, pool_window, pool_columns) and the eval forward's activation (smooth_max4). One
// definition for the fused eval forward (acon_frelu.wgsl), its rooflines (bench/window.wgsl), so
// that they walk and compute exactly as the kernel does, and the training shader
// (acon_frelu_train.wgsl), whose walks ahead of its passes sum the same windows and whose dx walks
// read dz's rows in the same Pixels6 and Row10.
// No bindings of its own: the including shader declares the uniform `p` (with n, c, h and w), x
// (array<f32>) and x4 (array<vec4<f32>>), the same buffer viewed twice, and the override STRIP.

// Where invocation i of an NHWC strip walk (C % 4 == 0: four channels of `group` columns of a strip
// of STRIP rows per invocation, over a grid `width` × `height`: four pixels over H × W at stride 1,
// two output columns over Ho × Wo at stride 2) works: its channel unit cu of U, its first column ow0 and row h0, and
// its sample n; ok is false past the grid. The channel units run fastest, then the column groups,
// the strips and the samples.
struct StripCl4 {
  ok: bool,
  cu: u32,
  ow0: u32,
  h0: u32,
  n: u32,
}

fn strip_cl4(i: u32, U: u32, group: u32, width: u32, height: u32) -> StripCl4 {
  let Q = (width + group - 1u) / group;
  let strips = (height + STRIP - 1u) / STRIP;
  let g = i / U;
  let g2 = g / Q;
  return StripCl4(i < p.n * strips * Q * U, i % U, group * (g % Q), STRIP * (g2 % strips), g2 / strips);
}

// x's pixel (n·H + row, col) of channel unit cu as a vec4 (NHWC, U = C/4 units), zero outside the
// image (the conv's padding: a zero tap adds an exact zero). Branch-free: the load always runs, from
// a clamped address inside the image, and a select zeroes it where `ok` (row inside) or the column
// fails (on SwiftShader the branches cost as much as σ and BN together).
fn pixel4(nrow: u32, ok: bool, col: i32, cu: u32, U: u32) -> vec4<f32> {
  let v = x4[(nrow * p.w + u32(clamp(col, 0, i32(p.w) - 1))) * U + cu];
  return select(vec4(0.0), v, ok & (col >= 0) & (col < i32(p.w)));
}

// Row hh of sample n (NHWC) as the 3×3 windows of four pixels (columns ow0 .. ow0 + 3) of unit cu
// need it: the six pixels they span; zeros outside the image (hh ≥ H: the row above the first wraps
// to 2³² − 1).
struct Pixels6 {
  v0: vec4<f32>,
  v1: vec4<f32>,
  v2: vec4<f32>,
  v3: vec4<f32>,
  v4: vec4<f32>,
  v5: vec4<f32>,
}

fn pixels6(n: u32, hh: u32, ow0: u32, cu: u32, U: u32) -> Pixels6 {
  let ok = hh < p.h;
  let r = n * p.h + min(hh, p.h - 1u);
  let w0 = i32(ow0) - 1;
  return Pixels6(pixel4(r, ok, w0, cu, U), pixel4(r, ok, w0 + 1, cu, U), pixel4(r, ok, w0 + 2, cu, U),
                 pixel4(r, ok, w0 + 3, cu, U), pixel4(r, ok, w0 + 4, cu, U), pixel4(r, ok, w0 + 5, cu, U));
}

// The four pixels' convs plus one row's three taps (weights k0, k1, k2, four channels each), in the
// taps' order: the NHWC walks' window sums (the eval forward's and the training passes' conv).
struct Conv4 {
  c0: vec4<f32>,
  c1: vec4<f32>,
  c2: vec4<f32>,
  c3: vec4<f32>,
}

fn taps_pixels(a: Conv4, k0: vec4<f32>, k1: vec4<f32>, k2: vec4<f32>, r: Pixels6) -> Conv4 {
  return Conv4(((a.c0 + k0 * r.v0) + k1 * r.v1) + k2 * r.v2, ((a.c1 + k0 * r.v1) + k1 * r.v2) + k2 * r.v3,
               ((a.c2 + k0 * r.v2) + k1 * r.v3) + k2 * r.v4, ((a.c3 + k0 * r.v3) + k1 * r.v4) + k2 * r.v5);
}

// d·σ(d) + x2 then BN2 (y = a2·t + b2), d = x1 − x2, for four outputs: the activation after the
// window, in the eval forward and in its arithmetic roofline (bench/window.wgsl's arith_roofline).
fn smooth_max4(x1: vec4<f32>, x2: vec4<f32>, a2: vec4<f32>, b2: vec4<f32>) -> vec4<f32> {
  let d = x1 - x2;
  let s = sigmoid_pair4(d).s;
  return a2 * (d * s + x2) + b2;
}

// Row hh of an NCHW plane as the 3×3 windows of eight outputs (columns ow0 .. ow0 + 7) need it: two
// aligned vec4s and the neighbour on either side; zeros outside the plane (the conv's padding), and
// m1 too where the row ends after m0 (W % 8 == 4). Branch-free as pixel4: every load runs, from a
// clamped address inside the plane, and selects zero what lies outside.
struct Row10 {
  before: f32,
  m0: vec4<f32>,
  m1: vec4<f32>,
  after: f32,
}

fn row10(base: u32, hh: u32, ow0: u32) -> Row10 {
  let ok = hh < p.h;
  let r = base + min(hh, p.h - 1u) * p.w;
  let v = (r + ow0) / 4u;
  let two = ow0 + 4u < p.w;
  let before = select(0.0, x[r + max(ow0, 1u) - 1u], ok & (ow0 > 0u));
  let after = select(0.0, x[r + min(ow0 + 8u, p.w - 1u)], ok & (ow0 + 8u < p.w));
  return Row10(before, select(vec4(0.0), x4[v], ok), select(vec4(0.0), x4[select(v, v + 1u, two)], ok & two), after);
}

// A row's left and right neighbours of the first four of its eight columns (lo) and of the last
// four (hi); m0 and m1 are the columns themselves.
fn left_lo(r: Row10) -> vec4<f32> {
  return vec4(r.before, r.m0.xyz);
}

fn right_lo(r: Row10) -> vec4<f32> {
  return vec4(r.m0.yzw, r.m1.x);
}

fn left_hi(r: Row10) -> vec4<f32> {
  return vec4(r.m0.w, r.m1.xyz);
}

fn right_hi(r: Row10) -> vec4<f32> {
  return vec4(r.m1.yzw, r.after);
}

// conv + k·(a row's three taps) for the first four of the eight outputs (lo) and the last four (hi),
// in the taps' order.
fn taps_lo(conv: vec4<f32>, k: vec3<f32>, r: Row10) -> vec4<f32> {
  return ((conv + k.x * left_lo(r)) + k.y * r.m0) + k.z * right_lo(r);
}

fn taps_hi(conv: vec4<f32>, k: vec3<f32>, r: Row10) -> vec4<f32> {
  return ((conv + k.x * left_hi(r)) + k.y * r.m1) + k.z * right_hi(r);
}

// x's value at column col of the row that starts at r, its elements sw apart (1 in NCHW, C in NHWC),
// zero outside the image: branch-free as pixel4.
fn x_at(r: u32, ok: bool, col: i32, sw: u32) -> f32 {
  let v = x[r + u32(clamp(col, 0, i32(p.w) - 1)) * sw];
  return select(0.0, v, ok & (col >= 0) & (col < i32(p.w)));
}

// Row hh of a channel as row10 returns it, for any W and either layout: ten scalar loads, columns
// ow0 − 1 .. ow0 + 8 of the row sw·W·hh past base, zeros outside the image.
fn row10_any(base: u32, hh: u32, ow0: u32, sw: u32) -> Row10 {
  let ok = hh < p.h;
  let r = base + min(hh, p.h - 1u) * p.w * sw;
  let w0 = i32(ow0) - 1;
  return Row10(x_at(r, ok, w0, sw),
               vec4(x_at(r, ok, w0 + 1, sw), x_at(r, ok, w0 + 2, sw), x_at(r, ok, w0 + 3, sw), x_at(r, ok, w0 + 4, sw)),
               vec4(x_at(r, ok, w0 + 5, sw), x_at(r, ok, w0 + 6, sw), x_at(r, ok, w0 + 7, sw), x_at(r, ok, w0 + 8, sw)),
               x_at(r, ok, w0 + 9, sw));
}

// Row hh of a channel as a stride-2 window walk of four outputs (columns ow0 .. ow0 + 3) needs it:
// the nine columns 2·ow0 − 1 .. 2·ow0 + 7 (m0, m1, then last), any W and either layout as row10_any;
// ok: whether the row lies inside the image.
struct Row9 {
  ok: bool,
  m0: vec4<f32>,
  m1: vec4<f32>,
  last: f32,
}

fn row9_any(base: u32, hh: u32, ow0: u32, sw: u32) -> Row9 {
  let ok = hh < p.h;
  let r = base + min(hh, p.h - 1u) * p.w * sw;
  let w0 = 2 * i32(ow0) - 1;
  return Row9(ok,
              vec4(x_at(r, ok, w0, sw), x_at(r, ok, w0 + 1, sw), x_at(r, ok, w0 + 2, sw), x_at(r, ok, w0 + 3, sw)),
              vec4(x_at(r, ok, w0 + 4, sw), x_at(r, ok, w0 + 5, sw), x_at(r, ok, w0 + 6, sw), x_at(r, ok, w0 + 7, sw)),
              x_at(r, ok, w0 + 8, sw));
}

// The conv and the max pool of four stride-2 windows (outputs ow0 .. ow0 + 3 of a channel, or one
// output of four channels: the training shader's window_cl4_strip2) over rows of x:
// conv + k·(a row's three taps) and the pool's running maximum and its tap (0..8, row-major) in the
// taps' order, as PyTorch's max pool keeps it (a greater value or a NaN replaces the best, so the
// first maximum wins; padding taps, where ok is false, add w·0 to the conv and leave the pool alone).
struct Pool4 {
  conv: vec4<f32>,
  best: vec4<f32>,
  tap: vec4<f32>,
  first: vec4<bool>,
}

// One tap (weight k, index t) of four windows (one channel's four outputs, or four channels' one).
fn pool_tap(a: Pool4, k: vec4<f32>, t: f32, v: vec4<f32>, ok: vec4<bool>) -> Pool4 {
  let better = ok & (a.first | (v > a.best) | (v != v));
  return Pool4(a.conv + k * v, select(a.best, v, better), select(a.tap, vec4(t), better), a.first & !ok);
}

// Kernel row k (its first tap t) over row r of the four windows.
fn pool_row(a: Pool4, k: vec3<f32>, t: f32, r: Row9, ok: array<vec4<bool>, 3>) -> Pool4 {
  let left = vec4(r.m0.x, r.m0.z, r.m1.x, r.m1.z);
  let mid = vec4(r.m0.y, r.m0.w, r.m1.y, r.m1.w);
  let right = vec4(r.m0.z, r.m1.x, r.m1.z, r.last);
  let row = vec4(r.ok);
  return pool_tap(pool_tap(pool_tap(a, vec4(k.x), t, left, ok[0] & row), vec4(k.y), t + 1.0, mid, ok[1] & row),
                  vec4(k.z), t + 2.0, right, ok[2] & row);
}

// The four windows over their three rows (kernel rows k0, k1, k2); ok as pool_columns gives it.
fn pool_window(k0: vec3<f32>, k1: vec3<f32>, k2: vec3<f32>, above: Row9, here: Row9, below: Row9,
               ok: array<vec4<bool>, 3>) -> Pool4 {
  let start = Pool4(vec4(0.0), vec4(0.0), vec4(4.0), vec4(true));
  return pool_row(pool_row(pool_row(start, k0, 0.0, above, ok), k1, 3.0, here, ok), k2, 6.0, below, ok);
}

// Which of the nine columns of row9_any (ow0's) lie inside the image, as the four windows' left,
// middle and right taps.
fn pool_columns(ow0: u32) -> array<vec4<bool>, 3> {
  let w0 = 2 * i32(ow0) - 1;
  let col = vec4(w0, w0 + 2, w0 + 4, w0 + 6);
  let wide = vec4(i32(p.w));
  return array((col >= vec4(0)) & (col < wide), col + 1 < wide, col + 2 < wide);
}

// Where invocation i of a one-channel strip walk works (acon_frelu.wgsl's forward_eval_strip_any and
// _strip2_any, the training shader's conv_strip_any, window_strip2_any and backward_dx_strip_any),
// in either layout (channels_last): its channel c, first output column ow0 (groups of `group`
// columns over `width`) and row h0 (strips of STRIP rows over `height`), and sample n; ok is false
// past the grid. In NHWC the channels run
// fastest (neighbouring invocations load neighbouring words), then the column groups, the strips
// and the samples; in NCHW the column groups, the strips and the planes. sw and base: x's column
// stride (1 in NCHW, C in NHWC) and the offset of its channel's element (0, 0).
struct StripAny {
  ok: bool,
  c: u32,
  ow0: u32,
  h0: u32,
  n: u32,
  sw: u32,
  base: u32,
}

fn strip_any(i: u32, group: u32, width: u32, height: u32, channels_last: bool) -> StripAny {
  let C = p.c;
  let Q = (width + group - 1u) / group;
  let strips = (height + STRIP - 1u) / STRIP;
  let ok = i < p.n * C * strips * Q;
  let P = p.h * p.w;
  if (channels_last) {
    let g = i / C;
    let g2 = g / Q;
    let n = g2 / strips;
    return StripAny(ok, i % C, group * (g % Q), STRIP * (g2 % strips), n, C, n * C * P + i % C);
  }
  let g = i / Q;
  let plane = g / strips;
  return StripAny(ok, plane % C, group * (i % Q), STRIP * (g % strips), plane / C, 1u, plane * P);
}

// The offset of a stride-2 walk's channel on the output grid [N, C, Ho, Wo], `pixels` = Ho·Wo (x's
// column stride at.sw is the output's too).
fn strip_out(at: StripAny, pixels: u32, channels_last: bool) -> u32 {
  return at.n * p.c * pixels + at.c * select(pixels, 1u, channels_last);
}
