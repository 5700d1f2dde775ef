#!/usr/bin/python3
"""Writes the model fixtures the browser tests load (tests/fixtures/models/, committed) and their
parameter-count table. Run with Debian's PyTorch: /usr/bin/python3 scripts/make_model_fixtures.py [--full]

For each fixture NAME:
  NAME.safetensors     the weights, written by RUNNING scripts/convert_checkpoint.py on a checkpoint
                       saved as the official train.py saves one ({'state_dict': ...} with nn.DataParallel's
                       'module.' prefixes), so every fixture is also a conversion the converter accepted;
  NAME.io.safetensors  input_u8 (U8 [2, 3, H, W], NCHW; the network's input is x = input_u8 / 64 - 2,
                       exact in float32), logits32 (F32, the float32 PyTorch run), logits64 (the float64
                       run of the same weights, rounded to float32) and metadata with the max
                       |logits32 - logits64| (float32 rounding through this network: the browser test's
                       tolerance is derived from it) and the max |logits|.

  shufflenetv2-tiny-acon / -meta  the official ShuffleNetV2 ACON-C / Meta-ACON-C at a reduced width,
                       stage_out_channels [-1, 8, 16, 32, 64, 128] (repeats [4, 8, 4]), n_class 10, r 8;
                       input 224×224 (AvgPool2d(7) needs 7×7 at the end)
  dcn3, dcn2-acon, dcn2-meta      the seed CNNs at full size, num_classes 1; input 32×32

Weights are random but far from any init default (seeded): conv / linear weights N(0, (gain·√(2/fan_in))²)
(fan_in = in/groups·kh·kw: 9 for a depthwise conv; gain from 0.70-1.10, per fixture the one that keeps
activations closest to magnitude (rms) 1), biases N(0, 0.05²), BatchNorm weight U(0.5, 1.5),
bias N(0, 0.1²), running_mean N(0, 0.1²), running_var U(0.5, 2); ACON p1 N(1, 0.5²), p2 N(0, 0.5²),
AconC beta U(0.5, 2). The script prints the std of intermediate activations and logits to show they
neither vanish nor blow up.

--full also writes (not for committing) the full-width 0.5× ACON-C and Meta-ACON-C fixtures with
n_class 1000 to --out (default /tmp/acon-fixtures), for a hand run.
"""
import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from torch_models.acon import AconC, MetaAconC  # noqa: E402
from torch_models.architectures import (  # noqa: E402
    META_KINDS, RESNET_DEPTHS, RESNET_KINDS, SEED_R, TFNET_SIZES, SHUFFLENET_KINDS, STAGE_OUT_CHANNELS, build, build_resnet, counts, input_shape,
    official_r,
)
from torch_models.safetensors_io import read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.dirname(HERE)
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'models')
CONVERT = os.path.join(HERE, 'convert_checkpoint.py')
TINY = [-1, 8, 16, 32, 64, 128]
# Conv / linear weight std = gain·√(2/fan_in). How activations grow or shrink through the network
# depends strongly on the gain (tiny ShuffleNetV2: 0.8 shrinks them to std ≈ 0.2 at conv_last, 1.0 grows
# them to ≈ 50; the full 0.5× needs less than the tiny one), so each fixture takes the gain from GAINS
# whose activations (the probes' and the logits' root mean square on the fixture's own input) are
# closest to 1: smallest max |ln rms|. The same seed draws the same normalised values for every candidate.
GAINS = [round(0.7 + 0.02 * k, 2) for k in range(21)]  # 0.70 ... 1.10
BATCH = 2

