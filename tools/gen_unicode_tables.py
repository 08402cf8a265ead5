#!/usr/bin/env python3
"""gen_unicode_tables.py - writes src/io/unicode_tables.c, the Unicode data the CLIP tokenizer needs.

Run from the repository root:  python3 tools/gen_unicode_tables.py
The output is committed; rerun this script (python3 standard library only) to regenerate it. The
Unicode version is the one of the running Python's unicodedata module; it is written into the file.

What the tokenizer needs (see src/io/tokenizer.c for why):
  - a class per code point for the pre-tokenizer regex of Hugging Face's CLIPTokenizer:
      letter  = General_Category L*   (Oniguruma's \\p{L})
      number  = General_Category N*   (Oniguruma's \\p{N})
      space   = U+0009..U+000D, U+0085, General_Category Zs/Zl/Zp (Oniguruma's \\s in Unicode mode,
                which is the White_Space property)
      other   = everything else (unassigned and private use included)
  - NFC: a flag "may change under NFC or combine with what precedes it" (so NFC can be skipped for
    text made only of other characters), canonical combining classes, full canonical
    decompositions (Hangul syllables are left to the algorithm), primary composites.
  - lower-casing: the full lower-case mapping of each code point (Python's str.lower() of the
    single character, which is UnicodeData plus the unconditional SpecialCasing rules; this is what
    Rust's char::to_lowercase() implements too).
"""
import sys
import unicodedata

OUT = "src/io/unicode_tables.c"
MAX_CP = 0x110000
BLOCK = 128

CLASS_OTHER, CLASS_LETTER, CLASS_NUMBER, CLASS_SPACE = 0, 1, 2, 3
FLAG_NFC = 4      # ccc != 0, not NFC-stable, or may compose with a preceding character
FLAG_LOWER = 8    # has a lower-case mapping different from itself
FLAG_DECOMP = 16  # has a canonical decomposition (Hangul syllables excluded: algorithmic)

# Hangul constants of the Unicode standard (chapter 3.12).
S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
S_COUNT = L_COUNT * V_COUNT * T_COUNT


def is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF


def char_class(cp):
    if cp in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85):
        return CLASS_SPACE
    cat = unicodedata.category(chr(cp))
    if cat in ("Zs", "Zl", "Zp"):
        return CLASS_SPACE
    if cat[0] == "L":
        return CLASS_LETTER
    if cat[0] == "N":
        return CLASS_NUMBER
    return CLASS_OTHER


def canonical_decomposition(cp):
    """The raw (one-level) canonical decomposition from UnicodeData, or None."""
    d = unicodedata.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return None
    return [int(x, 16) for x in d.split()]


