/* test_pickle.c — the pickle interpreter on plain data: the same object pickled by Python with
 * protocols 0 to 5 (tests/data/io/values_p*.pkl, from tools/gen_io_fixtures.py) must give the same
 * tree; hand-written pickles cover the remaining opcodes (Python 2 strings, text numbers, marks,
 * stack operations) and the limits at their edges. No hooks are given, so any global is refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/pickle.h"
#include "check.h"

static const vkti_pk_value *get(const vkti_pk_value *dict, const char *key) { return vkti_pk_get(dict, key); }

static int is_int(const vkti_pk_value *v, int64_t i) { return v && v->kind == VKTI_PK_INT && v->i == i; }
static int is_bool(const vkti_pk_value *v, int b) { return v && v->kind == VKTI_PK_BOOL && v->i == b; }

static void check_values(const char *file, int proto)
{
    vkti_diag d = {0};
    uint8_t *data;
    size_t size;
    if (vkti_file_read(&d, file, 1 << 20, &data, &size)) {
        CHECK(0, "%s", d.msg);
        return;
    }
    vkti_pickle *pk;
    int rc = vkti_pickle_load(&d, &pk, file, data, size, NULL);
    CHECK(rc == 0, "protocol %d: %s", proto, d.msg);
    if (rc) {
        free(data);
        return;
    }
    const vkti_pk_value *r = vkti_pickle_root(pk);
    CHECK(r->kind == VKTI_PK_DICT, "p%d root is a %s", proto, vkti_pk_kind_name(r->kind));
    CHECK(is_int(get(r, "int"), 1) && is_int(get(r, "neg"), -5), "p%d small ints", proto);
    CHECK(is_int(get(r, "big"), (int64_t)1 << 40), "p%d 2^40", proto);
    CHECK(is_int(get(r, "min"), INT64_MIN) && is_int(get(r, "max"), INT64_MAX), "p%d int64 extremes", proto);
    const vkti_pk_value *f = get(r, "float");
    CHECK(f && f->kind == VKTI_PK_FLOAT && f->f == 1.5, "p%d float", proto);
    CHECK(vkti_pk_is_str(get(r, "str"), "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x90\xb1 \\u0041"), "p%d unicode string: %s",
          proto, get(r, "str") ? get(r, "str")->s : "(none)");
    CHECK(vkti_pk_is_str(get(r, "empty"), ""), "p%d empty string", proto);
    const vkti_pk_value *t = get(r, "tuple");
    CHECK(t && t->kind == VKTI_PK_TUPLE && t->count == 3 && is_int(t->items[0], 1) && is_int(t->items[2], 3),
          "p%d tuple", proto);
    const vkti_pk_value *l = get(r, "list");
    CHECK(l && l->kind == VKTI_PK_LIST && l->count == 2 && is_int(l->items[0], 1) && l->items[1]->kind == VKTI_PK_LIST &&
              l->items[1]->count == 2 && is_int(l->items[1]->items[1], 3),
          "p%d nested list", proto);
    CHECK(get(r, "none") && get(r, "none")->kind == VKTI_PK_NONE, "p%d None", proto);
    CHECK(is_bool(get(r, "true"), 1) && is_bool(get(r, "false"), 0), "p%d bools", proto);
    const vkti_pk_value *sh = get(r, "shared");
    CHECK(sh && sh->count == 2 && sh->items[0] == sh->items[1] && is_int(sh->items[0]->items[0], 7),
          "p%d shared reference is one value", proto);
    const vkti_pk_value *b = get(get(get(r, "nested"), "a"), "b");
    CHECK(b && b->kind == VKTI_PK_TUPLE && b->count == 1 && b->items[0]->f == 4.25, "p%d nested dicts", proto);
    if (proto >= 3) {
        const vkti_pk_value *by = get(r, "bytes");
        CHECK(by && by->kind == VKTI_PK_BYTES && by->len == 2 && !memcmp(by->s, "\x00\xff", 2), "p%d bytes", proto);
    }
    if (proto >= 4) {
        const vkti_pk_value *s = get(r, "set");
        CHECK(s && s->kind == VKTI_PK_SET && s->count == 1 && is_int(s->items[0], 1), "p%d set", proto);
    }
    vkti_pickle_free(pk);
    free(data);
}

/* Loads a hand-written pickle; want_error: NULL to expect success, else a text of the message. */
static vkti_pickle *load(const char *name, const char *bytes, size_t n, const char *want_error)
{
    vkti_diag d = {0};
    vkti_pickle *pk = NULL;
    int rc = vkti_pickle_load(&d, &pk, name, (const uint8_t *)bytes, n, NULL);
    if (want_error) {
        CHECK(rc < 0 && strstr(d.msg, want_error), "%s: expected an error with \"%s\", got: %s", name, want_error,
              rc ? d.msg : "success");
        return NULL;
    }
    CHECK(rc == 0, "%s: %s", name, d.msg);
    return rc ? NULL : pk;
}
#define LOAD(name, lit, err) load(name, lit, sizeof(lit) - 1, err)

