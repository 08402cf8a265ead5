/* tokenizer.c — the CLIP BPE tokenizer, reproducing Hugging Face's CLIPTokenizer.
 *
 * WHICH BEHAVIOUR, AND WHY. The reference is transformers 5 (checked against 5.17.0 with
 * tokenizers 0.23.2, what the GPU machine has, on the strings of tests/data/tokenizer/). In
 * transformers 5 there is no slow (Python) CLIP tokenizer any more: CLIPTokenizer is a
 * TokenizersBackend that builds a `tokenizers` pipeline itself (models/clip/tokenization_clip.py),
 * so ftfy, html-unescaping and the BERT BasicTokenizer of the old slow class play no part. For a
 * folder with vocab.json + merges.txt, from_pretrained passes the two paths to BPE(...) (Rust
 * BPE::read_file: vocab.json as a JSON object, every merges.txt line except those starting with
 * "#version" must be exactly "a b" — no truncation to 48,894 merges as the slow class did). The
 * pipeline is, per text:
 *   1. added tokens that are not "normalized" (the special tokens <|startoftext|>, <|endoftext|>,
 *      and the pad token, e.g. "!" for SD 2.x) are cut out of the raw text first (leftmost match,
 *      longest at that position; lstrip/rstrip honoured);
 *   2. each remaining piece is normalized: NFC, every run of \s replaced by one space, lower-cased
 *      (Rust char::to_lowercase: full mappings, İ -> i + U+0307; no final-sigma rule);
 *   3. "normalized" added tokens — the placeholder and its _1, _2 companions, added with
 *      add_tokens() — are cut out of the normalized pieces, matched against their own normalized
 *      form, so "<My-Cat>" also matches "<MY-CAT>" in a prompt; no whitespace stripping;
 *   4. pre-tokenization: the Split regex (Oniguruma, case-sensitive, matches kept, the rest
 *      dropped) <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|
 *      [^\s\p{L}\p{N}]+ , then ByteLevel(add_prefix_space=False, use_regex=True), whose GPT-2
 *      regex changes nothing on those pieces except "<|startoftext|>" / "<|endoftext|>"
 *      (reachable only when spelled in capitals, so not cut out in step 1), which it splits into
 *      "<|", "startoftext", "|>"; then every byte becomes its byte-level character;
 *   5. BPE per piece with end-of-word suffix "</w>" on the last character, no continuing-subword
 *      prefix, unknown characters -> unk (not fused), merges applied in the order of the Rust
 *      Word::merge_all (a priority queue on (rank, position); an entry is applied only when the
 *      pair at that position still merges to the same id);
 *   6. RobertaProcessing adds bos/eos; truncation keeps the first max_length-2 tokens; padding
 *      (right) with pad_token_id.
 * Special tokens come from tokenizer_config.json and special_tokens_map.json as transformers 5
 * reads them: a string value is a special token with normalized=False; an {"__type":
 * "AddedToken", ...} dict in tokenizer_config.json defaults to normalized=True; a dict in
 * special_tokens_map.json defaults to normalized=False and overrides tokenizer_config.json; when
 * tokenizer_config.json has "added_tokens_decoder", special_tokens_map.json is ignored and the
 * named tokens take the flags of the entry with the same content. Tokens are registered in the
 * order bos, eos, unk, sep, pad, cls, mask; for one content the last registration's flags win
 * (SD 1.x: "<|endoftext|>" is eos, unk and pad; pad, a plain string, makes it non-normalized).
 * Defaults without any config: bos <|startoftext|>, eos = unk = pad = <|endoftext|>.
 * tokenizer.json, added_tokens.json and single_word=true tokens are not supported (refused or
 * ignored with a clear rule: tokenizer.json is never read).
 *
 * Unicode data: unicode_tables.c is generated from Python's unicodedata (its version is in that
 * file, 14.0.0 when written). The reference uses Oniguruma's tables for \p{L}/\p{N}/\s, Rust's
 * for lower-casing and the unicode-normalization-alignments crate for NFC; each may be of
 * another Unicode version, so characters assigned or changed between the versions (rare
 * scripts, newest emoji have no case or decomposition and are unaffected) can tokenize
 * differently. The identity test does not use such characters.
 *
 * vkti's own rules on top: invalid UTF-8 in a text is refused (Python strings cannot hold it);
 * vocab.json must map distinct, non-empty, valid UTF-8 tokens to the ids 0..n-1 exactly once;
 * add_token refuses a token that already exists (Hugging Face would silently reuse its id). */
#include "io/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "base/platform.h"
#include "base/str.h"
#include "io/gzip.h"
#include "io/unicode.h"

#define BPE_CACHE_ENTRIES 16384 /* words remembered (the Rust BPE remembers 10,000) */
#define BPE_CACHE_MAX_WORD 256  /* longer words are not cached (as in the Rust BPE) */
#define SIMPLE_VOCAB_MERGES (49152 - 256 - 2) /* merges simple_tokenizer.py takes from the .gz */
#define MAX_TOKEN_BYTES 4096    /* longest special / added token accepted */

typedef struct added_token {
    char *content;        /* as given */
    char *pattern;        /* what is matched: content, or its normalized form */
    size_t pattern_len;
    int32_t id;
    uint8_t normalized, special, lstrip, rstrip;
} added_token;

typedef struct span {
    size_t start, end;
    int32_t id; /* -1: text to process further */
} span;

typedef struct cache_entry {
    uint64_t hash;
    uint32_t key_off, key_len; /* in cache_keys */
    uint32_t ids_off, ids_len; /* in cache_ids */
} cache_entry;

typedef struct heap_item {
    uint32_t rank, pos;
    int32_t new_id;
} heap_item;

typedef struct symbol {
    int32_t c;
    int32_t prev, next;
    uint32_t len; /* 0: merged into its left neighbour */
} symbol;

struct vkti_tokenizer {
    char source[1024];
    /* every id's string: the base vocabulary, then added tokens that are not in it */
    char *text;
    size_t text_len, text_cap;
    uint32_t *tok_off, *tok_len;
    size_t n_tokens, tok_cap, toklen_cap;
    size_t n_vocab;
    uint32_t *slots; /* vocabulary hash: id + 1, 0 = empty */
    size_t slot_mask;
    /* merges: (left id << 32 | right id) -> rank, merged id */
    uint64_t *mkeys;
    uint32_t *mrank;
    int32_t *mnew;
    uint8_t *mused;
    size_t mmask, n_merges;
    int32_t byte_id[256], byte_eow_id[256];
    /* added tokens, in registration order */
    added_token *added;
    size_t n_added, added_cap;
    int32_t next_id;
    int32_t bos, eos, unk, pad;
    /* BPE cache */
    cache_entry *centries;
    uint32_t *cslots; /* entry index + 1 */
    size_t n_centries;
    uint8_t *cache_keys;
    size_t ckeys_len, ckeys_cap;
    int32_t *cache_ids;
    size_t cids_len, cids_cap;
    /* scratch */
    uint32_t *cps, *work;
    size_t cps_cap, work_cap;
    uint8_t *norm;
    size_t norm_cap;
    int32_t *ids;
    size_t ids_len, ids_cap;
    span *raw_spans, *norm_spans;
    size_t raw_cap, norm_cap_spans;
    symbol *syms;
    size_t syms_cap;
    heap_item *heap;
    size_t heap_cap;
};

