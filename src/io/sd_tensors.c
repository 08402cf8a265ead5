/* sd_tensors.c — the tensor tables of the UNet, the CLIP text encoder and the VAE, with each
 * tensor's diffusers name and shape and its name in an LDM single file (see sd_tensors.h).
 *
 * Sources read (for facts; no code copied): diffusers 58eb52c models/resnet.py (ResnetBlock2D),
 * transformers/transformer_2d.py, attention.py (BasicTransformerBlock, FeedForward with GEGLU:
 * net.0.proj is [8C, C]), unets/unet_2d_blocks.py, autoencoders/vae.py, and
 * loaders/single_file_utils.py for the LDM names. */
#include "io/sd_tensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct emit {
    vkti_sd_table *t;
    int oom;
} emit;

static void add(emit *e, const char *name, const char *ldm, int op, int part, int ndim, int64_t a, int64_t b,
                int64_t c, int64_t dd)
{
    if (e->oom)
        return;
    vkti_sd_table *t = e->t;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        vkti_sd_tensor *p = realloc(t->t, cap * sizeof *p);
        if (!p) {
            e->oom = 1;
            return;
        }
        t->t = p;
        t->cap = cap;
    }
    vkti_sd_tensor *x = &t->t[t->count++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    snprintf(x->ldm, sizeof x->ldm, "%s", ldm);
    x->ldm_op = (uint8_t)op;
    x->ldm_part = (uint8_t)part;
    x->ndim = ndim;
    const int64_t s[4] = {a, b, c, dd};
    for (int i = 0; i < ndim; i++)
        x->shape[i] = s[i];
}

/* name = prefix + "." + suffix (suffix may be empty: then the prefix alone); 1 if it did not fit
 * (it always does within the VKTI_SD_MAX_* limits: the longest SD name has under 100 characters) */
static int join(char *out, const char *prefix, const char *suffix)
{
    int n = suffix[0] ? snprintf(out, VKTI_SD_NAME_MAX, "%s.%s", prefix, suffix)
                      : snprintf(out, VKTI_SD_NAME_MAX, "%s", prefix);
    return n < 0 || n >= VKTI_SD_NAME_MAX;
}

static void fmt(char *out, const char *f, ...) VKTI_PRINTF(2, 3);
static void fmt(char *out, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, VKTI_SD_NAME_MAX, f, ap);
    va_end(ap);
}

/* A module with weight and bias: dp/lp are the diffusers and LDM prefixes, dn/ln the module names
 * under them. ndim 2: linear [out, in]; 4: conv [out, in, k, k]; 1: norm [out]. */
static void param(emit *e, const char *dp, const char *dn, const char *lp, const char *ln, int op, int part,
                  const char *leaf, int ndim, int64_t out, int64_t in, int64_t k)
{
    char dm[VKTI_SD_NAME_MAX], lm[VKTI_SD_NAME_MAX], dname[VKTI_SD_NAME_MAX], lname[VKTI_SD_NAME_MAX];
    if (join(dm, dp, dn) | join(lm, lp, ln) | join(dname, dm, leaf) | join(lname, lm, leaf)) {
        e->oom = 1; /* cannot happen within the limits; fail rather than use a cut name */
        return;
    }
    add(e, dname, lname, op, part, ndim, out, in, k, k);
}

static void linear(emit *e, const char *dp, const char *dn, const char *lp, const char *ln, int64_t out, int64_t in,
                   int bias)
{
    param(e, dp, dn, lp, ln, VKTI_LDM_SAME, 0, "weight", 2, out, in, 0);
    if (bias)
        param(e, dp, dn, lp, ln, VKTI_LDM_SAME, 0, "bias", 1, out, 0, 0);
}

static void conv(emit *e, const char *dp, const char *dn, const char *lp, const char *ln, int64_t out, int64_t in,
                 int64_t k)
{
    param(e, dp, dn, lp, ln, VKTI_LDM_SAME, 0, "weight", 4, out, in, k);
    param(e, dp, dn, lp, ln, VKTI_LDM_SAME, 0, "bias", 1, out, 0, 0);
}

static void norm(emit *e, const char *dp, const char *dn, const char *lp, const char *ln, int64_t ch)
{
    param(e, dp, dn, lp, ln, VKTI_LDM_SAME, 0, "weight", 1, ch, 0, 0);
    param(e, dp, dn, lp, ln, VKTI_LDM_SAME, 0, "bias", 1, ch, 0, 0);
}

/* ---- UNet ---------------------------------------------------------------------------------- */

#define UNET_LDM "model.diffusion_model"

