/* unet.c — UNet2DConditionModel forward and input-gradient backward (see unet.h).
 *
 * Forward, as diffusers: temb = linear_2(silu(linear_1(sinusoid(t)))); h = conv_in(x), kept as
 * skip 0; each down block: (resnet [+ transformer]) x layers, each output kept as a skip, then a
 * stride-2 conv (a skip too) except in the last block; the mid block: resnet, transformer, resnet;
 * each up block: (concat(h, last skip) -> resnet [+ transformer]) x (layers + 1), then nearest 2x
 * + conv except in the last block; out = conv_out(silu(group_norm(h))).
 *
 * Backward: the same in reverse, from d(out). A skip's gradient is the sum of what its concat in
 * the up path sends and what the next op of the down path sends. It stops at the first
 * transformer of the down path, after its cross-attention: nothing below leads to the condition.
 *
 * Recompute mode (VKTI_UNET_RECOMPUTE): the forward runs each transformer with its kept state in
 * nn->tmp (released when it returns), so what survives is the transformer's input — kept anyway
 * as the output of the ResNet block before it — and its output. The backward runs that forward
 * again on the same input with the state in u->recompute, then the transformer's backward, then
 * releases u->recompute: one transformer's state at a time. The same dispatches on the same bits
 * give the same state, so the gradients are those of the keep-everything mode, bit for bit. */
#include "model/unet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/blocks.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/norm.h"
#include "ops/shape.h"

#define MAXB VKTI_UNET_MAX_BLOCKS
#define MAXL 8 /* layers per block, + 1 in the up path */

static const vkti_conv2d_params CONV3 = {3, 3, 1, 1, 1, 1, 1};
static const vkti_conv2d_params DOWN3 = {3, 3, 2, 1, 1, 1, 1};

typedef struct block {
    int nlayers, has_attn, has_resample;
    vkti_resnet_w res[MAXL];
    vkti_transformer_w attn[MAXL];
    vkti_tensor rs_w, rs_b; /* down: stride-2 conv; up: the conv after the 2x upsample */
    /* recording state */
    vkti_resnet_a res_a[MAXL];
    vkti_transformer_a attn_a[MAXL];
    int skip[MAXL + 1];     /* down: skip index of each layer's output and of the downsample; up: the popped skips */
    vkti_tensor up_in;      /* up: the input of the upsample (for its shape) */
} block;

struct vkti_unet {
    vkti_nn nn;
    vkti_unet_dims dims;
    vkti_tensor conv_in_w, conv_in_b, t1_w, t1_b, t2_w, t2_b, gn_w, gn_b, conv_out_w, conv_out_b;
    block down[MAXB], up[MAXB];
    vkti_resnet_w mid_res[2];
    vkti_transformer_w mid_attn;
    vkti_resnet_a mid_res_a[2];
    vkti_transformer_a mid_attn_a;
    /* recording state */
    vkti_tensor skips[MAXB * (MAXL + 1) + 1];
    int nskips;
    vkti_tensor cond, s_temb, last_h, gn_mean, gn_rstd;
    int trained;           /* the mode of the last forward */
    vkti_arena *recompute; /* VKTI_UNET_RECOMPUTE: one transformer's recomputed state in the backward */
    uint64_t act_bytes;
};

static int total_depth(const vkti_unet *u)
{
    int n = 0;
    for (int i = 0; i < u->dims.nblocks; i++)
        n += u->dims.depth[i];
    return n;
}

