"""Every architecture acon-webgpu loads, built in PyTorch from the official modules (vendored, unchanged
but for their acon import) and seed_nets.py; what the converter and the fixture script share.

  shufflenetv2-acon  ShuffleNetV2_ACON       (ACON/ShuffleNetV2_ACON/network.py)
  shufflenetv2-meta  ShuffleNetV2_MetaACON   (MetaACON/ShuffleNet_MetaACON/network.py)
  dcn3, dcn2-acon, dcn2-meta                 seed_nets.SeedNet

  resnet-acon, resnet-meta, resnet-relu      ResNet-50/101/152 with ACON-C (ACON/ResNet_ACON/
                                             resnet_acon.py), with Meta-ACON-C (MetaACON/ResNet_MetaACON/
                                             resnet_metaacon.py), and with ReLU where the ACON-C file has
                                             ACON-C (the bench's baseline): build_resnet
  tfnet                                      TFNet with ACON-FReLU (TFNet/network.py), model_size 0.5-2.0

Widths other than the official ones, and an r other than the official one, are built by the official
__init__ itself: see build_shufflenet, build_resnet (planes) and tfnet_size_ok (TFNet's model_size).
"""
import contextlib
import io
import json
import warnings

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from . import resnet_acon, resnet_metaacon, tfnet
from .acon import AconC, MetaAconC
from .seed_nets import SEED_KINDS, SeedNet
from .shufflenetv2_acon import ShuffleNetV2_ACON
from .shufflenetv2_meta_acon import ShuffleNetV2_MetaACON

SHUFFLENET_KINDS = ('shufflenetv2-acon', 'shufflenetv2-meta')
RESNET_KINDS = ('resnet-acon', 'resnet-meta', 'resnet-relu')
TFNET_KINDS = ('tfnet',)
TFNET_SIZES = (0.5, 1.0, 1.5, 2.0)
RESNET_DEPTHS = (50, 101, 152)
# Bottlenecks per layer of resnet50/101/152_acon and _metaacon
RESNET_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
RESNET_R = 16  # MetaAconC(width) in resnet_metaacon.py: acon.py's default r
RESNET_PLANES = 64  # layer1's planes in both ResNet files (layer2..4: 2, 4, 8 times that; outputs 4 times)
ARCHITECTURES = SHUFFLENET_KINDS + RESNET_KINDS + TFNET_KINDS + SEED_KINDS
META_KINDS = ('shufflenetv2-meta', 'resnet-meta', 'dcn2-meta')

# As ShuffleNetV2_ACON / ShuffleNetV2_MetaACON.__init__ choose them from model_size.
STAGE_OUT_CHANNELS = {
    '0.5x': [-1, 24, 48, 96, 192, 1024],
    '1.0x': [-1, 24, 116, 232, 464, 1024],
    '1.5x': [-1, 24, 176, 352, 704, 1024],
    '2.0x': [-1, 24, 244, 488, 976, 2048],
}
STAGE_REPEATS = [4, 8, 4]
# features.<i> of the first block of each stage (the stride-2 block that sets the stage's width)
FIRST_BLOCKS = [sum(STAGE_REPEATS[:i]) for i in range(len(STAGE_REPEATS))]  # [0, 4, 12]
SEED_R = 16  # src/layers/networks.ts: MetaAconC with r = 16


def model_size_of(stage_out_channels):
    """'0.5x' ... '2.0x' when the list is an official one, else 'custom'."""
    for size, channels in STAGE_OUT_CHANNELS.items():
        if list(stage_out_channels) == channels:
            return size
    return 'custom'


def official_r(model_size):
    """ShuffleNetV2_MetaACON's r: 8 at 0.5×, 16 otherwise (None for a custom width: no official value)."""
    if model_size == 'custom':
        return None
    return 8 if model_size == '0.5x' else 16


