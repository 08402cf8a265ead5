#!/usr/bin/env python3
"""check_safetensors.py — the Python side of vkti's model-file tests, for the GPU machine (it has
torch and safetensors; no network needed).

  --check DIR   loads every file DIR/expected.json lists (vkti's writer made them: the unit test
                test_safetensors leaves DIR = $VKTI_BUILD_DIR/st_out) with safetensors.torch.load_file
                and compares dtypes, shapes, every value and the metadata; exits 1 on any difference.
  --make DIR    writes, with torch.save itself and Python's safetensors, fixtures for vkti's readers
                plus DIR/expected.json describing them: tensors.pt (every dtype, views sharing a
                storage, a transpose, a scalar, an empty tensor), tensors_p4.pt (pickle protocol 4),
                sd_tiny.ckpt (a Lightning-style dict around a real nn.Module state_dict),
                a1111_embedding.pt (AUTOMATIC1111's embedding dict), paramdict_embedding.pt (the
                original textual-inversion format with an nn.ParameterDict), ref.safetensors, and
                two files vkti must refuse: legacy.pt (the pre-1.6 format) and refused_global.pt
                (a torch.device inside). Copy DIR's files to tests/data/torch/ in the repository:
                tests/unit/test_ckpt.c then checks them.

usage: python3 tools/ref/check_safetensors.py [--check DIR] [--make DIR]
"""
import argparse
import collections
import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
         torch.bool: "BOOL"}


def values(t):
    return [float(x) for x in t.detach().to(torch.float64).flatten().tolist()]


