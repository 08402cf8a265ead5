/* ckpt.c — torch.save checkpoints: the zip layout, the allow-list, persistent ids to storages,
 * tensors rebuilt and checked against their storages (see ckpt.h). */
#include "io/ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"

/* What find_class accepts: the id it gives each name. */
enum {
    G_ORDERED_DICT = 1,
    G_REBUILD_TENSOR_V2,
    G_REBUILD_PARAMETER,
    G_REBUILD_PARAMETER_STATE,
    G_UNTYPED_STORAGE,
    G_PARAMETER_DICT,
    G_SET,
    G_CODECS_ENCODE,
    G_STORAGE = 100 /* + the storage's vkti_io_dtype */
};

/* What the hooks' HOST values are (vkti_pk_value.i); their index is in .len. */
enum { HOST_STORAGE = 1, HOST_TENSOR = 2 };

static const struct {
    const char *module, *name;
    int id;
} allowed[] = {
    {"collections", "OrderedDict", G_ORDERED_DICT},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER},
    {"torch._utils", "_rebuild_parameter_with_state", G_REBUILD_PARAMETER_STATE},
    {"torch", "DoubleStorage", G_STORAGE + VKTI_IO_F64},
    {"torch", "FloatStorage", G_STORAGE + VKTI_IO_F32},
    {"torch", "HalfStorage", G_STORAGE + VKTI_IO_F16},
    {"torch", "BFloat16Storage", G_STORAGE + VKTI_IO_BF16},
    {"torch", "LongStorage", G_STORAGE + VKTI_IO_I64},
    {"torch", "IntStorage", G_STORAGE + VKTI_IO_I32},
    {"torch", "ShortStorage", G_STORAGE + VKTI_IO_I16},
    {"torch", "CharStorage", G_STORAGE + VKTI_IO_I8},
    {"torch", "ByteStorage", G_STORAGE + VKTI_IO_U8},
    {"torch", "BoolStorage", G_STORAGE + VKTI_IO_BOOL},
    {"torch", "UntypedStorage", G_UNTYPED_STORAGE},
    {"torch.storage", "UntypedStorage", G_UNTYPED_STORAGE},
    {"torch.nn.modules.container", "ParameterDict", G_PARAMETER_DICT},
    {"builtins", "set", G_SET},
    {"_codecs", "encode", G_CODECS_ENCODE},
};

static int is_storage_type(int64_t id) { return id == G_UNTYPED_STORAGE || (id >= G_STORAGE && id < G_STORAGE + VKTI_IO_DTYPE_COUNT); }
static vkti_io_dtype storage_dtype(int64_t id) { return id == G_UNTYPED_STORAGE ? VKTI_IO_U8 : (vkti_io_dtype)(id - G_STORAGE); }

static int find_class(void *user, vkti_diag *d, vkti_pickle *pk, const char *module, const char *name, int64_t *id)
{
    (void)user;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (!strcmp(module, allowed[i].module) && !strcmp(name, allowed[i].name)) {
            *id = allowed[i].id;
            return VKTI_OK;
        }
    }
    char full[520], q[VKTI_QUOTE_MAX];
    snprintf(full, sizeof full, "%s.%s", module, name);
    vkti_quote_bare(q, sizeof q, full, strlen(full));
    return vkti_fail(d, VKTI_E_FORMAT,
                     "%s: refuses to load: the pickle calls %s, which a checkpoint of tensors never needs (vkti "
                     "accepts only tensors, storages and ordered dicts, and runs nothing); if you trust the file, "
                     "convert it to .safetensors with PyTorch",
                     vkti_pickle_what(pk), q);
}

static int hook_fail(vkti_diag *d, vkti_pickle *pk, const char *fmt, ...) VKTI_PRINTF(3, 4);
static int hook_fail(vkti_diag *d, vkti_pickle *pk, const char *fmt, ...)
{
    char msg[1024], key[VKTI_QUOTE_MAX + 40] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const vkti_pk_value *hint = vkti_pickle_hint(pk);
    if (hint) {
        char q[VKTI_QUOTE_MAX];
        snprintf(key, sizeof key, "for the value under %s, ", vkti_quote(q, sizeof q, hint->s, hint->len));
    }
    return vkti_fail(d, VKTI_E_FORMAT, "%s: %s (%sat pickle byte %zu)", vkti_pickle_what(pk), msg, key,
                     vkti_pickle_pos(pk));
}

