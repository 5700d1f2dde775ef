"""Reads a PyTorch checkpoint without running anything from it, and without torch.

torch.load unpickles, and unpickling calls whatever the file names. weights_only=True does not help on
the PyTorch this project uses: before 2.6, torch.load hands a TorchScript archive to torch.jit.load
and ignores weights_only (CVE-2025-32434), so the archive's code runs. This reader parses the two
formats torch.save writes itself:

  zip     (PyTorch >= 1.6): <prefix>/data.pkl, the pickled object; <prefix>/data/<key>, each storage's
          raw bytes, stored uncompressed; <prefix>/version; <prefix>/byteorder (PyTorch >= 2.1);
  legacy  (_use_new_zipfile_serialization=False, and PyTorch 0.4 - 1.5): five pickles in a row (magic
          number, protocol version, system info, the object, the list of storage keys), then each
          storage as an 8-byte little-endian element count and its raw little-endian bytes;

and refuses the rest: TorchScript archives (they hold code), PyTorch < 0.4's tar format, anything else.

The unpickler admits only the globals a tensor is rebuilt from (torch._utils._rebuild_tensor_v2 and
kin, the storage classes, collections.OrderedDict) and the pickle opcodes a checkpoint uses; it calls
them only with as many arguments as torch.save passes, and reads a pickle of at most MAX_PICKLE bytes.
Its rebuild functions build no tensor: each tensor is a `Tensor` record (dtype, storage, offset, shape,
stride). A storage's size is what the file holds, never what the pickle claims; `view_problem` says
whether a tensor's view lies within its storage, and `to_float32` reads the values only then.
"""
import gc
import io
import math
import pickle
import pickletools
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

MAX_DIMS = 8  # a tensor with more dimensions is no tensor of a CNN; the bound keeps every shape printable
# The largest pickle read (data.pkl, or the legacy format's object). Unpickling takes up to ~70 times a
# pickle's size in memory (a byte `}` is an empty dict on the stack); the largest official checkpoint's
# pickle, a 2.0x ShuffleNetV2 Meta-ACON-C state dict as train.py saves it (986 tensors), has 142 KB.
MAX_PICKLE = 1 << 20
TOO_LONG = f'longer than the {MAX_PICKLE:,} bytes read (a state dict of 1,000 tensors pickles to about 150,000)'
MAX_ENTRIES = 10_000  # zip entries: data.pkl, version, byteorder and one per storage (that checkpoint: 988)


class CheckpointError(ValueError):
    """The file is not a checkpoint this reader accepts; the message says why."""


class ForeignObjectError(CheckpointError):
    """The pickle names a global other than those a tensor is rebuilt from (torch.load would call it)."""


def clip(text, limit=40):
    """Text taken from the file (or a path), for a message: every character that is not printable (newlines,
    carriage returns, terminal escapes, bidirectional overrides, the undecodable bytes of a path) escaped as
    repr() escapes it, so that the text cannot forge or hide lines; at most `limit` characters (None: all)."""
    text = ''.join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text)[:None if limit is None else limit + 1])
    return text if limit is None or len(text) <= limit else text[:limit] + '…'


# ------------------------------------------------------------------------------------------ records

class StorageType(NamedTuple):
    """What the pickle's torch.FloatStorage, torch.HalfStorage, ... stand for."""
    dtype: str  # PyTorch's name
    element: np.dtype  # the raw elements, little-endian (bfloat16, which numpy lacks, as its uint16 bit patterns)


STORAGE_TYPES = {name: StorageType(dtype, np.dtype(element)) for name, dtype, element in [
    ('FloatStorage', 'float32', '<f4'), ('DoubleStorage', 'float64', '<f8'), ('HalfStorage', 'float16', '<f2'),
    ('BFloat16Storage', 'bfloat16', '<u2'), ('LongStorage', 'int64', '<i8'), ('IntStorage', 'int32', '<i4'),
    ('ShortStorage', 'int16', '<i2'), ('CharStorage', 'int8', 'i1'), ('ByteStorage', 'uint8', 'u1'),
    ('BoolStorage', 'bool', '?'),
]}
FLOATING = ('float16', 'bfloat16', 'float32', 'float64')


class Storage:
    """A storage: its element type and count as the pickle claims them, and `data`, its bytes, once they
    are found in the file and match that claim (the reader refuses a file where any storage lacks them)."""
    __slots__ = ('dtype', 'element', 'numel', 'data')

    def __init__(self, kind, numel, data=None):
        self.dtype, self.element, self.numel, self.data = kind.dtype, kind.element, numel, data


