#!/usr/bin/env python3
"""gen_tokenizer_data.py - writes the tokenizer test data (deterministic; python3 standard library).

Run from the repository root:  python3 tools/gen_tokenizer_data.py
Writes:
  tests/data/tokenizer/strings.txt       the strings of the identity test, one JSON string per line
  tests/data/tokenizer/added_tokens.txt  tokens added (in this order) before encoding them
  tests/data/tokenizer/tiny/vocab.json   a tiny CLIP-style vocabulary (byte symbols, byte symbols
  tests/data/tokenizer/tiny/merges.txt   + "</w>", merges learned here, <|startoftext|>, <|endoftext|>)
The expected ids come from transformers on the GPU machine: tools/ref/tokenizer_ref.py.
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ref"))
import clip_bpe_slow as clip  # noqa: E402

OUT = "tests/data/tokenizer"
SEED = 20240611
TINY_MERGES = 400

# diffusers examples/textual_inversion/textual_inversion.py (imagenet_templates_small and
# imagenet_style_templates_small, in their order, duplicates included).
OBJECT_TEMPLATES = [
    "a photo of a {}", "a rendering of a {}", "a cropped photo of the {}", "the photo of a {}",
    "a photo of a clean {}", "a photo of a dirty {}", "a dark photo of the {}", "a photo of my {}",
    "a photo of the cool {}", "a close-up photo of a {}", "a bright photo of the {}",
    "a cropped photo of a {}", "a photo of the {}", "a good photo of the {}", "a photo of one {}",
    "a close-up photo of the {}", "a rendition of the {}", "a photo of the clean {}",
    "a rendition of a {}", "a photo of a nice {}", "a good photo of a {}", "a photo of the nice {}",
    "a photo of the small {}", "a photo of the weird {}", "a photo of the large {}",
    "a photo of a cool {}", "a photo of a small {}",
]
STYLE_TEMPLATES = [
    "a painting in the style of {}", "a rendering in the style of {}",
    "a cropped painting in the style of {}", "the painting in the style of {}",
    "a clean painting in the style of {}", "a dirty painting in the style of {}",
    "a dark painting in the style of {}", "a picture in the style of {}",
    "a cool painting in the style of {}", "a close-up painting in the style of {}",
    "a bright painting in the style of {}", "a cropped painting in the style of {}",
    "a good painting in the style of {}", "a close-up painting in the style of {}",
    "a rendition in the style of {}", "a nice painting in the style of {}",
    "a small painting in the style of {}", "a weird painting in the style of {}",
    "a large painting in the style of {}",
]

# Added in this order: the placeholder, its companions for 4 vectors (diffusers names them
# <tok>_1, <tok>_2, ... and fills templates with "<tok> <tok>_1 <tok>_2 <tok>_3"), and tokens that
# probe the matching rules (upper case, an accent, a space inside).
ADDED = ["<my-cat>", "<my-cat>_1", "<my-cat>_2", "<my-cat>_3", "<cat-toy>", "<Sks-Dog>", "<café>",
         "<the thing>"]
PLACEHOLDERS = ["<my-cat>", "<my-cat> <my-cat>_1 <my-cat>_2 <my-cat>_3", "<cat-toy>", "<Sks-Dog>"]

WORDS = """masterpiece best quality photo portrait landscape painting of a the cat dog cute fluffy kitten
sitting on windowsill sunset golden hour cinematic lighting highly detailed 8k uhd trending artstation
octane render unreal engine concept art illustration digital oil canvas watercolor sketch by greg
rutkowski alphonse mucha studio ghibli anime style sharp focus bokeh depth field wide angle lens 35mm
film grain vintage retro futuristic cyberpunk neon city rain night street reflections forest mountain
lake river ocean beach waves castle dragon knight armor sword magic fantasy epic dramatic clouds sky
stars galaxy nebula space astronaut robot mech steampunk victorian gothic cathedral interior
architecture minimalist abstract surreal dreamlike whimsical colorful vibrant pastel monochrome black
white sepia hyperrealistic photorealistic realistic macro close-up bird's-eye view symmetrical
intricate ornate elegant beautiful woman man child old young smiling wearing hat red blue green yellow
purple orange pink brown gray silver gold toy plush ceramic glass wooden metal statue sculpture""".split()

PUNCT = list(".,;:!?-_'\"()[]{}<>/\\|@#$%^&*+=~`") + ["...", "!!", "?!", "--", "—", "–", "…", "“", "”", "‘",
                                                      "’", "«", "»", "·", "•", "©", "®", "™", "°", "§"]
UNI_RANGES = [
    (0x00C0, 0x00FF), (0x0100, 0x017F), (0x0391, 0x03A9), (0x03B1, 0x03C9), (0x0410, 0x044F),
    (0x05D0, 0x05EA), (0x0627, 0x064A), (0x0905, 0x0939), (0x0E01, 0x0E2E), (0x3041, 0x3096),
    (0x30A1, 0x30FA), (0x4E00, 0x9FA5), (0xAC00, 0xD7A3), (0x1F600, 0x1F64F), (0x2600, 0x26FF),
    (0x2190, 0x21FF), (0xFF01, 0xFF5E), (0x2160, 0x216F), (0x0030, 0x0039),
]
COMBINING = list(range(0x0300, 0x0370))
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2009", "\u2028", "\x0b", "\x0c", "\x85"]

EDGE = [
    "", " ", "   ", "\t\n\r ", "a", "A", "!", "!!", "!!!", "?!", "'", "''", "'s", "''s", "'sam", "s'",
    "don't", "DON'T", "it's", "IT'S", "we're", "they've", "I'm", "you'll", "he'd", "rock'n'roll",
    "can't've", "O'Neil's", "it’s", "’s", "the cat's toy", "cats' toys", "'re're're", "'ll'll",
    "2023", "3.14159", "1,000,000", "v1.5", "4k", "8k uhd", "1girl", "a1b2c3", "123abc456", "x²", "½",
    "Ⅻ Ⅻ", "١٢٣", "٣ cats", "café", "naïve", "crème brûlée", "Ångström", "cafe\u0301", "A\u030a",
    "e\u0301\u0301", "a\u0323\u0307", "a\u0307\u0323", "\u1100\u1161\u11a8", "\u1100\u1161", "가\u11a8",
    "İstanbul", "ISTANBUL", "ΣΟΦΙΑ ΟΔΟΣ", "straße", "STRASSE", "ǅemal", "ﬁne ﬂower", "Ωhm",
    "猫", "一只猫的照片", "東京タワーの夜景", "한국어 고양이", "ねこ ネコ", "中文English混合", "日本語、句読点。",
    "🐱", "🐱🐶", "a 🐱 cat", "👍🏽", "👨\u200d👩\u200d👧", "🇯🇵🇫🇷", "❤️", "⭐️✨", "😀😃😄😁",
    "قطة جميلة", "חתול", "кошка на окне", "КОШКА", "แมวน่ารัก", "बिल्ली", "Γάτα", "∑∫√∞", "→←↑↓",
    "<|startoftext|>", "<|endoftext|>", "a <|endoftext|> b", "<|startoftext|>a photo<|endoftext|>",
    "<|STARTOFTEXT|>", "<|EndOfText|>", "x<|endoftext|>!", "!<|endoftext|>", "<|endoftext|>!!",
    "<|startoftext|><|startoftext|>", "<|startoftext", "|>", "<||>", "<|endoftext|x",
    "<my-cat>", "a<my-cat>b", "<my-cat><my-cat>", "<MY-CAT>", "<My-Cat> in a box", "<my-cat>_1",
    "<my-cat>_12", "<my-cat>_", "<my-cat>_3_2", "< my-cat >", "<my-cat>s", "the <my-cat>'s toy",
    "<my-cat>,<my-cat>.", "  <my-cat>  ", "<sks-dog>", "<SKS-DOG>", "<Sks-Dog>", "<café> and <cafe\u0301>",
    "<CAFÉ>", "<the thing>", "<the  thing>", "<the\tthing>", "<THE THING>", "<thething>",
    "<cat-toy><cat-toy><my-cat>", "a photo of <cat-toy> next to <my-cat>",
    "a  photo", " leading", "trailing ", "a\tphoto\nof\r\na cat", "\u00a0nbsp\u00a0", "\u3000ideographic",
    "line\u2028separator", "next\x85line", "\x07bell", "unit\x1fsep", "zero\u200bwidth", "soft\u00adhyphen",
    "\ufeffbom", "private\ue000use", "tab\x0bvt\x0cff",
    "a" * 300, "!" * 80, "hello!!!", "wow?!", "....", "---", "___", "a.b.c", "e.g.", "i.e.,",
    "(masterpiece:1.2), best quality, [cat], {dog}", "a photo of a cat, trending on artstation, 8k, octane render",
    "https://example.com/a_b?c=d&e=f#g", "user@example.com", "#cat @user", "int main() { return 0; }",
    "\"quoted\"", "«guillemets»", "„German“", "ＡＢＣ１２３ｘｙｚ", "Ｈｅｌｌｏ", "ＣＡＴ", "Ⓐⓑⓒ", "𝐁𝐨𝐥𝐝",
    "Mc'Donald", "I'M", "WE'RE", "THEY'VE", "HE'LL", "SHE'D", "'S", "'T", "'LL",
]


def make_strings():
    rng = random.Random(SEED)
    out = []
    for tpl in OBJECT_TEMPLATES + STYLE_TEMPLATES:
        for ph in PLACEHOLDERS:
            out.append(tpl.format(ph))
    out.extend(EDGE)

    def rand_unicode_word():
        lo, hi = rng.choice(UNI_RANGES)
        w = "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.2:
            w += chr(rng.choice(COMBINING))
        return w

    def rand_word():
        r = rng.random()
        if r < 0.6:
            w = rng.choice(WORDS)
            c = rng.random()
            if c < 0.1:
                w = w.upper()
            elif c < 0.2:
                w = w.capitalize()
            return w
        if r < 0.7:
            return rng.choice(PUNCT)
        if r < 0.78:
            return str(rng.randint(0, 10 ** rng.randint(1, 6)))
        if r < 0.9:
            return rand_unicode_word()
        if r < 0.95:
            return rng.choice(ADDED) if rng.random() < 0.7 else rng.choice(ADDED).upper()
        return rng.choice(["'s", "'t", "'re", "n't", "<|endoftext|>", "<|startoftext|>", "’s"])

    def rand_text(n_words):
        parts = []
        for i in range(n_words):
            if i:
                parts.append(rng.choice(SPACES) if rng.random() < 0.15 else ("" if rng.random() < 0.1 else " "))
            parts.append(rand_word())
        return "".join(parts)

    # long prompts, over 77 tokens
    for _ in range(40):
        out.append(rand_text(rng.randint(60, 160)))
    # comma-separated prompt style
    for _ in range(150):
        tags = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(2, 12))]
        s = ", ".join(tags)
        if rng.random() < 0.3:
            s = rng.choice(OBJECT_TEMPLATES + STYLE_TEMPLATES).format(rng.choice(PLACEHOLDERS)) + ", " + s
        out.append(s)
    # random mixtures
    while len(out) < 1200:
        out.append(rand_text(rng.randint(1, 25)))
    return out


def learn_tiny_merges(corpus):
    """Byte-level BPE training on the corpus words (most frequent pair first, ties by the pair)."""
    counts = {}
    for text in corpus:
        for w in clip.split_words(clip.normalize(text)):
            sym = "".join(clip.BYTE_ENCODER[b] for b in w.encode("utf-8"))
            word = tuple(sym[:-1]) + (sym[-1] + "</w>",)
            counts[word] = counts.get(word, 0) + 1
    merges = []
    for _ in range(TINY_MERGES):
        pairs = {}
        for word, c in counts.items():
            for k in range(len(word) - 1):
                p = (word[k], word[k + 1])
                pairs[p] = pairs.get(p, 0) + c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        merges.append(best)
        new_counts = {}
        for word, c in counts.items():
            nw = []
            k = 0
            while k < len(word):
                if k < len(word) - 1 and (word[k], word[k + 1]) == best:
                    nw.append(word[k] + word[k + 1])
                    k += 2
                else:
                    nw.append(word[k])
                    k += 1
            new_counts[tuple(nw)] = new_counts.get(tuple(nw), 0) + c
        counts = new_counts
    return merges


def write_tiny(merges):
    symbols = [clip.BYTE_ENCODER[b] for b in clip.BYTE_ENCODER]  # bytes_to_unicode order
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    if len(set(vocab)) != len(vocab):
        sys.exit("tiny vocabulary has a duplicate token")
    os.makedirs(OUT + "/tiny", exist_ok=True)
    with open(OUT + "/tiny/vocab.json", "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False))
    with open(OUT + "/tiny/merges.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n" + "".join("%s %s\n" % m for m in merges))
    return len(vocab)


def write_lines(path, items):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for s in items:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    strings = make_strings()
    write_lines(OUT + "/strings.txt", strings)
    write_lines(OUT + "/added_tokens.txt", ADDED)
    corpus = [t.format(w) for t in OBJECT_TEMPLATES + STYLE_TEMPLATES for w in WORDS[:60]] + [" ".join(WORDS)]
    n_vocab = write_tiny(learn_tiny_merges(corpus))
    print("%s: %d strings, %d added tokens, tiny vocabulary of %d" % (OUT, len(strings), len(ADDED), n_vocab))


if __name__ == "__main__":
    main()