static int load(vkti_unet *u)
{
    vkti_nn *nn = &u->nn;
    const vkti_unet_dims *d = &u->dims;
    const int nb = d->nblocks, C0 = d->channels[0], Td = d->time_dim, G = d->groups;
    char p[128];
    int rc;
    if ((rc = vkti_nn_weight(nn, &u->conv_in_w, VKTI_NN_CONV, VKTI_DIMS(C0, d->in_channels, 3, 3), "conv_in.weight")) ||
        (rc = vkti_nn_weight(nn, &u->conv_in_b, 0, VKTI_DIMS(C0), "conv_in.bias")) ||
        (rc = vkti_nn_weight(nn, &u->t1_w, 0, VKTI_DIMS(Td, C0), "time_embedding.linear_1.weight")) ||
        (rc = vkti_nn_weight(nn, &u->t1_b, 0, VKTI_DIMS(Td), "time_embedding.linear_1.bias")) ||
        (rc = vkti_nn_weight(nn, &u->t2_w, 0, VKTI_DIMS(Td, Td), "time_embedding.linear_2.weight")) ||
        (rc = vkti_nn_weight(nn, &u->t2_b, 0, VKTI_DIMS(Td), "time_embedding.linear_2.bias")) ||
        (rc = vkti_nn_weight(nn, &u->gn_w, 0, VKTI_DIMS(C0), "conv_norm_out.weight")) ||
        (rc = vkti_nn_weight(nn, &u->gn_b, 0, VKTI_DIMS(C0), "conv_norm_out.bias")) ||
        (rc = vkti_nn_weight(nn, &u->conv_out_w, VKTI_NN_CONV, VKTI_DIMS(d->out_channels, C0, 3, 3), "conv_out.weight")) ||
        (rc = vkti_nn_weight(nn, &u->conv_out_b, 0, VKTI_DIMS(d->out_channels), "conv_out.bias")))
        return rc;
    int out_ch = C0;
    for (int i = 0; i < nb; i++) {
        block *b = &u->down[i];
        int in_ch = out_ch;
        out_ch = d->channels[i];
        const int L = d->layers[i];
        b->nlayers = L;
        b->has_attn = d->down_attn[i];
        b->has_resample = i < nb - 1;
        for (int j = 0; j < L; j++) {
            snprintf(p, sizeof p, "down_blocks.%d.resnets.%d", i, j);
            if ((rc = vkti_resnet_load(nn, &b->res[j], j == 0 ? in_ch : out_ch, out_ch, Td, G, d->eps, p)))
                return rc;
            snprintf(p, sizeof p, "down_blocks.%d.attentions.%d", i, j);
            if (b->has_attn && (rc = vkti_transformer_load(nn, &b->attn[j], out_ch, d->heads[i], d->cross_dim,
                                                             d->depth[i], G, d->linear_proj, p)))
                return rc;
        }
        if (b->has_resample &&
            ((rc = vkti_nn_weight(nn, &b->rs_w, VKTI_NN_CONV, VKTI_DIMS(out_ch, out_ch, 3, 3), "down_blocks.%d.downsamplers.0.conv.weight", i)) ||
             (rc = vkti_nn_weight(nn, &b->rs_b, 0, VKTI_DIMS(out_ch), "down_blocks.%d.downsamplers.0.conv.bias", i))))
            return rc;
    }
    const int Cl = d->channels[nb - 1];
    if ((rc = vkti_resnet_load(nn, &u->mid_res[0], Cl, Cl, Td, G, d->eps, "mid_block.resnets.0")) ||
        (rc = vkti_resnet_load(nn, &u->mid_res[1], Cl, Cl, Td, G, d->eps, "mid_block.resnets.1")))
        return rc;
    if (d->mid_attn && (rc = vkti_transformer_load(nn, &u->mid_attn, Cl, d->heads[nb - 1], d->cross_dim,
                                                     d->depth[nb - 1], G, d->linear_proj, "mid_block.attentions.0")))
        return rc;
    /* up blocks: diffusers' channel bookkeeping (UNet2DConditionModel.__init__) */
    out_ch = d->channels[nb - 1];
    for (int i = 0; i < nb; i++) {
        block *b = &u->up[i];
        int prev_out = out_ch;
        out_ch = d->channels[nb - 1 - i];
        int in_ch = d->channels[nb - 1 - (i + 1 < nb ? i + 1 : nb - 1)];
        const int L = d->layers[nb - 1 - i];
        b->nlayers = L + 1;
        b->has_attn = d->up_attn[i];
        b->has_resample = i < nb - 1;
        for (int j = 0; j <= L; j++) {
            int skip_ch = j == L ? in_ch : out_ch;
            int res_in = j == 0 ? prev_out : out_ch;
            snprintf(p, sizeof p, "up_blocks.%d.resnets.%d", i, j);
            if ((rc = vkti_resnet_load(nn, &b->res[j], res_in + skip_ch, out_ch, Td, G, d->eps, p)))
                return rc;
            snprintf(p, sizeof p, "up_blocks.%d.attentions.%d", i, j);
            if (b->has_attn && (rc = vkti_transformer_load(nn, &b->attn[j], out_ch, d->heads[nb - 1 - i],
                                                             d->cross_dim, d->depth[nb - 1 - i], G, d->linear_proj, p)))
                return rc;
        }
        if (b->has_resample &&
            ((rc = vkti_nn_weight(nn, &b->rs_w, VKTI_NN_CONV, VKTI_DIMS(out_ch, out_ch, 3, 3), "up_blocks.%d.upsamplers.0.conv.weight", i)) ||
             (rc = vkti_nn_weight(nn, &b->rs_b, 0, VKTI_DIMS(out_ch), "up_blocks.%d.upsamplers.0.conv.bias", i))))
            return rc;
    }
    return VKTI_OK;
}

