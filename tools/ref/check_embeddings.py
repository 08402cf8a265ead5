#!/usr/bin/env python3
"""check_embeddings.py — the PyTorch side of vkti's embedding writers, for the GPU machine (torch and
safetensors there; diffusers too, used when importable). No network needed.

  --check DIR   loads every file DIR/manifest.json lists, as the tools that use embeddings load them,
                and compares every value bit for bit. vkti's writers made DIR:
                    build/release/tests/vkti_unit_embedding --write-dir DIR
                .safetensors: safetensors.torch.load_file; the layout (diffusers {token: F32 [n, w]},
                    kohya {"emb_params": [n, w]} or {"clip_l", "clip_g"}) and the metadata
                    (format "pt"; kohya's "name"; step, sd_checkpoint, sd_checkpoint_name).
                .pt: zipfile's CRC check and data/0 aligned to 64 bytes in the file;
                    AUTOMATIC1111's safe loader (modules/safe.py, restated: record names
                    data.pkl, data/<n> and version only, its RestrictedUnpickler's globals);
                    torch.load(weights_only=True), and with mmap=True as diffusers' load_state_dict
                    does; AUTOMATIC1111's dict: string_to_token {"*": 265}, string_to_param {"*":
                    F32 [n, w], contiguous, requires_grad False}, name, step, sd_checkpoint,
                    sd_checkpoint_name.
                Then the loaders' own logic: diffusers' TextualInversionLoaderMixin (token names
                <tok>, <tok>_1, ... and rows) with a stand-in tokenizer, and AUTOMATIC1111's
                create_embedding_from_data rules (restated here: A1111 is not installed).
  --make DIR    writes with torch.save itself what vkti's AUTOMATIC1111 writer must match:
                a1111_torch.pt, A1111's dict for the embedding of tests/data/embedding/
                a1111_expected.pt, saved to a buffer (archive folder "archive") as torch.save does.
                Copy it to tests/data/embedding/torch/: tests/unit/test_embedding.c then compares
                its data.pkl with vkti's byte for byte and reads it.

usage: python3 tools/ref/check_embeddings.py [--check DIR] [--make DIR]
Prints one line per check and "N passed, N failed"; exits 1 on any failure.
"""
import argparse
import collections
import io
import json
import os
import pickle
import re
import struct
import sys
import zipfile

import torch
from safetensors import safe_open
from safetensors.torch import load_file

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)
    return cond


def expected_bits(seed, counts):
    """The xorshift32 bit patterns of tests/unit/test_embedding.c (next_bits), one list per set."""
    s = seed or 1
    out = []
    for n in counts:
        bits = []
        for _ in range(n):
            s ^= (s << 13) & 0xFFFFFFFF
            s ^= s >> 17
            s ^= (s << 5) & 0xFFFFFFFF
            b = s
            if b & 0x7F800000 == 0x7F800000:
                b &= ~0x40000000 & 0xFFFFFFFF
            bits.append(b)
        out.append(bits)
    return out


def bits_of(t):
    t = t.detach().contiguous().to("cpu")
    return [x & 0xFFFFFFFF for x in t.view(torch.int32).flatten().tolist()]


def same_bits(t, want, what):
    got = bits_of(t)
    if not check(len(got) == len(want), "%s: %d values, expected %d" % (what, len(got), len(want))):
        return
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    check(not bad, "%s: %d values differ, first at %d: %08x, expected %08x" %
          (what, len(bad), bad[0] if bad else 0, got[bad[0]] if bad else 0, want[bad[0]] if bad else 0))


# AUTOMATIC1111's modules/safe.py, restated (its oldest, strictest record-name rule)
A1111_RECORDS = re.compile(r"^([^/]+)/((data/\d+)|version|(data\.pkl))$")


class A1111Unpickler(pickle.Unpickler):
    def persistent_load(self, saved_id):
        assert saved_id[0] == "storage"
        return torch.storage.TypedStorage(_internal=True)

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ["_rebuild_tensor_v2", "_rebuild_parameter"]:
            return getattr(torch._utils, name)
        if module == "torch" and name in ["FloatStorage", "HalfStorage", "IntStorage", "LongStorage",
                                          "DoubleStorage", "ByteStorage", "float32", "BFloat16Storage"]:
            return getattr(torch, name)
        raise Exception("global '%s/%s' is forbidden" % (module, name))