/* ResnetBlock2D with a time embedding: dp "down_blocks.0.resnets.0", lp "model.diffusion_model.input_blocks.1.0" */
static void unet_resnet(emit *e, const char *dp, const char *lp, int in, int out, int temb)
{
    norm(e, dp, "norm1", lp, "in_layers.0", in);
    conv(e, dp, "conv1", lp, "in_layers.2", out, in, 3);
    linear(e, dp, "time_emb_proj", lp, "emb_layers.1", out, temb, 1);
    norm(e, dp, "norm2", lp, "out_layers.0", out);
    conv(e, dp, "conv2", lp, "out_layers.3", out, out, 3);
    if (in != out)
        conv(e, dp, "conv_shortcut", lp, "skip_connection", out, in, 1);
}

/* Transformer2DModel (SpatialTransformer in LDM: the same names inside) */
static void unet_transformer(emit *e, const vkti_unet_config *c, const char *dp, const char *lp, int ch, int layers)
{
    norm(e, dp, "norm", lp, "norm", ch);
    if (c->use_linear_projection)
        linear(e, dp, "proj_in", lp, "proj_in", ch, ch, 1);
    else
        conv(e, dp, "proj_in", lp, "proj_in", ch, ch, 1);
    for (int k = 0; k < layers; k++) {
        char d[VKTI_SD_NAME_MAX], l[VKTI_SD_NAME_MAX];
        fmt(d, "%s.transformer_blocks.%d", dp, k);
        fmt(l, "%s.transformer_blocks.%d", lp, k);
        const int x = c->cross_attention_dim;
        norm(e, d, "norm1", l, "norm1", ch);
        linear(e, d, "attn1.to_q", l, "attn1.to_q", ch, ch, 0);
        linear(e, d, "attn1.to_k", l, "attn1.to_k", ch, ch, 0);
        linear(e, d, "attn1.to_v", l, "attn1.to_v", ch, ch, 0);
        linear(e, d, "attn1.to_out.0", l, "attn1.to_out.0", ch, ch, 1);
        norm(e, d, "norm2", l, "norm2", ch);
        linear(e, d, "attn2.to_q", l, "attn2.to_q", ch, ch, 0);
        linear(e, d, "attn2.to_k", l, "attn2.to_k", ch, x, 0);
        linear(e, d, "attn2.to_v", l, "attn2.to_v", ch, x, 0);
        linear(e, d, "attn2.to_out.0", l, "attn2.to_out.0", ch, ch, 1);
        norm(e, d, "norm3", l, "norm3", ch);
        linear(e, d, "ff.net.0.proj", l, "ff.net.0.proj", 8 * (int64_t)ch, ch, 1); /* GEGLU: value and gate */
        linear(e, d, "ff.net.2", l, "ff.net.2", ch, 4 * (int64_t)ch, 1);
    }
    if (c->use_linear_projection)
        linear(e, dp, "proj_out", lp, "proj_out", ch, ch, 1);
    else
        conv(e, dp, "proj_out", lp, "proj_out", ch, ch, 1);
}

