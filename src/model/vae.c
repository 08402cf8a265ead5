/* vae.c — AutoencoderKL encoder and decoder, forward only (see vae.h).
 * Encoder: conv_in; per block L resnets, then (but in the last block) a stride-2 conv on the
 * input padded by (0, 1, 0, 1); mid: resnet, attention, resnet; GN + SiLU; conv_out to 2 * latent
 * channels; quant_conv (1x1); mean and log-variance are the two halves of the channels.
 * Decoder: post_quant_conv (1x1); conv_in; mid; per block L + 1 resnets, then (but in the last
 * block) nearest 2x + conv; GN + SiLU; conv_out.
 * The mid-block attention has one head as wide as the channels (512 in SD): beyond the flash
 * kernel's head size, so it runs as Q Kᵀ, a row softmax and P V, chunked by query rows so that
 * the score matrix stays within one binding. */
#include "model/vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/blocks.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/reduce.h"
#include "ops/shape.h"

#define MAXB VKTI_VAE_MAX_BLOCKS
#define MAXL 8

static const vkti_conv2d_params CONV3 = {3, 3, 1, 1, 1, 1, 1};
static const vkti_conv2d_params CONV1 = {1, 1, 1, 0, 0, 0, 0};
static const vkti_conv2d_params DOWN3 = {3, 3, 2, 0, 1, 0, 1}; /* F.pad (0, 1, 0, 1), then stride 2 */

typedef struct attn_w {
    int c;
    vkti_tensor gn_w, gn_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
} attn_w;

typedef struct half {
    vkti_nn nn;
    int loaded;
    vkti_tensor conv_in_w, conv_in_b, gn_w, gn_b, conv_out_w, conv_out_b, quant_w, quant_b;
    vkti_resnet_w res[MAXB][MAXL];
    vkti_tensor rs_w[MAXB], rs_b[MAXB];
    vkti_resnet_w mid_res[2];
    attn_w mid_attn;
} half;

struct vkti_vae {
    vkti_gpu *g;
    vkti_vae_dims dims;
    half enc, dec;
};

static int load_attn(vkti_nn *nn, attn_w *a, int C, const char *p)
{
    a->c = C;
    int rc;
    if ((rc = vkti_nn_weight(nn, &a->gn_w, 0, VKTI_DIMS(C), "%s.group_norm.weight", p)) ||
        (rc = vkti_nn_weight(nn, &a->gn_b, 0, VKTI_DIMS(C), "%s.group_norm.bias", p)) ||
        (rc = vkti_nn_weight(nn, &a->q_w, 0, VKTI_DIMS(C, C), "%s.to_q.weight", p)) ||
        (rc = vkti_nn_weight(nn, &a->q_b, 0, VKTI_DIMS(C), "%s.to_q.bias", p)) ||
        (rc = vkti_nn_weight(nn, &a->k_w, 0, VKTI_DIMS(C, C), "%s.to_k.weight", p)) ||
        (rc = vkti_nn_weight(nn, &a->k_b, 0, VKTI_DIMS(C), "%s.to_k.bias", p)) ||
        (rc = vkti_nn_weight(nn, &a->v_w, 0, VKTI_DIMS(C, C), "%s.to_v.weight", p)) ||
        (rc = vkti_nn_weight(nn, &a->v_b, 0, VKTI_DIMS(C), "%s.to_v.bias", p)) ||
        (rc = vkti_nn_weight(nn, &a->o_w, 0, VKTI_DIMS(C, C), "%s.to_out.0.weight", p)) ||
        (rc = vkti_nn_weight(nn, &a->o_b, 0, VKTI_DIMS(C), "%s.to_out.0.bias", p)))
        return rc;
    return VKTI_OK;
}

static int load_mid(vkti_nn *nn, half *h, const vkti_vae_dims *d, const char *part)
{
    const int C = d->channels[d->nblocks - 1];
    char p[96];
    int rc;
    snprintf(p, sizeof p, "%s.mid_block.resnets.0", part);
    if ((rc = vkti_resnet_load(nn, &h->mid_res[0], C, C, 0, d->groups, d->eps, p)))
        return rc;
    snprintf(p, sizeof p, "%s.mid_block.resnets.1", part);
    if ((rc = vkti_resnet_load(nn, &h->mid_res[1], C, C, 0, d->groups, d->eps, p)))
        return rc;
    snprintf(p, sizeof p, "%s.mid_block.attentions.0", part);
    return d->mid_attn ? load_attn(nn, &h->mid_attn, C, p) : VKTI_OK;
}

