#!/usr/bin/env python3
"""tokenizer_ref.py - the expected ids of the tokenizer identity test, from transformers' CLIPTokenizer.

Run on the GPU machine (it has transformers and tokenizers), from the repository root:
  python3 tools/ref/tokenizer_ref.py --clip DIR [--out tests/data/tokenizer]
DIR holds a copy of the real CLIP vocab.json and merges.txt (e.g. .gl/clip, git-ignored).

For each variant it builds a folder holding vocab.json + merges.txt (+ the variant's configs from
tests/data/tokenizer/config_<variant>/), loads CLIPTokenizer.from_pretrained(folder), adds the tokens
of tests/data/tokenizer/added_tokens.txt with add_tokens() (as diffusers' textual_inversion.py does),
and encodes every string of tests/data/tokenizer/strings.txt. Variants and files written:
  plain -> expected.txt       vocab.json + merges.txt only
  sd1   -> expected_sd1.txt   + the SD 1.x tokenizer_config.json / special_tokens_map.json
  sd2   -> expected_sd2.txt   + the SD 2.x ones (pad_token "!")
  atd   -> expected_atd.txt   + a tokenizer_config.json with added_tokens_decoder
  tiny  -> expected_tiny.txt  the committed tiny vocabulary (tests/data/tokenizer/tiny)
Format: "#" header lines (versions, ids of bos/eos/pad, added token ids), then one line per string:
the ids of tokenizer(s)["input_ids"] without padding or truncation (bos ... eos). This script checks
for every string that tokenizer(s, padding="max_length", truncation=True, max_length=77) equals
bos + the first 75 of those + eos + pad ids; where it does not, the line gets " | " and the 77 ids.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

VARIANTS = [("plain", None, False), ("sd1", "config_sd1", False), ("sd2", "config_sd2", False),
            ("atd", "config_atd", False), ("tiny", None, True)]


def read_json_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f.read().split("\n") if line]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", required=True, help="folder with the real CLIP vocab.json and merges.txt")
    ap.add_argument("--out", default="tests/data/tokenizer")
    args = ap.parse_args()

    import tokenizers
    import transformers
    from transformers import CLIPTokenizer

    data = "tests/data/tokenizer"
    strings = read_json_lines(os.path.join(data, "strings.txt"))
    added = read_json_lines(os.path.join(data, "added_tokens.txt"))
    bad = 0
    for variant, config, tiny in VARIANTS:
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(data, "tiny") if tiny else args.clip
            for f in ("vocab.json", "merges.txt"):
                shutil.copy(os.path.join(src, f), tmp)
            if config:
                for f in os.listdir(os.path.join(data, config)):
                    shutil.copy(os.path.join(data, config, f), tmp)
            tok = CLIPTokenizer.from_pretrained(tmp)
            n_added = tok.add_tokens(added)
            if n_added != len(added):
                sys.exit("%s: add_tokens added %d of %d tokens" % (variant, n_added, len(added)))
            ids_added = tok.convert_tokens_to_ids(added)
            lines = [
                "# transformers %s, tokenizers %s, %s, variant %s" % (transformers.__version__, tokenizers.__version__,
                                                                     type(tok).__name__, variant),
                "# bos %d eos %d pad %d len %d" % (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, len(tok)),
                "# added " + " ".join(map(str, ids_added)),
            ]
            mismatched = 0
            for s in strings:
                full = tok(s)["input_ids"]
                ids77 = tok(s, padding="max_length", truncation=True, max_length=77)["input_ids"]
                rule = [full[0]] + full[1:-1][:75] + [full[-1]]
                rule += [tok.pad_token_id] * (77 - len(rule))
                line = " ".join(map(str, full))
                if ids77 != rule:
                    line += " | " + " ".join(map(str, ids77))
                    mismatched += 1
                lines.append(line)
            name = "expected.txt" if variant == "plain" else "expected_%s.txt" % variant
            with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="\n") as f:
                f.write("\n".join(lines) + "\n")
            print("%s: %s, %d strings, bos %d eos %d pad %d, added %s, %d lines break the bos+75+eos+pad rule"
                  % (name, variant, len(strings), tok.bos_token_id, tok.eos_token_id, tok.pad_token_id,
                     ids_added, mismatched))
            bad += mismatched
    if bad:
        print("note: %d lines carry explicit 77-id rows" % bad)


if __name__ == "__main__":
    main()
