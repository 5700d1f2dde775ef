"""The project's three small seed CNNs in PyTorch, layer for layer as src/layers/networks.ts builds
them in tf.layers (which documents them as PyTorch modules):

  input [N, 3, 32, 32]
  conv1 3→32  k3 s1 pad 1 + ReLU      32×32
  conv2 32→64 k3 s2 pad 0 + ReLU      15×15
  conv3 64→64 k3 s2 pad 0 + act        7×7
  conv4 64→64 k3 s2 pad 1 + ReLU       4×4
  flatten (C, H, W order: 64·4·4 = 1024) · fc1 Linear(1024, 64) + ReLU · fc2 Linear(64, num_classes)

act: ReLU (dcn3), AconC(64) (dcn2-acon) or MetaAconC(64, r=16) (dcn2-meta), from the official
acon.py. Module names conv1..conv4, act, fc1, fc2, so the state-dict keys are conv1.weight, act.p1,
act.fc1.weight, act.bn1.running_mean, ... (dcn3's act is a parameterless nn.ReLU: no act.* keys).
Trainable parameters: dcn3 158,913, dcn2-acon 159,105, dcn2-meta 161,329 (num_classes = 1).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .acon import AconC, MetaAconC

SEED_KINDS = ('dcn3', 'dcn2-acon', 'dcn2-meta')


class SeedNet(nn.Module):
    def __init__(self, kind, num_classes=1, r=16):
        super().__init__()
        if kind not in SEED_KINDS:
            raise ValueError(f'unknown seed network {kind!r} (known: {", ".join(SEED_KINDS)})')
        self.kind = kind
        self.conv1 = nn.Conv2d(3, 32, 3, 1, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 2, 0)
        self.conv3 = nn.Conv2d(64, 64, 3, 2, 0)
        if kind == 'dcn3':
            self.act = nn.ReLU()
        elif kind == 'dcn2-acon':
            self.act = AconC(64)
        else:
            self.act = MetaAconC(64, r=r)
        self.conv4 = nn.Conv2d(64, 64, 3, 2, 1)
        self.fc1 = nn.Linear(64 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.act(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = torch.flatten(x, 1)  # PyTorch's (C, H, W) order
        x = F.relu(self.fc1(x))
        return self.fc2(x)
