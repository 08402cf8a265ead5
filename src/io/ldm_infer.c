/* ldm_infer.c — family and configs of an LDM single-file checkpoint from its tensor names and
 * shapes (see ldm_infer.h). Source read for the rules: diffusers 58eb52c
 * loaders/single_file_utils.py (CHECKPOINT_KEY_NAMES, infer_diffusers_model_type,
 * create_unet_diffusers_config_from_ldm, create_vae_diffusers_config_from_ldm,
 * convert_open_clip_checkpoint, _legacy_load_scheduler). */
#include "io/ldm_infer.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_tensor(const void *a, const void *b)
{
    return strcmp(((const vkti_io_tensor *)a)->name, ((const vkti_io_tensor *)b)->name);
}

void vkti_ldm_sort(vkti_io_tensor *t, size_t count) { qsort(t, count, sizeof *t, cmp_tensor); }

/* The first index whose name is >= key. */
static size_t lower_bound(const vkti_io_tensor *s, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s[mid].name, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const vkti_io_tensor *vkti_ldm_lookup(const vkti_io_tensor *s, size_t n, const char *name)
{
    size_t i = lower_bound(s, n, name);
    return i < n && !strcmp(s[i].name, name) ? &s[i] : NULL;
}

int vkti_ldm_has_prefix(const vkti_io_tensor *s, size_t n, const char *prefix)
{
    size_t i = lower_bound(s, n, prefix);
    return i < n && !strncmp(s[i].name, prefix, strlen(prefix));
}

typedef struct ictx {
    vkti_diag *d;
    const vkti_io_tensor *s;
    size_t n;
    const char *src;
} ictx;

static const vkti_io_tensor *find(const ictx *c, const char *fmtstr, ...) VKTI_PRINTF(2, 3);
static const vkti_io_tensor *find(const ictx *c, const char *fmtstr, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmtstr);
    vsnprintf(name, sizeof name, fmtstr, ap);
    va_end(ap);
    return vkti_ldm_lookup(c->s, c->n, name);
}

#define has(...) (find(__VA_ARGS__) != NULL)

/* The tensor must exist with ndim dimensions (ndim 0: any). */
static int need(const ictx *c, const char *name, int ndim, const vkti_io_tensor **out)
{
    const vkti_io_tensor *t = vkti_ldm_lookup(c->s, c->n, name);
    if (!t)
        return vkti_fail(c->d, VKTI_E_FORMAT, "%s: no tensor %s: the checkpoint's layout is not Stable Diffusion's", c->src,
                         name);
    if (ndim && t->ndim != ndim) {
        char buf[96];
        return vkti_fail(c->d, VKTI_E_FORMAT, "%s: tensor %s is %s; a %d-dimensional tensor is expected", c->src, name,
                         vkti_io_tensor_describe(t, buf, sizeof buf), ndim);
    }
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] < 1 || t->shape[i] > VKTI_SD_MAX_VOCAB)
            return vkti_fail(c->d, VKTI_E_FORMAT, "%s: tensor %s has a dimension of %lld", c->src, name,
                             (long long)t->shape[i]);
    *out = t;
    return VKTI_OK;
}

/* How many of prefix0suffix, prefix1suffix... exist (at most limit + 1). */
static int count_indexed(const ictx *c, const char *prefix, const char *suffix, int limit)
{
    int k = 0;
    while (k <= limit && has(c, "%s%d%s", prefix, k, suffix))
        k++;
    return k;
}

/* A dimension as an int; -1 (refused by the config checks) when it does not fit one. */
static int dim(const vkti_io_tensor *t, int i)
{
    return t->shape[i] >= 0 && t->shape[i] <= INT32_MAX ? (int)t->shape[i] : -1;
}

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* 32 groups, or the largest common divisor of 32 and every width. */
static int groups_for(const int *widths, int n)
{
    int g = 32;
    for (int i = 0; i < n; i++)
        g = gcd(g, widths[i]);
    return g;
}

#define U "model.diffusion_model."

