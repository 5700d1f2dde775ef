#!/usr/bin/python3
"""Converts a PyTorch ACON / Meta-ACON checkpoint into the safetensors file acon-webgpu loads.

  /usr/bin/python3 scripts/convert_checkpoint.py IN.pth OUT.safetensors [--arch A] [--model-size S] [--r R] [--trust-pickle]

IN is read by torch_models/checkpoint_reader.py, which parses torch.save's formats itself and runs
nothing from the file (torch.load runs a TorchScript archive's code before PyTorch 2.6, even with
weights_only=True); --trust-pickle uses torch.load instead, for files you trust. IN is a bare state dict or a dict holding one under 'state_dict' (what the official train.py saves:
{'state_dict': model.state_dict()} of an nn.DataParallel model, so 'module.' prefixes are stripped);
num_batches_tracked buffers are dropped. The architecture is detected from the keys (or given with
--arch), the ShuffleNetV2 width (stage_out_channels) from the tensor shapes, the ResNet depth from its
bottlenecks per layer and its width (planes: 64 officially) from conv1, TFNet's model_size from its first
conv's width / 16, and Meta-ACON's r from the
β generators' hidden widths, all from the shapes alone. The architecture is then built in PyTorch on the
meta device (the official modules, vendored in scripts/torch_models/; shapes without data) and the state
dict must have exactly its tensors with exactly its shapes; otherwise every missing / unexpected / wrongly
shaped tensor is named and the script exits with status 2 without writing anything; so it does when a
width, class count or r is outside 1 to 2**20, which the browser loader refuses. No tensor's values are
read before that, nor any beyond the bytes the file holds. Names and paths are printed (and `source` is
written) with their unprintable characters escaped.

OUT keeps PyTorch's tensor names and shapes (the browser side converts layouts), every tensor as F32
in state-dict order, with __metadata__ {"format": "acon-webgpu/1", "architecture", "source",
ShuffleNetV2: "model_size", "stage_out_channels", "n_class"; ResNet: "depth", "planes", "num_classes"; TFNet:
"model_size", "n_class"; seed networks:
"num_classes";
Meta-ACON: "r"}. OUT is written to a temporary file and renamed: never half-written.

Exit status: 0 written; 2 the checkpoint does not fit or is refused (or a usage error, or OUT cannot be
written); 1 anything unexpected (a bug: a traceback is printed).
See docs/converting.md.
"""
import argparse
import inspect
import json
import os
import sys

sys.dont_write_bytecode = True  # keep scripts/torch_models/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from torch_models.architectures import (  # noqa: E402
    ARCHITECTURES, FIRST_BLOCKS, META_KINDS, RESNET_BLOCKS, RESNET_KINDS, RESNET_R, SEED_R, SHUFFLENET_KINDS,
    STAGE_OUT_CHANNELS, TFNET_KINDS, TFNET_SIZES,
    build_on_meta, tfnet_size_ok, input_shape, metadata_for, model_size_of, official_r, state_dict_shapes,
)
from torch_models.checkpoint_reader import (  # noqa: E402
    FLOATING, STORAGE_TYPES, CheckpointError, ForeignObjectError, Storage, Tensor, clip, read_checkpoint, to_float32,
    view_problem,
)
from torch_models.safetensors_io import write_safetensors  # noqa: E402

FORMAT = 'acon-webgpu/1'


class ConversionError(Exception):
    """The checkpoint does not fit: reported on stderr, exit status 2."""


# ---------------------------------------------------------------------------------------------- load

NAME_LIMIT = 64  # longer than any tensor name of these architectures, even with two 'module.' prefixes