/* ------------------------------------------------------------------------------------------ */
/* small helpers                                                                              */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* Prints s (n bytes) for a message: at most 40 bytes, control bytes as '?'. */
static const char *shown(const char *s, size_t n, char buf[64])
{
    size_t m = n < 40 ? n : 40, j = 0;
    for (size_t i = 0; i < m; i++)
        buf[j++] = ((unsigned char)s[i] < 0x20) ? '?' : s[i];
    if (n > m) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j] = 0;
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* the vocabulary                                                                             */

static int32_t vocab_find(const vkti_tokenizer *t, const char *s, size_t n)
{
    if (!t->slots)
        return -1;
    size_t i = (size_t)hash_bytes(s, n) & t->slot_mask;
    for (;;) {
        uint32_t v = t->slots[i];
        if (v == 0)
            return -1;
        uint32_t id = v - 1;
        if (t->tok_len[id] == n && memcmp(t->text + t->tok_off[id], s, n) == 0)
            return (int32_t)id;
        i = (i + 1) & t->slot_mask;
    }
}

/* Appends a string for the next id (no hashing). */
static int push_token_text(vkti_tokenizer *t, const char *s, size_t n)
{
    if (t->text_len + n + 1 > UINT32_MAX)
        return -1;
    if (grow((void **)&t->text, &t->text_cap, t->text_len + n + 1, 1) ||
        grow((void **)&t->tok_off, &t->tok_cap, t->n_tokens + 1, sizeof(uint32_t)) ||
        grow((void **)&t->tok_len, &t->toklen_cap, t->n_tokens + 1, sizeof(uint32_t)))
        return -1;
    memcpy(t->text + t->text_len, s, n);
    t->text[t->text_len + n] = 0;
    t->tok_off[t->n_tokens] = (uint32_t)t->text_len;
    t->tok_len[t->n_tokens] = (uint32_t)n;
    t->text_len += n + 1;
    t->n_tokens++;
    return 0;
}

static int alloc_slots(vkti_tokenizer *t, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    t->slots = calloc(cap, sizeof(uint32_t));
    if (!t->slots)
        return -1;
    t->slot_mask = cap - 1;
    return 0;
}

/* Inserts id (whose text is stored) into the hash; returns the id already holding that text, or -1. */
static int32_t slot_insert(vkti_tokenizer *t, int32_t id)
{
    const char *s = t->text + t->tok_off[id];
    size_t n = t->tok_len[id];
    size_t i = (size_t)hash_bytes(s, n) & t->slot_mask;
    for (;;) {
        uint32_t v = t->slots[i];
        if (v == 0) {
            t->slots[i] = (uint32_t)id + 1;
            return -1;
        }
        uint32_t o = v - 1;
        if (t->tok_len[o] == n && memcmp(t->text + t->tok_off[o], s, n) == 0)
            return (int32_t)o;
        i = (i + 1) & t->slot_mask;
    }
}

/* Returns 1 when a JSON text holds the escape \u0000 (cJSON would cut the string there). */
static int has_escaped_nul(const char *s, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++) {
        if (s[i] != '\\')
            continue;
        if (memcmp(s + i, "\\u0000", 6) == 0)
            return 1;
        i++; /* skip the escaped character, so "\\\\u0000" is not taken for an escape */
    }
    return 0;
}

static int load_vocab_json(vkti_diag *d, vkti_tokenizer *t, const char *name, const char *json, size_t size)
{
    if (has_escaped_nul(json, size))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: a token contains the escape \\u0000 (NUL); not a CLIP vocabulary", name);
    cJSON *root = cJSON_ParseWithLength(json, size);
    if (!root)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not valid JSON (truncated or damaged? error near byte %zu)", name,
                         cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - json) : (size_t)0);
    int rc = VKTI_OK;
    char sbuf[64];
    if (!cJSON_IsObject(root)) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: the top level is not a JSON object {\"token\": id, ...}", name);
        goto done;
    }
    size_t n = 0;
    for (cJSON *c = root->child; c; c = c->next)
        n++;
    if (n < 2 || n > (1u << 24)) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: %zu tokens; a CLIP vocabulary has between 2 and 16777216", name, n);
        goto done;
    }
    /* ids must be 0..n-1, each once: place the strings by id, then hash them */
    const char **by_id = calloc(n, sizeof *by_id);
    if (!by_id) {
        rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
        goto done;
    }
    for (cJSON *c = root->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        size_t kl = strlen(key);
        if (!cJSON_IsNumber(c)) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: the value of \"%s\" is not a number", name, shown(key, kl, sbuf));
            break;
        }
        double v = c->valuedouble;
        if (!(v >= 0 && v < (double)n) || v != (double)(int64_t)v) {
            rc = vkti_fail(d, VKTI_E_FORMAT,
                           "%s: token \"%s\" has id %g; ids must be whole numbers from 0 to %zu (one per token)", name,
                           shown(key, kl, sbuf), v, n - 1);
            break;
        }
        size_t id = (size_t)v;
        if (kl == 0 || kl > MAX_TOKEN_BYTES || !vkti_utf8_valid((const uint8_t *)key, kl)) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: token with id %zu is empty, longer than %d bytes or not UTF-8", name,
                           id, MAX_TOKEN_BYTES);
            break;
        }
        if (by_id[id]) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: id %zu is given to two tokens (\"%s\" and another)", name, id,
                           shown(key, kl, sbuf));
            break;
        }
        by_id[id] = key;
    }
    if (rc == VKTI_OK) {
        for (size_t id = 0; id < n; id++) {
            if (push_token_text(t, by_id[id], strlen(by_id[id]))) {
                rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
                break;
            }
        }
    }
    free(by_id);
    if (rc == VKTI_OK && alloc_slots(t, n))
        rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
    for (size_t id = 0; rc == VKTI_OK && id < n; id++) {
        if (slot_insert(t, (int32_t)id) >= 0)
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: token \"%s\" appears twice", name,
                           shown(t->text + t->tok_off[id], t->tok_len[id], sbuf));
    }
    t->n_vocab = t->n_tokens;
done:
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* merges                                                                                     */

static int merge_insert(vkti_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t new_id)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)hash_u64(key) & t->mmask;
    while (t->mused[i] && t->mkeys[i] != key)
        i = (i + 1) & t->mmask;
    if (!t->mused[i])
        t->n_merges++;
    /* a pair listed twice keeps the later rank, as Rust's HashMap collect does */
    t->mused[i] = 1;
    t->mkeys[i] = key;
    t->mrank[i] = rank;
    t->mnew[i] = new_id;
    return 0;
}

static int merge_find(const vkti_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)hash_u64(key) & t->mmask;
    while (t->mused[i]) {
        if (t->mkeys[i] == key) {
            *rank = t->mrank[i];
            *new_id = t->mnew[i];
            return 1;
        }
        i = (i + 1) & t->mmask;
    }
    return 0;
}

static int alloc_merges(vkti_tokenizer *t, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    t->mkeys = malloc(cap * sizeof *t->mkeys);
    t->mrank = malloc(cap * sizeof *t->mrank);
    t->mnew = malloc(cap * sizeof *t->mnew);
    t->mused = calloc(cap, 1);
    if (!t->mkeys || !t->mrank || !t->mnew || !t->mused)
        return -1;
    t->mmask = cap - 1;
    return 0;
}

