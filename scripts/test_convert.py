#!/usr/bin/python3
"""Tests of scripts/convert_checkpoint.py (run by hand: /usr/bin/python3 scripts/test_convert.py; also
run by tests/node/converter.test.ts).

Each test saves a small PyTorch model's state dict, runs the converter as a user would (a subprocess)
and checks the file it writes (read back with torch_models/safetensors_io.py) or its error and exit status.
The hostile files (see "hostile files" below) must also be refused fast, in little memory, running nothing.
"""
import argparse
import collections
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import warnings
import zipfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from convert_checkpoint import r_fitting  # noqa: E402
from torch_models.architectures import STAGE_OUT_CHANNELS, build, build_on_meta, meta_hidden  # noqa: E402
from torch_models.checkpoint_reader import (  # noqa: E402
    MAX_ENTRIES, MAX_PICKLE, STORAGE_TYPES, CheckpointError, Storage, Tensor, read_checkpoint, to_float32,
)
from torch_models.safetensors_io import read_safetensors  # noqa: E402

CONVERT = os.path.join(HERE, 'convert_checkpoint.py')
TINY = [-1, 8, 16, 32, 64, 128]
Run = collections.namedtuple('Run', 'rc stdout stderr out seconds cpu_seconds peak_mb')
# A refusal does less than a conversion (reads the file, checks, exits), so it may take no more CPU time
# than a small conversion (Python and torch start-up included) times CPU_FACTOR plus SLACK_S, and no more
# memory than it plus SLACK_MB. CPU time, the child's own: wall time moves with whatever else the machine
# runs (npm test runs the browsers beside this), CPU time barely does. The attacks these tests replay
# cost from 10 s to hours of CPU before the fixes (a 2**40-wide loop, a 260 MB write, a model built at a
# claimed width of gigabytes, quadratic unpickling), so they exceed the bound by far.
CPU_FACTOR, SLACK_S, SLACK_MB = 1.5, 2.0, 100


def tiny(kind, n_class=10, r=8):
    torch.manual_seed(0)
    return build(kind, {'stage_out_channels': TINY, 'n_class': n_class, 'r': r})


def run_converter(src, out, *args):
    """Runs the converter; its exit status, output, wall and CPU time and peak resident memory (os.wait4:
    this child's own, not the largest of all children so far as RUSAGE_CHILDREN would give)."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.monotonic()
        p = subprocess.Popen([sys.executable, CONVERT, src, out, *args], stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Run(p.returncode, stdout.read().decode(), stderr.read().decode(), out, seconds, cpu, usage.ru_maxrss / 1024)


def write_bytes(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def legacy_save(objects, path):
    """The legacy format's pickles, one after another, as torch.save(_use_new_zipfile_serialization=False)
    writes them (magic number, protocol version, system info, the object, the storage keys)."""
    write_bytes(path, b''.join(obj if isinstance(obj, bytes) else pickle.dumps(obj, protocol=2) for obj in objects))


LEGACY_HEADER = [0x1950a86a20f9469cfc6c, 1001, {'protocol_version': 1001, 'little_endian': True}]


def rezip(src, dst, compression=zipfile.ZIP_STORED, edit=lambda name, data: data, add=None):
    """A copy of the zip checkpoint src, each entry through edit(name, data) (zipfile writes a valid CRC),
    then the entries of `add` {name: data}."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w', compression) as b, warnings.catch_warnings():
        warnings.simplefilter('ignore')  # zipfile's "Duplicate name"
        for info in a.infolist():
            b.writestr(info.filename, edit(info.filename, a.read(info)))
        for name, data in (add or {}).items():
            b.writestr(name, data)


def uni(text):
    """The pickle opcode pushing a string (BINUNICODE)."""
    data = text.encode()
    return b'X' + struct.pack('<I', len(data)) + data


# A float32 tensor [1] of storage '0', pickled as PyTorch pickles one in the legacy format:
# _rebuild_tensor_v2(<persistent id ('storage', FloatStorage, '0', 'cpu', 1, None)>, 0, (1,), (1,), False, OrderedDict())
TENSOR = (b'ctorch._utils\n_rebuild_tensor_v2\n((' + uni('storage') + b'ctorch\nFloatStorage\n' + uni('0') + uni('cpu')
          + b'K\x01NtQK\x00K\x01\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR')


def legacy_one_storage(path, body):
    """A legacy checkpoint {'w': <what the pickle opcodes `body` push>} with one storage '0' of one float32."""
    obj = b'\x80\x02}' + uni('w') + body + b's.'
    legacy_save(LEGACY_HEADER + [obj, ['0'], (1).to_bytes(8, 'little') + struct.pack('<f', 1.0)], path)


def add_aliases(path, n):
    """Appends to the central directory of the zip file at `path` (written by zipfile: no zip64 records)
    n copies of its last record, renamed z/000000 ... : n more entries that all read that entry's bytes."""
    with open(path, 'rb') as f:
        raw = f.read()
    end = raw.rfind(b'PK\x05\x06')
    count, size, offset = struct.unpack_from('<HII', raw, end + 10)
    last = raw.rfind(b'PK\x01\x02', offset, end)
    records = b''.join(raw[last:last + 28] + struct.pack('<HHH', 8, 0, 0) + raw[last + 34:last + 46] + b'z/%06d' % i
                       for i in range(n))
    write_bytes(path, raw[:end] + records + raw[end:end + 8] + struct.pack('<HHII', count + n, count + n, size + len(records), offset)
                + raw[end + 20:])


