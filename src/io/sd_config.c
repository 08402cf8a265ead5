/* sd_config.c — diffusers' config.json for the UNet, the CLIP text encoder and the VAE, parsed,
 * checked and written (see sd_config.h); the block arithmetic of unet_2d_condition.py; the scheduler
 * config summary.
 *
 * Sources read (for facts; no code copied): diffusers 58eb52c models/unets/unet_2d_condition.py
 * (__init__ defaults, the attention_head_dim / num_attention_heads quirk, up-block channel
 * arithmetic), unets/unet_2d_blocks.py (CrossAttnDownBlock2D / CrossAttnUpBlock2D), autoencoders/
 * autoencoder_kl.py and vae.py; transformers' CLIPTextConfig defaults. Absent keys get the
 * defaults of those constructors, as from_pretrained would give them. */
#include "io/sd_config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"
#include "io/noise_schedule.h"

const char *vkti_sd_family_name(vkti_sd_family f) { return f == VKTI_SD_FAMILY_SD2 ? "SD 2.x" : "SD 1.x"; }

static const char *const block_names[4] = {"DownBlock2D", "CrossAttnDownBlock2D", "UpBlock2D", "CrossAttnUpBlock2D"};

const char *vkti_unet_block_type_name(vkti_unet_block_type t) { return (unsigned)t < 4 ? block_names[t] : "?"; }

/* ---- block arithmetic ------------------------------------------------------------------------ */

void vkti_unet_down_block(const vkti_unet_config *c, int i, vkti_unet_block_info *o)
{
    memset(o, 0, sizeof *o);
    o->has_attention = c->down_block_types[i] == VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D;
    o->layers = c->layers_per_block[i];
    o->out_channels = c->block_out_channels[i];
    int in = i == 0 ? c->block_out_channels[0] : c->block_out_channels[i - 1];
    for (int j = 0; j < o->layers; j++)
        o->resnet_in[j] = j == 0 ? in : o->out_channels;
    o->transformer_layers = c->transformer_layers_per_block[i];
    o->heads = c->heads[i];
    o->head_dim = c->head_dim[i];
    o->has_sampler = i < c->num_blocks - 1;
}

void vkti_unet_up_block(const vkti_unet_config *c, int i, vkti_unet_block_info *o)
{
    memset(o, 0, sizeof *o);
    const int n = c->num_blocks, r = n - 1 - i; /* the down block this one mirrors */
    o->has_attention = c->up_block_types[i] == VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D;
    o->layers = c->layers_per_block[r] + 1;
    o->out_channels = c->block_out_channels[r];
    /* prev_output_channel: the previous up block's output (the mid block's for the first);
     * in_channels: the width of the skips this block takes last (the next-shallower down block) */
    const int prev = i == 0 ? c->block_out_channels[n - 1] : c->block_out_channels[r + 1];
    const int in = c->block_out_channels[r > 0 ? r - 1 : 0];
    for (int j = 0; j < o->layers; j++) {
        o->skip_channels[j] = j == o->layers - 1 ? in : o->out_channels;
        o->resnet_in[j] = (j == 0 ? prev : o->out_channels) + o->skip_channels[j];
    }
    o->transformer_layers = c->transformer_layers_per_block[r];
    o->heads = c->heads[r];
    o->head_dim = c->head_dim[r];
    o->has_sampler = i < n - 1;
}

void vkti_unet_mid_block(const vkti_unet_config *c, vkti_unet_block_info *o)
{
    memset(o, 0, sizeof *o);
    const int last = c->num_blocks - 1;
    o->has_attention = 1;
    o->layers = 2;
    o->out_channels = c->block_out_channels[last];
    o->resnet_in[0] = o->resnet_in[1] = o->out_channels;
    o->transformer_layers = c->transformer_layers_per_block[last];
    o->heads = c->heads[last];
    o->head_dim = c->head_dim[last];
}

/* ---- reading JSON values --------------------------------------------------------------------- */

typedef struct jcfg {
    vkti_diag *d;
    const char *src;
    const cJSON *root;
} jcfg;

static const cJSON *jget(const jcfg *j, const char *key) { return cJSON_GetObjectItemCaseSensitive(j->root, key); }

/* A short rendering of a JSON value for messages. */
static const char *jshow(const cJSON *v, char *buf, size_t cap)
{
    char *s = cJSON_PrintUnformatted(v);
    if (!s) {
        snprintf(buf, cap, "(unprintable)");
        return buf;
    }
    size_t n = strlen(s);
    if (n > 60)
        snprintf(buf, cap, "%.57s...", s);
    else
        snprintf(buf, cap, "%s", s);
    cJSON_free(s);
    for (char *p = buf; *p; p++) /* cJSON escapes controls; keep the line clean of any left */
        if ((unsigned char)*p < 0x20)
            *p = '?';
    return buf;
}

/* An exact whole number in [lo, hi] from v. */
static int jint_value(const jcfg *j, const char *key, const cJSON *v, int lo, int hi, int *out)
{
    char buf[80];
    if (!cJSON_IsNumber(v))
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; it must be a whole number from %d to %d", j->src,
                         key, jshow(v, buf, sizeof buf), lo, hi);
    double x = v->valuedouble;
    if (!isfinite(x) || x != floor(x) || x < lo || x > hi)
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; it must be a whole number from %d to %d", j->src,
                         key, jshow(v, buf, sizeof buf), lo, hi);
    *out = (int)x;
    return VKTI_OK;
}

/* key absent: def; else a whole number in [lo, hi]. */
static int jint(const jcfg *j, const char *key, int lo, int hi, int def, int *out)
{
    const cJSON *v = jget(j, key);
    if (!v) {
        *out = def;
        return VKTI_OK;
    }
    return jint_value(j, key, v, lo, hi, out);
}

/* key absent or null: def; else a whole number in [lo, hi]. */
static int jint_or_null(const jcfg *j, const char *key, int lo, int hi, int def, int *out)
{
    const cJSON *v = jget(j, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return VKTI_OK;
    }
    return jint_value(j, key, v, lo, hi, out);
}

/* key absent: def; else a finite number in (lo, hi]. */
static int jnum(const jcfg *j, const char *key, double lo, double hi, double def, double *out)
{
    const cJSON *v = jget(j, key);
    char buf[80];
    if (!v) {
        *out = def;
        return VKTI_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || !(v->valuedouble > lo) || v->valuedouble > hi)
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; it must be a number above %g and at most %g", j->src,
                         key, jshow(v, buf, sizeof buf), lo, hi);
    *out = v->valuedouble;
    return VKTI_OK;
}