int vkti_sd_unet_tensors(vkti_diag *dg, const vkti_unet_config *c, vkti_sd_table *out)
{
    memset(out, 0, sizeof *out);
    emit em = {out, 0}, *e = &em;
    const int n = c->num_blocks, c0 = c->block_out_channels[0], temb = c->time_embedding_dim;
    char d[VKTI_SD_NAME_MAX], l[VKTI_SD_NAME_MAX];
    conv(e, "conv_in", "", UNET_LDM ".input_blocks.0.0", "", c0, c->in_channels, c->conv_in_kernel);
    linear(e, "time_embedding.linear_1", "", UNET_LDM ".time_embed.0", "", temb, c0, 1);
    linear(e, "time_embedding.linear_2", "", UNET_LDM ".time_embed.2", "", temb, temb, 1);
    int k = 1; /* input_blocks index */
    for (int b = 0; b < n; b++) {
        vkti_unet_block_info bi;
        vkti_unet_down_block(c, b, &bi);
        for (int j = 0; j < bi.layers; j++, k++) {
            fmt(d, "down_blocks.%d.resnets.%d", b, j);
            fmt(l, UNET_LDM ".input_blocks.%d.0", k);
            unet_resnet(e, d, l, bi.resnet_in[j], bi.out_channels, temb);
            if (bi.has_attention) {
                fmt(d, "down_blocks.%d.attentions.%d", b, j);
                fmt(l, UNET_LDM ".input_blocks.%d.1", k);
                unet_transformer(e, c, d, l, bi.out_channels, bi.transformer_layers);
            }
        }
        if (bi.has_sampler) {
            fmt(d, "down_blocks.%d.downsamplers.0.conv", b);
            fmt(l, UNET_LDM ".input_blocks.%d.0.op", k++);
            conv(e, d, "", l, "", bi.out_channels, bi.out_channels, 3);
        }
    }
    vkti_unet_block_info mi;
    vkti_unet_mid_block(c, &mi);
    unet_resnet(e, "mid_block.resnets.0", UNET_LDM ".middle_block.0", mi.out_channels, mi.out_channels, temb);
    unet_transformer(e, c, "mid_block.attentions.0", UNET_LDM ".middle_block.1", mi.out_channels, mi.transformer_layers);
    unet_resnet(e, "mid_block.resnets.1", UNET_LDM ".middle_block.2", mi.out_channels, mi.out_channels, temb);
    k = 0; /* output_blocks index */
    for (int i = 0; i < n; i++) {
        vkti_unet_block_info bi;
        vkti_unet_up_block(c, i, &bi);
        for (int j = 0; j < bi.layers; j++, k++) {
            fmt(d, "up_blocks.%d.resnets.%d", i, j);
            fmt(l, UNET_LDM ".output_blocks.%d.0", k);
            unet_resnet(e, d, l, bi.resnet_in[j], bi.out_channels, temb);
            if (bi.has_attention) {
                fmt(d, "up_blocks.%d.attentions.%d", i, j);
                fmt(l, UNET_LDM ".output_blocks.%d.1", k);
                unet_transformer(e, c, d, l, bi.out_channels, bi.transformer_layers);
            }
            if (bi.has_sampler && j == bi.layers - 1) {
                fmt(d, "up_blocks.%d.upsamplers.0.conv", i);
                fmt(l, UNET_LDM ".output_blocks.%d.%d.conv", k, bi.has_attention ? 2 : 1);
                conv(e, d, "", l, "", bi.out_channels, bi.out_channels, 3);
            }
        }
    }
    norm(e, "conv_norm_out", "", UNET_LDM ".out.0", "", c0);
    conv(e, "conv_out", "", UNET_LDM ".out.2", "", c->out_channels, c0, c->conv_out_kernel);
    if (em.oom) {
        vkti_sd_table_free(out);
        return vkti_fail(dg, VKTI_E_OOM, "out of memory listing the UNet's tensors");
    }
    return VKTI_OK;
}

/* ---- CLIP text encoder ------------------------------------------------------------------------ */