class FileWriter(torch.nn.Module):
    """A scripted module whose __setstate__ (TorchScript code, saved in the archive and run by
    torch.jit.load) overwrites the first 8 bytes of the file at `path` with 'A's, through a shared map."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def forward(self, x):
        return x

    @torch.jit.export
    def __getstate__(self):
        return (self.path, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]):
        self.path = state[0]
        self.training = state[1]
        written = torch.from_file(self.path, shared=True, size=8, dtype=torch.uint8).fill_(65)
        if int(written.sum()) < 0:  # uses the result, so TorchScript does not drop the write as dead code
            self.training = False


class SystemCall:
    """Pickles as a call of os.system(command)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class ConvertTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """The yardstick for refusals: a small conversion's CPU time and peak memory."""
        with tempfile.TemporaryDirectory() as d:
            torch.save(build('dcn3', {'num_classes': 1}).state_dict(), os.path.join(d, 'in.pth'))
            cls.baseline = run_converter(os.path.join(d, 'in.pth'), os.path.join(d, 'out.safetensors'))
        assert cls.baseline.rc == 0, cls.baseline.stderr

    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.dir = self._dir.name

    def tearDown(self):
        self._dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def convert(self, checkpoint, *args, name='in.pth', **save_options):
        """Saves `checkpoint`, converts it; (returncode, stdout, stderr, out path)."""
        src = self.path(name)
        torch.save(checkpoint, src, **save_options)
        return self.convert_file(src, *args)[:4]

    def convert_file(self, src, *args):
        return run_converter(src, self.path('out.safetensors'), *args)

    def assert_written(self, model, rc, stdout, stderr, out, architecture):
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(len(stdout.strip().splitlines()), 1, stdout)  # one summary line
        self.assertIn(architecture, stdout)
        tensors, metadata = read_safetensors(out)
        expected = {k: v for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
        self.assertEqual(list(tensors), list(expected))  # names unchanged, state-dict order
        for k, v in expected.items():
            self.assertEqual(tensors[k].dtype, np.float32, k)
            self.assertEqual(list(tensors[k].shape), list(v.shape), k)  # PyTorch's shapes
            np.testing.assert_array_equal(tensors[k], v.numpy(), err_msg=k)
        self.assertEqual(metadata['format'], 'acon-webgpu/1')
        self.assertEqual(metadata['architecture'], architecture)
        return tensors, metadata

    def assert_refused(self, rc, stderr, out, *names):
        self.assertEqual(rc, 2, stderr)
        for n in names:
            self.assertIn(n, stderr)
        self.assertFalse(os.path.exists(out), 'nothing may be written')
        self.assertEqual([f for f in os.listdir(self.dir) if f.endswith('.tmp')], [], 'no temporary file left')

    def assert_refused_fast(self, run, *names):
        """Refused (exit 2, each of `names` in the message, nothing written) in bounded time and memory."""
        self.assert_refused(run.rc, run.stderr, run.out, *names)
        self.assertLess(run.cpu_seconds, self.baseline.cpu_seconds * CPU_FACTOR + SLACK_S, run.stderr)
        self.assertLess(run.peak_mb, self.baseline.peak_mb + SLACK_MB, run.stderr)

    # ------------------------------------------------------------------------------------ round trips

    def test_round_trip_tiny_acon(self):
        model = tiny('shufflenetv2-acon')
        rc, stdout, stderr, out = self.convert(model.state_dict(), name='tiny-acon.pth')
        _, metadata = self.assert_written(model, rc, stdout, stderr, out, 'shufflenetv2-acon')
        self.assertEqual(metadata, {'format': 'acon-webgpu/1', 'architecture': 'shufflenetv2-acon', 'source': 'tiny-acon.pth',
                                    'model_size': 'custom', 'stage_out_channels': '[-1, 8, 16, 32, 64, 128]', 'n_class': '10'})
        self.assertEqual(json.loads(metadata['stage_out_channels']), TINY)

    def test_round_trip_tiny_meta_infers_r(self):
        for r in (4, 8):
            with self.subTest(r=r):
                model = tiny('shufflenetv2-meta', r=r)
                rc, stdout, stderr, out = self.convert(model.state_dict())
                _, metadata = self.assert_written(model, rc, stdout, stderr, out, 'shufflenetv2-meta')
                self.assertEqual(metadata['r'], str(r))
                self.assertEqual(metadata['model_size'], 'custom')

    def test_official_0_5x_meta_wrapped_as_train_py_saves_it(self):
        # what the official train.py writes: {'state_dict': nn.DataParallel(model).state_dict()}
        torch.manual_seed(1)
        model = build('shufflenetv2-meta', {'stage_out_channels': STAGE_OUT_CHANNELS['0.5x']})
        wrapped = torch.nn.DataParallel(model).state_dict()
        self.assertTrue(all(k.startswith('module.') for k in wrapped))
        self.assertTrue(any(k.endswith('num_batches_tracked') for k in wrapped))
        rc, stdout, stderr, out = self.convert({'state_dict': wrapped}, name='checkpoint-300000.pth.tar')
        tensors, metadata = self.assert_written(model, rc, stdout, stderr, out, 'shufflenetv2-meta')
        self.assertFalse(any(k.startswith('module.') or k.endswith('num_batches_tracked') for k in tensors))
        self.assertEqual(metadata, {'format': 'acon-webgpu/1', 'architecture': 'shufflenetv2-meta', 'source': 'checkpoint-300000.pth.tar',
                                    'model_size': '0.5x', 'stage_out_channels': '[-1, 24, 48, 96, 192, 1024]', 'n_class': '1000', 'r': '8'})

    def save_resnet(self, kind, depth, name, drop=None, planes=64):
        """A ResNet checkpoint as train.py saves it ({'state_dict': ...}, 'module.' prefixes), made in a child
        process: a ResNet's hundreds of MB in this process would be counted in every later child's peak memory
        (a fork starts with the parent's resident pages), and the refusal tests bound that. Returns the
        state dict's names and shapes."""
        code = (
            'import sys, json, torch; sys.path.insert(0, sys.argv[1]); '
            'from torch_models.architectures import build; '
            'torch.manual_seed(3); '
            'sd = build(sys.argv[2], {"depth": int(sys.argv[3]), "num_classes": 7, "planes": int(sys.argv[6])}).state_dict(); '
            'sd = {k: v for k, v in sd.items() if not (sys.argv[5] and k.startswith(sys.argv[5]))}; '
            'torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, sys.argv[4]); '
            'print(json.dumps({k: list(v.shape) for k, v in sd.items()}))'
        )
        p = subprocess.run([sys.executable, '-c', code, HERE, kind, str(depth), self.path(name), drop or '', str(planes)],
                           capture_output=True, text=True, check=True)
        return json.loads(p.stdout)

    def test_resnets_as_train_py_saves_them(self):
        # res50.metaacon.pth and its kin: detected from the names, depth from the bottlenecks, the width
        # (planes, official 64) from conv1, r inferred; and the reduced width of the test fixtures
        # (every official depth of both activations: the deeper ones at a reduced width, the depth
        # coming from the bottleneck count alone)
        for kind, depth, planes, extra in (('resnet-meta', 50, 64, {'r': '16'}), ('resnet-acon', 101, 64, {}),
                                           ('resnet-relu', 50, 64, {}), ('resnet-meta', 50, 4, {'r': '16'}),
                                           ('resnet-acon', 50, 4, {}), ('resnet-acon', 152, 4, {}),
                                           ('resnet-meta', 101, 4, {'r': '16'}), ('resnet-meta', 152, 4, {'r': '16'})):
            with self.subTest(kind=kind, depth=depth, planes=planes):
                shapes = self.save_resnet(kind, depth, 'res.pth', planes=planes)
                run = self.convert_file(self.path('res.pth'))
                self.assertEqual(run.rc, 0, run.stderr)
                self.assertIn(kind, run.stdout)
                # the header only (names, shapes, metadata): the data would grow this process too
                with open(run.out, 'rb') as f:
                    header = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))
                metadata = header.pop('__metadata__')
                expected = {k: v for k, v in shapes.items() if not k.endswith('num_batches_tracked')}
                self.assertEqual({k: t['shape'] for k, t in header.items()}, expected)
                self.assertEqual({t['dtype'] for t in header.values()}, {'F32'})
                self.assertEqual(metadata, {'format': 'acon-webgpu/1', 'architecture': kind, 'source': 'res.pth',
                                            'depth': str(depth), 'planes': str(planes), 'num_classes': '7', **extra})

    def test_resnet_of_no_official_depth(self):
        # ResNet-50 without layer3's last bottleneck: [3, 4, 5, 3] blocks is no official depth
        self.save_resnet('resnet-acon', 50, 'res.pth', drop='layer3.5.')
        run = self.convert_file(self.path('res.pth'))
        self.assert_refused(run.rc, run.stderr, run.out, 'cannot infer the ResNet depth', '[3, 4, 5, 3]')

    def test_tfnet_as_train_py_saves_it(self):
        for size in (0.5, 1.0, 1.5, 2.0, 0.25):  # 0.25: a reduced width (first conv 4), as the test fixture
            with self.subTest(size=size):
                torch.manual_seed(4)
                model = build('tfnet', {'model_size': size, 'n_class': 7})
                rc, stdout, stderr, out = self.convert({'state_dict': {'module.' + k: v for k, v in model.state_dict().items()}}, name='tfnet.pth')
                _, metadata = self.assert_written(model, rc, stdout, stderr, out, 'tfnet')
                self.assertEqual(metadata, {'format': 'acon-webgpu/1', 'architecture': 'tfnet', 'source': 'tfnet.pth',
                                            'model_size': str(size), 'n_class': '7'})

    def test_tfnet_of_mismatched_width(self):
        # a first conv of 12 channels reads as model_size 0.75; the rest of the file is 0.5's: every
        # tensor that does not fit 0.75 is named, nothing written
        sd = build('tfnet', {'model_size': 0.5, 'n_class': 7}).state_dict()
        sd = {k: (torch.zeros(12, *v.shape[1:]) if k == 'first_conv.0.weight' else v) for k, v in sd.items()}
        sd['first_conv.1.weight'] = torch.zeros(12)
        sd['features.0.branch_main.0.weight'] = torch.zeros(8, 12, 1, 1)
        rc, _, stderr, out = self.convert(sd)
        self.assert_refused(rc, stderr, out, 'does not fit tfnet (model_size 0.75', 'wrong shape for first_conv.1.bias')
        # a size whose first width 16·size is not whole, or none at all, given on the command line
        for size in ('0.3', 'nan', 'inf', '1e9', 'x'):
            with self.subTest(size=size):
                rc, _, stderr, out = self.convert(build('tfnet', {'model_size': 0.5, 'n_class': 7}).state_dict(), '--model-size', size)
                self.assert_refused(rc, stderr, out, 'TFNet')

    def test_seed_networks(self):
        for kind, extra in (('dcn3', {}), ('dcn2-acon', {}), ('dcn2-meta', {'r': '16'})):
            with self.subTest(kind=kind):
                torch.manual_seed(2)
                model = build(kind, {'num_classes': 3})
                rc, stdout, stderr, out = self.convert({'state_dict': {'module.' + k: v for k, v in model.state_dict().items()}}, name=f'{kind}.pth')
                _, metadata = self.assert_written(model, rc, stdout, stderr, out, kind)
                self.assertEqual(metadata, {'format': 'acon-webgpu/1', 'architecture': kind, 'source': f'{kind}.pth', 'num_classes': '3', **extra})

    def test_half_precision_is_written_as_f32(self):
        model = tiny('shufflenetv2-acon')
        rc, _, stderr, out = self.convert({k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()})
        self.assertEqual(rc, 0, stderr)
        tensors, _ = read_safetensors(out)
        self.assertEqual(tensors['first_conv.0.weight'].dtype, np.float32)
        np.testing.assert_array_equal(tensors['first_conv.0.weight'], model.state_dict()['first_conv.0.weight'].half().float().numpy())

    # ------------------------------------------------------------------------------------- refusals

    def test_missing_tensor(self):
        sd = tiny('shufflenetv2-acon').state_dict()
        del sd['features.5.branch_main.4.running_var']
        rc, _, stderr, out = self.convert(sd)
        self.assert_refused(rc, stderr, out, 'missing tensor features.5.branch_main.4.running_var (expected shape [16])')

    def test_wrong_shape(self):
        sd = tiny('shufflenetv2-meta').state_dict()
        sd['features.9.branch_main.7.fc2.weight'] = torch.zeros(16, 4, 1, 1)
        rc, _, stderr, out = self.convert({'state_dict': sd})
        self.assert_refused(rc, stderr, out, 'wrong shape for features.9.branch_main.7.fc2.weight', 'expected [16, 8, 1, 1], got [16, 4, 1, 1]')

    def test_wrong_shape_of_a_tensor_the_widths_are_read_from(self):
        # one bad tensor among those stage_out_channels is inferred from: the others outvote it
        sd = tiny('shufflenetv2-acon').state_dict()
        sd['conv_last.0.weight'] = torch.zeros(100, 64, 1, 1)
        rc, _, stderr, out = self.convert(sd)
        self.assert_refused(rc, stderr, out, 'wrong shape for conv_last.0.weight: expected [128, 64, 1, 1], got [100, 64, 1, 1]')
        self.assertEqual(stderr.count('wrong shape'), 1, stderr)

    def test_unexpected_tensor(self):
        sd = build('dcn2-acon', {'num_classes': 1}).state_dict()
        sd['act.gamma'] = torch.zeros(1, 64, 1, 1)
        rc, _, stderr, out = self.convert(sd)
        self.assert_refused(rc, stderr, out, 'unexpected tensor act.gamma')

    def test_unknown_architecture(self):
        rc, _, stderr, out = self.convert({'encoder.weight': torch.zeros(4, 4), 'encoder.bias': torch.zeros(4)})
        self.assert_refused(rc, stderr, out, 'unknown architecture', 'encoder.weight', 'first_conv.2.p1')

    def test_wrong_arch_given(self):
        sd = build('dcn2-acon', {'num_classes': 1}).state_dict()
        rc, _, stderr, out = self.convert(sd, '--arch', 'dcn3')
        self.assert_refused(rc, stderr, out, 'unexpected tensor act.p1', 'unexpected tensor act.p2', 'unexpected tensor act.beta')

    def test_wrong_r_given(self):
        rc, _, stderr, out = self.convert(tiny('shufflenetv2-meta').state_dict(), '--r', '16')
        self.assert_refused(rc, stderr, out, 'wrong shape for first_conv.2.fc1.weight: expected [16, 8, 1, 1], got [8, 8, 1, 1]')

    def test_wrong_model_size_given(self):
        rc, _, stderr, out = self.convert(tiny('shufflenetv2-acon').state_dict(), '--model-size', '0.5x')
        self.assert_refused(rc, stderr, out, 'wrong shape for first_conv.0.weight: expected [24, 3, 3, 3], got [8, 3, 3, 3]')

    def test_not_a_state_dict(self):
        rc, _, stderr, out = self.convert({'state_dict': {'a': torch.zeros(1)}, 'epoch': 3}, '--arch', 'dcn3')
        self.assert_refused(rc, stderr, out, 'cannot infer num_classes', 'fc2.weight')  # unwrapped: {'a'} is no dcn3
        rc, _, stderr, out = self.convert({'conv1.weight': torch.zeros(1), 'step': 3})
        self.assert_refused(rc, stderr, out, 'step is not a tensor')

    def test_pickled_objects_need_trust(self):
        model = build('dcn3', {'num_classes': 1})
        checkpoint = {'state_dict': model.state_dict(), 'args': argparse.Namespace(lr=0.5)}
        rc, _, stderr, out = self.convert(checkpoint)
        self.assert_refused(rc, stderr, out, '--trust-pickle')
        rc, stdout, stderr, out = self.convert(checkpoint, '--trust-pickle')
        self.assert_written(model, rc, stdout, stderr, out, 'dcn3')

    def test_failure_leaves_an_existing_output_alone(self):
        out = self.path('out.safetensors')
        with open(out, 'wb') as f:
            f.write(b'previous')
        sd = tiny('shufflenetv2-acon').state_dict()
        del sd['classifier.0.bias']
        src = self.path('in.pth')
        torch.save(sd, src)
        p = subprocess.run([sys.executable, CONVERT, src, out], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn('missing tensor classifier.0.bias', p.stderr)
        with open(out, 'rb') as f:
            self.assertEqual(f.read(), b'previous')

    def test_file_layout(self):
        """The bytes as safetensors defines them: u64 LE header length (multiple of 8), JSON, data."""
        model = build('dcn3', {'num_classes': 1})
        rc, _, stderr, out = self.convert(model.state_dict())
        self.assertEqual(rc, 0, stderr)
        with open(out, 'rb') as f:
            raw = f.read()
        n = int.from_bytes(raw[:8], 'little')
        self.assertEqual(n % 8, 0)
        header = json.loads(raw[8:8 + n])
        entries = [v for k, v in header.items() if k != '__metadata__']
        self.assertEqual(entries[0]['data_offsets'][0], 0)
        for a, b in zip(entries, entries[1:]):
            self.assertEqual(a['data_offsets'][1], b['data_offsets'][0])  # contiguous, header order
        self.assertEqual(entries[-1]['data_offsets'][1], len(raw) - 8 - n)
        self.assertEqual(np.frombuffer(raw[8 + n:8 + n + 4], '<f4')[0], model.state_dict()['conv1.weight'].flatten()[0].item())


    # --------------------------------------------------------------------------------- other formats

    def test_legacy_format(self):
        """torch.save(..., _use_new_zipfile_serialization=False): the pickle-then-storages format."""
        model = tiny('shufflenetv2-meta')
        wrapped = {'state_dict': {'module.' + k: v for k, v in model.state_dict().items()}}
        rc, stdout, stderr, out = self.convert(wrapped, _use_new_zipfile_serialization=False)
        self.assert_written(model, rc, stdout, stderr, out, 'shufflenetv2-meta')

    def test_views_bfloat16_and_double(self):
        """Tensors at an offset in a shared storage, transposed, bfloat16, float64: read as PyTorch reads them."""
        sd = build('dcn3', {'num_classes': 1}).state_dict()
        flat = torch.randn(64 * 1024 + 100)
        sd['fc1.weight'] = flat[100:].view(64, 1024)  # offset 100 in a storage it alone uses
        sd['conv1.weight'] = sd['conv1.weight'].permute(1, 0, 2, 3).contiguous().permute(1, 0, 2, 3)  # not contiguous
        sd['conv2.weight'] = sd['conv2.weight'].bfloat16()
        sd['conv3.weight'] = sd['conv3.weight'].double()
        for options in ({}, {'_use_new_zipfile_serialization': False}):
            with self.subTest(**options):
                rc, _, stderr, out = self.convert(sd, **options)
                self.assertEqual(rc, 0, stderr)
                tensors, _ = read_safetensors(out)
                for k, v in sd.items():
                    np.testing.assert_array_equal(tensors[k], v.float().numpy(), err_msg=k)

    def test_r_fitting_is_max_r_width_over_r_inverted(self):
        for width in range(0, 300):
            for hidden in range(0, 40):
                fits = {r for lo, hi in r_fitting(width, hidden) for r in range(lo, hi + 1)}
                self.assertEqual(fits, {r for r in range(1, 400) if meta_hidden(width, r) == hidden}, (width, hidden))

    # -------------------------------------------------------------------------------- hostile files

    def test_torchscript_archive_is_refused_not_run(self):
        target = self.path('target.txt')
        with open(target, 'wb') as f:
            f.write(b'original')
        src = self.path('scripted.pt')
        torch.jit.script(FileWriter(target)).save(src)
        run = self.convert_file(src)
        self.assert_refused_fast(run, 'TorchScript archive')
        with open(target, 'rb') as f:
            self.assertEqual(f.read(), b'original')
        # The exploit is real on this PyTorch: loading the archive runs its code. (So does
        # torch.load(src, weights_only=True) before PyTorch 2.6, which hands the archive to torch.jit.load.)
        loaders = [torch.jit.load]
        if tuple(map(int, re.findall(r'\d+', torch.__version__)[:2])) < (2, 6):
            loaders.append(lambda path: torch.load(path, weights_only=True))
        for load in loaders:
            with open(target, 'wb') as f:
                f.write(b'original')
            with warnings.catch_warnings():  # torch.load's "looks like a TorchScript archive"
                warnings.simplefilter('ignore')
                load(src)
            with open(target, 'rb') as f:
                self.assertEqual(f.read(), b'AAAAAAAA')

    def test_pickled_call_is_refused_not_run(self):
        """A pickle that calls os.system('touch MARKER') when unpickled, in data.pkl of a zip and in the legacy format."""
        marker = self.path('MARKER')
        call = {'conv1.weight': SystemCall(f'touch {marker}')}
        zipped, legacy = self.path('zip.pth'), self.path('legacy.pth')
        with zipfile.ZipFile(zipped, 'w') as z:
            z.writestr('archive/data.pkl', pickle.dumps(call, protocol=2))
            z.writestr('archive/version', '3\n')
        legacy_save(LEGACY_HEADER + [call, []], legacy)
        for src in (zipped, legacy):
            with self.subTest(src=os.path.basename(src)):
                self.assert_refused_fast(self.convert_file(src), 'its pickle names posix.system, which this reader never calls', '--trust-pickle')
                self.assertFalse(os.path.exists(marker))
                torch.load(src, weights_only=False)  # the exploit is real: full unpickling runs it
                self.assertTrue(os.path.exists(marker))
                os.remove(marker)

    def test_stride_0_expansions(self):
        """A file of 650 KB claiming 16·2**40 elements (act.fc1.weight; it used to make the r inference loop to
        2**40), and one of 640 KB claiming 64 million (fc2.weight; it used to give 260 MB of output)."""
        meta = build('dcn2-meta', {'num_classes': 1}).state_dict()
        meta['act.fc1.weight'] = torch.zeros(1, 1, 1, 1).expand(16, 2 ** 40, 1, 1)
        seed = build('dcn3', {'num_classes': 1}).state_dict()
        seed['fc2.weight'] = torch.full((1, 1), .01).expand(10 ** 6, 64)
        for sd, claim in ((meta, 'act.fc1.weight: shape [16, 1099511627776, 1, 1] (stride [0, 0, 1, 1], offset 0) claims '
                                 '17,592,186,044,416 elements; its storage holds 1'),
                          (seed, 'fc2.weight: shape [1000000, 64] (stride [0, 0], offset 0) claims 64,000,000 elements; its storage holds 1')):
            with self.subTest(claim=claim[:14]):
                torch.save(sd, self.path('in.pth'))
                self.assertLess(os.path.getsize(self.path('in.pth')), 700_000)
                self.assert_refused_fast(self.convert_file(self.path('in.pth')), claim)

    def test_tensors_sharing_a_storage(self):
        """Two tensors viewing one storage would be written twice: the output may not outgrow the input."""
        sd = build('dcn3', {'num_classes': 1}).state_dict()
        shared = torch.randn(64, 64, 3, 3)
        sd['conv3.weight'], sd['conv4.weight'] = shared, shared.view(64, 64, 3, 3)
        rc, _, stderr, out = self.convert(sd)
        self.assert_refused(rc, stderr, out, 'tensors that share a storage are not read')

    def test_huge_widths_in_small_tensors(self):
        """Zero-element tensors claiming huge widths, in files of a few KB: a model built at those widths
        would take 2.6 GB (dcn3 with 10**7 classes: Linear(64, 10**7)) and 3.3 GB (ShuffleNetV2 at width
        8192: 1×1 convolutions of 4096²); r for a width of 2**40 used to be searched up to 2**40. Built on
        the meta device, nothing of that is allocated."""
        wide = {'first_conv.0.weight': torch.zeros(8192, 0, 3, 3), 'conv_last.0.weight': torch.zeros(8192, 0, 1, 1),
                'first_conv.2.p1': torch.zeros(1, 8192, 1, 0), 'classifier.0.weight': torch.zeros(1000, 0)}
        wide.update({f'features.{i}.branch_main.0.weight': torch.zeros(4096, 0, 1, 1) for i in (0, 4, 12)})
        cases = [
            ({'conv1.weight': torch.zeros(32, 3, 3, 3), 'fc2.weight': torch.zeros(10 ** 7, 0)}, 'wrong shape for fc2.weight: expected [10000000, 64], got [10000000, 0]'),
            (wide, 'wrong shape for features.0.branch_main.0.weight: expected [4096, 8192, 1, 1], got [4096, 0, 1, 1]'),
            ({'conv1.weight': torch.zeros(32, 3, 3, 3), 'fc2.weight': torch.zeros(1, 0), 'act.p1': torch.zeros(1, 64, 1, 1),
              'act.fc1.weight': torch.zeros(16, 2 ** 40, 1, 0)},
             'cannot infer r: no r gives every MetaAconC its hidden width max(r, width // r) (act: width 1099511627776, hidden 16)'),
        ]
        for sd, problem in cases:
            with self.subTest(problem=problem[:30]):
                torch.save(sd, self.path('in.pth'))
                self.assertLess(os.path.getsize(self.path('in.pth')), 5_000)
                self.assert_refused_fast(self.convert_file(self.path('in.pth')), problem)

    def test_damaged_files(self):
        good = self.path('good.pth')
        torch.save(build('dcn3', {'num_classes': 1}).state_dict(), good)
        with open(good, 'rb') as f:
            raw = f.read()
        torch.save(build('dcn3', {'num_classes': 1}).state_dict(), self.path('legacy.pth'), _use_new_zipfile_serialization=False)
        with open(self.path('legacy.pth'), 'rb') as f:
            legacy = f.read()
        files = {
            'short storage': (lambda p: rezip(good, p, edit=lambda name, data: data[:-4] if name.endswith('/data/0') else data),
                              'storage data/0 holds 3,452 bytes; the pickle claims 864 float32 elements'),
            'compressed': (lambda p: rezip(good, p, zipfile.ZIP_DEFLATED), 'is compressed; torch.save stores every entry uncompressed'),
            'truncated zip': (lambda p: write_bytes(p, raw[:len(raw) // 2]), 'a damaged zip archive'),
            'truncated legacy': (lambda p: write_bytes(p, legacy[:-100]), 'float32 elements; the file holds'),
            'text': (lambda p: write_bytes(p, b'not a checkpoint\n' * 20), 'not a PyTorch checkpoint (neither a zip archive nor a pickle)'),
            'plain pickle': (lambda p: write_bytes(p, pickle.dumps({'a': 1}, protocol=2)), "a pickle without torch.save's magic number"),
        }
        for name, (write, message) in files.items():
            with self.subTest(name):
                src = self.path(name.replace(' ', '-') + '.pth')
                write(src)
                self.assert_refused_fast(self.convert_file(src), message)

    def test_pickle_bombs(self):
        """Pickles that are small but costly to unpickle with Python's C unpickler, as the first of the legacy
        format's pickles: a memo index of 2**31 - 1 (the C unpickler allocates and zeroes an array of 2**32
        pointers: 32 GB for 10 bytes), a dict of keys colliding in the hash table (filling it is quadratic),
        a BYTEARRAY8 claiming 2**40 bytes (allocated before they are read)."""
        # {k·(2**61 - 1): None}, written opcode by opcode (building the dict here would be the quadratic part)
        colliding = b'\x80\x02}(' + b''.join(pickle.dumps(k * (2 ** 61 - 1), protocol=2)[2:-1] + b'N' for k in range(1, 20_000)) + b'u.'
        bombs = {
            'memo': (b'\x80\x02Nr\xff\xff\xff\x7f.', "a pickle without torch.save's magic number"),
            'collisions': (colliding, 'a dict key of type int out of range'),
            'bytearray8': (b'\x80\x05\x96' + (2 ** 40).to_bytes(8, 'little') + b'.', 'opcode BYTEARRAY8'),
        }
        for name, (bomb, message) in bombs.items():
            with self.subTest(name):
                legacy_save([bomb], self.path('in.pth'))
                self.assert_refused_fast(self.convert_file(self.path('in.pth')), message)

    def test_reduce_splats(self):
        """REDUCE calls a function with a tuple of exactly the arguments torch.save passes it: a memoised list
        or tuple of 100,000 items splatted 10,000 times (6 bytes each) into _rebuild_parameter, which once
        took any number of arguments, cost 100,000 × 10,000 steps (18 s for this 160 KB file)."""
        n, m = 100_000, 10_000
        splat = b'ctorch._utils\n_rebuild_parameter\nq\x020' + b'h\x02h\x03R0' * m  # memo 3: the arguments
        for container, arguments, message in (
                ('list', b']q\x03(' + TENSOR + b'N' * n + b'e0', 'its pickle calls _rebuild_parameter with a list; torch.save passes it 3'),
                ('tuple', b'(' + TENSOR + b'N' * n + b'tq\x030', 'calls _rebuild_parameter with 100,001 arguments; torch.save passes it 3')):
            with self.subTest(container):
                legacy_one_storage(self.path('in.pth'), arguments + splat + TENSOR)
                self.assertLess(os.path.getsize(self.path('in.pth')), 200_000)
                self.assert_refused_fast(self.convert_file(self.path('in.pth')), message)

    def test_reduce_arities(self):
        """Each rebuild function takes torch's own arguments: PyTorch 1.13's (what torch.save writes here,
        nn.Parameter included) and 2.x's (_rebuild_tensor_v2's metadata, _rebuild_parameter_with_state);
        anything else is refused before the call (read in this process: no conversion)."""
        src = self.path('in.pth')
        for options in ({}, {'_use_new_zipfile_serialization': False}):
            torch.save({'p': torch.nn.Parameter(torch.ones(2, 3)), 't': torch.ones(4)}, src, **options)
            self.assertEqual({k: (t.shape, t.stride) for k, t in read_checkpoint(src).items()}, {'p': ((2, 3), (3, 1)), 't': ((4,), (1,))})
        v2 = TENSOR[:-2]  # without its closing TUPLE, REDUCE: one more argument may follow
        cases = {
            'v2 and metadata': (v2 + b'}tR', None),
            'with state': (b'ctorch._utils\n_rebuild_parameter_with_state\n(' + TENSOR + b'\x88ccollections\nOrderedDict\n)R}tR', None),
            'v2 and a view bit': (v2 + b'}' + uni('neg') + b'\x88stR', 'a conjugate or negative view bit'),
            'v2 and 8': (v2 + b'NNtR', 'calls _rebuild_tensor_v2 with 8 arguments; torch.save passes it 6 or 7'),
            'OrderedDict of items': (b'ccollections\nOrderedDict\n(]tR', 'calls OrderedDict with 1 argument; torch.save passes it 0'),
            'a storage type': (b'ctorch\nFloatStorage\n)R', 'calls a StorageType, none of the functions a checkpoint calls'),
        }
        for name, (body, message) in cases.items():
            with self.subTest(name):
                legacy_one_storage(src, body)
                if message is None:
                    self.assertEqual(read_checkpoint(src)['w'][3:], ((1,), (1,)))
                else:
                    with self.assertRaisesRegex(CheckpointError, re.escape(message)):
                        read_checkpoint(src)

    def test_zip_directory_bombs(self):
        """Central-directory records are checked before any entry is read: 9,000 records of one 4 MB entry
        (each used to be checksummed: 36 GB of CRC for a 4.5 MB file, 15 s), over 10,000 records, two names alike."""
        good = self.path('good.pth')
        torch.save(build('dcn3', {'num_classes': 1}).state_dict(), good)
        big = lambda p: rezip(good, p, add={'zz/big': bytes(4 << 20)})  # noqa: E731
        cases = {
            'overlapping': (lambda p: (big(p), add_aliases(p, 9_000)), 'zip entries overlap'),
            'too many': (lambda p: (big(p), add_aliases(p, MAX_ENTRIES)), f'entries; at most {MAX_ENTRIES:,} are read'),
            'same name': (lambda p: rezip(good, p, add={'good/version': b'3\n'}), 'two zip entries have the same name'),
        }
        for name, (write, message) in cases.items():
            with self.subTest(name):
                src = self.path(name.replace(' ', '-') + '.pth')
                write(src)
                self.assert_refused_fast(self.convert_file(src), message)

    def test_long_pickles(self):
        """Unpickling takes ~70 times a pickle's size in memory (a byte '}' is an empty dict): 5 MB of '}'
        took 350 MB. A pickle is read up to MAX_PICKLE bytes, 7 times what the largest official checkpoint
        needs (2.0x ShuffleNetV2 Meta-ACON-C as train.py saves it: 988 zip entries, a 142 KB data.pkl)."""
        shapes = build_on_meta('shufflenetv2-meta', {'stage_out_channels': STAGE_OUT_CHANNELS['2.0x']}).state_dict()
        sd = {'module.' + k: torch.zeros(v.shape, dtype=v.dtype) for k, v in shapes.items()}
        torch.save({'state_dict': sd}, self.path('official.pth'))
        with zipfile.ZipFile(self.path('official.pth')) as z:
            self.assertLess(len(z.infolist()) * 5, MAX_ENTRIES)
            self.assertLess(z.getinfo('official/data.pkl').file_size * 5, MAX_PICKLE)
        self.assertEqual(len(read_checkpoint(self.path('official.pth'))['state_dict']), len(sd))
        good = self.path('good.pth')
        torch.save(build('dcn3', {'num_classes': 1}).state_dict(), good)
        dicts = b'\x80\x02' + b'}' * (5 << 20) + b'.'
        files = {
            'legacy': (lambda p: legacy_save([dicts], p), f'its pickle is longer than the {MAX_PICKLE:,} bytes read'),
            'zip': (lambda p: rezip(good, p, edit=lambda name, data: dicts if name.endswith('data.pkl') else data),
                    f'its data.pkl ({len(dicts):,} bytes) is longer than the {MAX_PICKLE:,} bytes read'),
        }
        for name, (write, message) in files.items():
            with self.subTest(name):
                write(self.path('in.pth'))
                self.assert_refused_fast(self.convert_file(self.path('in.pth')), message)

    def test_strides_that_play_no_part(self):
        """The stride of a dimension of size 1 is never used, nor are an empty tensor's strides and offset:
        2**62 there used to overflow numpy (exit 1, a traceback). [1, 64] with stride [2**62, 1] is read as
        PyTorch reads it; an empty tensor is zeros of its shape."""
        sd = build('dcn3', {'num_classes': 1}).state_dict()
        sd['fc2.weight'] = sd['fc2.weight'].reshape(64).as_strided((1, 64), (2 ** 62, 1))
        rc, _, stderr, out = self.convert(sd)
        self.assertEqual(rc, 0, stderr)
        np.testing.assert_array_equal(read_safetensors(out)[0]['fc2.weight'], sd['fc2.weight'].numpy())
        empty = Tensor('float32', Storage(STORAGE_TYPES['FloatStorage'], 0, b''), 2 ** 62, (0, 64), (2 ** 62, 2 ** 62))
        np.testing.assert_array_equal(to_float32(empty), np.zeros((0, 64), np.float32))

    def test_widths_the_loader_refuses(self):
        """The browser loader reads every width, class count and r from 1 to 2**20: a dcn3 of 0 classes
        (fc2.weight [0, 64], here with stride and offset 2**62, which used to overflow numpy: exit 1) is
        refused, not written."""
        sd = build('dcn3', {'num_classes': 1}).state_dict()
        sd['fc2.weight'] = torch.zeros(0, 64).as_strided((0, 64), (2 ** 62, 2 ** 62), 2 ** 62)
        sd['fc2.bias'] = torch.zeros(0)
        rc, _, stderr, out = self.convert(sd)
        self.assert_refused(rc, stderr, out, 'num_classes 0: every width, class count and r must be 1 to 1,048,576')

    def test_names_are_escaped(self):
        """Names and paths are printed with control characters escaped: a tensor name holding a newline,
        terminal escapes and a carriage return forged a line of the error output; a file name that is not
        UTF-8 stopped the conversion (exit 1) when it was written into the output's metadata."""
        sd = build('dcn3', {'num_classes': 1}).state_dict()
        sd['x\nOK: converted\x1b[31m\u202e\r'] = torch.zeros(1)
        rc, _, stderr, out = self.convert(sd)
        self.assert_refused(rc, stderr, out, 'unexpected tensor x\\nOK: converted\\x1b[31m\\u202e\\r (shape [1])')
        self.assertEqual([line[:8] for line in stderr.splitlines()], ['error: t', '  unexpe', 'nothing '], stderr)
        self.assertNotRegex(stderr, '[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]')
        torch.save(build('dcn3', {'num_classes': 1}).state_dict(), self.path('in.pth'))
        src = os.fsdecode(os.path.join(os.fsencode(self.dir), b'in\xff\x1b[2J.pth'))  # undecodable bytes become surrogates
        os.rename(self.path('in.pth'), src)
        rc, stdout, stderr, out = self.convert_file(src)[:4]
        self.assertEqual(rc, 0, stderr)
        self.assertIn(' -> ', stdout)
        self.assertEqual(read_safetensors(out)[1]['source'], 'in\\udcff\\x1b[2J.pth')

    def test_unwritable_output(self):
        """An output that cannot be written is refused (exit 2), with no traceback."""
        torch.save(build('dcn3', {'num_classes': 1}).state_dict(), self.path('in.pth'))
        run = run_converter(self.path('in.pth'), self.path('no-such-folder/out.safetensors'))
        self.assertEqual(run.rc, 2, run.stderr)
        self.assertIn('cannot write', run.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
