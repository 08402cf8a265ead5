/* blocks.c — ResNet block and spatial transformer, forward and input-gradient backward (see
 * blocks.h). Temporaries come from nn->tmp and are released when a block returns; what a
 * backward needs goes to nn->act when the caller passes a *_a struct (or, for the transformer, to
 * the arena the caller names: vkti_transformer_forward_keep). */
#include "model/blocks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/norm.h"

static const vkti_conv2d_params CONV3 = {3, 3, 1, 1, 1, 1, 1};
static const vkti_conv2d_params CONV1 = {1, 1, 1, 0, 0, 0, 0};

/* ---- ResNet block ----------------------------------------------------------------------- */

int vkti_resnet_load(vkti_nn *nn, vkti_resnet_w *w, int cin, int cout, int temb_dim, int groups, float eps,
                     const char *p)
{
    memset(w, 0, sizeof *w);
    w->cin = cin;
    w->cout = cout;
    w->temb_dim = temb_dim;
    w->groups = groups;
    w->eps = eps;
    w->has_sc = cin != cout;
    int rc;
    if ((rc = vkti_nn_weight(nn, &w->gn1_w, 0, VKTI_DIMS(cin), "%s.norm1.weight", p)) ||
        (rc = vkti_nn_weight(nn, &w->gn1_b, 0, VKTI_DIMS(cin), "%s.norm1.bias", p)) ||
        (rc = vkti_nn_weight(nn, &w->conv1_w, VKTI_NN_CONV, VKTI_DIMS(cout, cin, 3, 3), "%s.conv1.weight", p)) ||
        (rc = vkti_nn_weight(nn, &w->gn2_w, 0, VKTI_DIMS(cout), "%s.norm2.weight", p)) ||
        (rc = vkti_nn_weight(nn, &w->gn2_b, 0, VKTI_DIMS(cout), "%s.norm2.bias", p)) ||
        (rc = vkti_nn_weight(nn, &w->conv2_w, VKTI_NN_CONV, VKTI_DIMS(cout, cout, 3, 3), "%s.conv2.weight", p)) ||
        (rc = vkti_nn_weight(nn, &w->conv2_b, 0, VKTI_DIMS(cout), "%s.conv2.bias", p)))
        return rc;
    if (w->has_sc && ((rc = vkti_nn_weight(nn, &w->sc_w, VKTI_NN_CONV, VKTI_DIMS(cout, cin, 1, 1), "%s.conv_shortcut.weight", p)) ||
                      (rc = vkti_nn_weight(nn, &w->sc_b, 0, VKTI_DIMS(cout), "%s.conv_shortcut.bias", p))))
        return rc;
    if (!temb_dim)
        return vkti_nn_weight(nn, &w->conv1_b, 0, VKTI_DIMS(cout), "%s.conv1.bias", p);
    /* temb_b = time_emb_proj.bias + conv1.bias: conv1's per-sample bias in one linear */
    vkti_tensor cb, tb;
    if ((rc = vkti_nn_weight(nn, &w->temb_w, 0, VKTI_DIMS(cout, temb_dim), "%s.time_emb_proj.weight", p)) ||
        (rc = vkti_nn_weight(nn, &cb, VKTI_NN_KEEP_F32, VKTI_DIMS(cout), "%s.conv1.bias", p)) ||
        (rc = vkti_nn_weight(nn, &tb, VKTI_NN_KEEP_F32, VKTI_DIMS(cout), "%s.time_emb_proj.bias", p)))
        return rc;
    float *h = malloc(sizeof(float) * 2 * (size_t)cout);
    if (!h)
        return vkti_fail(nn->d, VKTI_E_OOM, "out of host memory");
    rc = vkti_tensor_download_f32(nn->g, &cb, h, cout);
    if (rc == VKTI_OK)
        rc = vkti_tensor_download_f32(nn->g, &tb, h + cout, cout);
    for (int i = 0; rc == VKTI_OK && i < cout; i++)
        h[i] += h[cout + i];
    if (rc == VKTI_OK)
        rc = vkti_arena_tensor(nn->weights, &w->temb_b, nn->dtype, VKTI_DIMS(cout));
    if (rc == VKTI_OK)
        rc = vkti_tensor_upload_f32(nn->g, &w->temb_b, h, cout);
    free(h);
    return rc;
}

