"""safetensors by hand (https://github.com/huggingface/safetensors; the Python package is not needed):
an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...} padded
with spaces so N is a multiple of 8, then the tensors' raw little-endian bytes, contiguous, in
header order (offsets relative to the end of the header). Only F32 and U8, what this project uses.
"""
import json
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

_NUMPY = {'F32': np.dtype('<f4'), 'U8': np.dtype('u1')}


def write_safetensors(path, tensors, metadata):
    """tensors: iterable of (name, dtype 'F32' | 'U8', array-like); metadata: {str: str}.
    Written to a temporary file next to `path` and renamed over it: never a half-written file."""
    arrays = []
    header = OrderedDict()
    header['__metadata__'] = OrderedDict((str(k), str(v)) for k, v in metadata.items())
    offset = 0
    for name, dtype, value in tensors:
        if name in header:
            raise ValueError(f'duplicate tensor name {name!r}')
        if hasattr(value, 'detach'):
            value = value.detach().cpu().numpy()
        a = np.ascontiguousarray(np.asarray(value), dtype=_NUMPY[dtype])
        header[name] = OrderedDict([('dtype', dtype), ('shape', list(a.shape)), ('data_offsets', [offset, offset + a.nbytes])])
        offset += a.nbytes
        arrays.append(a)
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(struct.pack('<Q', len(text)))
            f.write(text)
            for a in arrays:
                f.write(a.tobytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return 8 + len(text) + offset


def read_safetensors(path):
    """(OrderedDict name → numpy array in header order, metadata dict); checks every byte range."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f'{path}: shorter than the 8-byte header length')
    (n,) = struct.unpack('<Q', raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f'{path}: header runs past the end of the file')
    header = json.loads(raw[8:8 + n].decode('utf-8'), object_pairs_hook=OrderedDict)
    data = raw[8 + n:]
    metadata = dict(header.pop('__metadata__', {}))
    tensors = OrderedDict()
    end_prev = 0
    for name, entry in header.items():
        dt = _NUMPY[entry['dtype']]
        begin, end = entry['data_offsets']
        shape = tuple(entry['shape'])
        if begin != end_prev or end - begin != int(np.prod(shape, dtype=np.int64)) * dt.itemsize or end > len(data):
            raise ValueError(f'{path}: tensor {name} has a bad byte range {begin}..{end} for shape {list(shape)}')
        end_prev = end
        tensors[name] = np.frombuffer(data[begin:end], dtype=dt).reshape(shape).copy()
    if end_prev != len(data):
        raise ValueError(f'{path}: {len(data) - end_prev} trailing bytes after the last tensor')
    return tensors, metadata