static int load_encoder(vkti_vae *v)
{
    const vkti_vae_dims *d = &v->dims;
    vkti_nn *nn = &v->enc.nn;
    half *h = &v->enc;
    const int C0 = d->channels[0], L = d->layers_per_block, Cl = d->channels[d->nblocks - 1], Z = 2 * d->latent;
    char p[96];
    int rc;
    if ((rc = vkti_nn_weight(nn, &h->conv_in_w, VKTI_NN_CONV, VKTI_DIMS(C0, d->in_channels, 3, 3), "encoder.conv_in.weight")) ||
        (rc = vkti_nn_weight(nn, &h->conv_in_b, 0, VKTI_DIMS(C0), "encoder.conv_in.bias")))
        return rc;
    int out_ch = C0;
    for (int i = 0; i < d->nblocks; i++) {
        int in_ch = out_ch;
        out_ch = d->channels[i];
        for (int j = 0; j < L; j++) {
            snprintf(p, sizeof p, "encoder.down_blocks.%d.resnets.%d", i, j);
            if ((rc = vkti_resnet_load(nn, &h->res[i][j], j ? out_ch : in_ch, out_ch, 0, d->groups, d->eps, p)))
                return rc;
        }
        if (i < d->nblocks - 1 &&
            ((rc = vkti_nn_weight(nn, &h->rs_w[i], VKTI_NN_CONV, VKTI_DIMS(out_ch, out_ch, 3, 3), "encoder.down_blocks.%d.downsamplers.0.conv.weight", i)) ||
             (rc = vkti_nn_weight(nn, &h->rs_b[i], 0, VKTI_DIMS(out_ch), "encoder.down_blocks.%d.downsamplers.0.conv.bias", i))))
            return rc;
    }
    if ((rc = load_mid(nn, h, d, "encoder")) ||
        (rc = vkti_nn_weight(nn, &h->gn_w, 0, VKTI_DIMS(Cl), "encoder.conv_norm_out.weight")) ||
        (rc = vkti_nn_weight(nn, &h->gn_b, 0, VKTI_DIMS(Cl), "encoder.conv_norm_out.bias")) ||
        (rc = vkti_nn_weight(nn, &h->conv_out_w, VKTI_NN_CONV, VKTI_DIMS(Z, Cl, 3, 3), "encoder.conv_out.weight")) ||
        (rc = vkti_nn_weight(nn, &h->conv_out_b, 0, VKTI_DIMS(Z), "encoder.conv_out.bias")))
        return rc;
    if (d->use_quant_conv &&
        ((rc = vkti_nn_weight(nn, &h->quant_w, VKTI_NN_CONV, VKTI_DIMS(Z, Z, 1, 1), "quant_conv.weight")) ||
         (rc = vkti_nn_weight(nn, &h->quant_b, 0, VKTI_DIMS(Z), "quant_conv.bias"))))
        return rc;
    return VKTI_OK;
}

