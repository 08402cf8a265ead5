/* pickle_write.c — protocol-2 pickle writer with CPython's opcode choices and memo (see
 * pickle_write.h). The opcodes are those of CPython's Lib/pickle.py and Modules/_pickle.c. */
#include "io/pickle_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"

enum {
    OP_PROTO = 0x80,
    OP_STOP = '.',
    OP_NONE = 'N',
    OP_NEWTRUE = 0x88,
    OP_NEWFALSE = 0x89,
    OP_BININT = 'J',
    OP_BININT1 = 'K',
    OP_BININT2 = 'M',
    OP_LONG1 = 0x8a,
    OP_BINUNICODE = 'X',
    OP_EMPTY_DICT = '}',
    OP_EMPTY_TUPLE = ')',
    OP_MARK = '(',
    OP_TUPLE = 't',
    OP_TUPLE1 = 0x85,
    OP_TUPLE2 = 0x86,
    OP_TUPLE3 = 0x87,
    OP_SETITEM = 's',
    OP_SETITEMS = 'u',
    OP_GLOBAL = 'c',
    OP_REDUCE = 'R',
    OP_BINPERSID = 'Q',
    OP_BINPUT = 'q',
    OP_LONG_BINPUT = 'r',
    OP_BINGET = 'h',
    OP_LONG_BINGET = 'j'
};

static void put(vkti_pkw *w, const void *data, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->oom = 1;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void op(vkti_pkw *w, int code)
{
    uint8_t c = (uint8_t)code;
    put(w, &c, 1);
}

static void op_u32(vkti_pkw *w, int code, uint32_t v)
{
    uint8_t b[5] = {(uint8_t)code};
    vkti_put_le32(b + 1, v);
    put(w, b, 5);
}

/* BINPUT / LONG_BINPUT of the next memo index; returns that index */
static uint32_t memoize(vkti_pkw *w)
{
    uint32_t i = w->memo++;
    if (i < 256) {
        uint8_t b[2] = {OP_BINPUT, (uint8_t)i};
        put(w, b, 2);
    } else {
        op_u32(w, OP_LONG_BINPUT, i);
    }
    return i;
}

static void memo_get(vkti_pkw *w, uint32_t i)
{
    if (i < 256) {
        uint8_t b[2] = {OP_BINGET, (uint8_t)i};
        put(w, b, 2);
    } else {
        op_u32(w, OP_LONG_BINGET, i);
    }
}

void vkti_pkw_init(vkti_pkw *w)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < 256; i++)
        w->char_memo[i] = -1;
    uint8_t b[2] = {OP_PROTO, 2};
    put(w, b, 2);
}

void vkti_pkw_free(vkti_pkw *w)
{
    for (size_t i = 0; i < w->global_count; i++)
        free(w->globals[i].qualname);
    free(w->globals);
    free(w->buf);
    memset(w, 0, sizeof *w);
}

int vkti_pkw_finish(vkti_diag *d, vkti_pkw *w, uint8_t **out, size_t *size)
{
    op(w, OP_STOP);
    *out = NULL;
    *size = 0;
    if (w->oom) {
        vkti_pkw_free(w);
        return vkti_fail(d, VKTI_E_OOM, "pickle writer: out of memory");
    }
    *out = w->buf;
    *size = w->len;
    w->buf = NULL;
    vkti_pkw_free(w);
    return VKTI_OK;
}

void vkti_pkw_none(vkti_pkw *w) { op(w, OP_NONE); }

void vkti_pkw_bool(vkti_pkw *w, int v) { op(w, v ? OP_NEWTRUE : OP_NEWFALSE); }

void vkti_pkw_int(vkti_pkw *w, int64_t v)
{
    if (v >= 0 && v <= 0xff) {
        uint8_t b[2] = {OP_BININT1, (uint8_t)v};
        put(w, b, 2);
    } else if (v >= 0 && v <= 0xffff) {
        uint8_t b[3] = {OP_BININT2, (uint8_t)v, (uint8_t)(v >> 8)};
        put(w, b, 3);
    } else if (v >= -(int64_t)0x80000000 && v <= 0x7fffffff) {
        op_u32(w, OP_BININT, (uint32_t)v);
    } else {
        /* pickle.encode_long: (bit_length(|v|) >> 3) + 1 little-endian two's-complement bytes,
         * less a redundant 0xff sign byte for negatives */
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        int bits = 0;
        while (bits < 64 && (mag >> bits) != 0)
            bits++;
        int n = (bits >> 3) + 1; /* 5..9 */
        uint8_t b[2 + 9] = {OP_LONG1, 0};
        for (int i = 0; i < n; i++)
            b[2 + i] = (uint8_t)(i < 8 ? (uint64_t)v >> (8 * i) : v < 0 ? 0xffu : 0u);
        if (v < 0 && n > 1 && b[2 + n - 1] == 0xff && (b[2 + n - 2] & 0x80))
            n--;
        b[1] = (uint8_t)n;
        put(w, b, (size_t)(2 + n));
    }
}

