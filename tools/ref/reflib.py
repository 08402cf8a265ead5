"""reflib.py — what the reference tools in tools/ref share (Python standard library only):
finding diffusers' source tree, and float32 safetensors files read and written without a package.

    import reflib
    reflib.use_diffusers(args.diffusers)   # before `import diffusers`
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def use_diffusers(path=None):
    """Puts the first folder holding the diffusers package on sys.path: path (--diffusers), then
    $VKTI_DIFFUSERS_SRC, then .ref/src, then ../shared/anchors/py. diffusers is imported from its
    source tree, never installed. Returns the folder, or None (then an installed one may be used)."""
    for c in (path, os.environ.get('VKTI_DIFFUSERS_SRC'), '.ref/src',
              os.path.join(HERE, '..', '..', '..', 'shared', 'anchors', 'py')):
        if c and os.path.isdir(os.path.join(c, 'diffusers')):
            sys.path.insert(0, c)
            return c
    return None


def write_f32_safetensors(path, tensors, meta):
    """tensors: name -> (shape, flat list of floats), written float32 little endian in name order;
    meta: the __metadata__ strings. Written to path.tmp, then renamed."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        shape, vals = tensors[name]
        b = struct.pack('<%df' % len(vals), *vals)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {k: str(v) for k, v in meta.items()}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + '.tmp', path)


def read_f32_safetensors(path):
    """name -> (shape, tuple of floats), and the __metadata__ dict, of an all-float32 file."""
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', '%s: %s is %s, not F32' % (path, name, t['dtype'])
        a, b = t['data_offsets']
        out[name] = (t['shape'], struct.unpack('<%df' % ((b - a) // 4), data[base + a:base + b]))
    return out, header.get('__metadata__', {})