def load_checkpoint(path, trust_pickle=False):
    """The checkpoint's state dict as an ordered {name: Tensor record}, unwrapped from {'state_dict': ...}.
    Read by checkpoint_reader (nothing from the file runs), or with --trust-pickle by torch.load."""
    shown = clip(path, None)
    try:
        obj = read_checkpoint(path) if not trust_pickle else torch_load(path)
    except ForeignObjectError as e:
        raise ConversionError(f'{shown}: {e}; if you trust the file, pass --trust-pickle to unpickle it fully')
    except CheckpointError as e:
        raise ConversionError(f'{shown}: {e}')
    if isinstance(obj, dict) and isinstance(obj.get('state_dict'), dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict):
        raise ConversionError(f'{shown}: not a state dict (a {type(obj).__name__}); expected {{name: tensor}} or {{"state_dict": {{name: tensor}}}}')
    if trust_pickle:
        obj = {k: from_torch(v) if isinstance(v, torch.Tensor) else v for k, v in obj.items()}
    not_tensors = [k for k, v in obj.items() if not isinstance(v, Tensor)]
    if not_tensors:
        raise ConversionError(f'{shown}: not a state dict: {", ".join(clip(k) for k in not_tensors[:5])} '
                              f'{"is not a tensor" if len(not_tensors) == 1 else "are not tensors"}'
                              f'{f" (and {len(not_tensors) - 5} more)" if len(not_tensors) > 5 else ""}')
    return obj


def torch_load(path):
    """torch.load, unpickling fully (--trust-pickle: the file's code runs)."""
    kwargs = {'weights_only': False} if 'weights_only' in inspect.signature(torch.load).parameters else {}
    try:
        return torch.load(path, map_location='cpu', **kwargs)
    except FileNotFoundError:
        raise ConversionError(f'{clip(path, None)}: no such file')
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a file that is not a checkpoint
        raise ConversionError(f'{clip(path, None)}: cannot be read by torch.load ({type(e).__name__}: {clip(str(e).splitlines()[0] if str(e) else "")})')


def from_torch(t):
    """A Tensor record of a tensor torch.load built (--trust-pickle), so both ways of reading are checked
    and written alike."""
    t = t.detach().cpu().contiguous()
    kind = next((k for k in STORAGE_TYPES.values() if f'torch.{k.dtype}' == str(t.dtype)), None)
    if kind is None:
        raise ConversionError(f'a tensor of dtype {t.dtype}, which is not read')
    raw = t.view(torch.int16) if kind.dtype == 'bfloat16' else t  # numpy has no bfloat16
    return Tensor(kind.dtype, Storage(kind, t.numel(), raw.numpy().tobytes()), 0, tuple(t.shape), t.stride())


def normalize(state_dict):
    """Strips 'module.' prefixes (nn.DataParallel) and drops num_batches_tracked."""
    out = {}
    for key, value in state_dict.items():
        if type(key) is not str:
            raise ConversionError(f'a tensor name is a {type(key).__name__}, not a string')
        if len(key) > NAME_LIMIT:
            raise ConversionError(f'tensor name {clip(key)} has {len(key):,} characters; no tensor of these architectures has a name that long')
        name = key
        while name.startswith('module.'):
            name = name[len('module.'):]
        if name.endswith('num_batches_tracked'):
            continue
        if name in out:
            raise ConversionError(f'tensor {clip(name, NAME_LIMIT)} appears twice (once with a "module." prefix)')
        out[name] = value
    return out


def listed(problems, limit=20):
    return problems[:limit] + ([f'... and {len(problems) - limit} more'] if len(problems) > limit else [])


def check_storage(sd):
    """Every tensor's view must lie within its storage, and together the tensors may hold no more elements
    than their storages: the output is never larger than the bytes the file holds (a stride-0 expand, or
    many tensors viewing one storage, would claim more)."""
    problems = [f'{clip(k, NAME_LIMIT)}: {p}' for k, t in sd.items() if (p := view_problem(t))]
    if problems:
        raise ConversionError(f'{len(problems)} tensor(s) cannot be read:\n  ' + '\n  '.join(listed(problems)))
    claimed = sum(t.numel for t in sd.values())
    held = sum({id(t.storage): t.storage.numel for t in sd.values()}.values())
    if claimed > held:
        raise ConversionError(f'the tensors claim {claimed:,} elements, their storages hold {held:,}: '
                              'tensors that share a storage are not read')