/* the code point of a one-character UTF-8 string below U+0100, or -1 */
static int latin1_char(const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    if (n == 1 && u[0] < 0x80)
        return u[0];
    if (n == 2 && (u[0] == 0xc2 || u[0] == 0xc3) && (u[1] & 0xc0) == 0x80)
        return ((u[0] & 0x1f) << 6) | (u[1] & 0x3f);
    return -1;
}

void vkti_pkw_str(vkti_pkw *w, const char *s, size_t n)
{
    int c = latin1_char(s, n);
    if (c >= 0 && w->char_memo[c] >= 0) {
        memo_get(w, (uint32_t)w->char_memo[c]);
        return;
    }
    op_u32(w, OP_BINUNICODE, (uint32_t)n);
    put(w, s, n);
    uint32_t i = memoize(w);
    if (c >= 0)
        w->char_memo[c] = i;
}

void vkti_pkw_empty_dict(vkti_pkw *w)
{
    op(w, OP_EMPTY_DICT);
    memoize(w);
}

void vkti_pkw_items_begin(vkti_pkw *w, size_t n)
{
    if (n > VKTI_PKW_BATCH)
        w->oom = 1; /* never asked for: CPython would split the batch */
    if (n > 1)
        op(w, OP_MARK);
}

void vkti_pkw_items_end(vkti_pkw *w, size_t n)
{
    if (n > 1)
        op(w, OP_SETITEMS);
    else if (n == 1)
        op(w, OP_SETITEM);
}

void vkti_pkw_tuple_begin(vkti_pkw *w, size_t n)
{
    if (n > 3)
        op(w, OP_MARK);
}

void vkti_pkw_tuple_end(vkti_pkw *w, size_t n)
{
    static const int small[4] = {OP_EMPTY_TUPLE, OP_TUPLE1, OP_TUPLE2, OP_TUPLE3};
    op(w, n <= 3 ? small[n] : OP_TUPLE);
    if (n > 0) /* the empty tuple is a singleton CPython does not memoize */
        memoize(w);
}

void vkti_pkw_global(vkti_pkw *w, const char *module, const char *name)
{
    size_t ml = strlen(module), nl = strlen(name);
    for (size_t i = 0; i < w->global_count; i++) {
        const char *q = w->globals[i].qualname;
        if (!strncmp(q, module, ml) && q[ml] == '\n' && !strcmp(q + ml + 1, name)) {
            memo_get(w, w->globals[i].index);
            return;
        }
    }
    op(w, OP_GLOBAL);
    put(w, module, ml);
    put(w, "\n", 1);
    put(w, name, nl);
    put(w, "\n", 1);
    uint32_t index = memoize(w);
    vkti_pkw_global_memo *g = realloc(w->globals, (w->global_count + 1) * sizeof *g);
    char *q = malloc(ml + nl + 2);
    if (!g || !q) {
        if (g)
            w->globals = g;
        free(q);
        w->oom = 1;
        return;
    }
    w->globals = g;
    memcpy(q, module, ml);
    q[ml] = '\n';
    memcpy(q + ml + 1, name, nl + 1);
    g[w->global_count].qualname = q;
    g[w->global_count].index = index;
    w->global_count++;
}

void vkti_pkw_reduce(vkti_pkw *w)
{
    op(w, OP_REDUCE);
    memoize(w);
}

void vkti_pkw_binpersid(vkti_pkw *w) { op(w, OP_BINPERSID); }

void vkti_pkw_tensor(vkti_pkw *w, const char *storage_type, const char *storage_key, uint64_t storage_numel,
                     uint64_t offset, int ndim, const int64_t *shape, const int64_t *stride, int requires_grad)
{
    vkti_pkw_global(w, "torch._utils", "_rebuild_tensor_v2");
    vkti_pkw_tuple_begin(w, 6);
    /* the storage: persistent id ('storage', torch.FloatStorage, key, location, numel) */
    vkti_pkw_tuple_begin(w, 5);
    vkti_pkw_str(w, "storage", 7);
    vkti_pkw_global(w, "torch", storage_type);
    vkti_pkw_str(w, storage_key, strlen(storage_key));
    vkti_pkw_str(w, "cpu", 3);
    vkti_pkw_int(w, (int64_t)storage_numel);
    vkti_pkw_tuple_end(w, 5);
    vkti_pkw_binpersid(w);
    vkti_pkw_int(w, (int64_t)offset);
    vkti_pkw_tuple_begin(w, (size_t)ndim);
    for (int i = 0; i < ndim; i++)
        vkti_pkw_int(w, shape[i]);
    vkti_pkw_tuple_end(w, (size_t)ndim);
    vkti_pkw_tuple_begin(w, (size_t)ndim);
    for (int i = 0; i < ndim; i++)
        vkti_pkw_int(w, stride[i]);
    vkti_pkw_tuple_end(w, (size_t)ndim);
    vkti_pkw_bool(w, requires_grad);
    /* backward_hooks: collections.OrderedDict() */
    vkti_pkw_global(w, "collections", "OrderedDict");
    vkti_pkw_tuple_begin(w, 0);
    vkti_pkw_tuple_end(w, 0);
    vkti_pkw_reduce(w);
    vkti_pkw_tuple_end(w, 6);
    vkti_pkw_reduce(w);
}