static const vkti_pk_value *host(const vkti_pk_value *v, int type)
{
    return v && v->kind == VKTI_PK_HOST && v->i == type ? v : NULL;
}

static int int_arg(const vkti_pk_value *v, int64_t *out)
{
    if (!v || (v->kind != VKTI_PK_INT && v->kind != VKTI_PK_BOOL))
        return 0;
    *out = v->i;
    return 1;
}

/* "[2, 3]" from a tuple of ints (for messages) */
static void ints_str(char *buf, size_t cap, const int64_t *v, int n)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)v[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
}

/* torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata]) */
static int rebuild_tensor(vkti_ckpt *c, vkti_diag *d, vkti_pickle *pk, const vkti_pk_value *args, vkti_pk_value **out)
{
    const char *fn = "_rebuild_tensor_v2";
    if (args->count != 6 && args->count != 7)
        return hook_fail(d, pk, "%s gets %zu arguments, not 6 or 7", fn, args->count);
    vkti_pk_value *const *a = args->items;
    const vkti_pk_value *sv = host(a[0], HOST_STORAGE);
    if (!sv)
        return hook_fail(d, pk, "%s gets a %s where its storage belongs", fn, vkti_pk_kind_name(a[0]->kind));
    const vkti_ckpt_storage *s = &c->storages[sv->len];
    int64_t offset, flag;
    if (!int_arg(a[1], &offset) || offset < 0)
        return hook_fail(d, pk, "%s: the storage offset is not a non-negative integer", fn);
    if (a[2]->kind != VKTI_PK_TUPLE || a[3]->kind != VKTI_PK_TUPLE || a[2]->count != a[3]->count)
        return hook_fail(d, pk, "%s: size and stride are not two tuples of one length", fn);
    if (a[2]->count > VKTI_IO_MAX_DIMS)
        return hook_fail(d, pk, "%s: a tensor of %zu dimensions; vkti handles at most %d", fn, a[2]->count,
                         VKTI_IO_MAX_DIMS);
    if (!int_arg(a[4], &flag))
        return hook_fail(d, pk, "%s: requires_grad is a %s, not a bool", fn, vkti_pk_kind_name(a[4]->kind));
    if (a[5]->kind != VKTI_PK_DICT)
        return hook_fail(d, pk, "%s: backward_hooks is a %s, not an OrderedDict", fn, vkti_pk_kind_name(a[5]->kind));
    if (args->count == 7 && a[6]->kind != VKTI_PK_DICT && a[6]->kind != VKTI_PK_NONE)
        return hook_fail(d, pk, "%s: metadata is a %s, not a dict", fn, vkti_pk_kind_name(a[6]->kind));

    vkti_io_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = s->dtype;
    t.ndim = (int)a[2]->count;
    for (int i = 0; i < t.ndim; i++) {
        if (!int_arg(a[2]->items[i], &t.shape[i]) || !int_arg(a[3]->items[i], &t.stride[i]) || t.shape[i] < 0 ||
            t.stride[i] < 0)
            return hook_fail(d, pk, "%s: sizes and strides must be non-negative integers", fn);
    }
    char shape[200], stride[200], q[VKTI_QUOTE_MAX];
    ints_str(shape, sizeof shape, t.shape, t.ndim);
    ints_str(stride, sizeof stride, t.stride, t.ndim);
    if (!vkti_io_numel(t.ndim, t.shape, &t.numel))
        return hook_fail(d, pk, "a tensor of shape %s overflows (more elements than fit 62 bits)", shape);
    /* the last element the tensor addresses must lie inside the storage */
    uint64_t last = (uint64_t)offset;
    int ok = 1;
    if (t.numel > 0) {
        for (int i = 0; i < t.ndim && ok; i++) {
            uint64_t span;
            ok = vkti_mul_u64((uint64_t)(t.shape[i] - 1), (uint64_t)t.stride[i], &span) && vkti_add_u64(last, span, &last);
        }
        ok = ok && last < s->numel;
    } else {
        ok = (uint64_t)offset <= s->numel;
    }
    if (!ok)
        return hook_fail(d, pk,
                         "a tensor of shape %s, strides %s and offset %lld runs past the end of its storage %s, "
                         "which holds %llu elements (a corrupt or hostile file)",
                         shape, stride, (long long)offset, vkti_quote(q, sizeof q, s->key, strlen(s->key)),
                         (unsigned long long)s->numel);
    t.bytes = t.numel * vkti_io_dtype_size(t.dtype);
    t.data = s->data + (size_t)offset * vkti_io_dtype_size(t.dtype);
    t.contiguous = 1;
    int64_t expect = 1;
    for (int i = t.ndim - 1; i >= 0; i--) {
        if (t.shape[i] != 1 && t.stride[i] != expect)
            t.contiguous = 0;
        expect *= t.shape[i];
    }
    if (t.numel <= 1)
        t.contiguous = 1;
    if (t.contiguous)
        vkti_io_tensor_set_packed(&t);

    if (c->tensor_count >= VKTI_CKPT_MAX_TENSORS)
        return hook_fail(d, pk, "more than %u tensors", VKTI_CKPT_MAX_TENSORS);
    if ((c->tensor_count & (c->tensor_count - 1)) == 0) { /* grow at powers of two */
        size_t cap = c->tensor_count ? 2 * c->tensor_count : 16;
        vkti_io_tensor *nt = realloc(c->tensors, cap * sizeof *nt);
        if (!nt)
            return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", vkti_pickle_what(pk));
        c->tensors = nt;
    }
    vkti_pk_value *v = vkti_pk_new(pk, VKTI_PK_HOST);
    if (!v)
        return vkti_pickle_status(pk);
    v->i = HOST_TENSOR;
    v->len = c->tensor_count;
    c->tensors[c->tensor_count++] = t;
    *out = v;
    return VKTI_OK;
}