static int load_decoder(vkti_vae *v)
{
    const vkti_vae_dims *d = &v->dims;
    vkti_nn *nn = &v->dec.nn;
    half *h = &v->dec;
    const int nb = d->nblocks, L = d->layers_per_block, Cl = d->channels[nb - 1], C0 = d->channels[0], Zl = d->latent;
    char p[96];
    int rc;
    if ((rc = vkti_nn_weight(nn, &h->conv_in_w, VKTI_NN_CONV, VKTI_DIMS(Cl, Zl, 3, 3), "decoder.conv_in.weight")) ||
        (rc = vkti_nn_weight(nn, &h->conv_in_b, 0, VKTI_DIMS(Cl), "decoder.conv_in.bias")) ||
        (rc = load_mid(nn, h, d, "decoder")))
        return rc;
    int out_ch = Cl;
    for (int i = 0; i < nb; i++) {
        int prev = out_ch;
        out_ch = d->channels[nb - 1 - i];
        for (int j = 0; j <= L; j++) {
            snprintf(p, sizeof p, "decoder.up_blocks.%d.resnets.%d", i, j);
            if ((rc = vkti_resnet_load(nn, &h->res[i][j], j ? out_ch : prev, out_ch, 0, d->groups, d->eps, p)))
                return rc;
        }
        if (i < nb - 1 &&
            ((rc = vkti_nn_weight(nn, &h->rs_w[i], VKTI_NN_CONV, VKTI_DIMS(out_ch, out_ch, 3, 3), "decoder.up_blocks.%d.upsamplers.0.conv.weight", i)) ||
             (rc = vkti_nn_weight(nn, &h->rs_b[i], 0, VKTI_DIMS(out_ch), "decoder.up_blocks.%d.upsamplers.0.conv.bias", i))))
            return rc;
    }
    if ((rc = vkti_nn_weight(nn, &h->gn_w, 0, VKTI_DIMS(C0), "decoder.conv_norm_out.weight")) ||
        (rc = vkti_nn_weight(nn, &h->gn_b, 0, VKTI_DIMS(C0), "decoder.conv_norm_out.bias")) ||
        (rc = vkti_nn_weight(nn, &h->conv_out_w, VKTI_NN_CONV, VKTI_DIMS(d->out_channels, C0, 3, 3), "decoder.conv_out.weight")) ||
        (rc = vkti_nn_weight(nn, &h->conv_out_b, 0, VKTI_DIMS(d->out_channels), "decoder.conv_out.bias")))
        return rc;
    if (d->use_post_quant_conv &&
        ((rc = vkti_nn_weight(nn, &h->quant_w, VKTI_NN_CONV, VKTI_DIMS(Zl, Zl, 1, 1), "post_quant_conv.weight")) ||
         (rc = vkti_nn_weight(nn, &h->quant_b, 0, VKTI_DIMS(Zl), "post_quant_conv.bias"))))
        return rc;
    return VKTI_OK;
}

int vkti_vae_create(vkti_vae **out, vkti_gpu *g, const vkti_vae_dims *dims, const vkti_weight_source *src,
                    vkti_dtype dtype, int parts)
{
    *out = NULL;
    vkti_diag *d = vkti_gpu_diag(g);
    if (dims->nblocks < 1 || dims->nblocks > MAXB || dims->layers_per_block < 1 || dims->layers_per_block + 1 > MAXL ||
        dims->latent < 1 || dims->groups < 1)
        return vkti_fail(d, VKTI_E_FORMAT, "vae: unsupported configuration (%d blocks of %d layers)", dims->nblocks,
                         dims->layers_per_block);
    vkti_vae *v = calloc(1, sizeof *v);
    if (!v)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    v->g = g;
    v->dims = *dims;
    int rc = VKTI_OK;
    if ((parts & VKTI_VAE_ENCODER) && !(rc = vkti_nn_init(&v->enc.nn, g, dtype, src, "vae encoder"))) {
        v->enc.loaded = 1;
        rc = load_encoder(v);
    }
    if (rc == VKTI_OK && (parts & VKTI_VAE_DECODER) && !(rc = vkti_nn_init(&v->dec.nn, g, dtype, src, "vae decoder"))) {
        v->dec.loaded = 1;
        rc = load_decoder(v);
    }
    if (rc) {
        vkti_vae_free(v);
        return rc;
    }
    *out = v;
    return VKTI_OK;
}

void vkti_vae_drop(vkti_vae *v, int parts)
{
    if ((parts & VKTI_VAE_ENCODER) && v->enc.loaded) {
        vkti_nn_free(&v->enc.nn);
        v->enc.loaded = 0;
    }
    if ((parts & VKTI_VAE_DECODER) && v->dec.loaded) {
        vkti_nn_free(&v->dec.nn);
        v->dec.loaded = 0;
    }
}

void vkti_vae_free(vkti_vae *v)
{
    if (!v)
        return;
    vkti_vae_drop(v, VKTI_VAE_ENCODER | VKTI_VAE_DECODER);
    free(v);
}

uint64_t vkti_vae_params(const vkti_vae *v) { return v->enc.nn.params + v->dec.nn.params; }
const vkti_vae_dims *vkti_vae_get_dims(const vkti_vae *v) { return &v->dims; }

