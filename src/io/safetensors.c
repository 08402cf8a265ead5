/* safetensors.c — safetensors reader (every check of the reference) and writer (see safetensors.h). */
#include "io/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"
#include "io/json_reader.h"
#include "io/unicode.h"

/* ---- reader --------------------------------------------------------------------------------- */

typedef struct entry {
    uint64_t begin, end; /* data_offsets as the file gives them */
    uint32_t index;      /* into the parse-order array */
} entry;

typedef struct parser {
    vkti_diag *d;
    vkti_safetensors *st;
    const char *path;
    vkti_jr j;
    vkti_io_tensor *tensors; /* in header order while parsing */
    entry *entries;
    size_t count, cap;
    vkti_st_meta *meta;
    size_t meta_count, meta_cap;
    int seen_meta;
} parser;

static char *quote(char *buf, const char *s, size_t n) { return vkti_quote(buf, VKTI_QUOTE_MAX, s, n); }

static int json_error(parser *p, const char *context)
{
    return vkti_fail(p->d, VKTI_E_FORMAT, "%s: the header is not valid JSON%s%s: %s", p->path,
                     context ? " in " : "", context ? context : "", p->j.error);
}

static int parse_meta(parser *p)
{
    char q[VKTI_QUOTE_MAX];
    if (p->seen_meta)
        return vkti_fail(p->d, VKTI_E_FORMAT, "%s: __metadata__ appears twice in the header", p->path);
    p->seen_meta = 1;
    int r = vkti_jr_null(&p->j);
    if (r != 0)
        return r < 0 ? json_error(p, "__metadata__") : VKTI_OK;
    if (vkti_jr_peek(&p->j) != '{')
        return vkti_fail(p->d, VKTI_E_FORMAT, "%s: __metadata__ is not an object of strings", p->path);
    if (vkti_jr_object_begin(&p->j) < 0)
        return json_error(p, "__metadata__");
    const char *key, *value;
    size_t klen, vlen;
    while ((r = vkti_jr_object_next(&p->j, &key, &klen)) == 1) {
        if (klen != strlen(key))
            return vkti_fail(p->d, VKTI_E_FORMAT, "%s: __metadata__ key %s contains a NUL character", p->path,
                             quote(q, key, klen));
        if (vkti_jr_peek(&p->j) != '"')
            return vkti_fail(p->d, VKTI_E_FORMAT,
                             "%s: __metadata__ value for key %s is not a string (metadata must map strings to strings)",
                             p->path, quote(q, key, klen));
        if (vkti_jr_string(&p->j, &value, &vlen) < 0)
            return json_error(p, "__metadata__");
        if (vlen != strlen(value))
            return vkti_fail(p->d, VKTI_E_FORMAT, "%s: __metadata__ value for key %s contains a NUL character",
                             p->path, quote(q, key, klen));
        if (p->meta_count == p->meta_cap) {
            size_t cap = p->meta_cap ? 2 * p->meta_cap : 16;
            vkti_st_meta *m = realloc(p->meta, cap * sizeof *m);
            if (!m)
                return vkti_fail(p->d, VKTI_E_OOM, "%s: out of memory reading the header", p->path);
            p->meta = m;
            p->meta_cap = cap;
        }
        p->meta[p->meta_count].key = key;
        p->meta[p->meta_count].value = value;
        p->meta_count++;
    }
    return r < 0 ? json_error(p, "__metadata__") : VKTI_OK;
}

static int parse_uint_list(parser *p, const char *tname, const char *field, uint64_t *out, int max, int *n)
{
    char q[VKTI_QUOTE_MAX];
    if (vkti_jr_peek(&p->j) != '[')
        return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: %s is not a list of non-negative integers", p->path,
                         quote(q, tname, strlen(tname)), field);
    if (vkti_jr_array_begin(&p->j) < 0)
        return json_error(p, field);
    int r, k = 0;
    while ((r = vkti_jr_array_next(&p->j)) == 1) {
        uint64_t v;
        if (vkti_jr_uint(&p->j, &v) < 0)
            return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: %s must be a list of non-negative integers (%s)",
                             p->path, quote(q, tname, strlen(tname)), field, p->j.error);
        if (k >= max) {
            if (max == 2)
                return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: data_offsets must be exactly two numbers [begin, end]",
                                 p->path, quote(q, tname, strlen(tname)));
            return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s has more than %d dimensions, which vkti does not handle",
                             p->path, quote(q, tname, strlen(tname)), max);
        }
        out[k++] = v;
    }
    if (r < 0)
        return json_error(p, field);
    *n = k;
    return VKTI_OK;
}