static int call(void *user, vkti_diag *d, vkti_pickle *pk, const vkti_pk_value *callable, const vkti_pk_value *args,
                int newobj, vkti_pk_value **out)
{
    vkti_ckpt *c = user;
    vkti_pk_value *v;
    const int64_t id = callable->i;
    if (is_storage_type(id))
        return hook_fail(d, pk, "the pickle builds %s itself; storages may only come from the archive", callable->s);
    if (newobj && id != G_PARAMETER_DICT && id != G_ORDERED_DICT)
        return hook_fail(d, pk, "the pickle builds %s with NEWOBJ, which vkti does not support", callable->s);
    switch (id) {
    case G_ORDERED_DICT:
        if (args->count)
            return hook_fail(d, pk, "OrderedDict is called with arguments, which vkti does not support");
        v = vkti_pk_new(pk, VKTI_PK_DICT);
        if (!v)
            return vkti_pickle_status(pk);
        v->flags |= VKTI_PK_ORDERED;
        *out = v;
        return VKTI_OK;
    case G_REBUILD_TENSOR_V2:
        return rebuild_tensor(c, d, pk, args, out);
    case G_REBUILD_PARAMETER:
    case G_REBUILD_PARAMETER_STATE: /* (data, requires_grad, backward_hooks[, state]): the data is the tensor */
        if (args->count != (id == G_REBUILD_PARAMETER ? 3u : 4u) || !host(args->items[0], HOST_TENSOR))
            return hook_fail(d, pk, "%s gets the wrong arguments", callable->s);
        *out = args->items[0];
        return VKTI_OK;
    case G_PARAMETER_DICT: /* an object whose state BUILD will record */
        if (!newobj || args->count)
            return hook_fail(d, pk, "ParameterDict is built in a way vkti does not read");
        v = vkti_pk_new_str(pk, VKTI_PK_OBJECT, callable->s, strlen(callable->s));
        if (!v)
            return vkti_pickle_status(pk);
        *out = v;
        return VKTI_OK;
    case G_SET: {
        if (args->count > 1 || (args->count == 1 && args->items[0]->kind != VKTI_PK_LIST &&
                                args->items[0]->kind != VKTI_PK_TUPLE && args->items[0]->kind != VKTI_PK_SET))
            return hook_fail(d, pk, "set() gets arguments vkti does not read");
        v = vkti_pk_new(pk, VKTI_PK_SET);
        if (!v)
            return vkti_pickle_status(pk);
        for (size_t i = 0; args->count && i < args->items[0]->count; i++) {
            int rc = vkti_pk_append(pk, v, args->items[0]->items[i]);
            if (rc)
                return rc;
        }
        *out = v;
        return VKTI_OK;
    }
    case G_CODECS_ENCODE: { /* protocol 2's bytes: _codecs.encode(text, "latin1") */
        if (args->count != 2 || args->items[0]->kind != VKTI_PK_STR ||
            !(vkti_pk_is_str(args->items[1], "latin1") || vkti_pk_is_str(args->items[1], "latin-1")))
            return hook_fail(d, pk, "_codecs.encode is used for something other than bytes");
        const vkti_pk_value *s = args->items[0];
        uint8_t *buf = malloc(s->len ? s->len : 1);
        if (!buf)
            return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", vkti_pickle_what(pk));
        size_t n = 0;
        for (size_t i = 0; i < s->len;) { /* UTF-8 (checked) to Latin-1 */
            uint8_t b0 = (uint8_t)s->s[i];
            uint32_t cp = b0 < 0x80 ? b0 : b0 < 0xe0 ? ((b0 & 0x1fu) << 6) | ((uint8_t)s->s[i + 1] & 0x3fu) : 0x100;
            if (cp > 0xff) {
                free(buf);
                return hook_fail(d, pk, "_codecs.encode gets text that is not Latin-1");
            }
            buf[n++] = (uint8_t)cp;
            i += b0 < 0x80 ? 1 : 2;
        }
        v = vkti_pk_new_str(pk, VKTI_PK_BYTES, buf, n);
        free(buf);
        if (!v)
            return vkti_pickle_status(pk);
        *out = v;
        return VKTI_OK;
    }
    }
    return hook_fail(d, pk, "the pickle calls %s, which vkti does not call", callable->s);
}