/* f32 scratch for a group norm of x */
static int gn_scratch(vkti_nn *nn, vkti_tensor *s, const vkti_tensor *x, int groups)
{
    int64_t n = vkti_group_norm_scratch_numel(x, groups);
    if (n < 0)
        return vkti_fail(nn->d, VKTI_E_FORMAT, "%s: %lld channels do not split into %d groups", nn->what,
                         (long long)x->shape[x->ndim - 1], groups);
    return vkti_arena_tensor(nn->tmp, s, VKTI_F32, VKTI_DIMS(n > 0 ? n : 1));
}

int vkti_resnet_forward(vkti_cmd *c, vkti_nn *nn, const vkti_resnet_w *w, vkti_resnet_a *a, const vkti_tensor *out,
                        const vkti_tensor *x, const vkti_tensor *s_temb)
{
    const int64_t N = x->shape[0], H = x->shape[1], W = x->shape[2], G = w->groups;
    uint64_t mark = vkti_arena_mark(nn->tmp);
    vkti_arena *keep = a ? nn->act : nn->tmp;
    vkti_resnet_a t;
    vkti_tensor sc1, sc2, h0, tb, h2, r;
    int rc;
    t.x = *x;
    if ((rc = vkti_arena_tensor(keep, &t.mean1, VKTI_F32, VKTI_DIMS(N * G))) ||
        (rc = vkti_arena_tensor(keep, &t.rstd1, VKTI_F32, VKTI_DIMS(N * G))) ||
        (rc = vkti_arena_tensor(keep, &t.mean2, VKTI_F32, VKTI_DIMS(N * G))) ||
        (rc = vkti_arena_tensor(keep, &t.rstd2, VKTI_F32, VKTI_DIMS(N * G))) ||
        (rc = vkti_nn_alloc(nn, keep, &t.h1, VKTI_DIMS(N, H, W, w->cout))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &h0, VKTI_DIMS(N, H, W, w->cin))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &h2, VKTI_DIMS(N, H, W, w->cout))) || (rc = gn_scratch(nn, &sc1, x, (int)G)) ||
        (rc = gn_scratch(nn, &sc2, &t.h1, (int)G)))
        return rc;
    if ((rc = vkti_group_norm_forward(c, &h0, &t.mean1, &t.rstd1, &sc1, x, &w->gn1_w, &w->gn1_b, (int)G, w->eps, 1)))
        return rc;
    const vkti_tensor *bias = &w->conv1_b;
    if (w->temb_dim) {
        if (!s_temb)
            return vkti_fail(nn->d, VKTI_E_INTERNAL, "%s: a ResNet block with a time embedding got none", nn->what);
        if ((rc = vkti_nn_alloc(nn, nn->tmp, &tb, VKTI_DIMS(N, w->cout))) ||
            (rc = vkti_linear_forward(c, &tb, s_temb, &w->temb_w, &w->temb_b)))
            return rc;
        bias = &tb;
    }
    if ((rc = vkti_conv2d_forward(c, &t.h1, &h0, &w->conv1_w, bias, NULL, &CONV3)) ||
        (rc = vkti_group_norm_forward(c, &h2, &t.mean2, &t.rstd2, &sc2, &t.h1, &w->gn2_w, &w->gn2_b, (int)G, w->eps, 1)))
        return rc;
    const vkti_tensor *res = x;
    if (w->has_sc) {
        if ((rc = vkti_nn_alloc(nn, nn->tmp, &r, VKTI_DIMS(N, H, W, w->cout))) ||
            (rc = vkti_conv2d_forward(c, &r, x, &w->sc_w, &w->sc_b, NULL, &CONV1)))
            return rc;
        res = &r;
    }
    if ((rc = vkti_conv2d_forward(c, out, &h2, &w->conv2_w, &w->conv2_b, res, &CONV3)))
        return rc;
    if (a)
        *a = t;
    vkti_arena_release(nn->tmp, mark);
    return VKTI_OK;
}