static void free_attn_state(vkti_unet *u)
{
    for (int i = 0; i < MAXB; i++)
        for (int j = 0; j < MAXL; j++) {
            vkti_transformer_free(&u->down[i].attn[j]);
            vkti_transformer_free(&u->up[i].attn[j]);
            free(u->down[i].attn_a[j].blk);
            free(u->up[i].attn_a[j].blk);
        }
    vkti_transformer_free(&u->mid_attn);
    free(u->mid_attn_a.blk);
}

/* per-transformer arrays for the saved activations of its blocks */
static int alloc_attn_state(vkti_unet *u)
{
    for (int i = 0; i < u->dims.nblocks; i++)
        for (int j = 0; j < MAXL; j++) {
            block *bs[2] = {&u->down[i], &u->up[i]};
            for (int k = 0; k < 2; k++)
                if (bs[k]->has_attn && j < bs[k]->nlayers) {
                    bs[k]->attn_a[j].blk = calloc((size_t)bs[k]->attn[j].depth, sizeof(vkti_tblock_a));
                    if (!bs[k]->attn_a[j].blk)
                        return VKTI_E_OOM;
                }
        }
    if (u->dims.mid_attn && !(u->mid_attn_a.blk = calloc((size_t)u->mid_attn.depth, sizeof(vkti_tblock_a))))
        return VKTI_E_OOM;
    return VKTI_OK;
}

int vkti_unet_create(vkti_unet **out, vkti_gpu *g, const vkti_unet_dims *dims, const vkti_weight_source *src,
                     vkti_dtype dtype)
{
    *out = NULL;
    vkti_diag *d = vkti_gpu_diag(g);
    int layers_ok = dims->nblocks >= 1 && dims->nblocks <= MAXB;
    for (int i = 0; layers_ok && i < dims->nblocks; i++)
        layers_ok = dims->layers[i] >= 1 && dims->layers[i] + 1 <= MAXL;
    if (!layers_ok || dims->groups < 1 || dims->time_dim < 1 || dims->cross_dim < 1)
        return vkti_fail(d, VKTI_E_FORMAT, "unet: unsupported configuration (%d blocks; vkti supports 1..%d blocks of "
                         "1..%d layers)", dims->nblocks, MAXB, MAXL - 1);
    vkti_unet *u = calloc(1, sizeof *u);
    if (!u)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    u->dims = *dims;
    int rc = vkti_nn_init(&u->nn, g, dtype, src, "unet");
    if (rc == VKTI_OK)
        rc = vkti_arena_create(g, "recomputed activations", 0, &u->recompute);
    if (rc == VKTI_OK)
        rc = load(u);
    if (rc == VKTI_OK && alloc_attn_state(u))
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
    if (rc) {
        vkti_unet_free(u);
        return rc;
    }
    (void)total_depth;
    *out = u;
    return VKTI_OK;
}