static int persistent_load(void *user, vkti_diag *d, vkti_pickle *pk, const vkti_pk_value *pid, vkti_pk_value **out)
{
    vkti_ckpt *c = user;
    char q[VKTI_QUOTE_MAX], q2[VKTI_QUOTE_MAX];
    if (pid->kind != VKTI_PK_TUPLE || pid->count != 5 || !vkti_pk_is_str(pid->items[0], "storage"))
        return hook_fail(d, pk,
                         "a persistent id that is not ('storage', type, key, location, numel) (a %s of %zu items)",
                         vkti_pk_kind_name(pid->kind), pid->count);
    const vkti_pk_value *type = pid->items[1], *key = pid->items[2], *loc = pid->items[3];
    int64_t numel;
    if (type->kind != VKTI_PK_GLOBAL || !is_storage_type(type->i))
        return hook_fail(d, pk, "a persistent id whose storage type is a %s", vkti_pk_kind_name(type->kind));
    if (loc->kind != VKTI_PK_STR || !int_arg(pid->items[4], &numel) || numel < 0)
        return hook_fail(d, pk, "a persistent id with a bad location or element count");
    if (key->kind != VKTI_PK_STR || key->len == 0 || key->len > 64 || key->len != strspn(key->s,
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"))
        return hook_fail(d, pk, "a persistent id names storage %s, which is not a plain key",
                         key->kind == VKTI_PK_STR ? vkti_quote(q, sizeof q, key->s, key->len) : "(not a string)");
    vkti_io_dtype dt = storage_dtype(type->i);
    char name[VKTI_ZIP_MAX_NAME + 80];
    snprintf(name, sizeof name, "%s/data/%s", c->prefix, key->s);
    size_t index;
    const vkti_zip_entry *e = vkti_zip_find(&c->zip_, name, &index);
    if (!e)
        return hook_fail(d, pk, "a persistent id names storage %s, but the archive has no %s (a truncated or hostile file)",
                         vkti_quote(q, sizeof q, key->s, key->len), vkti_quote(q2, sizeof q2, name, strlen(name)));
    if (c->entry_storage_[index]) { /* a storage shared by several tensors */
        const vkti_ckpt_storage *s = &c->storages[c->entry_storage_[index] - 1];
        if (s->dtype != dt || s->numel != (uint64_t)numel)
            return hook_fail(d, pk, "storage %s is used as %llu %s elements and as %llu %s elements",
                             vkti_quote(q, sizeof q, key->s, key->len), (unsigned long long)s->numel,
                             vkti_io_dtype_name(s->dtype), (unsigned long long)numel, vkti_io_dtype_name(dt));
        *out = (vkti_pk_value *)s->value;
        return VKTI_OK;
    }
    uint64_t bytes;
    if (!vkti_mul_u64((uint64_t)numel, vkti_io_dtype_size(dt), &bytes) || bytes != e->usize)
        return hook_fail(d, pk, "storage %s should hold %lld %s elements (%llu bytes), but %s holds %llu bytes",
                         vkti_quote(q, sizeof q, key->s, key->len), (long long)numel, vkti_io_dtype_name(dt),
                         (unsigned long long)((uint64_t)numel * vkti_io_dtype_size(dt)),
                         vkti_quote(q2, sizeof q2, name, strlen(name)), (unsigned long long)e->usize);
    if (e->method != 0) {
        if (e->usize > VKTI_CKPT_MAX_INFLATED - c->inflated_)
            return hook_fail(d, pk, "the deflated storages inflate to more than %llu bytes in all",
                             (unsigned long long)VKTI_CKPT_MAX_INFLATED);
        c->inflated_ += e->usize;
    }
    /* both arrays grow at powers of two; a storage needs an entry of its own, so there are at
     * most as many as zip entries */
    if ((c->storage_count & (c->storage_count - 1)) == 0) {
        size_t cap = c->storage_count ? 2 * c->storage_count : 16;
        uint8_t **owned = realloc(c->owned_, cap * sizeof *owned);
        if (owned)
            c->owned_ = owned;
        vkti_ckpt_storage *ns = realloc(c->storages, cap * sizeof *ns);
        if (ns)
            c->storages = ns;
        if (!owned || !ns)
            return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", vkti_pickle_what(pk));
    }
    const uint8_t *data;
    int rc = vkti_zip_read(d, &c->zip_, e, bytes, 0, &data, &c->owned_[c->owned_count_]);
    if (rc)
        return rc;
    if (c->owned_[c->owned_count_])
        c->owned_count_++;

    vkti_pk_value *v = vkti_pk_new(pk, VKTI_PK_HOST);
    if (!v)
        return vkti_pickle_status(pk);
    v->i = HOST_STORAGE;
    v->len = c->storage_count;
    vkti_ckpt_storage *s = &c->storages[c->storage_count++];
    s->key = key->s;
    s->dtype = dt;
    s->numel = (uint64_t)numel;
    s->data = data;
    s->value = v;
    c->entry_storage_[index] = (uint32_t)c->storage_count;
    *out = v;
    return VKTI_OK;
}

/* A small text record (byteorder, version): NUL-terminated into buf, or 0 if absent. */
static int small_record(vkti_diag *d, vkti_ckpt *c, const char *rec, char *buf, size_t cap, int *found)
{
    char name[VKTI_ZIP_MAX_NAME + 40];
    snprintf(name, sizeof name, "%s/%s", c->prefix, rec);
    *found = 0;
    const vkti_zip_entry *e = vkti_zip_find(&c->zip_, name, NULL);
    if (!e)
        return VKTI_OK;
    const uint8_t *data;
    uint8_t *owned;
    int rc = vkti_zip_read(d, &c->zip_, e, cap - 1, 1, &data, &owned);
    if (rc)
        return rc;
    memcpy(buf, data, (size_t)e->usize);
    buf[e->usize] = 0;
    free(owned);
    *found = 1;
    return VKTI_OK;
}

static int not_zip(vkti_diag *d, const vkti_ckpt *c)
{
    static const uint8_t legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                           0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    const char *redo = "load it with PyTorch and save it again (torch.save(torch.load(f, weights_only=True), f2)), "
                       "or convert it to .safetensors";
    if (c->size >= sizeof legacy_magic && !memcmp(c->data, legacy_magic, sizeof legacy_magic))
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: this is PyTorch's legacy (pre-1.6) serialization format, which vkti does not read: %s",
                         c->path, redo);
    if (c->size >= 262 && !memcmp(c->data + 257, "ustar", 5))
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: this is PyTorch's legacy tar serialization format, which vkti does not read: %s", c->path,
                         redo);
    if (c->size >= 8 && !memcmp(c->data, "PYTORCH1", 8))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: this is a PyTorch preview-release archive, which vkti does not read: %s",
                         c->path, redo);
    if (c->size >= 1 && c->data[0] == 0x80)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: this is a bare pickle, not a torch.save zip archive (the legacy format?): %s", c->path,
                         redo);
    return vkti_fail(d, VKTI_E_FORMAT,
                     "%s: not a PyTorch checkpoint: it does not start like a zip archive (%zu bytes; a truncated file?)",
                     c->path, c->size);
}