# name: (architecture, settings, seed, weight gain: None to search GAINS)
FIXTURES_COMMITTED = {
    'shufflenetv2-tiny-acon': ('shufflenetv2-acon', {'stage_out_channels': TINY, 'n_class': 10}, 101, None),
    'shufflenetv2-tiny-meta': ('shufflenetv2-meta', {'stage_out_channels': TINY, 'n_class': 10, 'r': 8}, 102, None),
    'dcn3': ('dcn3', {'num_classes': 1}, 103, None),
    'dcn2-acon': ('dcn2-acon', {'num_classes': 1}, 104, None),
    'dcn2-meta': ('dcn2-meta', {'num_classes': 1, 'r': SEED_R}, 105, None),
    # The zoo at reduced widths, every block of the official depth: ResNet-50 with planes 4 (the official
    # 64: widths 4, 8, 16, 32, outputs 4x that; 64×64 input) by the official ResNet class at that width
    # (architectures._narrow_resnet), and TFNet at model_size 0.25 (a first conv of 4, ACON-FReLU at
    # widths 4-64 and on conv_last's 1024) by the official constructor. Gains fixed, as the search would
    # pick for ResNet (0.7, GAINS' smallest); TFNet's 16 residual ACON-FReLU blocks need less: at 0.57
    # every probe's rms stays within 0.55-1.5 (0.7: 69 at conv_last; 0.5: 0.22).
    'resnet50-tiny-acon': ('resnet-acon', {'depth': 50, 'num_classes': 10, 'planes': 4}, 106, GAINS[0]),
    'resnet50-tiny-meta': ('resnet-meta', {'depth': 50, 'num_classes': 10, 'planes': 4, 'r': 16}, 107, GAINS[0]),
    'tfnet-tiny': ('tfnet', {'model_size': 0.25, 'n_class': 10}, 108, 0.57),
}
# The zoo's large networks for tests/node/zoo-checkpoints.test.ts, which has them written to a temporary
# folder (--zoo DIR; not committed): ResNet-50 with Meta-ACON-C and with ACON-C, 10 classes, 95 MB each,
# on a 64×64 input (the official AdaptiveAvgPool2d takes any size), the converter and the loader on the
# checkpoint users reach for (res50.metaacon.pth); TFNet 0.5 (ACON-FReLU), 10 classes, on 224×224
# (its AvgPool2d(7) needs it). Weight gains fixed, which saves the search's 20 runs each: ResNet GAINS'
# smallest, which the search picks for both; TFNet 0.5, below GAINS: at 0.7 its activations already grow
# to rms 92 by features.12 and 300 at conv_last (16 residual ACON-FReLU blocks), at 0.5 every probe's
# rms stays within 0.6-2.
FIXTURES_ZOO = {
    'resnet50-meta': ('resnet-meta', {'depth': 50, 'num_classes': 10, 'r': 16}, 301, GAINS[0]),
    'resnet50-acon': ('resnet-acon', {'depth': 50, 'num_classes': 10}, 302, GAINS[0]),
    'tfnet-0.5': ('tfnet', {'model_size': 0.5, 'n_class': 10}, 303, 0.5),
}
RESNET_INPUT = 64
FIXTURES_FULL = {
    'shufflenetv2-0.5x-acon': ('shufflenetv2-acon', {'stage_out_channels': STAGE_OUT_CHANNELS['0.5x'], 'n_class': 1000}, 201, None),
    'shufflenetv2-0.5x-meta': ('shufflenetv2-meta', {'stage_out_channels': STAGE_OUT_CHANNELS['0.5x'], 'n_class': 1000, 'r': 8}, 202, None),
}


# ------------------------------------------------------------------------------------------ weights

@torch.no_grad()
def randomize(model, g, gain):
    """Every parameter and running statistic to a seeded random value away from its init default."""
    done = set()

    def mark(module_name, *names):
        done.update(f'{module_name}.{n}' if module_name else n for n in names)

    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()  # in_channels / groups · kh · kw (Linear: in_features)
            m.weight.normal_(0.0, gain * math.sqrt(2.0 / fan_in), generator=g)
            mark(name, 'weight')
            if m.bias is not None:
                m.bias.normal_(0.0, 0.05, generator=g)
                mark(name, 'bias')
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5, generator=g)
            m.bias.normal_(0.0, 0.1, generator=g)
            m.running_mean.normal_(0.0, 0.1, generator=g)
            m.running_var.uniform_(0.5, 2.0, generator=g)
            mark(name, 'weight', 'bias', 'running_mean', 'running_var')
        elif isinstance(m, (AconC, MetaAconC)):
            m.p1.normal_(1.0, 0.5, generator=g)
            m.p2.normal_(0.0, 0.5, generator=g)
            mark(name, 'p1', 'p2')
            if isinstance(m, AconC):
                m.beta.uniform_(0.5, 2.0, generator=g)
                mark(name, 'beta')
    left = [k for k in model.state_dict() if k not in done and not k.endswith('num_batches_tracked')]
    if left:
        raise AssertionError(f'not randomized: {left}')


# --------------------------------------------------------------------------------------- the runs

def probes(architecture, model):
    """Modules whose outputs' std is printed."""
    if architecture in SHUFFLENET_KINDS:
        names = ['first_conv', 'features.3', 'features.11', 'features.15', 'conv_last', 'globalpool']
    elif architecture in RESNET_KINDS:
        names = ['maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool']
    elif architecture == 'tfnet':
        names = ['first_conv', 'features.1', 'features.4', 'features.12', 'conv_last', 'globalpool']
    else:
        names = ['conv1', 'conv2', 'act', 'conv4', 'fc1']
    modules = dict(model.named_modules())
    return [(n, modules[n]) for n in names]


