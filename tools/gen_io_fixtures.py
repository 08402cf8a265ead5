#!/usr/bin/env python3
"""gen_io_fixtures.py — writes the test files for vkti's model-file readers (python3 stdlib only).

    tools/gen_io_fixtures.py [REPO_ROOT]

tests/data/io/       valid files: torch.save-format .pt/.ckpt (protocols 2, 4, 5; stored, deflated
                     and zip64 archives; an SD state dict; AUTOMATIC1111 and ParameterDict embeddings),
                     plain pickles of protocols 0-5, and expected.json describing what each holds.
tests/data/hostile/  broken and malicious files, and EXPECTED: one line per file, "<file>\\t<text>",
                     the text its error message must contain.

torch.save format, as torch/serialization.py and caffe2/serialize/inline_container.cc write it: a
zip archive whose entries sit in one folder (here "archive", as when saving to a buffer), stored
uncompressed with each entry's data aligned to 64 bytes by a padding extra field ("FB"):
data.pkl, .format_version, .storage_alignment, byteorder, data/<key> for each storage (keys in
sorted order), version, .data/serialization_id. data.pkl is made here by Python's own pickle.Pickler
(the one torch.save uses) with protocol 2 and torch's persistent_id; stand-in modules named torch,
torch._utils, ... give the pickler the same globals to name, so the bytes are those torch.save
writes for the same tensors. Nothing is ever unpickled here. Deterministic: same files every run.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zlib

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
IO_DIR = os.path.join(ROOT, "tests", "data", "io")
HOSTILE_DIR = os.path.join(ROOT, "tests", "data", "hostile")

# ---- stand-ins for the torch names a checkpoint pickle refers to ----------------------------------


def _module(name):
    m = types.ModuleType(name)
    sys.modules[name] = m
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, m)
    return m


torch = _module("torch")
_module("torch._utils")
_module("torch.storage")
_module("torch.nn")
_module("torch.nn.modules")
_module("torch.nn.modules.container")


def _never_called(*args):
    raise RuntimeError("stand-in: never called")


for fname in ("_rebuild_tensor_v2", "_rebuild_parameter"):
    f = types.FunctionType(_never_called.__code__, {}, fname)
    f.__module__, f.__qualname__ = "torch._utils", fname
    setattr(sys.modules["torch._utils"], fname, f)

# dtype name -> (storage class name, struct format, element size)
DTYPES = {
    "F64": ("DoubleStorage", "d", 8), "F32": ("FloatStorage", "f", 4), "F16": ("HalfStorage", "e", 2),
    "BF16": ("BFloat16Storage", None, 2), "I64": ("LongStorage", "q", 8), "I32": ("IntStorage", "i", 4),
    "I16": ("ShortStorage", "h", 2), "I8": ("CharStorage", "b", 1), "U8": ("ByteStorage", "B", 1),
    "BOOL": ("BoolStorage", "?", 1),
}
STORAGE_CLASSES = {}
for _dt, (_cls, _fmt, _size) in DTYPES.items():
    c = type(_cls, (), {"__module__": "torch"})
    setattr(torch, _cls, c)
    STORAGE_CLASSES[_dt] = c


class ParameterDict:  # torch.nn.modules.container.ParameterDict, pickled as a Module is
    pass


ParameterDict.__module__ = "torch.nn.modules.container"
sys.modules["torch.nn.modules.container"].ParameterDict = ParameterDict


def pack(dtype, values):
    """Little-endian bytes of values in a file dtype (bf16: the top half of the f32, rounded to nearest even)."""
    fmt = DTYPES[dtype][1]
    if dtype == "BF16":
        out = b""
        for v in values:
            u = struct.unpack("<I", struct.pack("<f", v))[0]
            u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
            out += struct.pack("<H", u)
        return out
    return b"".join(struct.pack("<" + fmt, v) for v in values)


def unpack(dtype, data):
    if dtype == "BF16":
        return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for (h,) in struct.iter_unpack("<H", data)]
    return [float(x[0]) for x in struct.iter_unpack("<" + DTYPES[dtype][1], data)]


class Storage:
    def __init__(self, dtype, values):
        self.dtype, self.data = dtype, pack(dtype, values)
        self.numel = len(self.data) // DTYPES[dtype][2]


class Tensor:
    """What torch.Tensor.__reduce_ex__ gives for a plain tensor: _rebuild_tensor_v2 and its arguments."""

    def __init__(self, storage, shape, stride=None, offset=0, requires_grad=False):
        if stride is None:
            stride, s = [], 1
            for d in reversed(shape):
                stride.insert(0, s)
                s *= d
        self.storage, self.shape, self.stride, self.offset = storage, list(shape), list(stride), offset
        self.requires_grad = requires_grad

    def __reduce_ex__(self, proto):
        return (sys.modules["torch._utils"]._rebuild_tensor_v2,
                (self.storage, self.offset, tuple(self.shape), tuple(self.stride), self.requires_grad,
                 collections.OrderedDict()))

    def values(self):
        """The elements in row-major order, as floats (what a reader should produce)."""
        es = DTYPES[self.storage.dtype][2]
        allv = unpack(self.storage.dtype, self.storage.data)
        out, n = [], 1
        for d in self.shape:
            n *= d
        for flat in range(n):
            idx, rem = [], flat
            for d in reversed(self.shape):
                idx.insert(0, rem % d)
                rem //= d
            off = self.offset + sum(i * s for i, s in zip(idx, self.stride))
            out.append(allv[off])
        del es
        return out


class Parameter:
    """torch.nn.Parameter.__reduce_ex__: _rebuild_parameter(data, requires_grad, hooks)."""

    def __init__(self, data):
        self.data = data

    def __reduce_ex__(self, proto):
        return (sys.modules["torch._utils"]._rebuild_parameter, (self.data, True, collections.OrderedDict()))


def tensor(dtype, shape, values=None, requires_grad=False):
    n = 1
    for d in shape:
        n *= d
    if values is None:
        values = [((i * 7) % 11 - 5) * 0.25 for i in range(n)]
        if dtype in ("I64", "I32", "I16", "I8"):
            values = [(i * 37) % 201 - 100 for i in range(n)]
        elif dtype == "U8":
            values = [(i * 37) % 256 for i in range(n)]
        elif dtype == "BOOL":
            values = [i % 3 == 0 for i in range(n)]
    return Tensor(Storage(dtype, values), shape, requires_grad=requires_grad)


def torch_pickle(obj, protocol=2):
    """torch.save's data.pkl and its storages, keyed as torch keys them ("0", "1"... by first use)."""
    storages, keys = {}, {}

    def persistent_id(o):
        if isinstance(o, Storage):
            key = keys.setdefault(id(o), str(len(keys)))
            storages[key] = o
            return ("storage", STORAGE_CLASSES[o.dtype], key, "cpu", o.numel)
        return None

    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=protocol)
    p.persistent_id = persistent_id
    p.dump(obj)
    return buf.getvalue(), storages