static int infer_unet(const ictx *c, vkti_sd_family family, int v_prediction, vkti_unet_config *u)
{
    memset(u, 0, sizeof *u);
    const vkti_io_tensor *t;
    int rc;
    if ((rc = need(c, U "input_blocks.0.0.weight", 4, &t)))
        return rc;
    const int c0 = dim(t, 0);
    u->in_channels = dim(t, 1);
    u->conv_in_kernel = dim(t, 2);
    if ((rc = need(c, U "time_embed.0.weight", 2, &t)))
        return rc;
    u->time_embedding_dim = dim(t, 0);
    u->time_embedding_dim_set = u->time_embedding_dim != 4 * c0;
    if ((rc = need(c, U "out.2.weight", 4, &t)))
        return rc;
    u->out_channels = dim(t, 0);
    u->conv_out_kernel = dim(t, 2);
    /* the down path: resnets (with a transformer each in attention blocks), then a downsampler */
    int nb = 0, layers = 0, idx = 1, linear = -1;
    for (; idx < 1000; idx++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, U "input_blocks.%d.", idx);
        if (!vkti_ldm_has_prefix(c->s, c->n, prefix))
            break;
        if (has(c, U "input_blocks.%d.0.op.weight", idx)) {
            if (layers == 0)
                return vkti_fail(c->d, VKTI_E_FORMAT, "%s: input_blocks.%d is a downsampler after no resnet", c->src, idx);
            u->layers_per_block[nb++] = layers;
            layers = 0;
            continue;
        }
        /* a resnet: its width from conv1 or, when that is what is missing, conv2 (the tables then
         * report the missing tensor with its shape) */
        const vkti_io_tensor *conv1 = find(c, U "input_blocks.%d.0.in_layers.2.weight", idx);
        if (!conv1 || conv1->ndim != 4)
            conv1 = find(c, U "input_blocks.%d.0.out_layers.3.weight", idx);
        if (!conv1 || conv1->ndim != 4)
            return vkti_fail(c->d, VKTI_E_FORMAT, "%s: input_blocks.%d is neither a resnet (in_layers.2.weight, "
                                                  "out_layers.3.weight) nor a downsampler (op.weight)", c->src, idx);
        if (nb >= VKTI_SD_MAX_BLOCKS || layers >= VKTI_SD_MAX_LAYERS)
            return vkti_fail(c->d, VKTI_E_FORMAT, "%s: more than %d blocks or %d resnets per block", c->src,
                             VKTI_SD_MAX_BLOCKS, VKTI_SD_MAX_LAYERS);
        const int attn = has(c, U "input_blocks.%d.1.proj_in.weight", idx);
        if (layers == 0) {
            u->block_out_channels[nb] = dim(conv1, 0);
            u->down_block_types[nb] = attn ? VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D : VKTI_UNET_DOWN_BLOCK_2D;
            char pre[96];
            snprintf(pre, sizeof pre, U "input_blocks.%d.1.transformer_blocks.", idx);
            u->transformer_layers_per_block[nb] = attn ? count_indexed(c, pre, ".norm1.weight", VKTI_SD_MAX_LAYERS) : 1;
        } else if (attn != (u->down_block_types[nb] == VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D)) {
            return vkti_fail(c->d, VKTI_E_FORMAT, "%s: down block %d mixes layers with and without attention", c->src,
                             nb);
        }
        if (attn && linear < 0) {
            const vkti_io_tensor *p = find(c, U "input_blocks.%d.1.proj_in.weight", idx);
            linear = p->ndim == 2;
            const vkti_io_tensor *k = find(c, U "input_blocks.%d.1.transformer_blocks.0.attn2.to_k.weight", idx);
            if (!k || k->ndim != 2)
                return vkti_fail(c->d, VKTI_E_FORMAT, "%s: input_blocks.%d.1 has no attn2.to_k.weight (cross-attention)",
                                 c->src, idx);
            u->cross_attention_dim = dim(k, 1);
        }
        layers++;
    }
    if (layers == 0)
        return vkti_fail(c->d, VKTI_E_FORMAT, "%s: the UNet's down path %s", c->src,
                         nb ? "ends with a downsampler" : "has no resnets (input_blocks.1...)");
    u->layers_per_block[nb++] = layers;
    u->num_blocks = nb;
    for (int i = 1; i < nb; i++)
        u->layers_is_list |= u->layers_per_block[i] != u->layers_per_block[0];
    if (!has(c, "%s", U "middle_block.1.proj_in.weight"))
        return vkti_fail(c->d, VKTI_E_FORMAT, "%s: the UNet's middle block has no transformer (middle_block.1); vkti "
                                                   "supports UNetMidBlock2DCrossAttn", c->src);
    if (linear < 0) {
        const vkti_io_tensor *p = find(c, "%s", U "middle_block.1.proj_in.weight");
        const vkti_io_tensor *k = find(c, "%s", U "middle_block.1.transformer_blocks.0.attn2.to_k.weight");
        if (!k || k->ndim != 2)
            return vkti_fail(c->d, VKTI_E_FORMAT, "%s: middle_block.1 has no attn2.to_k.weight", c->src);
        linear = p->ndim == 2;
        u->cross_attention_dim = dim(k, 1);
    }
    u->use_linear_projection = linear;
    for (int i = 1; i < nb; i++)
        u->transformer_layers_is_list |= u->transformer_layers_per_block[i] != u->transformer_layers_per_block[0];
    /* the up path: layers_per_block + 1 resnets per block, deepest first */
    int k = 0;
    for (int i = 0; i < nb; i++) {
        const int r = nb - 1 - i;
        const int attn = has(c, U "output_blocks.%d.1.proj_in.weight", k);
        u->up_block_types[i] = attn ? VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D : VKTI_UNET_UP_BLOCK_2D;
        k += u->layers_per_block[r] + 1;
    }
    /* from the family: heads, groups, sizes */
    for (int i = 0; i < nb; i++) {
        const int ch = u->block_out_channels[i];
        if (family == VKTI_SD_FAMILY_SD2 && ch % 64 == 0)
            u->heads[i] = ch / 64;
        else
            u->heads[i] = ch % 8 == 0 ? 8 : 1;
        u->heads_is_list |= u->heads[i] != u->heads[0];
    }
    u->heads_is_list |= family == VKTI_SD_FAMILY_SD2; /* as SD 2.x's config writes it */
    u->mid_block_type = VKTI_UNET_MID_CROSS_ATTN;
    u->norm_num_groups = groups_for(u->block_out_channels, nb);
    u->norm_eps = 1e-5;
    u->flip_sin_to_cos = 1;
    u->downsample_padding = 1;
    u->mid_block_scale_factor = 1.0;
    u->sample_size = family == VKTI_SD_FAMILY_SD2 && v_prediction ? 96 : 64;
    return vkti_unet_config_check(c->d, u, c->src);
}