def run(architecture, model, x):
    """(logits, {probe: (std, rms)}) of model.eval() on x."""
    stds = {}

    def record(name, out):
        out = out.double()
        stds[name] = (out.std().item(), out.square().mean().sqrt().item())

    hooks = [m.register_forward_hook(lambda _m, _i, out, n=n: record(n, out)) for n, m in probes(architecture, model)]
    try:
        with torch.no_grad():
            y = model.eval()(x)
    finally:
        for h in hooks:
            h.remove()
    return y, stds


def randomized(architecture, settings, seed, gain):
    """(model, generator) with the fixture's weights; the generator then draws its input."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = build(architecture, settings)
    randomize(model, g, gain)
    return model, g


def fixture_input(architecture, g):
    shape = input_shape(architecture, BATCH)
    if architecture in RESNET_KINDS:
        shape[2:] = [RESNET_INPUT, RESNET_INPUT]
    u = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    return u, u.float() / 64 - 2  # exact in float32


def choose_gain(architecture, settings, seed):
    def score(gain):
        model, g = randomized(architecture, settings, seed, gain)
        y, stds = run(architecture, model, fixture_input(architecture, g)[1])
        rms = [r for _, r in stds.values()] + [y.double().square().mean().sqrt().item()]
        return max(abs(math.log(v)) if v > 0 and math.isfinite(v) else math.inf for v in rms)
    return min(GAINS, key=score)


def make_fixture(name, architecture, settings, seed, out_dir, work_dir, gain=None):
    gain = gain if gain is not None else choose_gain(architecture, settings, seed)
    model, g = randomized(architecture, settings, seed, gain)

    # the checkpoint as the official train.py saves it, converted by the converter (a subprocess)
    pth = os.path.join(work_dir, f'{name}.pth')
    torch.save({'state_dict': {'module.' + k: v for k, v in model.state_dict().items()}}, pth)
    weights = os.path.join(out_dir, f'{name}.safetensors')
    p = subprocess.run([sys.executable, CONVERT, pth, weights], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f'convert_checkpoint.py refused {name} (exit {p.returncode}):\n{p.stderr}')

    # what the browser will load: the converted file, into a fresh model
    tensors, metadata = read_safetensors(weights)
    loaded = build(architecture, settings)
    missing, unexpected = loaded.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False)
    assert not unexpected and all(k.endswith('num_batches_tracked') for k in missing), (missing, unexpected)
    for k, v in model.state_dict().items():
        if not k.endswith('num_batches_tracked'):
            assert torch.equal(loaded.state_dict()[k], v), k

    u, x = fixture_input(architecture, g)
    y32, stds = run(architecture, loaded, x)
    y64, _ = run(architecture, copy.deepcopy(loaded).double(), u.double() / 64 - 2)
    diff = (y32.double() - y64).abs().max().item()
    io_path = os.path.join(out_dir, f'{name}.io.safetensors')
    write_safetensors(io_path, [('input_u8', 'U8', u), ('logits32', 'F32', y32), ('logits64', 'F32', y64.float())], {
        'input': 'x = input_u8 / 64 - 2, NCHW',
        'logits32_vs_64_max_abs': repr(diff),
        'logits_max_abs': repr(y64.abs().max().item()),
        'model': os.path.basename(weights),
        'architecture': architecture,
        'weight_gain': repr(gain),
    })
    return {
        'name': name, 'architecture': architecture, 'metadata': metadata, 'weights': weights, 'io': io_path,
        'counts': counts(model), 'stds': stds, 'logits_std': y32.double().std().item(), 'logits_rms': y32.double().square().mean().sqrt().item(),
        'logits_max_abs': y64.abs().max().item(), 'diff': diff, 'convert': p.stdout.strip(), 'gain': gain,
    }


# ---------------------------------------------------------------------------------- param counts

def param_counts():
    rows = {}
    entries = []
    for size, channels in STAGE_OUT_CHANNELS.items():
        entries.append((f'shufflenetv2-{size}-acon', 'shufflenetv2-acon', {'stage_out_channels': channels, 'n_class': 1000}))
    for size, channels in STAGE_OUT_CHANNELS.items():
        entries.append((f'shufflenetv2-{size}-meta', 'shufflenetv2-meta', {'stage_out_channels': channels, 'n_class': 1000, 'r': official_r(size)}))
    for name, (architecture, settings, _, _) in FIXTURES_COMMITTED.items():
        entries.append((name, architecture, settings))
    for name, architecture, settings in entries:
        row = counts(build(architecture, settings))
        row['stage_out_channels'] = settings.get('stage_out_channels')
        row['r'] = settings.get('r') if architecture in META_KINDS else None
        row['classes'] = settings.get('n_class', settings.get('num_classes'))
        rows[name] = row
    # ResNet-50/101/152 with ACON-C and Meta-ACON-C (MetaAconC's default r, 16), and ResNet-50 with
    # ReLU where the ACON-C file has ACON-C
    for kind, depths in (('acon', RESNET_DEPTHS), ('meta', RESNET_DEPTHS), ('relu', (50,))):
        for depth in depths:
            row = counts(build_resnet(f'resnet-{kind}', depth))
            row['stage_out_channels'] = None
            row['r'] = 16 if kind == 'meta' else None
            row['classes'] = 1000
            rows[f'resnet{depth}-{kind}'] = row
    # TFNet (ACON-FReLU) at its four widths
    for size in TFNET_SIZES:
        row = counts(build('tfnet', {'model_size': size, 'n_class': 1000}))
        row['stage_out_channels'] = None
        row['r'] = None
        row['classes'] = 1000
        rows[f'tfnet-{size:.1f}'] = row
    return rows


def write_counts(path):
    rows = param_counts()
    with open(path, 'w') as f:
        f.write('{\n' + ',\n'.join(f'  {json.dumps(k)}: {json.dumps(v)}' for k, v in rows.items()) + '\n}\n')
    return rows


def main():
    p = argparse.ArgumentParser(description='Write the model fixtures (tests/fixtures/models/) and param-counts.json.')
    p.add_argument('--full', action='store_true', help='also write the full 0.5x ACON-C / Meta-ACON-C fixtures (n_class 1000) to --out (not committed)')
    p.add_argument('--out', default='/tmp/acon-fixtures', help='folder for --full (default /tmp/acon-fixtures)')
    p.add_argument('--fixtures', default=FIXTURES, help=f'folder for the committed fixtures (default {os.path.relpath(FIXTURES, ROOT)})')
    p.add_argument('--counts-only', action='store_true', help='only (re)write param-counts.json')
    p.add_argument('--zoo', metavar='DIR', help='only write the ResNet and TFNet fixtures (not committed) to DIR')
    args = p.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    if args.counts_only:
        write_counts(os.path.join(args.fixtures, 'param-counts.json'))
        return
    if args.zoo:
        os.makedirs(args.zoo, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            for name, (architecture, settings, seed, gain) in FIXTURES_ZOO.items():
                r = make_fixture(name, architecture, settings, seed, args.zoo, work, gain)
                print(f'{name}: {r["convert"]}; weight gain {r["gain"]}; max |logits| {r["logits_max_abs"]:.4g}, '
                      f'max |logits32 - logits64| {r["diff"]:.3g}')
        return

    jobs = [(n, *spec, args.fixtures) for n, spec in FIXTURES_COMMITTED.items()]
    if args.full:
        jobs += [(n, *spec, args.out) for n, spec in FIXTURES_FULL.items()]
    os.makedirs(args.fixtures, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as work:
        for name, architecture, settings, seed, gain, out_dir in jobs:
            os.makedirs(out_dir, exist_ok=True)
            r = make_fixture(name, architecture, settings, seed, out_dir, work, gain)
            results.append(r)
            print(f'{name}: {r["convert"]}')
            print(f'  weight gain {r["gain"]}; activation std (rms): ' + ', '.join(f'{k} {v:.3g} ({m:.3g})' for k, (v, m) in r['stds'].items())
                  + f', logits {r["logits_std"]:.3g} ({r["logits_rms"]:.3g})')
            print(f'  max |logits| {r["logits_max_abs"]:.4g}, max |logits32 - logits64| {r["diff"]:.3g}')

    counts_path = os.path.join(args.fixtures, 'param-counts.json')
    rows = write_counts(counts_path)

    def show(path):
        path = os.path.abspath(path)
        return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path

    print()
    print(f'{"file":58} {"bytes":>10}')
    for r in results:
        for path in (r['weights'], r['io']):
            print(f'{show(path):58} {os.path.getsize(path):>10,}')
    print(f'{show(counts_path):58} {os.path.getsize(counts_path):>10,}')
    committed = sum(os.path.getsize(os.path.join(args.fixtures, f)) for f in os.listdir(args.fixtures))
    print(f'{show(args.fixtures) + "/ in all":58} {committed:>10,}')
    print()
    print(f'{"network":26} {"trainable":>10} {"buffers":>8} {"nbt":>4}  stage_out_channels               r')
    for name, row in rows.items():
        print(f'{name:26} {row["trainable"]:>10,} {row["buffers"]:>8,} {row["num_batches_tracked"]:>4}  {str(row["stage_out_channels"] or "-"):32} {row["r"] or "-"}')


if __name__ == '__main__':
    main()