static int parse_tensor(parser *p, const char *name)
{
    char q[VKTI_QUOTE_MAX];
    const char *qname = quote(q, name, strlen(name));
    if (p->count >= VKTI_ST_MAX_TENSORS)
        return vkti_fail(p->d, VKTI_E_FORMAT, "%s: more than %u tensors in the header", p->path, VKTI_ST_MAX_TENSORS);
    if (p->count == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        vkti_io_tensor *t = realloc(p->tensors, cap * sizeof *t);
        if (t)
            p->tensors = t;
        entry *e = realloc(p->entries, cap * sizeof *e);
        if (e)
            p->entries = e;
        if (!t || !e)
            return vkti_fail(p->d, VKTI_E_OOM, "%s: out of memory reading the header", p->path);
        p->cap = cap;
    }
    vkti_io_tensor *t = &p->tensors[p->count];
    entry *e = &p->entries[p->count];
    memset(t, 0, sizeof *t);
    t->name = name;
    e->index = (uint32_t)p->count;
    p->count++;

    if (vkti_jr_peek(&p->j) != '{')
        return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: its entry is not an object", p->path, qname);
    if (vkti_jr_object_begin(&p->j) < 0)
        return json_error(p, "a tensor entry");
    int has_dtype = 0, has_shape = 0, has_offsets = 0, r;
    const char *field;
    size_t flen;
    while ((r = vkti_jr_object_next(&p->j, &field, &flen)) == 1) {
        int *seen = !strcmp(field, "dtype") ? &has_dtype : !strcmp(field, "shape") ? &has_shape
                  : !strcmp(field, "data_offsets") ? &has_offsets : NULL;
        if (!seen) { /* unknown fields are ignored, as the reference does */
            if (vkti_jr_skip(&p->j) < 0)
                return json_error(p, "a tensor entry");
            continue;
        }
        if (*seen)
            return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: field %s appears twice", p->path, qname, field);
        *seen = 1;
        if (seen == &has_dtype) {
            const char *dt;
            size_t dlen;
            if (vkti_jr_peek(&p->j) != '"')
                return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: dtype is not a string", p->path, qname);
            if (vkti_jr_string(&p->j, &dt, &dlen) < 0)
                return json_error(p, "a dtype");
            if (dlen != strlen(dt) || vkti_io_dtype_from_name(dt, &t->dtype) < 0) {
                char q2[VKTI_QUOTE_MAX];
                return vkti_fail(p->d, VKTI_E_FORMAT,
                                 "%s: tensor %s has dtype %s, which vkti does not read (it reads F64, F32, F16, BF16, "
                                 "I64, I32, I16, I8, U8 and BOOL)",
                                 p->path, qname, quote(q2, dt, dlen));
            }
        } else if (seen == &has_shape) {
            uint64_t dims[VKTI_IO_MAX_DIMS];
            int n = 0;
            int rc = parse_uint_list(p, name, "shape", dims, VKTI_IO_MAX_DIMS, &n);
            if (rc)
                return rc;
            t->ndim = n;
            for (int i = 0; i < n; i++) {
                if (dims[i] > (uint64_t)INT64_MAX)
                    return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: shape dimension %llu is too large", p->path,
                                     qname, (unsigned long long)dims[i]);
                t->shape[i] = (int64_t)dims[i];
            }
        } else {
            uint64_t offs[2];
            int n = 0;
            int rc = parse_uint_list(p, name, "data_offsets", offs, 2, &n);
            if (rc)
                return rc;
            if (n != 2)
                return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: data_offsets must be exactly two numbers [begin, end]",
                                 p->path, qname);
            e->begin = offs[0];
            e->end = offs[1];
        }
    }
    if (r < 0)
        return json_error(p, "a tensor entry");
    if (!has_dtype || !has_shape || !has_offsets)
        return vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s has no %s", p->path, qname,
                         !has_dtype ? "dtype" : !has_shape ? "shape" : "data_offsets");
    if (!vkti_io_numel(t->ndim, t->shape, &t->numel)) {
        char desc[200];
        return vkti_fail(p->d, VKTI_E_FORMAT,
                         "%s: tensor %s: shape overflows: %s has more elements than fit 62 bits", p->path, qname,
                         vkti_io_tensor_describe(t, desc, sizeof desc));
    }
    return VKTI_OK;
}