static int infer_text(const ictx *c, vkti_sd_family family, vkti_clip_text_config *t)
{
    memset(t, 0, sizeof *t);
    const vkti_io_tensor *tok, *pos, *fc1;
    int rc;
    if (family == VKTI_SD_FAMILY_SD1) {
        /* transformers' CLIPTextModel names, under text_model. (older files: without it) */
        const char *T1 = has(c, "%s", "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight")
                             ? "cond_stage_model.transformer.text_model."
                             : "cond_stage_model.transformer.";
        char name[3][128];
        snprintf(name[0], sizeof name[0], "%sembeddings.token_embedding.weight", T1);
        snprintf(name[1], sizeof name[1], "%sembeddings.position_embedding.weight", T1);
        snprintf(name[2], sizeof name[2], "%sencoder.layers.0.mlp.fc1.weight", T1);
        if ((rc = need(c, name[0], 2, &tok)) || (rc = need(c, name[1], 2, &pos)) || (rc = need(c, name[2], 2, &fc1)))
            return rc;
        t->num_hidden_layers = 0;
        while (t->num_hidden_layers <= VKTI_SD_MAX_TEXT_LAYERS &&
               has(c, "%sencoder.layers.%d.layer_norm1.weight", T1, t->num_hidden_layers))
            t->num_hidden_layers++;
        t->hidden_act = VKTI_CLIP_QUICK_GELU;
    } else {
#define T2 "cond_stage_model.model."
        if ((rc = need(c, T2 "token_embedding.weight", 2, &tok)) || (rc = need(c, T2 "positional_embedding", 2, &pos)) ||
            (rc = need(c, T2 "transformer.resblocks.0.mlp.c_fc.weight", 2, &fc1)))
            return rc;
        int r = 0;
        while (r <= VKTI_SD_MAX_TEXT_LAYERS && has(c, T2 "transformer.resblocks.%d.ln_1.weight", r))
            r++;
        if (r < 2)
            return vkti_fail(c->d, VKTI_E_FORMAT, "%s: the OpenCLIP text encoder has %d resblock%s; SD 2.x uses the "
                                                  "output of the penultimate one, so at least 2 are needed",
                             c->src, r, r == 1 ? "" : "s");
        t->num_hidden_layers = r - 1;
        t->hidden_act = VKTI_CLIP_GELU;
#undef T2
    }
    t->vocab_size = dim(tok, 0);
    t->hidden_size = dim(tok, 1);
    t->max_position_embeddings = dim(pos, 0);
    t->intermediate_size = dim(fc1, 0);
    t->num_attention_heads = t->hidden_size % 64 == 0 ? t->hidden_size / 64 : 1;
    t->layer_norm_eps = 1e-5;
    t->bos_token_id = 0; /* what the released SD 1.x and 2.x text_encoder configs say */
    t->eos_token_id = 2;
    t->pad_token_id = 1;
    return vkti_clip_text_config_check(c->d, t, c->src);
}

