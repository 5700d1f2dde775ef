#!/usr/bin/python3
"""The seed's experiment on real data: dcn3 (ReLU), dcn2-acon and dcn2-meta (scripts/torch_models/
seed_nets.py, 10 outputs) trained on Fashion-MNIST with one recipe over several seeds, in PyTorch.
Run with Debian's PyTorch and dataset-fashion-mnist:

  /usr/bin/python3 scripts/fashion_experiment.py [--seeds 3] [--epochs 2] [--out demo/fashion]

Recipe (the same for every network and seed): images 28×28 grey, zero-padded to 32×32 and replicated
to 3 channels, x = (v/255 − 0.5)/0.5; Adam (PyTorch's defaults, lr 1e-3), batch 64, cross-entropy,
`--epochs` epochs over the 60,000 training images in an order drawn from the seed; the seed also draws
the initial weights. Evaluated on the 10,000 test images in eval mode.

Writes to --out: experiment.json (every run: test accuracy, trainable parameters, ms per epoch; the
summary per network: accuracy mean ± sd over the seeds; and, for seed 0, PyTorch's predicted class of
every test image as a string of digits, for comparison with the browser's), and each network's seed-0
checkpoint as train.py saves it, converted by scripts/convert_checkpoint.py: <net>.safetensors
(≈ 640 KB each). Prints the table.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from torch_models.seed_nets import SEED_KINDS, SeedNet  # noqa: E402

DATA = '/usr/share/datasets/fashion-mnist'
CONVERT = os.path.join(HERE, 'convert_checkpoint.py')


def read_idx(path, rank, count):
    """A gzipped IDX file of unsigned bytes with `rank` dimensions and `count` items, checked."""
    with gzip.open(path, 'rb') as f:
        data = f.read(64 << 20)
    header = 4 + 4 * rank
    if len(data) < header or data[:4] != bytes([0, 0, 8, rank]):
        raise SystemExit(f'{path}: not an IDX file of unsigned bytes with {rank} dimension(s)')
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    if dims[0] != count or len(data) != header + int(np.prod(dims)):
        raise SystemExit(f'{path}: expected {count} items and exactly their bytes, got dims {dims} and {len(data) - header} bytes')
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def split(name, count):
    prefix = 'train' if name == 'train' else 't10k'
    images = read_idx(os.path.join(DATA, f'{prefix}-images-idx3-ubyte.gz'), 3, count)
    labels = read_idx(os.path.join(DATA, f'{prefix}-labels-idx1-ubyte.gz'), 1, count)
    if labels.max() > 9:
        raise SystemExit(f'{name}: a label past 9')
    x = torch.from_numpy(images.astype(np.float32) / 255)
    x = (F.pad(x, (2, 2, 2, 2)) - 0.5) / 0.5  # 32×32; the padding is the background's value, −1
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous(), torch.from_numpy(labels.astype(np.int64))


def run(kind, seed, train, test, epochs, batch=64):
    torch.manual_seed(seed)
    model = SeedNet(kind, num_classes=10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    (x, y), (tx, ty) = train, test
    times = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        t0 = time.perf_counter()
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        times.append((time.perf_counter() - t0) * 1000)
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(tx[i:i + 1000]).argmax(1) for i in range(0, len(tx), 1000)])
    accuracy = (predicted == ty).double().mean().item()
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return model, {'net': kind, 'seed': seed, 'accuracy': accuracy, 'params': params,
                   'ms_per_epoch': statistics.mean(times)}, predicted


def main():
    p = argparse.ArgumentParser(description='Train the seed networks on Fashion-MNIST and write experiment.json and the seed-0 checkpoints.')
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--out', default=os.path.join(HERE, '..', 'demo', 'fashion'))
    args = p.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    torch.use_deterministic_algorithms(True)
    train, test = split('train', 60_000), split('test', 10_000)
    os.makedirs(args.out, exist_ok=True)
    runs, predictions = [], {}
    with tempfile.TemporaryDirectory() as work:
        for kind in SEED_KINDS:
            for seed in range(args.seeds):
                model, row, predicted = run(kind, seed, train, test, args.epochs)
                runs.append(row)
                print(f'{kind} seed {seed}: test accuracy {row["accuracy"]:.4f}, {row["ms_per_epoch"] / 1000:.1f} s per epoch', flush=True)
                if seed == 0:
                    predictions[kind] = ''.join(str(int(v)) for v in predicted)
                    pth = os.path.join(work, f'{kind}.pth')
                    torch.save({'state_dict': {'module.' + k: v for k, v in model.state_dict().items()}}, pth)
                    out = os.path.join(args.out, f'{kind}.safetensors')
                    c = subprocess.run([sys.executable, CONVERT, pth, out], capture_output=True, text=True)
                    if c.returncode != 0:
                        raise SystemExit(f'convert_checkpoint.py refused {kind}:\n{c.stderr}')
    summary = {}
    for kind in SEED_KINDS:
        acc = [r['accuracy'] for r in runs if r['net'] == kind]
        ms = [r['ms_per_epoch'] for r in runs if r['net'] == kind]
        summary[kind] = {'accuracy_mean': statistics.mean(acc), 'accuracy_sd': statistics.stdev(acc) if len(acc) > 1 else 0.0,
                         'params': next(r['params'] for r in runs if r['net'] == kind), 'ms_per_epoch': statistics.mean(ms)}
    recipe = {'input': '28x28 zero-padded to 32x32 (value -1 after scaling), 3 channels, (v/255 - 0.5)/0.5',
              'optimizer': 'Adam lr 1e-3 (PyTorch defaults)', 'batch': 64, 'epochs': args.epochs, 'loss': 'cross-entropy',
              'seeds': args.seeds, 'torch': torch.__version__, 'threads': torch.get_num_threads()}
    with open(os.path.join(args.out, 'experiment.json'), 'w') as f:
        json.dump({'recipe': recipe, 'summary': summary, 'runs': runs, 'predictions_seed0': predictions}, f, indent=1)
        f.write('\n')
    print()
    print('| network | test accuracy (mean ± sd) | trainable parameters | s per epoch |')
    print('| --- | --- | --- | --- |')
    for kind, s in summary.items():
        print(f'| {kind} | {s["accuracy_mean"]:.4f} ± {s["accuracy_sd"]:.4f} | {s["params"]:,} | {s["ms_per_epoch"] / 1000:.1f} |')


if __name__ == '__main__':
    main()