def a1111_safe_load(path, name):
    with zipfile.ZipFile(path) as z:
        bad = [n for n in z.namelist() if not A1111_RECORDS.match(n)]
        check(not bad, "%s: A1111's safe loader refuses the records %s" % (name, bad))
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
        if check(len(pkl) == 1, "%s: one data.pkl" % name):
            try:
                with z.open(pkl[0]) as f:
                    A1111Unpickler(f).load()
                check(True, "")
            except Exception as e:
                check(False, "%s: A1111's RestrictedUnpickler refuses it: %s" % (name, e))


class StandInTokenizer:
    """What diffusers' loader asks of a tokenizer: an empty vocabulary."""

    added_tokens_encoder = {}

    def get_vocab(self):
        return {}


def diffusers_names(entry, state_dict, want):
    """diffusers' own loader logic on the loaded dict: the tokens and rows it would add."""
    try:
        from diffusers.loaders.textual_inversion import TextualInversionLoaderMixin as M
    except Exception as e:  # diffusers absent or changed: say so, do not fail
        print("skip diffusers loader check for %s (%s)" % (entry["file"], e))
        return
    tok = StandInTokenizer()
    tokens, embs = M._retrieve_tokens_and_embeddings([None], [state_dict], tok)
    tokens, embs = M._extend_tokens_and_embeddings(tokens, embs, tok)
    n = entry["vectors"]
    names = [entry["token"]] + ["%s_%d" % (entry["token"], i) for i in range(1, n)]
    check(tokens == names, "%s: diffusers adds tokens %s, expected %s" % (entry["file"], tokens[:3], names[:3]))
    w = entry["widths"][0]
    for i, e in enumerate(embs[:n]):
        check(list(e.shape) == [w], "%s: diffusers row %d has shape %s" % (entry["file"], i, list(e.shape)))
    if len(embs) == n:
        same_bits(torch.stack(list(embs)), want[0], entry["file"] + " (diffusers rows)")


def a1111_rules(entry, data):
    """AUTOMATIC1111's create_embedding_from_data, restated: which branch takes the file, and its
    vector count and width."""
    if "string_to_param" in data:
        params = data["string_to_param"]
        params = getattr(params, "_parameters", params)
        if not check(len(params) == 1, "%s: A1111: 'embedding file has multiple terms'" % entry["file"]):
            return
        vec = next(iter(params.values()))
        shape, vectors = vec.shape[-1], vec.shape[0]
    elif "clip_g" in data and "clip_l" in data:
        shape, vectors = data["clip_g"].shape[-1] + data["clip_l"].shape[-1], data["clip_g"].shape[0]
    elif isinstance(data, dict) and isinstance(next(iter(data.values())), torch.Tensor):
        if not check(len(data) == 1, "%s: A1111: 'embedding file has multiple terms'" % entry["file"]):
            return
        vec = next(iter(data.values()))
        if vec.dim() == 1:
            vec = vec.unsqueeze(0)
        shape, vectors = vec.shape[-1], vec.shape[0]
    else:
        check(False, "%s: A1111 cannot identify the file" % entry["file"])
        return
    check(vectors == entry["vectors"] and shape == sum(entry["widths"]),
          "%s: A1111 sees %d vectors of width %d" % (entry["file"], vectors, shape))


def check_safetensors(path, entry, want):
    name = entry["file"]
    sd = load_file(path)
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
    check(meta.get("format") == "pt", "%s: metadata format is %r" % (name, meta.get("format")))
    n, widths = entry["vectors"], entry["widths"]
    if entry["format"] == "diffusers":
        check(list(sd) == [entry["token"]], "%s: keys %s, expected [token]" % (name, list(sd)))
        keys = [entry["token"]]
    elif len(widths) == 2:
        check(sorted(sd) == ["clip_g", "clip_l"], "%s: keys %s" % (name, list(sd)))
        keys = ["clip_l", "clip_g"]
        check(meta.get("name") == entry["token"], "%s: metadata name %r" % (name, meta.get("name")))
    else:
        check(list(sd) == ["emb_params"], "%s: keys %s" % (name, list(sd)))
        keys = ["emb_params"]
        check(meta.get("name") == entry["token"], "%s: metadata name %r" % (name, meta.get("name")))
    step = meta.get("step")
    check((step is None and entry["step"] is None) or step == str(entry["step"]), "%s: step %r" % (name, step))
    check(meta.get("sd_checkpoint") == entry["sd_checkpoint"], "%s: sd_checkpoint" % name)
    check(meta.get("sd_checkpoint_name") == entry["sd_checkpoint_name"], "%s: sd_checkpoint_name" % name)
    for k, key in enumerate(keys):
        t = sd.get(key)
        if not check(t is not None, "%s: no tensor %r" % (name, key)):
            continue
        check(t.dtype == torch.float32 and list(t.shape) == [n, widths[k]],
              "%s: %s is %s %s, expected float32 [%d, %d]" % (name, key, t.dtype, list(t.shape), n, widths[k]))
        same_bits(t, want[k], "%s: %s" % (name, key))
    a1111_rules(entry, sd)
    if entry["format"] == "diffusers":
        diffusers_names(entry, sd, want)