static int jbool(const jcfg *j, const char *key, int def, int *out)
{
    const cJSON *v = jget(j, key);
    char buf[80];
    if (!v) {
        *out = def;
        return VKTI_OK;
    }
    if (!cJSON_IsBool(v))
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; it must be true or false", j->src, key,
                         jshow(v, buf, sizeof buf));
    *out = cJSON_IsTrue(v);
    return VKTI_OK;
}

/* A whole number or a list of n whole numbers (one per block) into out[n]. */
static int jint_list(const jcfg *j, const char *key, int n, int lo, int hi, int def, int *out, int *is_list)
{
    const cJSON *v = jget(j, key);
    char buf[80];
    *is_list = 0;
    if (!v || cJSON_IsNumber(v)) {
        int x = def;
        if (v && jint_value(j, key, v, lo, hi, &x))
            return VKTI_E_FORMAT;
        for (int i = 0; i < n; i++)
            out[i] = x;
        return VKTI_OK;
    }
    if (!cJSON_IsArray(v))
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; it must be a whole number or a list of %d", j->src,
                         key, jshow(v, buf, sizeof buf), n);
    if (cJSON_GetArraySize(v) != n)
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" has %d entries; it must have one per block (%d)", j->src, key,
                         cJSON_GetArraySize(v), n);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (cJSON_IsArray(e))
            return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" holds nested lists (per-layer values, as SDXL-style "
                                                  "asymmetric UNets use); vkti supports one whole number per block",
                             j->src, key);
        char what[96];
        snprintf(what, sizeof what, "%s[%d]", key, i);
        if (jint_value(j, what, e, lo, hi, &out[i]))
            return VKTI_E_FORMAT;
    }
    *is_list = 1;
    return VKTI_OK;
}

/* The value must be absent or the one vkti implements: null (want NULL and want_false 0), false
 * (want_false 1) or the string want. */
static int jfixed(const jcfg *j, const char *key, const char *want, int want_false, const char *hint)
{
    const cJSON *v = jget(j, key);
    if (!v)
        return VKTI_OK;
    int ok;
    if (want)
        ok = cJSON_IsString(v) && !strcmp(v->valuestring, want);
    else if (want_false)
        ok = cJSON_IsFalse(v) || cJSON_IsNull(v);
    else
        ok = cJSON_IsNull(v);
    if (ok)
        return VKTI_OK;
    char buf[80], supported[80];
    if (want)
        snprintf(supported, sizeof supported, "\"%s\"", want);
    else
        snprintf(supported, sizeof supported, "%s", want_false ? "false" : "null");
    return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; vkti supports only %s%s%s", j->src, key,
                     jshow(v, buf, sizeof buf), supported, hint ? " — " : "", hint ? hint : "");
}

/* The value must be absent or the number want. */
static int jfixed_num(const jcfg *j, const char *key, double want)
{
    const cJSON *v = jget(j, key);
    char buf[80];
    if (!v || (cJSON_IsNumber(v) && v->valuedouble == want))
        return VKTI_OK;
    return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; vkti supports only %g", j->src, key,
                     jshow(v, buf, sizeof buf), want);
}

/* A list of n strings, each one of names[0..count) (index into out). Absent: out unchanged. */
static int jnames(const jcfg *j, const char *key, int n, const char *const *names, const int *values, int count,
                  int *out, const char *what)
{
    const cJSON *v = jget(j, key);
    char buf[80];
    if (!v)
        return VKTI_OK;
    if (!cJSON_IsArray(v))
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" is %s; it must be a list of block type names", j->src, key,
                         jshow(v, buf, sizeof buf));
    if (cJSON_GetArraySize(v) != n)
        return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\" has %d entries but block_out_channels has %d", j->src, key,
                         cJSON_GetArraySize(v), n);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        int found = -1;
        for (int k = 0; k < count && cJSON_IsString(e); k++)
            if (!strcmp(e->valuestring, names[k]))
                found = k;
        if (found < 0)
            return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"%s\"[%d] is %s; vkti supports %s", j->src, key, i,
                             jshow(e, buf, sizeof buf), what);
        out[i] = values[found];
    }
    return VKTI_OK;
}

/* The _class_name, when present, must be want. */
static int jclass(const jcfg *j, const char *want, const char *what)
{
    const cJSON *v = jget(j, "_class_name");
    char buf[80];
    if (!v || (cJSON_IsString(v) && !strcmp(v->valuestring, want)))
        return VKTI_OK;
    return vkti_fail(j->d, VKTI_E_FORMAT, "%s: \"_class_name\" is %s; %s must be a %s", j->src,
                     jshow(v, buf, sizeof buf), what, want);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Parses json into *root: an object whose keys are distinct (Python's json keeps the last of
 * duplicates and cJSON finds the first, so a config with duplicates means different things to
 * diffusers and to vkti: refused). */
static int jparse(vkti_diag *d, const char *json, size_t len, const char *src, cJSON **root)
{
    *root = NULL;
    if (len > VKTI_SD_MAX_CONFIG_BYTES)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %zu bytes; a config larger than %u bytes is refused", src, len,
                         VKTI_SD_MAX_CONFIG_BYTES);
    cJSON *r = cJSON_ParseWithLength(json, len);
    if (!r)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not valid JSON", src);
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the top level must be a JSON object", src);
    }
    size_t n = 0;
    for (const cJSON *e = r->child; e; e = e->next)
        n++;
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys) {
        cJSON_Delete(r);
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", src);
    }
    size_t k = 0;
    for (const cJSON *e = r->child; e; e = e->next)
        keys[k++] = e->string ? e->string : "";
    qsort(keys, n, sizeof *keys, cmp_str);
    for (k = 1; k < n; k++) {
        if (!strcmp(keys[k - 1], keys[k])) {
            char q[VKTI_QUOTE_MAX];
            vkti_quote(q, sizeof q, keys[k], strlen(keys[k]));
            free(keys);
            cJSON_Delete(r);
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the key %s appears twice", src, q);
        }
    }
    free(keys);
    *root = r;
    return VKTI_OK;
}

/* ---- UNet2DConditionModel -------------------------------------------------------------------- */

static void unet_defaults(vkti_unet_config *c)
{
    /* UNet2DConditionModel.__init__'s defaults */
    static const int boc[4] = {320, 640, 1280, 1280};
    memset(c, 0, sizeof *c);
    c->in_channels = c->out_channels = 4;
    c->flip_sin_to_cos = 1;
    c->num_blocks = 4;
    for (int i = 0; i < 4; i++) {
        c->down_block_types[i] = i < 3 ? VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D : VKTI_UNET_DOWN_BLOCK_2D;
        c->up_block_types[i] = i == 0 ? VKTI_UNET_UP_BLOCK_2D : VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D;
        c->block_out_channels[i] = boc[i];
        c->layers_per_block[i] = 2;
        c->transformer_layers_per_block[i] = 1;
        c->heads[i] = 8;
    }
    c->cross_attention_dim = 1280;
    c->norm_num_groups = 32;
    c->norm_eps = 1e-5;
    c->conv_in_kernel = c->conv_out_kernel = 3;
    c->downsample_padding = 1;
    c->mid_block_scale_factor = 1.0;
}

