#!/usr/bin/python3
"""PyTorch's side of the training-parity test (tests/dawn/training-parity.test.ts): the seed networks
dcn3, dcn2-acon and dcn2-meta (10 outputs) trained step by step from one seeded initial state, with
SGD (momentum 0.9) and with Adam (PyTorch's defaults), on fixed batches of the committed Fashion-MNIST
test subset, in float64 (the reference) and in float32 (PyTorch's own float32 answer, kept to check the
bounds below against a real float32 implementation). Run with Debian's PyTorch:

  /usr/bin/python3 scripts/training_parity.py OUT_DIR [--steps 10] [--batch 8]

Writes to OUT_DIR, every state dict through scripts/convert_checkpoint.py (so our loader maps names and
layouts, and the test compares like with like):
  <net>.init.safetensors            the initial weights (float32, what both sides start from)
  <net>.<opt>.final.safetensors     the float64 reference's weights after the last step (as float32)
  <net>.<opt>.bound.safetensors     per element, a bound on |float32 training − float64 training|
  parity.json                       per network and optimizer: the reference's loss and its bound per
                                    step, PyTorch float32's loss, and how close PyTorch float32's own
                                    weights and losses came to the bounds (worst |error| / bound)

Step k trains on test images [k·B, (k+1)·B) with their labels, in train mode (Meta-ACON's batch norms
on batch statistics, running statistics moved with PyTorch's momentum 0.1 and unbiased variance).

The bounds, derived in the style of tests/browser/networks.test.ts. A float32 evaluation of a layer's
gradient has a normwise relative error ρ = 1e-3 of that layer's largest gradient (≲ 50 for the condition
of these small networks times the ~2e-5 of float32 sums over ≤ 1,024 terms); errors in the weights from
earlier steps feed into later gradients through the same condition, which at most doubles it here
(the weights stay within lr·K of each other), so each step's gradient error is D_k = 2ρ·G_k per layer,
with G_k the layer's largest |gradient| (weight and bias together) and D̄_k = max over steps ≤ k.
- SGD with momentum m: the buffer's error is ≤ Σ_j m^(k−j) D_j, the weight moves by lr·buffer: the
  weight error is the sum over steps of lr times that, plus float32's rounding of each update (u·|w|,
  u = 2^-24, twice).
- Adam: r = m̂/(√v̂ + ε), with m̂ a weighted mean and √v̂ a weighted 2-norm of the past gradients (weights
  summing to 1), so a gradient error ≤ D̄ moves each by ≤ D̄ and |Δr| ≤ (1 + |r|)·D̄/(√v̂ + ε − D̄); where
  D̄ reaches √v̂ + ε (a gradient within its own error of zero: its sign is not determined) only
  |Δr| ≤ |r| + sup|r| is known, sup|r| = (Σ_j a_j²/b_j)^½ by Cauchy–Schwarz (a_j, b_j the weights of
  m̂ and v̂). The weight error is Σ lr·|Δr| plus float32's rounding of the update (8u·|r| relative).
- The loss at step k: to first order Σ|∂L/∂w|·(weight bound) over every weight, plus the forward's own
  float32 error, 2·1e-5·max|logit| (cross-entropy moves by at most twice the largest logit error, and
  the logits' normwise relative error is ≲ 1e-5 by the argument in networks.test.ts).
- Running statistics (Meta-ACON's bn1, bn2): each step's batch mean and unbiased variance move, to first
  order, by the weights' bounds propagated forward in absolute values (Bounds.statistics), plus their own float32 error, 1e-3 of the largest statistic (the
  same normwise relative bound as the gradients); the running statistic takes 0.1 of that per step.
  (fc1's bias has no effect on anything but bn1's batch mean, where it enters one for one: its exact
  gradient is 0, so Adam turns float32's noise into steps of ±lr there, and bn1.running_mean follows.)
"""
import argparse
import copy
import gzip
import json
import math
import os
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from convert_checkpoint import convert  # noqa: E402
from torch_models.seed_nets import SEED_KINDS, SeedNet  # noqa: E402