/* out [N, P, C] = x + to_out(softmax(q kᵀ / sqrt(C)) v), q/k/v = to_*(group_norm(x)); one head. */
static int mid_attention(vkti_cmd *c, vkti_nn *nn, const attn_w *a, int groups, float eps, const vkti_tensor *out,
                         const vkti_tensor *x)
{
    const int64_t N = x->shape[0], C = a->c, P = vkti_tensor_numel(x) / (N * C);
    const vkti_device_info *info = vkti_gpu_info(nn->g);
    uint64_t mark = vkti_arena_mark(nn->tmp);
    vkti_tensor xs = vkti_nn_reshape(x, VKTI_DIMS(N, P, C)), os = vkti_nn_reshape(out, VKTI_DIMS(N, P, C));
    vkti_tensor mean, rstd, sc, h, q, k, v, o, s;
    int64_t scn = vkti_group_norm_scratch_numel(&xs, groups);
    /* query rows per chunk: the score rows [rows, P] within one binding, at most all of them */
    int64_t rows = (int64_t)(info->max_storage_buffer_range / ((uint64_t)P * vkti_dtype_size(nn->dtype)));
    if (rows > P)
        rows = P;
    if (rows < 1)
        return vkti_fail(nn->d, VKTI_E_UNSUPPORTED, "vae: attention over %lld positions does not fit this device's "
                         "bindings; use a smaller image", (long long)P);
    int rc;
    if ((rc = vkti_arena_tensor(nn->tmp, &mean, VKTI_F32, VKTI_DIMS(N * groups))) ||
        (rc = vkti_arena_tensor(nn->tmp, &rstd, VKTI_F32, VKTI_DIMS(N * groups))) ||
        (rc = vkti_arena_tensor(nn->tmp, &sc, VKTI_F32, VKTI_DIMS(scn > 0 ? scn : 1))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &h, VKTI_DIMS(N, P, C))) || (rc = vkti_nn_alloc(nn, nn->tmp, &q, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &k, VKTI_DIMS(N, P, C))) || (rc = vkti_nn_alloc(nn, nn->tmp, &v, VKTI_DIMS(N, P, C))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &o, VKTI_DIMS(N, P, C))) || (rc = vkti_nn_alloc(nn, nn->tmp, &s, VKTI_DIMS(rows, P))))
        return rc;
    if ((rc = vkti_group_norm_forward(c, &h, &mean, &rstd, &sc, &xs, &a->gn_w, &a->gn_b, groups, eps, 0)) ||
        (rc = vkti_linear_forward(c, &q, &h, &a->q_w, &a->q_b)) || (rc = vkti_linear_forward(c, &k, &h, &a->k_w, &a->k_b)) ||
        (rc = vkti_linear_forward(c, &v, &h, &a->v_w, &a->v_b)))
        return rc;
    const float scale = 1.0f / sqrtf((float)C);
    for (int64_t n = 0; n < N; n++)
        for (int64_t r0 = 0; r0 < P; r0 += rows) {
            int64_t rc_rows = P - r0 < rows ? P - r0 : rows;
            vkti_tensor qv, kv, vv, ov, sv;
            if ((rc = vkti_tensor_view(nn->g, &qv, &q, (n * P + r0) * C, VKTI_DIMS(rc_rows, C))) ||
                (rc = vkti_tensor_view(nn->g, &kv, &k, n * P * C, VKTI_DIMS(P, C))) ||
                (rc = vkti_tensor_view(nn->g, &vv, &v, n * P * C, VKTI_DIMS(P, C))) ||
                (rc = vkti_tensor_view(nn->g, &ov, &o, (n * P + r0) * C, VKTI_DIMS(rc_rows, C))) ||
                (rc = vkti_tensor_view(nn->g, &sv, &s, 0, VKTI_DIMS(rc_rows, P))))
                return rc;
            vkti_matmul_params qk = {.trans_b = 1, .alpha = scale};
            if ((rc = vkti_matmul_forward(c, &sv, &qv, &kv, NULL, &qk)) || (rc = vkti_softmax_rows_forward(c, &sv, &sv, 1.0f)) ||
                (rc = vkti_matmul_forward(c, &ov, &sv, &vv, NULL, NULL)))
                return rc;
        }
    if ((rc = vkti_linear_forward(c, &h, &o, &a->o_w, &a->o_b)) || (rc = vkti_add_forward(c, &os, &h, &xs)))
        return rc;
    vkti_arena_release(nn->tmp, mark);
    return VKTI_OK;
}