int vkti_unet_config_check(vkti_diag *d, vkti_unet_config *c, const char *src)
{
    const int n = c->num_blocks;
    if (n < 1 || n > VKTI_SD_MAX_BLOCKS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %d blocks; a UNet has 1 to %d", src, n, VKTI_SD_MAX_BLOCKS);
    if (c->in_channels < 1 || c->in_channels > VKTI_SD_MAX_CHANNELS || c->out_channels < 1 ||
        c->out_channels > VKTI_SD_MAX_CHANNELS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: in_channels %d / out_channels %d out of range (1 to %d)", src,
                         c->in_channels, c->out_channels, VKTI_SD_MAX_CHANNELS);
    if (c->norm_num_groups < 1 || c->norm_num_groups > VKTI_SD_MAX_CHANNELS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: norm_num_groups %d out of range", src, c->norm_num_groups);
    if (c->cross_attention_dim < 1 || c->cross_attention_dim > VKTI_SD_MAX_CHANNELS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: cross_attention_dim %d out of range (1 to %d)", src,
                         c->cross_attention_dim, VKTI_SD_MAX_CHANNELS);
    if ((c->conv_in_kernel != 1 && c->conv_in_kernel != 3) || (c->conv_out_kernel != 1 && c->conv_out_kernel != 3))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: conv_in_kernel %d, conv_out_kernel %d; vkti supports 3 (or 1)", src,
                         c->conv_in_kernel, c->conv_out_kernel);
    if (c->downsample_padding != 1)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: \"downsample_padding\" is %d; vkti supports only 1", src,
                         c->downsample_padding);
    if (!(c->norm_eps > 0 && c->norm_eps < 1) || !(c->mid_block_scale_factor > 0 && c->mid_block_scale_factor < 1e6))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: norm_eps %g or mid_block_scale_factor %g out of range", src,
                         c->norm_eps, c->mid_block_scale_factor);
    if (c->sample_size < 0 || c->sample_size > VKTI_SD_MAX_SAMPLE)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: sample_size %d out of range", src, c->sample_size);
    if (c->freq_shift < 0 || c->freq_shift > 10000)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: freq_shift %d out of range", src, c->freq_shift);
    if (c->mid_block_type != VKTI_UNET_MID_CROSS_ATTN)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: unknown mid block type", src);
    for (int i = 0; i < n; i++) {
        const int ch = c->block_out_channels[i];
        if (ch < 1 || ch > VKTI_SD_MAX_CHANNELS)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: block_out_channels[%d] is %d; it must be from 1 to %d", src, i, ch,
                             VKTI_SD_MAX_CHANNELS);
        if (ch % c->norm_num_groups)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: block_out_channels[%d] = %d is not a multiple of norm_num_groups %d",
                             src, i, ch, c->norm_num_groups);
        if (c->down_block_types[i] != VKTI_UNET_DOWN_BLOCK_2D && c->down_block_types[i] != VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: down_block_types[%d] is an up block", src, i);
        if (c->up_block_types[i] != VKTI_UNET_UP_BLOCK_2D && c->up_block_types[i] != VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: up_block_types[%d] is a down block", src, i);
        if (c->layers_per_block[i] < 1 || c->layers_per_block[i] > VKTI_SD_MAX_LAYERS)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: layers_per_block[%d] is %d; it must be from 1 to %d", src, i,
                             c->layers_per_block[i], VKTI_SD_MAX_LAYERS);
        if (c->transformer_layers_per_block[i] < 1 || c->transformer_layers_per_block[i] > VKTI_SD_MAX_LAYERS)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: transformer_layers_per_block[%d] is %d; it must be from 1 to %d", src,
                             i, c->transformer_layers_per_block[i], VKTI_SD_MAX_LAYERS);
        const int h = c->heads[i];
        if (h < 1 || h > VKTI_SD_MAX_HEADS)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: attention_head_dim[%d] (the number of heads, in diffusers' legacy "
                                               "naming) is %d; it must be from 1 to %d", src, i, h, VKTI_SD_MAX_HEADS);
        if (ch % h)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: attention_head_dim[%d] is %d heads (diffusers' legacy naming: it counts heads), which "
                             "do not divide block_out_channels[%d] = %d; vkti needs the width to split evenly into heads",
                             src, i, h, i, ch);
        c->head_dim[i] = ch / h;
    }
    for (int i = n; i < VKTI_SD_MAX_BLOCKS; i++) { /* one canonical form: nothing past the last block */
        c->down_block_types[i] = c->up_block_types[i] = VKTI_UNET_DOWN_BLOCK_2D;
        c->block_out_channels[i] = c->layers_per_block[i] = c->transformer_layers_per_block[i] = 0;
        c->heads[i] = c->head_dim[i] = 0;
    }
    if (c->time_embedding_dim_set) {
        if (c->time_embedding_dim < 1 || c->time_embedding_dim > 4 * VKTI_SD_MAX_CHANNELS)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: time_embedding_dim %d out of range", src, c->time_embedding_dim);
    } else {
        c->time_embedding_dim = 4 * c->block_out_channels[0];
    }
    return VKTI_OK;
}