void vkti_unet_free(vkti_unet *u)
{
    if (!u)
        return;
    free_attn_state(u);
    vkti_arena_free(u->recompute);
    vkti_nn_free(&u->nn);
    free(u);
}

uint64_t vkti_unet_params(const vkti_unet *u) { return u->nn.params; }
uint64_t vkti_unet_activation_bytes(const vkti_unet *u) { return u->act_bytes; }

static uint64_t act_peak(const vkti_unet *u)
{
    return vkti_arena_peak(u->nn.act) + vkti_arena_peak(u->nn.tmp) + vkti_arena_peak(u->recompute);
}

int vkti_unet_trim(vkti_unet *u)
{
    vkti_nn *nn = &u->nn;
    int rc = vkti_gpu_wait_idle(nn->g);
    if (rc)
        return rc;
    vkti_arena_free(nn->act);
    vkti_arena_free(nn->tmp);
    vkti_arena_free(u->recompute);
    nn->act = nn->tmp = u->recompute = NULL;
    u->trained = VKTI_UNET_INFER;
    if ((rc = vkti_arena_create(nn->g, "activations", 0, &nn->act)) ||
        (rc = vkti_arena_create(nn->g, "temporaries", 0, &nn->tmp)) ||
        (rc = vkti_arena_create(nn->g, "recomputed activations", 0, &u->recompute)))
        return rc;
    return VKTI_OK;
}

/* A transformer's forward in the given mode (see the top of the file). */
static int attn_forward(vkti_cmd *c, vkti_unet *u, int mode, const vkti_transformer_w *w, vkti_transformer_a *a,
                        const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *cond)
{
    vkti_nn *nn = &u->nn;
    if (mode == VKTI_UNET_INFER)
        return vkti_transformer_forward(c, nn, w, NULL, out, x, cond);
    return vkti_transformer_forward_keep(c, nn, w, a, mode == VKTI_UNET_RECOMPUTE ? nn->tmp : nn->act, out, x, cond);
}

/* A transformer's backward; in recompute mode its forward first, from its kept input a->x. */
static int attn_backward(vkti_cmd *c, vkti_unet *u, const vkti_transformer_w *w, vkti_transformer_a *a,
                         const vkti_tensor *dx, const vkti_tensor *d_cond, const vkti_tensor *dout)
{
    vkti_nn *nn = &u->nn;
    if (u->trained != VKTI_UNET_RECOMPUTE)
        return vkti_transformer_backward(c, nn, w, a, dx, d_cond, dout, &u->cond, 0);
    uint64_t mark = vkti_arena_mark(u->recompute);
    const vkti_tensor x = a->x;
    vkti_tensor out;
    int rc;
    if ((rc = vkti_nn_alloc(nn, u->recompute, &out, x.ndim, x.shape)) ||
        (rc = vkti_transformer_forward_keep(c, nn, w, a, u->recompute, &out, &x, &u->cond)) ||
        (rc = vkti_transformer_backward(c, nn, w, a, dx, d_cond, dout, &u->cond, 0)))
        return rc;
    vkti_arena_release(u->recompute, mark);
    return VKTI_OK;
}

/* a new activation tensor: kept (act) when training, else temporary */
static int act_tensor(vkti_unet *u, int train, vkti_tensor *t, int64_t N, int64_t H, int64_t W, int64_t C)
{
    return vkti_nn_alloc(&u->nn, train ? u->nn.act : u->nn.tmp, t, VKTI_DIMS(N, H, W, C));
}