/* One merge "a b" (rank = its position): both parts and their concatenation must be tokens. */
static int add_merge(vkti_diag *d, vkti_tokenizer *t, const char *name, size_t line, const char *a, size_t an,
                     const char *b, size_t bn, uint32_t rank, char **scratch, size_t *scratch_cap)
{
    char s1[64], s2[64];
    int32_t ia = vocab_find(t, a, an), ib = vocab_find(t, b, bn);
    if (ia < 0 || ib < 0) {
        const char *which = ia < 0 ? a : b;
        size_t wn = ia < 0 ? an : bn;
        return vkti_fail(d, VKTI_E_FORMAT, "%s: line %zu: \"%s\" is not a token of the vocabulary (wrong vocab.json?)",
                         name, line, shown(which, wn, s1));
    }
    if (grow((void **)scratch, scratch_cap, an + bn + 1, 1))
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
    memcpy(*scratch, a, an);
    memcpy(*scratch + an, b, bn);
    int32_t im = vocab_find(t, *scratch, an + bn);
    if (im < 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: line %zu: merging \"%s\" and \"%s\" gives a string not in the vocabulary",
                         name, line, shown(a, an, s1), shown(b, bn, s2));
    return merge_insert(t, ia, ib, rank, im);
}

/* merges.txt as the Rust BPE reads it: UTF-8 lines ("\n" or "\r\n"), lines starting with
 * "#version" skipped, every other line exactly two parts separated by one space. */
static int load_merges_txt(vkti_diag *d, vkti_tokenizer *t, const char *name, const char *txt, size_t size)
{
    if (!vkti_utf8_valid((const uint8_t *)txt, size))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not UTF-8 text", name);
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += txt[i] == '\n';
    if (alloc_merges(t, lines + 1))
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
    char *scratch = NULL;
    size_t scap = 0;
    uint32_t rank = 0;
    size_t pos = 0, line = 0;
    int rc = VKTI_OK;
    while (pos < size && rc == VKTI_OK) {
        size_t e = pos;
        while (e < size && txt[e] != '\n')
            e++;
        size_t next = e + 1;
        line++;
        if (e > pos && txt[e - 1] == '\r' && e < size)
            e--;
        const char *s = txt + pos;
        size_t n = e - pos;
        pos = next;
        if (n >= 8 && memcmp(s, "#version", 8) == 0)
            continue;
        const char *sp = memchr(s, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s))) {
            char sb[64];
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: line %zu is \"%s\", not two tokens separated by one space", name,
                           line, shown(s, n, sb));
            break;
        }
        rc = add_merge(d, t, name, line, s, (size_t)(sp - s), sp + 1, n - (size_t)(sp + 1 - s), rank++, &scratch,
                       &scap);
    }
    free(scratch);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* byte-level alphabet (GPT-2's bytes_to_unicode)                                             */

/* order[i] = the byte of vocabulary entry i; chr[b] = the character standing for byte b. */
static void byte_alphabet(uint8_t order[256], uint32_t chr[256])
{
    int n = 0, extra = 0;
    uint8_t seen[256] = {0};
    for (int b = '!'; b <= '~'; b++)
        order[n++] = (uint8_t)b, seen[b] = 1, chr[b] = (uint32_t)b;
    for (int b = 0xA1; b <= 0xAC; b++)
        order[n++] = (uint8_t)b, seen[b] = 1, chr[b] = (uint32_t)b;
    for (int b = 0xAE; b <= 0xFF; b++)
        order[n++] = (uint8_t)b, seen[b] = 1, chr[b] = (uint32_t)b;
    for (int b = 0; b < 256; b++)
        if (!seen[b])
            order[n++] = (uint8_t)b, chr[b] = 256u + (uint32_t)extra++;
}

static void find_byte_ids(vkti_tokenizer *t)
{
    uint8_t order[256];
    uint32_t chr[256];
    byte_alphabet(order, chr);
    for (int b = 0; b < 256; b++) {
        uint8_t s[8];
        size_t n = vkti_utf8_encode(chr[b], s);
        t->byte_id[b] = vocab_find(t, (const char *)s, n);
        memcpy(s + n, "</w>", 4);
        t->byte_eow_id[b] = vocab_find(t, (const char *)s, n + 4);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* normalization: NFC, \s+ -> " ", lower-case                                                 */

/* Normalizes s[0..n) (valid UTF-8) into t->norm; returns its length, or (size_t)-1 out of memory. */
static size_t normalize(vkti_tokenizer *t, const uint8_t *s, size_t n)
{
    if (grow((void **)&t->cps, &t->cps_cap, n + 1, sizeof(uint32_t)))
        return (size_t)-1;
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t l = vkti_utf8_decode(s + i, n - i, &cp);
        t->cps[m++] = cp;
        i += l ? l : 1;
    }
    const uint32_t *cps = t->cps;
    if (!vkti_uni_nfc_quick(cps, m)) {
        if (grow((void **)&t->work, &t->work_cap, VKTI_UNI_MAX_DECOMP * m + 4, sizeof(uint32_t)))
            return (size_t)-1;
        vkti_uni_nfc(cps, m, t->work, &m);
        cps = t->work;
    }
    /* at most 2 code points of 4 bytes each per input code point */
    if (grow((void **)&t->norm, &t->norm_cap, 8 * m + 1, 1))
        return (size_t)-1;
    size_t o = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t cp = cps[i];
        if (vkti_uni_class(cp) == VKTI_UNI_SPACE) {
            t->norm[o++] = ' ';
            while (i + 1 < m && vkti_uni_class(cps[i + 1]) == VKTI_UNI_SPACE)
                i++;
            continue;
        }
        uint32_t lo[2];
        int k = vkti_uni_to_lower(cp, lo);
        for (int j = 0; j < k; j++)
            o += vkti_utf8_encode(lo[j], t->norm + o);
    }
    t->norm[o] = 0;
    return o;
}

/* ------------------------------------------------------------------------------------------ */
/* added tokens                                                                               */

static int is_space_at(const uint8_t *s, size_t n, size_t i, size_t *len)
{
    uint32_t cp = 0;
    size_t l = vkti_utf8_decode(s + i, n - i, &cp);
    *len = l ? l : 1;
    return l && vkti_uni_class(cp) == VKTI_UNI_SPACE;
}

/* Cuts s[0..n) at the added tokens of one kind (normalized or not): leftmost match, the longest
 * of those starting there; lstrip / rstrip take the whitespace around a match along. */
static int find_added(vkti_tokenizer *t, int normalized, const uint8_t *s, size_t n, span **spans, size_t *cap,
                      size_t *count)
{
    size_t k = 0;
    uint8_t first[256] = {0};
    int any = 0;
    for (size_t a = 0; a < t->n_added; a++) {
        if (t->added[a].normalized == normalized && t->added[a].pattern_len) {
            first[(uint8_t)t->added[a].pattern[0]] = 1;
            any = 1;
        }
    }
    size_t done = 0; /* end of the last piece emitted */
    for (size_t i = 0; any && i < n; i++) {
        if (!first[s[i]])
            continue;
        const added_token *best = NULL;
        for (size_t a = 0; a < t->n_added; a++) {
            const added_token *at = &t->added[a];
            if (at->normalized != normalized || !at->pattern_len || at->pattern_len > n - i)
                continue;
            if (memcmp(s + i, at->pattern, at->pattern_len) == 0 && (!best || at->pattern_len > best->pattern_len))
                best = at;
        }
        if (!best)
            continue;
        size_t start = i, stop = i + best->pattern_len;
        if (best->lstrip) {
            /* back over the whitespace that ends s[0..start), but not into the last piece */
            size_t j = start;
            while (j > done) {
                size_t p = j - 1;
                while (p > done && (s[p] & 0xC0) == 0x80)
                    p--;
                size_t l;
                if (!is_space_at(s, n, p, &l))
                    break;
                j = p;
            }
            start = j;
        }
        if (best->rstrip) {
            size_t l;
            while (stop < n && is_space_at(s, n, stop, &l))
                stop += l;
        }
        if (grow((void **)spans, cap, k + 2, sizeof(span)))
            return -1;
        if (done < start)
            (*spans)[k++] = (span){done, start, -1};
        (*spans)[k++] = (span){start, stop, best->id};
        done = stop;
        i = stop - 1;
    }
    if (grow((void **)spans, cap, k + 1, sizeof(span)))
        return -1;
    if (done < n || k == 0)
        (*spans)[k++] = (span){done, n, -1};
    *count = k;
    return 0;
}

static added_token *added_by_content(const vkti_tokenizer *t, const char *s, size_t n)
{
    for (size_t a = 0; a < t->n_added; a++)
        if (strlen(t->added[a].content) == n && memcmp(t->added[a].content, s, n) == 0)
            return &t->added[a];
    return NULL;
}

static added_token *added_by_id(const vkti_tokenizer *t, int32_t id)
{
    for (size_t a = 0; a < t->n_added; a++)
        if (t->added[a].id == id)
            return &t->added[a];
    return NULL;
}

static int set_pattern(vkti_tokenizer *t, added_token *at)
{
    free(at->pattern);
    at->pattern = NULL;
    size_t n = strlen(at->content);
    if (at->normalized) {
        size_t m = normalize(t, (const uint8_t *)at->content, n);
        if (m == (size_t)-1)
            return -1;
        at->pattern = vkti_str_dup_n((const char *)t->norm, m);
        at->pattern_len = m;
    } else {
        at->pattern = vkti_str_dup_n(at->content, n);
        at->pattern_len = n;
    }
    return at->pattern ? 0 : -1;
}

/* Hugging Face AddedVocabulary::add_tokens for one token: an existing content gets the new
 * flags, a new one the vocabulary id of its text or the next free id. */
static int register_added(vkti_diag *d, vkti_tokenizer *t, const char *content, int normalized, int special,
                          int lstrip, int rstrip, int32_t *id_out)
{
    size_t n = strlen(content);
    if (n == 0 || n > MAX_TOKEN_BYTES || !vkti_utf8_valid((const uint8_t *)content, n))
        return vkti_fail(d, VKTI_E_FORMAT, "added token is empty, longer than %d bytes, or not UTF-8",
                         MAX_TOKEN_BYTES);
    added_token *at = added_by_content(t, content, n);
    if (!at) {
        if (grow((void **)&t->added, &t->added_cap, t->n_added + 1, sizeof *t->added))
            return vkti_fail(d, VKTI_E_OOM, "out of memory adding a token");
        at = &t->added[t->n_added];
        memset(at, 0, sizeof *at);
        at->content = vkti_str_dup_n(content, n);
        if (!at->content)
            return vkti_fail(d, VKTI_E_OOM, "out of memory adding a token");
        int32_t id = vocab_find(t, content, n);
        if (id < 0) {
            id = t->next_id;
            if ((size_t)id != t->n_tokens || push_token_text(t, content, n)) {
                free(at->content);
                return vkti_fail(d, VKTI_E_OOM, "out of memory adding a token");
            }
            t->next_id++;
        }
        at->id = id;
        t->n_added++;
    }
    at->normalized = (uint8_t)normalized;
    at->special = (uint8_t)special;
    at->lstrip = (uint8_t)lstrip;
    at->rstrip = (uint8_t)rstrip;
    if (set_pattern(t, at))
        return vkti_fail(d, VKTI_E_OOM, "out of memory adding a token");
    if (id_out)
        *id_out = at->id;
    return VKTI_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* special tokens from tokenizer_config.json / special_tokens_map.json                        */

enum { N_NAMED = 7 };
static const char *const named_keys[N_NAMED] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                                "pad_token", "cls_token", "mask_token"};

typedef struct token_spec {
    char *content; /* NULL: not set */
    int normalized, special, lstrip, rstrip;
} token_spec;

static void spec_free(token_spec *s)
{
    free(s->content);
    s->content = NULL;
}

static int json_bool(const cJSON *obj, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsTrue(v))
        return 1;
    if (cJSON_IsFalse(v))
        return 0;
    return dflt;
}