int vkti_resnet_backward(vkti_cmd *c, vkti_nn *nn, const vkti_resnet_w *w, const vkti_resnet_a *a,
                         const vkti_tensor *dx, const vkti_tensor *dout, int accumulate)
{
    const int64_t N = dout->shape[0], H = dout->shape[1], W = dout->shape[2];
    uint64_t mark = vkti_arena_mark(nn->tmp);
    vkti_tensor dh2, dh1, da, sc1, sc2;
    int rc;
    if ((rc = vkti_nn_alloc(nn, nn->tmp, &dh2, VKTI_DIMS(N, H, W, w->cout))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dh1, VKTI_DIMS(N, H, W, w->cout))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &da, VKTI_DIMS(N, H, W, w->cin))) ||
        (rc = gn_scratch(nn, &sc1, &a->x, w->groups)) || (rc = gn_scratch(nn, &sc2, &a->h1, w->groups)))
        return rc;
    /* out = shortcut(x) + conv2(silu(gn2(h1))),  h1 = conv1(silu(gn1(x))) + bias */
    if ((rc = vkti_conv2d_backward(c, &dh2, dout, &w->conv2_w, &CONV3, 0)) ||
        (rc = vkti_group_norm_backward(c, &dh1, &sc2, &dh2, &a->h1, &w->gn2_w, &w->gn2_b, &a->mean2, &a->rstd2,
                                       w->groups, 1, 0)) ||
        (rc = vkti_conv2d_backward(c, &da, &dh1, &w->conv1_w, &CONV3, 0)) ||
        (rc = vkti_group_norm_backward(c, dx, &sc1, &da, &a->x, &w->gn1_w, &w->gn1_b, &a->mean1, &a->rstd1, w->groups,
                                       1, accumulate)))
        return rc;
    rc = w->has_sc ? vkti_conv2d_backward(c, dx, dout, &w->sc_w, &CONV1, 1) : vkti_add_forward(c, dx, dx, dout);
    vkti_arena_release(nn->tmp, mark);
    return rc;
}

/* ---- spatial transformer ------------------------------------------------------------------ */