FIXTURES = os.path.join(HERE, '..', 'tests', 'fixtures', 'fashion-mnist')
U = 2.0 ** -24
RHO = 1e-3
SGD = {'lr': 0.01, 'momentum': 0.9}
ADAM = {'lr': 1e-3, 'betas': (0.9, 0.999), 'eps': 1e-8}


def read_idx(path, rank):
    with gzip.open(path, 'rb') as f:
        data = f.read(16 << 20)
    header = 4 + 4 * rank
    if data[:4] != bytes([0, 0, 8, rank]):
        raise SystemExit(f'{path}: not an IDX file of unsigned bytes with {rank} dimension(s)')
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    if len(data) != header + int(np.prod(dims)):
        raise SystemExit(f'{path}: {len(data) - header} bytes for dims {dims}')
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def batches(steps, batch):
    images = read_idx(os.path.join(FIXTURES, 'test-1000-images-idx3-ubyte.gz'), 3)
    labels = read_idx(os.path.join(FIXTURES, 'test-1000-labels-idx1-ubyte.gz'), 1)
    if steps * batch > len(images):
        raise SystemExit(f'{steps} steps of {batch} need {steps * batch} images; the subset has {len(images)}')
    # fashion_experiment.py's input: 32×32 (padding −1 after scaling), 3 channels, float32 arithmetic
    x = torch.from_numpy(images[:steps * batch].astype(np.float32) / 255)
    x = ((F.pad(x, (2, 2, 2, 2)) - 0.5) / 0.5).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    y = torch.from_numpy(labels[:steps * batch].astype(np.int64))
    return [(x[k * batch:(k + 1) * batch], y[k * batch:(k + 1) * batch]) for k in range(steps)]


def layer_of(name):
    """The module a parameter belongs to: conv1.weight → conv1; act.p1 → act; act.fc1.bias → act.fc1."""
    return name.rsplit('.', 1)[0]


def make_optimizer(kind, params):
    return torch.optim.SGD(params, **SGD) if kind == 'sgd' else torch.optim.Adam(params, **ADAM)


