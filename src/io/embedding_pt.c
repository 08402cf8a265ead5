/* embedding_pt.c — embeddings in torch.save archives: read through the restricted checkpoint
 * reader (ckpt.h: AUTOMATIC1111's dict, its oldest ParameterDict form, and diffusers' .bin /
 * kohya's .pt dicts of one tensor), and AUTOMATIC1111 .pt files written the way torch.save writes
 * A1111's dict (pickle_write.h for data.pkl, byte for byte; zip_write.h for the archive), with
 * only the records every A1111 version's safe loader accepts. */
#include "io/embedding_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"
#include "io/ckpt.h"
#include "io/pickle_write.h"
#include "io/zip_write.h"

#define A1111_STAR_TOKEN 265 /* the CLIP id of "*", which A1111 files record for their one entry */

/* The archive folder: what torch.save names it when writing to a buffer. */
#define ARCHIVE "archive"

/* An optional A1111 field: a str (copied into *field), None or absent (left NULL); another type
 * is logged and ignored (A1111 itself only shows these). */
static int str_field(vkti_diag *d, const vkti_pk_value *root, const char *key, char **field, const char *name)
{
    const vkti_pk_value *v = vkti_pk_get(root, key);
    if (!v || v->kind == VKTI_PK_NONE)
        return VKTI_OK;
    if (v->kind != VKTI_PK_STR || strlen(v->s) != v->len) {
        vkti_log(d, VKTI_LOG_WARN, "%s: '%s' is a %s, not a string; ignored", name, key, vkti_pk_kind_name(v->kind));
        return VKTI_OK;
    }
    return vkti_embedding_set_string(d, field, v->s);
}

static int parse_a1111(vkti_diag *d, vkti_embedding *e, const char *name, const vkti_ckpt *c,
                       const vkti_pk_value *params)
{
    /* the oldest files pickled string_to_param as an nn.ParameterDict: its tensors are in
     * state["_parameters"] */
    if (params->kind == VKTI_PK_OBJECT)
        params = vkti_pk_get(params->state, "_parameters");
    if (!params || params->kind != VKTI_PK_DICT)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: string_to_param is a %s, not a dict of tensors: not an embedding", name,
                         params ? vkti_pk_kind_name(params->kind) : "module without parameters");
    vkti_io_tensor *t;
    size_t count, skipped;
    int rc = vkti_ckpt_dict_tensors(d, c, params, &t, &count, &skipped);
    if (rc)
        return rc;
    if (skipped || count != 1) {
        free(t);
        const vkti_pk_value *odd = NULL;
        for (size_t i = 0; i < params->count && !odd; i++)
            if (!vkti_ckpt_tensor(c, params->items[2 * i + 1]))
                odd = params->items[2 * i + 1];
        if (odd)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: string_to_param holds a value of type %s where a tensor belongs; an AUTOMATIC1111 "
                             "embedding holds one tensor (under '*')",
                             name, vkti_pk_kind_name(odd->kind));
        if (count == 0)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: string_to_param is empty; an AUTOMATIC1111 embedding holds one tensor (under '*')",
                             name);
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: string_to_param holds %zu tensors; an AUTOMATIC1111 embedding holds one (under '*')",
                         name, count);
    }
    rc = vkti__embedding_load_set(d, e, name, &t[0], 0);
    free(t);
    if (rc)
        return rc;
    e->format = VKTI_EMBEDDING_A1111;

    const vkti_pk_value *root = c->root, *v;
    /* the token: "name" (as diffusers' loader takes it), else the file's name (as A1111 does) */
    char stem[VKTI_EMB_MAX_TOKEN + 1];
    vkti__embedding_stem(name, stem, sizeof stem);
    const char *token = stem;
    vkti_diag quiet = {0};
    if ((v = vkti_pk_get(root, "name")) && v->kind == VKTI_PK_STR && strlen(v->s) == v->len &&
        !vkti_embedding_check_token(&quiet, v->s))
        token = v->s;
    else if (v && v->kind != VKTI_PK_NONE)
        vkti_log(d, VKTI_LOG_WARN, "%s: 'name' is no usable token; the token is the file's name", name);
    if ((rc = vkti_embedding_set_string(d, &e->token, token)))
        return rc;
    if ((v = vkti_pk_get(root, "step")) && v->kind == VKTI_PK_INT && v->i >= 0) {
        e->has_step = 1;
        e->step = v->i;
    } else if (v && v->kind != VKTI_PK_NONE) {
        vkti_log(d, VKTI_LOG_WARN, "%s: 'step' is not a non-negative integer; ignored", name);
    }
    if ((rc = str_field(d, root, "sd_checkpoint", &e->sd_checkpoint, name)) ||
        (rc = str_field(d, root, "sd_checkpoint_name", &e->sd_checkpoint_name, name)))
        return rc;
    return VKTI_OK;
}

