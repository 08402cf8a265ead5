/* embedding.c — embeddings in memory (alloc, checks, token names, family), the layouts of their
 * tensors (diffusers, kohya, SDXL), safetensors reading and writing, and the dispatch by content
 * between safetensors and torch.save archives (embedding_pt.c). See embedding.h. */
#include "io/embedding_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "base/str.h"
#include "io/bytes.h"
#include "io/safetensors.h"

#define DETECT_MAX_NUMEL (1u << 24) /* a lone tensor larger than this is no embedding */

int vkti_embedding_alloc(vkti_diag *d, vkti_embedding *e, const char *token, int n, int width0, int width1)
{
    memset(e, 0, sizeof *e);
    if (n < 1 || n > VKTI_EMB_MAX_VECTORS)
        return vkti_fail(d, VKTI_E_INVALID, "an embedding has 1 to %d vectors, not %d", VKTI_EMB_MAX_VECTORS, n);
    if (width0 < 1 || width0 > VKTI_EMB_MAX_WIDTH || width1 < 0 || width1 > VKTI_EMB_MAX_WIDTH)
        return vkti_fail(d, VKTI_E_INVALID, "an embedding's width is 1 to %d, not %d", VKTI_EMB_MAX_WIDTH,
                         width0 < 1 || width0 > VKTI_EMB_MAX_WIDTH ? width0 : width1);
    e->sets = width1 > 0 ? 2 : 1;
    e->num_vectors = n;
    e->width[0] = width0;
    e->width[1] = width1;
    e->token = vkti_str_dup(token ? token : "");
    for (int s = 0; s < e->sets; s++)
        e->vec[s] = calloc((size_t)n * (size_t)e->width[s], sizeof(float));
    e->format = VKTI_EMBEDDING_DIFFUSERS;
    e->container = VKTI_EMB_SAFETENSORS;
    e->dtype = VKTI_IO_F32;
    if (!e->token || !e->vec[0] || (e->sets == 2 && !e->vec[1])) {
        vkti_embedding_free(e);
        return vkti_fail(d, VKTI_E_OOM, "out of memory for an embedding");
    }
    return VKTI_OK;
}

void vkti_embedding_free(vkti_embedding *e)
{
    free(e->token);
    free(e->vec[0]);
    free(e->vec[1]);
    free(e->sd_checkpoint);
    free(e->sd_checkpoint_name);
    for (size_t i = 0; i < e->meta_count; i++) {
        free(e->meta[i].key);
        free(e->meta[i].value);
    }
    free(e->meta);
    memset(e, 0, sizeof *e);
}

int vkti_embedding_set_string(vkti_diag *d, char **field, const char *s)
{
    char *p = NULL;
    if (s && !(p = vkti_str_dup(s)))
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    free(*field);
    *field = p;
    return VKTI_OK;
}

int vkti_embedding_add_meta(vkti_diag *d, vkti_embedding *e, const char *key, const char *value)
{
    vkti_emb_meta *m = realloc(e->meta, (e->meta_count + 1) * sizeof *m);
    if (!m)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    e->meta = m;
    m[e->meta_count].key = vkti_str_dup(key);
    m[e->meta_count].value = vkti_str_dup(value);
    if (!m[e->meta_count].key || !m[e->meta_count].value) {
        free(m[e->meta_count].key);
        free(m[e->meta_count].value);
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    }
    e->meta_count++;
    return VKTI_OK;
}

const char *vkti_embedding_container_name(vkti_emb_container c)
{
    return c == VKTI_EMB_TORCH ? "PyTorch" : "safetensors";
}

/* ---- checks ----------------------------------------------------------------------------------- */

/* A token from a file: 1..VKTI_EMB_MAX_TOKEN bytes of UTF-8 without control characters. */
static int check_token_bytes(vkti_diag *d, const char *token, const char *what)
{
    char q[VKTI_QUOTE_MAX];
    size_t n = token ? strlen(token) : 0;
    if (n == 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the token is empty", what);
    if (n > VKTI_EMB_MAX_TOKEN)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the token %s is %zu bytes long; vkti takes at most %d", what,
                         vkti_quote(q, sizeof q, token, n), n, VKTI_EMB_MAX_TOKEN);
    if (vkti_utf8_check((const uint8_t *)token, n) != n)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the token %s is not valid UTF-8", what, vkti_quote(q, sizeof q, token, n));
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)token[i] < 0x20 || token[i] == 0x7f)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the token %s holds a control character", what,
                             vkti_quote(q, sizeof q, token, n));
    return VKTI_OK;
}