static int cmp_name(const void *a, const void *b)
{
    const vkti_io_tensor *x = *(const vkti_io_tensor *const *)a, *y = *(const vkti_io_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp(((const vkti_st_meta *)a)->key, ((const vkti_st_meta *)b)->key);
}

/* Checks the offsets (in data order) tile the data section, then fills the final tensor array. */
static int place_tensors(parser *p, const uint8_t *data_start, uint64_t data_size)
{
    char q[VKTI_QUOTE_MAX], q2[VKTI_QUOTE_MAX];
    if (p->count > 1)
        qsort(p->entries, p->count, sizeof *p->entries, cmp_entry);
    vkti_io_tensor *out = malloc((p->count ? p->count : 1) * sizeof *out);
    if (!out)
        return vkti_fail(p->d, VKTI_E_OOM, "%s: out of memory", p->path);
    uint64_t prev_end = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < p->count; i++) {
        const entry *e = &p->entries[i];
        vkti_io_tensor *t = &p->tensors[e->index];
        const char *qn = quote(q, t->name, strlen(t->name));
        int rc = VKTI_OK;
        if (e->end < e->begin)
            rc = vkti_fail(p->d, VKTI_E_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] end before they begin",
                           p->path, qn, (unsigned long long)e->begin, (unsigned long long)e->end);
        else if (e->end > data_size)
            rc = vkti_fail(p->d, VKTI_E_FORMAT,
                           "%s: tensor %s: data_offsets [%llu, %llu] run past the end of the data section (%llu bytes): "
                           "a truncated file or lying offsets",
                           p->path, qn, (unsigned long long)e->begin, (unsigned long long)e->end,
                           (unsigned long long)data_size);
        else if (e->begin < prev_end)
            rc = vkti_fail(p->d, VKTI_E_FORMAT,
                           "%s: tensor %s: data_offsets [%llu, %llu] overlap tensor %s, which ends at %llu",
                           p->path, qn, (unsigned long long)e->begin, (unsigned long long)e->end,
                           quote(q2, prev, strlen(prev)), (unsigned long long)prev_end);
        else if (e->begin > prev_end)
            rc = vkti_fail(p->d, VKTI_E_FORMAT,
                           "%s: tensor %s starts at byte %llu of the data section, leaving a gap of %llu unaccounted "
                           "bytes after %s",
                           p->path, qn, (unsigned long long)e->begin, (unsigned long long)(e->begin - prev_end),
                           prev ? quote(q2, prev, strlen(prev)) : "the header");
        else {
            uint64_t need = t->numel * vkti_io_dtype_size(t->dtype); /* numel < 2^62: no overflow */
            if (e->end - e->begin != need) {
                char desc[200];
                rc = vkti_fail(p->d, VKTI_E_FORMAT,
                               "%s: tensor %s: data_offsets [%llu, %llu] hold %llu bytes, but %s needs %llu",
                               p->path, qn, (unsigned long long)e->begin, (unsigned long long)e->end,
                               (unsigned long long)(e->end - e->begin), vkti_io_tensor_describe(t, desc, sizeof desc),
                               (unsigned long long)need);
            }
        }
        if (rc) {
            free(out);
            return rc;
        }
        prev_end = e->end;
        prev = t->name;
        t->data = data_start + e->begin;
        vkti_io_tensor_set_packed(t);
        out[i] = *t;
    }
    if (prev_end != data_size) {
        free(out);
        return vkti_fail(p->d, VKTI_E_FORMAT,
                         "%s: %llu trailing bytes after the last tensor's data (the header accounts for %llu of the "
                         "data section's %llu bytes)",
                         p->path, (unsigned long long)(data_size - prev_end), (unsigned long long)prev_end,
                         (unsigned long long)data_size);
    }
    free(p->tensors);
    p->tensors = out;
    return VKTI_OK;
}

