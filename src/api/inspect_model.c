/* inspect_model.c — `vkti inspect MODEL` in the library: open the model as training would (every
 * tensor of every network found and shape-checked) and describe it: family, layout, file dtypes,
 * parameters and architecture per network, scheduler, tokenizer, fingerprint. See vkti/inspect.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctx_internal.h"
#include "io/model_files.h"
#include "vkti/inspect.h"

typedef struct report_impl {
    vkti_model_report pub; /* first, so the public pointer is this one */
    char **strings;        /* every string the report points to */
    int count;
    int oom;
    const char **notes;
} report_impl;

static const char *keep(report_impl *r, const char *f, ...) VKTI_PRINTF(2, 3);
static const char *keep(report_impl *r, const char *f, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    char **p = realloc(r->strings, (size_t)(r->count + 1) * sizeof *p);
    size_t n = strlen(buf) + 1;
    char *s = malloc(n);
    if (!p || !s) {
        if (p)
            r->strings = p;
        free(s);
        r->oom = 1;
        return "";
    }
    memcpy(s, buf, n);
    r->strings = p;
    r->strings[r->count++] = s;
    return s;
}

/* "32, 64" */
static void list_ints(char *out, size_t cap, const int *v, int n)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? ", " : "", v[i]);
}

static const char *unet_summary(report_impl *r, const vkti_unet_config *u)
{
    char boc[128], layers[128], heads[128], hd[128], types[256];
    list_ints(boc, sizeof boc, u->block_out_channels, u->num_blocks);
    list_ints(layers, sizeof layers, u->layers_per_block, u->num_blocks);
    list_ints(heads, sizeof heads, u->heads, u->num_blocks);
    list_ints(hd, sizeof hd, u->head_dim, u->num_blocks);
    size_t o = 0;
    types[0] = 0;
    for (int i = 0; i < u->num_blocks && o < sizeof types; i++)
        o += (size_t)snprintf(types + o, sizeof types - o, "%s%s", i ? ", " : "",
                              u->down_block_types[i] == VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D ? "attention" : "plain");
    return keep(r, "blocks %s (%s); resnets per block %s; heads %s of width %s; cross-attention %d; %d groups; "
                   "%s projections; latent %d", boc, types, layers, heads, hd, u->cross_attention_dim,
                u->norm_num_groups, u->use_linear_projection ? "linear" : "1x1 conv", u->sample_size);
}

static const char *text_summary(report_impl *r, const vkti_clip_text_config *t)
{
    return keep(r, "width %d, %d layers, %d heads, MLP %d (%s), vocabulary %d, %d positions", t->hidden_size,
                t->num_hidden_layers, t->num_attention_heads, t->intermediate_size,
                t->hidden_act == VKTI_CLIP_GELU ? "gelu" : "quick_gelu", t->vocab_size, t->max_position_embeddings);
}

static const char *vae_summary(report_impl *r, const vkti_vae_config *v)
{
    char boc[128];
    list_ints(boc, sizeof boc, v->block_out_channels, v->num_blocks);
    return keep(r, "blocks %s (downsampling x%d); resnets per block %d; %d latent channels; %d groups; scaling "
                   "factor %g; images %d px", boc, 1 << (v->num_blocks - 1), v->layers_per_block, v->latent_channels,
                v->norm_num_groups, v->scaling_factor, v->sample_size);
}

static const char *dtypes(report_impl *r, const vkti_model_part *p)
{
    char buf[256];
    size_t o = 0;
    int kinds = 0;
    for (int t = 0; t < VKTI_IO_DTYPE_COUNT; t++)
        kinds += p->dtype_count[t] > 0;
    buf[0] = 0;
    for (int t = 0; t < VKTI_IO_DTYPE_COUNT && o < sizeof buf; t++) {
        if (!p->dtype_count[t])
            continue;
        if (kinds == 1)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", vkti_io_dtype_name((vkti_io_dtype)t));
        else
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s x%zu", o ? ", " : "", vkti_io_dtype_name((vkti_io_dtype)t),
                                  p->dtype_count[t]);
    }
    return keep(r, "%s", buf);
}

int vkti_inspect_is_model(const char *path) { return vkti_model_path_is_model(path); }

int vkti_inspect_model(vkti_ctx *ctx, const char *path, const char *tokenizer_dir, vkti_model_report **out)
{
    *out = NULL;
    vkti_diag *d = &ctx->diag;
    vkti_model m;
    int rc = vkti_model_open(d, &m, path, tokenizer_dir);
    if (rc)
        return rc;
    report_impl *r = calloc(1, sizeof *r);
    if (!r) {
        vkti_model_close(&m);
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    }
    vkti_model_report *p = &r->pub;
    p->path = keep(r, "%s", path);
    p->family = vkti_sd_family_name(m.family);
    p->family_reason = keep(r, "%s", m.family_reason);
    p->layout = keep(r, "%s", vkti_model_layout_name(&m));
    for (int c = 0; c < VKTI_SD_COMPONENTS; c++) {
        const vkti_model_part *part = &m.parts[c];
        vkti_model_net_report *n = &p->nets[c];
        n->name = vkti_sd_component_name((vkti_sd_component)c);
        n->params = part->params;
        n->bytes = part->bytes;
        n->tensors = (int)part->table.count;
        n->dtypes = dtypes(r, part);
        n->files = keep(r, "%s", part->files);
        n->config = keep(r, "%s", part->config_source);
        p->total_params += part->params;
    }
    p->nets[0].summary = unet_summary(r, &m.unet);
    p->nets[1].summary = text_summary(r, &m.text_encoder);
    p->nets[2].summary = vae_summary(r, &m.vae);
    p->unused_tensors = (int)m.unused_tensors;
    p->prediction = m.scheduler.v_prediction ? "v_prediction" : "epsilon";
    p->scheduler_class = keep(r, "%s", m.scheduler.class_name);
    p->beta_schedule = keep(r, "%s", m.scheduler.beta_schedule);
    p->beta_start = m.scheduler.beta_start;
    p->beta_end = m.scheduler.beta_end;
    p->timesteps = m.scheduler.num_train_timesteps;
    p->scheduler_source = keep(r, "%s", m.scheduler_source);
    p->tokenizer_found = m.has_tokenizer;
    p->tokenizer = keep(r, "%s", m.has_tokenizer ? m.tokenizer.dir : m.tokenizer_error ? m.tokenizer_error : "");
    p->fingerprint = keep(r, "%s", m.fingerprint);
    r->notes = calloc((size_t)m.note_count + 1, sizeof *r->notes);
    if (!r->notes)
        r->oom = 1;
    for (int i = 0; r->notes && i < m.note_count; i++)
        r->notes[i] = keep(r, "%s", m.notes[i]);
    p->notes = r->notes;
    p->note_count = r->notes ? m.note_count : 0;
    vkti_model_close(&m);
    if (r->oom) {
        vkti_model_report_free(p);
        return vkti_fail(d, VKTI_E_OOM, "out of memory describing %s", path);
    }
    *out = p;
    return VKTI_OK;
}

void vkti_model_report_free(vkti_model_report *report)
{
    report_impl *r = (report_impl *)report;
    if (!r)
        return;
    for (int i = 0; i < r->count; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->notes);
    free(r);
}