int vkti_transformer_load(vkti_nn *nn, vkti_transformer_w *w, int C, int heads, int cross_dim, int depth, int groups,
                          int linear_proj, const char *p)
{
    memset(w, 0, sizeof *w);
    w->c = C;
    w->heads = heads;
    w->cross_dim = cross_dim;
    w->depth = depth;
    w->groups = groups;
    w->linear_proj = linear_proj;
    if (heads <= 0 || C % heads)
        return vkti_fail(nn->d, VKTI_E_FORMAT, "%s: %s has %d channels, which %d heads do not divide", nn->what, p, C,
                         heads);
    w->blk = calloc((size_t)depth, sizeof *w->blk);
    if (!w->blk)
        return vkti_fail(nn->d, VKTI_E_OOM, "out of host memory");
    const int64_t F = 4 * (int64_t)C;
    int rc;
    if ((rc = vkti_nn_weight(nn, &w->gn_w, 0, VKTI_DIMS(C), "%s.norm.weight", p)) ||
        (rc = vkti_nn_weight(nn, &w->gn_b, 0, VKTI_DIMS(C), "%s.norm.bias", p)) ||
        (rc = vkti_nn_weight(nn, &w->in_b, 0, VKTI_DIMS(C), "%s.proj_in.bias", p)) ||
        (rc = vkti_nn_weight(nn, &w->out_b, 0, VKTI_DIMS(C), "%s.proj_out.bias", p)))
        return rc;
    /* proj_in / proj_out: a Linear [C, C] (SD 2.x) or a 1x1 conv [C, C, 1, 1] (SD 1.x): the same
     * matrix either way on NHWC activations */
    if (linear_proj) {
        if ((rc = vkti_nn_weight(nn, &w->in_w, 0, VKTI_DIMS(C, C), "%s.proj_in.weight", p)) ||
            (rc = vkti_nn_weight(nn, &w->out_w, 0, VKTI_DIMS(C, C), "%s.proj_out.weight", p)))
            return rc;
    } else {
        if ((rc = vkti_nn_weight(nn, &w->in_w, 0, VKTI_DIMS(C, C, 1, 1), "%s.proj_in.weight", p)) ||
            (rc = vkti_nn_weight(nn, &w->out_w, 0, VKTI_DIMS(C, C, 1, 1), "%s.proj_out.weight", p)))
            return rc;
        w->in_w = vkti_nn_reshape(&w->in_w, VKTI_DIMS(C, C));
        w->out_w = vkti_nn_reshape(&w->out_w, VKTI_DIMS(C, C));
    }
    for (int b = 0; b < depth; b++) {
        vkti_tblock_w *k = &w->blk[b];
        const char *q = "transformer_blocks";
        if ((rc = vkti_nn_weight(nn, &k->ln1_w, 0, VKTI_DIMS(C), "%s.%s.%d.norm1.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ln1_b, 0, VKTI_DIMS(C), "%s.%s.%d.norm1.bias", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->q1, 0, VKTI_DIMS(C, C), "%s.%s.%d.attn1.to_q.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->k1, 0, VKTI_DIMS(C, C), "%s.%s.%d.attn1.to_k.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->v1, 0, VKTI_DIMS(C, C), "%s.%s.%d.attn1.to_v.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->o1_w, 0, VKTI_DIMS(C, C), "%s.%s.%d.attn1.to_out.0.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->o1_b, 0, VKTI_DIMS(C), "%s.%s.%d.attn1.to_out.0.bias", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ln2_w, 0, VKTI_DIMS(C), "%s.%s.%d.norm2.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ln2_b, 0, VKTI_DIMS(C), "%s.%s.%d.norm2.bias", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->q2, 0, VKTI_DIMS(C, C), "%s.%s.%d.attn2.to_q.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->k2, 0, VKTI_DIMS(C, cross_dim), "%s.%s.%d.attn2.to_k.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->v2, 0, VKTI_DIMS(C, cross_dim), "%s.%s.%d.attn2.to_v.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->o2_w, 0, VKTI_DIMS(C, C), "%s.%s.%d.attn2.to_out.0.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->o2_b, 0, VKTI_DIMS(C), "%s.%s.%d.attn2.to_out.0.bias", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ln3_w, 0, VKTI_DIMS(C), "%s.%s.%d.norm3.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ln3_b, 0, VKTI_DIMS(C), "%s.%s.%d.norm3.bias", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ff1_w, 0, VKTI_DIMS(2 * F, C), "%s.%s.%d.ff.net.0.proj.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ff1_b, 0, VKTI_DIMS(2 * F), "%s.%s.%d.ff.net.0.proj.bias", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ff2_w, 0, VKTI_DIMS(C, F), "%s.%s.%d.ff.net.2.weight", p, q, b)) ||
            (rc = vkti_nn_weight(nn, &k->ff2_b, 0, VKTI_DIMS(C), "%s.%s.%d.ff.net.2.bias", p, q, b)))
            return rc;
    }
    return VKTI_OK;
}

void vkti_transformer_free(vkti_transformer_w *w)
{
    free(w->blk);
    w->blk = NULL;
}

int vkti_transformer_forward(vkti_cmd *c, vkti_nn *nn, const vkti_transformer_w *w, vkti_transformer_a *a,
                             const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *cond)
{
    return vkti_transformer_forward_keep(c, nn, w, a, a ? nn->act : nn->tmp, out, x, cond);
}

