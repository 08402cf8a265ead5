#!/usr/bin/env python3
"""clip_bpe_slow.py - a slow, standard-library-only CLIP tokenizer, for cross-checking vkti's C one
where transformers is not installed. It is NOT the reference (tools/ref/tokenizer_ref.py runs
transformers' CLIPTokenizer on the GPU machine and that output is what the tests trust); it is a
second implementation of the same rules written differently: the BPE step is openai/CLIP's
simple_tokenizer.py loop (lowest-rank pair first, all its occurrences left to right) rather than
the priority queue of the Rust BPE and of src/io/tokenizer.c.

Rules (see src/io/tokenizer.c for where they come from): special tokens cut from the raw text;
NFC, runs of whitespace -> " ", per-character lower-casing; normalized added tokens cut from the
normalized text; the CLIP split regex; byte-level characters; BPE with "</w>"; bos/eos; truncation
and padding.

Usage:
  python3 tools/ref/clip_bpe_slow.py --vocab-dir DIR --strings tests/data/tokenizer/strings.txt \
      --added tests/data/tokenizer/added_tokens.txt [--pad "!"] --out OUT.txt
writes one line per string in the format of tests/data/tokenizer/expected.txt (see tokenizer_ref.py).
"""
import argparse
import json
import unicodedata

SPACE, LETTER, NUMBER, OTHER = "s", "L", "N", "o"


def char_class(ch):
    cp = ord(ch)
    if cp in (9, 10, 11, 12, 13, 0x85):
        return SPACE
    cat = unicodedata.category(ch)
    if cat in ("Zs", "Zl", "Zp"):
        return SPACE
    if cat[0] == "L":
        return LETTER
    if cat[0] == "N":
        return NUMBER
    return OTHER


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()


def normalize(text):
    text = unicodedata.normalize("NFC", text)
    out = []
    prev_space = False
    for ch in text:
        if char_class(ch) == SPACE:
            if not prev_space:
                out.append(" ")
            prev_space = True
            continue
        prev_space = False
        out.append(ch.lower())  # one character at a time: no final-sigma context rule
    return "".join(out)


def split_words(text):
    """The CLIP Split regex on normalized text, then ByteLevel's regex (which only splits the two
    special strings)."""
    words = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        cls = char_class(ch)
        if cls == SPACE:
            i += 1
            continue
        matched = False
        for special, word in (("<|startoftext|>", "startoftext"), ("<|endoftext|>", "endoftext")):
            if text.startswith(special, i):
                words += ["<|", word, "|>"]
                i += len(special)
                matched = True
                break
        if matched:
            continue
        if ch == "'":
            for c in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
                if text.startswith(c, i):
                    words.append(c)
                    i += len(c)
                    matched = True
                    break
            if matched:
                continue
        j = i + 1
        if cls in (LETTER, OTHER):
            while j < n and char_class(text[j]) == cls:
                j += 1
        words.append(text[i:j])
        i = j
    return words


def find_added(text, tokens):
    """Leftmost, then longest, matches of the given (pattern, id) list: [(piece, id or None)]."""
    out = []
    done = 0
    i = 0
    while i < len(text):
        best = None
        for pattern, tid in tokens:
            if text.startswith(pattern, i) and (best is None or len(pattern) > len(best[0])):
                best = (pattern, tid)
        if best is None:
            i += 1
            continue
        if done < i:
            out.append((text[done:i], None))
        out.append((best[0], best[1]))
        i += len(best[0])
        done = i
    if done < len(text) or not out:
        out.append((text[done:], None))
    return out


class SlowClip:
    def __init__(self, vocab, merges, pad="<|endoftext|>"):
        self.vocab = vocab
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.bos = vocab["<|startoftext|>"]
        self.eos = vocab["<|endoftext|>"]
        self.raw = []  # (content, id): special tokens, matched on raw text
        self.norm = []  # (normalized content, id)
        self.next_id = len(vocab)
        for content in ("<|startoftext|>", "<|endoftext|>", pad):
            if content not in [c for c, _ in self.raw]:
                self.raw.append((content, vocab[content]))
        self.pad = vocab[pad]
        self.cache = {}

    @staticmethod
    def from_dir(path, pad="<|endoftext|>"):
        with open(path + "/vocab.json", encoding="utf-8") as f:
            vocab = json.load(f)
        merges = []
        with open(path + "/merges.txt", encoding="utf-8") as f:
            for line in f.read().split("\n"):
                if line.startswith("#version") or line == "":
                    continue
                a, b = line.split(" ")
                merges.append((a, b))
        return SlowClip(vocab, merges, pad)

    def add_token(self, content):
        tid = self.next_id
        self.next_id += 1
        self.norm.append((normalize(content), tid))
        return tid

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = {(word[k], word[k + 1]) for k in range(len(word) - 1)}
            bigram = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
        ids = [self.vocab[w] for w in word]
        self.cache[token] = ids
        return ids

    def tokenize(self, text):
        ids = []
        for piece, tid in find_added(text, self.raw):
            if tid is not None:
                ids.append(tid)
                continue
            for sub, tid2 in find_added(normalize(piece), self.norm):
                if tid2 is not None:
                    ids.append(tid2)
                    continue
                for w in split_words(sub):
                    ids += self.bpe("".join(BYTE_ENCODER[b] for b in w.encode("utf-8")))
        return ids

    def encode(self, text, length=77):
        ids = self.tokenize(text)
        full = [self.bos] + ids + [self.eos]
        cut = [self.bos] + ids[:length - 2] + [self.eos]
        return cut + [self.pad] * (length - len(cut)), full


def read_json_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f.read().split("\n") if line]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vocab-dir", required=True)
    ap.add_argument("--strings", required=True)
    ap.add_argument("--added", required=True)
    ap.add_argument("--pad", default="<|endoftext|>")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tok = SlowClip.from_dir(args.vocab_dir, args.pad)
    added = [tok.add_token(content) for content in read_json_lines(args.added)]
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# clip_bpe_slow.py (not the reference)\n# bos %d eos %d pad %d len %d\n# added %s\n"
                % (tok.bos, tok.eos, tok.pad, tok.next_id, " ".join(map(str, added))))
        for s in read_json_lines(args.strings):
            ids77, full = tok.encode(s)
            f.write(" ".join(map(str, full)) + "\n")


if __name__ == "__main__":
    main()
