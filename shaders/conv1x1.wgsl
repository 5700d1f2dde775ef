// 1×1 convolution on [N, I] features (spatial size 1): out = inp·Wᵀ + b, W: [O, I].
//   forward          out[n, o] = b[o] + Σ_i W[o, i]·inp[n, i]          one invocation per (n, o)
//   backward_input   gin[n, i] = Σ_o gout[n, o]·W[o, i]                one invocation per (n, i)
//   backward_params  gW[o, i] = Σ_n gout[n, o]·inp[n, i], gb[o] = Σ_n gout[n, o]
//                    one invocation per (o, i), then one per o for the bias
//   forward_bn_eval  forward followed by batch norm with running statistics (eval mode), and σ when
//                    SIGMOID: out[n, o] = γ[o]·inv_std·(s − μ[o]) + β[o], inv_std = 1/√(var[o] + ε),
//                    the very expressions of batchnorm.wgsl's forward, so the result is the
//                    staged pair's (Meta-ACON's β generator in eval mode: 2 dispatches instead of 4)
//   beta_eval        Meta-ACON's β generator in eval mode in one pass per sample: the spatial means
//                    from the mean's partial sums, fc1 + BN1, fc2 + BN2 + σ (see below)
// Every sum runs in index order, so results are the same on every run.

override SIGMOID: bool = false;

struct Dims {
  batch: u32,
  in_features: u32,
  out_features: u32,
  eps: f32,
  chunks: u32,   // beta_eval: partial-sum chunks per plane
  lanes: u32,    // beta_eval: partial sums per chunk
  scale: f32,    // beta_eval: 1/(H·W)
}

@group(0) @binding(0) var<uniform> d: Dims;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> gout: array<f32>;
@group(0) @binding(6) var<storage, read_write> gin: array<f32>;
@group(0) @binding(7) var<storage, read_write> gweight: array<f32>;
@group(0) @binding(8) var<storage, read_write> gbias: array<f32>;
@group(0) @binding(9) var<storage, read> bn_weight: array<f32>;
@group(0) @binding(10) var<storage, read> bn_bias: array<f32>;
@group(0) @binding(11) var<storage, read> running_mean: array<f32>;
@group(0) @binding(12) var<storage, read> running_var: array<f32>;
@group(0) @binding(13) var<storage, read> params: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let t = global_index(wid, nwg, lid);
  if (t >= d.batch * d.out_features) { return; }
  out[t] = conv_sum(t / d.out_features, t % d.out_features);
}

// b[o] + Σ_i W[o, i]·inp[n, i], i in order (forward and forward_bn_eval: the same sum, the same bits).
fn conv_sum(n: u32, o: u32) -> f32 {
  var s = bias[o];
  for (var i = 0u; i < d.in_features; i++) { s += weight[o * d.in_features + i] * inp[n * d.in_features + i]; }
  return s;
}

// Eval-mode batch norm of s (batchnorm.wgsl's forward with running statistics, same expressions).
fn bn_eval(s: f32, weight: f32, bias: f32, mean: f32, variance: f32) -> f32 {
  let inv_std = inverseSqrt(variance + d.eps);
  let a = weight * inv_std;
  return a * (s - mean) + bias;
}

// out[t] for t = n·O + o from the conv's sum s: eval-mode batch norm, then σ when SIGMOID.
fn bn_eval_out(t: u32, o: u32, s: f32) {
  let z = bn_eval(s, bn_weight[o], bn_bias[o], running_mean[o], running_var[o]);
  out[t] = select(z, sigmoid(z), SIGMOID);
}

@compute @workgroup_size(WG)
fn forward_bn_eval(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let t = global_index(wid, nwg, lid);
  if (t >= d.batch * d.out_features) { return; }
  let o = t % d.out_features;
  bn_eval_out(t, o, conv_sum(t / d.out_features, o));
}