# ---- zip archives as PyTorch's writer (miniz) lays them out ---------------------------------------


def zip_archive(records, align=64, deflate=(), force_zip64=False):
    """records: list of (name, bytes). Returns (archive bytes, info: per record its local header
    offset, central record offset; and the central directory / end record offsets)."""
    out = bytearray()
    central = []
    info = {"local": [], "central": []}
    for name, data in records:
        nb = name.encode()
        method = 8 if name in deflate else 0
        comp = data
        if method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            comp = c.compress(data) + c.flush()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        big = force_zip64
        # padding extra field "FB" so that the data starts at a multiple of `align`
        start = offset + 30 + len(nb) + 4
        if big:
            start += 4 + 16
        pad = (-start) % align if align else 0
        extra = b""
        if big:
            extra += struct.pack("<HHQQ", 1, 16, len(data), len(comp))
        if align:
            extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        info["local"].append(offset)
        lsize = 0xFFFFFFFF if big else len(comp)
        usize = 0xFFFFFFFF if big else len(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if big else (20 if method else 0), 0, method, 0, 0, crc,
                           lsize, usize, len(nb), len(extra))
        out += nb + extra + comp
        central.append((nb, method, crc, len(comp), len(data), offset))
    cd_offset = len(out)
    for nb, method, crc, csize, usize, offset in central:
        info["central"].append(len(out))
        extra = b""
        if force_zip64:
            extra = struct.pack("<HHQQQ", 1, 24, usize, csize, offset)
            csize = usize = offset = 0xFFFFFFFF
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if force_zip64 else 20,
                           45 if force_zip64 else (20 if method else 0), 0, method, 0, 0, crc, csize, usize,
                           len(nb), len(extra), 0, 0, 0, 0, offset)
        out += nb + extra
    cd_size = len(out) - cd_offset
    info["cd_offset"], info["cd_size"] = cd_offset, cd_size
    n = len(records)
    if force_zip64:
        eocd64 = len(out)
        info["eocd64"] = eocd64
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, cd_size, cd_offset)
        info["locator"] = len(out)
        out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
        info["eocd"] = len(out)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        info["eocd"] = len(out)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd_offset, 0)
    return bytes(out), info