/* Reads a token value: a string (special, not normalized) or an AddedToken dict whose
 * "normalized" defaults to !special, special defaulting to dict_special. null leaves *s as is. */
static int parse_token_value(vkti_diag *d, const char *name, const char *key, const cJSON *v, int dict_special,
                             token_spec *s)
{
    const char *content = NULL;
    token_spec r = {0};
    if (cJSON_IsNull(v) || !v)
        return VKTI_OK;
    if (cJSON_IsString(v)) {
        content = v->valuestring;
        r.special = 1;
        r.normalized = 0;
    } else if (cJSON_IsObject(v)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (!cJSON_IsString(c))
            return vkti_fail(d, VKTI_E_FORMAT, "%s: \"%s\" has no string \"content\"", name, key);
        content = c->valuestring;
        r.special = dict_special ? 1 : json_bool(v, "special", 0);
        r.normalized = json_bool(v, "normalized", !r.special);
        r.lstrip = json_bool(v, "lstrip", 0);
        r.rstrip = json_bool(v, "rstrip", 0);
        if (json_bool(v, "single_word", 0))
            return vkti_fail(d, VKTI_E_FORMAT, "%s: \"%s\" is a single_word token, which vkti does not support", name,
                             key);
    } else {
        return vkti_fail(d, VKTI_E_FORMAT, "%s: \"%s\" is neither a string nor an AddedToken object", name, key);
    }
    size_t n = strlen(content);
    if (n == 0 || n > MAX_TOKEN_BYTES || !vkti_utf8_valid((const uint8_t *)content, n))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: \"%s\" is empty, longer than %d bytes or not UTF-8", name, key,
                         MAX_TOKEN_BYTES);
    r.content = vkti_str_dup_n(content, n);
    if (!r.content)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    spec_free(s);
    *s = r;
    return VKTI_OK;
}

static int parse_json_object(vkti_diag *d, const char *name, const char *text, cJSON **out)
{
    *out = NULL;
    if (!text)
        return VKTI_OK;
    cJSON *j = cJSON_ParseWithLength(text, strlen(text));
    if (!j)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not valid JSON (truncated or damaged?)", name);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the top level is not a JSON object", name);
    }
    *out = j;
    return VKTI_OK;
}

typedef struct decoder_entry {
    long idx;
    token_spec spec;
} decoder_entry;

static int cmp_decoder_entry(const void *a, const void *b)
{
    long x = ((const decoder_entry *)a)->idx, y = ((const decoder_entry *)b)->idx;
    return (x > y) - (x < y);
}

