/* test_tokenizer.c — the CLIP tokenizer (src/io/tokenizer.c), its Unicode (src/io/unicode.c), gzip
 * reading (src/io/gzip.c) and the tokenizer search (src/io/tokenizer_find.c).
 *
 * - Unicode: classes, lower-casing, NFC cases (expected values from Python's unicodedata).
 * - A hand-made micro vocabulary, built in memory, whose ids follow by hand from the BPE rules:
 *   merge order, "</w>", unknown bytes, added tokens, special tokens and their configuration,
 *   truncation, padding, decoding.
 * - Hostile vocab.json / merges.txt / configs / gzip files: each one clear error, no crash.
 * - The committed tiny vocabulary (tests/data/tokenizer/tiny): loads, hand-checked cases, and all
 *   strings against expected_tiny.txt when present.
 * - The real CLIP vocabulary (found at $VKTI_CLIP_VOCAB, ../shared/clip or ../../shared/clip
 *   relative to the source dir, or .gl/clip; skipped with a message when absent): vocab.json +
 *   merges.txt and bpe_simple_vocab_16e6.txt.gz give the same tokenizer; hand-verified cases; every
 *   string of tests/data/tokenizer/strings.txt against the ids transformers gives
 *   (expected*.txt from tools/ref/tokenizer_ref.py) when those files exist; speed.
 *   VKTI_TOKENIZER_CROSSCHECK=FILE compares with another file of that format (e.g. the output of
 *   tools/ref/clip_bpe_slow.py) as well (see test_crosscheck for the variables that go with it).
 * - The search: --tokenizer, the model's folder, a fake Hugging Face cache, the failure message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "base/platform.h"
#include "io/gzip.h"
#include "io/tokenizer.h"
#include "io/tokenizer_find.h"
#include "io/unicode.h"

typedef struct tc {
    int pass, fail;
    vkti_diag d;
    char src[2048];  /* the source directory */
    char tmp[2048];  /* a scratch directory */
} tc;

static void check(tc *c, int ok, const char *file, int line, const char *fmt, ...) VKTI_PRINTF(5, 6);
static void check(tc *c, int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        c->pass++;
        return;
    }
    c->fail++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "FAIL %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
}
#define CHECK(c, ok, ...) check((c), (ok), __FILE__, __LINE__, __VA_ARGS__)

static int same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static void ids_str(const int32_t *ids, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && o + 16 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? " " : "", (int)ids[i]);
}

/* Tokenizes (no bos/eos) and compares with want[0..nw). */
static void expect_tokens(tc *c, vkti_tokenizer *t, const char *text, const int32_t *want, size_t nw, int line)
{
    int32_t *got = NULL;
    size_t ng = 0;
    int rc = vkti_tokenizer_tokenize(&c->d, t, text, &got, &ng);
    char a[1024], b[1024];
    ids_str(got, ng, a, sizeof a);
    ids_str(want, nw, b, sizeof b);
    check(c, rc == 0 && same_ids(got, ng, want, nw), __FILE__, line, "tokenize \"%s\": got [%s], want [%s] %s", text, a,
          b, rc ? c->d.msg : "");
    free(got);
}
#define EXPECT(c, t, text, ...)                                                                                       \
    do {                                                                                                              \
        static const int32_t want_[] = {__VA_ARGS__};                                                                \
        expect_tokens((c), (t), (text), want_, sizeof want_ / sizeof want_[0], __LINE__);                             \
    } while (0)
#define EXPECT_NONE(c, t, text) expect_tokens((c), (t), (text), NULL, 0, __LINE__)

/* ------------------------------------------------------------------------------------------ */