int vkti_unet_config_parse(vkti_diag *d, vkti_unet_config *c, const char *json, size_t len, const char *src)
{
    cJSON *root;
    int rc = jparse(d, json, len, src, &root);
    if (rc)
        return rc;
    jcfg jc = {d, src, root}, *j = &jc;
    unet_defaults(c);
    static const char *const down_names[2] = {"DownBlock2D", "CrossAttnDownBlock2D"};
    static const int down_values[2] = {VKTI_UNET_DOWN_BLOCK_2D, VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D};
    static const char *const up_names[2] = {"UpBlock2D", "CrossAttnUpBlock2D"};
    static const int up_values[2] = {VKTI_UNET_UP_BLOCK_2D, VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D};
    static const char *const sdxl = "SDXL-style UNets (micro-conditioning on size and crop) are not supported";
    const cJSON *v;
    char buf[80];
    int types[VKTI_SD_MAX_BLOCKS];
    if ((rc = jclass(j, "UNet2DConditionModel", "the unet's config")))
        goto done;
    /* the networks vkti does not build */
    if ((rc = jfixed(j, "addition_embed_type", NULL, 0, sdxl)) || (rc = jfixed(j, "addition_time_embed_dim", NULL, 0, sdxl)) ||
        (rc = jfixed(j, "class_embed_type", NULL, 0, NULL)) || (rc = jfixed(j, "num_class_embeds", NULL, 0, NULL)) ||
        (rc = jfixed(j, "projection_class_embeddings_input_dim", NULL, 0, NULL)) ||
        (rc = jfixed(j, "class_embeddings_concat", NULL, 1, NULL)) ||
        (rc = jfixed(j, "encoder_hid_dim", NULL, 0, NULL)) || (rc = jfixed(j, "encoder_hid_dim_type", NULL, 0, NULL)) ||
        (rc = jfixed(j, "num_attention_heads", NULL, 0,
                     "diffusers refuses it too: UNet2DConditionModel takes the head count from attention_head_dim")) ||
        (rc = jfixed(j, "resnet_time_scale_shift", "default", 0, NULL)) ||
        (rc = jfixed(j, "resnet_skip_time_act", NULL, 1, NULL)) || (rc = jfixed_num(j, "resnet_out_scale_factor", 1.0)) ||
        (rc = jfixed(j, "time_embedding_type", "positional", 0, NULL)) ||
        (rc = jfixed(j, "time_embedding_act_fn", NULL, 0, NULL)) || (rc = jfixed(j, "timestep_post_act", NULL, 0, NULL)) ||
        (rc = jfixed(j, "time_cond_proj_dim", NULL, 0, NULL)) || (rc = jfixed(j, "attention_type", "default", 0, NULL)) ||
        (rc = jfixed(j, "dual_cross_attention", NULL, 1, NULL)) || (rc = jfixed(j, "center_input_sample", NULL, 1, NULL)) ||
        (rc = jfixed(j, "mid_block_only_cross_attention", NULL, 1, NULL)) ||
        (rc = jfixed(j, "cross_attention_norm", NULL, 0, NULL)) ||
        (rc = jfixed(j, "reverse_transformer_layers_per_block", NULL, 0, NULL)) ||
        (rc = jfixed(j, "mid_block_type", "UNetMidBlock2DCrossAttn", 0, NULL)))
        goto done;
    if ((v = jget(j, "only_cross_attention")) && !cJSON_IsFalse(v)) {
        int all_false = cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0;
        for (const cJSON *e = cJSON_IsArray(v) ? v->child : NULL; e; e = e->next)
            all_false &= cJSON_IsFalse(e);
        if (!all_false) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"only_cross_attention\" is %s; vkti supports only false", src,
                           jshow(v, buf, sizeof buf));
            goto done;
        }
    }
    if ((v = jget(j, "act_fn")) && !(cJSON_IsString(v) && (!strcmp(v->valuestring, "silu") || !strcmp(v->valuestring, "swish")))) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"act_fn\" is %s; vkti supports \"silu\" (\"swish\")", src,
                       jshow(v, buf, sizeof buf));
        goto done;
    }
    if ((v = jget(j, "norm_num_groups")) && cJSON_IsNull(v)) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"norm_num_groups\" is null (no output norm); vkti needs a number", src);
        goto done;
    }
    if ((v = jget(j, "block_out_channels"))) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > VKTI_SD_MAX_BLOCKS) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"block_out_channels\" is %s; it must be a list of 1 to %d widths", src,
                           jshow(v, buf, sizeof buf), VKTI_SD_MAX_BLOCKS);
            goto done;
        }
        c->num_blocks = cJSON_GetArraySize(v);
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            char what[48];
            snprintf(what, sizeof what, "block_out_channels[%d]", i);
            if ((rc = jint_value(j, what, e, 1, VKTI_SD_MAX_CHANNELS, &c->block_out_channels[i])))
                goto done;
        }
    }
    const int n = c->num_blocks;
    if (n != 4) { /* the defaults are for 4 blocks: without the lists, the config cannot be read */
        if (!jget(j, "down_block_types") || !jget(j, "up_block_types")) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: %d blocks but no down_block_types / up_block_types list", src, n);
            goto done;
        }
    }
    memcpy(types, c->down_block_types, sizeof types);
    if ((rc = jnames(j, "down_block_types", n, down_names, down_values, 2, types,
                     "\"CrossAttnDownBlock2D\" and \"DownBlock2D\"")))
        goto done;
    for (int i = 0; i < n; i++)
        c->down_block_types[i] = (vkti_unet_block_type)types[i];
    memcpy(types, c->up_block_types, sizeof types);
    if ((rc = jnames(j, "up_block_types", n, up_names, up_values, 2, types, "\"UpBlock2D\" and \"CrossAttnUpBlock2D\"")))
        goto done;
    for (int i = 0; i < n; i++)
        c->up_block_types[i] = (vkti_unet_block_type)types[i];
    if ((v = jget(j, "sample_size")) && cJSON_IsArray(v)) {
        int hw[2], is_list;
        if (cJSON_GetArraySize(v) != 2 || (rc = jint_list(j, "sample_size", 2, 1, VKTI_SD_MAX_SAMPLE, 0, hw, &is_list)))
            rc = rc ? rc : vkti_fail(d, VKTI_E_FORMAT, "%s: \"sample_size\" must be a number or [height, width]", src);
        else if (hw[0] != hw[1])
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"sample_size\" is [%d, %d]; vkti supports square samples", src,
                           hw[0], hw[1]);
        if (rc)
            goto done;
        c->sample_size = hw[0];
    } else if ((rc = jint_or_null(j, "sample_size", 1, VKTI_SD_MAX_SAMPLE, 0, &c->sample_size))) {
        goto done;
    }
    int lists_ignored;
    if ((rc = jint(j, "in_channels", 1, VKTI_SD_MAX_CHANNELS, 4, &c->in_channels)) ||
        (rc = jint(j, "out_channels", 1, VKTI_SD_MAX_CHANNELS, 4, &c->out_channels)) ||
        (rc = jbool(j, "flip_sin_to_cos", 1, &c->flip_sin_to_cos)) ||
        (rc = jint(j, "freq_shift", 0, 10000, 0, &c->freq_shift)) ||
        (rc = jint_list(j, "layers_per_block", n, 1, VKTI_SD_MAX_LAYERS, 2, c->layers_per_block, &c->layers_is_list)) ||
        (rc = jint_list(j, "transformer_layers_per_block", n, 1, VKTI_SD_MAX_LAYERS, 1, c->transformer_layers_per_block,
                        &c->transformer_layers_is_list)) ||
        (rc = jint_list(j, "attention_head_dim", n, 1, VKTI_SD_MAX_HEADS, 8, c->heads, &c->heads_is_list)) ||
        (rc = jint(j, "downsample_padding", 0, 16, 1, &c->downsample_padding)) ||
        (rc = jnum(j, "mid_block_scale_factor", 0, 1e6, 1.0, &c->mid_block_scale_factor)) ||
        (rc = jint(j, "norm_num_groups", 1, VKTI_SD_MAX_CHANNELS, 32, &c->norm_num_groups)) ||
        (rc = jnum(j, "norm_eps", 0, 0.5, 1e-5, &c->norm_eps)) ||
        (rc = jbool(j, "use_linear_projection", 0, &c->use_linear_projection)) ||
        (rc = jbool(j, "upcast_attention", 0, &c->upcast_attention)) ||
        (rc = jint(j, "conv_in_kernel", 1, 15, 3, &c->conv_in_kernel)) ||
        (rc = jint(j, "conv_out_kernel", 1, 15, 3, &c->conv_out_kernel)))
        goto done;
    if ((v = jget(j, "cross_attention_dim")) && cJSON_IsArray(v)) {
        int dims[VKTI_SD_MAX_BLOCKS];
        if ((rc = jint_list(j, "cross_attention_dim", n, 1, VKTI_SD_MAX_CHANNELS, 0, dims, &lists_ignored)))
            goto done;
        for (int i = 1; i < n; i++)
            if (dims[i] != dims[0]) {
                rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"cross_attention_dim\" differs between blocks; vkti supports "
                                                      "one text width for the whole UNet", src);
                goto done;
            }
        c->cross_attention_dim = dims[0];
    } else if ((rc = jint(j, "cross_attention_dim", 1, VKTI_SD_MAX_CHANNELS, 1280, &c->cross_attention_dim))) {
        goto done;
    }
    if ((v = jget(j, "time_embedding_dim")) && !cJSON_IsNull(v)) {
        if ((rc = jint_value(j, "time_embedding_dim", v, 1, 4 * VKTI_SD_MAX_CHANNELS, &c->time_embedding_dim)))
            goto done;
        c->time_embedding_dim_set = 1;
    }
    rc = vkti_unet_config_check(d, c, src);
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- CLIPTextModel --------------------------------------------------------------------------- */