def check_pt(path, entry, want):
    name = entry["file"]
    a1111_safe_load(path, name)
    with zipfile.ZipFile(path) as z:
        check(z.testzip() is None, "%s: a zip entry fails its CRC" % name)
        info = [i for i in z.infolist() if i.filename.endswith("/data/0")]
        if check(len(info) == 1, "%s: one data/0 record" % name):
            with open(path, "rb") as f:
                f.seek(info[0].header_offset)
                head = f.read(30)
            nlen, xlen = struct.unpack("<HH", head[26:30])
            check((info[0].header_offset + 30 + nlen + xlen) % 64 == 0, "%s: data/0 not 64-byte aligned" % name)
    for mmap in (False, True):
        what = "%s (weights_only%s)" % (name, ", mmap" if mmap else "")
        try:
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
        except Exception as e:
            check(False, "%s: torch.load fails: %s" % (what, e))
            continue
        check(isinstance(data, dict) and list(data) == ["string_to_token", "string_to_param", "name", "step",
                                                        "sd_checkpoint", "sd_checkpoint_name"],
              "%s: keys %s" % (what, list(data) if isinstance(data, dict) else type(data)))
        check(data.get("string_to_token") == {"*": 265}, "%s: string_to_token" % what)
        params = data.get("string_to_param")
        if not check(isinstance(params, dict) and list(params) == ["*"], "%s: string_to_param" % what):
            continue
        t = params["*"]
        check(isinstance(t, torch.Tensor) and t.dtype == torch.float32 and
              list(t.shape) == [entry["vectors"], entry["widths"][0]] and t.is_contiguous() and not t.requires_grad,
              "%s: the tensor is %s %s" % (what, getattr(t, "dtype", None), list(getattr(t, "shape", []))))
        same_bits(t, want[0], what)
        check(data.get("name") == entry["token"], "%s: name %r" % (what, data.get("name")))
        check(data.get("step") == entry["step"], "%s: step %r" % (what, data.get("step")))
        check(data.get("sd_checkpoint") == entry["sd_checkpoint"], "%s: sd_checkpoint" % what)
        check(data.get("sd_checkpoint_name") == entry["sd_checkpoint_name"], "%s: sd_checkpoint_name" % what)
        if not mmap:
            a1111_rules(entry, data)
            diffusers_names(entry, data, want)


def run_check(folder):
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    for entry in manifest["files"]:
        path = os.path.join(folder, entry["file"])
        want = expected_bits(entry["seed"], [entry["vectors"] * w for w in entry["widths"]])
        before = failed
        if entry["file"].endswith(".safetensors"):
            check_safetensors(path, entry, want)
        else:
            check_pt(path, entry, want)
        print("%s %s" % ("ok  " if failed == before else "FAIL", entry["file"]))


def run_make(folder):
    os.makedirs(folder, exist_ok=True)
    n, w = 2, 768
    vals = [((i * 7) % 11 - 5) * 0.25 for i in range(n * w)]
    vec = torch.tensor(vals, dtype=torch.float32).reshape(n, w)
    emb = {"string_to_token": {"*": 265}, "string_to_param": {"*": vec}, "name": "<my-cat>", "step": 123456,
           "sd_checkpoint": "a9263745", "sd_checkpoint_name": "v1-5-pruned-emaonly"}
    buf = io.BytesIO()
    torch.save(emb, buf)
    out = os.path.join(folder, "a1111_torch.pt")
    with open(out, "wb") as f:
        f.write(buf.getvalue())
    print("wrote %s (torch %s)" % (out, torch.__version__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", metavar="DIR")
    ap.add_argument("--make", metavar="DIR")
    args = ap.parse_args()
    if not args.check and not args.make:
        ap.error("give --check DIR and/or --make DIR")
    print("torch %s" % torch.__version__)
    if args.make:
        run_make(args.make)
    if args.check:
        run_check(args.check)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