# ------------------------------------------------------------------------------------ architecture

def detect_architecture(sd):
    if 'first_conv.2.fc1.weight' in sd:
        return 'shufflenetv2-meta'
    if 'first_conv.2.p1' in sd:
        return 'shufflenetv2-acon'
    if 'features.0.acon.conv_frelu.weight' in sd:
        return 'tfnet'
    if 'layer1.0.conv1.weight' in sd:
        if 'layer1.0.acon.fc1.weight' in sd:
            return 'resnet-meta'
        if 'layer1.0.acon.p1' in sd:
            return 'resnet-acon'
        if not any('.acon.' in k for k in sd):
            return 'resnet-relu'
    if 'conv1.weight' in sd:
        if 'act.fc1.weight' in sd:
            return 'dcn2-meta'
        if 'act.p1' in sd:
            return 'dcn2-acon'
        if not any(k.startswith('act.') for k in sd):
            return 'dcn3'
    some = ', '.join(clip(k, NAME_LIMIT) for k in list(sd)[:6]) + (', ...' if len(sd) > 6 else '')
    raise ConversionError('unknown architecture: none of the tensors that identify one is there '
                          '(first_conv.2.fc1.weight: shufflenetv2-meta; first_conv.2.p1: shufflenetv2-acon; '
                          'layer1.0.conv1.weight with layer1.0.acon.fc1.weight / layer1.0.acon.p1 / no *.acon.*: '
                          'resnet-meta / resnet-acon / resnet-relu; features.0.acon.conv_frelu.weight: tfnet; '
                          'conv1.weight with act.fc1.weight / act.p1 / no act.*: dcn2-meta / dcn2-acon / dcn3). '
                          f'The checkpoint has {len(sd)} tensors: {some or "none"}. Pass --arch to name one '
                          f'({", ".join(ARCHITECTURES)}) and see what does not fit.')


def _vote(sd, what, readings):
    """The most common value among several readings of one width (each a function of sd that raises
    KeyError / IndexError / AttributeError when its tensors are absent or malformed), so that one wrongly
    shaped tensor does not change the inferred width and is then named by the validation."""
    values = []
    for read in readings:
        try:
            values.append(int(read(sd)))
        except (KeyError, IndexError, AttributeError, TypeError):
            pass
    if not values:
        raise ConversionError(f'cannot infer {what}: none of the tensors it is read from is there with the expected dimensions '
                              f'({", ".join(sorted(set(k for read in readings for k in getattr(read, "keys", []))))})')
    return max(values, key=lambda v: (values.count(v), -values.index(v)))


def _dim(key, axis, ndim=4):
    def read(sd):
        t = sd[key]
        if len(t.shape) != ndim:
            raise IndexError(key)
        return t.shape[axis]
    read.keys = [key]
    return read


def _sum(*readings, factor=1):
    def read(sd):
        return factor * sum(r(sd) for r in readings)
    read.keys = [k for r in readings for k in r.keys]
    return read