def main():
    white_space = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680] + list(range(0x2000, 0x200B)) + \
        [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    derived = [cp for cp in range(MAX_CP) if not is_surrogate(cp) and char_class(cp) == CLASS_SPACE]
    if derived != white_space:  # the PropList White_Space set has been stable since Unicode 6.3
        sys.exit("space class differs from White_Space: %s" % [hex(c) for c in derived])

    # Primary composites: a two-code-point canonical decomposition whose result survives NFC.
    compose = {}
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        d = canonical_decomposition(cp)
        if d and len(d) == 2 and unicodedata.normalize("NFC", chr(cp)) == chr(cp):
            compose[(d[0], d[1])] = cp
    second = {b for (_, b) in compose}

    props = [0] * MAX_CP
    ccc = []
    lower = []
    decomp = []
    for cp in range(MAX_CP):
        if is_surrogate(cp):
            continue
        ch = chr(cp)
        p = char_class(cp)
        c = unicodedata.combining(ch)
        if c:
            ccc.append((cp, c))
        hangul_vt = (V_BASE <= cp < V_BASE + V_COUNT) or (T_BASE < cp < T_BASE + T_COUNT)
        if c or unicodedata.normalize("NFC", ch) != ch or cp in second or hangul_vt:
            p |= FLAG_NFC
        lo = ch.lower()
        if lo != ch:
            if len(lo) > 2:
                sys.exit("lower-case mapping longer than 2 code points: U+%04X" % cp)
            p |= FLAG_LOWER
            lower.append((cp, ord(lo[0]), ord(lo[1]) if len(lo) > 1 else 0))
        if not (S_BASE <= cp < S_BASE + S_COUNT):
            nfd = unicodedata.normalize("NFD", ch)
            if nfd != ch:
                p |= FLAG_DECOMP
                if len(nfd) > 4:  # unicode.h: VKTI_UNI_MAX_DECOMP
                    sys.exit("canonical decomposition longer than 4: U+%04X" % cp)
                decomp.append((cp, [ord(x) for x in nfd]))
        props[cp] = p

    # Two-stage property table.
    blocks = {}
    stage1 = []
    stage2 = []
    for b in range(0, MAX_CP, BLOCK):
        key = tuple(props[b:b + BLOCK])
        if key not in blocks:
            blocks[key] = len(stage2) // BLOCK
            stage2.extend(key)
        stage1.append(blocks[key])
    if len(blocks) > 65535:
        sys.exit("too many blocks")

    pool = []
    decomp_rows = []
    for cp, seq in decomp:
        decomp_rows.append((cp, len(pool), len(seq)))
        pool.extend(seq)
    if len(pool) > 65535:
        sys.exit("decomposition pool too large")

    comp_rows = sorted((a, b, c) for (a, b), c in compose.items())

    def words(values, per_line, fmt):
        out = []
        for i in range(0, len(values), per_line):
            out.append("    " + ", ".join(fmt(v) for v in values[i:i + per_line]) + ",")
        return "\n".join(out)

    lines = []
    lines.append("/* unicode_tables.c - Unicode %s data for the CLIP tokenizer (classes, NFC, lower-casing)."
                 % unicodedata.unidata_version)
    lines.append(" * GENERATED by tools/gen_unicode_tables.py from Python %d.%d's unicodedata; do not edit."
                 % sys.version_info[:2])
    lines.append(" * See src/io/unicode.h for the meaning of each table. */")
    lines.append('#include "io/unicode.h"')
    lines.append("")
    lines.append('const char vkti_unicode_version[] = "%s";' % unicodedata.unidata_version)
    lines.append("")
    lines.append("/* props: bits 0-1 class (0 other, 1 letter, 2 number, 3 space), bit 2 NFC work, bit 3 lower-case, bit 4 decomposes. */")
    lines.append("const uint16_t vkti_uni_stage1[%d] = {" % len(stage1))
    lines.append(words(stage1, 16, str))
    lines.append("};")
    lines.append("const uint8_t vkti_uni_stage2[%d] = {" % len(stage2))
    lines.append(words(stage2, 32, str))
    lines.append("};")
    lines.append("")
    lines.append("/* (code point << 8) | canonical combining class, for every class != 0, sorted. */")
    lines.append("const uint32_t vkti_uni_ccc[%d] = {" % len(ccc))
    lines.append(words(["0x%x" % ((cp << 8) | c) for cp, c in ccc], 8, str))
    lines.append("};")
    lines.append("const size_t vkti_uni_ccc_count = %d;" % len(ccc))
    lines.append("")
    lines.append("/* code point, lower-case mapping (1 or 2 code points; 0 = none), sorted. */")
    lines.append("const vkti_uni_lower_row vkti_uni_lower[%d] = {" % len(lower))
    lines.append(words(["{0x%x, 0x%x, 0x%x}" % r for r in lower], 4, str))
    lines.append("};")
    lines.append("const size_t vkti_uni_lower_count = %d;" % len(lower))
    lines.append("")
    lines.append("/* full canonical decompositions (NFD of the code point), Hangul syllables excluded, sorted. */")
    lines.append("const uint32_t vkti_uni_decomp_pool[%d] = {" % len(pool))
    lines.append(words(["0x%x" % v for v in pool], 10, str))
    lines.append("};")
    lines.append("const vkti_uni_decomp_row vkti_uni_decomp[%d] = {" % len(decomp_rows))
    lines.append(words(["{0x%x, %d, %d}" % r for r in decomp_rows], 5, str))
    lines.append("};")
    lines.append("const size_t vkti_uni_decomp_count = %d;" % len(decomp_rows))
    lines.append("")
    lines.append("/* primary composites: first, second -> composite, sorted by (first, second). */")
    lines.append("const vkti_uni_comp_row vkti_uni_comp[%d] = {" % len(comp_rows))
    lines.append(words(["{0x%x, 0x%x, 0x%x}" % r for r in comp_rows], 4, str))
    lines.append("};")
    lines.append("const size_t vkti_uni_comp_count = %d;" % len(comp_rows))
    lines.append("")
    with open(OUT, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines))
    print("%s: Unicode %s, %d blocks of %d, %d ccc, %d lower, %d decompositions (%d code points), %d composites"
          % (OUT, unicodedata.unidata_version, len(blocks), BLOCK, len(ccc), len(lower), len(decomp_rows),
             len(pool), len(comp_rows)))


if __name__ == "__main__":
    main()