#define V "first_stage_model."

static int infer_vae(const ictx *c, vkti_sd_family family, int v_prediction, vkti_vae_config *v)
{
    memset(v, 0, sizeof *v);
    const vkti_io_tensor *t;
    int rc;
    if ((rc = need(c, V "encoder.conv_in.weight", 4, &t)))
        return rc;
    v->in_channels = dim(t, 1);
    int n = 0;
    while (n <= VKTI_SD_MAX_BLOCKS && (t = find(c, V "encoder.down.%d.block.0.conv1.weight", n)) && t->ndim == 4) {
        if (n < VKTI_SD_MAX_BLOCKS)
            v->block_out_channels[n] = dim(t, 0);
        n++;
    }
    if (n < 1 || n > VKTI_SD_MAX_BLOCKS)
        return vkti_fail(c->d, VKTI_E_FORMAT, "%s: the VAE encoder has %d blocks (encoder.down.N); 1 to %d expected",
                         c->src, n, VKTI_SD_MAX_BLOCKS);
    v->num_blocks = n;
    v->layers_per_block = count_indexed(c, V "encoder.down.0.block.", ".conv1.weight", VKTI_SD_MAX_LAYERS);
    if ((rc = need(c, V "decoder.conv_in.weight", 4, &t)))
        return rc;
    v->latent_channels = dim(t, 1);
    if ((rc = need(c, V "decoder.conv_out.weight", 4, &t)))
        return rc;
    v->out_channels = dim(t, 0);
    v->use_quant_conv = has(c, "%s", V "quant_conv.weight");
    v->use_post_quant_conv = has(c, "%s", V "post_quant_conv.weight");
    v->mid_block_add_attention = has(c, "%s", V "encoder.mid.attn_1.q.weight");
    v->norm_num_groups = groups_for(v->block_out_channels, n);
    v->sample_size = family == VKTI_SD_FAMILY_SD2 && v_prediction ? 768 : 512;
    v->scaling_factor = 0.18215;
    v->force_upcast = 1;
    return vkti_vae_config_check(c->d, v, c->src);
}