static int parse(vkti_diag *d, vkti_safetensors *st)
{
    const char *path = st->path;
    if (st->size < 8)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: the file is %zu bytes long, shorter than the 8-byte header length every safetensors file "
                         "starts with (truncated, or not a safetensors file)",
                         path, st->size);
    uint64_t n = vkti_le64(st->data);
    if (n > VKTI_ST_MAX_HEADER)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: header length %llu is over the %u-byte limit (a corrupt or hostile file, or not a "
                         "safetensors file)",
                         path, (unsigned long long)n, VKTI_ST_MAX_HEADER);
    if (n > st->size - 8)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: header length %llu runs past the end of the file (%zu bytes): a truncated file or a "
                         "lying header length",
                         path, (unsigned long long)n, st->size);
    st->header_len = n;
    const uint8_t *header = st->data + 8;
    size_t bad = vkti_utf8_check(header, (size_t)n);
    if (bad < n)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the header is not valid UTF-8 (bad byte 0x%02x at header byte %zu)",
                         path, header[bad], bad);
    st->pool_ = malloc((size_t)n + 1);
    if (!st->pool_)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory for a %llu-byte header", path, (unsigned long long)n);

    parser p = {.d = d, .st = st, .path = path};
    vkti_jr_init(&p.j, header, (size_t)n, st->pool_, (size_t)n + 1);
    int rc = VKTI_OK;
    int kind = vkti_jr_peek(&p.j);
    if (kind != '{') {
        static const struct { int c; const char *what; } kinds[] = {
            {'[', "an array"}, {'"', "a string"}, {'0', "a number"}, {'n', "null"}, {'t', "a boolean"}, {'f', "a boolean"}};
        const char *what = NULL;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (kinds[i].c == kind)
                what = kinds[i].what;
        if (what && vkti_jr_skip(&p.j) == 0 && vkti_jr_finish(&p.j) == 0)
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: the header's JSON is %s, not an object of tensors", path, what);
        else
            rc = json_error(&p, NULL);
        goto done;
    }
    if (vkti_jr_object_begin(&p.j) < 0) {
        rc = json_error(&p, NULL);
        goto done;
    }
    const char *key;
    size_t klen;
    int r;
    while ((r = vkti_jr_object_next(&p.j, &key, &klen)) == 1) {
        if (klen != strlen(key)) {
            char q[VKTI_QUOTE_MAX];
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: tensor name %s contains a NUL character", path, quote(q, key, klen));
            goto done;
        }
        rc = !strcmp(key, "__metadata__") ? parse_meta(&p) : parse_tensor(&p, key);
        if (rc)
            goto done;
    }
    if (r < 0 || vkti_jr_finish(&p.j) < 0) {
        rc = json_error(&p, NULL);
        goto done;
    }

    /* names: sorted once, for duplicates now and lookups later */
    st->by_name_ = malloc((p.count ? p.count : 1) * sizeof *st->by_name_);
    const vkti_io_tensor **sorted = malloc((p.count ? p.count : 1) * sizeof *sorted);
    if (!st->by_name_ || !sorted) {
        free(sorted);
        rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < p.count; i++)
        sorted[i] = &p.tensors[i];
    qsort(sorted, p.count, sizeof *sorted, cmp_name);
    for (size_t i = 1; i < p.count; i++) {
        if (!strcmp(sorted[i]->name, sorted[i - 1]->name)) {
            char q[VKTI_QUOTE_MAX];
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: tensor name %s appears twice in the header", path,
                           quote(q, sorted[i]->name, strlen(sorted[i]->name)));
            free(sorted);
            goto done;
        }
    }
    free(sorted);
    if (p.meta_count > 1) {
        vkti_st_meta *m = malloc(p.meta_count * sizeof *m);
        if (!m) {
            rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", path);
            goto done;
        }
        memcpy(m, p.meta, p.meta_count * sizeof *m);
        qsort(m, p.meta_count, sizeof *m, cmp_meta);
        for (size_t i = 1; i < p.meta_count; i++) {
            if (!strcmp(m[i].key, m[i - 1].key)) {
                char q[VKTI_QUOTE_MAX];
                rc = vkti_fail(d, VKTI_E_FORMAT, "%s: __metadata__ key %s appears twice", path,
                               quote(q, m[i].key, strlen(m[i].key)));
                break;
            }
        }
        free(m);
        if (rc)
            goto done;
    }

    rc = place_tensors(&p, st->data + 8 + n, (uint64_t)(st->size - 8 - n));
    if (rc)
        goto done;
    st->tensors = p.tensors;
    st->count = p.count;
    st->meta = p.meta;
    st->meta_count = p.meta_count;
    p.tensors = NULL;
    p.meta = NULL;
    {
        /* the lookup index over the final (data-ordered) array */
        const vkti_io_tensor **ptrs = malloc((st->count ? st->count : 1) * sizeof *ptrs);
        if (!ptrs) {
            rc = vkti_fail(d, VKTI_E_OOM, "%s: out of memory", path);
            goto done;
        }
        for (size_t i = 0; i < st->count; i++)
            ptrs[i] = &st->tensors[i];
        qsort(ptrs, st->count, sizeof *ptrs, cmp_name);
        for (size_t i = 0; i < st->count; i++)
            st->by_name_[i] = (uint32_t)(ptrs[i] - st->tensors);
        free(ptrs);
    }