int vkti_transformer_forward_keep(vkti_cmd *c, vkti_nn *nn, const vkti_transformer_w *w, vkti_transformer_a *a,
                                  vkti_arena *keep, const vkti_tensor *out, const vkti_tensor *x,
                                  const vkti_tensor *cond)
{
    const int64_t N = x->shape[0], C = w->c, P = vkti_tensor_numel(x) / (N * C), T = cond->shape[1], Hd = w->heads;
    const int64_t F = 4 * C;
    const float scale = 1.0f / sqrtf((float)(C / Hd));
    uint64_t mark = vkti_arena_mark(nn->tmp);
    vkti_tensor xs = vkti_nn_reshape(x, VKTI_DIMS(N, P, C)), os = vkti_nn_reshape(out, VKTI_DIMS(N, P, C));
    vkti_tensor mean, rstd, sc, h, s, o, g;
    int rc;
    if ((rc = vkti_arena_tensor(keep, &mean, VKTI_F32, VKTI_DIMS(N * w->groups))) ||
        (rc = vkti_arena_tensor(keep, &rstd, VKTI_F32, VKTI_DIMS(N * w->groups))) ||
        (rc = gn_scratch(nn, &sc, &xs, w->groups)) || (rc = vkti_nn_alloc(nn, nn->tmp, &h, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &o, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &g, VKTI_DIMS(N, P, F))) ||
        (rc = vkti_nn_alloc(nn, keep, &s, VKTI_DIMS(N, P, C))))
        return rc;
    if ((rc = vkti_group_norm_forward(c, &h, &mean, &rstd, &sc, &xs, &w->gn_w, &w->gn_b, w->groups, 1e-6f, 0)) ||
        (rc = vkti_linear_forward(c, &s, &h, &w->in_w, &w->in_b)))
        return rc;
    if (a) {
        a->x = xs;
        a->mean = mean;
        a->rstd = rstd;
    }
    for (int b = 0; b < w->depth; b++) {
        const vkti_tblock_w *k = &w->blk[b];
        vkti_tblock_a t;
        vkti_tensor s2, s3, s4;
        /* self-attention */
        t.h1 = s;
        if ((rc = vkti_arena_tensor(keep, &t.m1, VKTI_F32, VKTI_DIMS(N * P))) ||
            (rc = vkti_arena_tensor(keep, &t.r1, VKTI_F32, VKTI_DIMS(N * P))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.q1, VKTI_DIMS(N, P, C))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.k1, VKTI_DIMS(N, P, C))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.v1, VKTI_DIMS(N, P, C))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.a1, VKTI_DIMS(N, P, C))) ||
            (rc = vkti_arena_tensor(keep, &t.l1, VKTI_F32, VKTI_DIMS(N, Hd, P))) ||
            (rc = vkti_nn_alloc(nn, keep, &s2, VKTI_DIMS(N, P, C))))
            return rc;
        if ((rc = vkti_layer_norm_forward(c, &h, &t.m1, &t.r1, &s, &k->ln1_w, &k->ln1_b, 1e-5f)) ||
            (rc = vkti_linear_forward(c, &t.q1, &h, &k->q1, NULL)) || (rc = vkti_linear_forward(c, &t.k1, &h, &k->k1, NULL)) ||
            (rc = vkti_linear_forward(c, &t.v1, &h, &k->v1, NULL)) ||
            (rc = vkti_attention_forward(c, &t.a1, a ? &t.l1 : NULL, &t.q1, &t.k1, &t.v1, (int)Hd, scale, 0)) ||
            (rc = vkti_linear_forward(c, &o, &t.a1, &k->o1_w, &k->o1_b)) || (rc = vkti_add_forward(c, &s2, &s, &o)))
            return rc;
        /* cross-attention on the condition */
        t.h2 = s2;
        if ((rc = vkti_arena_tensor(keep, &t.m2, VKTI_F32, VKTI_DIMS(N * P))) ||
            (rc = vkti_arena_tensor(keep, &t.r2, VKTI_F32, VKTI_DIMS(N * P))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.q2, VKTI_DIMS(N, P, C))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.k2, VKTI_DIMS(N, T, C))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.v2, VKTI_DIMS(N, T, C))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.a2, VKTI_DIMS(N, P, C))) ||
            (rc = vkti_arena_tensor(keep, &t.l2, VKTI_F32, VKTI_DIMS(N, Hd, P))) ||
            (rc = vkti_nn_alloc(nn, keep, &s3, VKTI_DIMS(N, P, C))))
            return rc;
        if ((rc = vkti_layer_norm_forward(c, &h, &t.m2, &t.r2, &s2, &k->ln2_w, &k->ln2_b, 1e-5f)) ||
            (rc = vkti_linear_forward(c, &t.q2, &h, &k->q2, NULL)) || (rc = vkti_linear_forward(c, &t.k2, cond, &k->k2, NULL)) ||
            (rc = vkti_linear_forward(c, &t.v2, cond, &k->v2, NULL)) ||
            (rc = vkti_attention_forward(c, &t.a2, a ? &t.l2 : NULL, &t.q2, &t.k2, &t.v2, (int)Hd, scale, 0)) ||
            (rc = vkti_linear_forward(c, &o, &t.a2, &k->o2_w, &k->o2_b)) || (rc = vkti_add_forward(c, &s3, &s2, &o)))
            return rc;
        /* GEGLU feed-forward */
        t.h3 = s3;
        if ((rc = vkti_arena_tensor(keep, &t.m3, VKTI_F32, VKTI_DIMS(N * P))) ||
            (rc = vkti_arena_tensor(keep, &t.r3, VKTI_F32, VKTI_DIMS(N * P))) ||
            (rc = vkti_nn_alloc(nn, keep, &t.p, VKTI_DIMS(N, P, 2 * F))) ||
            (rc = vkti_nn_alloc(nn, keep, &s4, VKTI_DIMS(N, P, C))))
            return rc;
        if ((rc = vkti_layer_norm_forward(c, &h, &t.m3, &t.r3, &s3, &k->ln3_w, &k->ln3_b, 1e-5f)) ||
            (rc = vkti_linear_forward(c, &t.p, &h, &k->ff1_w, &k->ff1_b)) || (rc = vkti_geglu_forward(c, &g, &t.p)) ||
            (rc = vkti_linear_forward(c, &o, &g, &k->ff2_w, &k->ff2_b)) || (rc = vkti_add_forward(c, &s4, &s3, &o)))
            return rc;
        if (a)
            a->blk[b] = t;
        s = s4;
    }
    if ((rc = vkti_linear_forward(c, &o, &s, &w->out_w, &w->out_b)) || (rc = vkti_add_forward(c, &os, &o, &xs)))
        return rc;
    vkti_arena_release(nn->tmp, mark);
    return VKTI_OK;
}