static void check_opcodes(void)
{
    vkti_pickle *pk;
    /* Python 2 strings: STRING with escapes, BINSTRING, SHORT_BINSTRING; text numbers */
    pk = LOAD("py2 strings", "(S'a\\x41\\n\\'\\\\\\101'\nT\x02\x00\x00\x00hiU\x01xL123L\nI01\nI-7\nF-2.5e3\nl.", NULL);
    if (pk) {
        const vkti_pk_value *r = vkti_pickle_root(pk);
        CHECK(r->kind == VKTI_PK_LIST && r->count == 7, "py2 list of 7");
        if (r->count == 7) {
            CHECK(vkti_pk_is_str(r->items[0], "aA\n'\\A"), "STRING escapes: %s", r->items[0]->s);
            CHECK(vkti_pk_is_str(r->items[1], "hi") && vkti_pk_is_str(r->items[2], "x"), "BINSTRING/SHORT_BINSTRING");
            CHECK(is_int(r->items[3], 123) && is_bool(r->items[4], 1) && is_int(r->items[5], -7), "LONG/INT text");
            CHECK(r->items[6]->kind == VKTI_PK_FLOAT && r->items[6]->f == -2500.0, "FLOAT text");
        }
        vkti_pickle_free(pk);
    }
    /* memo by text (PUT/GET), DUP, POP, POP_MARK, TUPLE1-3, DICT from a mark, LONG1 signs */
    /* (C hex escapes run on over hex digits: literals are split after them) */
    pk = LOAD("stack ops", "\x80\x02K\x05p7\n0g7\n2\x86(K\x01K\x02\x31(X\x01\x00\x00\x00kK\x09"
                           "d\x8a\x01\xff\x87.", NULL);
    if (pk) {
        const vkti_pk_value *r = vkti_pickle_root(pk);
        CHECK(r->kind == VKTI_PK_TUPLE && r->count == 3, "TUPLE3 of 3");
        if (r->count == 3) {
            const vkti_pk_value *t2 = r->items[0];
            CHECK(t2->kind == VKTI_PK_TUPLE && t2->count == 2 && is_int(t2->items[0], 5) && is_int(t2->items[1], 5),
                  "PUT/POP/GET/DUP/TUPLE2");
            CHECK(is_int(vkti_pk_get(r->items[1], "k"), 9), "DICT from a mark");
            CHECK(is_int(r->items[2], -1), "LONG1 -1");
        }
        vkti_pickle_free(pk);
    }
    pk = LOAD("long1 9 bytes", "\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\x7f\x00.", NULL);
    if (pk) {
        CHECK(is_int(vkti_pickle_root(pk), INT64_MAX), "LONG1 of 9 bytes holding 2^63-1");
        vkti_pickle_free(pk);
    }
    pk = LOAD("binfloat", "\x80\x02G\x40\x09\x21\xfb\x54\x44\x2d\x18.", NULL);
    if (pk) {
        CHECK(vkti_pickle_root(pk)->f == 3.141592653589793, "BINFLOAT big-endian");
        vkti_pickle_free(pk);
    }
    pk = LOAD("frozenset+additems", "\x80\x04\x8f(K\x01K\x02\x90(K\x03\x91\x86.", NULL);
    if (pk) {
        const vkti_pk_value *r = vkti_pickle_root(pk);
        CHECK(r->count == 2 && r->items[0]->kind == VKTI_PK_SET && r->items[0]->count == 2 &&
                  r->items[1]->kind == VKTI_PK_SET && r->items[1]->count == 1,
              "EMPTY_SET/ADDITEMS/FROZENSET");
        vkti_pickle_free(pk);
    }
    pk = LOAD("unicode escapes", "V\\u005cu0041\\\\u00e9\\U0001f431\xe9\n.", NULL);
    if (pk) {
        CHECK(vkti_pk_is_str(vkti_pickle_root(pk), "\\u0041\\\\u00e9\xf0\x9f\x90\xb1\xc3\xa9"),
              "UNICODE raw-unicode-escape: %s", vkti_pickle_root(pk)->s);
        vkti_pickle_free(pk);
    }
    /* refusals without hooks */
    LOAD("global", "cos\nsystem\n.", "refuses to load: the pickle calls os.system");
    LOAD("py2 builtins", "c__builtin__\nopen\n.", "the pickle calls builtins.open");
    LOAD("persid", "Pfoo\n.", "persistent id");
    LOAD("newobj_ex kwargs", "\x80\x04N)}(X\x01\x00\x00\x00" "aK\x01u\x92.", "keyword arguments");
    LOAD("obj", "(cos\nsystem\no.", "the pickle calls os.system");
    LOAD("buffer", "\x80\x05\x97.", "out-of-band buffers");
    LOAD("empty", "", "without a STOP opcode");
    LOAD("append to dict", "}K\x01" "a.", "APPEND to a dict");
    LOAD("setitem odd", "}(K\x01u.", "a key without a value");
    LOAD("pop empty", "0.", "POP finds the stack empty");
    LOAD("mark underflow", "(K\x01" "e.", "has nothing to add to");
    LOAD("appends to tuple", "(t(K\x01" "e.", "APPENDS to a tuple");
    LOAD("tuple2 short", "K\x01\x86.", "too few values");
    LOAD("string unquoted", "Sabc\n.", "not a quoted string");
    LOAD("int text junk", "I12x\n.", "malformed number");
    LOAD("build twice", "}}b}b.", "state twice");
    LOAD("binstring negative", "T\xff\xff\xff\xff.", "negative length");
    LOAD("frame past end", "\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", "FRAME");
}