int vkti_embedding_check_token(vkti_diag *d, const char *token)
{
    if (check_token_bytes(d, token, "--token"))
        return VKTI_E_INVALID;
    size_t n = strlen(token);
    if (token[0] == ' ' || token[n - 1] == ' ')
        return vkti_fail(d, VKTI_E_INVALID, "--token: '%s' starts or ends with a space, which the tokenizer drops", token);
    return VKTI_OK;
}

/* index of the first NaN or infinity in v[0..n), or -1 */
static long first_nonfinite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return (long)i;
    return -1;
}

static int nonfinite_fail(vkti_diag *d, const char *what, const char *tensor, long at, int width, float v)
{
    return vkti_fail(d, VKTI_E_FORMAT,
                     "%s: %s, vector %ld, element %ld is %s: the embedding diverged in training (use an earlier "
                     "checkpoint or a lower learning rate)",
                     what, tensor, at / width, at % width, isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
}

int vkti_embedding_check(vkti_diag *d, const vkti_embedding *e, const char *what)
{
    int rc = check_token_bytes(d, e->token, what);
    if (rc)
        return rc;
    if (e->sets < 1 || e->sets > 2 || e->num_vectors < 1 || e->num_vectors > VKTI_EMB_MAX_VECTORS)
        return vkti_fail(d, VKTI_E_INVALID, "%s: an embedding has 1 to %d vectors, not %d", what, VKTI_EMB_MAX_VECTORS,
                         e->num_vectors);
    for (int s = 0; s < e->sets; s++) {
        if (e->width[s] < 1 || e->width[s] > VKTI_EMB_MAX_WIDTH || !e->vec[s])
            return vkti_fail(d, VKTI_E_INVALID, "%s: an embedding's width is 1 to %d, not %d", what, VKTI_EMB_MAX_WIDTH,
                             e->width[s]);
        long at = first_nonfinite(e->vec[s], (size_t)e->num_vectors * (size_t)e->width[s]);
        if (at >= 0)
            return nonfinite_fail(d, what, e->sets == 2 ? (s ? "clip_g" : "clip_l") : "the vectors", at, e->width[s],
                                  e->vec[s][at]);
    }
    return VKTI_OK;
}

void vkti_embedding_vector_token(const vkti_embedding *e, int i, char *buf, size_t cap)
{
    if (i == 0)
        snprintf(buf, cap, "%s", e->token);
    else
        snprintf(buf, cap, "%s_%d", e->token, i);
}

const char *vkti_embedding_family(const vkti_embedding *e)
{
    if (e->sets == 2)
        return e->width[0] == 768 && e->width[1] == 1280 ? "SDXL" : NULL;
    return e->width[0] == 768 ? "SD 1.x" : e->width[0] == 1024 ? "SD 2.x" : NULL;
}

void vkti__embedding_stem(const char *path, char *buf, size_t cap)
{
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        n = (size_t)(dot - base);
    snprintf(buf, cap, "%.*s", (int)n, base);
}

/* ---- layouts ---------------------------------------------------------------------------------- */

static const vkti_io_tensor *find(const vkti_io_tensor *t, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (t[i].name && !strcmp(t[i].name, name))
            return &t[i];
    return NULL;
}

int vkti__embedding_layout(const vkti_io_tensor *t, size_t count)
{
    if (count == 1 && find(t, count, "emb_params"))
        return VKTI_EMBEDDING_KOHYA;
    if (count == 2 && find(t, count, "clip_l") && find(t, count, "clip_g"))
        return VKTI_EMBEDDING_KOHYA;
    if (count == 1 && !find(t, count, "clip_l") && !find(t, count, "clip_g"))
        return VKTI_EMBEDDING_DIFFUSERS;
    return 0;
}

int vkti__embedding_load_set(vkti_diag *d, vkti_embedding *e, const char *name, const vkti_io_tensor *t, int set)
{
    char q[VKTI_QUOTE_MAX], desc[256], tq[VKTI_QUOTE_MAX + 16];
    snprintf(tq, sizeof tq, "tensor %s", vkti_quote(q, sizeof q, t->name ? t->name : "", t->name ? strlen(t->name) : 0));
    vkti_io_tensor_describe(t, desc, sizeof desc);
    if (!vkti_io_dtype_is_float(t->dtype))
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: %s is %s; an embedding's vectors are floating point (F32, F16 or BF16): not an embedding",
                         name, tq, desc);
    if (t->ndim != 1 && t->ndim != 2)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: %s is %s; an embedding is [vectors, width] (or [width] for one vector)", name, tq, desc);
    int64_t n = t->ndim == 2 ? t->shape[0] : 1, w = t->shape[t->ndim - 1];
    if (n == 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %s is %s: it holds no vectors", name, tq, desc);
    if (n > VKTI_EMB_MAX_VECTORS)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: %s is %s: %lld vectors, but a prompt has room for at most %d (77 positions less "
                         "start and end)",
                         name, tq, desc, (long long)n, VKTI_EMB_MAX_VECTORS);
    if (w == 0 || w > VKTI_EMB_MAX_WIDTH)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: %s is %s: vectors of width %lld (vkti reads 1 to %d; Stable Diffusion's are 768, 1024, "
                         "or 768 and 1280)",
                         name, tq, desc, (long long)w, VKTI_EMB_MAX_WIDTH);
    if (set == 1 && n != e->num_vectors)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: clip_l holds %d vectors but clip_g %lld; the two halves of an SDXL embedding hold the "
                         "same number",
                         name, e->num_vectors, (long long)n);
    size_t count = (size_t)n * (size_t)w;
    float *v = malloc(count * sizeof *v);
    if (!v)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", name);
    int rc = vkti_io_tensor_to_f32(d, t, v, count);
    if (rc) {
        free(v);
        return rc;
    }
    long at = first_nonfinite(v, count);
    if (at >= 0) {
        rc = nonfinite_fail(d, name, tq, at, (int)w, v[at]);
        free(v);
        return rc;
    }
    free(e->vec[set]);
    e->vec[set] = v;
    e->width[set] = (int)w;
    e->num_vectors = (int)n;
    e->sets = set + 1;
    if (set == 0)
        e->dtype = t->dtype;
    return VKTI_OK;
}