// Meta-ACON's whole β generator in eval mode, one workgroup per sample n (d.batch samples, C =
// d.in_features channels, R = d.out_features hidden features): the spatial means from the mean's
// partial sums (inp: plane (n, i) has chunks × lanes of them from (n·C + i)·chunks·lanes on), then
// fc1 + BN1, then fc2 + BN2 + σ, each step's results in workgroup memory for the next. Every value
// is the staged kernels' expression in their order (plane_means, conv_sum, bn_eval), so β is theirs
// bit for bit. The 12 parameters come packed in `params` (see `packed`), which keeps the pass
// within WebGPU's default of 8 storage buffers per stage (TensorFlow.js's device has no more).
// FEATURES ≥ C + R, set per pipeline to the next power of two (workgroup memory is zeroed at every
// workgroup's start, which a CPU adapter pays in full: 2048 floats made the pass 2.4× slower at
// [64, 64, 7, 7] on SwiftShader than 128)
override FEATURES: u32 = 64u;
var<workgroup> feat: array<f32, FEATURES>;  // means at [0, C), hidden features at [C, C + R)

// Offsets in `params` of fc1.weight [R, C], fc1.bias, bn1.{weight, bias, running_mean, running_var}
// [R each], fc2.weight [C, R], fc2.bias, bn2.{…} [C each], in this order (packBetaParams in meta.ts).
struct Packed { fc1: u32, bn1: u32, fc2: u32, bn2: u32 }
fn packed(c: u32, r: u32) -> Packed {
  return Packed(0u, r * c + r, r * c + 5u * r, 2u * r * c + 5u * r + c);
}

// bn_eval for feature f of F whose weight, bias, running mean and variance are at bn, bn + F, … in params.
fn bn_eval_packed(s: f32, bn: u32, f: u32, features: u32) -> f32 {
  return bn_eval(s, params[bn + f], params[bn + features + f], params[bn + 2u * features + f], params[bn + 3u * features + f]);
}

@compute @workgroup_size(WG)
fn beta_eval(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let n = workgroup_index(wid, nwg);  // uniform in the workgroup, so the barriers below are too
  if (n >= d.batch) { return; }
  let c = d.in_features;
  let r = d.out_features;
  let at = packed(c, r);
  for (var i = lid; i < c; i += WG) {
    var total = 0.0;
    for (var j = 0u; j < d.chunks; j++) {
      var chunk = 0.0;
      let lane0 = ((n * c + i) * d.chunks + j) * d.lanes;
      for (var l = 0u; l < d.lanes; l++) { chunk += inp[lane0 + l]; }
      total += chunk;
    }
    feat[i] = total * d.scale;
  }
  workgroupBarrier();
  for (var h = lid; h < r; h += WG) {
    var s = params[at.fc1 + r * c + h];
    for (var i = 0u; i < c; i++) { s += params[at.fc1 + h * c + i] * feat[i]; }
    feat[c + h] = bn_eval_packed(s, at.bn1, h, r);
  }
  workgroupBarrier();
  for (var o = lid; o < c; o += WG) {
    var s = params[at.fc2 + c * r + o];
    for (var h = 0u; h < r; h++) { s += params[at.fc2 + o * r + h] * feat[c + h]; }
    out[n * c + o] = sigmoid(bn_eval_packed(s, at.bn2, o, c));
  }
}

@compute @workgroup_size(WG)
fn backward_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let t = global_index(wid, nwg, lid);
  if (t >= d.batch * d.in_features) { return; }
  let n = t / d.in_features;
  let i = t % d.in_features;
  var s = 0.0;
  for (var o = 0u; o < d.out_features; o++) { s += gout[n * d.out_features + o] * weight[o * d.in_features + i]; }
  gin[t] = s;
}

@compute @workgroup_size(WG)
fn backward_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let t = global_index(wid, nwg, lid);
  let nw = d.out_features * d.in_features;
  if (t < nw) {
    let o = t / d.in_features;
    let i = t % d.in_features;
    var s = 0.0;
    for (var n = 0u; n < d.batch; n++) { s += gout[n * d.out_features + o] * inp[n * d.in_features + i]; }
    gweight[t] = s;
  } else if (t < nw + d.out_features) {
    let o = t - nw;
    var s = 0.0;
    for (var n = 0u; n < d.batch; n++) { s += gout[n * d.out_features + o]; }
    gbias[o] = s;
  }
}