static void test_unicode(tc *c)
{
    static const struct { uint32_t cp; int cls; } classes[] = {
        {'a', VKTI_UNI_LETTER}, {'Z', VKTI_UNI_LETTER}, {'1', VKTI_UNI_NUMBER}, {' ', VKTI_UNI_SPACE},
        {'\t', VKTI_UNI_SPACE}, {'!', VKTI_UNI_OTHER}, {'\'', VKTI_UNI_OTHER}, {0xE9, VKTI_UNI_LETTER},
        {0x732B, VKTI_UNI_LETTER}, {0x663, VKTI_UNI_NUMBER}, {0x216B, VKTI_UNI_NUMBER}, {0xB2, VKTI_UNI_NUMBER},
        {0x85, VKTI_UNI_SPACE}, {0xA0, VKTI_UNI_SPACE}, {0x3000, VKTI_UNI_SPACE}, {0x2028, VKTI_UNI_SPACE},
        {0x200B, VKTI_UNI_OTHER}, {0x1F431, VKTI_UNI_OTHER}, {0x301, VKTI_UNI_OTHER}, {0x1C, VKTI_UNI_OTHER},
        {0xE000, VKTI_UNI_OTHER}, {0x10FFFF, VKTI_UNI_OTHER}, {0x110000, VKTI_UNI_OTHER},
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        CHECK(c, vkti_uni_class(classes[i].cp) == classes[i].cls, "class of U+%04X: %d, want %d",
              (unsigned)classes[i].cp, vkti_uni_class(classes[i].cp), classes[i].cls);
    static const struct { uint32_t cp, lo0, lo1; } lowers[] = {
        {'A', 'a', 0}, {'a', 'a', 0}, {0x130, 'i', 0x307}, {0x3A3, 0x3C3, 0}, {0x216B, 0x217B, 0},
        {0xFF21, 0xFF41, 0}, {0xDF, 0xDF, 0}, {0x1C5, 0x1C6, 0}, {0x410, 0x430, 0}, {0x1E9E, 0xDF, 0},
    };
    for (size_t i = 0; i < sizeof lowers / sizeof lowers[0]; i++) {
        uint32_t o[2] = {0, 0};
        int n = vkti_uni_to_lower(lowers[i].cp, o);
        CHECK(c, n == (lowers[i].lo1 ? 2 : 1) && o[0] == lowers[i].lo0 && (n == 1 || o[1] == lowers[i].lo1),
              "lower of U+%04X", (unsigned)lowers[i].cp);
    }
    /* NFC: inputs and results from Python's unicodedata.normalize("NFC", ...) */
    static const struct { uint32_t in[4]; size_t nin; uint32_t out[4]; size_t nout; } nfc[] = {
        {{0x63, 0x61, 0x66, 0x65}, 4, {0x63, 0x61, 0x66, 0x65}, 4},
        {{0x65, 0x301}, 2, {0xE9}, 1},
        {{0x41, 0x30A}, 2, {0xC5}, 1},
        {{0x1100, 0x1161, 0x11A8}, 3, {0xAC01}, 1},
        {{0x65, 0x301, 0x301}, 3, {0xE9, 0x301}, 2},
        {{0x61, 0x323, 0x307}, 3, {0x1EA1, 0x307}, 2},
        {{0x61, 0x307, 0x323}, 3, {0x1EA1, 0x307}, 2},
        {{0x212B}, 1, {0xC5}, 1},
        {{0x344}, 1, {0x308, 0x301}, 2},
        {{0x958}, 1, {0x915, 0x93C}, 2},
        {{0x301, 0x61}, 2, {0x301, 0x61}, 2},
        {{0xAC00, 0x11A8}, 2, {0xAC01}, 1},
        {{0x1E0B, 0x323}, 2, {0x1E0D, 0x307}, 2},
        {{0x71, 0x307, 0x323}, 3, {0x71, 0x323, 0x307}, 3},
        {{0xC5, 0x301}, 2, {0x1FA}, 1},
    };
    for (size_t i = 0; i < sizeof nfc / sizeof nfc[0]; i++) {
        uint32_t work[4 * 4 + 4];
        size_t n = 0;
        vkti_uni_nfc(nfc[i].in, nfc[i].nin, work, &n);
        CHECK(c, n == nfc[i].nout && memcmp(work, nfc[i].out, n * sizeof(uint32_t)) == 0, "NFC case %zu", i);
    }
    static const char *const bad_utf8[] = {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\x80",
                                           "\xFF", "a\xC3"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++)
        CHECK(c, !vkti_utf8_valid((const uint8_t *)bad_utf8[i], strlen(bad_utf8[i])), "invalid UTF-8 case %zu", i);
    CHECK(c, vkti_utf8_valid((const uint8_t *)"a\xC3\xA9\xE7\x8C\xAB\xF0\x9F\x90\xB1", 10), "valid UTF-8");
}

/* ------------------------------------------------------------------------------------------ */
/* the micro vocabulary: ids by hand                                                          */

static const char micro_vocab[] =
    "{\"a\": 0, \"b\": 1, \"c\": 2, \"a</w>\": 3, \"b</w>\": 4, \"c</w>\": 5, \"ab\": 6, \"bc</w>\": 7,"
    " \"abc</w>\": 8, \"<|startoftext|>\": 9, \"<|endoftext|>\": 10, \"!\": 11, \"!</w>\": 12}";
/* ranks: 0 a+b, 1 b+c</w>, 2 ab+c</w>, 3 a+bc</w> (also gives abc</w>) */
static const char micro_merges[] = "#version: 0.2\na b\nb c</w>\nab c</w>\na bc</w>\n";

static vkti_tokenizer *micro(tc *c, const char *config, const char *map)
{
    vkti_tokenizer *t = NULL;
    int rc = vkti_tokenizer_from_memory(&c->d, "micro", micro_vocab, strlen(micro_vocab), micro_merges,
                                        strlen(micro_merges), config, map, &t);
    CHECK(c, rc == 0 && t, "micro vocabulary loads: %s", c->d.msg);
    return t;
}

static void test_micro(tc *c)
{
    vkti_tokenizer *t = micro(c, NULL, NULL);
    if (!t)
        return;
    CHECK(c, vkti_tokenizer_vocab_size(t) == 13 && vkti_tokenizer_bos(t) == 9 && vkti_tokenizer_eos(t) == 10 &&
                 vkti_tokenizer_pad(t) == 10,
          "micro: sizes and special ids");
    EXPECT(c, t, "abc", 8);        /* a b c</w> -> ab c</w> (rank 0) -> abc</w> (rank 2) */
    EXPECT(c, t, "bc", 7);         /* b c</w> -> bc</w> */
    EXPECT(c, t, "a", 3);          /* a</w> */
    EXPECT(c, t, "ab", 0, 4);      /* a b</w>: no merge for (a, b</w>) */
    EXPECT(c, t, "cab", 2, 0, 4);  /* c a b</w>: none applies */
    EXPECT(c, t, "abbc", 6, 7);    /* a b b c</w>: rank 0 at 0, then rank 1 at 2 -> ab bc</w> */
    EXPECT(c, t, "ABC", 8);        /* lower-cased first */
    EXPECT(c, t, "a b", 3, 4);
    EXPECT(c, t, "  a\t\n b  ", 3, 4);
    EXPECT(c, t, "x", 10);         /* no symbol for x or x</w>: unk (= <|endoftext|>) */
    EXPECT(c, t, "xx", 10, 10);    /* not fused */
    EXPECT(c, t, "a!", 3, 12);     /* letters and punctuation are separate words */
    EXPECT(c, t, "!!", 11, 12);
    EXPECT(c, t, "<|endoftext|>", 10);
    EXPECT(c, t, "a<|startoftext|>b", 3, 9, 4);
    EXPECT_NONE(c, t, "");
    EXPECT_NONE(c, t, " \t ");

    int32_t ids[8];
    int used = 0, trunc = 0;
    int rc = vkti_tokenizer_encode(&c->d, t, "abc", ids, 8, &used, &trunc);
    static const int32_t want8[] = {9, 8, 10, 10, 10, 10, 10, 10};
    CHECK(c, rc == 0 && same_ids(ids, 8, want8, 8) && used == 3 && !trunc, "micro: encode abc to 8");
    rc = vkti_tokenizer_encode(&c->d, t, "a a a a a a a a a a", ids, 6, &used, &trunc);
    static const int32_t want6[] = {9, 3, 3, 3, 3, 10};
    CHECK(c, rc == 0 && same_ids(ids, 6, want6, 6) && used == 6 && trunc, "micro: truncation to 6");
    rc = vkti_tokenizer_encode(&c->d, t, "a a a a", ids, 6, &used, &trunc);
    CHECK(c, rc == 0 && same_ids(ids, 6, want6, 6) && used == 6 && !trunc, "micro: exactly full");
    CHECK(c, vkti_tokenizer_encode(&c->d, t, "a", ids, 1, NULL, NULL) < 0, "micro: length 1 refused");
    CHECK(c, vkti_tokenizer_encode(&c->d, t, "bad \xC3(", ids, 8, NULL, NULL) < 0 && strstr(c->d.msg, "UTF-8"),
          "micro: invalid UTF-8 refused");

    /* added tokens */
    int32_t id = -1, id1 = -1;
    CHECK(c, vkti_tokenizer_add_token(&c->d, t, "<tok>", &id) == 0 && id == 13, "micro: add <tok> -> 13");
    CHECK(c, vkti_tokenizer_add_token(&c->d, t, "<tok>_1", &id1) == 0 && id1 == 14, "micro: add <tok>_1 -> 14");
    CHECK(c, vkti_tokenizer_add_token(&c->d, t, "<tok>", NULL) < 0, "micro: adding <tok> twice refused");
    CHECK(c, vkti_tokenizer_add_token(&c->d, t, "abc</w>", NULL) < 0 && strstr(c->d.msg, "already"),
          "micro: adding a vocabulary token refused");
    CHECK(c, vkti_tokenizer_add_token(&c->d, t, "", NULL) < 0, "micro: adding an empty token refused");
    CHECK(c, vkti_tokenizer_size(t) == 15, "micro: size with added tokens");
    EXPECT(c, t, "a<tok>b", 3, 13, 4);
    EXPECT(c, t, "<TOK>", 13);          /* matched on the lower-cased text */
    EXPECT(c, t, "<tok>_1", 14);        /* the longest match */
    EXPECT(c, t, "<tok>_1x", 14, 10);
    EXPECT(c, t, "<tok> <tok>_1", 13, 14);
    EXPECT(c, t, "<tok><tok>", 13, 13);
    EXPECT(c, t, "< tok>", 10, 10, 10, 10, 10); /* not <tok>: the words "<", "tok", ">", every symbol unknown */
    CHECK(c, vkti_tokenizer_token_id(t, "abc</w>") == 8 && vkti_tokenizer_token_id(t, "<tok>_1") == 14 &&
                 vkti_tokenizer_token_id(t, "abc") == -1,
          "micro: token_id");
    CHECK(c, vkti_tokenizer_token_text(t, 8) && strcmp(vkti_tokenizer_token_text(t, 8), "abc</w>") == 0 &&
                 strcmp(vkti_tokenizer_token_text(t, 13), "<tok>") == 0 && !vkti_tokenizer_token_text(t, 15),
          "micro: token_text");
    int32_t one = -1;
    CHECK(c, vkti_tokenizer_single_token(&c->d, t, "ABC", &one) == 1 && one == 8, "micro: ABC is one token");
    CHECK(c, vkti_tokenizer_single_token(&c->d, t, "abbc", &one) == 0, "micro: abbc is two tokens");

    char *text = NULL;
    static const int32_t dec[] = {9, 8, 3, 13, 10, 10};
    rc = vkti_tokenizer_decode(&c->d, t, dec, 6, 1, &text);
    CHECK(c, rc == 0 && text && strcmp(text, "abc a <tok>") == 0, "micro: decode skipping specials: \"%s\"",
          text ? text : "");
    free(text);
    rc = vkti_tokenizer_decode(&c->d, t, dec, 3, 0, &text);
    CHECK(c, rc == 0 && text && strcmp(text, "<|startoftext|>abc a") == 0, "micro: decode: \"%s\"", text ? text : "");
    free(text);

    /* SD 2.x padding: "!" becomes the pad token, a special token that is always cut out */
    CHECK(c, vkti_tokenizer_set_pad_token(&c->d, t, "!") == 0 && vkti_tokenizer_pad(t) == 11, "micro: pad !");
    EXPECT(c, t, "a!!b", 3, 11, 11, 4);
    rc = vkti_tokenizer_encode(&c->d, t, "abc", ids, 5, &used, NULL);
    static const int32_t want5[] = {9, 8, 10, 11, 11};
    CHECK(c, rc == 0 && same_ids(ids, 5, want5, 5), "micro: encode padded with !");
    vkti_tokenizer_free(t);
}

/* "<|", "startoftext", "|>" in the micro vocabulary: every symbol unknown except "a" (id 0) */
#define STARTOFTEXT_PIECES 10, 10, 10, 10, 0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10

static void test_micro_configs(tc *c)
{
    /* a string pad_token in tokenizer_config.json */
    vkti_tokenizer *t = micro(c, "{\"pad_token\": \"!\"}", NULL);
    if (t) {
        CHECK(c, vkti_tokenizer_pad(t) == 11, "config: pad_token \"!\"");
        EXPECT(c, t, "a!", 3, 11);
        vkti_tokenizer_free(t);
    }
    /* special_tokens_map.json overrides tokenizer_config.json */
    t = micro(c, "{\"pad_token\": \"<|endoftext|>\"}", "{\"pad_token\": \"!\"}");
    if (t) {
        CHECK(c, vkti_tokenizer_pad(t) == 11, "config: special_tokens_map overrides");
        vkti_tokenizer_free(t);
    }
    /* ... unless tokenizer_config.json has added_tokens_decoder */
    t = micro(c, "{\"added_tokens_decoder\": {\"9\": {\"content\": \"<|startoftext|>\", \"special\": true}}}",
              "{\"pad_token\": \"!\"}");
    if (t) {
        CHECK(c, vkti_tokenizer_pad(t) == 10, "config: special_tokens_map ignored with added_tokens_decoder");
        /* not normalized, so not matched: the words "<|", "startoftext", "|>"; only "a" is known */
        EXPECT(c, t, "<|STARTOFTEXT|>", STARTOFTEXT_PIECES);
        vkti_tokenizer_free(t);
    }
    /* an AddedToken dict in tokenizer_config.json defaults to normalized: matched after lower-casing */
    t = micro(c, "{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<|startoftext|>\"}}", NULL);
    if (t) {
        EXPECT(c, t, "<|STARTOFTEXT|>", 9);
        EXPECT(c, t, "x<|startoftext|>", 10, 9);
        vkti_tokenizer_free(t);
    }
    /* ... in special_tokens_map.json it defaults to not normalized */
    t = micro(c, NULL, "{\"bos_token\": {\"content\": \"<|startoftext|>\"}}");
    if (t) {
        EXPECT(c, t, "<|startoftext|>", 9);
        EXPECT(c, t, "<|STARTOFTEXT|>", STARTOFTEXT_PIECES);
        vkti_tokenizer_free(t);
    }
    /* the last registration of a content wins: eos normalized, then pad (a string) not */
    t = micro(c, "{\"eos_token\": {\"__type\": \"AddedToken\", \"content\": \"<|endoftext|>\", \"normalized\": true}}",
              NULL);
    if (t) {
        EXPECT(c, t, "<|ENDOFTEXT|>", 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10); /* 2 + 9 + 2 unknown */
        vkti_tokenizer_free(t);
    }
    /* lstrip / rstrip take the surrounding spaces along (no visible effect on ids, but exercised) */
    t = micro(c, "{\"added_tokens_decoder\": {\"11\": {\"content\": \"!\", \"lstrip\": true, \"rstrip\": true,"
                 " \"special\": true}}}",
              NULL);
    if (t) {
        EXPECT(c, t, "a  !  b", 3, 11, 4);
        vkti_tokenizer_free(t);
    }
    /* a pad token that is not in the vocabulary gets the next id */
    t = micro(c, "{\"pad_token\": \"<pad>\"}", NULL);
    if (t) {
        CHECK(c, vkti_tokenizer_pad(t) == 13 && vkti_tokenizer_size(t) == 14, "config: new pad token id");
        vkti_tokenizer_free(t);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* hostile inputs                                                                             */

static void expect_refused(tc *c, const char *what, const char *vocab, size_t vn, const char *merges, size_t mn,
                           const char *config, const char *map)
{
    vkti_tokenizer *t = NULL;
    c->d.msg[0] = 0;
    int rc = vkti_tokenizer_from_memory(&c->d, "hostile", vocab, vn, merges, mn, config, map, &t);
    CHECK(c, rc < 0 && !t && c->d.msg[0], "hostile %s: rc %d, message \"%s\"", what, rc, c->d.msg);
    vkti_tokenizer_free(t);
}

static void test_hostile(tc *c)
{
    static const struct { const char *what, *vocab; } vocabs[] = {
        {"empty vocab", ""},
        {"truncated vocab", "{\"a\": 0, \"b\": 1, \"c"},
        {"vocab array", "[\"a\", \"b\"]"},
        {"vocab string value", "{\"a\": \"0\", \"b\": 1}"},
        {"duplicate token", "{\"a\": 0, \"a\": 1}"},
        {"duplicate id", "{\"a\": 0, \"b\": 0}"},
        {"id out of range", "{\"a\": 0, \"b\": 5}"},
        {"negative id", "{\"a\": -1, \"b\": 0}"},
        {"fractional id", "{\"a\": 0.5, \"b\": 1}"},
        {"empty token", "{\"\": 0, \"b\": 1}"},
        {"NUL in token", "{\"a\\u0000b\": 0, \"b\": 1}"},
        {"one token", "{\"a\": 0}"},
        {"deep nesting", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["},
        {"invalid UTF-8 token", "{\"a\\xff\": 0, \"b\": 1}"},
    };
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++)
        expect_refused(c, vocabs[i].what, vocabs[i].vocab, strlen(vocabs[i].vocab), micro_merges,
                       strlen(micro_merges), NULL, NULL);
    char raw_ff[] = "{\"a\xff\": 0, \"b\": 1, \"<|startoftext|>\": 2, \"<|endoftext|>\": 3}";
    expect_refused(c, "raw invalid UTF-8 token", raw_ff, strlen(raw_ff), "", 0, NULL, NULL);

    static const struct { const char *what, *merges; } merges[] = {
        {"three parts", "a b c\n"},
        {"one part", "a\n"},
        {"two spaces", "a  b\n"},
        {"not in vocab", "x y\n"},
        {"result not in vocab", "b a\n"},
        {"empty line", "a b\n\nb c</w>\n"},
        {"empty last line", "a b\n\n"},
        {"lone CR line end", "a b\r"},
        {"invalid UTF-8", "a b\n\xff\xfe\n"},
        {"tab separator", "a\tb\n"},
    };
    for (size_t i = 0; i < sizeof merges / sizeof merges[0]; i++)
        expect_refused(c, merges[i].what, micro_vocab, strlen(micro_vocab), merges[i].merges,
                       strlen(merges[i].merges), NULL, NULL);
    /* a huge line: 4 MB without a space */
    size_t huge = 4u << 20;
    char *big = malloc(huge + 1);
    if (big) {
        memset(big, 'a', huge);
        big[huge] = 0;
        expect_refused(c, "4 MB merges line", micro_vocab, strlen(micro_vocab), big, huge, NULL, NULL);
        /* and a 4 MB token in vocab.json */
        memcpy(big, "{\"b\": 1, \"", 10);
        memcpy(big + huge - 8, "\": 0 }  ", 8);
        expect_refused(c, "4 MB token", big, huge, micro_merges, strlen(micro_merges), NULL, NULL);
        free(big);
    }
    /* accepted edge cases: CRLF line ends, no merges at all */
    vkti_tokenizer *t = NULL;
    const char *crlf = "#version: 0.2\r\na b\r\nb c</w>\r\n";
    CHECK(c, vkti_tokenizer_from_memory(&c->d, "crlf", micro_vocab, strlen(micro_vocab), crlf, strlen(crlf), NULL,
                                        NULL, &t) == 0,
          "CRLF merges accepted: %s", c->d.msg);
    if (t)
        EXPECT(c, t, "bc", 7);
    vkti_tokenizer_free(t);
    t = NULL;
    CHECK(c, vkti_tokenizer_from_memory(&c->d, "nomerges", micro_vocab, strlen(micro_vocab), "", 0, NULL, NULL, &t) ==
                 0,
          "empty merges accepted: %s", c->d.msg);
    if (t)
        EXPECT(c, t, "abc", 0, 1, 5);
    vkti_tokenizer_free(t);

    static const struct { const char *what, *config, *map; } configs[] = {
        {"config not JSON", "{", NULL},
        {"config array", "[1]", NULL},
        {"config pad number", "{\"pad_token\": 5}", NULL},
        {"config content number", "{\"bos_token\": {\"content\": 3}}", NULL},
        {"config empty token", "{\"eos_token\": \"\"}", NULL},
        {"single_word", "{\"bos_token\": {\"content\": \"<|startoftext|>\", \"single_word\": true}}", NULL},
        {"added_tokens_decoder array", "{\"added_tokens_decoder\": []}", NULL},
        {"added_tokens_decoder bad key", "{\"added_tokens_decoder\": {\"x\": {\"content\": \"a\"}}}", NULL},
        {"added_tokens_decoder no content", "{\"added_tokens_decoder\": {\"3\": {}}}", NULL},
        {"map not JSON", NULL, "{\"pad_token\": "},
        {"map bad value", NULL, "{\"pad_token\": [1]}"},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
        expect_refused(c, configs[i].what, micro_vocab, strlen(micro_vocab), micro_merges, strlen(micro_merges),
                       configs[i].config, configs[i].map);
}

/* ---- gzip: build a small valid file (a stored deflate block), then damage it ---- */

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

/* A gzip file of text (flags: FNAME; one stored deflate block) into a new buffer. */
static uint8_t *make_gzip(const char *text, size_t *size)
{
    size_t len = strlen(text);
    if (len > 65535)
        return NULL;
    size_t n = 10 + 10 + 5 + len + 8;
    uint8_t *g = malloc(n);
    if (!g)
        return NULL;
    static const uint8_t hdr[10] = {0x1F, 0x8B, 8, 8, 0, 0, 0, 0, 0, 3};
    memcpy(g, hdr, 10);
    memcpy(g + 10, "vocab.txt", 10); /* FNAME with its NUL */
    uint8_t *b = g + 20;
    b[0] = 1; /* BFINAL, stored */
    b[1] = (uint8_t)len, b[2] = (uint8_t)(len >> 8), b[3] = (uint8_t)~len, b[4] = (uint8_t)(~len >> 8);
    memcpy(b + 5, text, len);
    uint32_t crc = crc32_ref((const uint8_t *)text, len);
    for (int i = 0; i < 4; i++) {
        g[n - 8 + (size_t)i] = (uint8_t)(crc >> (8 * i));
        g[n - 4 + (size_t)i] = (uint8_t)((uint32_t)len >> (8 * i));
    }
    *size = n;
    return g;
}

static void test_gzip(tc *c)
{
    /* a simple-vocab text: header line, then merges (byte symbols for a, b, c are themselves) */
    const char *text = "\"bpe_simple_vocab_16e6.txt#version: 0.2\na b\nb c</w>\nab c</w>\n";
    size_t n = 0;
    uint8_t *g = make_gzip(text, &n);
    CHECK(c, g != NULL, "gzip: test file built");
    if (!g)
        return;
    uint8_t *out = NULL;
    size_t on = 0;
    int rc = vkti_gunzip(&c->d, "test.gz", g, n, 1 << 20, &out, &on);
    CHECK(c, rc == 0 && on == strlen(text) && memcmp(out, text, on) == 0, "gzip: round trip: %s", c->d.msg);
    free(out);

    char path[4200];
    snprintf(path, sizeof path, "%s/bpe_simple_vocab_16e6.txt.gz", c->tmp);
    vkti_tokenizer *t = NULL;
    if (vkti_file_write_atomic(&c->d, path, g, n) == 0) {
        rc = vkti_tokenizer_load(&c->d, c->tmp, &t);
        CHECK(c, rc == 0 && t, "gzip: a small simple vocab loads: %s", c->d.msg);
        if (t) {
            /* 512 byte symbols, 3 merged tokens, 2 specials */
            CHECK(c, vkti_tokenizer_vocab_size(t) == 517 && vkti_tokenizer_bos(t) == 515 &&
                         vkti_tokenizer_eos(t) == 516,
                  "gzip: vocabulary size %zu", vkti_tokenizer_vocab_size(t));
            EXPECT(c, t, "abc", 514);
            EXPECT(c, t, "a", 256 + 64); /* "a" is byte symbol 64 ('!' is 0): "a</w>" = 256 + 64 */
            vkti_tokenizer_free(t);
        }
        vkti_file_remove(path);
    }
    struct { const char *what; size_t at; int value; size_t len; } damage[] = {
        {"bad magic", 0, 0x1E, 0},
        {"bad method", 2, 7, 0},
        {"reserved flag", 3, 0x28, 0},
        {"unterminated name", 3, 0x18, 0},
        {"extra field too long", 3, 0x0C, 0},
        {"CRC mismatch", n - 8, -1, 0},
        {"length mismatch", n - 4, -1, 0},
        {"huge length", n - 1, 0x7F, 0},
        {"corrupt deflate", 20, 0xFF, 0},
        {"stored length wrong", 21, 0x00, 0},
        {"truncated", 0, 0, n / 2},
        {"truncated header", 0, 0, 12},
        {"empty", 0, 0, 1},
    };
    uint8_t *bad = malloc(n);
    for (size_t i = 0; bad && i < sizeof damage / sizeof damage[0]; i++) {
        memcpy(bad, g, n);
        size_t len = damage[i].len ? damage[i].len : n;
        if (damage[i].value >= 0 && !damage[i].len)
            bad[damage[i].at] = (uint8_t)damage[i].value;
        else if (!damage[i].len)
            bad[damage[i].at] ^= 0x55;
        if (damage[i].at == 3 && damage[i].value == 0x18) /* FNAME + FCOMMENT over a field without NUL */
            memset(bad + 10, 'x', n - 18);
        out = NULL;
        c->d.msg[0] = 0;
        rc = vkti_gunzip(&c->d, "bad.gz", bad, len, 1 << 20, &out, &on);
        CHECK(c, rc < 0 && !out && c->d.msg[0], "gzip %s refused: \"%s\"", damage[i].what, c->d.msg);
        free(out);
    }
    free(bad);
    free(g);
    /* a gz whose merges are not two symbols */
    g = make_gzip("header\na b c\n", &n);
    if (g && vkti_file_write_atomic(&c->d, path, g, n) == 0) {
        t = NULL;
        CHECK(c, vkti_tokenizer_load(&c->d, c->tmp, &t) < 0 && !t && strstr(c->d.msg, "line 2"),
              "gzip: a bad merge line refused: %s", c->d.msg);
        vkti_tokenizer_free(t);
        vkti_file_remove(path);
    }
    free(g);
}

/* ------------------------------------------------------------------------------------------ */
/* the identity files                                                                         */

typedef struct strings {
    char **s;
    size_t n;
} strings;

static void strings_free(strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->s[i]);
    free(s->s);
    s->s = NULL;
    s->n = 0;
}

/* Reads a file of one JSON string per line. */
static int read_strings(tc *c, const char *path, strings *out)
{
    uint8_t *data;
    size_t size;
    out->s = NULL;
    out->n = 0;
    if (vkti_file_read(&c->d, path, 16u << 20, &data, &size))
        return -1;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    out->s = calloc(lines, sizeof *out->s);
    char *p = (char *)data;
    while (out->s && *p) {
        char *e = strchr(p, '\n');
        if (e)
            *e = 0;
        if (*p) {
            cJSON *j = cJSON_Parse(p);
            if (!cJSON_IsString(j)) {
                cJSON_Delete(j);
                free(data);
                CHECK(c, 0, "%s: line %zu is not a JSON string", path, out->n + 1);
                return -1;
            }
            size_t len = strlen(j->valuestring);
            out->s[out->n] = malloc(len + 1);
            memcpy(out->s[out->n++], j->valuestring, len + 1);
            cJSON_Delete(j);
        }
        if (!e)
            break;
        p = e + 1;
    }
    free(data);
    return 0;
}

typedef struct expected {
    int32_t bos, eos, pad;
    int32_t added[16];
    size_t n_added;
    size_t n;
    int32_t **full; /* bos ... eos */
    size_t *n_full;
    int32_t **ids77; /* NULL: by the rule */
    char header[256];
} expected;

static void expected_free(expected *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->full[i]);
        free(e->ids77[i]);
    }
    free(e->full);
    free(e->n_full);
    free(e->ids77);
    memset(e, 0, sizeof *e);
}

static size_t parse_ids(const char *p, const char *end, int32_t *out, size_t cap)
{
    size_t n = 0;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end)
            break;
        char *q;
        long v = strtol(p, &q, 10);
        if (q == p)
            break;
        if (n < cap)
            out[n] = (int32_t)v;
        n++;
        p = q;
    }
    return n;
}