def meta_hidden(width, r):
    """MetaAconC's hidden width, as acon.py computes it."""
    return max(r, width // r)


def _overriding(cls, overrides):
    """A throwaway subclass of the official `cls` that differs in one thing only: when the official
    __init__ assigns an attribute named in `overrides` (stage_out_channels, r), the override's value
    is stored instead. The official __init__ runs unchanged and builds every layer from those
    attributes, so the result is the official architecture at another width / r. (The official class
    itself is not modified, and nothing is copied out of its __init__.)"""

    def __setattr__(self, name, value):
        if name in overrides:
            value = overrides[name]
        nn.Module.__setattr__(self, name, value)

    return type(cls.__name__ + '_Custom', (cls,), {'__setattr__': __setattr__, '__module__': __name__, '__doc__': _overriding.__doc__})


def build_shufflenet(kind, stage_out_channels, n_class=1000, r=None, quiet=True):
    """The official ShuffleNetV2 with ACON-C (kind 'shufflenetv2-acon') or Meta-ACON-C
    ('shufflenetv2-meta') at `stage_out_channels` ([-1, first, stage2, stage3, stage4, last]).

    An official width with the official r is the official constructor, nothing else. Any other width
    or r: the official constructor is called with model_size='0.5x' (which it accepts) on a subclass
    that substitutes our stage_out_channels (and r) at the moment __init__ assigns them (see
    _overriding); self.model_size stays '0.5x', which only decides the dropout of 2.0× (identity in
    eval). The official print('model size is ', ...) is silenced when quiet."""
    if kind not in SHUFFLENET_KINDS:
        raise ValueError(f'not a ShuffleNetV2 architecture: {kind!r}')
    channels = [int(c) for c in stage_out_channels]
    if len(channels) != 6 or channels[0] != -1:
        raise ValueError(f'stage_out_channels must be [-1, first, stage2, stage3, stage4, last], got {channels}')
    cls = ShuffleNetV2_ACON if kind == 'shufflenetv2-acon' else ShuffleNetV2_MetaACON
    size = model_size_of(channels)
    overrides = {}
    if size == 'custom':
        overrides['stage_out_channels'] = channels
    if kind == 'shufflenetv2-meta':
        if r is None:
            r = official_r(size)
            if r is None:
                raise ValueError('a custom-width Meta-ACON ShuffleNetV2 needs r (no official value)')
        if r != official_r(size):
            overrides['r'] = int(r)
    elif r is not None:
        raise ValueError('r applies to Meta-ACON only')
    if overrides:
        cls = _overriding(cls, overrides)
    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
        return cls(n_class=n_class, model_size=size if size != 'custom' else '0.5x')


def _narrow_resnet(cls, planes):
    """A throwaway subclass of an official ResNet class at another width: layer<l>'s planes are
    planes·2^(l-1) where the official __init__ passes 64·2^(l-1) to _make_layer, the stem's width
    (the first value __init__ gives self.inplanes, 64) is planes, and fc reads planes·8·4 features
    (the official 512·expansion). The official __init__ and _make_layer run unchanged and build every
    block from those values, so this is the official architecture, only narrower or wider."""

    def _make_layer(self, block, layer_planes, blocks, stride=1, dilate=False):
        return cls._make_layer(self, block, layer_planes * planes // RESNET_PLANES, blocks, stride, dilate)

    def __setattr__(self, name, value):
        if name == 'inplanes' and 'inplanes' not in self.__dict__:
            value = planes
        elif name == 'fc':
            value = nn.Linear(planes * 8 * 4, value.out_features)
        nn.Module.__setattr__(self, name, value)

    return type(cls.__name__ + '_Custom', (cls,), {'_make_layer': _make_layer, '__setattr__': __setattr__,
                                                   '__module__': __name__, '__doc__': _narrow_resnet.__doc__})


def build_resnet(kind, depth, num_classes=1000, planes=RESNET_PLANES):
    """The official ResNet-<depth> with ACON-C or Meta-ACON-C after each bottleneck's 3×3 conv, or the
    ACON-C file's with nn.ReLU in its place ('resnet-relu': the file's AconC swapped for nn.ReLU while
    it builds). `planes` other than the official 64 (the reduced-width test fixtures): _narrow_resnet's
    subclass of the file's ResNet, given the bottleneck and the blocks per layer as the file's
    resnet<depth>_acon / _metaacon give them to its ResNet."""
    if kind not in RESNET_KINDS or depth not in RESNET_DEPTHS:
        raise ValueError(f'unknown ResNet {kind!r} of depth {depth!r}')
    if not isinstance(planes, int) or planes < 1:
        raise ValueError(f'ResNet planes must be a positive integer, got {planes!r}')
    module = resnet_metaacon if kind == 'resnet-meta' else resnet_acon
    if planes == RESNET_PLANES:
        factory = getattr(module, f'resnet{depth}_{"metaacon" if kind == "resnet-meta" else "acon"}')
    else:
        block = module.Bottleneck_MetaACON if kind == 'resnet-meta' else module.Bottleneck_ACON
        narrow = _narrow_resnet(module.ResNet, planes)
        factory = lambda num_classes: narrow(block, list(RESNET_BLOCKS[depth]), num_classes=num_classes)  # noqa: E731
    if kind != 'resnet-relu':
        return factory(num_classes=num_classes)
    official = module.AconC
    module.AconC = lambda width: nn.ReLU(inplace=True)
    try:
        return factory(num_classes=num_classes)
    finally:
        module.AconC = official


def tfnet_size_ok(size):
    """An official TFNet model_size, or any other whose first width 16·size is a whole number of
    channels (the official __init__ takes int(16·size)): 0.25 is a first conv of 4."""
    return size in TFNET_SIZES or (size > 0 and float(16 * size).is_integer())


def build(architecture, settings, quiet=True):
    """architecture: one of ARCHITECTURES; settings: {'stage_out_channels', 'n_class', 'r'} for
    ShuffleNetV2, {'depth', 'num_classes', 'r', 'planes'} for ResNet, {'model_size', 'n_class'} for TFNet,
    {'num_classes', 'r'} for the seed networks."""
    if architecture in SHUFFLENET_KINDS:
        r = settings.get('r') if architecture in META_KINDS else None
        return build_shufflenet(architecture, settings['stage_out_channels'], settings.get('n_class', 1000), r, quiet)
    if architecture in RESNET_KINDS:
        if architecture == 'resnet-meta' and settings.get('r', RESNET_R) != RESNET_R:
            raise ValueError(f'the official Meta-ACON ResNet has r = {RESNET_R}')
        return build_resnet(architecture, settings['depth'], settings.get('num_classes', 1000), settings.get('planes', RESNET_PLANES))
    if architecture in TFNET_KINDS:
        if not tfnet_size_ok(settings['model_size']):
            raise ValueError(f'TFNet has model sizes {TFNET_SIZES}, or any other of a whole first width 16·size')
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            return tfnet.TFNet(n_class=settings.get('n_class', 1000), model_size=settings['model_size'])
    if architecture in SEED_KINDS:
        return SeedNet(architecture, num_classes=settings.get('num_classes', 1), r=settings.get('r') or SEED_R)
    raise ValueError(f'unknown architecture {architecture!r} (known: {", ".join(ARCHITECTURES)})')


class _OnMeta(TorchFunctionMode):
    """Puts every tensor the constructors create on PyTorch's meta device: shapes and dtypes, no data.
    (PyTorch 1.13 has no torch.device('meta') context; a TorchFunctionMode sees every factory call.)"""
    FACTORIES = {torch.empty, torch.zeros, torch.ones, torch.full, torch.rand, torch.randn, torch.randint, torch.tensor, torch.arange, torch.eye}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.FACTORIES:
            kwargs = {**kwargs, 'device': 'meta'}
        return func(*args, **kwargs)


def build_on_meta(architecture, settings):
    """build(), on the meta device: the state dict's shapes (and a forward pass's) at any claimed width,
    without allocating the weights. (Its initial values mean nothing, so init's warnings are silenced.)"""
    with _OnMeta(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = build(architecture, settings)
    if not all(t.is_meta for t in model.state_dict().values()):
        raise RuntimeError('a constructor made a tensor with a factory _OnMeta does not know')
    return model


def input_shape(architecture, batch=1):
    """NCHW input the architecture takes (ShuffleNetV2's AvgPool2d(7) needs 224×224)."""
    return [batch, 3, 224, 224] if architecture in SHUFFLENET_KINDS + RESNET_KINDS + TFNET_KINDS else [batch, 3, 32, 32]


def counts(model):
    """{'trainable', 'buffers' (running_mean + running_var values), 'num_batches_tracked' (how many)}."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(b.numel() for n, b in model.named_buffers() if n.endswith('running_mean') or n.endswith('running_var'))
    nbt = sum(1 for n, _ in model.named_buffers() if n.endswith('num_batches_tracked'))
    return {'trainable': trainable, 'buffers': buffers, 'num_batches_tracked': nbt}


def acon_modules(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (AconC, MetaAconC))]


def metadata_for(architecture, settings):
    """The architecture's part of a converted file's __metadata__ (all values strings)."""
    m = {}
    if architecture in SHUFFLENET_KINDS:
        m['model_size'] = model_size_of(settings['stage_out_channels'])
        m['stage_out_channels'] = json.dumps([int(c) for c in settings['stage_out_channels']])
        m['n_class'] = str(int(settings['n_class']))
    elif architecture in TFNET_KINDS:
        m['model_size'] = str(float(settings['model_size']))
        m['n_class'] = str(int(settings['n_class']))
    elif architecture in RESNET_KINDS:
        m['depth'] = str(int(settings['depth']))
        m['planes'] = str(int(settings.get('planes', RESNET_PLANES)))
        m['num_classes'] = str(int(settings['num_classes']))
    else:
        m['num_classes'] = str(int(settings['num_classes']))
    if architecture in META_KINDS:
        m['r'] = str(int(settings['r']))
    return m


def state_dict_shapes(model):
    """OrderedDict name → shape of the model's state dict without num_batches_tracked."""
    return {k: list(v.shape) for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}


__all__ = [
    'ARCHITECTURES', 'SHUFFLENET_KINDS', 'RESNET_KINDS', 'TFNET_KINDS', 'TFNET_SIZES', 'RESNET_DEPTHS', 'RESNET_BLOCKS', 'RESNET_R', 'RESNET_PLANES', 'build_resnet', 'tfnet_size_ok', 'SEED_KINDS', 'META_KINDS', 'STAGE_OUT_CHANNELS', 'STAGE_REPEATS', 'FIRST_BLOCKS', 'SEED_R',
    'model_size_of', 'official_r', 'meta_hidden', 'build_shufflenet', 'build', 'build_on_meta', 'input_shape', 'counts', 'acon_modules', 'metadata_for',
    'state_dict_shapes',
]