done:
    free(p.tensors);
    free(p.entries);
    free(p.meta);
    return rc;
}

int vkti_safetensors_parse(vkti_diag *d, vkti_safetensors *st, const char *name, const uint8_t *data, size_t size)
{
    memset(st, 0, sizeof *st);
    st->path = malloc(strlen(name) + 1);
    if (!st->path)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
    strcpy(st->path, name);
    st->data = data;
    st->size = size;
    int rc = parse(d, st);
    if (rc)
        vkti_safetensors_close(st);
    return rc;
}

int vkti_safetensors_open(vkti_diag *d, vkti_safetensors *st, const char *path)
{
    memset(st, 0, sizeof *st);
    vkti_mapped_file f;
    int rc = vkti_file_map(d, path, &f);
    if (rc)
        return rc;
    rc = vkti_safetensors_parse(d, st, path, f.data, f.size);
    if (rc) {
        vkti_file_unmap(&f);
        return rc;
    }
    st->file_ = f;
    return VKTI_OK;
}

void vkti_safetensors_close(vkti_safetensors *st)
{
    free(st->path);
    free(st->tensors);
    free(st->meta);
    free(st->by_name_);
    free(st->pool_);
    if (st->file_.data)
        vkti_file_unmap(&st->file_);
    memset(st, 0, sizeof *st);
}

const vkti_io_tensor *vkti_safetensors_find(const vkti_safetensors *st, const char *name)
{
    size_t lo = 0, hi = st->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const vkti_io_tensor *t = &st->tensors[st->by_name_[mid]];
        int c = strcmp(name, t->name);
        if (c == 0)
            return t;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *vkti_safetensors_meta(const vkti_safetensors *st, const char *key)
{
    for (size_t i = 0; i < st->meta_count; i++)
        if (!strcmp(st->meta[i].key, key))
            return st->meta[i].value;
    return NULL;
}

/* ---- writer --------------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + n + 1 > cap)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string, escaped as serde_json does (short escapes where JSON has them, else \u00xx). */
static void sb_json_string(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        switch (*c) {
        case '"': sb_put(b, "\\\"", 2); break;
        case '\\': sb_put(b, "\\\\", 2); break;
        case '\b': sb_put(b, "\\b", 2); break;
        case '\f': sb_put(b, "\\f", 2); break;
        case '\n': sb_put(b, "\\n", 2); break;
        case '\r': sb_put(b, "\\r", 2); break;
        case '\t': sb_put(b, "\\t", 2); break;
        default:
            if (*c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *c);
                sb_put(b, esc, 6);
            } else {
                sb_put(b, (const char *)c, 1);
            }
        }
    }
    sb_put(b, "\"", 1);
}