static int parse_dict(vkti_diag *d, vkti_embedding *e, const char *name, const vkti_ckpt *c)
{
    vkti_io_tensor *t;
    size_t count, skipped;
    int rc = vkti_ckpt_dict_tensors(d, c, c->root, &t, &count, &skipped);
    if (rc)
        return rc;
    if (skipped) {
        free(t);
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: a dict of %zu entries, %zu of them not tensors, and no string_to_param: not an "
                         "embedding",
                         name, count + skipped, skipped);
    }
    rc = vkti__embedding_from_tensors(d, e, name, t, count);
    free(t);
    if (!rc && e->format == VKTI_EMBEDDING_KOHYA) {
        char stem[VKTI_EMB_MAX_TOKEN + 1];
        vkti__embedding_stem(name, stem, sizeof stem);
        rc = vkti_embedding_set_string(d, &e->token, stem);
    }
    return rc;
}

int vkti__embedding_parse_torch(vkti_diag *d, vkti_embedding *e, const char *name, const uint8_t *data, size_t size)
{
    vkti_ckpt c;
    int rc = vkti_ckpt_parse(d, &c, name, data, size);
    if (rc)
        return rc;
    if (!c.root || c.root->kind != VKTI_PK_DICT) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: the saved object is a %s, not a dict: not an embedding", name,
                       c.root ? vkti_pk_kind_name(c.root->kind) : "nothing");
    } else {
        const vkti_pk_value *params = vkti_pk_get(c.root, "string_to_param");
        rc = params ? parse_a1111(d, e, name, &c, params) : parse_dict(d, e, name, &c);
    }
    e->container = VKTI_EMB_TORCH;
    vkti_ckpt_close(&c);
    return rc;
}

int vkti__embedding_detect_torch(const uint8_t *data, size_t size)
{
    vkti_ckpt c;
    vkti_diag quiet = {0};
    if (vkti_ckpt_parse(&quiet, &c, "probe", data, size))
        return 0;
    int yes = 0;
    if (c.root && c.root->kind == VKTI_PK_DICT) {
        if (vkti_pk_get(c.root, "string_to_param")) {
            yes = 1;
        } else {
            vkti_io_tensor *t;
            size_t count, skipped;
            if (!vkti_ckpt_dict_tensors(&quiet, &c, c.root, &t, &count, &skipped)) {
                int layout = skipped ? 0 : vkti__embedding_layout(t, count);
                yes = layout == VKTI_EMBEDDING_KOHYA || (layout == VKTI_EMBEDDING_DIFFUSERS && t[0].numel <= (1u << 24));
                free(t);
            }
        }
    }
    vkti_ckpt_close(&c);
    return yes;
}

static void pkw_cstr(vkti_pkw *w, const char *s) { vkti_pkw_str(w, s, strlen(s)); }

static int utf8_ok(const char *s) { return !s || vkti_utf8_check((const uint8_t *)s, strlen(s)) == strlen(s); }

/* data.pkl: the pickle of A1111's Embedding.save dict, as torch.save (protocol 2) writes it:
 *   {"string_to_token": {"*": 265}, "string_to_param": {"*": tensor [n, width]}, "name": token,
 *    "step": int or None, "sd_checkpoint": str or None, "sd_checkpoint_name": str or None} */
