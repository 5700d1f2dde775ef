#!/usr/bin/python3
"""Writes tests/fixtures/frelu/acon-frelu.json (committed): the official Acon_FReLU (TFNet/network.py,
vendored as scripts/torch_models/tfnet.py) run by PyTorch in float64 on small seeded cases, forward and
backward, for the float64 reference (src/activations/aconFRelu/reference.ts) to match.
Run with Debian's PyTorch: /usr/bin/python3 scripts/make_frelu_fixtures.py

Each case: shape [N, C, H, W] (NCHW), stride 1 or 2, training or eval; x (quantised to multiples of
0.5 in [-2, 2], so that the max pool's windows hold ties and its tie rule is exercised), dy, the
parameters under PyTorch's names (conv_frelu.weight [C, 1, 3, 3] flattened, conv_frelu.bias,
bn1.*, bn2.*: seeded, away from their inits), y, the gradients of x and of every trainable
parameter, and the running statistics after the call (moved in training). Values are written with
Python's repr, which JSON readers parse back to the same doubles.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models.tfnet import Acon_FReLU  # noqa: E402

CASES = [
    # (shape, stride, training)
    ([2, 3, 5, 6], 1, True),
    ([2, 3, 5, 6], 1, False),
    ([2, 3, 5, 6], 2, True),
    ([2, 3, 5, 6], 2, False),
    ([3, 2, 4, 4], 2, True),
    ([1, 4, 7, 7], 2, False),
]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(k, shape, stride, training):
    g = torch.Generator().manual_seed(100 + k)
    n, c, h, w = shape
    m = Acon_FReLU(c, stride).double()
    with torch.no_grad():
        m.conv_frelu.weight.copy_(torch.randn(c, 1, 3, 3, generator=g, dtype=torch.float64) * 0.5)
        m.conv_frelu.bias.copy_(torch.randn(c, generator=g, dtype=torch.float64) * 0.1)
        for bn in (m.bn1, m.bn2):
            bn.weight.copy_(torch.rand(c, generator=g, dtype=torch.float64) + 0.5)
            bn.bias.copy_(torch.randn(c, generator=g, dtype=torch.float64) * 0.1)
            bn.running_mean.copy_(torch.randn(c, generator=g, dtype=torch.float64) * 0.1)
            bn.running_var.copy_(torch.rand(c, generator=g, dtype=torch.float64) * 1.5 + 0.5)
    params = {name: flat(v) for name, v in m.state_dict().items() if not name.endswith("num_batches_tracked")}
    m.train(training)
    x = (torch.randint(-4, 5, shape, generator=g) * 0.5).double().requires_grad_(True)
    y = m(x)
    dy = torch.randn(y.shape, generator=g, dtype=torch.float64)
    y.backward(dy)
    return {
        "shape": shape,
        "stride": stride,
        "training": training,
        "x": flat(x),
        "dy": flat(dy),
        "params": params,
        "y": flat(y),
        "outShape": list(y.shape),
        "grads": {
            "x": flat(x.grad),
            "conv_frelu.weight": flat(m.conv_frelu.weight.grad),
            "conv_frelu.bias": flat(m.conv_frelu.bias.grad),
            "bn1.weight": flat(m.bn1.weight.grad),
            "bn1.bias": flat(m.bn1.bias.grad),
            "bn2.weight": flat(m.bn2.weight.grad),
            "bn2.bias": flat(m.bn2.bias.grad),
        },
        "running": {
            name: flat(v)
            for name, v in m.state_dict().items()
            if name.endswith("running_mean") or name.endswith("running_var")
        },
    }


def main():
    torch.use_deterministic_algorithms(True)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "frelu", "acon-frelu.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    data = {
        "about": "scripts/make_frelu_fixtures.py: the official Acon_FReLU in float64 (PyTorch "
        + torch.__version__
        + ")",
        "cases": [case(k, *c) for k, c in enumerate(CASES)],
    }
    with open(out, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(out)} ({os.path.getsize(out)} bytes, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