static int setup_special_tokens(vkti_diag *d, vkti_tokenizer *t, const char *config_text, const char *map_text)
{
    token_spec named[N_NAMED] = {{0}};
    decoder_entry *entries = NULL;
    size_t n_entries = 0;
    cJSON *config = NULL, *map = NULL;
    int rc = VKTI_OK;
    static const char *const defaults[N_NAMED] = {"<|startoftext|>", "<|endoftext|>", "<|endoftext|>", NULL,
                                                  "<|endoftext|>", NULL, NULL};
    for (int k = 0; k < N_NAMED; k++) {
        if (defaults[k]) {
            named[k].content = vkti_str_dup_n(defaults[k], strlen(defaults[k]));
            named[k].special = 1;
            if (!named[k].content) {
                rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
                goto done;
            }
        }
    }
    if ((rc = parse_json_object(d, "tokenizer_config.json", config_text, &config)) ||
        (rc = parse_json_object(d, "special_tokens_map.json", map_text, &map)))
        goto done;
    const cJSON *atd = config ? cJSON_GetObjectItemCaseSensitive(config, "added_tokens_decoder") : NULL;
    if (atd && !cJSON_IsObject(atd)) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "tokenizer_config.json: \"added_tokens_decoder\" is not an object");
        goto done;
    }
    for (int k = 0; config && k < N_NAMED; k++)
        if ((rc = parse_token_value(d, "tokenizer_config.json", named_keys[k],
                                    cJSON_GetObjectItemCaseSensitive(config, named_keys[k]), 0, &named[k])))
            goto done;
    if (!atd) {
        for (int k = 0; map && k < N_NAMED; k++)
            if ((rc = parse_token_value(d, "special_tokens_map.json", named_keys[k],
                                        cJSON_GetObjectItemCaseSensitive(map, named_keys[k]), 1, &named[k])))
                goto done;
    } else {
        for (const cJSON *e = atd->child; e; e = e->next)
            n_entries++;
        entries = calloc(n_entries ? n_entries : 1, sizeof *entries);
        if (!entries) {
            rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
            goto done;
        }
        size_t i = 0;
        for (const cJSON *e = atd->child; e; e = e->next, i++) {
            char *endp = NULL;
            entries[i].idx = strtol(e->string ? e->string : "", &endp, 10);
            if (!e->string || !e->string[0] || *endp || entries[i].idx < 0 || !cJSON_IsObject(e)) {
                rc = vkti_fail(d, VKTI_E_FORMAT, "tokenizer_config.json: added_tokens_decoder entry \"%s\" is not "
                               "an id with an AddedToken object", e->string ? e->string : "");
                goto done;
            }
            if ((rc = parse_token_value(d, "tokenizer_config.json", "added_tokens_decoder", e, 0, &entries[i].spec)))
                goto done;
        }
        qsort(entries, n_entries, sizeof *entries, cmp_decoder_entry);
        /* named tokens take the flags of the entry with their content */
        for (int k = 0; k < N_NAMED; k++) {
            for (size_t j = 0; named[k].content && j < n_entries; j++) {
                if (strcmp(entries[j].spec.content, named[k].content) == 0) {
                    char *c = named[k].content;
                    named[k] = entries[j].spec;
                    named[k].content = c;
                }
            }
        }
    }
    for (size_t j = 0; j < n_entries; j++) {
        const token_spec *s = &entries[j].spec;
        if ((rc = register_added(d, t, s->content, s->normalized, s->special, s->lstrip, s->rstrip, NULL)))
            goto done;
    }
    int32_t ids[N_NAMED];
    for (int k = 0; k < N_NAMED; k++) {
        const token_spec *s = &named[k];
        ids[k] = -1;
        if (s->content &&
            (rc = register_added(d, t, s->content, s->normalized, 1, s->lstrip, s->rstrip, &ids[k])))
            goto done;
    }
    t->bos = ids[0], t->eos = ids[1], t->unk = ids[2], t->pad = ids[4];
    if (t->bos < 0 || t->eos < 0 || t->pad < 0 || t->unk < 0)
        rc = vkti_fail(d, VKTI_E_FORMAT, "the tokenizer configuration sets bos, eos, unk or pad to null");
done:
    for (int k = 0; k < N_NAMED; k++)
        spec_free(&named[k]);
    for (size_t j = 0; j < n_entries; j++)
        spec_free(&entries[j].spec);
    free(entries);
    cJSON_Delete(config);
    cJSON_Delete(map);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* construction                                                                               */

static vkti_tokenizer *tokenizer_new(const char *source)
{
    vkti_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    snprintf(t->source, sizeof t->source, "%s", source ? source : "");
    t->bos = t->eos = t->unk = t->pad = -1;
    return t;
}

static int finish(vkti_diag *d, vkti_tokenizer *t, const char *config_text, const char *map_text)
{
    find_byte_ids(t);
    t->next_id = (int32_t)t->n_vocab;
    t->cslots = calloc(2 * BPE_CACHE_ENTRIES, sizeof(uint32_t));
    t->centries = malloc(BPE_CACHE_ENTRIES * sizeof *t->centries);
    if (!t->cslots || !t->centries)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    return setup_special_tokens(d, t, config_text, map_text);
}

int vkti_tokenizer_from_memory(vkti_diag *d, const char *name, const char *vocab_json, size_t vocab_size,
                               const char *merges_txt, size_t merges_size, const char *tokenizer_config,
                               const char *special_tokens_map, vkti_tokenizer **out)
{
    *out = NULL;
    vkti_tokenizer *t = tokenizer_new(name);
    if (!t)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    char what[1100];
    int rc;
    snprintf(what, sizeof what, "%s (vocab.json)", name);
    if ((rc = load_vocab_json(d, t, what, vocab_json, vocab_size)))
        goto fail;
    snprintf(what, sizeof what, "%s (merges.txt)", name);
    if ((rc = load_merges_txt(d, t, what, merges_txt, merges_size)))
        goto fail;
    if ((rc = finish(d, t, tokenizer_config, special_tokens_map))) {
        rc = vkti_fail_wrap(d, rc, "%s", name);
        goto fail;
    }
    *out = t;
    return VKTI_OK;
fail:
    vkti_tokenizer_free(t);
    return rc;
}

static int read_optional(vkti_diag *d, const char *dir, const char *file, char **text)
{
    *text = NULL;
    if (!dir)
        return VKTI_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!vkti_file_exists(path))
        return VKTI_OK;
    uint8_t *data;
    size_t size;
    int rc = vkti_file_read(d, path, VKTI_TOKENIZER_MAX_FILE, &data, &size);
    if (rc)
        return rc;
    if (strlen((const char *)data) != size) {
        free(data);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: contains a NUL byte; not a JSON text file", path);
    }
    *text = (char *)data;
    return VKTI_OK;
}

int vkti_tokenizer_load_files(vkti_diag *d, const char *vocab_json, const char *merges_txt, const char *config_dir,
                              vkti_tokenizer **out)
{
    *out = NULL;
    uint8_t *v = NULL, *m = NULL;
    char *cfg = NULL, *map = NULL;
    size_t vn = 0, mn = 0;
    int rc;
    if ((rc = vkti_file_read(d, vocab_json, VKTI_TOKENIZER_MAX_FILE, &v, &vn)) ||
        (rc = vkti_file_read(d, merges_txt, VKTI_TOKENIZER_MAX_FILE, &m, &mn)) ||
        (rc = read_optional(d, config_dir, "tokenizer_config.json", &cfg)) ||
        (rc = read_optional(d, config_dir, "special_tokens_map.json", &map)))
        goto done;
    vkti_tokenizer *t = tokenizer_new(vocab_json);
    if (!t) {
        rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
        goto done;
    }
    if ((rc = load_vocab_json(d, t, vocab_json, (const char *)v, vn)) ||
        (rc = load_merges_txt(d, t, merges_txt, (const char *)m, mn))) {
        vkti_tokenizer_free(t);
        goto done;
    }
    if ((rc = finish(d, t, cfg, map))) {
        rc = vkti_fail_wrap(d, rc, "%s", config_dir ? config_dir : vocab_json);
        vkti_tokenizer_free(t);
        goto done;
    }
    snprintf(t->source, sizeof t->source, "%s", config_dir ? config_dir : vocab_json);
    *out = t;
done:
    free(v);
    free(m);
    free(cfg);
    free(map);
    return rc;
}