/* the mid block: resnet, attention, resnet; returns the new stream tensor in *h */
static int mid_block(vkti_cmd *c, vkti_nn *nn, const half *hf, const vkti_vae_dims *d, vkti_tensor *h)
{
    vkti_tensor a, b;
    int rc;
    if ((rc = vkti_nn_alloc(nn, nn->act, &a, h->ndim, h->shape)) ||
        (rc = vkti_resnet_forward(c, nn, &hf->mid_res[0], NULL, &a, h, NULL)))
        return rc;
    if (d->mid_attn) {
        if ((rc = vkti_nn_alloc(nn, nn->act, &b, h->ndim, h->shape)) ||
            (rc = mid_attention(c, nn, &hf->mid_attn, d->groups, d->eps, &b, &a)))
            return rc;
        a = b;
    }
    if ((rc = vkti_nn_alloc(nn, nn->act, &b, h->ndim, h->shape)) ||
        (rc = vkti_resnet_forward(c, nn, &hf->mid_res[1], NULL, &b, &a, NULL)))
        return rc;
    *h = b;
    return VKTI_OK;
}

/* out = conv_out(silu(group_norm(h))) */
static int head(vkti_cmd *c, vkti_nn *nn, const half *hf, const vkti_vae_dims *d, const vkti_tensor *out,
                const vkti_tensor *h)
{
    int64_t N = h->shape[0], scn = vkti_group_norm_scratch_numel(h, d->groups);
    vkti_tensor mean, rstd, sc, hn;
    int rc;
    if ((rc = vkti_arena_tensor(nn->tmp, &mean, VKTI_F32, VKTI_DIMS(N * d->groups))) ||
        (rc = vkti_arena_tensor(nn->tmp, &rstd, VKTI_F32, VKTI_DIMS(N * d->groups))) ||
        (rc = vkti_arena_tensor(nn->tmp, &sc, VKTI_F32, VKTI_DIMS(scn > 0 ? scn : 1))) ||
        (rc = vkti_nn_alloc(nn, nn->tmp, &hn, h->ndim, h->shape)) ||
        (rc = vkti_group_norm_forward(c, &hn, &mean, &rstd, &sc, h, &hf->gn_w, &hf->gn_b, d->groups, d->eps, 1)) ||
        (rc = vkti_conv2d_forward(c, out, &hn, &hf->conv_out_w, &hf->conv_out_b, NULL, &CONV3)))
        return rc;
    return VKTI_OK;
}

int vkti_vae_encode(vkti_cmd *c, vkti_vae *v, const vkti_tensor *mean, const vkti_tensor *logvar,
                    const vkti_tensor *image)
{
    const vkti_vae_dims *d = &v->dims;
    half *hf = &v->enc;
    vkti_nn *nn = &hf->nn;
    if (!hf->loaded)
        return vkti_fail(vkti_gpu_diag(v->g), VKTI_E_INTERNAL, "vae: the encoder is not loaded");
    const int64_t N = image->shape[0], f = (int64_t)1 << (d->nblocks - 1), Z = 2 * d->latent;
    int64_t H = image->shape[1], W = image->shape[2];
    if (image->ndim != 4 || image->shape[3] != d->in_channels || H % f || W % f)
        return vkti_fail(nn->d, VKTI_E_INVALID, "vae: the image must be [N, H, W, %d] with H and W multiples of %lld",
                         d->in_channels, (long long)f);
    vkti_arena_release(nn->act, 0);
    vkti_arena_release(nn->tmp, 0);
    vkti_tensor h, nh, z, zq;
    int rc;
    if ((rc = vkti_nn_alloc(nn, nn->act, &h, VKTI_DIMS(N, H, W, d->channels[0]))) ||
        (rc = vkti_conv2d_forward(c, &h, image, &hf->conv_in_w, &hf->conv_in_b, NULL, &CONV3)))
        return rc;
    for (int i = 0; i < d->nblocks; i++) {
        for (int j = 0; j < d->layers_per_block; j++) {
            if ((rc = vkti_nn_alloc(nn, nn->act, &nh, VKTI_DIMS(N, H, W, hf->res[i][j].cout))) ||
                (rc = vkti_resnet_forward(c, nn, &hf->res[i][j], NULL, &nh, &h, NULL)))
                return rc;
            h = nh;
        }
        if (i < d->nblocks - 1) {
            H /= 2;
            W /= 2;
            if ((rc = vkti_nn_alloc(nn, nn->act, &nh, VKTI_DIMS(N, H, W, h.shape[3]))) ||
                (rc = vkti_conv2d_forward(c, &nh, &h, &hf->rs_w[i], &hf->rs_b[i], NULL, &DOWN3)))
                return rc;
            h = nh;
        }
    }
    if ((rc = mid_block(c, nn, hf, d, &h)) || (rc = vkti_nn_alloc(nn, nn->act, &z, VKTI_DIMS(N, H, W, Z))) ||
        (rc = head(c, nn, hf, d, &z, &h)))
        return rc;
    if (d->use_quant_conv) {
        if ((rc = vkti_nn_alloc(nn, nn->act, &zq, VKTI_DIMS(N, H, W, Z))) ||
            (rc = vkti_conv2d_forward(c, &zq, &z, &hf->quant_w, &hf->quant_b, NULL, &CONV1)))
            return rc;
        z = zq;
    }
    /* the first half of the channels is the mean, the second the log-variance (clamped) */
    if ((rc = vkti_concat_backward(c, mean, logvar, &z, 0, 0)) || (rc = vkti_clamp_forward(c, logvar, logvar, -30.0f, 20.0f)))
        return rc;
    return VKTI_OK;
}