int vkti_sd_text_tensors(vkti_diag *dg, const vkti_clip_text_config *c, vkti_sd_family family, vkti_sd_table *out)
{
    memset(out, 0, sizeof *out);
    emit em = {out, 0}, *e = &em;
    const int D = c->hidden_size, I = c->intermediate_size;
    char d[VKTI_SD_NAME_MAX], l[VKTI_SD_NAME_MAX];
    if (family == VKTI_SD_FAMILY_SD1) {
        /* OpenAI CLIP in the transformers layout: the LDM name is the diffusers name under a prefix */
        const char *P = "cond_stage_model.transformer";
        fmt(l, "%s.text_model.embeddings.token_embedding", P);
        param(e, "text_model.embeddings.token_embedding", "", l, "", VKTI_LDM_SAME, 0, "weight", 2, c->vocab_size, D, 0);
        fmt(l, "%s.text_model.embeddings.position_embedding", P);
        param(e, "text_model.embeddings.position_embedding", "", l, "", VKTI_LDM_SAME, 0, "weight", 2,
              c->max_position_embeddings, D, 0);
        for (int i = 0; i < c->num_hidden_layers; i++) {
            fmt(d, "text_model.encoder.layers.%d", i);
            fmt(l, "%s.text_model.encoder.layers.%d", P, i);
            linear(e, d, "self_attn.k_proj", l, "self_attn.k_proj", D, D, 1);
            linear(e, d, "self_attn.v_proj", l, "self_attn.v_proj", D, D, 1);
            linear(e, d, "self_attn.q_proj", l, "self_attn.q_proj", D, D, 1);
            linear(e, d, "self_attn.out_proj", l, "self_attn.out_proj", D, D, 1);
            norm(e, d, "layer_norm1", l, "layer_norm1", D);
            linear(e, d, "mlp.fc1", l, "mlp.fc1", I, D, 1);
            linear(e, d, "mlp.fc2", l, "mlp.fc2", D, I, 1);
            norm(e, d, "layer_norm2", l, "layer_norm2", D);
        }
        fmt(l, "%s.text_model.final_layer_norm", P);
        norm(e, "text_model.final_layer_norm", "", l, "", D);
    } else {
        /* OpenCLIP: q, k, v stacked in attn.in_proj_weight [3D, D] / in_proj_bias [3D] */
        const char *P = "cond_stage_model.model";
        fmt(l, "%s.token_embedding", P);
        param(e, "text_model.embeddings.token_embedding", "", l, "", VKTI_LDM_SAME, 0, "weight", 2, c->vocab_size, D, 0);
        fmt(l, "%s.positional_embedding", P);
        add(e, "text_model.embeddings.position_embedding.weight", l, VKTI_LDM_SAME, 0, 2, c->max_position_embeddings, D,
            0, 0);
        static const char *const qkv[3] = {"q_proj", "k_proj", "v_proj"};
        static const int order[3] = {1, 2, 0}; /* transformers registers k, v, q */
        for (int i = 0; i < c->num_hidden_layers; i++) {
            fmt(d, "text_model.encoder.layers.%d", i);
            fmt(l, "%s.transformer.resblocks.%d", P, i);
            for (int q = 0; q < 3; q++) {
                const int p = order[q];
                char dn[VKTI_SD_NAME_MAX], ln[VKTI_SD_NAME_MAX];
                fmt(dn, "%s.self_attn.%s.weight", d, qkv[p]);
                fmt(ln, "%s.attn.in_proj_weight", l);
                add(e, dn, ln, VKTI_LDM_QKV, p, 2, D, D, 0, 0);
                fmt(dn, "%s.self_attn.%s.bias", d, qkv[p]);
                fmt(ln, "%s.attn.in_proj_bias", l);
                add(e, dn, ln, VKTI_LDM_QKV, p, 1, D, 0, 0, 0);
            }
            linear(e, d, "self_attn.out_proj", l, "attn.out_proj", D, D, 1);
            norm(e, d, "layer_norm1", l, "ln_1", D);
            linear(e, d, "mlp.fc1", l, "mlp.c_fc", I, D, 1);
            linear(e, d, "mlp.fc2", l, "mlp.c_proj", D, I, 1);
            norm(e, d, "layer_norm2", l, "ln_2", D);
        }
        fmt(l, "%s.ln_final", P);
        norm(e, "text_model.final_layer_norm", "", l, "", D);
    }
    if (em.oom) {
        vkti_sd_table_free(out);
        return vkti_fail(dg, VKTI_E_OOM, "out of memory listing the text encoder's tensors");
    }
    return VKTI_OK;
}

/* ---- VAE ---------------------------------------------------------------------------------- */

#define VAE_LDM "first_stage_model"

static void vae_resnet(emit *e, const char *dp, const char *lp, int in, int out)
{
    norm(e, dp, "norm1", lp, "norm1", in);
    conv(e, dp, "conv1", lp, "conv1", out, in, 3);
    norm(e, dp, "norm2", lp, "norm2", out);
    conv(e, dp, "conv2", lp, "conv2", out, out, 3);
    if (in != out)
        conv(e, dp, "conv_shortcut", lp, "nin_shortcut", out, in, 1);
}

/* UNetMidBlock2D: resnet, single-head attention (1x1 convs in LDM), resnet */
static void vae_mid(emit *e, const vkti_vae_config *c, const char *dp, const char *lp, int ch)
{
    char d[VKTI_SD_NAME_MAX], l[VKTI_SD_NAME_MAX];
    fmt(d, "%s.resnets.0", dp);
    fmt(l, "%s.block_1", lp);
    vae_resnet(e, d, l, ch, ch);
    if (c->mid_block_add_attention) {
        fmt(d, "%s.attentions.0", dp);
        fmt(l, "%s.attn_1", lp);
        norm(e, d, "group_norm", l, "norm", ch);
        static const char *const dn[4] = {"to_q", "to_k", "to_v", "to_out.0"};
        static const char *const ln[4] = {"q", "k", "v", "proj_out"};
        for (int i = 0; i < 4; i++) {
            param(e, d, dn[i], l, ln[i], VKTI_LDM_SQUEEZE, 0, "weight", 2, ch, ch, 0);
            param(e, d, dn[i], l, ln[i], VKTI_LDM_SAME, 0, "bias", 1, ch, 0, 0);
        }
    }
    fmt(d, "%s.resnets.1", dp);
    fmt(l, "%s.block_2", lp);
    vae_resnet(e, d, l, ch, ch);
}