int vkti_clip_text_config_check(vkti_diag *d, const vkti_clip_text_config *c, const char *src)
{
    if (c->vocab_size < 1 || c->vocab_size > VKTI_SD_MAX_VOCAB)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: vocab_size %d out of range (1 to %d)", src, c->vocab_size, VKTI_SD_MAX_VOCAB);
    if (c->hidden_size < 1 || c->hidden_size > VKTI_SD_MAX_CHANNELS || c->intermediate_size < 1 ||
        c->intermediate_size > 4 * VKTI_SD_MAX_CHANNELS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: hidden_size %d / intermediate_size %d out of range", src, c->hidden_size,
                         c->intermediate_size);
    if (c->num_hidden_layers < 1 || c->num_hidden_layers > VKTI_SD_MAX_TEXT_LAYERS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: num_hidden_layers %d out of range (1 to %d)", src, c->num_hidden_layers,
                         VKTI_SD_MAX_TEXT_LAYERS);
    if (c->max_position_embeddings < 1 || c->max_position_embeddings > VKTI_SD_MAX_POSITIONS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: max_position_embeddings %d out of range (1 to %d)", src,
                         c->max_position_embeddings, VKTI_SD_MAX_POSITIONS);
    if (c->num_attention_heads < 1 || c->num_attention_heads > VKTI_SD_MAX_HEADS ||
        c->hidden_size % c->num_attention_heads)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: num_attention_heads %d does not divide hidden_size %d", src,
                         c->num_attention_heads, c->hidden_size);
    if (!(c->layer_norm_eps > 0 && c->layer_norm_eps < 0.5))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: layer_norm_eps %g out of range", src, c->layer_norm_eps);
    return VKTI_OK;
}

int vkti_clip_text_config_parse(vkti_diag *d, vkti_clip_text_config *c, const char *json, size_t len, const char *src)
{
    cJSON *root;
    int rc = jparse(d, json, len, src, &root);
    if (rc)
        return rc;
    jcfg jc = {d, src, root}, *j = &jc;
    const cJSON *v;
    char buf[80];
    memset(c, 0, sizeof *c);
    if ((v = jget(j, "architectures")) && !cJSON_IsNull(v)) {
        int ok = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1 && cJSON_IsString(v->child) &&
                 !strcmp(v->child->valuestring, "CLIPTextModel");
        if (!ok) {
            const int with_proj = cJSON_IsArray(v) && cJSON_IsString(v->child) &&
                                  !strcmp(v->child->valuestring, "CLIPTextModelWithProjection");
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"architectures\" is %s; vkti supports [\"CLIPTextModel\"]%s", src,
                           jshow(v, buf, sizeof buf),
                           with_proj ? " (CLIPTextModelWithProjection is SDXL's second text encoder)" : "");
            goto done;
        }
    }
    if ((v = jget(j, "model_type")) && !(cJSON_IsString(v) && !strcmp(v->valuestring, "clip_text_model"))) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"model_type\" is %s; vkti reads a CLIP text encoder config "
                                              "(\"clip_text_model\")", src, jshow(v, buf, sizeof buf));
        goto done;
    }
    c->hidden_act = VKTI_CLIP_QUICK_GELU;
    if ((v = jget(j, "hidden_act"))) {
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "quick_gelu"))
            c->hidden_act = VKTI_CLIP_QUICK_GELU;
        else if (cJSON_IsString(v) && !strcmp(v->valuestring, "gelu"))
            c->hidden_act = VKTI_CLIP_GELU;
        else {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"hidden_act\" is %s; vkti supports \"quick_gelu\" (SD 1.x) and "
                                                  "\"gelu\" (SD 2.x)", src, jshow(v, buf, sizeof buf));
            goto done;
        }
    }
    /* CLIPTextConfig's defaults (transformers) */
    if ((rc = jint(j, "vocab_size", 1, VKTI_SD_MAX_VOCAB, 49408, &c->vocab_size)) ||
        (rc = jint(j, "hidden_size", 1, VKTI_SD_MAX_CHANNELS, 512, &c->hidden_size)) ||
        (rc = jint(j, "intermediate_size", 1, 4 * VKTI_SD_MAX_CHANNELS, 2048, &c->intermediate_size)) ||
        (rc = jint(j, "num_hidden_layers", 1, VKTI_SD_MAX_TEXT_LAYERS, 12, &c->num_hidden_layers)) ||
        (rc = jint(j, "num_attention_heads", 1, VKTI_SD_MAX_HEADS, 8, &c->num_attention_heads)) ||
        (rc = jint(j, "max_position_embeddings", 1, VKTI_SD_MAX_POSITIONS, 77, &c->max_position_embeddings)) ||
        (rc = jnum(j, "layer_norm_eps", 0, 0.5, 1e-5, &c->layer_norm_eps)) ||
        (rc = jint_or_null(j, "bos_token_id", 0, VKTI_SD_MAX_VOCAB, 49406, &c->bos_token_id)) ||
        (rc = jint_or_null(j, "eos_token_id", 0, VKTI_SD_MAX_VOCAB, 49407, &c->eos_token_id)) ||
        (rc = jint_or_null(j, "pad_token_id", 0, VKTI_SD_MAX_VOCAB, 1, &c->pad_token_id)))
        goto done;
    rc = vkti_clip_text_config_check(d, c, src);
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- AutoencoderKL --------------------------------------------------------------------------- */