int vkti_vae_decode(vkti_cmd *c, vkti_vae *v, const vkti_tensor *image, const vkti_tensor *latent)
{
    const vkti_vae_dims *d = &v->dims;
    half *hf = &v->dec;
    vkti_nn *nn = &hf->nn;
    if (!hf->loaded)
        return vkti_fail(vkti_gpu_diag(v->g), VKTI_E_INTERNAL, "vae: the decoder is not loaded");
    const int nb = d->nblocks;
    const int64_t N = latent->shape[0];
    int64_t H = latent->shape[1], W = latent->shape[2];
    if (latent->ndim != 4 || latent->shape[3] != d->latent)
        return vkti_fail(nn->d, VKTI_E_INVALID, "vae: the latent must be [N, h, w, %d]", d->latent);
    vkti_arena_release(nn->act, 0);
    vkti_arena_release(nn->tmp, 0);
    vkti_tensor z = *latent, zq, h, nh, up;
    int rc;
    if (d->use_post_quant_conv) {
        if ((rc = vkti_nn_alloc(nn, nn->act, &zq, VKTI_DIMS(N, H, W, d->latent))) ||
            (rc = vkti_conv2d_forward(c, &zq, &z, &hf->quant_w, &hf->quant_b, NULL, &CONV1)))
            return rc;
        z = zq;
    }
    if ((rc = vkti_nn_alloc(nn, nn->act, &h, VKTI_DIMS(N, H, W, d->channels[nb - 1]))) ||
        (rc = vkti_conv2d_forward(c, &h, &z, &hf->conv_in_w, &hf->conv_in_b, NULL, &CONV3)) ||
        (rc = mid_block(c, nn, hf, d, &h)))
        return rc;
    for (int i = 0; i < nb; i++) {
        for (int j = 0; j <= d->layers_per_block; j++) {
            if ((rc = vkti_nn_alloc(nn, nn->act, &nh, VKTI_DIMS(N, H, W, hf->res[i][j].cout))) ||
                (rc = vkti_resnet_forward(c, nn, &hf->res[i][j], NULL, &nh, &h, NULL)))
                return rc;
            h = nh;
        }
        if (i < nb - 1) {
            H *= 2;
            W *= 2;
            if ((rc = vkti_nn_alloc(nn, nn->tmp, &up, VKTI_DIMS(N, H, W, h.shape[3]))) ||
                (rc = vkti_upsample2x_forward(c, &up, &h)) ||
                (rc = vkti_nn_alloc(nn, nn->act, &nh, VKTI_DIMS(N, H, W, h.shape[3]))) ||
                (rc = vkti_conv2d_forward(c, &nh, &up, &hf->rs_w[i], &hf->rs_b[i], NULL, &CONV3)))
                return rc;
            h = nh;
        }
    }
    return head(c, nn, hf, d, image, &h);
}
