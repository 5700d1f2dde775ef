// 1×1 convolution on [N, I] features (spatial size 1): out = inp·Wᵀ + b, W: [O, I].
//   forward          out[n, o] = b[o] + Σ_i W[o, i]·inp[n, i]          one invocation per (n, o)
//   backward_input   gin[n, i] = Σ_o gout[n, o]·W[o, i]                one invocation per (n, i)
//   backward_params  gW[o, i] = Σ_n gout[n, o]·inp[n, i], gb[o] = Σ_n gout[n, o]
//                    one invocation per (o, i), then one per o for the bias
//   forward_bn_eval  forward followed by batch norm with running statistics (eval mode), and σ when
//                    SIGMOID: out[n, o] = γ[o]·inv_std·(s − μ[o]) + β[o], inv_std = 1/√(var[o] + ε),
//                    the very expressions of batchnorm.wgsl's forward, so the result is the
//                    staged pair's (Meta-ACON's β generator in eval mode: 2 dispatches instead of 4)
//   forward_bn_eval_means  the same with the input means summed from the spatial mean's partial sums
//                    (reduce.wgsl's plane_partials*), in plane_means' order and rounding, so the
//                    means' pass is folded in too (for small C · chunks · lanes; see the dispatcher)
// Every sum runs in index order, so results are the same on every run.

override WG: u32 = 64;
override SIGMOID: bool = false;

struct Dims {
  batch: u32,
  in_features: u32,
  out_features: u32,
  eps: f32,
  chunks: u32,   // forward_bn_eval_means: partial-sum chunks per plane
  lanes: u32,    // forward_bn_eval_means: partial sums per chunk
  scale: f32,    // forward_bn_eval_means: 1/(H·W)
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

fn index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return workgroup_index(wid, nwg) * WG + lid;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let t = index(wid, nwg, lid);
  if (t >= d.batch * d.out_features) { return; }
  out[t] = conv_sum(t / d.out_features, t % d.out_features);
}

// b[o] + Σ_i W[o, i]·inp[n, i], i in order (forward and forward_bn_eval: the same sum, the same bits).
fn conv_sum(n: u32, o: u32) -> f32 {
  var s = bias[o];
  for (var i = 0u; i < d.in_features; i++) { s += weight[o * d.in_features + i] * inp[n * d.in_features + i]; }
  return s;
}

// out[t] for t = n·O + o from the conv's sum s: eval-mode batch norm, then σ when SIGMOID.
fn bn_eval_out(t: u32, o: u32, s: f32) {
  let inv_std = inverseSqrt(running_var[o] + d.eps);
  let a = bn_weight[o] * inv_std;
  let z = a * (s - running_mean[o]) + bn_bias[o];
  out[t] = select(z, sigmoid(z), SIGMOID);
}

@compute @workgroup_size(WG)
fn forward_bn_eval(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let t = index(wid, nwg, lid);
  if (t >= d.batch * d.out_features) { return; }
  let o = t % d.out_features;
  bn_eval_out(t, o, conv_sum(t / d.out_features, o));
}

// inp holds the partial sums: plane (n, i) has chunks × lanes of them from partial (n·I + i)·chunks·lanes on.
@compute @workgroup_size(WG)
fn forward_bn_eval_means(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let t = index(wid, nwg, lid);
  if (t >= d.batch * d.out_features) { return; }
  let n = t / d.out_features;
  let o = t % d.out_features;
  var s = bias[o];
  for (var i = 0u; i < d.in_features; i++) {
    var total = 0.0;
    for (var j = 0u; j < d.chunks; j++) {
      var chunk = 0.0;
      let lane0 = ((n * d.in_features + i) * d.chunks + j) * d.lanes;
      for (var l = 0u; l < d.lanes; l++) { chunk += inp[lane0 + l]; }
      total += chunk;
    }
    s += weight[o * d.in_features + i] * (total * d.scale);
  }
  bn_eval_out(t, o, s);
}

@compute @workgroup_size(WG)
fn backward_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let t = index(wid, nwg, lid);
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
  let t = index(wid, nwg, lid);
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