int vkti_vae_config_check(vkti_diag *d, const vkti_vae_config *c, const char *src)
{
    if (c->num_blocks < 1 || c->num_blocks > VKTI_SD_MAX_BLOCKS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %d blocks; a VAE has 1 to %d", src, c->num_blocks, VKTI_SD_MAX_BLOCKS);
    if (c->in_channels < 1 || c->in_channels > VKTI_SD_MAX_CHANNELS || c->out_channels < 1 ||
        c->out_channels > VKTI_SD_MAX_CHANNELS || c->latent_channels < 1 || c->latent_channels > VKTI_SD_MAX_CHANNELS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: in/out/latent channels %d/%d/%d out of range", src, c->in_channels,
                         c->out_channels, c->latent_channels);
    if (c->layers_per_block < 1 || c->layers_per_block > VKTI_SD_MAX_LAYERS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: layers_per_block %d out of range (1 to %d)", src, c->layers_per_block,
                         VKTI_SD_MAX_LAYERS);
    if (c->norm_num_groups < 1 || c->norm_num_groups > VKTI_SD_MAX_CHANNELS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: norm_num_groups %d out of range", src, c->norm_num_groups);
    for (int i = 0; i < c->num_blocks; i++) {
        const int ch = c->block_out_channels[i];
        if (ch < 1 || ch > VKTI_SD_MAX_CHANNELS)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: block_out_channels[%d] is %d; it must be from 1 to %d", src, i, ch,
                             VKTI_SD_MAX_CHANNELS);
        if (ch % c->norm_num_groups)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: block_out_channels[%d] = %d is not a multiple of norm_num_groups %d",
                             src, i, ch, c->norm_num_groups);
    }
    if (c->sample_size < 0 || c->sample_size > VKTI_SD_MAX_SAMPLE)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: sample_size %d out of range", src, c->sample_size);
    if (!(c->scaling_factor > 0 && c->scaling_factor < 1e6))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: scaling_factor %g out of range", src, c->scaling_factor);
    return VKTI_OK;
}

int vkti_vae_config_parse(vkti_diag *d, vkti_vae_config *c, const char *json, size_t len, const char *src)
{
    cJSON *root;
    int rc = jparse(d, json, len, src, &root);
    if (rc)
        return rc;
    jcfg jc = {d, src, root}, *j = &jc;
    const cJSON *v;
    char buf[80];
    memset(c, 0, sizeof *c);
    c->num_blocks = 1;
    c->block_out_channels[0] = 64;
    if ((rc = jclass(j, "AutoencoderKL", "the vae's config")) ||
        (rc = jfixed(j, "shift_factor", NULL, 0, "a shifted latent space (SD3, Flux) is not supported")) ||
        (rc = jfixed(j, "latents_mean", NULL, 0, "per-channel latent statistics (SDXL-derived VAEs) are not supported")) ||
        (rc = jfixed(j, "latents_std", NULL, 0, "per-channel latent statistics (SDXL-derived VAEs) are not supported")))
        goto done;
    if ((v = jget(j, "act_fn")) && !(cJSON_IsString(v) && (!strcmp(v->valuestring, "silu") || !strcmp(v->valuestring, "swish")))) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"act_fn\" is %s; vkti supports \"silu\"", src, jshow(v, buf, sizeof buf));
        goto done;
    }
    if ((v = jget(j, "block_out_channels"))) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > VKTI_SD_MAX_BLOCKS) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"block_out_channels\" is %s; it must be a list of 1 to %d widths", src,
                           jshow(v, buf, sizeof buf), VKTI_SD_MAX_BLOCKS);
            goto done;
        }
        c->num_blocks = cJSON_GetArraySize(v);
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            char what[48];
            snprintf(what, sizeof what, "block_out_channels[%d]", i);
            if ((rc = jint_value(j, what, e, 1, VKTI_SD_MAX_CHANNELS, &c->block_out_channels[i])))
                goto done;
        }
    }
    static const char *const down_names[1] = {"DownEncoderBlock2D"};
    static const char *const up_names[1] = {"UpDecoderBlock2D"};
    static const int zero[1] = {0};
    int types[VKTI_SD_MAX_BLOCKS] = {0};
    if ((rc = jnames(j, "down_block_types", c->num_blocks, down_names, zero, 1, types, "\"DownEncoderBlock2D\"")) ||
        (rc = jnames(j, "up_block_types", c->num_blocks, up_names, zero, 1, types, "\"UpDecoderBlock2D\"")))
        goto done;
    if (c->num_blocks != 1 && (!jget(j, "down_block_types") || !jget(j, "up_block_types"))) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: %d blocks but no down_block_types / up_block_types list", src, c->num_blocks);
        goto done;
    }
    if ((v = jget(j, "sample_size")) && cJSON_IsArray(v)) {
        int hw[2], is_list;
        if (cJSON_GetArraySize(v) != 2 || (rc = jint_list(j, "sample_size", 2, 1, VKTI_SD_MAX_SAMPLE, 0, hw, &is_list)))
            rc = rc ? rc : vkti_fail(d, VKTI_E_FORMAT, "%s: \"sample_size\" must be a number or [height, width]", src);
        else if (hw[0] != hw[1])
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"sample_size\" is [%d, %d]; vkti supports square samples", src,
                           hw[0], hw[1]);
        if (rc)
            goto done;
        c->sample_size = hw[0];
    } else if ((rc = jint_or_null(j, "sample_size", 1, VKTI_SD_MAX_SAMPLE, 32, &c->sample_size))) {
        goto done;
    }
    /* AutoencoderKL.__init__'s defaults */
    if ((rc = jint(j, "in_channels", 1, VKTI_SD_MAX_CHANNELS, 3, &c->in_channels)) ||
        (rc = jint(j, "out_channels", 1, VKTI_SD_MAX_CHANNELS, 3, &c->out_channels)) ||
        (rc = jint(j, "latent_channels", 1, VKTI_SD_MAX_CHANNELS, 4, &c->latent_channels)) ||
        (rc = jint(j, "layers_per_block", 1, VKTI_SD_MAX_LAYERS, 1, &c->layers_per_block)) ||
        (rc = jint(j, "norm_num_groups", 1, VKTI_SD_MAX_CHANNELS, 32, &c->norm_num_groups)) ||
        (rc = jnum(j, "scaling_factor", 0, 1e6, 0.18215, &c->scaling_factor)) ||
        (rc = jbool(j, "force_upcast", 1, &c->force_upcast)) ||
        (rc = jbool(j, "use_quant_conv", 1, &c->use_quant_conv)) ||
        (rc = jbool(j, "use_post_quant_conv", 1, &c->use_post_quant_conv)) ||
        (rc = jbool(j, "mid_block_add_attention", 1, &c->mid_block_add_attention)))
        goto done;
    rc = vkti_vae_config_check(d, c, src);
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- writing --------------------------------------------------------------------------------- */