def infer_stage_out_channels(sd):
    """[-1, first, stage2, stage3, stage4, last] from the shapes: first_conv's output, each stage's
    width as its first block's output (branch_main's last conv out + the block's input, which
    branch_proj passes through at the same width), conv_last's output; each read from a few tensors,
    most common value."""
    first = _vote(sd, 'stage_out_channels[1] (first_conv width)', [
        _dim('first_conv.0.weight', 0), _dim('first_conv.1.weight', 0, 1), _dim('first_conv.2.p1', 1),
        _dim('features.0.branch_main.0.weight', 1), _dim('features.0.branch_proj.0.weight', 0)])
    channels = [-1, first]
    for stage, i in enumerate(FIRST_BLOCKS):
        main, proj = f'features.{i}.branch_main', f'features.{i}.branch_proj'
        channels.append(_vote(sd, f'stage_out_channels[{stage + 2}] (width of stage {stage + 2})', [
            _sum(_dim(f'{main}.5.weight', 0), _dim(f'{main}.0.weight', 1)),
            _sum(_dim(f'{main}.6.weight', 0, 1), _dim(f'{proj}.3.weight', 0)),
            _sum(_dim(f'{main}.0.weight', 0), factor=2),  # mid_channels = width // 2
            _sum(_dim(f'features.{i + 1}.branch_main.0.weight', 1), factor=2)]))  # the next block reads width // 2
    channels.append(_vote(sd, 'stage_out_channels[5] (conv_last width)', [
        _dim('conv_last.0.weight', 0), _dim('conv_last.1.weight', 0, 1), _dim('conv_last.2.p1', 1), _dim('classifier.0.weight', 1, 2)]))
    return channels


def meta_widths(sd):
    """[(module, width C, hidden)] of every MetaAconC (a '<m>.fc1.weight' next to '<m>.p1')."""
    out = []
    for key, t in sd.items():
        if key.endswith('.fc1.weight') and key[:-len('fc1.weight')] + 'p1' in sd and len(t.shape) == 4:
            out.append((key[:-len('.fc1.weight')], int(t.shape[1]), int(t.shape[0])))
    return out


def r_fitting(width, hidden):
    """The r >= 1 with max(r, width // r) == hidden, as sorted disjoint intervals [lo, hi]: r == hidden
    when width // hidden <= hidden, and r < hidden with width // r == hidden, which is
    width // (hidden + 1) < r <= width // hidden. Arithmetic: a claimed width of 2**40 costs nothing."""
    if hidden < 1:
        return []
    spans = []
    lo, hi = width // (hidden + 1) + 1, min(width // hidden, hidden - 1)
    if lo <= hi:
        spans.append((lo, hi))
    if width // hidden <= hidden:
        spans.append((hidden, hidden))
    return spans


def intersect(a, b):
    """Two sorted lists of disjoint intervals: their intersection, likewise."""
    return [(max(lo, lo2), min(hi, hi2)) for lo, hi in a for lo2, hi2 in b if max(lo, lo2) <= min(hi, hi2)]


def infer_r(sd, preferred):
    """The r with max(r, C // r) == hidden for every MetaAconC; `preferred` (the official value)
    when several fit (they all give the same shapes, so the same network), else the smallest."""
    widths = meta_widths(sd)
    if not widths:
        raise ConversionError('cannot infer r: no MetaAconC β generator (<module>.fc1.weight with <module>.p1) found')
    fits = r_fitting(*widths[0][1:])
    for _, c, h in widths[1:]:
        fits = intersect(fits, r_fitting(c, h))
    if not fits:
        detail = '; '.join(f'{clip(m, NAME_LIMIT)}: width {c}, hidden {h}' for m, c, h in widths[:8])
        raise ConversionError('cannot infer r: no r gives every MetaAconC its hidden width max(r, width // r) '
                              f'({detail}{"; ..." if len(widths) > 8 else ""}); pass --r to see which tensors do not fit')
    return preferred if preferred is not None and any(lo <= preferred <= hi for lo, hi in fits) else fits[0][0]


def infer_resnet_depth(sd):
    """50, 101 or 152 from the bottlenecks per layer: the distinct block indices i of the names
    layer<l>.<i>.conv1.weight (arithmetic on the names; the file's own keys bound the work)."""
    blocks = []
    for layer in range(1, 5):
        prefix = f'layer{layer}.'
        indices = set()
        for key in sd:
            if key.startswith(prefix) and key.endswith('.conv1.weight'):
                middle = key[len(prefix):-len('.conv1.weight')]
                if middle.isdigit() and len(middle) <= 3:
                    indices.add(int(middle))
        blocks.append(len(indices))
    for depth, counts in RESNET_BLOCKS.items():
        if tuple(blocks) == counts:
            return depth
    known = '; '.join(f'ResNet-{d}: {list(c)}' for d, c in RESNET_BLOCKS.items())
    raise ConversionError(f'cannot infer the ResNet depth: the checkpoint has {blocks} bottlenecks in layer1..4 ({known})')