int vkti_sd_vae_tensors(vkti_diag *dg, const vkti_vae_config *c, vkti_sd_table *out)
{
    memset(out, 0, sizeof *out);
    emit em = {out, 0}, *e = &em;
    const int n = c->num_blocks, last = c->block_out_channels[n - 1], L = c->latent_channels;
    char d[VKTI_SD_NAME_MAX], l[VKTI_SD_NAME_MAX];
    conv(e, "encoder.conv_in", "", VAE_LDM ".encoder.conv_in", "", c->block_out_channels[0], c->in_channels, 3);
    for (int i = 0; i < n; i++) {
        const int in = c->block_out_channels[i > 0 ? i - 1 : 0], ch = c->block_out_channels[i];
        for (int j = 0; j < c->layers_per_block; j++) {
            fmt(d, "encoder.down_blocks.%d.resnets.%d", i, j);
            fmt(l, VAE_LDM ".encoder.down.%d.block.%d", i, j);
            vae_resnet(e, d, l, j == 0 ? in : ch, ch);
        }
        if (i < n - 1) {
            fmt(d, "encoder.down_blocks.%d.downsamplers.0.conv", i);
            fmt(l, VAE_LDM ".encoder.down.%d.downsample.conv", i);
            conv(e, d, "", l, "", ch, ch, 3);
        }
    }
    vae_mid(e, c, "encoder.mid_block", VAE_LDM ".encoder.mid", last);
    norm(e, "encoder.conv_norm_out", "", VAE_LDM ".encoder.norm_out", "", last);
    conv(e, "encoder.conv_out", "", VAE_LDM ".encoder.conv_out", "", 2 * L, last, 3);
    if (c->use_quant_conv)
        conv(e, "quant_conv", "", VAE_LDM ".quant_conv", "", 2 * L, 2 * L, 1);
    if (c->use_post_quant_conv)
        conv(e, "post_quant_conv", "", VAE_LDM ".post_quant_conv", "", L, L, 1);
    conv(e, "decoder.conv_in", "", VAE_LDM ".decoder.conv_in", "", last, L, 3);
    vae_mid(e, c, "decoder.mid_block", VAE_LDM ".decoder.mid", last);
    for (int i = 0; i < n; i++) {
        const int r = n - 1 - i, ch = c->block_out_channels[r];
        const int prev = i == 0 ? last : c->block_out_channels[r + 1];
        for (int j = 0; j < c->layers_per_block + 1; j++) {
            fmt(d, "decoder.up_blocks.%d.resnets.%d", i, j);
            fmt(l, VAE_LDM ".decoder.up.%d.block.%d", r, j);
            vae_resnet(e, d, l, j == 0 ? prev : ch, ch);
        }
        if (i < n - 1) {
            fmt(d, "decoder.up_blocks.%d.upsamplers.0.conv", i);
            fmt(l, VAE_LDM ".decoder.up.%d.upsample.conv", r);
            conv(e, d, "", l, "", ch, ch, 3);
        }
    }
    norm(e, "decoder.conv_norm_out", "", VAE_LDM ".decoder.norm_out", "", c->block_out_channels[0]);
    conv(e, "decoder.conv_out", "", VAE_LDM ".decoder.conv_out", "", c->out_channels, c->block_out_channels[0], 3);
    if (em.oom) {
        vkti_sd_table_free(out);
        return vkti_fail(dg, VKTI_E_OOM, "out of memory listing the VAE's tensors");
    }
    return VKTI_OK;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

void vkti_sd_table_free(vkti_sd_table *t)
{
    free(t->t);
    memset(t, 0, sizeof *t);
}

uint64_t vkti_sd_table_params(const vkti_sd_table *t)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < t->count; i++) {
        uint64_t n = 1;
        for (int k = 0; k < t->t[i].ndim; k++)
            n *= (uint64_t)t->t[i].shape[k];
        sum += n;
    }
    return sum;
}

const vkti_sd_tensor *vkti_sd_table_find(const vkti_sd_table *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++)
        if (!strcmp(t->t[i].name, name))
            return &t->t[i];
    return NULL;
}

int vkti_sd_ldm_shape(const vkti_sd_tensor *e, int64_t *s)
{
    for (int i = 0; i < 4; i++)
        s[i] = e->shape[i];
    if (e->ldm_op == VKTI_LDM_SQUEEZE) {
        s[2] = s[3] = 1;
        return 4;
    }
    if (e->ldm_op == VKTI_LDM_QKV)
        s[0] *= 3;
    return e->ndim;
}

char *vkti_sd_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
    return buf;
}