class Bounds:
    """The bounds, step by step, alongside the float64 reference's training (see the module's doc)."""

    def __init__(self, opt_kind, named, bn_names):
        self.opt_kind, self.named = opt_kind, named
        self.layers = sorted({layer_of(n) for n in named})
        self.weights = {n: torch.zeros_like(p, dtype=torch.float64) for n, p in named.items()}
        self.buf_err = {n: torch.zeros_like(p, dtype=torch.float64) for n, p in named.items()}
        self.d_max = {lay: 0.0 for lay in self.layers}
        self.running = {f'{b}.{s}': 0.0 for b in bn_names for s in ('running_mean', 'running_var')}
        self.loss = []

    def statistics(self, model, x, captured):
        """Before the update: Meta-ACON's batch norms' batch mean and unbiased variance (what the running
        statistics take, with momentum 0.1), moved by the weights' errors (to first order, propagated
        forward in absolute values: |Δ(W·a + b)| ≤ |W|·|Δa| + |ΔW|·|a| + |Δb|; ReLU and means do not
        grow it) plus their own float32 error."""
        if not captured:
            return
        E = self.weights

        def conv(m, a, d, w):
            return (F.conv2d(d, m.weight.abs(), None, m.stride, m.padding)
                    + F.conv2d(a.abs(), E[f'{w}.weight'], None, m.stride, m.padding) + E[f'{w}.bias'].view(1, -1, 1, 1))

        a, d = x, torch.zeros_like(x)
        for name in ('conv1', 'conv2', 'conv3'):
            m = getattr(model, name)
            a, d = m(a), conv(m, a, d, name)
            if name != 'conv3':
                a = F.relu(a)
        act = model.act
        a, d = a.mean((2, 3), keepdim=True), d.mean((2, 3), keepdim=True)
        inputs = {}
        h, dh = act.fc1(a), conv(act.fc1, a, d, 'act.fc1')
        inputs['act.bn1'] = (h, dh)
        # bn1 in training: (h − μ)/σ with the batch's μ and biased σ², then γ·· + β
        mu, sigma = h.mean(0), (h.var(0, unbiased=False) + act.bn1.eps).sqrt()
        dmu = dh.mean(0)
        dsigma = ((h - mu).abs() * (dh + dmu)).mean(0) / sigma
        hn = (h - mu) / sigma
        dhn = (dh + dmu) / sigma + hn.abs() * dsigma / sigma
        g = act.bn1.weight.view(1, -1, 1, 1)
        y = g * hn + act.bn1.bias.view(1, -1, 1, 1)
        dy = g.abs() * dhn + E['act.bn1.weight'].view(1, -1, 1, 1) * hn.abs() + E['act.bn1.bias'].view(1, -1, 1, 1)
        inputs['act.bn2'] = (act.fc2(y), conv(act.fc2, y, dy, 'act.fc2'))
        n = x.shape[0]
        for name, (h, dh) in inputs.items():
            if not torch.allclose(h, captured[name], rtol=1e-12, atol=1e-12):
                raise SystemExit(f"{name}: the bound's forward is not the network's")
            mean, var = h.mean(0), h.var(0, unbiased=True)
            dmean = dh.mean(0)
            dvar = 2 * ((h - mean).abs() * (dh + dmean)).sum(0) / (n - 1)
            for stat, value, err in (('running_mean', mean, dmean), ('running_var', var, dvar)):
                key = f'{name}.{stat}'
                own = RHO * float(value.abs().max())
                self.running[key] = 0.9 * self.running[key] + 0.1 * (err.flatten() + own)

    def step(self, t, logits_max):
        """After loss.backward and opt.step of step t (from 1), with the gradients and state in place."""
        g = {n: p.grad.detach() for n, p in self.named.items()}
        self.loss.append(sum(float((g[n].abs() * self.weights[n]).sum()) for n in g) + 2 * 1e-5 * logits_max)
        scale = {lay: max(float(g[n].abs().max()) for n in g if layer_of(n) == lay) for lay in self.layers}
        for lay in self.layers:
            self.d_max[lay] = max(self.d_max[lay], 2 * RHO * scale[lay])
        b1, b2 = ADAM['betas']
        for n, p in self.named.items():
            w, st, D = p.detach(), self.opt.state[p], self.d_max[layer_of(n)]
            if self.opt_kind == 'sgd':
                self.buf_err[n] = SGD['momentum'] * self.buf_err[n] + 2 * RHO * scale[layer_of(n)]
                self.weights[n] += SGD['lr'] * self.buf_err[n] + 2 * U * (w.abs() + SGD['lr'] * st['momentum_buffer'].abs())
            else:
                bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
                m_hat, s_hat = st['exp_avg'] / bc1, (st['exp_avg_sq'] / bc2).sqrt()
                r = m_hat / (s_hat + ADAM['eps'])
                a = [(1 - b1) * b1 ** (t - j) / bc1 for j in range(1, t + 1)]
                b = [(1 - b2) * b2 ** (t - j) / bc2 for j in range(1, t + 1)]
                sup_r = math.sqrt(sum(aj * aj / bj for aj, bj in zip(a, b)))
                room = s_hat + ADAM['eps'] - D
                dr = torch.where(room > 0, (1 + r.abs()) * D / room.clamp(min=1e-300), torch.full_like(r, math.inf))
                dr = torch.minimum(dr, r.abs() + sup_r)
                self.weights[n] += ADAM['lr'] * (dr + 8 * U * r.abs()) + 2 * U * w.abs()


