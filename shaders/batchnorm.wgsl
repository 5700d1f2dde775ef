// Batch norm over the batch of [N, F] features (spatial size 1), one invocation per feature.
//   forward   training: mean μ and biased variance σ² over N normalise; the running statistics
//             move by `momentum` towards μ and the unbiased variance σ²·N/(N − 1) (when
//             update_running is set). Eval: the running statistics normalise.
//             out = γ·(x − μ)/√(σ² + ε) + β, followed by σ(·) when `sigmoid` is set (BN2 of
//             Meta-ACON). saved = [μ, 1/√(σ² + ε)] per feature, for the backward pass.
//   backward  x̂ = (x − μ)·inv_std; gz = gout, or gout·σ'(z) through the fused σ, with z recomputed
//             and σ'(z) = e/(1 + e)², e = exp(−|z|) (no cancellation in 1 − σ)
//             gγ = Σ_N gz·x̂, gβ = Σ_N gz
//             training: gx = γ·inv_std·(gz − gβ/N − x̂·gγ/N)   (μ and σ depend on x)
//             eval:     gx = γ·inv_std·gz
// Sums run over n in order: deterministic.


struct Params {
  batch: u32,
  features: u32,
  training: u32,
  update_running: u32,
  sigmoid: u32,
  eps: f32,
  momentum: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<storage, read_write> saved: array<f32>;
@group(0) @binding(8) var<storage, read> gout: array<f32>;
@group(0) @binding(9) var<storage, read_write> gin: array<f32>;
@group(0) @binding(10) var<storage, read_write> gweight: array<f32>;
@group(0) @binding(11) var<storage, read_write> gbias: array<f32>;
@group(0) @binding(12) var<storage, read> saved_in: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let f = global_index(wid, nwg, lid);
  let F = p.features;
  if (f >= F) { return; }
  var mu = running_mean[f];
  var v = running_var[f];
  if (p.training != 0u) {
    var s = 0.0;
    for (var n = 0u; n < p.batch; n++) { s += inp[n * F + f]; }
    mu = s / f32(p.batch);
    var ss = 0.0;
    for (var n = 0u; n < p.batch; n++) {
      let dv = inp[n * F + f] - mu;
      ss += dv * dv;
    }
    v = ss / f32(p.batch);
    if (p.update_running != 0u) {
      running_mean[f] = (1.0 - p.momentum) * running_mean[f] + p.momentum * mu;
      running_var[f] = (1.0 - p.momentum) * running_var[f] + p.momentum * (ss / f32(p.batch - 1u));
    }
  }
  let inv_std = inverseSqrt(v + p.eps);
  saved[f] = mu;
  saved[F + f] = inv_std;
  let a = weight[f] * inv_std;
  for (var n = 0u; n < p.batch; n++) {
    let z = a * (inp[n * F + f] - mu) + bias[f];
    out[n * F + f] = select(z, sigmoid(z), p.sigmoid != 0u);
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let f = global_index(wid, nwg, lid);
  let F = p.features;
  if (f >= F) { return; }
  let mu = saved_in[f];
  let inv_std = saved_in[F + f];
  let a = weight[f] * inv_std;
  var sg = 0.0;
  var sgx = 0.0;
  for (var n = 0u; n < p.batch; n++) {
    let k = n * F + f;
    let xh = (inp[k] - mu) * inv_std;
    var gz = gout[k];
    if (p.sigmoid != 0u) { gz *= sigmoid_grad(a * (inp[k] - mu) + bias[f]); }
    sg += gz;
    sgx += gz * xh;
  }
  gweight[f] = sgx;
  gbias[f] = sg;
  let nf = f32(p.batch);
  for (var n = 0u; n < p.batch; n++) {
    let k = n * F + f;
    let xh = (inp[k] - mu) * inv_std;
    var gz = gout[k];
    if (p.sigmoid != 0u) { gz *= sigmoid_grad(a * (inp[k] - mu) + bias[f]); }
    gin[k] = select(a * gz, a * (gz - sg / nf - xh * (sgx / nf)), p.training != 0u);
  }
}
