#!/usr/bin/python3
"""Tests of scripts/convert_checkpoint.py (run by hand: /usr/bin/python3 scripts/test_convert.py).

Each test saves a small PyTorch model's state dict, runs the converter as a user would (a subprocess)
and checks the file it writes (read back with torch_models/safetensors_io.py) or its error and exit status.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from torch_models.architectures import STAGE_OUT_CHANNELS, build  # noqa: E402
from torch_models.safetensors_io import read_safetensors  # noqa: E402

CONVERT = os.path.join(HERE, 'convert_checkpoint.py')
TINY = [-1, 8, 16, 32, 64, 128]


def tiny(kind, n_class=10, r=8):
    torch.manual_seed(0)
    return build(kind, {'stage_out_channels': TINY, 'n_class': n_class, 'r': r})


class ConvertTest(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.dir = self._dir.name

    def tearDown(self):
        self._dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def convert(self, checkpoint, *args, name='in.pth'):
        """Saves `checkpoint`, converts it; (returncode, stdout, stderr, out path)."""
        src, out = self.path(name), self.path('out.safetensors')
        torch.save(checkpoint, src)
        p = subprocess.run([sys.executable, CONVERT, src, out, *args], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr, out

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
        raw = open(out, 'rb').read()
        n = int.from_bytes(raw[:8], 'little')
        self.assertEqual(n % 8, 0)
        header = json.loads(raw[8:8 + n])
        entries = [v for k, v in header.items() if k != '__metadata__']
        self.assertEqual(entries[0]['data_offsets'][0], 0)
        for a, b in zip(entries, entries[1:]):
            self.assertEqual(a['data_offsets'][1], b['data_offsets'][0])  # contiguous, header order
        self.assertEqual(entries[-1]['data_offsets'][1], len(raw) - 8 - n)
        self.assertEqual(np.frombuffer(raw[8 + n:8 + n + 4], '<f4')[0], model.state_dict()['conv1.weight'].flatten()[0].item())


if __name__ == '__main__':
    unittest.main(verbosity=2)
