/* inspect_embedding.c — `vkti inspect EMBEDDING` in the library: read an embedding file in any
 * format and describe it (format, container, dtype, tokens, widths and family, per-vector L2
 * norms, metadata). See vkti/inspect.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctx_internal.h"
#include "io/embedding.h"
#include "vkti/inspect.h"

typedef struct report_impl {
    vkti_embedding_report pub; /* first: the public pointer is this one */
    vkti_embedding e;          /* owns the strings the report points at */
    char *path;
    char **tokens;
    double *norms[2];
    const char **keys, **values;
} report_impl;

void vkti_embedding_report_free(vkti_embedding_report *report)
{
    report_impl *r = (report_impl *)report;
    if (!r)
        return;
    for (int i = 0; r->tokens && i < r->pub.num_vectors; i++)
        free(r->tokens[i]);
    free(r->tokens);
    free(r->norms[0]);
    free(r->norms[1]);
    free(r->keys);
    free(r->values);
    free(r->path);
    vkti_embedding_free(&r->e);
    free(r);
}

int vkti_inspect_embedding(vkti_ctx *ctx, const char *path, vkti_embedding_report **report)
{
    vkti_diag *d = &ctx->diag;
    *report = NULL;
    report_impl *r = calloc(1, sizeof *r);
    if (!r)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    int rc = vkti_embedding_read(d, &r->e, path);
    if (rc) {
        free(r);
        return rc;
    }
    const vkti_embedding *e = &r->e;
    const int n = e->num_vectors;
    size_t path_len = strlen(path);
    r->path = malloc(path_len + 1);
    r->tokens = calloc((size_t)n, sizeof *r->tokens);
    r->keys = calloc(e->meta_count + 1, sizeof *r->keys);
    r->values = calloc(e->meta_count + 1, sizeof *r->values);
    int ok = r->path && r->tokens && r->keys && r->values;
    for (int i = 0; ok && i < n; i++) {
        char buf[VKTI_EMB_MAX_TOKEN + 16];
        vkti_embedding_vector_token(e, i, buf, sizeof buf);
        size_t len = strlen(buf);
        ok = (r->tokens[i] = malloc(len + 1)) != NULL;
        if (ok)
            memcpy(r->tokens[i], buf, len + 1);
    }
    for (int s = 0; ok && s < e->sets; s++) {
        ok = (r->norms[s] = malloc((size_t)n * sizeof(double))) != NULL;
        for (int i = 0; ok && i < n; i++) {
            const float *v = e->vec[s] + (size_t)i * (size_t)e->width[s];
            double sum = 0;
            for (int k = 0; k < e->width[s]; k++)
                sum += (double)v[k] * (double)v[k];
            r->norms[s][i] = sqrt(sum);
        }
    }
    if (!ok) {
        r->pub.num_vectors = n;
        vkti_embedding_report_free(&r->pub);
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    }
    memcpy(r->path, path, path_len + 1);
    for (size_t i = 0; i < e->meta_count; i++) {
        r->keys[i] = e->meta[i].key;
        r->values[i] = e->meta[i].value;
    }
    vkti_embedding_report *p = &r->pub;
    p->path = r->path;
    p->format = e->format;
    p->container = vkti_embedding_container_name(e->container);
    p->dtype = vkti_io_dtype_name(e->dtype);
    p->token = e->token;
    p->num_vectors = n;
    p->tokens = (const char *const *)r->tokens;
    p->sets = e->sets;
    p->set_names[0] = e->sets == 2 ? "clip_l" : NULL;
    p->set_names[1] = e->sets == 2 ? "clip_g" : NULL;
    p->width[0] = e->width[0];
    p->width[1] = e->sets == 2 ? e->width[1] : 0;
    p->family = vkti_embedding_family(e);
    p->norms[0] = r->norms[0];
    p->norms[1] = r->norms[1];
    p->has_step = e->has_step;
    p->step = e->step;
    p->sd_checkpoint = e->sd_checkpoint;
    p->sd_checkpoint_name = e->sd_checkpoint_name;
    p->meta_count = (int)e->meta_count;
    p->meta_keys = r->keys;
    p->meta_values = r->values;
    *report = p;
    return VKTI_OK;
}