/* Reads an expected*.txt file; returns 0, 1 when absent, -1 when malformed. */
static int read_expected(tc *c, const char *path, expected *e)
{
    memset(e, 0, sizeof *e);
    e->bos = e->eos = e->pad = -1;
    if (!vkti_file_exists(path))
        return 1;
    uint8_t *data;
    size_t size;
    if (vkti_file_read(&c->d, path, 16u << 20, &data, &size))
        return -1;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    e->full = calloc(lines, sizeof *e->full);
    e->n_full = calloc(lines, sizeof *e->n_full);
    e->ids77 = calloc(lines, sizeof *e->ids77);
    char *p = (char *)data;
    int32_t buf[4096];
    while (e->full && *p) {
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        if (*p == '#') {
            const char *b = strstr(p, "# bos ");
            if (b == p && b < end)
                sscanf(p, "# bos %d eos %d pad %d", &e->bos, &e->eos, &e->pad);
            if (strncmp(p, "# added", 7) == 0)
                e->n_added = parse_ids(p + 7, end, e->added, 16);
            if (strncmp(p, "# transformers", 14) == 0 || strncmp(p, "# clip", 6) == 0)
                snprintf(e->header, sizeof e->header, "%.*s", (int)(end - p), p);
        } else if (end > p) {
            char *bar = memchr(p, '|', (size_t)(end - p));
            size_t n = parse_ids(p, bar ? bar : end, buf, 4096);
            if (n > 4096 || n < 2) {
                free(data);
                return -1;
            }
            e->full[e->n] = malloc(n * sizeof(int32_t));
            memcpy(e->full[e->n], buf, n * sizeof(int32_t));
            e->n_full[e->n] = n;
            if (bar) {
                size_t m = parse_ids(bar + 1, end, buf, 4096);
                if (m != VKTI_CLIP_LENGTH) {
                    free(data);
                    return -1;
                }
                e->ids77[e->n] = malloc(m * sizeof(int32_t));
                memcpy(e->ids77[e->n], buf, m * sizeof(int32_t));
            }
            e->n++;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    free(data);
    return 0;
}

/* Compares every string with an expected file; returns the number of mismatches (prints a few). */
static size_t compare_all(tc *c, vkti_tokenizer *t, const strings *s, const expected *e, const char *name)
{
    size_t bad = 0;
    if (e->n != s->n) {
        CHECK(c, 0, "%s: %zu lines for %zu strings", name, e->n, s->n);
        return s->n;
    }
    if (e->pad >= 0)
        CHECK(c, e->pad == vkti_tokenizer_pad(t) && e->bos == vkti_tokenizer_bos(t) && e->eos == vkti_tokenizer_eos(t),
              "%s: bos/eos/pad %d %d %d, reference %d %d %d", name, vkti_tokenizer_bos(t), vkti_tokenizer_eos(t),
              vkti_tokenizer_pad(t), e->bos, e->eos, e->pad);
    for (size_t i = 0; i < s->n; i++) {
        int32_t *got = NULL;
        size_t ng = 0;
        int rc = vkti_tokenizer_tokenize(&c->d, t, s->s[i], &got, &ng);
        int ok = rc == 0 && e->n_full[i] >= 2 && same_ids(got, ng, e->full[i] + 1, e->n_full[i] - 2);
        int32_t ids[VKTI_CLIP_LENGTH], want[VKTI_CLIP_LENGTH];
        if (ok) {
            if (e->ids77[i]) {
                memcpy(want, e->ids77[i], sizeof want);
            } else {
                size_t keep = e->n_full[i] - 2 < VKTI_CLIP_LENGTH - 2 ? e->n_full[i] - 2 : VKTI_CLIP_LENGTH - 2;
                want[0] = e->full[i][0];
                memcpy(want + 1, e->full[i] + 1, keep * sizeof(int32_t));
                want[keep + 1] = e->full[i][e->n_full[i] - 1];
                for (size_t k = keep + 2; k < VKTI_CLIP_LENGTH; k++)
                    want[k] = e->pad >= 0 ? e->pad : vkti_tokenizer_pad(t);
            }
            ok = vkti_tokenizer_encode(&c->d, t, s->s[i], ids, VKTI_CLIP_LENGTH, NULL, NULL) == 0 &&
                 memcmp(ids, want, sizeof ids) == 0;
        }
        if (!ok) {
            if (bad < 8) {
                char a[2048], b[2048];
                ids_str(got, ng, a, sizeof a);
                ids_str(e->full[i] + 1, e->n_full[i] >= 2 ? e->n_full[i] - 2 : 0, b, sizeof b);
                printf("  %s string %zu %s: got [%s] want [%s]\n", name, i + 1, s->s[i], a, b);
            }
            bad++;
        }
        free(got);
    }
    CHECK(c, bad == 0, "%s: %zu of %zu strings differ", name, bad, s->n);
    return bad;
}

static vkti_tokenizer *load_with_added(tc *c, const char *vocab_dir, const char *config_dir, const strings *added)
{
    char v[4200], m[4200];
    snprintf(v, sizeof v, "%s/vocab.json", vocab_dir);
    snprintf(m, sizeof m, "%s/merges.txt", vocab_dir);
    vkti_tokenizer *t = NULL;
    int rc = vkti_tokenizer_load_files(&c->d, v, m, config_dir, &t);
    CHECK(c, rc == 0, "load %s (config %s): %s", vocab_dir, config_dir ? config_dir : "none", c->d.msg);
    for (size_t i = 0; t && i < added->n; i++) {
        rc = vkti_tokenizer_add_token(&c->d, t, added->s[i], NULL);
        CHECK(c, rc == 0, "add %s: %s", added->s[i], c->d.msg);
    }
    return t;
}

/* Runs one expected file if present; returns 1 when it was there. */
static int run_expected(tc *c, const char *vocab_dir, const char *config_dir, const char *file, const strings *s,
                        const strings *added)
{
    expected e;
    int r = read_expected(c, file, &e);
    if (r == 1)
        return 0;
    CHECK(c, r == 0, "%s: malformed", file);
    if (r == 0) {
        vkti_tokenizer *t = load_with_added(c, vocab_dir, config_dir, added);
        if (t) {
            int ok = e.n_added == added->n || e.n_added == 0;
            for (size_t i = 0; ok && i < added->n; i++)
                ok = e.added[i] == vkti_tokenizer_token_id(t, added->s[i]);
            CHECK(c, ok, "%s: added token ids differ from the reference", file);
            size_t bad = compare_all(c, t, s, &e, file);
            printf("%s: %zu strings, %zu differ (%s)\n", file, s->n, bad, e.header);
            vkti_tokenizer_free(t);
        }
    }
    expected_free(&e);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */

static void test_tiny(tc *c, const strings *s, const strings *added)
{
    char dir[4200], file[4300];
    snprintf(dir, sizeof dir, "%s/tests/data/tokenizer/tiny", c->src);
    vkti_tokenizer *t = load_with_added(c, dir, NULL, added);
    if (!t)
        return;
    /* 512 byte symbols + merges + 2 specials; the merges (first lines of merges.txt): "o f</w>" (512),
     * "i n" (513), "t h" (514), "th e</w>" (515) */
    CHECK(c, vkti_tokenizer_vocab_size(t) == 809 && vkti_tokenizer_eos(t) == 808 && vkti_tokenizer_bos(t) == 807,
          "tiny: vocabulary of %zu", vkti_tokenizer_vocab_size(t));
    CHECK(c, vkti_tokenizer_token_id(t, "of</w>") == 512 && vkti_tokenizer_token_id(t, "the</w>") == 515,
          "tiny: merged tokens");
    EXPECT(c, t, "of the", 512, 515);
    EXPECT(c, t, "<my-cat> of", 809, 512);
    vkti_tokenizer_free(t);
    snprintf(file, sizeof file, "%s/tests/data/tokenizer/expected_tiny.txt", c->src);
    if (!run_expected(c, dir, NULL, file, s, added))
        printf("tiny: tests/data/tokenizer/expected_tiny.txt absent: the tiny vocabulary's full check awaits it "
               "(tools/ref/tokenizer_ref.py on the GPU machine)\n");
}

static int vocab_dir_ok(const char *dir, char *out, size_t cap)
{
    char v[4400];
    int n = snprintf(v, sizeof v, "%s/vocab.json", dir);
    if (n < 0 || (size_t)n >= sizeof v || !vkti_file_exists(v))
        return 0;
    snprintf(out, cap, "%s", dir);
    return 1;
}

static int find_real_vocab(tc *c, char *out, size_t cap)
{
    const char *env = vkti_env("VKTI_CLIP_VOCAB");
    static const char *const rel[] = {"../shared/clip", "../../shared/clip", ".gl/clip"};
    if (env && vocab_dir_ok(env, out, cap))
        return 1;
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char cand[4200];
        snprintf(cand, sizeof cand, "%s/%s", c->src, rel[i]);
        if (vocab_dir_ok(cand, out, cap))
            return 1;
    }
    printf("SKIP real CLIP vocabulary: not found (set VKTI_CLIP_VOCAB, or put it at %s/../shared/clip)\n", c->src);
    return 0;
}

static void test_real(tc *c, const strings *s, const strings *added)
{
    char dir[4200];
    if (!find_real_vocab(c, dir, sizeof dir))
        return;
    printf("real CLIP vocabulary: %s\n", dir);
    vkti_tokenizer *t = load_with_added(c, dir, NULL, added);
    if (!t)
        return;
    CHECK(c, vkti_tokenizer_vocab_size(t) == 49408 && vkti_tokenizer_bos(t) == 49406 && vkti_tokenizer_eos(t) == 49407 &&
                 vkti_tokenizer_pad(t) == 49407 && vkti_tokenizer_token_id(t, "<my-cat>") == 49408,
          "real: sizes and ids");

    /* Hand-verified against vocab.json (a</w> 320, photo</w> 1125, of</w> 539, cat</w> 2368, ...) and the
     * rules in tokenizer.c; the same ids come out of tools/ref/clip_bpe_slow.py. */
    EXPECT(c, t, "a photo of a cat", 320, 1125, 539, 320, 2368);
    EXPECT(c, t, "A Photo Of A CAT", 320, 1125, 539, 320, 2368);
    EXPECT(c, t, "a  photo\tof\na cat", 320, 1125, 539, 320, 2368);
    EXPECT(c, t, "a photo of a <my-cat>", 320, 1125, 539, 320, 49408);
    EXPECT(c, t, "a painting in the style of <my-cat> <my-cat>_1 <my-cat>_2 <my-cat>_3", 320, 3086, 530, 518, 1844,
           539, 49408, 49409, 49410, 49411);
    EXPECT(c, t, "a<my-cat>b", 320, 49408, 321);
    EXPECT(c, t, "<MY-CAT>", 49408);
    EXPECT(c, t, "<my-cat>_12", 49409, 273);
    EXPECT(c, t, "don't", 847, 713);
    EXPECT(c, t, "it's", 585, 568);
    EXPECT(c, t, "'s", 568);
    EXPECT(c, t, "rock'n'roll", 2172, 262, 333, 262, 3341);
    EXPECT(c, t, "I'm", 328, 880);
    EXPECT(c, t, "we're", 649, 982);
    EXPECT(c, t, "they've", 889, 1200);
    EXPECT(c, t, "you'll", 592, 1342);
    EXPECT(c, t, "he'd", 797, 1896);
    EXPECT(c, t, "''s", 8445, 338); /* the punctuation run takes both quotes, so no 's */
    EXPECT(c, t, "2023", 273, 271, 273, 274);
    EXPECT(c, t, "3.14", 274, 269, 272, 275);
    EXPECT(c, t, "caf\xC3\xA9", 15304);
    EXPECT(c, t, "cafe\xCC\x81", 15304); /* NFC first */
    EXPECT(c, t, "na\xC3\xAFve", 1097, 35689, 563);
    EXPECT(c, t, "\xC4\xB0stanbul", 328, 16384, 11231); /* İ -> i + U+0307: a letter, then a mark */
    EXPECT(c, t, "\xE7\x8C\xAB", 163, 234, 360);          /* 猫: three byte symbols */
    EXPECT(c, t, "\xF0\x9F\x90\xB1", 22979);              /* 🐱 */
    EXPECT(c, t, "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", 43722);
    EXPECT(c, t, "hello!!!", 3306, 995);
    EXPECT(c, t, "<|startoftext|>", 49406);
    EXPECT(c, t, "<|endoftext|>", 49407);
    EXPECT(c, t, "<|STARTOFTEXT|>", 27, 347, 993, 6659, 4160, 91, 285);
    EXPECT(c, t, "x<|endoftext|>!", 343, 49407, 256);
    EXPECT(c, t, "masterpiece, best quality, (cat:1.2)", 12066, 267, 949, 3027, 267, 263, 2368, 281, 272, 269, 273,
           264);
    EXPECT(c, t, "https://example.com", 30901, 12441, 6228, 269, 2464);
    EXPECT(c, t, "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3", 171, 121, 223, 171, 121, 224, 171, 121, 481);
    EXPECT(c, t, "stra\xC3\x9F" "e", 1894, 127, 253, 324);
    EXPECT(c, t, "\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91", 139, 225, 138, 123, 139, 228, 138, 117, 138, 365);
    EXPECT(c, t, "\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3", 138, 123, 138, 112, 138, 123, 139, 481); /* ΟΔΟΣ: σ, no final ς */
    EXPECT(c, t, "x\xC2\xB2", 343, 41175);                         /* ² is a number: its own word */
    EXPECT(c, t, "\xE2\x85\xAB", 158, 227, 375);                  /* Ⅻ lower-cases to ⅻ */
    EXPECT(c, t, "\xD9\xA1\xD9\xA2\xD9\xA3", 149, 350, 149, 351, 149, 352); /* ١٢٣: one word per digit */
    EXPECT(c, t, "a\xC2\xA0" "b", 320, 321);                       /* no-break space separates */
    EXPECT_NONE(c, t, "");
    EXPECT_NONE(c, t, "   ");
    int32_t id = -1;
    CHECK(c, vkti_tokenizer_single_token(&c->d, t, "cat", &id) == 1 && id == 2368, "real: cat is one token");
    CHECK(c, vkti_tokenizer_single_token(&c->d, t, "<cat-toy>", &id) == 1 && id == 49412, "real: <cat-toy>");
    CHECK(c, vkti_tokenizer_single_token(&c->d, t, "masterpiece, best", &id) == 0, "real: several tokens");
    CHECK(c, vkti_tokenizer_add_token(&c->d, t, "cat</w>", NULL) < 0, "real: cat</w> cannot be added");
    char *text = NULL;
    int32_t ids[VKTI_CLIP_LENGTH];
    if (vkti_tokenizer_encode(&c->d, t, "A photo of <my-cat>, caf\xC3\xA9!", ids, VKTI_CLIP_LENGTH, NULL, NULL) == 0 &&
        vkti_tokenizer_decode(&c->d, t, ids, VKTI_CLIP_LENGTH, 1, &text) == 0)
        CHECK(c, strcmp(text, "a photo of <my-cat>, caf\xC3\xA9 !") == 0, "real: decode \"%s\"", text);
    free(text);

    /* the .gz gives the same vocabulary and merges */
    char gz[4300];
    snprintf(gz, sizeof gz, "%s/bpe_simple_vocab_16e6.txt.gz", dir);
    if (vkti_file_exists(gz)) {
        vkti_tokenizer *g = NULL;
        int rc = vkti_tokenizer_load_bpe_gz(&c->d, gz, &g);
        CHECK(c, rc == 0, "real: %s loads: %s", gz, c->d.msg);
        if (g) {
            int same = vkti_tokenizer_vocab_size(g) == vkti_tokenizer_vocab_size(t);
            for (int32_t i = 0; same && (size_t)i < vkti_tokenizer_vocab_size(t); i++)
                same = strcmp(vkti_tokenizer_token_text(g, i), vkti_tokenizer_token_text(t, i)) == 0;
            CHECK(c, same, "real: the .gz vocabulary equals vocab.json");
            for (size_t i = 0; i < added->n; i++)
                vkti_tokenizer_add_token(&c->d, g, added->s[i], NULL);
            size_t bad = 0;
            for (size_t i = 0; i < s->n; i++) {
                int32_t a[VKTI_CLIP_LENGTH], b[VKTI_CLIP_LENGTH];
                if (vkti_tokenizer_encode(&c->d, t, s->s[i], a, VKTI_CLIP_LENGTH, NULL, NULL) ||
                    vkti_tokenizer_encode(&c->d, g, s->s[i], b, VKTI_CLIP_LENGTH, NULL, NULL) ||
                    memcmp(a, b, sizeof a))
                    bad++;
            }
            CHECK(c, bad == 0, "real: the .gz tokenizer differs on %zu strings", bad);
            vkti_tokenizer_free(g);
        }
    } else {
        printf("SKIP bpe_simple_vocab_16e6.txt.gz: not in %s\n", dir);
    }

    /* speed: every string, twice (a cold and a warm BPE cache) */
    double t0 = vkti_now();
    size_t n_enc = 0;
    for (int rep = 0; rep < 2; rep++) {
        for (size_t i = 0; i < s->n; i++, n_enc++)
            vkti_tokenizer_encode(&c->d, t, s->s[i], ids, VKTI_CLIP_LENGTH, NULL, NULL);
    }
    double dt = vkti_now() - t0;
    printf("speed: %zu encodes in %.1f ms (%.1f us each)\n", n_enc, dt * 1e3, dt * 1e6 / (double)n_enc);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
    CHECK(c, dt < 1.0 * (double)n_enc / 1000.0 / 4.0, "speed: 1000 prompts must take well under a second");
#endif
    vkti_tokenizer_free(t);

    /* the identity files from transformers */
    static const struct { const char *file, *config; } variants[] = {
        {"expected.txt", NULL}, {"expected_sd1.txt", "config_sd1"}, {"expected_sd2.txt", "config_sd2"},
        {"expected_atd.txt", "config_atd"},
    };
    int found = 0;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        char file[4300], cfg[4300];
        snprintf(file, sizeof file, "%s/tests/data/tokenizer/%s", c->src, variants[v].file);
        snprintf(cfg, sizeof cfg, "%s/tests/data/tokenizer/%s", c->src, variants[v].config ? variants[v].config : "");
        found += run_expected(c, dir, variants[v].config ? cfg : NULL, file, s, added);
    }
    if (!found)
        printf("NOTE: the full identity check against transformers awaits tests/data/tokenizer/expected.txt "
               "(run tools/ref/tokenizer_ref.py on the GPU machine); only the hand-verified cases ran\n");
}

/* VKTI_TOKENIZER_CROSSCHECK=FILE (format of expected.txt), tokenizer from
 * VKTI_TOKENIZER_CROSSCHECK_VOCAB (default: the real vocabulary) with the configs of
 * VKTI_TOKENIZER_CROSSCHECK_CONFIG (default: none). */
static void test_crosscheck(tc *c, const strings *s, const strings *added)
{
    const char *cross = vkti_env("VKTI_TOKENIZER_CROSSCHECK");
    if (!cross)
        return;
    char dir[4200];
    const char *vocab = vkti_env("VKTI_TOKENIZER_CROSSCHECK_VOCAB");
    if (vocab)
        snprintf(dir, sizeof dir, "%s", vocab);
    else if (!find_real_vocab(c, dir, sizeof dir))
        return;
    if (!run_expected(c, dir, vkti_env("VKTI_TOKENIZER_CROSSCHECK_CONFIG"), cross, s, added))
        CHECK(c, 0, "VKTI_TOKENIZER_CROSSCHECK=%s: no such file", cross);
}

/* ------------------------------------------------------------------------------------------ */
/* the search                                                                                 */

static int copy_file(tc *c, const char *from, const char *to)
{
    uint8_t *data;
    size_t size;
    if (vkti_file_read(&c->d, from, 64u << 20, &data, &size))
        return -1;
    int rc = vkti_file_write_atomic(&c->d, to, data, size);
    free(data);
    return rc;
}

/* Makes dir and copies the tiny vocabulary into it. */
static void plant(tc *c, const char *dir)
{
    char from[4200], to[4200];
    vkti_mkdir_p(&c->d, dir);
    for (int i = 0; i < 2; i++) {
        const char *f = i ? "merges.txt" : "vocab.json";
        snprintf(from, sizeof from, "%s/tests/data/tokenizer/tiny/%s", c->src, f);
        snprintf(to, sizeof to, "%s/%s", dir, f);
        copy_file(c, from, to);
    }
}

static void remove_tree(const char *path)
{
    char **names = NULL;
    int n = 0;
    vkti_diag quiet = {0};
    if (vkti_dir_list(&quiet, path, &names, &n) == 0) {
        for (int i = 0; i < n; i++) {
            char p[4200];
            snprintf(p, sizeof p, "%s/%s", path, names[i]);
            if (vkti_dir_exists(p))
                remove_tree(p);
            else
                vkti_file_remove(p);
        }
        vkti_dir_list_free(names, n);
    }
    vkti_dir_remove(path);
}

static void test_find(tc *c)
{
    char root[4200], p[4400], q[9000], hub[4400], empty_hub[4400];
    snprintf(root, sizeof root, "%s/find", c->tmp);
    remove_tree(root);
    vkti_mkdir_p(&c->d, root);
    vkti_tokenizer_found f;
    vkti_tokenizer_search s;

    /* nothing anywhere: the message lists the places and says what to pass */
    snprintf(empty_hub, sizeof empty_hub, "%s/emptyhub", root);
    vkti_mkdir_p(&c->d, empty_hub);
    snprintf(p, sizeof p, "%s/models/v1-5.safetensors", root);
    memset(&s, 0, sizeof s);
    s.model_path = p;
    s.hub_dirs[0] = empty_hub;
    int rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == VKTI_E_IO && strstr(c->d.msg, "--tokenizer") && strstr(c->d.msg, "/models/tokenizer") &&
                 strstr(c->d.msg, "models--openai--clip-vit-large-patch14/snapshots/*") &&
                 strstr(c->d.msg, "huggingface-cli download openai/clip-vit-large-patch14"),
          "find: failure message: %s", c->d.msg);

    /* a hub cache: refs/main's snapshot is preferred */
    snprintf(hub, sizeof hub, "%s/hub", root);
    snprintf(q, sizeof q, "%s/models--openai--clip-vit-large-patch14/snapshots/aaa", hub);
    plant(c, q);
    snprintf(q, sizeof q, "%s/models--openai--clip-vit-large-patch14/snapshots/bbb", hub);
    plant(c, q);
    snprintf(q, sizeof q, "%s/models--openai--clip-vit-large-patch14/refs", hub);
    vkti_mkdir_p(&c->d, q);
    snprintf(q, sizeof q, "%s/models--openai--clip-vit-large-patch14/refs/main", hub);
    vkti_file_write_atomic(&c->d, q, "bbb", 3);
    s.hub_dirs[0] = empty_hub;
    s.hub_dirs[1] = hub;
    rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == 0 && f.from_hub && strstr(f.dir, "snapshots/bbb") && !f.needs_sd2_pad, "find: hub refs/main: %s",
          rc ? c->d.msg : f.dir);
    /* an SD 2.x model falls back to CLIP's tokenizer and is told to pad with "!" */
    s.sd2 = 1;
    rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == 0 && f.needs_sd2_pad, "find: SD 2.x falls back to CLIP with the pad note");
    snprintf(q, sizeof q, "%s/models--stabilityai--stable-diffusion-2-1/snapshots/ccc/tokenizer", hub);
    plant(c, q);
    rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == 0 && !f.needs_sd2_pad && strstr(f.dir, "stable-diffusion-2-1/snapshots/ccc/tokenizer"),
          "find: SD 2.x tokenizer first: %s", f.dir);
    s.sd2 = 0;

    /* the model's folder wins over the cache */
    snprintf(q, sizeof q, "%s/models/tokenizer", root);
    plant(c, q);
    rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == 0 && !f.from_hub && strstr(f.dir, "/models/tokenizer"), "find: beside the checkpoint: %s", f.dir);
    /* a diffusers folder as the model */
    snprintf(p, sizeof p, "%s/models", root);
    rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == 0 && strstr(f.dir, "/models/tokenizer"), "find: diffusers folder: %s", f.dir);
    vkti_tokenizer *t = NULL;
    CHECK(c, rc == 0 && vkti_tokenizer_load(&c->d, f.dir, &t) == 0 && t, "find: what is found loads");
    vkti_tokenizer_free(t);

    /* --tokenizer wins, and fails loudly when wrong */
    snprintf(q, sizeof q, "%s/explicit", root);
    plant(c, q);
    s.tokenizer_dir = q;
    rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == 0 && strstr(f.dir, "/explicit"), "find: --tokenizer: %s", f.dir);
    snprintf(q, sizeof q, "%s/nothing-here", root);
    s.tokenizer_dir = q;
    rc = vkti_tokenizer_find(&c->d, &s, &f);
    CHECK(c, rc == VKTI_E_IO && strstr(c->d.msg, "--tokenizer") && strstr(c->d.msg, "nothing-here"),
          "find: a wrong --tokenizer is an error: %s", c->d.msg);
    remove_tree(root);
}