int vkti_ldm_infer(vkti_diag *d, const vkti_io_tensor *s, size_t n, int64_t global_step, const char *src,
                   vkti_ldm_guess *out)
{
    memset(out, 0, sizeof *out);
    ictx c = {d, s, n, src};
    /* what it is not */
    if (vkti_ldm_has_prefix(s, n, "conditioner.embedders."))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: an SDXL checkpoint (conditioner.embedders.*); vkti supports Stable "
                                                "Diffusion 1.x and 2.x", src);
    if (vkti_ldm_has_prefix(s, n, U "label_emb."))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the UNet has a class/size embedding (label_emb: SDXL or an upscaler); "
                                                "vkti supports Stable Diffusion 1.x and 2.x", src);
    if (!vkti_ldm_lookup(s, n, U "input_blocks.0.0.weight")) {
        if (vkti_ldm_lookup(s, n, "conv_in.weight") && vkti_ldm_has_prefix(s, n, "down_blocks."))
            return vkti_fail(d, VKTI_E_FORMAT, "%s: a lone diffusers UNet file; give the whole diffusers folder "
                                                    "(the one with model_index.json)", src);
        if (vkti_ldm_has_prefix(s, n, U "joint_blocks.") || vkti_ldm_has_prefix(s, n, "joint_blocks.") ||
            vkti_ldm_has_prefix(s, n, U "double_blocks.") || vkti_ldm_has_prefix(s, n, "double_blocks."))
            return vkti_fail(d, VKTI_E_FORMAT, "%s: a diffusion-transformer checkpoint (SD3 / Flux); vkti supports "
                                                    "Stable Diffusion 1.x and 2.x", src);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not a Stable Diffusion checkpoint: no tensor %sinput_blocks.0.0.weight "
                                           "(the original layout's UNet)%s", src, U,
                         n ? "" : "; the file holds no tensors");
    }
    if (vkti_ldm_lookup(s, n, "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight") ||
        vkti_ldm_lookup(s, n, "cond_stage_model.transformer.embeddings.token_embedding.weight")) {
        out->family = VKTI_SD_FAMILY_SD1;
        snprintf(out->reason, sizeof out->reason, "its text encoder is OpenAI CLIP "
                                                  "(cond_stage_model.transformer.*); epsilon prediction");
    } else if (vkti_ldm_lookup(s, n, "cond_stage_model.model.token_embedding.weight")) {
        out->family = VKTI_SD_FAMILY_SD2;
        out->v_prediction = global_step != 875000;
        if (out->v_prediction)
            snprintf(out->reason, sizeof out->reason,
                     "its text encoder is OpenCLIP (cond_stage_model.model.*); v_prediction, as diffusers "
                     "decides for SD 2.x single files %s", global_step < 0 ? "(no global_step recorded)"
                                                                           : "(global_step is not 875000)");
        else
            snprintf(out->reason, sizeof out->reason,
                     "its text encoder is OpenCLIP (cond_stage_model.model.*); epsilon prediction, as diffusers "
                     "decides for global_step 875000 (SD 2.0-base)");
    } else if (vkti_ldm_has_prefix(s, n, "cond_stage_model.")) {
        return vkti_fail(d, VKTI_E_FORMAT, "%s: its text encoder (cond_stage_model.*) is neither OpenAI CLIP "
                                                "(cond_stage_model.transformer.text_model.*) nor OpenCLIP "
                                                "(cond_stage_model.model.*)", src);
    } else {
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the checkpoint has no text encoder (cond_stage_model.*): a UNet-only "
                                           "file cannot be trained on", src);
    }
    if (!vkti_ldm_has_prefix(s, n, V))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the checkpoint has no VAE (first_stage_model.*)", src);
    int rc;
    if ((rc = infer_unet(&c, out->family, out->v_prediction, &out->unet)) ||
        (rc = infer_text(&c, out->family, &out->text)) ||
        (rc = infer_vae(&c, out->family, out->v_prediction, &out->vae)))
        return rc;
    return VKTI_OK;
}