/* "'a', 'b', 'c' and 2 more" */
static void list_names(char *buf, size_t cap, const vkti_io_tensor *t, size_t count)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < count && i < 3 && o < cap; i++) {
        char q[VKTI_QUOTE_MAX];
        const char *nm = t[i].name ? t[i].name : "";
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", vkti_quote(q, sizeof q, nm, strlen(nm)));
    }
    if (count > 3 && o < cap)
        snprintf(buf + o, cap - o, " and %zu more", count - 3);
}

int vkti__embedding_from_tensors(vkti_diag *d, vkti_embedding *e, const char *name, const vkti_io_tensor *t,
                                 size_t count)
{
    if (count == 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: holds no tensors, so no embedding", name);
    int layout = vkti__embedding_layout(t, count);
    if (!layout) {
        char names[800];
        list_names(names, sizeof names, t, count);
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: holds %zu tensor%s (%s), but an embedding holds one (named for its token, or "
                         "'emb_params') or 'clip_l' and 'clip_g' (SDXL): not an embedding (a model or a LoRA?)",
                         name, count, count == 1 ? "" : "s", names);
    }
    int rc;
    e->format = (vkti_embedding_format)layout;
    if (count == 2) {
        if ((rc = vkti__embedding_load_set(d, e, name, find(t, count, "clip_l"), 0)) ||
            (rc = vkti__embedding_load_set(d, e, name, find(t, count, "clip_g"), 1)))
            return rc;
        return VKTI_OK;
    }
    if ((rc = vkti__embedding_load_set(d, e, name, &t[0], 0)))
        return rc;
    if (layout == VKTI_EMBEDDING_DIFFUSERS) {
        if ((rc = check_token_bytes(d, t[0].name, name)))
            return rc;
        return vkti_embedding_set_string(d, &e->token, t[0].name);
    }
    return VKTI_OK;
}

/* ---- safetensors -------------------------------------------------------------------------------- */

/* A1111's fields, kept in safetensors metadata under their own names. */
static int is_reserved_key(const char *k)
{
    return !strcmp(k, "format") || !strcmp(k, "name") || !strcmp(k, "step") || !strcmp(k, "sd_checkpoint") ||
           !strcmp(k, "sd_checkpoint_name");
}

static int parse_step(const char *s, int64_t *out)
{
    char *end;
    if (!*s || strlen(s) > 19)
        return 0;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0)
        return 0;
    *out = v;
    return 1;
}