/* ------------------------------------------------------------------------------------------ */

int main(void)
{
    tc c;
    memset(&c, 0, sizeof c);
    const char *src = vkti_env("VKTI_SOURCE_DIR");
    const char *build = vkti_env("VKTI_BUILD_DIR");
    snprintf(c.src, sizeof c.src, "%s", src ? src : ".");
    snprintf(c.tmp, sizeof c.tmp, "%s/tokenizer_test_tmp", build ? build : ".");
    remove_tree(c.tmp);
    vkti_mkdir_p(&c.d, c.tmp);
    printf("Unicode tables: %s\n", vkti_unicode_version);

    test_unicode(&c);
    test_micro(&c);
    test_micro_configs(&c);
    test_hostile(&c);
    test_gzip(&c);

    strings s = {0}, added = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/tokenizer/strings.txt", c.src);
    int have = read_strings(&c, path, &s) == 0;
    snprintf(path, sizeof path, "%s/tests/data/tokenizer/added_tokens.txt", c.src);
    have = have && read_strings(&c, path, &added) == 0;
    CHECK(&c, have && s.n >= 1000 && added.n > 0, "test data: %zu strings, %zu added tokens (%s)", s.n, added.n,
          c.d.msg);
    if (have) {
        test_tiny(&c, &s, &added);
        test_real(&c, &s, &added);
        test_crosscheck(&c, &s, &added);
    }
    strings_free(&s);
    strings_free(&added);
    test_find(&c);
    remove_tree(c.tmp);

    printf("%d passed, %d failed\n", c.pass, c.fail);
    return c.fail ? 1 : 0;
}
