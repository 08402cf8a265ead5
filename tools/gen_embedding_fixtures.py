#!/usr/bin/env python3
"""gen_embedding_fixtures.py — writes the test files for vkti's embedding formats (python3 stdlib only).

    tools/gen_embedding_fixtures.py [REPO_ROOT]

tests/data/embedding/          embedding files as other tools write them, and EXPECTED: one line per
                               file, tab-separated: file, format, container, dtype, token, vectors,
                               width, SDXL clip_g width (0 if none), step, sd_checkpoint,
                               sd_checkpoint_name, count of other metadata ("-" for none). Every
                               vector set holds the values ((i * 7) % 11 - 5) * 0.25, i = 0, 1, ...
                               in row-major order (exact in F16 and BF16 too).
  a1111_expected*.pt           what vkti's AUTOMATIC1111 writer must produce byte for byte for the
                               embeddings WRITTEN lists (torch.save of A1111's dict, archive folder
                               "archive", requires_grad False), with the records every version of
                               A1111's safe loader accepts: data.pkl, data/0, version.
tests/data/embedding/hostile/  embedding files that are valid safetensors or torch archives but no
                               valid embedding, and EXPECTED: "<file>\\t<text>", the text the error
                               message must contain.

torch.save archives come from gen_io_fixtures.py's emulation (Python's own pickler with stand-in
torch modules, the same zip layout); safetensors files are laid out as the reference writes them.
Deterministic: same files every run.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_io_fixtures as g  # noqa: E402  (sets up the stand-in torch modules)

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
EMB_DIR = os.path.join(ROOT, "tests", "data", "embedding")
HOSTILE_DIR = os.path.join(EMB_DIR, "hostile")

ALIGN = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def values(n):
    return [((i * 7) % 11 - 5) * 0.25 for i in range(n)]


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def st(tensors, metadata=None):
    """A safetensors file: tensors is {name: (dtype, shape, values or None)}; laid out as the
    reference writer does (sorted by alignment then name, header padded with spaces to 8)."""
    order = sorted(tensors, key=lambda k: (-ALIGN[tensors[k][0]], k))
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in order:
        dtype, shape, vals = tensors[name]
        if vals is None:
            vals = values(numel(shape))
        b = g.pack(dtype, vals)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    return g.st_file(header, data)


def a1111(vec, name="my-cat", step=1500, sd_checkpoint="a9263745", sd_checkpoint_name="v1-5-pruned-emaonly",
          prefix="my-cat"):
    emb = {"string_to_token": {"*": 265}, "string_to_param": {"*": vec}, "name": name, "step": step,
           "sd_checkpoint": sd_checkpoint, "sd_checkpoint_name": sd_checkpoint_name}
    return g.torch_save(emb, prefix=prefix)[0]


def valid_files():
    files = []  # (name, bytes, expected fields)

    def add(name, data, fmt, container, dtype, token, n, w0, w1=0, step="-", ck="-", ckn="-", meta=0):
        files.append((name, data, [fmt, container, dtype, token, n, w0, w1, step, ck, ckn, meta]))

    # AUTOMATIC1111, as its Embedding.save writes after training (requires_grad True)
    add("a1111_sd15.pt", a1111(g.tensor("F32", [2, 768], requires_grad=True)),
        "a1111", "PyTorch", "F32", "my-cat", 2, 768, 0, 1500, "a9263745", "v1-5-pruned-emaonly")
    # A1111 with step and hashes None (a freshly created embedding saved before any model hash)
    add("a1111_none_fields.pt", a1111(g.tensor("F32", [1, 1024]), name="style-x", step=None, sd_checkpoint=None,
                                      sd_checkpoint_name=None, prefix="style-x"),
        "a1111", "PyTorch", "F32", "style-x", 1, 1024)
    # a "name" that is no usable token (a newline in it): the token is the file's name, as in A1111
    add("a1111_bad_name.pt", a1111(g.tensor("F32", [1, 768]), name="bad\nname", step=7, sd_checkpoint=None,
                                   sd_checkpoint_name=None),
        "a1111", "PyTorch", "F32", "a1111_bad_name", 1, 768, 0, 7)
    # diffusers' textual_inversion.py: {placeholder_token: [n, 768]} with metadata {"format": "pt"}
    add("learned_embeds.safetensors", st({"<cat-toy>": ("F32", [3, 768], None)}, {"format": "pt"}),
        "diffusers", "safetensors", "F32", "<cat-toy>", 3, 768)
    # a one-vector diffusers file stored as [768] (the sd-concepts-library has these)
    add("diffusers_1d.safetensors", st({"<sks>": ("F32", [768], None)}), "diffusers", "safetensors", "F32", "<sks>",
        1, 768)
    add("diffusers_f16.safetensors", st({"<half>": ("F16", [2, 1024], None)}, {"format": "pt"}),
        "diffusers", "safetensors", "F16", "<half>", 2, 1024)
    # diffusers' learned_embeds.bin: torch.save of the same dict
    add("learned_embeds.bin", g.torch_save({"<bin-tok>": g.tensor("F32", [2, 768])}, prefix="learned_embeds")[0],
        "diffusers", "PyTorch", "F32", "<bin-tok>", 2, 768)
    # kohya sd-scripts: {"emb_params": [n, 768]} saved in fp16 with ModelSpec metadata; the token
    # is the file's name
    meta = {"modelspec.sai_model_spec": "1.0.0", "modelspec.architecture": "stable-diffusion-v1/textual-inversion",
            "modelspec.implementation": "https://github.com/Stability-AI/generative-models",
            "modelspec.title": "kohya-tok"}
    add("kohya-tok.safetensors", st({"emb_params": ("F16", [4, 768], None)}, meta),
        "kohya", "safetensors", "F16", "kohya-tok", 4, 768, meta=4)
    add("kohya_bf16.safetensors", st({"emb_params": ("BF16", [1, 1024], None)}),
        "kohya", "safetensors", "BF16", "kohya_bf16", 1, 1024)
    # kohya's .pt: torch.save({"emb_params": ...})
    add("kohya_pt.pt", g.torch_save({"emb_params": g.tensor("F32", [3, 768])}, prefix="kohya_pt")[0],
        "kohya", "PyTorch", "F32", "kohya_pt", 3, 768)
    # SDXL (kohya's sdxl_train_textual_inversion.py, what ComfyUI and A1111 load)
    add("sdxl_emb.safetensors", st({"clip_l": ("F32", [2, 768], None), "clip_g": ("F32", [2, 1280], None)}),
        "kohya", "safetensors", "F32", "sdxl_emb", 2, 768, 1280)
    # a name in the metadata (as vkti writes kohya files) wins over the file's name
    add("named.safetensors", st({"emb_params": ("F32", [1, 768], None)},
                                {"format": "pt", "name": "<real-name>", "step": "250", "sd_checkpoint": "0123abcd"}),
        "kohya", "safetensors", "F32", "<real-name>", 1, 768, 0, 250, "0123abcd")
    return files


# What vkti's A1111 writer must produce for these embeddings (values from values(); the test builds
# the same embeddings): torch.save of A1111's dict, requires_grad False, archive folder "archive".
WRITTEN = [
    # file, token, n, width, step, sd_checkpoint, sd_checkpoint_name
    ("a1111_expected.pt", "<my-cat>", 2, 768, 123456, "a9263745", "v1-5-pruned-emaonly"),
    # name "*": CPython's one-character str is the key's object, so the pickle fetches it from the memo
    ("a1111_expected_star.pt", "*", 1, 4, None, None, None),
    ("a1111_expected_unicode.pt", "<caf\u00e9-\u732b>", 3, 5, 0, "ff", "caf\u00e9 \U0001F431 model"),
]


def written_files():
    out = []
    for name, token, n, w, step, ck, ckn in WRITTEN:
        vec = g.Tensor(g.Storage("F32", values(n * w)), [n, w])
        emb = {"string_to_token": {"*": 265}, "string_to_param": {"*": vec}, "name": token, "step": step,
               "sd_checkpoint": ck, "sd_checkpoint_name": ckn}
        # the records A1111's safe loader accepts in every version: data.pkl, data/<n>, version
        out.append((name, g.torch_save(emb, drop={".format_version", ".storage_alignment", "byteorder",
                                                  ".data/serialization_id"})[0]))
    return out


def hostile_files():
    cases = []

    def add(name, data, text):
        cases.append((name, data, text))

    f32 = lambda shape, vals=None: ("F32", shape, vals)  # noqa: E731
    add("dtype_int.safetensors", st({"<t>": ("I32", [1, 8], list(range(8)))}), "is I32 [1, 8]; an embedding's vectors are floating point")
    add("dtype_bool.safetensors", st({"emb_params": ("BOOL", [1, 8], [True] * 8)}), "is BOOL [1, 8]")
    add("rank3.safetensors", st({"<t>": f32([1, 2, 8])}), "is F32 [1, 2, 8]; an embedding is [vectors, width]")
    add("scalar.safetensors", st({"<t>": f32([])}), "is F32 []; an embedding is [vectors, width]")
    add("no_vectors.safetensors", st({"<t>": f32([0, 768])}), "it holds no vectors")
    add("zero_width.safetensors", st({"emb_params": f32([2, 0])}), "vectors of width 0")
    add("too_many_vectors.safetensors", st({"<t>": f32([76, 4])}), "76 vectors, but a prompt has room for at most 75")
    add("too_wide.safetensors", st({"<t>": f32([1, 16385])}), "vectors of width 16385")
    nan = values(16)
    nan[11] = float("nan")
    add("nan.safetensors", st({"<t>": f32([2, 8], nan)}), "vector 1, element 3 is NaN")
    inf = values(16)
    inf[2] = float("-inf")
    add("inf.pt", a1111(g.Tensor(g.Storage("F32", inf), [2, 8])), "vector 0, element 2 is -inf")
    add("two_tensors.safetensors", st({"<a>": f32([1, 8]), "<b>": f32([1, 8])}),
        "holds 2 tensors ('<a>', '<b>'), but an embedding holds one")
    add("no_tensors.safetensors", st({}, {"format": "pt"}), "holds no tensors")
    add("emb_params_and_more.safetensors", st({"emb_params": f32([1, 8]), "extra": f32([1, 8])}),
        "holds 2 tensors")
    add("clip_l_only.safetensors", st({"clip_l": f32([1, 8])}), "holds 1 tensor ('clip_l')")
    add("sdxl_count_mismatch.safetensors", st({"clip_l": f32([2, 8]), "clip_g": f32([3, 12])}),
        "clip_l holds 2 vectors but clip_g 3")
    model = {"model.diffusion_model.%d.weight" % i: f32([2, 2]) for i in range(6)}
    add("model.safetensors", st(model), "holds 6 tensors ('model.diffusion_model.0.weight', "
                                        "'model.diffusion_model.1.weight', 'model.diffusion_model.2.weight' and 3 more)")
    add("control_token.safetensors", st({"a\u001bb": f32([1, 8])}), "holds a control character")
    add("long_token.safetensors", st({"t" * 300: f32([1, 8])}), "is 300 bytes long; vkti takes at most 256")
    add("a1111_two_terms.pt", g.torch_save({"string_to_token": {"*": 265, "+": 266},
                                            "string_to_param": {"*": g.tensor("F32", [1, 8]), "+": g.tensor("F32", [1, 8])},
                                            "name": "two"})[0],
        "string_to_param holds 2 tensors; an AUTOMATIC1111 embedding holds one (under '*')")
    add("a1111_param_not_tensor.pt", g.torch_save({"string_to_param": {"*": 5}, "name": "x"})[0],
        "string_to_param holds a value of type int where a tensor belongs")
    add("a1111_param_list.pt", g.torch_save({"string_to_param": [g.tensor("F32", [1, 8])], "name": "x"})[0],
        "string_to_param is a list, not a dict of tensors")
    add("a1111_empty_params.pt", g.torch_save({"string_to_param": {}, "name": "x"})[0],
        "string_to_param is empty")
    add("a1111_f64_nan.pt", a1111(g.Tensor(g.Storage("F64", [float("nan")] + values(7)), [1, 8])),
        "vector 0, element 0 is NaN")
    add("root_list.pt", g.torch_save([g.tensor("F32", [1, 8])])[0], "the saved object is a list, not a dict")
    add("dict_with_int.pt", g.torch_save({"<t>": g.tensor("F32", [1, 8]), "step": 5})[0],
        "a dict of 2 entries, 1 of them not tensors, and no string_to_param")
    add("dtype_int.pt", g.torch_save({"<t>": g.tensor("I64", [1, 8])})[0], "is I64 [1, 8]")
    add("random.bin", bytes((i * 73 + 11) % 256 for i in range(64)), "not an embedding file: neither safetensors nor a "
                                                                       "PyTorch archive")
    add("empty.pt", b"", "an empty file (0 bytes)")
    add("legacy.pt", g.pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + b"\x00" * 32,
        "legacy (pre-1.6) serialization format")
    add("os_system.pt", g.torch_save({"x": 1}, pkl_override=b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00idR.")[0],
        "the pickle calls os.system")
    add("truncated.safetensors", st({"<t>": f32([2, 8])})[:-9], "run past the end of the data section")
    return cases


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    for d in (EMB_DIR, HOSTILE_DIR):
        if os.path.isdir(d):
            for old in os.listdir(d):
                if os.path.isfile(os.path.join(d, old)):
                    os.remove(os.path.join(d, old))
    lines = ["# file\tformat\tcontainer\tdtype\ttoken\tvectors\twidth\tclip_g width\tstep\tsd_checkpoint\t"
             "sd_checkpoint_name\tother metadata (written by tools/gen_embedding_fixtures.py)\n"]
    for name, data, fields in valid_files():
        write(os.path.join(EMB_DIR, name), data)
        lines.append("\t".join([name] + [("-" if f is None else str(f)) for f in fields]) + "\n")
    with open(os.path.join(EMB_DIR, "EXPECTED"), "w") as f:
        f.writelines(lines)
    for name, data in written_files():
        write(os.path.join(EMB_DIR, name), data)
    lines = ["# file\ttext its error message must contain (written by tools/gen_embedding_fixtures.py)\n"]
    names = set()
    for name, data, text in hostile_files():
        assert name not in names and "\t" not in text
        names.add(name)
        write(os.path.join(HOSTILE_DIR, name), data)
        lines.append("%s\t%s\n" % (name, text))
    with open(os.path.join(HOSTILE_DIR, "EXPECTED"), "w") as f:
        f.writelines(lines)
    print("wrote %d embedding fixtures, %d expected A1111 files, %d hostile files" %
          (len(valid_files()), len(WRITTEN), len(names)))


if __name__ == "__main__":
    main()