static int parse(vkti_diag *d, vkti_ckpt *c)
{
    char q[VKTI_QUOTE_MAX];
    if (c->size < 4 || memcmp(c->data, "PK\x03\x04", 4) != 0)
        return not_zip(d, c);
    int rc = vkti_zip_open(d, &c->zip_, c->path, c->data, c->size);
    if (rc)
        return rc;
    if (c->zip_.count == 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: an empty zip archive, not a PyTorch checkpoint", c->path);
    /* like PyTorch's reader: the first entry's folder is the archive's */
    const char *first = c->zip_.entries[0].name, *slash = strchr(first, '/');
    if (!slash || slash == first)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the first zip entry %s is not in a folder: not a torch.save archive",
                         c->path, vkti_quote(q, sizeof q, first, strlen(first)));
    size_t plen = (size_t)(slash - first);
    c->prefix = malloc(plen + 1);
    c->entry_storage_ = calloc(c->zip_.count, sizeof *c->entry_storage_);
    if (!c->prefix || !c->entry_storage_)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", c->path);
    memcpy(c->prefix, first, plen);
    c->prefix[plen] = 0;

    char name[VKTI_ZIP_MAX_NAME + 40], buf[32];
    int found;
    if ((rc = small_record(d, c, "byteorder", buf, sizeof buf, &found)))
        return rc;
    if (found && strcmp(buf, "little") != 0)
        return vkti_fail(d, VKTI_E_FORMAT,
                         !strcmp(buf, "big") ? "%s: written on a big-endian machine (byteorder %s); vkti reads "
                                               "little-endian checkpoints: re-save it on a little-endian one"
                                             : "%s: unknown byte order %s",
                         c->path, vkti_quote(q, sizeof q, buf, strlen(buf)));
    if ((rc = small_record(d, c, "version", buf, sizeof buf, &found)))
        return rc;
    if (!found && (rc = small_record(d, c, ".data/version", buf, sizeof buf, &found)))
        return rc;
    if (found) {
        size_t n = strlen(buf);
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = 0;
        if (n == 0 || n > 6 || strspn(buf, "0123456789") != n)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the archive's version record %s is not a number", c->path,
                             vkti_quote(q, sizeof q, buf, strlen(buf)));
        c->version = atoi(buf);
    }

    snprintf(name, sizeof name, "%s/data.pkl", c->prefix);
    const vkti_zip_entry *e = vkti_zip_find(&c->zip_, name, NULL);
    if (!e) {
        snprintf(name, sizeof name, "%s/constants.pkl", c->prefix);
        if (vkti_zip_find(&c->zip_, name, NULL))
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: a TorchScript archive (torch.jit.save), not a torch.save checkpoint: save the model's "
                             "state_dict() with torch.save, or as .safetensors",
                             c->path);
        snprintf(name, sizeof name, "%s/data.pkl", c->prefix);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the archive has no %s: not a torch.save checkpoint", c->path,
                         vkti_quote(q, sizeof q, name, strlen(name)));
    }
    const uint8_t *pkl;
    uint8_t *owned;
    if ((rc = vkti_zip_read(d, &c->zip_, e, VKTI_PK_MAX_INPUT, 1, &pkl, &owned)))
        return rc;
    char what[VKTI_ZIP_MAX_NAME + 600];
    snprintf(what, sizeof what, "%s: %s", c->path, name);
    vkti_pk_hooks hooks = {.user = c, .find_class = find_class, .call = call, .persistent_load = persistent_load};
    rc = vkti_pickle_load(d, &c->pickle_, what, pkl, (size_t)e->usize, &hooks);
    free(owned);
    if (rc)
        return rc;
    c->root = vkti_pickle_root(c->pickle_);
    return VKTI_OK;
}