def parse_model_size(text):
    if text in STAGE_OUT_CHANNELS:
        return list(STAGE_OUT_CHANNELS[text])
    try:
        channels = json.loads(text)
        if isinstance(channels, list) and len(channels) == 6 and all(isinstance(c, int) for c in channels) and channels[0] == -1:
            return channels
    except json.JSONDecodeError:
        pass
    raise ConversionError(f'--model-size {text!r}: expected one of {", ".join(STAGE_OUT_CHANNELS)} '
                          'or a stage_out_channels list such as "[-1, 24, 48, 96, 192, 1024]"')


MAX_WIDTH = 2 ** 20  # the browser loader's bound on every count (MAX_WIDTH, src/models/checkpoint.ts)
RESNET_MAX_PLANES = MAX_WIDTH // 32  # layer4's output is 32·planes
TFNET_MAX_FIRST = MAX_WIDTH // 16  # the last stage's width is 16·(first width)


def check_widths(settings):
    """Every width, class count and r must be 1 to MAX_WIDTH, as the browser loader reads them: a file it
    would refuse is not written. (ShuffleNetV2's stage widths, each wider than the one before and divisible
    by 4, as the loader also requires, are checked by the official module itself as it builds and runs.)"""
    counts = [(f'stage_out_channels[{i}]', c) for i, c in enumerate(settings.get('stage_out_channels', [])) if i] + \
             [(k, settings[k]) for k in ('n_class', 'num_classes', 'r') if k in settings]
    bad = [f'{k} {v:,}' for k, v in counts if not 1 <= v <= MAX_WIDTH]
    if bad:
        raise ConversionError(f'{", ".join(bad)}: every width, class count and r must be 1 to {MAX_WIDTH:,} '
                              '(the browser loader reads no other)')


def settings_for(architecture, sd, model_size=None, r=None):
    if architecture in SHUFFLENET_KINDS:
        channels = parse_model_size(model_size) if model_size else infer_stage_out_channels(sd)
        s = {'stage_out_channels': channels, 'n_class': _vote(sd, 'n_class', [_dim('classifier.0.weight', 0, 2), _dim('classifier.0.bias', 0, 1)])}
        default_r = official_r(model_size_of(channels))
    elif architecture in TFNET_KINDS:
        if model_size:
            try:
                size = float(model_size)
            except ValueError:
                raise ConversionError(f'--model-size {clip(model_size, 40)!r}: TFNet takes a number (0.5, 1.0, 1.5, 2.0)')
            first = 16 * size
        else:
            first = _vote(sd, 'the TFNet width (first_conv)', [
                _dim('first_conv.0.weight', 0), _dim('first_conv.1.weight', 0, 1), _dim('features.0.branch_main.0.weight', 1)])
            size = first / 16
        # the official four, or any size whose first width 16·size is whole (the official __init__
        # takes int(16·size)): a reduced width, as the test fixtures use
        if not (tfnet_size_ok(size) and 1 <= first <= TFNET_MAX_FIRST):
            raise ConversionError(f'TFNet model_size {size}: the official ones are {", ".join(map(str, TFNET_SIZES))} '
                                  f'(a first conv of 8, 16, 24 or 32 channels); others need a first width 16·size of 1 to {TFNET_MAX_FIRST:,} channels')
        s = {'model_size': size, 'n_class': _vote(sd, 'n_class', [_dim('classifier.0.weight', 0, 2), _dim('classifier.0.bias', 0, 1)])}
        default_r = None
    elif architecture in RESNET_KINDS:
        if model_size:
            raise ConversionError(f'--model-size applies to ShuffleNetV2 and TFNet only, not {architecture}')
        # layer1's planes (official 64): the stem's width, read from a few tensors, most common value
        planes = _vote(sd, 'the ResNet width (conv1, layer1.0.conv1)', [
            _dim('conv1.weight', 0), _dim('bn1.weight', 0, 1), _dim('layer1.0.conv1.weight', 1), _dim('layer1.0.conv1.weight', 0)])
        if not 1 <= planes <= RESNET_MAX_PLANES:
            raise ConversionError(f'ResNet planes {planes:,} (conv1\'s width; official 64): 1 to {RESNET_MAX_PLANES:,}, '
                                  'so that the widest, 32·planes, stays within what the browser loader reads')
        s = {'depth': infer_resnet_depth(sd), 'planes': planes,
             'num_classes': _vote(sd, 'num_classes', [_dim('fc.weight', 0, 2), _dim('fc.bias', 0, 1)])}
        default_r = RESNET_R
    else:
        if model_size:
            raise ConversionError(f'--model-size applies to ShuffleNetV2 only, not {architecture}')
        s = {'num_classes': _vote(sd, 'num_classes', [_dim('fc2.weight', 0, 2), _dim('fc2.bias', 0, 1)])}
        default_r = SEED_R
    if architecture in META_KINDS:
        s['r'] = r if r is not None else infer_r(sd, default_r)
    elif r is not None:
        raise ConversionError(f'--r applies to Meta-ACON only, not {architecture}')
    return s