static int push_skip(vkti_unet *u, const vkti_tensor *t)
{
    if (u->nskips == (int)(sizeof u->skips / sizeof u->skips[0]))
        return vkti_fail(u->nn.d, VKTI_E_INTERNAL, "unet: too many skip connections");
    u->skips[u->nskips] = *t;
    return u->nskips++;
}

int vkti_unet_forward(vkti_cmd *c, vkti_unet *u, const vkti_tensor *out, const vkti_tensor *sample,
                      const vkti_tensor *timesteps, const vkti_tensor *cond, int train)
{
    vkti_nn *nn = &u->nn;
    const vkti_unet_dims *d = &u->dims;
    const int nb = d->nblocks, C0 = d->channels[0];
    const int64_t N = sample->shape[0];
    int64_t H = sample->shape[1], W = sample->shape[2];
    const int64_t f = (int64_t)1 << (nb - 1);
    if (train < VKTI_UNET_INFER || train > VKTI_UNET_RECOMPUTE)
        return vkti_fail(nn->d, VKTI_E_INTERNAL, "unet: forward mode %d is not 0, 1 or 2", train);
    if (sample->ndim != 4 || sample->shape[3] != d->in_channels || H % f || W % f)
        return vkti_fail(nn->d, VKTI_E_INVALID, "unet: the latent must be [N, h, w, %d] with h and w multiples of %lld "
                         "(images in multiples of %lld pixels)", d->in_channels, (long long)f, (long long)(8 * f));
    vkti_arena_release(nn->act, 0);
    vkti_arena_release(nn->tmp, 0);
    vkti_arena_release(u->recompute, 0);
    vkti_arena_reset_peak(nn->act);
    vkti_arena_reset_peak(nn->tmp);
    vkti_arena_reset_peak(u->recompute);
    u->trained = 0;
    u->nskips = 0;
    u->cond = *cond;
    vkti_tensor temb0, temb1, temb, h, nh;
    vkti_temb_params tp = {.flip_sin_to_cos = d->flip_sin_to_cos, .shift = d->freq_shift,
                           .max_period = 10000.0f, .scale = 1.0f};
    int rc;
    /* time embedding (its gradient is never needed: the timestep is not learned) */
    if ((rc = vkti_nn_alloc(nn, nn->act, &temb0, VKTI_DIMS(N, C0))) ||
        (rc = vkti_nn_alloc(nn, nn->act, &temb1, VKTI_DIMS(N, d->time_dim))) ||
        (rc = vkti_nn_alloc(nn, nn->act, &temb, VKTI_DIMS(N, d->time_dim))) ||
        (rc = vkti_nn_alloc(nn, nn->act, &u->s_temb, VKTI_DIMS(N, d->time_dim))) ||
        (rc = vkti_timestep_embed_forward(c, &temb0, timesteps, &tp)) ||
        (rc = vkti_linear_forward(c, &temb1, &temb0, &u->t1_w, &u->t1_b)) || (rc = vkti_silu_forward(c, &temb1, &temb1)) ||
        (rc = vkti_linear_forward(c, &temb, &temb1, &u->t2_w, &u->t2_b)) || (rc = vkti_silu_forward(c, &u->s_temb, &temb)))
        return rc;
    /* skips are read by the up path: always kept */
    if ((rc = vkti_nn_alloc(nn, nn->act, &h, VKTI_DIMS(N, H, W, C0))) ||
        (rc = vkti_conv2d_forward(c, &h, sample, &u->conv_in_w, &u->conv_in_b, NULL, &CONV3)))
        return rc;
    if ((rc = push_skip(u, &h)) < 0)
        return rc;
    for (int i = 0; i < nb; i++) {
        block *b = &u->down[i];
        for (int j = 0; j < b->nlayers; j++) {
            int C = b->res[j].cout;
            if ((rc = vkti_nn_alloc(nn, nn->act, &nh, VKTI_DIMS(N, H, W, C))) ||
                (rc = vkti_resnet_forward(c, nn, &b->res[j], train ? &b->res_a[j] : NULL, &nh, &h, &u->s_temb)))
                return rc;
            h = nh;
            if (b->has_attn) {
                if ((rc = vkti_nn_alloc(nn, nn->act, &nh, VKTI_DIMS(N, H, W, C))) ||
                    (rc = attn_forward(c, u, train, &b->attn[j], &b->attn_a[j], &nh, &h, cond)))
                    return rc;
                h = nh;
            }
            if ((rc = push_skip(u, &h)) < 0)
                return rc;
            b->skip[j] = rc;
        }
        if (b->has_resample) {
            int C = (int)h.shape[3];
            H /= 2;
            W /= 2;
            if ((rc = vkti_nn_alloc(nn, nn->act, &nh, VKTI_DIMS(N, H, W, C))) ||
                (rc = vkti_conv2d_forward(c, &nh, &h, &b->rs_w, &b->rs_b, NULL, &DOWN3)))
                return rc;
            h = nh;
            if ((rc = push_skip(u, &h)) < 0)
                return rc;
            b->skip[b->nlayers] = rc;
        }
    }
    /* mid block */
    {
        int C = (int)h.shape[3];
        if ((rc = act_tensor(u, train, &nh, N, H, W, C)) ||
            (rc = vkti_resnet_forward(c, nn, &u->mid_res[0], train ? &u->mid_res_a[0] : NULL, &nh, &h, &u->s_temb)))
            return rc;
        h = nh;
        if (d->mid_attn) {
            if ((rc = act_tensor(u, train, &nh, N, H, W, C)) ||
                (rc = attn_forward(c, u, train, &u->mid_attn, &u->mid_attn_a, &nh, &h, cond)))
                return rc;
            h = nh;
        }
        if ((rc = act_tensor(u, train, &nh, N, H, W, C)) ||
            (rc = vkti_resnet_forward(c, nn, &u->mid_res[1], train ? &u->mid_res_a[1] : NULL, &nh, &h, &u->s_temb)))
            return rc;
        h = nh;
    }
    /* up blocks */
    int top = u->nskips;
    for (int i = 0; i < nb; i++) {
        block *b = &u->up[i];
        for (int j = 0; j < b->nlayers; j++) {
            const vkti_tensor *s = &u->skips[--top];
            b->skip[j] = top;
            int Ch = (int)h.shape[3], Cs = (int)s->shape[3], C = b->res[j].cout;
            vkti_tensor cat;
            if ((rc = act_tensor(u, train, &cat, N, H, W, Ch + Cs)) || (rc = vkti_concat_forward(c, &cat, &h, s)) ||
                (rc = act_tensor(u, train, &nh, N, H, W, C)) ||
                (rc = vkti_resnet_forward(c, nn, &b->res[j], train ? &b->res_a[j] : NULL, &nh, &cat, &u->s_temb)))
                return rc;
            h = nh;
            if (b->has_attn) {
                if ((rc = act_tensor(u, train, &nh, N, H, W, C)) ||
                    (rc = attn_forward(c, u, train, &b->attn[j], &b->attn_a[j], &nh, &h, cond)))
                    return rc;
                h = nh;
            }
        }
        if (b->has_resample) {
            int C = (int)h.shape[3];
            vkti_tensor up;
            b->up_in = h;
            H *= 2;
            W *= 2;
            if ((rc = vkti_nn_alloc(nn, nn->tmp, &up, VKTI_DIMS(N, H, W, C))) || (rc = vkti_upsample2x_forward(c, &up, &h)) ||
                (rc = act_tensor(u, train, &nh, N, H, W, C)) ||
                (rc = vkti_conv2d_forward(c, &nh, &up, &b->rs_w, &b->rs_b, NULL, &CONV3)))
                return rc;
            h = nh;
        }
    }
    /* out = conv_out(silu(group_norm(h))) */
    vkti_tensor hn, sc;
    int64_t scn = vkti_group_norm_scratch_numel(&h, d->groups);
    u->last_h = h;
    if (scn < 0)
        return vkti_fail(nn->d, VKTI_E_FORMAT, "unet: %d channels do not split into %d groups", C0, d->groups);
    if ((rc = vkti_arena_tensor(nn->act, &u->gn_mean, VKTI_F32, VKTI_DIMS(N * d->groups))) ||
        (rc = vkti_arena_tensor(nn->act, &u->gn_rstd, VKTI_F32, VKTI_DIMS(N * d->groups))) ||
        (rc = vkti_arena_tensor(nn->tmp, &sc, VKTI_F32, VKTI_DIMS(scn > 0 ? scn : 1))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &hn, VKTI_DIMS(N, H, W, C0))) ||
        (rc = vkti_group_norm_forward(c, &hn, &u->gn_mean, &u->gn_rstd, &sc, &h, &u->gn_w, &u->gn_b, d->groups, d->eps, 1)) ||
        (rc = vkti_conv2d_forward(c, out, &hn, &u->conv_out_w, &u->conv_out_b, NULL, &CONV3)))
        return rc;
    u->trained = train;
    u->act_bytes = act_peak(u);
    return VKTI_OK;
}