int vkti_ckpt_parse(vkti_diag *d, vkti_ckpt *c, const char *name, const uint8_t *data, size_t size)
{
    memset(c, 0, sizeof *c);
    c->path = malloc(strlen(name) + 1);
    if (!c->path)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
    strcpy(c->path, name);
    c->data = data;
    c->size = size;
    int rc = parse(d, c);
    if (rc)
        vkti_ckpt_close(c);
    return rc;
}

int vkti_ckpt_open(vkti_diag *d, vkti_ckpt *c, const char *path)
{
    memset(c, 0, sizeof *c);
    vkti_mapped_file f;
    int rc = vkti_file_map(d, path, &f);
    if (rc)
        return rc;
    rc = vkti_ckpt_parse(d, c, path, f.data, f.size);
    if (rc) {
        vkti_file_unmap(&f);
        return rc;
    }
    c->file_ = f;
    return VKTI_OK;
}

void vkti_ckpt_close(vkti_ckpt *c)
{
    vkti_pickle_free(c->pickle_);
    vkti_zip_close(&c->zip_);
    for (size_t i = 0; i < c->owned_count_; i++)
        free(c->owned_[i]);
    free(c->owned_);
    free(c->entry_storage_);
    free(c->tensors);
    free(c->storages);
    free(c->prefix);
    free(c->path);
    if (c->file_.data)
        vkti_file_unmap(&c->file_);
    memset(c, 0, sizeof *c);
}