static cJSON *int_array(const int *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static char *finish(cJSON *o)
{
    char *s = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!s)
        return NULL;
    /* a plain malloc'd copy with a newline, so callers free() it */
    size_t n = strlen(s);
    char *out = malloc(n + 2);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\n';
        out[n + 1] = 0;
    }
    cJSON_free(s);
    return out;
}

static void add_names(cJSON *o, const char *key, const vkti_unet_block_type *t, int n)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(vkti_unet_block_type_name(t[i])));
}

static void add_int_or_list(cJSON *o, const char *key, const int *v, int n, int as_list)
{
    if (as_list)
        cJSON_AddItemToObject(o, key, int_array(v, n));
    else
        cJSON_AddNumberToObject(o, key, v[0]);
}

char *vkti_unet_config_to_json(const vkti_unet_config *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const int n = c->num_blocks;
    cJSON_AddStringToObject(o, "_class_name", "UNet2DConditionModel");
    cJSON_AddStringToObject(o, "_diffusers_version", "0.30.0");
    cJSON_AddStringToObject(o, "act_fn", "silu");
    add_int_or_list(o, "attention_head_dim", c->heads, n, c->heads_is_list);
    cJSON_AddItemToObject(o, "block_out_channels", int_array(c->block_out_channels, n));
    cJSON_AddBoolToObject(o, "center_input_sample", 0);
    cJSON_AddNumberToObject(o, "conv_in_kernel", c->conv_in_kernel);
    cJSON_AddNumberToObject(o, "conv_out_kernel", c->conv_out_kernel);
    cJSON_AddNumberToObject(o, "cross_attention_dim", c->cross_attention_dim);
    add_names(o, "down_block_types", c->down_block_types, n);
    cJSON_AddNumberToObject(o, "downsample_padding", c->downsample_padding);
    cJSON_AddBoolToObject(o, "flip_sin_to_cos", c->flip_sin_to_cos);
    cJSON_AddNumberToObject(o, "freq_shift", c->freq_shift);
    cJSON_AddNumberToObject(o, "in_channels", c->in_channels);
    add_int_or_list(o, "layers_per_block", c->layers_per_block, n, c->layers_is_list);
    cJSON_AddNumberToObject(o, "mid_block_scale_factor", c->mid_block_scale_factor);
    cJSON_AddStringToObject(o, "mid_block_type", "UNetMidBlock2DCrossAttn");
    cJSON_AddNumberToObject(o, "norm_eps", c->norm_eps);
    cJSON_AddNumberToObject(o, "norm_num_groups", c->norm_num_groups);
    cJSON_AddNumberToObject(o, "out_channels", c->out_channels);
    if (c->sample_size)
        cJSON_AddNumberToObject(o, "sample_size", c->sample_size);
    else
        cJSON_AddNullToObject(o, "sample_size");
    if (c->time_embedding_dim_set)
        cJSON_AddNumberToObject(o, "time_embedding_dim", c->time_embedding_dim);
    add_int_or_list(o, "transformer_layers_per_block", c->transformer_layers_per_block, n, c->transformer_layers_is_list);
    add_names(o, "up_block_types", c->up_block_types, n);
    cJSON_AddBoolToObject(o, "upcast_attention", c->upcast_attention);
    cJSON_AddBoolToObject(o, "use_linear_projection", c->use_linear_projection);
    return finish(o);
}

/* A float-typed config field, always written with a decimal point or exponent: cJSON prints 1.0
 * as 1, and transformers 5 validates its config fields' types (an int where a float is declared
 * is refused: "initializer_factor ... expected float, got int"). */
static void add_float(cJSON *o, const char *key, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v) /* the shortest of %.15g / %.17g that reads back exactly */
        snprintf(buf, sizeof buf, "%.17g", v);
    if (!strpbrk(buf, ".eEn"))
        strcat(buf, ".0");
    cJSON_AddRawToObject(o, key, buf);
}

char *vkti_clip_text_config_to_json(const vkti_clip_text_config *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON *arch = cJSON_AddArrayToObject(o, "architectures");
    if (arch)
        cJSON_AddItemToArray(arch, cJSON_CreateString("CLIPTextModel"));
    add_float(o, "attention_dropout", 0.0);
    cJSON_AddNumberToObject(o, "bos_token_id", c->bos_token_id);
    add_float(o, "dropout", 0.0);
    cJSON_AddNumberToObject(o, "eos_token_id", c->eos_token_id);
    cJSON_AddStringToObject(o, "hidden_act", c->hidden_act == VKTI_CLIP_GELU ? "gelu" : "quick_gelu");
    cJSON_AddNumberToObject(o, "hidden_size", c->hidden_size);
    add_float(o, "initializer_factor", 1.0);
    add_float(o, "initializer_range", 0.02);
    cJSON_AddNumberToObject(o, "intermediate_size", c->intermediate_size);
    add_float(o, "layer_norm_eps", c->layer_norm_eps);
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->max_position_embeddings);
    cJSON_AddStringToObject(o, "model_type", "clip_text_model");
    cJSON_AddNumberToObject(o, "num_attention_heads", c->num_attention_heads);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->num_hidden_layers);
    cJSON_AddNumberToObject(o, "pad_token_id", c->pad_token_id);
    cJSON_AddNumberToObject(o, "projection_dim", c->hidden_size);
    cJSON_AddStringToObject(o, "torch_dtype", "float32");
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    return finish(o);
}