static int parse_safetensors(vkti_diag *d, vkti_embedding *e, const char *name, const uint8_t *data, size_t size)
{
    vkti_safetensors st;
    int rc = vkti_safetensors_parse(d, &st, name, data, size);
    if (rc)
        return rc;
    rc = vkti__embedding_from_tensors(d, e, name, st.tensors, st.count);
    const char *token = NULL;
    int dropped = 0;
    for (size_t i = 0; i < st.meta_count && !rc; i++) {
        const char *k = st.meta[i].key, *v = st.meta[i].value;
        int64_t step;
        if (!strcmp(k, "format")) {
            continue;
        } else if (!strcmp(k, "name")) {
            token = v;
        } else if (!strcmp(k, "step") && parse_step(v, &step)) {
            e->has_step = 1;
            e->step = step;
        } else if (!strcmp(k, "sd_checkpoint")) {
            rc = vkti_embedding_set_string(d, &e->sd_checkpoint, v);
        } else if (!strcmp(k, "sd_checkpoint_name")) {
            rc = vkti_embedding_set_string(d, &e->sd_checkpoint_name, v);
        } else if (e->meta_count < VKTI_EMB_MAX_META && !is_reserved_key(k)) {
            rc = vkti_embedding_add_meta(d, e, k, v);
        } else {
            dropped++;
        }
    }
    if (dropped)
        vkti_log(d, VKTI_LOG_WARN, "%s: %d metadata entries left out (a bad step, or more than %d entries)", name,
                 dropped, VKTI_EMB_MAX_META);
    if (!rc && e->format == VKTI_EMBEDDING_KOHYA) {
        /* the token: the "name" metadata vkti writes, else the file's name, as A1111 and ComfyUI do */
        char stem[VKTI_EMB_MAX_TOKEN + 1];
        vkti__embedding_stem(name, stem, sizeof stem);
        vkti_diag quiet = {0};
        rc = vkti_embedding_set_string(d, &e->token, token && !check_token_bytes(&quiet, token, name) ? token : stem);
    }
    e->container = VKTI_EMB_SAFETENSORS;
    vkti_safetensors_close(&st);
    return rc;
}

static int detect_safetensors(const uint8_t *data, size_t size)
{
    vkti_safetensors st;
    vkti_diag quiet = {0};
    if (vkti_safetensors_parse(&quiet, &st, "probe", data, size))
        return 0;
    int layout = vkti__embedding_layout(st.tensors, st.count);
    int yes = layout == VKTI_EMBEDDING_KOHYA || (layout == VKTI_EMBEDDING_DIFFUSERS && st.tensors[0].numel <= DETECT_MAX_NUMEL);
    vkti_safetensors_close(&st);
    return yes;
}

static int add_st_meta(vkti_st_meta *m, size_t *n, const char *k, const char *v)
{
    m[*n].key = k;
    m[*n].value = v;
    (*n)++;
    return 0;
}

static int serialize_safetensors(vkti_diag *d, const vkti_embedding *e, vkti_embedding_format format, uint8_t **out,
                                 size_t *size)
{
    if (format == VKTI_EMBEDDING_DIFFUSERS && e->sets == 2)
        return vkti_fail(d, VKTI_E_INVALID,
                         "an SDXL embedding (clip_l and clip_g) has no diffusers single-tensor form: write it as "
                         "kohya (--format kohya), which diffusers' SDXL pipelines also load");
    vkti_io_tensor t[2];
    memset(t, 0, sizeof t);
    static const char *const sdxl_names[2] = {"clip_l", "clip_g"};
    for (int s = 0; s < e->sets; s++) {
        t[s].name = format == VKTI_EMBEDDING_DIFFUSERS ? e->token : e->sets == 2 ? sdxl_names[s] : "emb_params";
        t[s].dtype = VKTI_IO_F32;
        t[s].ndim = 2;
        t[s].shape[0] = e->num_vectors;
        t[s].shape[1] = e->width[s];
        t[s].data = (const uint8_t *)e->vec[s];
        vkti_io_tensor_set_packed(&t[s]);
    }
    vkti_st_meta *meta = malloc((e->meta_count + 5) * sizeof *meta);
    if (!meta)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    size_t n = 0;
    char step[32];
    snprintf(step, sizeof step, "%lld", (long long)e->step);
    add_st_meta(meta, &n, "format", "pt"); /* what diffusers' textual_inversion.py writes */
    if (format == VKTI_EMBEDDING_KOHYA)
        add_st_meta(meta, &n, "name", e->token);
    if (e->has_step)
        add_st_meta(meta, &n, "step", step);
    if (e->sd_checkpoint)
        add_st_meta(meta, &n, "sd_checkpoint", e->sd_checkpoint);
    if (e->sd_checkpoint_name)
        add_st_meta(meta, &n, "sd_checkpoint_name", e->sd_checkpoint_name);
    for (size_t i = 0; i < e->meta_count; i++)
        if (!is_reserved_key(e->meta[i].key))
            add_st_meta(meta, &n, e->meta[i].key, e->meta[i].value);
    int rc = vkti_safetensors_serialize(d, t, (size_t)e->sets, meta, n, out, size);
    free(meta);
    return rc;
}