/* The vocabulary simple_tokenizer.py builds from bpe_simple_vocab_16e6.txt.gz. */
static int build_from_simple_vocab(vkti_diag *d, vkti_tokenizer *t, const char *name, const char *txt, size_t size)
{
    if (!vkti_utf8_valid((const uint8_t *)txt, size))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not UTF-8 text", name);
    /* lines[1 : 1 + SIMPLE_VOCAB_MERGES], each split on whitespace into two parts */
    size_t cap = 0, n = 0;
    struct part { const char *a; size_t an; const char *b; size_t bn; size_t line; } *parts = NULL;
    size_t pos = 0, line = 0;
    int rc = VKTI_OK;
    char sb[64];
    while (pos <= size && n < SIMPLE_VOCAB_MERGES) {
        size_t e = pos;
        while (e < size && txt[e] != '\n')
            e++;
        const char *s = txt + pos;
        size_t len = e - pos;
        pos = e + 1;
        if (e >= size && len == 0)
            break; /* the empty string after a final newline is no merge */
        if (line++ == 0)
            continue;
        size_t i = 0, k = 0;
        const char *p[3] = {0};
        size_t pl[3] = {0};
        while (i < len && k < 3) {
            while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
                i++;
            if (i >= len)
                break;
            size_t st = i;
            while (i < len && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
                i++;
            p[k] = s + st, pl[k] = i - st, k++;
        }
        if (k != 2) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: line %zu is \"%s\", not two symbols", name, line,
                           shown(s, len, sb));
            goto done;
        }
        if (grow((void **)&parts, &cap, n + 1, sizeof *parts)) {
            rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
            goto done;
        }
        parts[n++] = (struct part){p[0], pl[0], p[1], pl[1], line};
        if (e >= size)
            break;
    }
    if (n == 0) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: no merges (empty or truncated file)", name);
        goto done;
    }
    uint8_t order[256];
    uint32_t chr[256];
    byte_alphabet(order, chr);
    int failed = 0;
    for (int pass = 0; pass < 2 && !failed; pass++) {
        for (int i = 0; i < 256 && !failed; i++) {
            uint8_t u[8];
            size_t l = vkti_utf8_encode(chr[order[i]], u);
            if (pass)
                memcpy(u + l, "</w>", 4), l += 4;
            failed = push_token_text(t, (const char *)u, l);
        }
    }
    char *joined = NULL;
    size_t jcap = 0;
    for (size_t i = 0; i < n && !failed; i++) {
        if (grow((void **)&joined, &jcap, parts[i].an + parts[i].bn, 1)) {
            failed = 1;
            break;
        }
        memcpy(joined, parts[i].a, parts[i].an);
        memcpy(joined + parts[i].an, parts[i].b, parts[i].bn);
        failed = push_token_text(t, joined, parts[i].an + parts[i].bn);
    }
    free(joined);
    if (!failed)
        failed = push_token_text(t, "<|startoftext|>", 15) || push_token_text(t, "<|endoftext|>", 13);
    if (failed || alloc_slots(t, t->n_tokens) || alloc_merges(t, n)) {
        rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
        goto done;
    }
    t->n_vocab = t->n_tokens;
    for (size_t id = 0; id < t->n_vocab; id++) {
        if (slot_insert(t, (int32_t)id) >= 0) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: the merges make the token \"%s\" twice", name,
                           shown(t->text + t->tok_off[id], t->tok_len[id], sb));
            goto done;
        }
    }
    char *scratch = NULL;
    size_t scap = 0;
    for (size_t i = 0; i < n && rc == VKTI_OK; i++)
        rc = add_merge(d, t, name, parts[i].line, parts[i].a, parts[i].an, parts[i].b, parts[i].bn, (uint32_t)i,
                       &scratch, &scap);
    free(scratch);
done:
    free(parts);
    return rc;
}

int vkti_tokenizer_load_bpe_gz(vkti_diag *d, const char *gz_path, vkti_tokenizer **out)
{
    *out = NULL;
    uint8_t *gz = NULL, *txt = NULL;
    size_t gn = 0, tn = 0;
    int rc;
    if ((rc = vkti_file_read(d, gz_path, VKTI_TOKENIZER_MAX_FILE, &gz, &gn)) ||
        (rc = vkti_gunzip(d, gz_path, gz, gn, VKTI_TOKENIZER_MAX_FILE, &txt, &tn)))
        goto done;
    vkti_tokenizer *t = tokenizer_new(gz_path);
    if (!t) {
        rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
        goto done;
    }
    if ((rc = build_from_simple_vocab(d, t, gz_path, (const char *)txt, tn)) || (rc = finish(d, t, NULL, NULL))) {
        vkti_tokenizer_free(t);
        goto done;
    }
    *out = t;
done:
    free(gz);
    free(txt);
    return rc;
}

int vkti_tokenizer_load(vkti_diag *d, const char *dir, vkti_tokenizer **out)
{
    char vocab[4200], merges[4200], gz[4200];
    snprintf(vocab, sizeof vocab, "%s/vocab.json", dir);
    snprintf(merges, sizeof merges, "%s/merges.txt", dir);
    snprintf(gz, sizeof gz, "%s/bpe_simple_vocab_16e6.txt.gz", dir);
    if (vkti_file_exists(vocab) && vkti_file_exists(merges))
        return vkti_tokenizer_load_files(d, vocab, merges, dir, out);
    if (vkti_file_exists(gz))
        return vkti_tokenizer_load_bpe_gz(d, gz, out);
    *out = NULL;
    return vkti_fail(d, VKTI_E_IO,
                     "%s: no CLIP tokenizer here (neither vocab.json + merges.txt nor bpe_simple_vocab_16e6.txt.gz)",
                     dir);
}

void vkti_tokenizer_free(vkti_tokenizer *t)
{
    if (!t)
        return;
    for (size_t a = 0; a < t->n_added; a++) {
        free(t->added[a].content);
        free(t->added[a].pattern);
    }
    free(t->added);
    free(t->text);
    free(t->tok_off);
    free(t->tok_len);
    free(t->slots);
    free(t->mkeys);
    free(t->mrank);
    free(t->mnew);
    free(t->mused);
    free(t->centries);
    free(t->cslots);
    free(t->cache_keys);
    free(t->cache_ids);
    free(t->cps);
    free(t->work);
    free(t->norm);
    free(t->ids);
    free(t->raw_spans);
    free(t->norm_spans);
    free(t->syms);
    free(t->heap);
    free(t);
}

/* ------------------------------------------------------------------------------------------ */
/* BPE                                                                                        */

static int push_id(vkti_tokenizer *t, int32_t id)
{
    if (grow((void **)&t->ids, &t->ids_cap, t->ids_len + 1, sizeof(int32_t)))
        return -1;
    t->ids[t->ids_len++] = id;
    return 0;
}

