/* pickle.c — a pickle interpreter that builds values and executes nothing (see pickle.h). */
#include "io/pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"
#include "io/unicode.h"

/* ---- the value arena ------------------------------------------------------------------------ */

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(16) uint8_t data[];
} block;

#define BLOCK_SIZE (64u << 10)

struct vkti_pickle {
    vkti_diag *d;
    char *what;
    int status;             /* the first failure (messages are set once) */
    const vkti_pk_hooks *hooks;
    block *blocks;
    size_t mem_used, nvalues;
    vkti_pk_value *root;
    vkti_pk_value *none_, *true_, *false_;
    vkti_pk_value **dicts;  /* every dict, for the duplicate-key check at the end */
    size_t ndicts, dicts_cap;
    size_t pos;             /* offset of the opcode being run, for messages */
    const vkti_pk_value *hint; /* the str key a hook's value will likely be stored under */
};

static int pk_fail(vkti_pickle *pk, int status, const char *fmt, ...) VKTI_PRINTF(3, 4);
static int pk_fail(vkti_pickle *pk, int status, const char *fmt, ...)
{
    if (pk->status)
        return pk->status;
    char msg[VKTI_MSG_MAX - 400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pk->status = vkti_fail(pk->d, status, "%s: %s (at pickle byte %zu)", pk->what, msg, pk->pos);
    return pk->status;
}

static void *arena_alloc(vkti_pickle *pk, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size > VKTI_PK_MAX_MEMORY || pk->mem_used + size > VKTI_PK_MAX_MEMORY) {
        pk_fail(pk, VKTI_E_FORMAT, "the pickle needs more than %u MiB to hold its values", VKTI_PK_MAX_MEMORY >> 20);
        return NULL;
    }
    block *b = pk->blocks;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > BLOCK_SIZE / 4 ? size : BLOCK_SIZE;
        block *nb = malloc(sizeof *nb + cap);
        if (!nb) {
            pk_fail(pk, VKTI_E_OOM, "out of memory");
            return NULL;
        }
        nb->used = 0;
        nb->cap = cap;
        if (b && size > BLOCK_SIZE / 4) { /* a big one: keep filling the current block */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            pk->blocks = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    pk->mem_used += size;
    return p;
}

vkti_pk_value *vkti_pk_new(vkti_pickle *pk, vkti_pk_kind kind)
{
    if (pk->nvalues >= VKTI_PK_MAX_VALUES) {
        pk_fail(pk, VKTI_E_FORMAT, "the pickle builds more than %u values", VKTI_PK_MAX_VALUES);
        return NULL;
    }
    vkti_pk_value *v = arena_alloc(pk, sizeof *v);
    if (!v)
        return NULL;
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->height_ = 1;
    v->weight_ = 1;
    pk->nvalues++;
    if (kind == VKTI_PK_DICT) {
        if (pk->ndicts == pk->dicts_cap) {
            size_t cap = pk->dicts_cap ? 2 * pk->dicts_cap : 64;
            vkti_pk_value **nd = realloc(pk->dicts, cap * sizeof *nd);
            if (!nd) {
                pk_fail(pk, VKTI_E_OOM, "out of memory");
                return NULL;
            }
            pk->dicts = nd;
            pk->dicts_cap = cap;
        }
        pk->dicts[pk->ndicts++] = v;
    }
    return v;
}

vkti_pk_value *vkti_pk_new_str(vkti_pickle *pk, vkti_pk_kind kind, const void *s, size_t len)
{
    vkti_pk_value *v = vkti_pk_new(pk, kind);
    if (!v)
        return NULL;
    char *copy = arena_alloc(pk, len + 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, s, len);
    copy[len] = 0;
    v->s = copy;
    v->len = len;
    return v;
}

/* Puts child into parent: child is frozen from now on; parent's depth and tree size grow. */
static int adopt(vkti_pickle *pk, vkti_pk_value *parent, vkti_pk_value *child)
{
    if (child == parent)
        return pk_fail(pk, VKTI_E_FORMAT, "a value is put into itself (a self-referencing or hostile pickle)");
    child->frozen_ = 1;
    if (child->height_ + 1 > parent->height_) {
        parent->height_ = child->height_ + 1;
        if (parent->height_ > VKTI_PK_MAX_DEPTH)
            return pk_fail(pk, VKTI_E_FORMAT, "values nested deeper than %d levels", VKTI_PK_MAX_DEPTH);
    }
    parent->weight_ += child->weight_;
    if (parent->weight_ > VKTI_PK_MAX_TREE)
        return pk_fail(pk, VKTI_E_FORMAT,
                       "the value tree expands to more than %u values (shared values repeated past the limit)",
                       VKTI_PK_MAX_TREE);
    return VKTI_OK;
}

static int check_mutable(vkti_pickle *pk, const vkti_pk_value *v)
{
    if (v->frozen_)
        return pk_fail(pk, VKTI_E_FORMAT,
                       "the pickle changes a %s after putting it into another value (a self-reference or a hostile "
                       "pickle)",
                       vkti_pk_kind_name(v->kind));
    return VKTI_OK;
}

/* Room in a container's item array for `extra` more slots (a dict's pair takes two). */
static int reserve(vkti_pickle *pk, vkti_pk_value *c, size_t extra)
{
    size_t used = c->kind == VKTI_PK_DICT ? 2 * c->count : c->count;
    if (used + extra <= c->cap_)
        return VKTI_OK;
    size_t cap = c->cap_ ? 2 * c->cap_ : 4;
    vkti_pk_value **items = arena_alloc(pk, cap * sizeof *items);
    if (!items)
        return pk->status;
    if (used)
        memcpy(items, c->items, used * sizeof *items);
    c->items = items;
    c->cap_ = cap;
    return VKTI_OK;
}

int vkti_pk_append(vkti_pickle *pk, vkti_pk_value *c, vkti_pk_value *item)
{
    if (c->kind != VKTI_PK_TUPLE && c->kind != VKTI_PK_LIST && c->kind != VKTI_PK_SET)
        return pk_fail(pk, VKTI_E_FORMAT, "the pickle appends to a %s, not a list", vkti_pk_kind_name(c->kind));
    int rc = check_mutable(pk, c);
    if (!rc)
        rc = reserve(pk, c, 1);
    if (!rc)
        rc = adopt(pk, c, item);
    if (!rc)
        c->items[c->count++] = item;
    return rc;
}

int vkti_pk_set_item(vkti_pickle *pk, vkti_pk_value *dict, vkti_pk_value *key, vkti_pk_value *value)
{
    if (dict->kind != VKTI_PK_DICT)
        return pk_fail(pk, VKTI_E_FORMAT, "the pickle sets an item of a %s, not a dict", vkti_pk_kind_name(dict->kind));
    int rc = check_mutable(pk, dict);
    if (!rc)
        rc = reserve(pk, dict, 2);
    if (!rc)
        rc = adopt(pk, dict, key);
    if (!rc)
        rc = adopt(pk, dict, value);
    if (!rc) {
        dict->items[2 * dict->count] = key;
        dict->items[2 * dict->count + 1] = value;
        dict->count++;
    }
    return rc;
}

int vkti_pickle_status(const vkti_pickle *pk) { return pk->status ? pk->status : VKTI_E_FORMAT; }
size_t vkti_pickle_pos(const vkti_pickle *pk) { return pk->pos; }
const vkti_pk_value *vkti_pickle_hint(const vkti_pickle *pk) { return pk->hint; }
const char *vkti_pickle_what(const vkti_pickle *pk) { return pk->what; }
const vkti_pk_value *vkti_pickle_root(const vkti_pickle *pk) { return pk->root; }

const char *vkti_pk_kind_name(vkti_pk_kind kind)
{
    static const char *const names[] = {"None", "bool", "int", "float", "str", "bytes", "tuple",
                                        "list", "set", "dict", "global", "object", "host value"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

int vkti_pk_is_str(const vkti_pk_value *v, const char *s)
{
    return v && v->kind == VKTI_PK_STR && v->len == strlen(s) && !memcmp(v->s, s, v->len);
}

const vkti_pk_value *vkti_pk_get(const vkti_pk_value *dict, const char *key)
{
    if (!dict || dict->kind != VKTI_PK_DICT)
        return NULL;
    for (size_t i = 0; i < dict->count; i++)
        if (vkti_pk_is_str(dict->items[2 * i], key))
            return dict->items[2 * i + 1];
    return NULL;
}

void vkti_pickle_free(vkti_pickle *pk)
{
    if (!pk)
        return;
    for (block *b = pk->blocks; b;) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(pk->dicts);
    free(pk->what);
    free(pk);
}

/* ---- the machine ---------------------------------------------------------------------------- */

typedef struct vm {
    vkti_pickle *pk;
    const uint8_t *start, *p, *end;
    vkti_pk_value **stack;
    size_t len, cap;
    size_t *marks;
    size_t nmarks, marks_cap;
    vkti_pk_value **memo;
    size_t memo_len, memo_count;
    int proto;
} vm;

static int truncated(vm *m, const char *op)
{
    return pk_fail(m->pk, VKTI_E_FORMAT, "the pickle is truncated inside %s", op);
}

#define NEED(m, n, op)                                           \
    do {                                                         \
        if ((uint64_t)((m)->end - (m)->p) < (uint64_t)(n))       \
            return truncated((m), (op));                         \
    } while (0)

static int push(vm *m, vkti_pk_value *v)
{
    if (!v)
        return m->pk->status;
    if (m->len == m->cap) {
        if (m->cap >= VKTI_PK_MAX_STACK)
            return pk_fail(m->pk, VKTI_E_FORMAT, "the pickle's stack grows past %u entries", VKTI_PK_MAX_STACK);
        size_t cap = m->cap ? 2 * m->cap : 256;
        vkti_pk_value **s = realloc(m->stack, cap * sizeof *s);
        if (!s)
            return pk_fail(m->pk, VKTI_E_OOM, "out of memory");
        m->stack = s;
        m->cap = cap;
    }
    m->stack[m->len++] = v;
    return VKTI_OK;
}

static size_t base(const vm *m) { return m->nmarks ? m->marks[m->nmarks - 1] : 0; }

static vkti_pk_value *pop(vm *m, const char *op)
{
    if (m->len <= base(m)) {
        pk_fail(m->pk, VKTI_E_FORMAT, "%s finds the stack empty (a corrupt pickle)", op);
        return NULL;
    }
    return m->stack[--m->len];
}

static vkti_pk_value *top(vm *m, const char *op)
{
    if (m->len <= base(m)) {
        pk_fail(m->pk, VKTI_E_FORMAT, "%s finds the stack empty (a corrupt pickle)", op);
        return NULL;
    }
    return m->stack[m->len - 1];
}

/* Ends the innermost MARK: *k is where its items start on the stack. */
static int pop_mark(vm *m, const char *op, size_t *k)
{
    if (!m->nmarks)
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s without a MARK (a corrupt pickle)", op);
    *k = m->marks[--m->nmarks];
    return VKTI_OK;
}

/* The value just below a MARK's items (what APPENDS, SETITEMS and ADDITEMS change). */
static vkti_pk_value *below_mark(vm *m, size_t k, const char *op)
{
    if (k == 0 || k - 1 < base(m)) {
        pk_fail(m->pk, VKTI_E_FORMAT, "%s has nothing to add to (a corrupt pickle)", op);
        return NULL;
    }
    return m->stack[k - 1];
}

static int memo_put(vm *m, uint64_t idx, vkti_pk_value *v)
{
    if (!v)
        return m->pk->status;
    if (idx >= VKTI_PK_MAX_MEMO)
        return pk_fail(m->pk, VKTI_E_FORMAT, "memo index %llu is past the limit of %u", (unsigned long long)idx,
                       VKTI_PK_MAX_MEMO);
    if (idx >= m->memo_len) {
        size_t len = m->memo_len ? m->memo_len : 256;
        while (len <= idx)
            len *= 2;
        if (len > VKTI_PK_MAX_MEMO)
            len = VKTI_PK_MAX_MEMO;
        vkti_pk_value **nm = realloc(m->memo, len * sizeof *nm);
        if (!nm)
            return pk_fail(m->pk, VKTI_E_OOM, "out of memory");
        memset(nm + m->memo_len, 0, (len - m->memo_len) * sizeof *nm);
        m->memo = nm;
        m->memo_len = len;
    }
    if (!m->memo[idx])
        m->memo_count++;
    m->memo[idx] = v;
    return VKTI_OK;
}

static int memo_get(vm *m, uint64_t idx)
{
    if (idx >= m->memo_len || !m->memo[idx])
        return pk_fail(m->pk, VKTI_E_FORMAT, "the pickle reads memo entry %llu, which was never stored",
                       (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

/* A protocol-0 argument: the bytes up to the next newline. */
static int read_line(vm *m, const char *op, const uint8_t **line, size_t *len)
{
    *line = NULL;
    *len = 0;
    const uint8_t *nl = memchr(m->p, '\n', (size_t)(m->end - m->p));
    if (!nl)
        return truncated(m, op);
    *line = m->p;
    *len = (size_t)(nl - m->p);
    m->p = nl + 1;
    return VKTI_OK;
}

static int parse_int_text(vm *m, const uint8_t *s, size_t n, const char *op, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n)
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s holds no number", op);
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return pk_fail(m->pk, VKTI_E_FORMAT, "%s holds a malformed number", op);
        uint64_t dgt = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return pk_fail(m->pk, VKTI_E_FORMAT, "%s holds an integer too large for 64 bits", op);
        v = v * 10 + dgt;
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s holds an integer too large for 64 bits", op);
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return VKTI_OK;
}

static int push_int(vm *m, int64_t v)
{
    vkti_pk_value *x = vkti_pk_new(m->pk, VKTI_PK_INT);
    if (x)
        x->i = v;
    return push(m, x);
}

/* LONG1/LONG4: little-endian two's complement of n bytes. */
static int push_long(vm *m, const uint8_t *b, uint64_t n)
{
    if (n > 8) {
        /* still fits when the extra bytes only extend the sign */
        uint8_t ext = (b[n - 1] & 0x80) ? 0xff : 0x00;
        for (uint64_t i = 8; i < n; i++)
            if (b[i] != ext)
                return pk_fail(m->pk, VKTI_E_FORMAT, "an integer of %llu bytes is too large for 64 bits",
                               (unsigned long long)n);
        if (((b[7] & 0x80) ? 0xff : 0x00) != ext)
            return pk_fail(m->pk, VKTI_E_FORMAT, "an integer of %llu bytes is too large for 64 bits",
                           (unsigned long long)n);
        n = 8;
    }
    uint64_t v = 0;
    for (uint64_t i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    if (n > 0 && n < 8 && (b[n - 1] & 0x80))
        v |= ~(uint64_t)0 << (8 * n);
    int64_t s;
    memcpy(&s, &v, 8);
    return push_int(m, s);
}

static int push_str(vm *m, const uint8_t *s, size_t n, const char *op)
{
    size_t bad = vkti_utf8_check(s, n);
    if (bad < n)
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s holds a string that is not valid UTF-8 (byte %zu of it)", op, bad);
    return push(m, vkti_pk_new_str(m->pk, VKTI_PK_STR, s, n));
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* STRING: a Python 2 repr, 'text' or "text", with backslash escapes (codecs.escape_decode). */
static int op_string(vm *m)
{
    const uint8_t *s;
    size_t n;
    int rc = read_line(m, "STRING", &s, &n);
    if (rc)
        return rc;
    if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0])
        return pk_fail(m->pk, VKTI_E_FORMAT, "STRING argument is not a quoted string");
    s++;
    n -= 2;
    uint8_t *out = malloc(n ? n : 1);
    if (!out)
        return pk_fail(m->pk, VKTI_E_OOM, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            out[o++] = s[i];
            continue;
        }
        uint8_t c = s[++i];
        int h1, h2;
        switch (c) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        case 'a': out[o++] = 7; break;
        case 'b': out[o++] = 8; break;
        case 'f': out[o++] = 12; break;
        case 'v': out[o++] = 11; break;
        case '\\': case '\'': case '"': out[o++] = c; break;
        case 'x':
            h1 = i + 2 < n ? hexval(s[i + 1]) : -1;
            h2 = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h1 < 0 || h2 < 0) {
                free(out);
                return pk_fail(m->pk, VKTI_E_FORMAT, "STRING holds a bad \\x escape");
            }
            out[o++] = (uint8_t)(h1 * 16 + h2);
            i += 2;
            break;
        default:
            if (c >= '0' && c <= '7') {
                unsigned v = (unsigned)(c - '0');
                for (int k = 0; k < 2 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7'; k++)
                    v = v * 8 + (unsigned)(s[++i] - '0');
                out[o++] = (uint8_t)v;
            } else { /* unknown escapes stay as they are */
                out[o++] = '\\';
                out[o++] = c;
            }
        }
    }
    rc = push_str(m, out, o, "STRING");
    free(out);
    return rc;
}

/* UNICODE: raw-unicode-escape: Latin-1 bytes, except \uXXXX and \UXXXXXXXX escapes. */
static int op_unicode(vm *m)
{
    const uint8_t *s;
    size_t n;
    int rc = read_line(m, "UNICODE", &s, &n);
    if (rc)
        return rc;
    if (n > SIZE_MAX / 4)
        return pk_fail(m->pk, VKTI_E_FORMAT, "UNICODE argument too long");
    uint8_t *out = malloc(4 * n + 1);
    if (!out)
        return pk_fail(m->pk, VKTI_E_OOM, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\\') {
            /* \u escapes count only after an odd run of backslashes: the run's other
             * backslashes are literal */
            size_t run = 0;
            while (i + run < n && s[i + run] == '\\')
                run++;
            size_t literal = run % 2 ? run - 1 : run;
            for (size_t k = 0; k < literal; k++)
                out[o++] = '\\';
            i += run;
            if (run % 2 == 1) {
                int digits = i < n && s[i] == 'u' ? 4 : i < n && s[i] == 'U' ? 8 : 0;
                if (!digits) {
                    out[o++] = '\\';
                    continue;
                }
                if (n - i - 1 < (size_t)digits) {
                    free(out);
                    return pk_fail(m->pk, VKTI_E_FORMAT, "UNICODE holds a truncated \\u escape");
                }
                uint32_t cp = 0;
                for (int k = 1; k <= digits; k++) {
                    int h = hexval(s[i + (size_t)k]);
                    if (h < 0) {
                        free(out);
                        return pk_fail(m->pk, VKTI_E_FORMAT, "UNICODE holds a bad \\u escape");
                    }
                    cp = cp * 16 + (uint32_t)h;
                }
                if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                    free(out);
                    return pk_fail(m->pk, VKTI_E_FORMAT, "UNICODE holds a code point that is not a character");
                }
                o += vkti_utf8_encode(cp, out + o);
                i += 1 + (size_t)digits;
            }
            continue;
        }
        o += vkti_utf8_encode(s[i], out + o); /* Latin-1 */
        i++;
    }
    rc = push_str(m, out, o, "UNICODE");
    free(out);
    return rc;
}

/* A GLOBAL-like reference: module and name checked, the hook asked, a GLOBAL value pushed. */
static int global(vm *m, const uint8_t *mod, size_t mlen, const uint8_t *name, size_t nlen, const char *op,
                  vkti_pk_value **out)
{
    char module[256], nm[256];
    if (mlen == 0 || nlen == 0 || mlen >= sizeof module || nlen >= sizeof nm || !vkti_utf8_valid(mod, mlen) ||
        !vkti_utf8_valid(name, nlen) || memchr(mod, 0, mlen) || memchr(name, 0, nlen))
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s names a malformed module or name", op);
    memcpy(module, mod, mlen);
    module[mlen] = 0;
    memcpy(nm, name, nlen);
    nm[nlen] = 0;
    /* Python 2 names, as pickle's fix_imports maps them for protocols < 3 */
    if (!strcmp(module, "__builtin__"))
        strcpy(module, "builtins");
    else if (!strcmp(module, "copy_reg"))
        strcpy(module, "copyreg");
    char full[520], qbuf[VKTI_QUOTE_MAX];
    snprintf(full, sizeof full, "%s.%s", module, nm);
    int64_t id = -1;
    if (!m->pk->hooks || !m->pk->hooks->find_class)
        return pk_fail(m->pk, VKTI_E_FORMAT, "refuses to load: the pickle calls %s (nothing may be called here)",
                       vkti_quote_bare(qbuf, sizeof qbuf, full, strlen(full)));
    int rc = m->pk->hooks->find_class(m->pk->hooks->user, m->pk->d, m->pk, module, nm, &id);
    if (rc) {
        m->pk->status = rc;
        return rc;
    }
    vkti_pk_value *g = vkti_pk_new_str(m->pk, VKTI_PK_GLOBAL, full, strlen(full));
    if (!g)
        return m->pk->status;
    g->i = id;
    *out = g;
    return VKTI_OK;
}

/* For the hooks' messages: the key the value being built will most likely be stored under. A
 * dict entry is pickled as key, then value; a value built by a call starts with its callable, so
 * the nearest str just below a global on the stack is that key ("model.conv.weight"). */
static void update_hint(vm *m)
{
    m->pk->hint = NULL;
    for (size_t i = m->len, n = 0; i > 1 && n < 16; i--, n++) {
        if (m->stack[i - 1]->kind == VKTI_PK_GLOBAL && m->stack[i - 2]->kind == VKTI_PK_STR) {
            m->pk->hint = m->stack[i - 2];
            return;
        }
    }
}

static int call(vm *m, vkti_pk_value *callable, vkti_pk_value *args, int newobj, const char *op)
{
    if (!callable || !args)
        return m->pk->status;
    if (callable->kind != VKTI_PK_GLOBAL)
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s calls a %s, not an allowed callable", op,
                       vkti_pk_kind_name(callable->kind));
    if (args->kind != VKTI_PK_TUPLE)
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s passes a %s where an argument tuple belongs", op,
                       vkti_pk_kind_name(args->kind));
    args->frozen_ = 1;
    callable->frozen_ = 1;
    m->stack[m->len++] = callable; /* (popped just before: put back for the hint, then off again) */
    update_hint(m);
    m->len--;
    vkti_pk_value *result = NULL;
    if (!m->pk->hooks || !m->pk->hooks->call)
        return pk_fail(m->pk, VKTI_E_FORMAT, "%s: nothing may be called here", op);
    int rc = m->pk->hooks->call(m->pk->hooks->user, m->pk->d, m->pk, callable, args, newobj, &result);
    if (rc) {
        m->pk->status = rc;
        return rc;
    }
    if (!result)
        return pk_fail(m->pk, VKTI_E_INTERNAL, "%s: the hook built nothing", op);
    return push(m, result);
}