def describe(t):
    return {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": values(t)}


def check(dir_):
    with open(os.path.join(dir_, "expected.json")) as f:
        expected = json.load(f)
    total = 0
    for name, spec in expected.items():
        bad = 0
        path = os.path.join(dir_, name)
        try:
            got = load_file(path)
            with safe_open(path, framework="pt") as f:
                meta = f.metadata() or {}
        except Exception as e:  # the reference refusing vkti's file is the failure being looked for
            print("FAIL %s: safetensors cannot load it: %s" % (name, e))
            total += 1
            continue
        if set(got) != set(spec["tensors"]):
            print("FAIL %s: tensors %s, expected %s" % (name, sorted(got), sorted(spec["tensors"])))
            bad += 1
        for tname, want in spec["tensors"].items():
            t = got.get(tname)
            if t is None:
                continue
            problems = []
            if NAMES[t.dtype] != want["dtype"]:
                problems.append("dtype %s, expected %s" % (NAMES[t.dtype], want["dtype"]))
            if list(t.shape) != want["shape"]:
                problems.append("shape %s, expected %s" % (list(t.shape), want["shape"]))
            elif values(t) != [float(v) for v in want["values"]]:
                problems.append("values differ: %s vs %s" % (values(t)[:8], want["values"][:8]))
            for p in problems:
                print("FAIL %s: %r: %s" % (name, tname, p))
            bad += len(problems)
        if meta != spec.get("metadata", {}):
            print("FAIL %s: metadata %r, expected %r" % (name, meta, spec.get("metadata")))
            bad += 1
        print("%s %s: %d tensors, %d metadata keys" % ("ok  " if not bad else "FAIL", name, len(got), len(meta)))
        total += bad
    print("check: %d problems" % total)
    return total == 0


def make(dir_):
    os.makedirs(dir_, exist_ok=True)
    torch.manual_seed(0)
    expected = {}

    def small(shape, dtype):
        if dtype.is_floating_point:
            return (torch.randn(shape) * 4).round().div(4).to(dtype)  # quarters: exact in every float type
        if dtype == torch.bool:
            return torch.rand(shape) > 0.5
        lo, hi = (0, 255) if dtype == torch.uint8 else (-100, 100)
        return torch.randint(lo, hi, shape).to(dtype)

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    tensors = {NAMES[dt].lower(): small((2, 3), dt) for dt in NAMES}
    tensors.update({
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 5),
        "whole": base,
        "transposed": base.t(),
        "row_slice": base[1:3, 1:3],
        "grad": torch.tensor([1.0, -2.0], requires_grad=True),
        "cuda_like_param": torch.nn.Parameter(torch.ones(3)),
    })
    for fname, proto in (("tensors.pt", 2), ("tensors_p4.pt", 4)):
        torch.save(tensors, os.path.join(dir_, fname), pickle_protocol=proto)
        expected[fname] = {"path": [], "tensors": {k: describe(v) for k, v in tensors.items()}}

    class Holder(torch.nn.Module):
        pass

    m = Holder()
    m.model = Holder()
    m.model.diffusion_model = torch.nn.Conv2d(4, 4, 3)
    m.cond_stage_model = torch.nn.Embedding(10, 8).half()
    m.first_stage_model = torch.nn.Linear(4, 3)
    sd = m.state_dict()
    ckpt = {"epoch": 6, "global_step": 470000, "pytorch-lightning_version": "1.4.2", "state_dict": sd}
    torch.save(ckpt, os.path.join(dir_, "sd_tiny.ckpt"))
    expected["sd_tiny.ckpt"] = {"path": ["state_dict"], "tensors": {k: describe(v) for k, v in sd.items()},
                                "scalars": {"global_step": 470000, "epoch": 6}}

    vec = small((2, 16), torch.float32).requires_grad_(True)
    emb = {"string_to_token": {"*": 265}, "string_to_param": {"*": vec}, "name": "my-cat", "step": 1500,
           "sd_checkpoint": "a9263745", "sd_checkpoint_name": "v1-5-pruned-emaonly"}
    torch.save(emb, os.path.join(dir_, "a1111_embedding.pt"))
    expected["a1111_embedding.pt"] = {"path": ["string_to_param"], "tensors": {"*": describe(vec)},
                                      "scalars": {"name": "my-cat", "step": 1500, "sd_checkpoint": "a9263745",
                                                  "string_to_token.*": 265}}

    pvec = small((1, 16), torch.float32)
    pd = torch.nn.ParameterDict({"*": torch.nn.Parameter(pvec.clone())})
    torch.save({"string_to_token": {"*": 265}, "string_to_param": pd}, os.path.join(dir_, "paramdict_embedding.pt"))
    expected["paramdict_embedding.pt"] = {"path": ["string_to_param"], "paramdict": True,
                                          "tensors": {"*": describe(pvec)}, "scalars": {"string_to_token.*": 265}}

    plain = {k: v.detach().contiguous() for k, v in tensors.items() if k not in ("transposed", "row_slice", "whole")}
    save_file(plain, os.path.join(dir_, "ref.safetensors"), metadata={"format": "pt", "source": "python"})
    expected["ref.safetensors"] = {"tensors": {k: describe(v) for k, v in plain.items()},
                                   "metadata": {"format": "pt", "source": "python"}}

    torch.save({"w": base}, os.path.join(dir_, "legacy.pt"), _use_new_zipfile_serialization=False)
    expected["legacy.pt"] = {"error": "legacy (pre-1.6) serialization format"}
    torch.save({"w": base, "device": torch.device("cpu")}, os.path.join(dir_, "refused_global.pt"))
    expected["refused_global.pt"] = {"error": "refuses to load: the pickle calls torch.device"}

    with open(os.path.join(dir_, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    # the reference loads its own files back (a sanity check of this script)
    for name in ("tensors.pt", "sd_tiny.ckpt", "a1111_embedding.pt"):
        torch.load(os.path.join(dir_, name), weights_only=True)
    print("make: wrote %d files to %s (torch %s)" % (len(expected), dir_, torch.__version__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", metavar="DIR")
    ap.add_argument("--make", metavar="DIR")
    a = ap.parse_args()
    if not a.check and not a.make:
        ap.error("give --check DIR and/or --make DIR")
    ok = True
    if a.make:
        make(a.make)
    if a.check:
        ok = check(a.check)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