static int heap_less(const heap_item *a, const heap_item *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(heap_item *h, size_t *n, heap_item x)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&x, &h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static heap_item heap_pop(heap_item *h, size_t *n)
{
    heap_item top = h[0], x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const heap_item *best = &x;
        if (l < *n && heap_less(&h[l], best))
            m = l, best = &h[l];
        if (r < *n && heap_less(&h[r], best))
            m = r;
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    if (*n)
        h[i] = x;
    return top;
}

static void maybe_push_pair(const vkti_tokenizer *t, heap_item *heap, size_t *hn, size_t pos)
{
    const symbol *s = &t->syms[pos];
    if (s->next < 0)
        return;
    uint32_t rank;
    int32_t nid;
    if (merge_find(t, s->c, t->syms[s->next].c, &rank, &nid))
        heap_push(heap, hn, (heap_item){rank, (uint32_t)pos, nid});
}

/* Tokenizes one pre-token (its bytes): the Rust BPE merge_word + Word::merge_all. */
static int bpe_word(vkti_tokenizer *t, const uint8_t *w, size_t n)
{
    uint64_t h = 0;
    if (n < BPE_CACHE_MAX_WORD) {
        h = hash_bytes(w, n);
        size_t i = (size_t)h & (2 * BPE_CACHE_ENTRIES - 1);
        while (t->cslots[i]) {
            const cache_entry *e = &t->centries[t->cslots[i] - 1];
            if (e->hash == h && e->key_len == n && memcmp(t->cache_keys + e->key_off, w, n) == 0) {
                if (grow((void **)&t->ids, &t->ids_cap, t->ids_len + e->ids_len, sizeof(int32_t)))
                    return -1;
                memcpy(t->ids + t->ids_len, t->cache_ids + e->ids_off, e->ids_len * sizeof(int32_t));
                t->ids_len += e->ids_len;
                return 0;
            }
            i = (i + 1) & (2 * BPE_CACHE_ENTRIES - 1);
        }
    }
    if (grow((void **)&t->syms, &t->syms_cap, n, sizeof(symbol)) ||
        grow((void **)&t->heap, &t->heap_cap, 3 * n + 1, sizeof(heap_item)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int32_t id = i + 1 == n ? t->byte_eow_id[w[i]] : t->byte_id[w[i]];
        t->syms[i] = (symbol){id >= 0 ? id : t->unk, (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1, 1};
    }
    size_t hn = 0;
    for (size_t i = 0; i + 1 < n; i++)
        maybe_push_pair(t, t->heap, &hn, i);
    while (hn) {
        heap_item top = heap_pop(t->heap, &hn);
        symbol *s = &t->syms[top.pos];
        if (s->len == 0 || s->next < 0)
            continue;
        symbol right = t->syms[s->next];
        uint32_t rank;
        int32_t nid;
        if (!merge_find(t, s->c, right.c, &rank, &nid) || nid != top.new_id)
            continue; /* an outdated entry */
        t->syms[s->next].len = 0;
        s->c = top.new_id;
        s->len += right.len;
        s->next = right.next;
        if (right.next >= 0)
            t->syms[right.next].prev = (int32_t)top.pos;
        if (s->prev >= 0)
            maybe_push_pair(t, t->heap, &hn, (size_t)s->prev);
        maybe_push_pair(t, t->heap, &hn, top.pos);
    }
    size_t first = t->ids_len;
    for (size_t i = 0; i < n; i++)
        if (t->syms[i].len && push_id(t, t->syms[i].c))
            return -1;
    if (n < BPE_CACHE_MAX_WORD && t->n_centries < BPE_CACHE_ENTRIES) {
        size_t k = t->ids_len - first;
        if (grow((void **)&t->cache_keys, &t->ckeys_cap, t->ckeys_len + n, 1) ||
            grow((void **)&t->cache_ids, &t->cids_cap, t->cids_len + k, sizeof(int32_t)))
            return -1;
        cache_entry *e = &t->centries[t->n_centries];
        *e = (cache_entry){h, (uint32_t)t->ckeys_len, (uint32_t)n, (uint32_t)t->cids_len, (uint32_t)k};
        memcpy(t->cache_keys + t->ckeys_len, w, n);
        memcpy(t->cache_ids + t->cids_len, t->ids + first, k * sizeof(int32_t));
        t->ckeys_len += n;
        t->cids_len += k;
        size_t i = (size_t)h & (2 * BPE_CACHE_ENTRIES - 1);
        while (t->cslots[i])
            i = (i + 1) & (2 * BPE_CACHE_ENTRIES - 1);
        t->cslots[i] = (uint32_t)++t->n_centries;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* pre-tokenization                                                                           */

static int class_at(const uint8_t *s, size_t n, size_t i, size_t *len)
{
    uint32_t cp = 0;
    size_t l = vkti_utf8_decode(s + i, n - i, &cp);
    *len = l ? l : 1;
    return vkti_uni_class(cp);
}

/* Splits normalized text s[0..n) as the CLIP Split regex + ByteLevel do, and BPEs each piece. */
static int pretokenize(vkti_tokenizer *t, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t l;
        int cls = class_at(s, n, i, &l);
        if (cls == VKTI_UNI_SPACE) {
            i += l;
            continue;
        }
        if (s[i] == '<') {
            size_t m = 0;
            if (n - i >= 15 && memcmp(s + i, "<|startoftext|>", 15) == 0)
                m = 15;
            else if (n - i >= 13 && memcmp(s + i, "<|endoftext|>", 13) == 0)
                m = 13;
            if (m) { /* ByteLevel's regex splits the piece into "<|", the word, "|>" */
                if (bpe_word(t, s + i, 2) || bpe_word(t, s + i + 2, m - 4) || bpe_word(t, s + i + m - 2, 2))
                    return -1;
                i += m;
                continue;
            }
        }
        if (s[i] == '\'' && n - i >= 2) {
            size_t m = 0;
            uint8_t c1 = s[i + 1], c2 = n - i >= 3 ? s[i + 2] : 0;
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
                m = 2;
            else if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
                m = 3;
            if (m) {
                if (bpe_word(t, s + i, m))
                    return -1;
                i += m;
                continue;
            }
        }
        size_t j = i + l;
        if (cls == VKTI_UNI_LETTER || cls == VKTI_UNI_OTHER) {
            while (j < n) {
                size_t l2;
                if (class_at(s, n, j, &l2) != cls)
                    break;
                j += l2;
            }
        }
        if (bpe_word(t, s + i, j - i))
            return -1;
        i = j;
    }
    return 0;
}

/* All token ids of text (no bos/eos) into t->ids. */
static int encode_ids(vkti_diag *d, vkti_tokenizer *t, const char *text)
{
    t->ids_len = 0;
    size_t n = strlen(text);
    if (n > VKTI_TOKENIZER_MAX_TEXT)
        return vkti_fail(d, VKTI_E_INVALID, "text of %zu bytes is longer than the %u a prompt may have", n,
                         VKTI_TOKENIZER_MAX_TEXT);
    const uint8_t *s = (const uint8_t *)text;
    if (!vkti_utf8_valid(s, n))
        return vkti_fail(d, VKTI_E_INVALID, "text is not valid UTF-8: \"%.60s\"", text);
    size_t n_raw;
    if (find_added(t, 0, s, n, &t->raw_spans, &t->raw_cap, &n_raw))
        goto oom;
    for (size_t r = 0; r < n_raw; r++) {
        span rs = t->raw_spans[r];
        if (rs.id >= 0) {
            if (push_id(t, rs.id))
                goto oom;
            continue;
        }
        if (rs.end == rs.start)
            continue;
        size_t m = normalize(t, s + rs.start, rs.end - rs.start);
        if (m == (size_t)-1)
            goto oom;
        size_t n_norm;
        if (find_added(t, 1, t->norm, m, &t->norm_spans, &t->norm_cap_spans, &n_norm))
            goto oom;
        for (size_t k = 0; k < n_norm; k++) {
            span ns = t->norm_spans[k];
            if (ns.id >= 0) {
                if (push_id(t, ns.id))
                    goto oom;
            } else if (pretokenize(t, t->norm + ns.start, ns.end - ns.start)) {
                goto oom;
            }
        }
    }
    return VKTI_OK;
oom:
    return vkti_fail(d, VKTI_E_OOM, "out of memory tokenizing a text of %zu bytes", n);
}

/* ------------------------------------------------------------------------------------------ */
/* public API                                                                                 */

int vkti_tokenizer_encode(vkti_diag *d, vkti_tokenizer *t, const char *text, int32_t *ids, int length, int *used,
                          int *truncated)
{
    if (length < 2)
        return vkti_fail(d, VKTI_E_INVALID, "encode: length %d leaves no room for bos and eos", length);
    int rc = encode_ids(d, t, text);
    if (rc)
        return rc;
    size_t keep = t->ids_len < (size_t)length - 2 ? t->ids_len : (size_t)length - 2;
    ids[0] = t->bos;
    memcpy(ids + 1, t->ids, keep * sizeof(int32_t));
    ids[1 + keep] = t->eos;
    for (size_t i = keep + 2; i < (size_t)length; i++)
        ids[i] = t->pad;
    if (used)
        *used = (int)keep + 2;
    if (truncated)
        *truncated = keep < t->ids_len;
    return VKTI_OK;
}

int vkti_tokenizer_tokenize(vkti_diag *d, vkti_tokenizer *t, const char *text, int32_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    int rc = encode_ids(d, t, text);
    if (rc)
        return rc;
    int32_t *r = malloc((t->ids_len ? t->ids_len : 1) * sizeof(int32_t));
    if (!r)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    memcpy(r, t->ids, t->ids_len * sizeof(int32_t));
    *ids = r;
    *n = t->ids_len;
    return VKTI_OK;
}

int vkti_tokenizer_single_token(vkti_diag *d, vkti_tokenizer *t, const char *text, int32_t *id)
{
    int rc = encode_ids(d, t, text);
    if (rc)
        return rc;
    if (t->ids_len != 1)
        return 0;
    if (id)
        *id = t->ids[0];
    return 1;
}

int vkti_tokenizer_add_token(vkti_diag *d, vkti_tokenizer *t, const char *token, int32_t *id)
{
    size_t n = strlen(token);
    if (n == 0)
        return vkti_fail(d, VKTI_E_INVALID, "the new token is empty");
    if (vocab_find(t, token, n) >= 0 || added_by_content(t, token, n))
        return vkti_fail(d, VKTI_E_INVALID,
                         "\"%s\" is already a token of the tokenizer (id %d); choose another placeholder, "
                         "e.g. one in angle brackets like <my-thing>",
                         token, (int)vkti_tokenizer_token_id(t, token));
    return register_added(d, t, token, 1, 0, 0, 0, id);
}

int vkti_tokenizer_set_pad_token(vkti_diag *d, vkti_tokenizer *t, const char *token)
{
    int32_t id;
    int rc = register_added(d, t, token, 0, 1, 0, 0, &id);
    if (rc == VKTI_OK)
        t->pad = id;
    return rc;
}

int32_t vkti_tokenizer_token_id(const vkti_tokenizer *t, const char *token)
{
    size_t n = strlen(token);
    const added_token *at = added_by_content(t, token, n);
    return at ? at->id : vocab_find(t, token, n);
}

const char *vkti_tokenizer_token_text(const vkti_tokenizer *t, int32_t id)
{
    if (id < 0 || (size_t)id >= t->n_tokens)
        return NULL;
    return t->text + t->tok_off[id];
}

int vkti_tokenizer_decode(vkti_diag *d, const vkti_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                          char **text)
{
    *text = NULL;
    uint8_t order[256];
    uint32_t chr[256];
    byte_alphabet(order, chr);
    int16_t byte_of[512]; /* byte-level character (all < 512) -> byte */
    for (int i = 0; i < 512; i++)
        byte_of[i] = -1;
    for (int b = 0; b < 256; b++)
        byte_of[chr[b]] = (int16_t)b;
    size_t cap = 0, len = 0;
    uint8_t *bytes = NULL;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= t->n_tokens)
            continue;
        const added_token *at = added_by_id(t, ids[i]);
        if (at && at->special && skip_special)
            continue;
        const char *s = at ? at->pattern : t->text + t->tok_off[ids[i]];
        size_t sl = at ? at->pattern_len : t->tok_len[ids[i]];
        if (grow((void **)&bytes, &cap, len + sl + 1, 1)) {
            free(bytes);
            return vkti_fail(d, VKTI_E_OOM, "out of memory");
        }
        /* every character a byte-level one: their bytes; otherwise the token's own UTF-8 */
        size_t o = len, j = 0;
        int all = 1;
        while (j < sl) {
            uint32_t cp = 0;
            size_t l = vkti_utf8_decode((const uint8_t *)s + j, sl - j, &cp);
            if (!l || cp >= 512 || byte_of[cp] < 0) {
                all = 0;
                break;
            }
            bytes[o++] = (uint8_t)byte_of[cp];
            j += l;
        }
        if (!all) {
            memcpy(bytes + len, s, sl);
            o = len + sl;
        }
        len = o;
    }
    /* invalid UTF-8 -> U+FFFD, "</w>" -> " ", then trim */
    char *out = malloc(3 * len + 1);
    if (!out) {
        free(bytes);
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t l = vkti_utf8_decode(bytes + i, len - i, &cp);
        if (!l) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else if (len - i >= 4 && memcmp(bytes + i, "</w>", 4) == 0) {
            out[o++] = ' ';
            i += 4;
        } else {
            memcpy(out + o, bytes + i, l);
            o += l;
            i += l;
        }
    }
    free(bytes);
    size_t b = 0, e = o, l;
    while (b < e && is_space_at((const uint8_t *)out, e, b, &l))
        b += l;
    while (e > b) {
        size_t p = e - 1;
        while (p > b && ((uint8_t)out[p] & 0xC0) == 0x80)
            p--;
        if (!is_space_at((const uint8_t *)out, e, p, &l))
            break;
        e = p;
    }
    memmove(out, out + b, e - b);
    out[e - b] = 0;
    *text = out;
    return VKTI_OK;
}

const char *vkti_tokenizer_source(const vkti_tokenizer *t) { return t->source; }
size_t vkti_tokenizer_vocab_size(const vkti_tokenizer *t) { return t->n_vocab; }
size_t vkti_tokenizer_size(const vkti_tokenizer *t) { return t->n_tokens; }
int32_t vkti_tokenizer_bos(const vkti_tokenizer *t) { return t->bos; }
int32_t vkti_tokenizer_eos(const vkti_tokenizer *t) { return t->eos; }
int32_t vkti_tokenizer_pad(const vkti_tokenizer *t) { return t->pad; }
