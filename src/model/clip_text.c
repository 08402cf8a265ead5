/* clip_text.c — the CLIP text encoder's forward and backward as recorded ops (see clip_text.h).
 * Per layer, with x the residual stream [B, T, D]:
 *     x2 = x  + out_proj(attention(q_proj(ln1(x)), k_proj(..), v_proj(..), causal))
 *     x3 = x2 + fc2(act(fc1(ln2(x2))))
 * and hidden = final_layer_norm(x_last). The backward runs the same in reverse; linear and
 * attention backwards need no saved activations but their inputs, which are kept in `act`. */
#include "model/clip_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/shape.h"

typedef struct layer_w {
    vkti_tensor ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
} layer_w;

/* what the forward keeps for the backward, per layer */
typedef struct layer_a {
    vkti_tensor x1, mean1, rstd1, q, k, v, a, lse, x2, mean2, rstd2, m;
} layer_a;

struct vkti_clip_text {
    vkti_nn nn;
    vkti_clip_text_dims dims;
    vkti_tensor tok, pos, lnf_w, lnf_b;
    layer_w *w;
    layer_a *a;
    vkti_tensor xf, meanf, rstdf, ids;
    int64_t batch, len;
    int trained; /* the last forward kept its activations */
};

static int load(vkti_clip_text *te)
{
    vkti_nn *nn = &te->nn;
    const vkti_clip_text_dims *d = &te->dims;
    int64_t D = d->width, F = d->mlp;
    int rc;
    if ((rc = vkti_nn_weight(nn, &te->tok, 0, VKTI_DIMS(d->vocab, D), "text_model.embeddings.token_embedding.weight")) ||
        (rc = vkti_nn_weight(nn, &te->pos, 0, VKTI_DIMS(d->positions, D), "text_model.embeddings.position_embedding.weight")) ||
        (rc = vkti_nn_weight(nn, &te->lnf_w, 0, VKTI_DIMS(D), "text_model.final_layer_norm.weight")) ||
        (rc = vkti_nn_weight(nn, &te->lnf_b, 0, VKTI_DIMS(D), "text_model.final_layer_norm.bias")))
        return rc;
    for (int l = 0; l < d->layers; l++) {
        layer_w *w = &te->w[l];
        const char *p = "text_model.encoder.layers";
        if ((rc = vkti_nn_weight(nn, &w->ln1_w, 0, VKTI_DIMS(D), "%s.%d.layer_norm1.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->ln1_b, 0, VKTI_DIMS(D), "%s.%d.layer_norm1.bias", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->q_w, 0, VKTI_DIMS(D, D), "%s.%d.self_attn.q_proj.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->q_b, 0, VKTI_DIMS(D), "%s.%d.self_attn.q_proj.bias", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->k_w, 0, VKTI_DIMS(D, D), "%s.%d.self_attn.k_proj.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->k_b, 0, VKTI_DIMS(D), "%s.%d.self_attn.k_proj.bias", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->v_w, 0, VKTI_DIMS(D, D), "%s.%d.self_attn.v_proj.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->v_b, 0, VKTI_DIMS(D), "%s.%d.self_attn.v_proj.bias", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->o_w, 0, VKTI_DIMS(D, D), "%s.%d.self_attn.out_proj.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->o_b, 0, VKTI_DIMS(D), "%s.%d.self_attn.out_proj.bias", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->ln2_w, 0, VKTI_DIMS(D), "%s.%d.layer_norm2.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->ln2_b, 0, VKTI_DIMS(D), "%s.%d.layer_norm2.bias", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->fc1_w, 0, VKTI_DIMS(F, D), "%s.%d.mlp.fc1.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->fc1_b, 0, VKTI_DIMS(F), "%s.%d.mlp.fc1.bias", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->fc2_w, 0, VKTI_DIMS(D, F), "%s.%d.mlp.fc2.weight", p, l)) ||
            (rc = vkti_nn_weight(nn, &w->fc2_b, 0, VKTI_DIMS(D), "%s.%d.mlp.fc2.bias", p, l)))
            return rc;
    }
    return VKTI_OK;
}

int vkti_clip_text_create(vkti_clip_text **out, vkti_gpu *g, const vkti_clip_text_dims *dims,
                          const vkti_weight_source *src, vkti_dtype dtype)
{
    *out = NULL;
    vkti_diag *d = vkti_gpu_diag(g);
    if (dims->width <= 0 || dims->heads <= 0 || dims->width % dims->heads || dims->layers <= 0 || dims->mlp <= 0 ||
        dims->positions <= 0 || dims->vocab <= 0)
        return vkti_fail(d, VKTI_E_FORMAT, "text encoder: inconsistent configuration (width %d, %d heads, %d layers)",
                         dims->width, dims->heads, dims->layers);
    vkti_clip_text *te = calloc(1, sizeof *te);
    if (!te)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    te->dims = *dims;
    te->w = calloc((size_t)dims->layers, sizeof *te->w);
    te->a = calloc((size_t)dims->layers, sizeof *te->a);
    int rc = !te->w || !te->a ? vkti_fail(d, VKTI_E_OOM, "out of host memory") : VKTI_OK;
    if (rc == VKTI_OK)
        rc = vkti_nn_init(&te->nn, g, dtype, src, "text encoder");
    if (rc == VKTI_OK)
        rc = load(te);
    if (rc) {
        vkti_clip_text_free(te);
        return rc;
    }
    *out = te;
    return VKTI_OK;
}

void vkti_clip_text_free(vkti_clip_text *te)
{
    if (!te)
        return;
    vkti_nn_free(&te->nn);
    free(te->w);
    free(te->a);
    free(te);
}

const vkti_clip_text_dims *vkti_clip_text_get_dims(const vkti_clip_text *te) { return &te->dims; }
uint64_t vkti_clip_text_params(const vkti_clip_text *te) { return te->nn.params; }
const vkti_tensor *vkti_clip_text_token_table(const vkti_clip_text *te) { return &te->tok; }

int vkti_clip_text_forward(vkti_cmd *c, vkti_clip_text *te, const vkti_tensor *hidden, const vkti_tensor *ids,
                           const vkti_tensor *extra, int train)
{
    vkti_nn *nn = &te->nn;
    const vkti_clip_text_dims *d = &te->dims;
    if (ids->ndim != 2 || ids->dtype != VKTI_I32 || ids->shape[1] > d->positions)
        return vkti_fail(nn->d, VKTI_E_INTERNAL, "text encoder: ids must be i32 [B, T <= %d]", d->positions);
    const int64_t B = ids->shape[0], T = ids->shape[1], D = d->width, F = d->mlp, H = d->heads;
    const float scale = 1.0f / sqrtf((float)(D / H));
    vkti_arena_release(nn->act, 0);
    vkti_arena_release(nn->tmp, 0);
    te->trained = 0;
    te->batch = B;
    te->len = T;
    te->ids = *ids;
    vkti_arena *keep = train ? nn->act : nn->tmp;
    vkti_tensor x, pos_t;
    int rc;
    if ((rc = vkti_nn_alloc(nn, nn->act, &x, VKTI_DIMS(B, T, D))) ||
        (rc = vkti_tensor_view(nn->g, &pos_t, &te->pos, 0, VKTI_DIMS(T, D))) ||
        (rc = vkti_embed_forward(c, &x, ids, &te->tok, extra)) || (rc = vkti_add_forward(c, &x, &x, &pos_t)))
        return rc;
    for (int l = 0; l < d->layers; l++) {
        const layer_w *w = &te->w[l];
        layer_a *a = &te->a[l];
        uint64_t mark = vkti_arena_mark(nn->tmp);
        vkti_tensor h, o, x2, x3, g;
        a->x1 = x;
        if ((rc = vkti_arena_tensor(keep, &a->mean1, VKTI_F32, VKTI_DIMS(B * T))) ||
            (rc = vkti_arena_tensor(keep, &a->rstd1, VKTI_F32, VKTI_DIMS(B * T))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &h, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, keep, &a->q, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, keep, &a->k, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, keep, &a->v, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, keep, &a->a, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_arena_tensor(keep, &a->lse, VKTI_F32, VKTI_DIMS(B, H, T))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &o, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, nn->act, &x2, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_arena_tensor(keep, &a->mean2, VKTI_F32, VKTI_DIMS(B * T))) ||
            (rc = vkti_arena_tensor(keep, &a->rstd2, VKTI_F32, VKTI_DIMS(B * T))) ||
            (rc = vkti_nn_alloc(nn, keep, &a->m, VKTI_DIMS(B, T, F))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &g, VKTI_DIMS(B, T, F))) ||
            (rc = vkti_nn_alloc(nn, nn->act, &x3, VKTI_DIMS(B, T, D))))
            return rc;
        if ((rc = vkti_layer_norm_forward(c, &h, &a->mean1, &a->rstd1, &x, &w->ln1_w, &w->ln1_b, d->eps)) ||
            (rc = vkti_linear_forward(c, &a->q, &h, &w->q_w, &w->q_b)) ||
            (rc = vkti_linear_forward(c, &a->k, &h, &w->k_w, &w->k_b)) ||
            (rc = vkti_linear_forward(c, &a->v, &h, &w->v_w, &w->v_b)) ||
            (rc = vkti_attention_forward(c, &a->a, train ? &a->lse : NULL, &a->q, &a->k, &a->v, (int)H, scale, 1)) ||
            (rc = vkti_linear_forward(c, &o, &a->a, &w->o_w, &w->o_b)) || (rc = vkti_add_forward(c, &x2, &x, &o)))
            return rc;
        a->x2 = x2;
        if ((rc = vkti_layer_norm_forward(c, &h, &a->mean2, &a->rstd2, &x2, &w->ln2_w, &w->ln2_b, d->eps)) ||
            (rc = vkti_linear_forward(c, &a->m, &h, &w->fc1_w, &w->fc1_b)) ||
            (rc = vkti_act_forward(c, &g, &a->m, d->act)) || (rc = vkti_linear_forward(c, &o, &g, &w->fc2_w, &w->fc2_b)) ||
            (rc = vkti_add_forward(c, &x3, &x2, &o)))
            return rc;
        x = x3;
        if (!train) /* the previous stream tensors are no longer read */
            vkti_arena_release(nn->tmp, mark);
    }
    te->xf = x;
    if ((rc = vkti_arena_tensor(keep, &te->meanf, VKTI_F32, VKTI_DIMS(B * T))) ||
        (rc = vkti_arena_tensor(keep, &te->rstdf, VKTI_F32, VKTI_DIMS(B * T))) ||
        (rc = vkti_layer_norm_forward(c, hidden, &te->meanf, &te->rstdf, &x, &te->lnf_w, &te->lnf_b, d->eps)))
        return rc;
    te->trained = train;
    return VKTI_OK;
}

int vkti_clip_text_backward(vkti_cmd *c, vkti_clip_text *te, const vkti_tensor *d_extra, const vkti_tensor *d_hidden,
                            int accumulate)
{
    vkti_nn *nn = &te->nn;
    const vkti_clip_text_dims *d = &te->dims;
    if (!te->trained)
        return vkti_fail(nn->d, VKTI_E_INTERNAL, "text encoder: backward without a training forward");
    const int64_t B = te->batch, T = te->len, D = d->width, F = d->mlp, H = d->heads;
    const float scale = 1.0f / sqrtf((float)(D / H));
    int64_t scratch_n = 0;
    vkti_tensor dx, scratch;
    int rc;
    if ((rc = vkti_attention_backward_scratch(nn->g, B, T, T, (int)H, D / H, &scratch_n)) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dx, VKTI_DIMS(B, T, D))) ||
        (rc = vkti_arena_tensor(nn->tmp, &scratch, VKTI_F32, VKTI_DIMS(scratch_n))) ||
        (rc = vkti_layer_norm_backward(c, &dx, d_hidden, &te->xf, &te->lnf_w, &te->meanf, &te->rstdf, 0)))
        return rc;
    for (int l = d->layers - 1; l >= 0; l--) {
        const layer_w *w = &te->w[l];
        const layer_a *a = &te->a[l];
        uint64_t mark = vkti_arena_mark(nn->tmp);
        vkti_tensor dg, dm, dh, da, dq, dk, dv;
        if ((rc = vkti_nn_alloc(nn, nn->tmp, &dg, VKTI_DIMS(B, T, F))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &dm, VKTI_DIMS(B, T, F))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &dh, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &da, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &dq, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &dk, VKTI_DIMS(B, T, D))) ||
            (rc = vkti_nn_alloc(nn, nn->tmp, &dv, VKTI_DIMS(B, T, D))))
            return rc;
        /* MLP: x3 = x2 + fc2(act(fc1(ln2(x2)))) */
        if ((rc = vkti_linear_backward(c, &dg, &dx, &w->fc2_w, 0)) ||
            (rc = vkti_act_backward(c, &dm, &dg, &a->m, d->act, 0)) ||
            (rc = vkti_linear_backward(c, &dh, &dm, &w->fc1_w, 0)) ||
            (rc = vkti_layer_norm_backward(c, &dx, &dh, &a->x2, &w->ln2_w, &a->mean2, &a->rstd2, 1)))
            return rc;
        /* attention: x2 = x1 + out_proj(attn(ln1(x1))) */
        if ((rc = vkti_linear_backward(c, &da, &dx, &w->o_w, 0)) ||
            (rc = vkti_attention_backward(c, &dq, &dk, &dv, &scratch, &da, &a->q, &a->k, &a->v, &a->a, &a->lse, (int)H,
                                          scale, 1)) ||
            (rc = vkti_linear_backward(c, &dh, &dq, &w->q_w, 0)) || (rc = vkti_linear_backward(c, &dh, &dk, &w->k_w, 1)) ||
            (rc = vkti_linear_backward(c, &dh, &dv, &w->v_w, 1)) ||
            (rc = vkti_layer_norm_backward(c, &dx, &dh, &a->x1, &w->ln1_w, &a->mean1, &a->rstd1, 1)))
            return rc;
        vkti_arena_release(nn->tmp, mark);
    }
    /* x0 = token_embedding(ids) + position_embedding: the learned rows' share of dx */
    return vkti_embed_backward(c, d_extra, &te->ids, &dx, d->vocab, accumulate);
}