const vkti_io_tensor *vkti_ckpt_tensor(const vkti_ckpt *c, const vkti_pk_value *v)
{
    return host(v, HOST_TENSOR) && v->len < c->tensor_count ? &c->tensors[v->len] : NULL;
}

const vkti_pk_value *vkti_ckpt_state_dict(const vkti_ckpt *c)
{
    const vkti_pk_value *sd = vkti_pk_get(c->root, "state_dict");
    if (sd && sd->kind == VKTI_PK_DICT)
        return sd;
    return c->root && c->root->kind == VKTI_PK_DICT ? c->root : NULL;
}

int vkti_ckpt_dict_tensors(vkti_diag *d, const vkti_ckpt *c, const vkti_pk_value *dict, vkti_io_tensor **out,
                           size_t *count, size_t *skipped)
{
    *out = NULL;
    *count = 0;
    if (skipped)
        *skipped = 0;
    if (!dict || dict->kind != VKTI_PK_DICT)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: expected a dict of tensors, found a %s", c->path,
                         dict ? vkti_pk_kind_name(dict->kind) : "nothing");
    vkti_io_tensor *list = malloc((dict->count ? dict->count : 1) * sizeof *list);
    if (!list)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", c->path);
    size_t n = 0;
    for (size_t i = 0; i < dict->count; i++) {
        const vkti_pk_value *k = dict->items[2 * i];
        const vkti_io_tensor *t = vkti_ckpt_tensor(c, dict->items[2 * i + 1]);
        if (!t) {
            if (skipped)
                (*skipped)++;
            continue;
        }
        if (k->kind != VKTI_PK_STR || strlen(k->s) != k->len) {
            free(list);
            return vkti_fail(d, VKTI_E_FORMAT, "%s: a tensor's key is a %s, not a name", c->path,
                             k->kind == VKTI_PK_STR ? "string holding NUL" : vkti_pk_kind_name(k->kind));
        }
        list[n] = *t;
        list[n].name = k->s;
        n++;
    }
    *out = list;
    *count = n;
    return VKTI_OK;
}