int vkti_transformer_backward(vkti_cmd *c, vkti_nn *nn, const vkti_transformer_w *w, const vkti_transformer_a *a,
                              const vkti_tensor *dx, const vkti_tensor *d_cond, const vkti_tensor *dout,
                              const vkti_tensor *cond, int accumulate)
{
    const int64_t N = a->x.shape[0], C = w->c, P = a->x.shape[1], T = cond->shape[1], Hd = w->heads, F = 4 * C;
    const float scale = 1.0f / sqrtf((float)(C / Hd));
    uint64_t mark = vkti_arena_mark(nn->tmp);
    vkti_tensor dos = vkti_nn_reshape(dout, VKTI_DIMS(N, P, C));
    vkti_tensor ds, dn, dg, dp, da, dq, dk, dv, dkc, dvc, scr, gsc;
    int64_t n_self = 0, n_cross = 0;
    int rc;
    if ((rc = vkti_attention_backward_scratch(nn->g, N, P, P, (int)Hd, C / Hd, &n_self)) ||
        (rc = vkti_attention_backward_scratch(nn->g, N, P, T, (int)Hd, C / Hd, &n_cross)) ||
        (rc = vkti_arena_tensor(nn->tmp, &scr, VKTI_F32, VKTI_DIMS(n_self > n_cross ? n_self : n_cross))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &ds, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dn, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dg, VKTI_DIMS(N, P, F))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dp, VKTI_DIMS(N, P, 2 * F))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &da, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dq, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dk, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dv, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dkc, VKTI_DIMS(N, T, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &dvc, VKTI_DIMS(N, T, C))))
        return rc;
    /* out = proj_out(s_last) + x */
    if ((rc = vkti_linear_backward(c, &ds, &dos, &w->out_w, 0)))
        return rc;
    for (int b = w->depth - 1; b >= 0; b--) {
        const vkti_tblock_w *k = &w->blk[b];
        const vkti_tblock_a *t = &a->blk[b];
        /* s4 = s3 + ff2(geglu(ff1(ln3(s3)))) */
        if ((rc = vkti_linear_backward(c, &dg, &ds, &k->ff2_w, 0)) || (rc = vkti_geglu_backward(c, &dp, &dg, &t->p, 0)) ||
            (rc = vkti_linear_backward(c, &dn, &dp, &k->ff1_w, 0)) ||
            (rc = vkti_layer_norm_backward(c, &ds, &dn, &t->h3, &k->ln3_w, &t->m3, &t->r3, 1)))
            return rc;
        /* s3 = s2 + to_out(attn(to_q(ln2(s2)), to_k(cond), to_v(cond))) */
        if ((rc = vkti_linear_backward(c, &da, &ds, &k->o2_w, 0)) ||
            (rc = vkti_attention_backward(c, &dq, &dkc, &dvc, &scr, &da, &t->q2, &t->k2, &t->v2, &t->a2, &t->l2,
                                          (int)Hd, scale, 0)) ||
            (rc = vkti_linear_backward(c, d_cond, &dkc, &k->k2, 1)) ||
            (rc = vkti_linear_backward(c, d_cond, &dvc, &k->v2, 1)))
            return rc;
        if (!dx && b == 0) { /* nothing below this cross-attention leads to the condition */
            vkti_arena_release(nn->tmp, mark);
            return VKTI_OK;
        }
        if ((rc = vkti_linear_backward(c, &dn, &dq, &k->q2, 0)) ||
            (rc = vkti_layer_norm_backward(c, &ds, &dn, &t->h2, &k->ln2_w, &t->m2, &t->r2, 1)))
            return rc;
        /* s2 = s1 + to_out(attn(to_q(ln1(s1)), to_k(..), to_v(..))) */
        if ((rc = vkti_linear_backward(c, &da, &ds, &k->o1_w, 0)) ||
            (rc = vkti_attention_backward(c, &dq, &dk, &dv, &scr, &da, &t->q1, &t->k1, &t->v1, &t->a1, &t->l1, (int)Hd,
                                          scale, 0)) ||
            (rc = vkti_linear_backward(c, &dn, &dq, &k->q1, 0)) || (rc = vkti_linear_backward(c, &dn, &dk, &k->k1, 1)) ||
            (rc = vkti_linear_backward(c, &dn, &dv, &k->v1, 1)) ||
            (rc = vkti_layer_norm_backward(c, &ds, &dn, &t->h1, &k->ln1_w, &t->m1, &t->r1, 1)))
            return rc;
    }
    /* s1 = proj_in(gn(x)); out = ... + x */
    vkti_tensor dxs = vkti_nn_reshape(dx, VKTI_DIMS(N, P, C));
    if ((rc = gn_scratch(nn, &gsc, &a->x, w->groups)) || (rc = vkti_linear_backward(c, &dn, &ds, &w->in_w, 0)) ||
        (rc = vkti_group_norm_backward(c, &dxs, &gsc, &dn, &a->x, &w->gn_w, &w->gn_b, &a->mean, &a->rstd, w->groups, 0,
                                       accumulate)) ||
        (rc = vkti_add_forward(c, &dxs, &dxs, &dos)))
        return rc;
    vkti_arena_release(nn->tmp, mark);
    return VKTI_OK;
}