# -------------------------------------------------------------------------------------- validation

def check_fits(sd, expected):
    """Problems (one line each) between the checkpoint and the architecture's state dict."""
    problems = []
    for key, shape in expected.items():
        if key not in sd:
            problems.append(f'missing tensor {key} (expected shape {shape})')
        elif list(sd[key].shape) != shape:
            problems.append(f'wrong shape for {key}: expected {shape}, got {list(sd[key].shape)}')
    for key, t in sd.items():
        if key not in expected:
            problems.append(f'unexpected tensor {clip(key, NAME_LIMIT)} (shape {list(t.shape)})')
        elif t.dtype not in FLOATING:
            problems.append(f'tensor {key} has dtype {t.dtype}, expected a floating-point type')
    return problems


def describe(architecture, settings):
    if architecture in SHUFFLENET_KINDS:
        text = f'model_size {model_size_of(settings["stage_out_channels"])} {settings["stage_out_channels"]}, n_class {settings["n_class"]}'
    elif architecture in TFNET_KINDS:
        text = f'model_size {settings["model_size"]}, n_class {settings["n_class"]}'
    elif architecture in RESNET_KINDS:
        text = f'depth {settings["depth"]}, planes {settings["planes"]}, num_classes {settings["num_classes"]}'
    else:
        text = f'num_classes {settings["num_classes"]}'
    return text + (f', r {settings["r"]}' if 'r' in settings else '')