/* The reference's dtype order (its Dtype enum): the writer sorts by it, descending. */
static int dtype_rank(vkti_io_dtype t)
{
    switch (t) {
    case VKTI_IO_BOOL: return 0;
    case VKTI_IO_U8: return 1;
    case VKTI_IO_I8: return 2;
    case VKTI_IO_I16: return 5;
    case VKTI_IO_F16: return 7;
    case VKTI_IO_BF16: return 8;
    case VKTI_IO_I32: return 9;
    case VKTI_IO_F32: return 11;
    case VKTI_IO_F64: return 12;
    case VKTI_IO_I64: return 13;
    case VKTI_IO_DTYPE_COUNT: break;
    }
    return -1;
}

static int cmp_write_order(const void *a, const void *b)
{
    const vkti_io_tensor *x = *(const vkti_io_tensor *const *)a, *y = *(const vkti_io_tensor *const *)b;
    int rx = dtype_rank(x->dtype), ry = dtype_rank(y->dtype);
    if (rx != ry)
        return rx > ry ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int check_string(vkti_diag *d, const char *what, const char *s)
{
    if (!s)
        return vkti_fail(d, VKTI_E_INVALID, "safetensors writer: a %s is missing", what);
    if (!vkti_utf8_valid((const uint8_t *)s, strlen(s))) {
        char q[VKTI_QUOTE_MAX];
        return vkti_fail(d, VKTI_E_INVALID, "safetensors writer: %s %s is not valid UTF-8", what,
                         vkti_quote(q, sizeof q, s, strlen(s)));
    }
    return VKTI_OK;
}

int vkti_safetensors_serialize(vkti_diag *d, const vkti_io_tensor *tensors, size_t count,
                               const vkti_st_meta *meta, size_t meta_count, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    char q[VKTI_QUOTE_MAX];
    int rc = VKTI_OK;
    const vkti_io_tensor **order = malloc((count ? count : 1) * sizeof *order);
    sbuf b = {0};
    if (!order) {
        rc = vkti_fail(d, VKTI_E_OOM, "safetensors writer: out of memory");
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        const vkti_io_tensor *t = &tensors[i];
        if ((rc = check_string(d, "tensor name", t->name)))
            goto done;
        if (!strcmp(t->name, "__metadata__")) {
            rc = vkti_fail(d, VKTI_E_INVALID, "safetensors writer: a tensor may not be called __metadata__");
            goto done;
        }
        if (dtype_rank(t->dtype) < 0 || t->ndim < 0 || t->ndim > VKTI_IO_MAX_DIMS) {
            rc = vkti_fail(d, VKTI_E_INVALID, "safetensors writer: tensor %s has a bad dtype or rank",
                           vkti_quote(q, sizeof q, t->name, strlen(t->name)));
            goto done;
        }
        uint64_t n;
        if (!vkti_io_numel(t->ndim, t->shape, &n) || n != t->numel || t->bytes != n * vkti_io_dtype_size(t->dtype) ||
            (n && !t->data)) {
            rc = vkti_fail(d, VKTI_E_INVALID, "safetensors writer: tensor %s has a bad shape, element count or no data",
                           vkti_quote(q, sizeof q, t->name, strlen(t->name)));
            goto done;
        }
        order[i] = t;
    }
    /* duplicates: sorted by name first (the write order sorts by dtype first, which would part
     * two tensors of one name but different dtypes) */
    qsort(order, count, sizeof *order, cmp_name);
    for (size_t i = 1; i < count; i++) {
        if (!strcmp(order[i]->name, order[i - 1]->name)) {
            rc = vkti_fail(d, VKTI_E_INVALID, "safetensors writer: tensor name %s given twice",
                           vkti_quote(q, sizeof q, order[i]->name, strlen(order[i]->name)));
            goto done;
        }
    }
    qsort(order, count, sizeof *order, cmp_write_order);
    for (size_t i = 0; i < meta_count; i++) {
        if ((rc = check_string(d, "metadata key", meta[i].key)) || (rc = check_string(d, "metadata value", meta[i].value)))
            goto done;
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(meta[k].key, meta[i].key)) {
                rc = vkti_fail(d, VKTI_E_INVALID, "safetensors writer: metadata key %s given twice",
                               vkti_quote(q, sizeof q, meta[i].key, strlen(meta[i].key)));
                goto done;
            }
        }
    }

    /* the header, in the reference's compact form */
    sb_put(&b, "{", 1);
    if (meta_count) {
        sb_str(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < meta_count; i++) {
            if (i)
                sb_put(&b, ",", 1);
            sb_json_string(&b, meta[i].key);
            sb_put(&b, ":", 1);
            sb_json_string(&b, meta[i].value);
        }
        sb_put(&b, "}", 1);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        const vkti_io_tensor *t = order[i];
        char num[64];
        if (i || meta_count)
            sb_put(&b, ",", 1);
        sb_json_string(&b, t->name);
        sb_str(&b, ":{\"dtype\":\"");
        sb_str(&b, vkti_io_dtype_name(t->dtype));
        sb_str(&b, "\",\"shape\":[");
        for (int k = 0; k < t->ndim; k++) {
            snprintf(num, sizeof num, "%s%lld", k ? "," : "", (long long)t->shape[k]);
            sb_str(&b, num);
        }
        uint64_t end;
        if (!vkti_add_u64(offset, t->bytes, &end)) {
            rc = vkti_fail(d, VKTI_E_INVALID, "safetensors writer: the tensors add up to more than 2^64 bytes");
            goto done;
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset, (unsigned long long)end);
        sb_str(&b, num);
        offset = end;
    }
    sb_put(&b, "}", 1);
    while (!b.oom && b.n % 8)
        sb_put(&b, " ", 1);
    if (b.oom) {
        rc = vkti_fail(d, VKTI_E_OOM, "safetensors writer: out of memory");
        goto done;
    }
    if (b.n > VKTI_ST_MAX_HEADER) {
        rc = vkti_fail(d, VKTI_E_INVALID, "safetensors writer: the header would be %zu bytes, over the %u limit", b.n,
                       VKTI_ST_MAX_HEADER);
        goto done;
    }
    uint64_t total = 8 + (uint64_t)b.n + offset;
    if (total > SIZE_MAX) {
        rc = vkti_fail(d, VKTI_E_OOM, "safetensors writer: %llu bytes do not fit in memory", (unsigned long long)total);
        goto done;
    }
    uint8_t *buf = malloc((size_t)total);
    if (!buf) {
        rc = vkti_fail(d, VKTI_E_OOM, "safetensors writer: out of memory for %llu bytes", (unsigned long long)total);
        goto done;
    }
    vkti_put_le64(buf, (uint64_t)b.n);
    memcpy(buf + 8, b.p, b.n);
    uint8_t *w = buf + 8 + b.n;
    for (size_t i = 0; i < count; i++) {
        if (order[i]->bytes && (rc = vkti_io_tensor_copy(d, order[i], w, order[i]->bytes))) {
            free(buf);
            goto done;
        }
        w += order[i]->bytes;
    }
    *out = buf;
    *size = (size_t)total;
done:
    free(order);
    free(b.p);
    return rc;
}

int vkti_safetensors_write(vkti_diag *d, const char *path, const vkti_io_tensor *tensors, size_t count,
                           const vkti_st_meta *meta, size_t meta_count)
{
    uint8_t *buf;
    size_t size;
    int rc = vkti_safetensors_serialize(d, tensors, count, meta, meta_count, &buf, &size);
    if (rc)
        return vkti_fail_wrap(d, rc, "%s", path);
    rc = vkti_file_write_atomic(d, path, buf, size);
    free(buf);
    return rc;
}