char *vkti_vae_config_to_json(const vkti_vae_config *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const int n = c->num_blocks;
    cJSON_AddStringToObject(o, "_class_name", "AutoencoderKL");
    cJSON_AddStringToObject(o, "_diffusers_version", "0.30.0");
    cJSON_AddStringToObject(o, "act_fn", "silu");
    cJSON_AddItemToObject(o, "block_out_channels", int_array(c->block_out_channels, n));
    cJSON *down = cJSON_AddArrayToObject(o, "down_block_types");
    cJSON *up = cJSON_AddArrayToObject(o, "up_block_types");
    for (int i = 0; down && up && i < n; i++) {
        cJSON_AddItemToArray(down, cJSON_CreateString("DownEncoderBlock2D"));
        cJSON_AddItemToArray(up, cJSON_CreateString("UpDecoderBlock2D"));
    }
    cJSON_AddBoolToObject(o, "force_upcast", c->force_upcast);
    cJSON_AddNumberToObject(o, "in_channels", c->in_channels);
    cJSON_AddNumberToObject(o, "latent_channels", c->latent_channels);
    cJSON_AddNumberToObject(o, "layers_per_block", c->layers_per_block);
    cJSON_AddBoolToObject(o, "mid_block_add_attention", c->mid_block_add_attention);
    cJSON_AddNumberToObject(o, "norm_num_groups", c->norm_num_groups);
    cJSON_AddNumberToObject(o, "out_channels", c->out_channels);
    cJSON_AddNumberToObject(o, "sample_size", c->sample_size);
    cJSON_AddNumberToObject(o, "scaling_factor", c->scaling_factor);
    cJSON_AddBoolToObject(o, "use_post_quant_conv", c->use_post_quant_conv);
    cJSON_AddBoolToObject(o, "use_quant_conv", c->use_quant_conv);
    return finish(o);
}

/* ---- the released models ----------------------------------------------------------------------- */

void vkti_unet_config_sd15(vkti_unet_config *c)
{
    unet_defaults(c);
    c->sample_size = 64;
    c->cross_attention_dim = 768;
    vkti_diag d = {0};
    vkti_unet_config_check(&d, c, "sd15");
}

void vkti_unet_config_sd21(vkti_unet_config *c)
{
    unet_defaults(c);
    static const int heads[4] = {5, 10, 20, 20};
    c->sample_size = 96;
    c->cross_attention_dim = 1024;
    memcpy(c->heads, heads, sizeof heads);
    c->heads_is_list = 1;
    c->use_linear_projection = 1;
    c->upcast_attention = 1;
    vkti_diag d = {0};
    vkti_unet_config_check(&d, c, "sd21");
}

void vkti_clip_text_config_sd15(vkti_clip_text_config *c)
{
    memset(c, 0, sizeof *c);
    c->vocab_size = 49408;
    c->hidden_size = 768;
    c->intermediate_size = 3072;
    c->num_hidden_layers = 12;
    c->num_attention_heads = 12;
    c->max_position_embeddings = 77;
    c->hidden_act = VKTI_CLIP_QUICK_GELU;
    c->layer_norm_eps = 1e-5;
    c->bos_token_id = 0; /* what stable-diffusion-v1-5's text_encoder/config.json says */
    c->eos_token_id = 2;
    c->pad_token_id = 1;
}

void vkti_clip_text_config_sd21(vkti_clip_text_config *c)
{
    vkti_clip_text_config_sd15(c);
    c->hidden_size = 1024;
    c->intermediate_size = 4096;
    c->num_hidden_layers = 23; /* OpenCLIP ViT-H has 24; SD 2.x uses the penultimate layer's output */
    c->num_attention_heads = 16;
    c->hidden_act = VKTI_CLIP_GELU;
}

void vkti_vae_config_sd15(vkti_vae_config *c)
{
    static const int boc[4] = {128, 256, 512, 512};
    memset(c, 0, sizeof *c);
    c->in_channels = c->out_channels = 3;
    c->latent_channels = 4;
    c->num_blocks = 4;
    memcpy(c->block_out_channels, boc, sizeof boc);
    c->layers_per_block = 2;
    c->norm_num_groups = 32;
    c->sample_size = 512;
    c->scaling_factor = 0.18215;
    c->use_quant_conv = c->use_post_quant_conv = 1;
    c->mid_block_add_attention = 1;
    c->force_upcast = 1;
}

/* ---- scheduler ----------------------------------------------------------------------------------- */

int vkti_scheduler_info_parse(vkti_diag *d, vkti_scheduler_info *info, const char *json, size_t len, const char *src)
{
    memset(info, 0, sizeof *info);
    vkti_noise_schedule s;
    int rc = vkti_noise_schedule_from_json(d, &s, json, len, src, VKTI_LINSPACE_FUSED);
    if (rc)
        return rc;
    info->num_train_timesteps = s.num_train_timesteps;
    info->v_prediction = s.prediction_type == VKTI_PREDICT_V;
    vkti_noise_schedule_free(&s);
    cJSON *root = cJSON_ParseWithLength(json, len); /* the parse above succeeded: an object */
    if (!root)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", src);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "_class_name");
    if (cJSON_IsString(v))
        snprintf(info->class_name, sizeof info->class_name, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(root, "beta_schedule");
    snprintf(info->beta_schedule, sizeof info->beta_schedule, "%s", cJSON_IsString(v) ? v->valuestring : "linear");
    vkti_noise_schedule_config def = vkti_noise_config_ddpm_default();
    v = cJSON_GetObjectItemCaseSensitive(root, "beta_start");
    info->beta_start = cJSON_IsNumber(v) ? v->valuedouble : def.beta_start;
    v = cJSON_GetObjectItemCaseSensitive(root, "beta_end");
    info->beta_end = cJSON_IsNumber(v) ? v->valuedouble : def.beta_end;
    cJSON_Delete(root);
    return VKTI_OK;
}

char *vkti_scheduler_config_sd(int v_prediction)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "_class_name", v_prediction ? "DDIMScheduler" : "PNDMScheduler");
    cJSON_AddStringToObject(o, "_diffusers_version", "0.30.0");
    cJSON_AddNumberToObject(o, "beta_end", 0.012);
    cJSON_AddStringToObject(o, "beta_schedule", "scaled_linear");
    cJSON_AddNumberToObject(o, "beta_start", 0.00085);
    cJSON_AddBoolToObject(o, "clip_sample", 0);
    cJSON_AddNumberToObject(o, "num_train_timesteps", 1000);
    cJSON_AddStringToObject(o, "prediction_type", v_prediction ? "v_prediction" : "epsilon");
    cJSON_AddBoolToObject(o, "set_alpha_to_one", 0);
    cJSON_AddBoolToObject(o, "skip_prk_steps", 1);
    cJSON_AddNumberToObject(o, "steps_offset", 1);
    cJSON_AddNullToObject(o, "trained_betas");
    return finish(o);
}