def torch_save(obj, protocol=2, prefix="archive", deflate=(), force_zip64=False, byteorder=b"little",
               pkl_override=None, extra_records=(), drop=()):
    """A torch.save archive of obj; the hostile cases reach in through the keyword arguments."""
    pkl, storages = torch_pickle(obj, protocol) if obj is not None else (b"", {})
    if pkl_override is not None:
        pkl = pkl_override
    recs = [("data.pkl", pkl), (".format_version", b"1"), (".storage_alignment", b"64")]
    if byteorder is not None:
        recs.append(("byteorder", byteorder))
    for key in sorted(storages):
        recs.append(("data/" + key, storages[key].data))
    recs += list(extra_records)
    recs += [("version", b"3\n"), (".data/serialization_id", b"1000000000000000000000000000000000000000")]
    recs = [(prefix + "/" + n, d) for n, d in recs if n not in drop]
    return zip_archive(recs, deflate={prefix + "/" + n for n in deflate}, force_zip64=force_zip64)


# ---- safetensors ---------------------------------------------------------------------------------


def st_file(header, data=b"", raw_header=None, length=None):
    """A safetensors file: header (a JSON string or dict), padded with spaces to 8 as the reference does."""
    h = raw_header if raw_header is not None else (header if isinstance(header, (bytes, str)) else
                                                     json.dumps(header, separators=(",", ":")))
    if isinstance(h, str):
        h = h.encode()
    if raw_header is None:
        h += b" " * ((-len(h)) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


# ---- the files ------------------------------------------------------------------------------------


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def describe(t):
    return {"dtype": t.storage.dtype, "shape": t.shape, "values": t.values()}


def valid_files():
    expected = {}

    base = tensor("F32", [3, 4])
    shared = Storage("F32", [float(i) for i in range(12)])
    tensors = {
        "f32": base,
        "f16": tensor("F16", [2, 3]),
        "bf16": tensor("BF16", [5]),
        "f64": tensor("F64", [2, 2]),
        "i64": tensor("I64", [3]),
        "i32": tensor("I32", [2, 2]),
        "i16": tensor("I16", [3]),
        "i8": tensor("I8", [4]),
        "u8": tensor("U8", [4]),
        "bool": tensor("BOOL", [5]),
        "scalar": Tensor(Storage("F32", [2.5]), []),
        "empty": Tensor(Storage("F32", []), [0, 5]),
        # views of one storage: the whole, a transpose (non-contiguous), a slice with an offset
        "whole": Tensor(shared, [3, 4]),
        "transposed": Tensor(shared, [4, 3], [1, 4]),
        "row_slice": Tensor(shared, [2, 2], [4, 1], offset=5),
        "grad": tensor("F32", [2], [1.0, -2.0], requires_grad=True),
    }
    for proto in (2, 4, 5):
        name = "tensors.pt" if proto == 2 else "tensors_p%d.pt" % proto
        write(os.path.join(IO_DIR, name), torch_save(tensors, protocol=proto)[0])
        expected[name] = {"path": [], "tensors": {k: describe(t) for k, t in tensors.items()}}
    write(os.path.join(IO_DIR, "tensors_deflated.pt"),
          torch_save(tensors, deflate=["data.pkl"] + ["data/%d" % i for i in range(20)])[0])
    expected["tensors_deflated.pt"] = expected["tensors.pt"]
    write(os.path.join(IO_DIR, "tensors_zip64.pt"), torch_save(tensors, force_zip64=True)[0])
    expected["tensors_zip64.pt"] = expected["tensors.pt"]

    # an SD checkpoint: Lightning's dict with an OrderedDict state dict carrying _metadata
    sd = collections.OrderedDict()
    sd["model.diffusion_model.input_blocks.0.0.weight"] = tensor("F32", [4, 4, 3, 3])
    sd["model.diffusion_model.input_blocks.0.0.bias"] = tensor("F32", [4])
    sd["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"] = tensor("F16", [10, 8])
    sd["first_stage_model.decoder.conv_out.weight"] = tensor("F32", [3, 4, 1, 1])
    sd["model_ema.decay"] = Tensor(Storage("F32", [0.9999]), [])
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("model", {"version": 1})])
    ckpt = {"epoch": 6, "global_step": 470000, "pytorch-lightning_version": "1.4.2", "state_dict": sd}
    write(os.path.join(IO_DIR, "sd_tiny.ckpt"), torch_save(ckpt, prefix="sd_tiny")[0])
    expected["sd_tiny.ckpt"] = {"path": ["state_dict"], "tensors": {k: describe(t) for k, t in sd.items()},
                                "scalars": {"global_step": 470000, "epoch": 6}}

    # an AUTOMATIC1111 embedding
    vec = tensor("F32", [2, 8], requires_grad=True)
    emb = {"string_to_token": {"*": 265}, "string_to_param": {"*": vec}, "name": "my-cat", "step": 1500,
           "sd_checkpoint": "a9263745", "sd_checkpoint_name": "v1-5-pruned-emaonly"}
    write(os.path.join(IO_DIR, "a1111_embedding.pt"), torch_save(emb, prefix="my-cat")[0])
    expected["a1111_embedding.pt"] = {"path": ["string_to_param"], "tensors": {"*": describe(vec)},
                                      "scalars": {"name": "my-cat", "step": 1500, "sd_checkpoint": "a9263745",
                                                  "sd_checkpoint_name": "v1-5-pruned-emaonly",
                                                  "string_to_token.*": 265}}

    # the original textual-inversion format: string_to_param is an nn.ParameterDict (a Module)
    pvec = tensor("F32", [1, 8])
    pd = ParameterDict()
    pd.__dict__.update({"training": True, "_parameters": collections.OrderedDict([("*", Parameter(pvec))]),
                        "_buffers": collections.OrderedDict(), "_non_persistent_buffers_set": set(),
                        "_backward_hooks": collections.OrderedDict(), "_forward_hooks": collections.OrderedDict(),
                        "_forward_pre_hooks": collections.OrderedDict(), "_state_dict_hooks": collections.OrderedDict(),
                        "_load_state_dict_pre_hooks": collections.OrderedDict(),
                        "_modules": collections.OrderedDict()})
    old = {"string_to_token": {"*": 265}, "string_to_param": pd}
    write(os.path.join(IO_DIR, "paramdict_embedding.pt"), torch_save(old, prefix="learned_embeds")[0])
    expected["paramdict_embedding.pt"] = {"path": ["string_to_param"], "paramdict": True,
                                          "tensors": {"*": describe(pvec)}, "scalars": {"string_to_token.*": 265}}

    # plain pickles of every protocol (no globals: bytes and sets need them below protocols 3 and 4)
    for proto in range(6):
        shared_list = [7]
        v = {"int": 1, "neg": -5, "big": 2 ** 40, "min": -2 ** 63, "max": 2 ** 63 - 1, "float": 1.5,
             "str": "h\u00e9llo \u2713 \U0001F431 \\u0041", "empty": "", "tuple": (1, 2, 3), "list": [1, [2, 3]],
             "none": None, "true": True, "false": False, "shared": [shared_list, shared_list],
             "nested": {"a": {"b": (4.25,)}}}
        if proto >= 3:
            v["bytes"] = b"\x00\xff"
        if proto >= 4:
            v["set"] = {1}
        write(os.path.join(IO_DIR, "values_p%d.pkl" % proto), pickle.dumps(v, protocol=proto))

    write(os.path.join(IO_DIR, "expected.json"), (json.dumps(expected, indent=1, sort_keys=True) + "\n").encode())