/* g += d_skip[k] when that skip received a gradient from the up path */
static int add_skip_grad(vkti_cmd *c, const vkti_tensor *g, const vkti_tensor *dskip)
{
    return vkti_add_forward(c, g, g, dskip);
}

int vkti_unet_backward(vkti_cmd *c, vkti_unet *u, const vkti_tensor *d_cond, const vkti_tensor *d_out)
{
    vkti_nn *nn = &u->nn;
    const vkti_unet_dims *d = &u->dims;
    const int nb = d->nblocks;
    if (!u->trained)
        return vkti_fail(nn->d, VKTI_E_INTERNAL, "unet: backward without a training forward");
    const int64_t N = d_out->shape[0];
    int64_t H = u->last_h.shape[1], W = u->last_h.shape[2];
    vkti_tensor dskip[MAXB * (MAXL + 1) + 1];
    vkti_tensor g, ng, t, sc;
    int rc;
    /* the skips' gradients from the up path, and the condition's gradient, start at zero */
    for (int k = 0; k < u->nskips; k++)
        if ((rc = vkti_nn_alloc(nn, nn->act, &dskip[k], u->skips[k].ndim, u->skips[k].shape)))
            return rc;
    if ((rc = vkti_cmd_fill(c, d_cond, 0)))
        return rc;
    /* out = conv_out(silu(gn(h))) */
    int64_t scn = vkti_group_norm_scratch_numel(&u->last_h, d->groups);
    if ((rc = vkti_nn_alloc(nn, nn->act, &t, u->last_h.ndim, u->last_h.shape)) ||
        (rc = vkti_nn_alloc(nn, nn->act, &g, u->last_h.ndim, u->last_h.shape)) ||
        (rc = vkti_arena_tensor(nn->tmp, &sc, VKTI_F32, VKTI_DIMS(scn > 0 ? scn : 1))) ||
        (rc = vkti_conv2d_backward(c, &t, d_out, &u->conv_out_w, &CONV3, 0)) ||
        (rc = vkti_group_norm_backward(c, &g, &sc, &t, &u->last_h, &u->gn_w, &u->gn_b, &u->gn_mean, &u->gn_rstd,
                                       d->groups, 1, 0)))
        return rc;
    /* up blocks, last to first */
    for (int i = nb - 1; i >= 0; i--) {
        block *b = &u->up[i];
        if (b->has_resample) {
            vkti_tensor du;
            H /= 2;
            W /= 2;
            if ((rc = vkti_nn_alloc(nn, nn->tmp, &du, g.ndim, g.shape)) ||
                (rc = vkti_conv2d_backward(c, &du, &g, &b->rs_w, &CONV3, 0)) ||
                (rc = vkti_nn_alloc(nn, nn->act, &ng, b->up_in.ndim, b->up_in.shape)) ||
                (rc = vkti_upsample2x_backward(c, &ng, &du)))
                return rc;
            g = ng;
        }
        for (int j = b->nlayers - 1; j >= 0; j--) {
            if (b->has_attn) {
                if ((rc = vkti_nn_alloc(nn, nn->act, &ng, g.ndim, g.shape)) ||
                    (rc = attn_backward(c, u, &b->attn[j], &b->attn_a[j], &ng, d_cond, &g)))
                    return rc;
                g = ng;
            }
            const vkti_tensor *cat = &b->res_a[j].x;
            vkti_tensor dcat, dh;
            if ((rc = vkti_nn_alloc(nn, nn->act, &dcat, cat->ndim, cat->shape)) ||
                (rc = vkti_resnet_backward(c, nn, &b->res[j], &b->res_a[j], &dcat, &g, 0)))
                return rc;
            int64_t Ch = cat->shape[3] - u->skips[b->skip[j]].shape[3];
            if ((rc = vkti_nn_alloc(nn, nn->act, &dh, VKTI_DIMS(N, H, W, Ch))) ||
                (rc = vkti_concat_backward(c, &dh, &dskip[b->skip[j]], &dcat, 0, 0)))
                return rc;
            g = dh;
        }
    }
    /* mid block */
    if ((rc = vkti_nn_alloc(nn, nn->act, &ng, g.ndim, g.shape)) ||
        (rc = vkti_resnet_backward(c, nn, &u->mid_res[1], &u->mid_res_a[1], &ng, &g, 0)))
        return rc;
    g = ng;
    if (d->mid_attn) {
        if ((rc = vkti_nn_alloc(nn, nn->act, &ng, g.ndim, g.shape)) ||
            (rc = attn_backward(c, u, &u->mid_attn, &u->mid_attn_a, &ng, d_cond, &g)))
            return rc;
        g = ng;
    }
    if ((rc = vkti_nn_alloc(nn, nn->act, &ng, g.ndim, g.shape)) ||
        (rc = vkti_resnet_backward(c, nn, &u->mid_res[0], &u->mid_res_a[0], &ng, &g, 0)))
        return rc;
    g = ng;
    /* the first transformer of the down path (the last one the backward must reach) */
    int first_i = -1;
    for (int i = 0; i < nb && first_i < 0; i++)
        if (u->down[i].has_attn)
            first_i = i;
    /* down blocks, last to first: g is the gradient of the last op's output, a skip */
    for (int i = nb - 1; i >= 0; i--) {
        block *b = &u->down[i];
        if (b->has_resample) {
            if ((rc = add_skip_grad(c, &g, &dskip[b->skip[b->nlayers]])))
                return rc;
            const vkti_tensor *in = &u->skips[b->skip[b->nlayers] - 1];
            if ((rc = vkti_nn_alloc(nn, nn->act, &ng, in->ndim, in->shape)) ||
                (rc = vkti_conv2d_backward(c, &ng, &g, &b->rs_w, &DOWN3, 0)))
                return rc;
            g = ng;
        }
        for (int j = b->nlayers - 1; j >= 0; j--) {
            if ((rc = add_skip_grad(c, &g, &dskip[b->skip[j]])))
                return rc;
            if (b->has_attn) {
                int last = i == first_i && j == 0;
                if ((rc = vkti_nn_alloc(nn, nn->act, &ng, g.ndim, g.shape)) ||
                    (rc = attn_backward(c, u, &b->attn[j], &b->attn_a[j], last ? NULL : &ng, d_cond, &g)))
                    return rc;
                if (last)
                    goto done;
                g = ng;
            }
            const vkti_tensor *in = &b->res_a[j].x;
            if ((rc = vkti_nn_alloc(nn, nn->act, &ng, in->ndim, in->shape)) ||
                (rc = vkti_resnet_backward(c, nn, &b->res[j], &b->res_a[j], &ng, &g, 0)))
                return rc;
            g = ng;
        }
    }
done:
    u->act_bytes = act_peak(u);
    return VKTI_OK;
}