class Tensor(NamedTuple):
    """A tensor as the checkpoint describes it; nothing is read until to_float32."""
    dtype: str
    storage: Storage
    offset: int
    shape: tuple
    stride: tuple

    @property
    def numel(self):
        return math.prod(self.shape)


def _dims(value):
    """A tuple of int64-range non-negative ints, or None."""
    ok = type(value) is tuple and all(type(n) is int and 0 <= n < 2 ** 63 for n in value)
    return value if ok else None


# The functions torch.save's pickle calls, with torch's signatures, each returning a record.
def _rebuild_tensor(storage, storage_offset, size, stride):
    """torch._utils._rebuild_tensor, as a record (view_problem checks its bounds)."""
    if not isinstance(storage, Storage) or _dims((storage_offset,)) is None or _dims(size) is None \
            or _dims(stride) is None or len(size) != len(stride):
        raise CheckpointError('a tensor is rebuilt from something other than a storage, an offset, a shape and a stride')
    return Tensor(storage.dtype, storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """torch._utils._rebuild_tensor_v2 (PyTorch >= 0.4; 2.x passes metadata only when a tensor has a
    conjugate or negative view bit, which would change its values)."""
    if metadata:
        raise CheckpointError('a tensor is saved with a conjugate or negative view bit (metadata), which is not read')
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """torch._utils._rebuild_parameter: an nn.Parameter is its tensor here."""
    if not isinstance(data, Tensor):
        raise CheckpointError('a parameter is rebuilt from something other than a tensor')
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """torch._utils._rebuild_parameter_with_state (PyTorch 2.x, a Parameter with Python attributes)."""
    return _rebuild_parameter(data, requires_grad, backward_hooks)


GLOBALS = {
    'collections.OrderedDict': OrderedDict,  # called with no arguments; the items follow, each key checked
    'torch._utils._rebuild_tensor': _rebuild_tensor,
    'torch._utils._rebuild_tensor_v2': _rebuild_tensor_v2,
    'torch._utils._rebuild_parameter': _rebuild_parameter,
    'torch._utils._rebuild_parameter_with_state': _rebuild_parameter_with_state,
    **{f'torch.{name}': kind for name, kind in STORAGE_TYPES.items()},
}
# What REDUCE may call, and with how many arguments (fewest, most): those torch.save passes.
ARITY = {OrderedDict: (0, 0), _rebuild_tensor: (4, 4), _rebuild_tensor_v2: (6, 7), _rebuild_parameter: (3, 3),
         _rebuild_parameter_with_state: (4, 4)}


def view_problem(t):
    """Why tensor t's view does not lie within its storage, or None when it does: it may have no more
    elements than the storage, and every element it reaches (offset + sum of (size - 1) * stride) must be
    there. A stride-0 expand of one element to 2**40 columns fails both. The stride of a dimension of size
    1 plays no part (to_float32 reads it as 0), nor do the strides and offset of a tensor of no elements."""
    if len(t.shape) > MAX_DIMS:
        return f'has {len(t.shape)} dimensions (at most {MAX_DIMS} are read)'
    held = t.storage.numel
    view = f'shape {list(t.shape)} (stride {list(t.stride)}, offset {t.offset})'
    if t.numel > held:
        return f'{view} claims {t.numel:,} elements; its storage holds {held:,}'
    last = t.offset + sum((n - 1) * s for n, s in zip(t.shape, t.stride))
    if t.numel and last >= held:
        return f'{view} reaches element {last:,}; its storage holds {held:,}'
    return None


def to_float32(t):
    """Tensor t's values as a new float32 array (refused unless its view lies within its storage)."""
    problem = view_problem(t)
    if problem:
        raise CheckpointError(problem)
    if not t.numel:
        return np.zeros(t.shape, np.float32)
    s = t.storage
    base = np.frombuffer(s.data, s.element, count=s.numel)
    # every offset below lies within the storage (view_problem): no byte offset can overflow
    strides = [stride * s.element.itemsize if n > 1 else 0 for n, stride in zip(t.shape, t.stride)]
    view = np.lib.stride_tricks.as_strided(base[t.offset:], t.shape, strides, writeable=False)
    if t.dtype == 'bfloat16':  # the upper 16 bits of a float32
        return (view.astype(np.uint32) << 16).view(np.float32)
    return view.astype(np.float32)


# ------------------------------------------------------------------------------------- unpickling

class _TensorUnpickler(pickle._Unpickler):
    """pickle's Python unpickler, narrowed: only the opcodes a checkpoint's pickle uses, only GLOBALS, dict
    keys that are strings (hashed with a per-process salt) or integers below 2**61 - 1 (which hash to
    themselves), so that no set of keys can be made to collide and fill a dict in quadratic time; BUILD
    only for a state dict's _metadata, which is dropped. Not the C unpickler (pickle.Unpickler), whose
    opcode table cannot be narrowed and whose memo is an array sized by the index a PUT names: a 10-byte
    pickle naming index 2**27 makes it allocate and zero 2 GB. This one's memo is a dict."""

    def __init__(self, file, persistent_load=None):
        super().__init__(file, encoding='utf-8')
        self.persistent_load = persistent_load or self._no_persistent_load

    @staticmethod
    def _no_persistent_load(_pid):
        raise CheckpointError('a pickle that should hold plain values refers to a storage')

    def find_class(self, module, name):
        found = GLOBALS.get(f'{module}.{name}')
        if found is None:
            raise ForeignObjectError(f'it holds more than tensors and plain containers: its pickle names '
                                     f'{clip(f"{module}.{name}")}, which this reader never calls')
        return found

    def load_reduce(self):
        """func(*args) only for a function of GLOBALS (what find_class returned) and a tuple of as many
        arguments as torch.save passes it (ARITY), checked before the call: a memoised list or tuple of a
        million items, splatted again and again (6 bytes each time), costs nothing."""
        args = self.stack.pop()
        func = self.stack[-1]
        arity = ARITY.get(func) if callable(func) else None
        if arity is None:
            raise CheckpointError(f'its pickle calls a {type(func).__name__}, none of the functions a checkpoint calls')
        if type(args) is not tuple or not arity[0] <= len(args) <= arity[1]:
            given = f'{len(args):,} argument{"s" * (len(args) != 1)}' if type(args) is tuple else f'a {type(args).__name__}'
            raise CheckpointError(f'its pickle calls {func.__name__} with {given}; torch.save passes it '
                                  f'{arity[0]}{f" or {arity[1]}" if arity[1] != arity[0] else ""}')
        self.stack[-1] = func(*args)

    def _set_items(self, items):
        target = self.stack[-1]
        if type(target) not in (dict, OrderedDict) or len(items) % 2:
            raise CheckpointError('its pickle sets dict items on something that is not a dict')
        for key, value in zip(items[::2], items[1::2]):
            if not (type(key) is str or (type(key) is int and 0 <= key < 2 ** 61 - 1)):
                raise CheckpointError(f'a dict key of type {type(key).__name__}{" out of range" * (type(key) is int)}; only '
                                      'strings and integers from 0 to 2**61 - 2 are read (others can be chosen to collide '
                                      'in the hash table, which makes filling a dict quadratic in its size)')
            target[key] = value

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._set_items([key, value])

    def load_setitems(self):
        self._set_items(self.pop_mark())

    def load_build(self):
        state = self.stack.pop()
        if type(self.stack[-1]) is not OrderedDict or not isinstance(state, dict):
            raise CheckpointError('its pickle sets the state of something other than a state dict')
        # a state dict's _metadata (module versions): not needed here


def _refuser(code):
    """The dispatch entry for an opcode no checkpoint needs."""
    op = pickletools.code2op.get(chr(code))
    name = op.name if op else f'0x{code:02x}'

    def refuse(_unpickler):
        raise CheckpointError(f'its pickle uses opcode {name}, which no tensor checkpoint needs')
    return refuse


# Protocol 2's binary opcodes (torch.save pickles with protocol 2), and FRAME, MEMOIZE, STACK_GLOBAL,
# SHORT_BINUNICODE, BINUNICODE8 of protocol 4; no bytes, sets, out-of-band buffers or object creation.
_OPCODES = '''PROTO FRAME STOP MARK POP POP_MARK DUP NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 LONG4 BINFLOAT
    BINSTRING SHORT_BINSTRING BINUNICODE SHORT_BINUNICODE BINUNICODE8 EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST
    APPEND APPENDS EMPTY_DICT BINGET LONG_BINGET BINPUT LONG_BINPUT MEMOIZE GLOBAL STACK_GLOBAL BINPERSID'''.split()
_TensorUnpickler.dispatch = {code: _refuser(code) for code in range(256)}
_TensorUnpickler.dispatch.update({getattr(pickle, n)[0]: pickle._Unpickler.dispatch[getattr(pickle, n)[0]] for n in _OPCODES})
_TensorUnpickler.dispatch.update({pickle.SETITEM[0]: _TensorUnpickler.load_setitem, pickle.SETITEMS[0]: _TensorUnpickler.load_setitems,
                                  pickle.BUILD[0]: _TensorUnpickler.load_build, pickle.REDUCE[0]: _TensorUnpickler.load_reduce})


def _unpickle(raw, pos, persistent_load=None):
    """(the object pickled at raw[pos:], where its pickle ends); a pickle longer than MAX_PICKLE is refused
    when the unpickler reaches that length (the legacy format's pickles say not how long they are)."""
    f = io.BytesIO(raw[pos:pos + MAX_PICKLE])
    collecting = gc.isenabled()
    gc.disable()  # what is unpickled stays alive until the end: the collector would only search it, again and again
    try:
        return _TensorUnpickler(f, persistent_load).load(), pos + f.tell()
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - a malformed pickle fails in many ways, none of which runs anything
        if f.tell() == MAX_PICKLE < len(raw) - pos:
            raise CheckpointError(f'its pickle is {TOO_LONG}') from None
        raise CheckpointError(f'a malformed or truncated pickle ({type(e).__name__})') from None
    finally:
        if collecting:
            gc.enable()


def _storage_of(pid, storages, fields):
    """The Storage a persistent id ('storage', type, key, location, numel[, view]) names, made once per key."""
    if not (type(pid) is tuple and len(pid) == fields and pid[0] == 'storage' and isinstance(pid[1], StorageType)
            and type(pid[2]) is str and _dims((pid[4],)) and pid[5:] in ((), (None,))):
        raise CheckpointError('its pickle refers to data outside it that is not a tensor storage '
                              '(or a storage view, which PyTorch < 0.4 wrote)')
    _, kind, key, _location, numel = pid[:5]
    storage = storages.setdefault(key, Storage(kind, numel))
    if (storage.dtype, storage.numel) != (kind.dtype, numel):
        raise CheckpointError(f'storage {clip(key)} appears with two types or sizes')
    return key, storage


# -------------------------------------------------------------------------------------------- zip

def _span(raw, info):
    """(start, data start, end) of a zip entry in the file, its local header included: stored uncompressed
    (as torch.save writes it, so a small file cannot inflate), wholly inside the file."""
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise CheckpointError(f'zip entry {clip(info.filename)} is compressed; torch.save stores every entry uncompressed')
    start = info.header_offset
    if not 0 <= start <= len(raw) - 30 or raw[start:start + 4] != b'PK\x03\x04':
        raise CheckpointError(f'zip entry {clip(info.filename)} has no local header where the directory says')
    name_length, extra_length = struct.unpack_from('<HH', raw, start + 26)
    begin = start + 30 + name_length + extra_length
    end = begin + info.file_size
    if end > len(raw):
        raise CheckpointError(f'zip entry {clip(info.filename)} runs past the end of the file (truncated?)')
    return start, begin, end


def _read_zip(raw):
    try:
        infos = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except Exception as e:  # noqa: BLE001 - zipfile raises several kinds for a damaged directory
        raise CheckpointError(f'a damaged zip archive ({type(e).__name__})') from None
    if len(infos) > MAX_ENTRIES:
        raise CheckpointError(f'a zip archive of {len(infos):,} entries; at most {MAX_ENTRIES:,} are read (torch.save '
                              'writes one per storage, and a state dict of these networks has about a thousand)')
    inside = {i.filename.split('/')[1] for i in infos if '/' in i.filename}  # what is in <name>/
    if inside & {'code', 'constants.pkl', 'bytecode.pkl'}:
        raise CheckpointError('a TorchScript archive (torch.jit.save): it holds code, which torch.load runs on PyTorch < 2.6 '
                              'even with weights_only=True, and which this reader never runs. Convert a state dict: '
                              'torch.save(model.state_dict(), path)')
    pickles = [i.filename for i in infos if i.filename.endswith('/data.pkl') and i.filename.count('/') == 1]
    if len(pickles) != 1:
        raise CheckpointError('a zip archive without a <name>/data.pkl: not a PyTorch checkpoint')
    prefix = pickles[0][:-len('data.pkl')]
    # where every entry lies, and that no two share a name or a byte, before any is read: each is then
    # checksummed once, the file's bytes at most once in all
    if len({i.filename for i in infos}) < len(infos):
        raise CheckpointError('two zip entries have the same name')
    spans = {i.filename: _span(raw, i) for i in infos}
    ordered = sorted(spans.values())
    if any(b[0] < a[2] for a, b in zip(ordered, ordered[1:])):
        raise CheckpointError('zip entries overlap (the same bytes would be read as several storages)')
    _, begin, end = spans[pickles[0]]
    if end - begin > MAX_PICKLE:
        raise CheckpointError(f'its data.pkl ({end - begin:,} bytes) is {TOO_LONG}')
    entries = {}
    for info in infos:
        _, begin, end = spans[info.filename]
        entries[info.filename] = memoryview(raw)[begin:end]
        if zlib.crc32(entries[info.filename]) != info.CRC:
            raise CheckpointError(f'zip entry {clip(info.filename)} is damaged (CRC mismatch)')
    byteorder = bytes(entries.get(prefix + 'byteorder', b'little'))
    if byteorder not in (b'little', b'big'):
        raise CheckpointError(f'byteorder {clip(byteorder.decode("latin-1"))}: expected little or big')

    storages = {}

    def persistent_load(pid):
        key, storage = _storage_of(pid, storages, 5)
        if storage.data is None:
            data = entries.get(f'{prefix}data/{key}')
            if data is None:
                raise CheckpointError(f'storage data/{clip(key)} is missing')
            if len(data) != storage.numel * storage.element.itemsize:
                raise CheckpointError(f'storage data/{clip(key)} holds {len(data):,} bytes; the pickle claims '
                                      f'{storage.numel:,} {storage.dtype} elements')
            storage.element = storage.element.newbyteorder('<' if byteorder == b'little' else '>')
            storage.data = data
        return storage

    return _unpickle(bytes(entries[pickles[0]]), 0, persistent_load)[0]


# ----------------------------------------------------------------------------------------- legacy

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c  # torch.serialization.MAGIC_NUMBER
PROTOCOL_VERSION = 1001


def _read_legacy(raw):
    magic, pos = _unpickle(raw, 0)
    if magic != MAGIC_NUMBER:
        raise CheckpointError('a pickle without torch.save\'s magic number: not a PyTorch checkpoint')
    protocol, pos = _unpickle(raw, pos)
    if protocol != PROTOCOL_VERSION:
        raise CheckpointError(f'not the legacy format\'s protocol version {PROTOCOL_VERSION}')
    _system, pos = _unpickle(raw, pos)  # the saving machine's C type sizes and byte order; storages are little-endian
    storages = {}
    obj, pos = _unpickle(raw, pos, lambda pid: _storage_of(pid, storages, 6)[1])
    keys, pos = _unpickle(raw, pos)
    if not (type(keys) is list and all(type(k) is str for k in keys)):
        raise CheckpointError('the list of storage keys after the pickle is not a list of strings')
    for key in keys:
        storage = storages.get(key)
        if storage is None or storage.data is not None:
            raise CheckpointError(f'the storage list names {clip(key)}, which no tensor uses (or names it twice)')
        count = int.from_bytes(raw[pos:pos + 8], 'little')
        begin, end = pos + 8, pos + 8 + count * storage.element.itemsize
        if count != storage.numel or end > len(raw):
            raise CheckpointError(f'storage {clip(key)} claims {storage.numel:,} {storage.dtype} elements; '
                                  f'the file holds {max(0, len(raw) - begin) // storage.element.itemsize:,} more (truncated?)')
        storage.data, pos = memoryview(raw)[begin:end], end
    if any(s.data is None for s in storages.values()):
        raise CheckpointError('a storage the pickle uses is not in the list of storages')
    return obj


# -------------------------------------------------------------------------------------------------

def read_checkpoint(path):
    """What torch.save saved to `path`, with Tensor records for tensors; raises CheckpointError."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise CheckpointError(e.strerror or type(e).__name__) from None
    if raw.startswith(b'PK\x03\x04'):  # how torch.load tells the zip format
        return _read_zip(raw)
    if raw[257:262] == b'ustar':
        raise CheckpointError('the tar format of PyTorch < 0.4, which this reader does not read '
                              '(load it with that PyTorch and torch.save it again)')
    if raw.startswith(b'\x80'):  # pickle protocol 2+
        return _read_legacy(raw)
    raise CheckpointError('not a PyTorch checkpoint (neither a zip archive nor a pickle)')