def hostile_files():
    cases = []  # (file name, bytes, expected message text)

    def add(name, data, text):
        cases.append((name, data, text))

    f32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    d8 = b"\x00" * 8
    # safetensors
    add("st_empty.safetensors", b"", "shorter than the 8-byte header length")
    add("st_7_bytes.safetensors", b"\x10\x00\x00\x00\x00\x00\x00", "shorter than the 8-byte header length")
    add("st_header_past_end.safetensors", st_file({"a": f32}, d8)[:40], "runs past the end of the file")
    add("st_header_lies_short.safetensors", st_file({"a": f32}, d8, length=10), "not valid JSON")
    add("st_header_too_large.safetensors", struct.pack("<Q", 100_000_001) + b"{}", "over the 100000000-byte limit")
    add("st_header_len_huge.safetensors", struct.pack("<Q", 2 ** 64 - 1) + b"{}", "over the 100000000-byte limit")
    add("st_not_utf8.safetensors", st_file(None, raw_header=b'{"a\xff":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}'),
        "not valid UTF-8")
    add("st_overlong_utf8.safetensors", st_file(None, raw_header=b'{"\xc0\xaf":1}'), "not valid UTF-8")
    add("st_bad_json.safetensors", st_file('{"a": {"dtype": "F32",}}'), "not valid JSON")
    add("st_truncated_json.safetensors", st_file(None, raw_header=b'{"a": {"dtype": "F32"'), "not valid JSON")
    add("st_top_array.safetensors", st_file("[1, 2, 3]"), "is an array, not an object")
    add("st_top_string.safetensors", st_file('"hello"'), "is a string, not an object")
    add("st_unknown_dtype.safetensors",
        st_file({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, b"\x00\x00"),
        "dtype 'F8_E4M3', which vkti does not read")
    add("st_dtype_u16.safetensors", st_file({"w": {"dtype": "U16", "shape": [1], "data_offsets": [0, 2]}}, b"\x00\x00"),
        "dtype 'U16'")
    add("st_dtype_not_string.safetensors", st_file({"w": {"dtype": 7, "shape": [], "data_offsets": [0, 4]}}, d8[:4]),
        "dtype is not a string")
    add("st_negative_shape.safetensors", st_file('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', d8),
        "negative number")
    add("st_float_shape.safetensors", st_file('{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', d8),
        "fraction or exponent")
    add("st_shape_overflow.safetensors",
        st_file({"w": {"dtype": "F32", "shape": [2 ** 32, 2 ** 32, 16], "data_offsets": [0, 8]}}, d8), "overflows")
    add("st_shape_u64_overflow.safetensors",
        st_file('{"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}', d8), "larger than 2^64-1")
    add("st_too_many_dims.safetensors", st_file({"w": {"dtype": "U8", "shape": [1] * 9, "data_offsets": [0, 1]}}, b"\x00"),
        "more than 8 dimensions")
    add("st_offsets_overlap.safetensors",
        st_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\x00" * 12), "overlap tensor 'a'")
    add("st_offsets_gap.safetensors",
        st_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                 "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, b"\x00" * 12), "gap of 4")
    add("st_offsets_not_at_zero.safetensors", st_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, d8),
        "gap of 4")
    add("st_offsets_past_end.safetensors", st_file({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, d8),
        "run past the end of the data section")
    add("st_offsets_reversed.safetensors", st_file({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, d8),
        "end before they begin")
    add("st_offsets_size_mismatch.safetensors", st_file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, d8),
        "hold 8 bytes, but F32 [3] needs 12")
    add("st_offsets_three.safetensors", st_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4, 8]}}, d8),
        "exactly two numbers")
    add("st_offsets_huge.safetensors",
        st_file({"a": {"dtype": "U8", "shape": [8], "data_offsets": [2 ** 64 - 8, 2 ** 64 - 1 + 0]}}, d8),
        "run past the end of the data section")
    add("st_missing_offsets.safetensors", st_file({"a": {"dtype": "F32", "shape": [2]}}, d8), "has no data_offsets")
    add("st_trailing_bytes.safetensors", st_file({"a": f32}, d8 + b"junk"), "4 trailing bytes")
    add("st_duplicate_name.safetensors",
        st_file(None, raw_header=b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                 b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', data=d8),
        "tensor name 'a' appears twice")
    add("st_duplicate_field.safetensors",
        st_file('{"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}', d8), "field dtype appears twice")
    add("st_nul_in_name.safetensors",
        st_file('{"a\\u0000b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', d8), "contains a NUL character")
    add("st_lone_surrogate.safetensors", st_file('{"\\ud800":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', d8),
        "lone leading surrogate")
    add("st_control_char.safetensors", st_file(None, raw_header=b'{"a\x01":1}'), "raw control character")
    add("st_metadata_not_string.safetensors", st_file({"__metadata__": {"format": 1}, "a": f32}, d8),
        "__metadata__ value for key 'format' is not a string")
    add("st_metadata_not_object.safetensors", st_file({"__metadata__": ["pt"], "a": f32}, d8),
        "__metadata__ is not an object")
    add("st_metadata_twice.safetensors", st_file('{"__metadata__":{},"__metadata__":{},"a":' + json.dumps(f32) + "}", d8),
        "__metadata__ appears twice")
    add("st_entry_not_object.safetensors", st_file('{"a":[0,8]}', d8), "entry is not an object")
    add("st_deep_nesting.safetensors",
        st_file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":' + "[" * 200 + "]" * 200 + "}}", d8),
        "nested deeper than 128")
    add("st_leading_zero.safetensors", st_file('{"a":{"dtype":"F32","shape":[02],"data_offsets":[0,8]}}', d8),
        "leading zero")
    add("st_trailing_json.safetensors", st_file('{"a":' + json.dumps(f32) + '} {}', d8), "after the end of the JSON")

    # zip archives (as torch checkpoints)
    good_obj = {"w": tensor("F32", [2, 2])}
    good, info = torch_save(good_obj)

    def patch(data, offset, fmt, *values):
        b = bytearray(data)
        struct.pack_into(fmt, b, offset, *values)
        return bytes(b)

    add("zip_truncated.pt", good[: len(good) // 2], "no zip end-of-central-directory record")
    add("zip_not_zip.pt", b"PK\x03\x04" + b"\x00" * 60, "no zip end-of-central-directory record")
    add("zip_cd_offset_past_end.pt", patch(good, info["eocd"] + 16, "<I", len(good) + 100),
        "does not end where the end record is")
    add("zip_cd_size_lies.pt", patch(good, info["eocd"] + 12, "<I", info["cd_size"] + 46),
        "does not end where the end record is")
    add("zip_too_many_entries.pt", patch(patch(good, info["eocd"] + 8, "<H", 60000), info["eocd"] + 10, "<H", 60000),
        "cannot fit")
    c1 = info["central"][-3]  # a storage: data/0
    add("zip_entry_past_cd.pt", patch(patch(good, c1 + 20, "<I", 0x7FFFFFF0), c1 + 24, "<I", 0x7FFFFFF0),
        "run past the central directory")
    add("zip_stored_sizes_differ.pt", patch(good, c1 + 24, "<I", 9999), "its sizes differ")
    add("zip_local_offset_out_of_range.pt", patch(good, c1 + 42, "<I", len(good)), "local header offset")
    # two central entries pointing at one local header
    add("zip_overlap.pt", patch(good, info["central"][1] + 42, "<I", info["local"][0]), "local header names another")
    pkl_c = info["central"][0]
    add("zip_encrypted.pt", patch(good, pkl_c + 8, "<H", 1), "is encrypted")
    add("zip_bzip2.pt", patch(good, pkl_c + 10, "<H", 12), "compression method 12")
    # a name with ".." (central and local agree: the name itself is the problem)
    evil, _ = zip_archive([("archive/../../etc/passwd", b"x"), ("archive/data.pkl", b"N.")])
    add("zip_dotdot.pt", evil, "climbs out of the archive")
    abs_, _ = zip_archive([("/etc/passwd", b"x")])
    add("zip_absolute.pt", abs_, "is an absolute path")
    dup, _ = zip_archive([("archive/data.pkl", b"N."), ("archive/data.pkl", b"N.")])
    add("zip_duplicate_name.pt", dup, "appears twice")
    # real overlap: a second central entry whose local header sits inside the first entry's data
    ov_data = b"A" * 100
    ov, ov_info = zip_archive([("archive/a", ov_data), ("archive/b", b"B")], align=0)
    inner = ov_info["local"][0] + 30 + len("archive/a") + 10
    ovb = bytearray(ov)
    fake_local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, 0, 0, 0, 0, zlib.crc32(b"B"), 1, 1, 9, 0) + b"archive/b"
    ovb[inner:inner + len(fake_local)] = fake_local
    struct.pack_into("<I", ovb, ov_info["central"][1] + 42, inner)
    add("zip_overlapping_entries.pt", bytes(ovb), "overlap")
    # deflate problems
    bad_deflate, bd_info = zip_archive([("archive/data.pkl", b"N." * 100)], deflate={"archive/data.pkl"})
    off = bd_info["local"][0] + 30 + len("archive/data.pkl") + 4 + ((-(30 + len("archive/data.pkl") + 4)) % 64)
    bdb = bytearray(bad_deflate)
    bdb[off:off + 4] = b"\xff\xff\xff\xff"
    add("zip_corrupt_deflate.pt", bytes(bdb), "corrupt deflate data")
    add("zip_deflate_bomb.pt", patch(bad_deflate, bd_info["central"][0] + 24, "<I", 900_000_000),
        "beyond what deflate can do")
    add("zip_crc_mismatch.pt", patch(good, pkl_c + 16, "<I", 0x12345678), "fails its CRC check")
    z64, z64_info = torch_save(good_obj, force_zip64=True)
    add("zip64_bad_locator.pt", patch(z64, z64_info["locator"] + 8, "<Q", 3), "no zip64 end record")
    add("zip_no_locator.pt", patch(good, info["eocd"] + 16, "<I", 0xFFFFFFFF), "no zip64 locator")

    # torch checkpoint structure
    add("ckpt_no_data_pkl.pt", torch_save(good_obj, drop={"data.pkl"})[0], "has no 'archive/data.pkl'")
    nofolder, _ = zip_archive([("data.pkl", b"N.")])
    add("ckpt_not_in_folder.pt", nofolder, "is not in a folder")
    add("ckpt_big_endian.pt", torch_save(good_obj, byteorder=b"big")[0], "big-endian")
    add("ckpt_torchscript.pt", torch_save(None, drop={"data.pkl"}, extra_records=[("constants.pkl", b"N.")])[0],
        "TorchScript")
    legacy = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    add("ckpt_legacy.pt", legacy + b"\x00" * 64, "legacy (pre-1.6) serialization format")
    tar = bytearray(1024)
    tar[0:7] = b"storage"
    tar[257:262] = b"ustar"
    add("ckpt_legacy_tar.pt", bytes(tar), "legacy tar serialization format")
    add("ckpt_bare_pickle.pt", pickle.dumps({"a": 1}, protocol=2), "bare pickle")
    add("ckpt_random.pt", bytes(range(7, 200)), "does not start like a zip archive")

    # malicious and broken pickles inside otherwise good archives
    def pk(name, body, text, proto=2):
        head = b"\x80" + bytes([proto]) if proto >= 2 else b""
        add(name, torch_save(good_obj, pkl_override=head + body)[0], text)

    pk("pk_os_system.pt", b"cos\nsystem\nq\x00X\x06\x00\x00\x00whoamiq\x01\x85q\x02Rq\x03.",
       "refuses to load: the pickle calls os.system")
    pk("pk_builtins_eval.pt", b"c__builtin__\neval\nX\x0b\x00\x00\x00print(1337)\x85R.",
       "refuses to load: the pickle calls builtins.eval")
    pk("pk_subprocess_popen.pt", b"csubprocess\nPopen\n(X\x02\x00\x00\x00lstR.",
       "refuses to load: the pickle calls subprocess.Popen")
    pk("pk_stack_global_posix.pt", b"\x8c\x05posix\x8c\x06system\x93\x8c\x02id\x85R.",
       "refuses to load: the pickle calls posix.system", proto=4)
    pk("pk_inst_os_system.pt", b"(X\x02\x00\x00\x00idios\nsystem\n.", "refuses to load: the pickle calls os.system",
       proto=0)
    pk("pk_torch_load_nested.pt", b"ctorch\nload\nX\x01\x00\x00\x00x\x85R.",
       "refuses to load: the pickle calls torch.load")
    pk("pk_getattr.pt", b"cbuiltins\ngetattr\n.", "refuses to load: the pickle calls builtins.getattr")
    pk("pk_memo_huge_index.pt", b"Nr\xf0\xff\xff\xff.", "memo index 4294967280 is past the limit")
    pk("pk_memo_never_stored.pt", b"h\x05.", "memo entry 5, which was never stored")
    # a stack that grows without bound (deflated: 2 MiB of DUP compresses to a few KiB)
    flood = torch_save(good_obj, pkl_override=b"\x80\x02N" + b"2" * (2 * 1024 * 1024) + b".", deflate=["data.pkl"])[0]
    add("pk_stack_flood.pt", flood, "stack grows past 1048576 entries")
    marks = torch_save(good_obj, pkl_override=b"\x80\x02" + b"(" * 70000 + b"N.", deflate=["data.pkl"])[0]
    add("pk_mark_flood.pt", marks, "more than 65536 open MARKs")
    pk("pk_truncated.pt", b"}q\x00(X\x03\x00\x00\x00abc", "truncated")
    pk("pk_no_stop.pt", b"N", "without a STOP opcode")
    pk("pk_bad_opcode.pt", b"\xff.", "unknown pickle opcode 0xff")
    pk("pk_protocol_9.pt", b"", "pickle protocol 9", proto=9)
    pk("pk_self_reference.pt", b"]q\x00h\x00a.", "put into itself")
    pk("pk_deep_nesting.pt", b"]" * 150 + b"a" * 149 + b".", "nested deeper than 100")
    # a = []; b = [a]; a.append(b): a cycle, which is only possible by changing a after using it
    pk("pk_cycle.pt", b"(]q\x00]q\x01h\x00a0h\x01at.", "changes a list after putting it")
    pk("pk_dict_duplicate_key.pt", b"}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02u.", "holds the key 'a' twice")
    pk("pk_ext_opcode.pt", b"\x82\x01.", "extension registry")
    pk("pk_reduce_non_callable.pt", b"X\x01\x00\x00\x00a)R.", "REDUCE calls a str")
    pk("pk_stop_leftovers.pt", b"NN.", "stops with 2 values")
    pk("pk_after_stop.pt", b"N.junk", "follow the pickle's STOP")
    pk("pk_huge_string.pt", b"X\xff\xff\xff\x7f", "truncated inside BINUNICODE")
    pk("pk_bad_utf8_string.pt", b"X\x02\x00\x00\x00\xc3\x28.", "not valid UTF-8")
    pk("pk_long_too_big.pt", b"\x8a\x0a" + b"\x01" * 10 + b".", "too large for 64 bits")
    pk("pk_build_on_int.pt", b"K\x01}b.", "BUILD on a int")
    # persistent ids and tensors
    storage_g = b"ctorch\nFloatStorage\n"
    rebuild = b"ctorch._utils\n_rebuild_tensor_v2\n"

    def tensor_pickle(key=b"0", numel=4, offset=4 * b"\x00", size=b"K\x02K\x02\x86", stride=b"K\x02K\x01\x86",
                      pid_len=5, location=b"X\x03\x00\x00\x00cpu"):
        pid = b"(X\x07\x00\x00\x00storage" + storage_g + b"X" + struct.pack("<I", len(key)) + key + location + \
              b"J" + struct.pack("<i", numel) + (b"N" if pid_len == 6 else b"") + b"tQ"
        return b"}X\x01\x00\x00\x00w" + rebuild + b"(" + pid + b"J" + offset + size + stride + \
            b"\x89ccollections\nOrderedDict\n)Rtq\x00Rs."

    pk("pk_missing_storage.pt", tensor_pickle(key=b"7"), "the archive has no 'archive/data/7'")
    pk("pk_storage_key_path.pt", tensor_pickle(key=b"../x"), "not a plain key")
    pk("pk_storage_numel_lies.pt", tensor_pickle(numel=1000), "should hold 1000 F32 elements")
    pk("pk_strides_past_storage.pt", tensor_pickle(stride=b"K\x03K\x01\x86"), "runs past the end of its storage")
    pk("pk_offset_past_storage.pt", tensor_pickle(offset=struct.pack("<i", 3)), "runs past the end of its storage")
    pk("pk_tensor_shape_overflow.pt", tensor_pickle(size=b"\x8a\x08" + b"\xff" * 7 + b"\x3f" + b"K\x10\x86"),
       "overflows")
    pk("pk_negative_stride.pt", tensor_pickle(stride=b"K\x02J\xff\xff\xff\xff\x86"), "non-negative integers")
    pk("pk_pid_six_items.pt", tensor_pickle(pid_len=6), "not ('storage', type, key, location, numel)")
    pk("pk_pid_not_tuple.pt", b"X\x07\x00\x00\x00storageQ.", "not ('storage', type, key, location, numel)")
    pk("pk_storage_called.pt", storage_g + b")R.", "builds torch.FloatStorage itself")
    return cases


def main():
    valid_files()
    cases = hostile_files()
    names = set()
    os.makedirs(HOSTILE_DIR, exist_ok=True)
    for old in os.listdir(HOSTILE_DIR):
        os.remove(os.path.join(HOSTILE_DIR, old))
    lines = []
    for name, data, text in cases:
        assert name not in names, name
        assert "\t" not in text and "\n" not in text
        names.add(name)
        write(os.path.join(HOSTILE_DIR, name), data)
        lines.append("%s\t%s\n" % (name, text))
    with open(os.path.join(HOSTILE_DIR, "EXPECTED"), "w") as f:
        f.write("# file<TAB>text its error message must contain (written by tools/gen_io_fixtures.py)\n")
        f.writelines(lines)
    print("wrote %d hostile files and the valid fixtures" % len(cases))


if __name__ == "__main__":
    main()