static int a1111_pickle(vkti_diag *d, const vkti_embedding *e, uint8_t **out, size_t *size)
{
    vkti_pkw w;
    vkti_pkw_init(&w);
    vkti_pkw_empty_dict(&w);
    vkti_pkw_items_begin(&w, 6);
    pkw_cstr(&w, "string_to_token");
    vkti_pkw_empty_dict(&w);
    vkti_pkw_items_begin(&w, 1);
    pkw_cstr(&w, "*");
    vkti_pkw_int(&w, A1111_STAR_TOKEN);
    vkti_pkw_items_end(&w, 1);

    pkw_cstr(&w, "string_to_param");
    vkti_pkw_empty_dict(&w);
    vkti_pkw_items_begin(&w, 1);
    pkw_cstr(&w, "*");
    const int64_t shape[2] = {e->num_vectors, e->width[0]}, stride[2] = {e->width[0], 1};
    /* requires_grad False: a saved result, as diffusers and kohya save theirs (detached) */
    vkti_pkw_tensor(&w, "FloatStorage", "0", (uint64_t)e->num_vectors * (uint64_t)e->width[0], 0, 2, shape, stride, 0);
    vkti_pkw_items_end(&w, 1);

    pkw_cstr(&w, "name");
    pkw_cstr(&w, e->token);
    pkw_cstr(&w, "step");
    if (e->has_step)
        vkti_pkw_int(&w, e->step);
    else
        vkti_pkw_none(&w);
    pkw_cstr(&w, "sd_checkpoint");
    if (e->sd_checkpoint)
        pkw_cstr(&w, e->sd_checkpoint);
    else
        vkti_pkw_none(&w);
    pkw_cstr(&w, "sd_checkpoint_name");
    if (e->sd_checkpoint_name)
        pkw_cstr(&w, e->sd_checkpoint_name);
    else
        vkti_pkw_none(&w);
    vkti_pkw_items_end(&w, 6);
    return vkti_pkw_finish(d, &w, out, size);
}

int vkti__embedding_serialize_a1111(vkti_diag *d, const vkti_embedding *e, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    if (e->sets != 1)
        return vkti_fail(d, VKTI_E_INVALID,
                         "an SDXL embedding (clip_l and clip_g) has no AUTOMATIC1111 .pt form (A1111 loads SDXL "
                         "embeddings as safetensors): write it as kohya (--format kohya, a .safetensors file)");
    if (!utf8_ok(e->sd_checkpoint) || !utf8_ok(e->sd_checkpoint_name))
        return vkti_fail(d, VKTI_E_INVALID, "embedding writer: sd_checkpoint or sd_checkpoint_name is not valid UTF-8");
    uint8_t *pkl;
    size_t pkl_size;
    int rc = a1111_pickle(d, e, &pkl, &pkl_size);
    if (rc)
        return rc;
    /* The records every torch.load since 1.6 reads, in torch.save's order: data.pkl, data/0,
     * version. torch.save 2.x adds byteorder (absent: little-endian, as torch.load assumes),
     * .data/serialization_id, .format_version and .storage_alignment (both only for mmap of several
     * storages); AUTOMATIC1111's safe loader (modules/safe.py) refuses a file holding any record
     * outside data.pkl, data/<n> and version (later versions allow byteorder and
     * .data/serialization_id too), so they are left out. The folder is "archive", as torch.save
     * names it for a buffer (and as some of A1111's forks insist). */
    vkti_zipw z;
    vkti_zipw_init(&z);
    if ((rc = vkti_zipw_add(d, &z, ARCHIVE "/data.pkl", pkl, pkl_size)) ||
        (rc = vkti_zipw_add(d, &z, ARCHIVE "/data/0", e->vec[0],
                            (size_t)e->num_vectors * (size_t)e->width[0] * sizeof(float))) ||
        (rc = vkti_zipw_add(d, &z, ARCHIVE "/version", "3\n", 2))) {
        free(pkl);
        vkti_zipw_free(&z);
        return rc;
    }
    free(pkl);
    return vkti_zipw_finish(d, &z, out, size);
}