/* Depth: nested lists up to VKTI_PK_MAX_DEPTH levels load; one more fails. */
static void check_depth(void)
{
    for (int depth = VKTI_PK_MAX_DEPTH; depth <= VKTI_PK_MAX_DEPTH + 1; depth++) {
        char buf[512];
        size_t n = 0;
        buf[n++] = (char)0x80;
        buf[n++] = 2;
        for (int i = 0; i < depth; i++)
            buf[n++] = ']';
        for (int i = 0; i < depth - 1; i++)
            buf[n++] = 'a';
        buf[n++] = '.';
        vkti_diag d = {0};
        vkti_pickle *pk;
        int rc = vkti_pickle_load(&d, &pk, "depth", (const uint8_t *)buf, n, NULL);
        CHECK((rc == 0) == (depth <= VKTI_PK_MAX_DEPTH), "depth %d: %s", depth, rc ? d.msg : "loaded");
        if (!rc)
            vkti_pickle_free(pk);
    }
    /* a DAG of shared lists whose expanded size doubles each level must hit the tree limit */
    char buf[256];
    size_t n = 0;
    buf[n++] = (char)0x80;
    buf[n++] = 2;
    buf[n++] = 'N';
    for (int i = 0; i < 40; i++) { /* x = [x, x] forty times: 2^40 leaves */
        buf[n++] = 'q';
        buf[n++] = 0;
        buf[n++] = 'h';
        buf[n++] = 0;
        buf[n++] = (char)0x86;
    }
    buf[n++] = '.';
    vkti_diag d = {0};
    vkti_pickle *pk;
    int rc = vkti_pickle_load(&d, &pk, "dag", (const uint8_t *)buf, n, NULL);
    CHECK(rc < 0 && strstr(d.msg, "expands to more than"), "exponential DAG: %s", rc ? d.msg : "loaded");
}

int main(void)
{
    const char *src = getenv("VKTI_SOURCE_DIR");
    for (int p = 0; p <= 5; p++) {
        char file[1024];
        snprintf(file, sizeof file, "%s/tests/data/io/values_p%d.pkl", src ? src : ".", p);
        check_values(file, p);
    }
    check_opcodes();
    check_depth();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