def convert(in_path, out_path, arch=None, model_size=None, r=None, trust_pickle=False):
    """Checks and writes; returns the summary line. Raises ConversionError when the checkpoint does not fit."""
    sd = normalize(load_checkpoint(in_path, trust_pickle))
    if not sd:
        raise ConversionError(f'{clip(in_path, None)}: the state dict is empty')
    check_storage(sd)
    architecture = arch or detect_architecture(sd)
    settings = settings_for(architecture, sd, model_size, r)
    # The architecture is built on PyTorch's meta device (shapes, no data), so widths the file claims cost
    # nothing until they are found to fit; the forward pass there runs the network's shape logic
    # (channel_shuffle asserts widths divisible by 4 only when it runs) and gives [1, classes], with no
    # activations allocated (a real one, at 224×224, could need hundreds of times the file's size).
    try:
        model = build_on_meta(architecture, settings)
    except Exception as e:  # noqa: BLE001 - the official constructor asserts / raises on impossible widths
        raise ConversionError(f'cannot build {architecture} ({describe(architecture, settings)}): {type(e).__name__}: {clip(str(e), 200)}')
    problems = check_fits(sd, state_dict_shapes(model))
    if problems:
        raise ConversionError(f'the checkpoint does not fit {architecture} ({describe(architecture, settings)}): '
                              f'{len(problems)} problem(s):\n  ' + '\n  '.join(listed(problems)))
    check_widths(settings)
    with torch.no_grad():
        try:
            y = model.eval()(torch.zeros(input_shape(architecture), device='meta'))
        except Exception as e:  # noqa: BLE001
            raise ConversionError(f'{architecture} ({describe(architecture, settings)}) does not run: {type(e).__name__}: {clip(str(e), 200)}')
    classes = settings.get('n_class', settings.get('num_classes'))
    if list(y.shape) != [1, classes]:
        raise ConversionError(f'{architecture} gives logits of shape {list(y.shape)}, expected [1, {classes}]')

    # Only now are values read: every tensor has the architecture's shape and lies within the file's bytes.
    arrays = {k: to_float32(t) for k, t in sd.items()}
    nonfinite = [k for k, a in arrays.items() if not np.isfinite(a).all()]
    if nonfinite:
        print(f'warning: non-finite values in {", ".join(nonfinite[:5])}{" ..." if len(nonfinite) > 5 else ""}', file=sys.stderr)
    metadata = {'format': FORMAT, 'architecture': architecture, 'source': clip(os.path.basename(in_path), None)}
    metadata.update(metadata_for(architecture, settings))
    try:
        nbytes = write_safetensors(out_path, [(k, 'F32', a) for k, a in arrays.items()], metadata)
    except OSError as e:
        raise ConversionError(f'cannot write {clip(out_path, None)}: {e.strerror or type(e).__name__}')
    values = sum(t.numel for t in sd.values())
    stats = sum(t.numel for k, t in sd.items() if k.endswith('running_mean') or k.endswith('running_var'))
    return (f'{architecture} ({describe(architecture, settings)}): {len(arrays)} tensors, '
            f'{values:,} parameters ({values - stats:,} trainable + {stats:,} running stats), {nbytes:,} bytes -> {clip(out_path, None)}')


def main(argv=None):
    p = argparse.ArgumentParser(
        description='Convert a PyTorch ACON / Meta-ACON checkpoint (official ShuffleNetV2, ResNet or TFNet, or the seed CNNs) to '
                    'the safetensors file acon-webgpu loads. Checks every tensor name and shape against the '
                    'architecture built in PyTorch; exits 2 naming each mismatch, writing nothing.',
        epilog='Architectures: ' + ', '.join(ARCHITECTURES) + '. See docs/converting.md.')
    p.add_argument('input', metavar='IN.pth', help='checkpoint: a state dict, or {"state_dict": state dict} as the official train.py saves')
    p.add_argument('output', metavar='OUT.safetensors', help='file to write (replaced atomically)')
    p.add_argument('--arch', choices=ARCHITECTURES, help='architecture (default: detected from the tensor names)')
    p.add_argument('--model-size', metavar='S', help='ShuffleNetV2 width: 0.5x, 1.0x, 1.5x, 2.0x or a stage_out_channels list '
                   '"[-1, 24, 48, 96, 192, 1024]"; TFNet: 0.5, 1.0, 1.5, 2.0 (default: inferred from the tensor shapes)')
    p.add_argument('--r', type=int, metavar='R', help='Meta-ACON reduction r (default: inferred from the hidden widths)')
    p.add_argument('--trust-pickle', action='store_true', help='read the checkpoint with torch.load(weights_only=False), '
                   'which runs whatever code the file names: only for files you trust')
    args = p.parse_args(argv)
    if args.r is not None and args.r < 1:
        p.error('--r must be a positive integer')
    try:
        print(convert(args.input, args.output, args.arch, args.model_size, args.r, args.trust_pickle))
    except ConversionError as e:
        print(f'error: {e}\nnothing written to {clip(args.output, None)}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