static int persistent(vm *m, vkti_pk_value *pid)
{
    if (!pid)
        return m->pk->status;
    if (!m->pk->hooks || !m->pk->hooks->persistent_load)
        return pk_fail(m->pk, VKTI_E_FORMAT, "the pickle refers to outside data (a persistent id), not allowed here");
    pid->frozen_ = 1;
    update_hint(m);
    vkti_pk_value *result = NULL;
    int rc = m->pk->hooks->persistent_load(m->pk->hooks->user, m->pk->d, m->pk, pid, &result);
    if (rc) {
        m->pk->status = rc;
        return rc;
    }
    if (!result)
        return pk_fail(m->pk, VKTI_E_INTERNAL, "persistent_load built nothing");
    return push(m, result);
}

/* A tuple, list or set of the stack's items from k on; they leave the stack. */
static int collect(vm *m, vkti_pk_kind kind, size_t k)
{
    vkti_pk_value *c = vkti_pk_new(m->pk, kind);
    if (!c)
        return m->pk->status;
    for (size_t i = k; i < m->len; i++) {
        int rc = vkti_pk_append(m->pk, c, m->stack[i]);
        if (rc)
            return rc;
    }
    m->len = k;
    return push(m, c);
}

static int cmp_key(const void *a, const void *b)
{
    const vkti_pk_value *x = *(const vkti_pk_value *const *)a, *y = *(const vkti_pk_value *const *)b;
    int xs = x->kind == VKTI_PK_STR, ys = y->kind == VKTI_PK_STR;
    if (xs != ys)
        return xs - ys;
    if (xs) {
        if (x->len != y->len)
            return x->len < y->len ? -1 : 1;
        return memcmp(x->s, y->s, x->len);
    }
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Each dict's str and int keys distinct (Python would keep the last; no pickler writes two). */
static int check_dict_keys(vkti_pickle *pk)
{
    vkti_pk_value **keys = NULL;
    size_t cap = 0;
    int rc = VKTI_OK;
    for (size_t i = 0; i < pk->ndicts && !rc; i++) {
        const vkti_pk_value *dct = pk->dicts[i];
        if (dct->count < 2)
            continue;
        if (dct->count > cap) {
            vkti_pk_value **nk = realloc(keys, dct->count * sizeof *nk);
            if (!nk) {
                rc = pk_fail(pk, VKTI_E_OOM, "out of memory");
                break;
            }
            keys = nk;
            cap = dct->count;
        }
        size_t n = 0;
        for (size_t k = 0; k < dct->count; k++) {
            vkti_pk_value *key = dct->items[2 * k];
            if (key->kind == VKTI_PK_STR || key->kind == VKTI_PK_INT || key->kind == VKTI_PK_BOOL)
                keys[n++] = key;
        }
        qsort(keys, n, sizeof *keys, cmp_key);
        for (size_t k = 1; k < n; k++) {
            if (cmp_key(&keys[k - 1], &keys[k]) == 0) {
                char qbuf[VKTI_QUOTE_MAX];
                if (keys[k]->kind == VKTI_PK_STR)
                    vkti_quote(qbuf, sizeof qbuf, keys[k]->s, keys[k]->len);
                else
                    snprintf(qbuf, sizeof qbuf, "%lld", (long long)keys[k]->i);
                rc = pk_fail(pk, VKTI_E_FORMAT, "a dict holds the key %s twice", qbuf);
                break;
            }
        }
    }
    free(keys);
    return rc;
}

static const char *refused_opcode(uint8_t op)
{
    switch (op) {
    case 0x82: case 0x83: case 0x84: return "the extension registry (EXT1/EXT2/EXT4)";
    case 0x97: return "out-of-band buffers (NEXT_BUFFER)";
    case 0x98: return "out-of-band buffers (READONLY_BUFFER)";
    default: return NULL;
    }
}

static int run(vm *m)
{
    vkti_pickle *pk = m->pk;
    int rc = VKTI_OK;
    while (!rc) {
        if (m->p >= m->end)
            return pk_fail(pk, VKTI_E_FORMAT, "the pickle ends without a STOP opcode (truncated)");
        pk->pos = (size_t)(m->p - m->start);
        uint8_t op = *m->p++;
        /* (initialized: GCC -O2 cannot see that a failed read_line or pop_mark returns) */
        const uint8_t *b = NULL;
        size_t n = 0, k = 0;
        uint64_t len;
        vkti_pk_value *v, *w, *x;
        switch (op) {
        case '(': /* MARK */
            if (m->nmarks == m->marks_cap) {
                if (m->marks_cap >= VKTI_PK_MAX_MARKS)
                    return pk_fail(pk, VKTI_E_FORMAT, "more than %u open MARKs", VKTI_PK_MAX_MARKS);
                size_t cap = m->marks_cap ? 2 * m->marks_cap : 64;
                size_t *nm = realloc(m->marks, cap * sizeof *nm);
                if (!nm)
                    return pk_fail(pk, VKTI_E_OOM, "out of memory");
                m->marks = nm;
                m->marks_cap = cap;
            }
            m->marks[m->nmarks++] = m->len;
            break;
        case '.': /* STOP */
            if (m->len != 1 || m->nmarks)
                return pk_fail(pk, VKTI_E_FORMAT, "the pickle stops with %zu values and %zu MARKs left (a corrupt pickle)",
                               m->len, m->nmarks);
            if (m->p != m->end)
                return pk_fail(pk, VKTI_E_FORMAT, "%zu bytes follow the pickle's STOP opcode", (size_t)(m->end - m->p));
            pk->root = m->stack[0];
            return check_dict_keys(pk);
        case '0': /* POP */
            if (m->len > base(m))
                m->len--;
            else if (m->nmarks)
                m->nmarks--;
            else
                return pk_fail(pk, VKTI_E_FORMAT, "POP finds the stack empty (a corrupt pickle)");
            break;
        case '1': /* POP_MARK */
            if (!(rc = pop_mark(m, "POP_MARK", &k)))
                m->len = k;
            break;
        case '2': /* DUP */
            v = top(m, "DUP");
            rc = push(m, v);
            break;
        case 'F': { /* FLOAT */
            char buf[64], *endp;
            if ((rc = read_line(m, "FLOAT", &b, &n)))
                break;
            if (n == 0 || n >= sizeof buf)
                return pk_fail(pk, VKTI_E_FORMAT, "FLOAT holds a malformed number");
            memcpy(buf, b, n);
            buf[n] = 0;
            double f = strtod(buf, &endp);
            if (*endp)
                return pk_fail(pk, VKTI_E_FORMAT, "FLOAT holds a malformed number");
            v = vkti_pk_new(pk, VKTI_PK_FLOAT);
            if (v)
                v->f = f;
            rc = push(m, v);
            break;
        }
        case 'I': { /* INT; I00 and I01 are False and True */
            int64_t i;
            if ((rc = read_line(m, "INT", &b, &n)))
                break;
            if (n == 2 && b[0] == '0' && (b[1] == '0' || b[1] == '1')) {
                rc = push(m, b[1] == '1' ? pk->true_ : pk->false_);
                break;
            }
            if (!(rc = parse_int_text(m, b, n, "INT", &i)))
                rc = push_int(m, i);
            break;
        }
        case 'L': { /* LONG, text, maybe with Python 2's trailing L */
            int64_t i;
            if ((rc = read_line(m, "LONG", &b, &n)))
                break;
            if (n && b[n - 1] == 'L')
                n--;
            if (!(rc = parse_int_text(m, b, n, "LONG", &i)))
                rc = push_int(m, i);
            break;
        }
        case 'J': { /* BININT */
            NEED(m, 4, "BININT");
            uint32_t u = vkti_le32(m->p);
            int32_t i;
            memcpy(&i, &u, 4);
            m->p += 4;
            rc = push_int(m, i);
            break;
        }
        case 'K': /* BININT1 */
            NEED(m, 1, "BININT1");
            rc = push_int(m, *m->p++);
            break;
        case 'M': /* BININT2 */
            NEED(m, 2, "BININT2");
            rc = push_int(m, vkti_le16(m->p));
            m->p += 2;
            break;
        case 0x8a: /* LONG1 */
            NEED(m, 1, "LONG1");
            len = *m->p++;
            NEED(m, len, "LONG1");
            rc = push_long(m, m->p, len);
            m->p += len;
            break;
        case 0x8b: { /* LONG4 */
            NEED(m, 4, "LONG4");
            uint32_t u = vkti_le32(m->p);
            m->p += 4;
            if (u & 0x80000000u)
                return pk_fail(pk, VKTI_E_FORMAT, "LONG4 has a negative length");
            NEED(m, u, "LONG4");
            rc = push_long(m, m->p, u);
            m->p += u;
            break;
        }
        case 'G': { /* BINFLOAT, big-endian */
            NEED(m, 8, "BINFLOAT");
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = (u << 8) | m->p[i];
            m->p += 8;
            v = vkti_pk_new(pk, VKTI_PK_FLOAT);
            if (v)
                memcpy(&v->f, &u, 8);
            rc = push(m, v);
            break;
        }
        case 'N': rc = push(m, pk->none_); break;
        case 0x88: rc = push(m, pk->true_); break;  /* NEWTRUE */
        case 0x89: rc = push(m, pk->false_); break; /* NEWFALSE */
        case 'S': rc = op_string(m); break;
        case 'V': rc = op_unicode(m); break;
        case 'T': case 'U': case 'X': case 0x8c: case 0x8d: /* strings with a length */
        case 'B': case 'C': case 0x8e: case 0x96: {        /* bytes with a length */
            const char *name = op == 'T' ? "BINSTRING" : op == 'U' ? "SHORT_BINSTRING" : op == 'X' ? "BINUNICODE"
                             : op == 0x8c ? "SHORT_BINUNICODE" : op == 0x8d ? "BINUNICODE8" : op == 'B' ? "BINBYTES"
                             : op == 'C' ? "SHORT_BINBYTES" : op == 0x8e ? "BINBYTES8" : "BYTEARRAY8";
            size_t width = (op == 'U' || op == 0x8c || op == 'C') ? 1 : (op == 0x8d || op == 0x8e || op == 0x96) ? 8 : 4;
            NEED(m, width, name);
            len = width == 1 ? m->p[0] : width == 4 ? vkti_le32(m->p) : vkti_le64(m->p);
            if (op == 'T' && (len & 0x80000000u))
                return pk_fail(pk, VKTI_E_FORMAT, "BINSTRING has a negative length");
            m->p += width;
            NEED(m, len, name);
            if (op == 'B' || op == 'C' || op == 0x8e || op == 0x96)
                rc = push(m, vkti_pk_new_str(pk, VKTI_PK_BYTES, m->p, (size_t)len));
            else
                rc = push_str(m, m->p, (size_t)len, name);
            m->p += len;
            break;
        }
        case ')': rc = push(m, vkti_pk_new(pk, VKTI_PK_TUPLE)); break;  /* EMPTY_TUPLE */
        case ']': rc = push(m, vkti_pk_new(pk, VKTI_PK_LIST)); break;   /* EMPTY_LIST */
        case '}': rc = push(m, vkti_pk_new(pk, VKTI_PK_DICT)); break;   /* EMPTY_DICT */
        case 0x8f: rc = push(m, vkti_pk_new(pk, VKTI_PK_SET)); break;   /* EMPTY_SET */
        case 't': case 'l': case 0x91: /* TUPLE, LIST, FROZENSET */
            if (!(rc = pop_mark(m, op == 't' ? "TUPLE" : op == 'l' ? "LIST" : "FROZENSET", &k)))
                rc = collect(m, op == 't' ? VKTI_PK_TUPLE : op == 'l' ? VKTI_PK_LIST : VKTI_PK_SET, k);
            break;
        case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
            size_t cnt = (size_t)(op - 0x84);
            if (m->len < base(m) + cnt)
                return pk_fail(pk, VKTI_E_FORMAT, "TUPLE%zu finds too few values on the stack", cnt);
            rc = collect(m, VKTI_PK_TUPLE, m->len - cnt);
            break;
        }
        case 'd': /* DICT */
            if ((rc = pop_mark(m, "DICT", &k)))
                break;
            if ((m->len - k) % 2)
                return pk_fail(pk, VKTI_E_FORMAT, "DICT has a key without a value");
            v = vkti_pk_new(pk, VKTI_PK_DICT);
            if (!v)
                return pk->status;
            for (size_t i = k; i < m->len && !rc; i += 2)
                rc = vkti_pk_set_item(pk, v, m->stack[i], m->stack[i + 1]);
            m->len = k;
            if (!rc)
                rc = push(m, v);
            break;
        case 'a': /* APPEND */
            x = pop(m, "APPEND");
            v = x ? top(m, "APPEND") : NULL;
            if (!v)
                return pk->status;
            if (v->kind != VKTI_PK_LIST)
                return pk_fail(pk, VKTI_E_FORMAT, "APPEND to a %s, not a list", vkti_pk_kind_name(v->kind));
            rc = vkti_pk_append(pk, v, x);
            break;
        case 'e': case 0x90: /* APPENDS, ADDITEMS */
            if ((rc = pop_mark(m, op == 'e' ? "APPENDS" : "ADDITEMS", &k)))
                break;
            v = below_mark(m, k, op == 'e' ? "APPENDS" : "ADDITEMS");
            if (!v)
                return pk->status;
            if (v->kind != (op == 'e' ? VKTI_PK_LIST : VKTI_PK_SET))
                return pk_fail(pk, VKTI_E_FORMAT, "%s to a %s", op == 'e' ? "APPENDS" : "ADDITEMS",
                               vkti_pk_kind_name(v->kind));
            for (size_t i = k; i < m->len && !rc; i++)
                rc = vkti_pk_append(pk, v, m->stack[i]);
            m->len = k;
            break;
        case 's': /* SETITEM */
            x = pop(m, "SETITEM");
            w = x ? pop(m, "SETITEM") : NULL;
            v = w ? top(m, "SETITEM") : NULL;
            if (!v)
                return pk->status;
            rc = vkti_pk_set_item(pk, v, w, x);
            break;
        case 'u': /* SETITEMS */
            if ((rc = pop_mark(m, "SETITEMS", &k)))
                break;
            v = below_mark(m, k, "SETITEMS");
            if (!v)
                return pk->status;
            if ((m->len - k) % 2)
                return pk_fail(pk, VKTI_E_FORMAT, "SETITEMS has a key without a value");
            for (size_t i = k; i < m->len && !rc; i += 2)
                rc = vkti_pk_set_item(pk, v, m->stack[i], m->stack[i + 1]);
            m->len = k;
            break;
        case 'g': case 'p': { /* GET, PUT */
            int64_t i;
            if ((rc = read_line(m, op == 'g' ? "GET" : "PUT", &b, &n)))
                break;
            if ((rc = parse_int_text(m, b, n, op == 'g' ? "GET" : "PUT", &i)))
                break;
            if (i < 0)
                return pk_fail(pk, VKTI_E_FORMAT, "negative memo index");
            rc = op == 'g' ? memo_get(m, (uint64_t)i) : memo_put(m, (uint64_t)i, top(m, "PUT"));
            break;
        }
        case 'h': NEED(m, 1, "BINGET"); rc = memo_get(m, *m->p++); break;
        case 'j': NEED(m, 4, "LONG_BINGET"); rc = memo_get(m, vkti_le32(m->p)); m->p += 4; break;
        case 'q': NEED(m, 1, "BINPUT"); rc = memo_put(m, *m->p++, top(m, "BINPUT")); break;
        case 'r': NEED(m, 4, "LONG_BINPUT"); rc = memo_put(m, vkti_le32(m->p), top(m, "LONG_BINPUT")); m->p += 4; break;
        case 0x94: rc = memo_put(m, m->memo_count, top(m, "MEMOIZE")); break; /* MEMOIZE */
        case 'c': case 'i': { /* GLOBAL, INST */
            const uint8_t *mod = NULL, *name = NULL;
            size_t mlen = 0, nlen = 0;
            const char *opname = op == 'c' ? "GLOBAL" : "INST";
            if ((rc = read_line(m, opname, &mod, &mlen)) || (rc = read_line(m, opname, &name, &nlen)))
                break;
            if ((rc = global(m, mod, mlen, name, nlen, opname, &v)))
                break;
            if (op == 'i')
                return pk_fail(pk, VKTI_E_FORMAT, "the pickle builds %s with INST, which vkti does not support", v->s);
            rc = push(m, v);
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            x = pop(m, "STACK_GLOBAL");
            w = x ? pop(m, "STACK_GLOBAL") : NULL;
            if (!w)
                return pk->status;
            if (w->kind != VKTI_PK_STR || x->kind != VKTI_PK_STR)
                return pk_fail(pk, VKTI_E_FORMAT, "STACK_GLOBAL needs two strings");
            if ((rc = global(m, (const uint8_t *)w->s, w->len, (const uint8_t *)x->s, x->len, "STACK_GLOBAL", &v)))
                break;
            rc = push(m, v);
            break;
        case 'o': /* OBJ */
            if ((rc = pop_mark(m, "OBJ", &k)))
                break;
            if (k >= m->len)
                return pk_fail(pk, VKTI_E_FORMAT, "OBJ without a class");
            return pk_fail(pk, VKTI_E_FORMAT, "the pickle builds %s with OBJ, which vkti does not support",
                           m->stack[k]->kind == VKTI_PK_GLOBAL ? m->stack[k]->s : "an object");
        case 'R': /* REDUCE */
            w = pop(m, "REDUCE");
            v = w ? pop(m, "REDUCE") : NULL;
            rc = call(m, v, w, 0, "REDUCE");
            break;
        case 0x81: /* NEWOBJ */
            w = pop(m, "NEWOBJ");
            v = w ? pop(m, "NEWOBJ") : NULL;
            rc = call(m, v, w, 1, "NEWOBJ");
            break;
        case 0x92: /* NEWOBJ_EX */
            x = pop(m, "NEWOBJ_EX");
            w = x ? pop(m, "NEWOBJ_EX") : NULL;
            v = w ? pop(m, "NEWOBJ_EX") : NULL;
            if (!v)
                return pk->status;
            if (x->kind != VKTI_PK_DICT || x->count)
                return pk_fail(pk, VKTI_E_FORMAT, "NEWOBJ_EX with keyword arguments, which vkti does not support");
            rc = call(m, v, w, 1, "NEWOBJ_EX");
            break;
        case 'b': /* BUILD: the state is only recorded */
            x = pop(m, "BUILD");
            v = x ? top(m, "BUILD") : NULL;
            if (!v)
                return pk->status;
            if (v->kind != VKTI_PK_DICT && v->kind != VKTI_PK_OBJECT && v->kind != VKTI_PK_HOST)
                return pk_fail(pk, VKTI_E_FORMAT, "BUILD on a %s, which has no state to set", vkti_pk_kind_name(v->kind));
            if ((rc = check_mutable(pk, v)))
                break;
            if (v->state)
                return pk_fail(pk, VKTI_E_FORMAT, "BUILD sets a %s's state twice", vkti_pk_kind_name(v->kind));
            if (!(rc = adopt(pk, v, x)))
                v->state = x;
            break;
        case 'P': /* PERSID */
            if ((rc = read_line(m, "PERSID", &b, &n)))
                break;
            if (!vkti_utf8_valid(b, n))
                return pk_fail(pk, VKTI_E_FORMAT, "PERSID is not valid UTF-8");
            rc = persistent(m, vkti_pk_new_str(pk, VKTI_PK_STR, b, n));
            break;
        case 'Q': /* BINPERSID */
            rc = persistent(m, pop(m, "BINPERSID"));
            break;
        case 0x80: /* PROTO */
            NEED(m, 1, "PROTO");
            m->proto = *m->p++;
            if (m->proto > 5)
                return pk_fail(pk, VKTI_E_FORMAT, "pickle protocol %d; vkti reads protocols 0 to 5", m->proto);
            break;
        case 0x95: /* FRAME: framing only groups opcodes; the length must fit what is left */
            NEED(m, 8, "FRAME");
            len = vkti_le64(m->p);
            m->p += 8;
            if (len > (uint64_t)(m->end - m->p))
                return pk_fail(pk, VKTI_E_FORMAT, "a FRAME of %llu bytes runs past the end of the pickle",
                               (unsigned long long)len);
            break;
        default: {
            const char *what = refused_opcode(op);
            if (what)
                return pk_fail(pk, VKTI_E_FORMAT, "the pickle uses %s, which vkti does not support", what);
            return pk_fail(pk, VKTI_E_FORMAT, "unknown pickle opcode 0x%02x (a corrupt file, or not a pickle)", op);
        }
        }
    }
    return rc;
}

int vkti_pickle_load(vkti_diag *d, vkti_pickle **out, const char *what, const uint8_t *data, size_t size,
                     const vkti_pk_hooks *hooks)
{
    *out = NULL;
    vkti_pickle *pk = calloc(1, sizeof *pk);
    if (!pk)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", what);
    pk->d = d;
    pk->hooks = hooks;
    pk->what = malloc(strlen(what) + 1);
    if (!pk->what) {
        free(pk);
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", what);
    }
    strcpy(pk->what, what);
    if (size > VKTI_PK_MAX_INPUT) {
        int rc = pk_fail(pk, VKTI_E_FORMAT, "the pickle is %zu bytes, more than the %u MiB vkti reads", size,
                         VKTI_PK_MAX_INPUT >> 20);
        vkti_pickle_free(pk);
        return rc;
    }
    pk->none_ = vkti_pk_new(pk, VKTI_PK_NONE);
    pk->true_ = vkti_pk_new(pk, VKTI_PK_BOOL);
    pk->false_ = vkti_pk_new(pk, VKTI_PK_BOOL);
    if (pk->true_)
        pk->true_->i = 1;
    vm m = {.pk = pk, .start = data, .p = data, .end = data + size};
    int rc = pk->status ? pk->status : run(&m);
    free(m.stack);
    free(m.marks);
    free(m.memo);
    if (rc) {
        vkti_pickle_free(pk);
        return rc;
    }
    pk->d = NULL; /* the diag belongs to the caller's call, not to the tree */
    *out = pk;
    return VKTI_OK;
}