/* ---- by content --------------------------------------------------------------------------------- */

static int looks_torch(const uint8_t *data, size_t size)
{
    return (size >= 4 && !memcmp(data, "PK\x03\x04", 4)) || (size >= 1 && data[0] == 0x80) ||
           (size >= 8 && !memcmp(data, "PYTORCH1", 8)) || (size >= 262 && !memcmp(data + 257, "ustar", 5));
}

static int looks_safetensors(const uint8_t *data, size_t size)
{
    return size >= 9 && vkti_le64(data) <= size - 8 && data[8] == '{';
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int vkti_embedding_parse(vkti_diag *d, vkti_embedding *e, const char *name, const uint8_t *data, size_t size)
{
    memset(e, 0, sizeof *e);
    if (size > VKTI_EMB_MAX_FILE)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: %zu bytes is far more than an embedding holds (at most %d vectors): not an embedding "
                         "(a model?)",
                         name, size, VKTI_EMB_MAX_VECTORS);
    if (size == 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: an empty file (0 bytes), not an embedding", name);
    /* safetensors first: its 8-byte header length may well start with 0x80, a pickle's first byte */
    int rc;
    if (looks_safetensors(data, size))
        rc = parse_safetensors(d, e, name, data, size);
    else if (looks_torch(data, size))
        rc = vkti__embedding_parse_torch(d, e, name, data, size);
    else if (ends_with(name, ".safetensors")) /* for the safetensors reader's precise message */
        rc = parse_safetensors(d, e, name, data, size);
    else
        rc = vkti_fail(d, VKTI_E_FORMAT,
                       "%s: not an embedding file: neither safetensors nor a PyTorch archive (it starts with "
                       "%02x %02x %02x %02x)",
                       name, data[0], size > 1 ? data[1] : 0, size > 2 ? data[2] : 0, size > 3 ? data[3] : 0);
    if (!rc)
        rc = vkti_embedding_check(d, e, name);
    if (rc)
        vkti_embedding_free(e);
    return rc;
}

int vkti_embedding_read(vkti_diag *d, vkti_embedding *e, const char *path)
{
    memset(e, 0, sizeof *e);
    vkti_mapped_file f;
    int rc = vkti_file_map(d, path, &f);
    if (rc)
        return rc;
    rc = vkti_embedding_parse(d, e, path, f.data, f.size);
    vkti_file_unmap(&f);
    return rc;
}

int vkti_embedding_detect(const uint8_t *data, size_t size)
{
    if (size == 0 || size > VKTI_EMB_MAX_FILE)
        return 0;
    if (looks_safetensors(data, size))
        return detect_safetensors(data, size);
    if (looks_torch(data, size))
        return vkti__embedding_detect_torch(data, size);
    return 0;
}

int vkti_embedding_serialize(vkti_diag *d, const vkti_embedding *e, vkti_embedding_format format, uint8_t **out,
                             size_t *size)
{
    *out = NULL;
    *size = 0;
    int rc = vkti_embedding_check(d, e, "embedding");
    if (rc)
        return rc;
    switch (format) {
    case VKTI_EMBEDDING_DIFFUSERS:
    case VKTI_EMBEDDING_KOHYA:
        return serialize_safetensors(d, e, format, out, size);
    case VKTI_EMBEDDING_A1111:
        return vkti__embedding_serialize_a1111(d, e, out, size);
    default:
        return vkti_fail(d, VKTI_E_INVALID, "embedding writer: no format given");
    }
}

int vkti_embedding_write(vkti_diag *d, const vkti_embedding *e, vkti_embedding_format format, const char *path)
{
    uint8_t *buf;
    size_t size;
    int rc = vkti_embedding_serialize(d, e, format, &buf, &size);
    if (rc)
        return vkti_fail_wrap(d, rc, "writing %s", path);
    rc = vkti_file_write_atomic(d, path, buf, size);
    free(buf);
    return rc ? vkti_fail_wrap(d, rc, "cannot write %s", path) : VKTI_OK;
}