def train(model, opt_kind, data, with_bounds=False):
    """Trains in place; returns the per-step losses and, for the reference, its Bounds."""
    named = dict(model.named_parameters())
    opt = make_optimizer(opt_kind, list(named.values()))
    bns = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    bounds = Bounds(opt_kind, named, bns) if with_bounds else None
    if bounds:
        bounds.opt = opt
    captured = {}
    for n, m in bns.items():
        m.register_forward_hook(lambda mod, inp, out, n=n: captured.__setitem__(n, inp[0]))
    losses = []
    model.train()
    for t, (x, y) in enumerate(data, 1):
        opt.zero_grad()
        logits = model(x.to(next(model.parameters()).dtype))
        loss = F.cross_entropy(logits, y)
        if bounds:
            with torch.no_grad():
                bounds.statistics(model, x.double(), captured)
        loss.backward()
        opt.step()
        if bounds:
            bounds.step(t, logits.detach().abs().max().item())
        losses.append(loss.item())
    return losses, bounds


def save(state_dict, path, work):
    """Through the converter, as a checkpoint train.py would save."""
    pth = os.path.join(work, 'tmp.pth')
    torch.save({'state_dict': {k: v.float() for k, v in state_dict.items()}}, pth)
    convert(pth, path)


def main():
    p = argparse.ArgumentParser(description='PyTorch side of the training-parity test.')
    p.add_argument('out')
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--batch', type=int, default=8)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    data = batches(args.steps, args.batch)
    report = {'steps': args.steps, 'batch': args.batch, 'sgd': SGD, 'adam': {**ADAM, 'betas': list(ADAM['betas'])},
              'rho': RHO, 'torch': torch.__version__, 'nets': {}}
    with tempfile.TemporaryDirectory() as work:
        for i, kind in enumerate(SEED_KINDS):
            torch.manual_seed(1000 + i)
            init = SeedNet(kind, num_classes=10)
            save(init.state_dict(), os.path.join(args.out, f'{kind}.init.safetensors'), work)
            report['nets'][kind] = {}
            for opt_kind in ('sgd', 'adam'):
                ref = copy.deepcopy(init).double()
                losses, bounds = train(ref, opt_kind, data, with_bounds=True)
                loss_bound = bounds.loss
                final = ref.state_dict()
                bound_sd = {}
                for name, value in final.items():
                    if name.endswith('num_batches_tracked'):
                        continue
                    # plus the reference's own rounding to float32 when written: u·|w|
                    own = bounds.weights[name] if name in bounds.weights else bounds.running[name]
                    bound_sd[name] = own + U * value.abs()
                # PyTorch's own float32 training, against the same bounds
                f32 = copy.deepcopy(init)
                losses32, _ = train(f32, opt_kind, data)
                sd32 = f32.state_dict()
                worst_w = max(float(((sd32[n].double() - final[n]).abs() / bound_sd[n]).max()) for n in bound_sd)
                worst_l = max(abs(a - b) / lb for a, b, lb in zip(losses32, losses, loss_bound))
                save({k: v for k, v in final.items()}, os.path.join(args.out, f'{kind}.{opt_kind}.final.safetensors'), work)
                save(bound_sd, os.path.join(args.out, f'{kind}.{opt_kind}.bound.safetensors'), work)
                report['nets'][kind][opt_kind] = {
                    'loss': losses, 'loss_bound': loss_bound, 'loss_float32_torch': losses32,
                    'torch_float32_worst': {'weights': worst_w, 'loss': worst_l},
                }
                print(f'{kind} {opt_kind}: loss {losses[0]:.4f} -> {losses[-1]:.4f}; PyTorch float32 within '
                      f'{worst_w:.3f} (weights) and {worst_l:.3f} (losses) of the bounds', flush=True)
    with open(os.path.join(args.out, 'parity.json'), 'w') as f:
        json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
