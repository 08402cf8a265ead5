/* sd_synth.c — random Stable Diffusion models in every layout vkti reads (see sd_synth.h); the .ckpt
 * through pickle_write.h and zip_write.h, as torch.save lays it out. */
#include "io/sd_synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "base/platform.h"
#include "io/pickle_write.h"
#include "io/safetensors.h"
#include "io/sd_tensors.h"
#include "io/zip_write.h"

/* ---- presets ---------------------------------------------------------------------------------- */

static void tiny_unet(vkti_unet_config *u)
{
    memset(u, 0, sizeof *u);
    u->sample_size = 8;
    u->in_channels = u->out_channels = 4;
    u->flip_sin_to_cos = 1;
    u->num_blocks = 2;
    u->down_block_types[0] = VKTI_UNET_CROSS_ATTN_DOWN_BLOCK_2D;
    u->down_block_types[1] = VKTI_UNET_DOWN_BLOCK_2D;
    u->up_block_types[0] = VKTI_UNET_UP_BLOCK_2D;
    u->up_block_types[1] = VKTI_UNET_CROSS_ATTN_UP_BLOCK_2D;
    u->mid_block_type = VKTI_UNET_MID_CROSS_ATTN;
    u->block_out_channels[0] = 32;
    u->block_out_channels[1] = 64;
    for (int i = 0; i < 2; i++) {
        u->layers_per_block[i] = 1;
        u->transformer_layers_per_block[i] = 1;
        u->heads[i] = 2;
    }
    u->cross_attention_dim = 32;
    u->norm_num_groups = 8;
    u->norm_eps = 1e-5;
    u->conv_in_kernel = u->conv_out_kernel = 3;
    u->downsample_padding = 1;
    u->mid_block_scale_factor = 1.0;
}

static void tiny_text(vkti_clip_text_config *t)
{
    memset(t, 0, sizeof *t);
    t->vocab_size = 809; /* tests/data/tokenizer/tiny */
    t->hidden_size = 32;
    t->intermediate_size = 64;
    t->num_hidden_layers = 2;
    t->num_attention_heads = 4;
    t->max_position_embeddings = 77;
    t->hidden_act = VKTI_CLIP_QUICK_GELU;
    t->layer_norm_eps = 1e-5;
    t->bos_token_id = 807;
    t->eos_token_id = 808;
    t->pad_token_id = 808;
}

static void tiny_vae(vkti_vae_config *v)
{
    static const int boc[4] = {16, 32, 32, 32};
    memset(v, 0, sizeof *v);
    v->in_channels = v->out_channels = 3;
    v->latent_channels = 4;
    v->num_blocks = 4;
    memcpy(v->block_out_channels, boc, sizeof boc);
    v->layers_per_block = 1;
    v->norm_num_groups = 8;
    v->sample_size = 64;
    v->scaling_factor = 0.18215;
    v->use_quant_conv = v->use_post_quant_conv = 1;
    v->mid_block_add_attention = 1;
    v->force_upcast = 1;
}

int vkti_sd_synth_preset(vkti_diag *d, const char *name, vkti_sd_synth *s)
{
    memset(s, 0, sizeof *s);
    s->dtype = VKTI_IO_F32;
    if (!strcmp(name, "tiny") || !strcmp(name, "tiny-sd2")) {
        tiny_unet(&s->unet);
        tiny_text(&s->text);
        tiny_vae(&s->vae);
        if (!strcmp(name, "tiny-sd2")) {
            s->family = VKTI_SD_FAMILY_SD2;
            s->unet.use_linear_projection = 1;
            s->unet.heads[1] = 4; /* 16-wide heads in both blocks, as SD 2.x's 64-wide ones */
            s->unet.heads_is_list = 1;
            s->text.hidden_act = VKTI_CLIP_GELU;
            s->text.pad_token_id = 0; /* "!" */
            s->v_prediction = 1;
        }
    } else if (!strcmp(name, "sd15")) {
        vkti_unet_config_sd15(&s->unet);
        vkti_clip_text_config_sd15(&s->text);
        vkti_vae_config_sd15(&s->vae);
        s->dtype = VKTI_IO_F16;
    } else {
        return vkti_fail(d, VKTI_E_INVALID, "unknown preset \"%.40s\" (tiny, tiny-sd2, sd15)", name);
    }
    int rc;
    if ((rc = vkti_unet_config_check(d, &s->unet, name)) || (rc = vkti_clip_text_config_check(d, &s->text, name)) ||
        (rc = vkti_vae_config_check(d, &s->vae, name)))
        return rc;
    return VKTI_OK;
}

/* ---- values --------------------------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* n values for the tensor called name (shape: its diffusers shape), from the stream (seed, name). */
static void draw(float *out, uint64_t n, uint64_t seed, const char *name, int ndim, const int64_t *shape)
{
    uint64_t state = seed * 0x9e3779b97f4a7c15ull ^ name_hash(name);
    const size_t len = strlen(name);
    const int is_bias = len >= 5 && !strcmp(name + len - 5, ".bias");
    float center = 0.0f, a;
    if (strstr(name, "token_embedding") || strstr(name, "position_embedding") || strstr(name, "positional_embedding")) {
        a = strstr(name, "token_embedding") ? (float)sqrt(3.0) : (float)sqrt(0.75);
    } else if (is_bias) {
        a = 0.05f;
    } else if (ndim <= 1) {
        center = 1.0f; /* a norm's gain */
        a = 0.1f;
    } else {
        double fan_in = 1;
        for (int i = 1; i < ndim; i++)
            fan_in *= (double)shape[i];
        a = (float)sqrt(3.0 / fan_in);
    }
    uint64_t bits = 0;
    for (uint64_t i = 0; i < n; i++) {
        /* u uniform in [-1, 1): a 24-bit integer scaled by a power of two (exact in float); two
         * per 64-bit draw */
        if (!(i & 1))
            bits = splitmix64(&state);
        const uint32_t k = (uint32_t)(i & 1 ? bits >> 40 : (bits >> 8) & 0xffffffu);
        const float u = (float)k * 0x1p-23f - 1.0f;
        const float v = a * u; /* separate statements: no contraction into a fused multiply-add */
        out[i] = center + v;
    }
}

/* ---- generated tensors ---------------------------------------------------------------------------- */

typedef struct gen {
    vkti_io_tensor *t; /* name, dtype, shape, data (owned when owned[i]) */
    uint8_t *owned;
    char **names;      /* owned names */
    size_t n, cap;
} gen;

static void gen_free(gen *g)
{
    for (size_t i = 0; i < g->n; i++) {
        if (g->owned[i])
            free((void *)g->t[i].data);
        free(g->names[i]);
    }
    free(g->t);
    free(g->owned);
    free(g->names);
    memset(g, 0, sizeof *g);
}

/* Appends a tensor (data: borrowed unless own; NULL: allocated zeroed, owned). */
static vkti_io_tensor *gen_add(vkti_diag *d, gen *g, const char *name, vkti_io_dtype dt, int ndim, const int64_t *shape,
                               const void *data)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        vkti_io_tensor *t = realloc(g->t, cap * sizeof *t);
        if (t)
            g->t = t;
        uint8_t *o = realloc(g->owned, cap);
        if (o)
            g->owned = o;
        char **nm = realloc(g->names, cap * sizeof *nm);
        if (nm)
            g->names = nm;
        if (!t || !o || !nm) {
            vkti_fail(d, VKTI_E_OOM, "out of memory");
            return NULL;
        }
        g->cap = cap;
    }
    vkti_io_tensor *t = &g->t[g->n];
    memset(t, 0, sizeof *t);
    size_t nl = strlen(name) + 1;
    char *nm = malloc(nl);
    if (!nm) {
        vkti_fail(d, VKTI_E_OOM, "out of memory");
        return NULL;
    }
    memcpy(nm, name, nl);
    t->name = nm;
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    vkti_io_tensor_set_packed(t);
    g->names[g->n] = nm;
    g->owned[g->n] = data == NULL;
    if (!data) {
        void *p = calloc(t->bytes ? t->bytes : 1, 1);
        if (!p) {
            free(nm);
            vkti_fail(d, VKTI_E_OOM, "out of memory for tensor %s (%llu bytes)", name, (unsigned long long)t->bytes);
            return NULL;
        }
        data = p;
    }
    t->data = data;
    g->n++;
    return t;
}

/* f32 -> f16 rounded to nearest even, as vkti_f32_to_f16, with a branch-light path for results in
 * the normal range (nearly all weights): a third of sd15's generation time otherwise. */
static uint16_t to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t absx = x & 0x7fffffffu;
    if (absx < 0x38800000u || absx >= 0x477ff000u) /* subnormal, zero, overflow, inf, nan */
        return vkti_f32_to_f16(f);
    const uint32_t rounded = absx + 0xfffu + ((absx >> 13) & 1u); /* ties to even */
    return (uint16_t)(((x >> 16) & 0x8000u) | ((rounded >> 13) - (112u << 10)));
}

/* Converts n floats into dst of dtype dt. */
static void store(void *dst, vkti_io_dtype dt, const float *src, uint64_t n)
{
    if (dt == VKTI_IO_F32) {
        memcpy(dst, src, (size_t)n * 4);
    } else if (dt == VKTI_IO_F16) {
        uint16_t *o = dst;
        for (uint64_t i = 0; i < n; i++)
            o[i] = to_f16(src[i]);
    } else {
        uint16_t *o = dst;
        for (uint64_t i = 0; i < n; i++)
            o[i] = vkti_f32_to_bf16(src[i]);
    }
}

/* A random tensor of the given name and shape, in dtype dt (seeded by seed_name). */
static int gen_random(vkti_diag *d, gen *g, const char *name, const char *seed_name, vkti_io_dtype dt, int ndim,
                      const int64_t *shape, uint64_t seed, float **scratch, uint64_t *scratch_n)
{
    vkti_io_tensor *t = gen_add(d, g, name, dt, ndim, shape, NULL);
    if (!t)
        return VKTI_E_OOM;
    if (t->numel > *scratch_n) {
        float *p = realloc(*scratch, (size_t)t->numel * sizeof *p);
        if (!p)
            return vkti_fail(d, VKTI_E_OOM, "out of memory for tensor %s", name);
        *scratch = p;
        *scratch_n = t->numel;
    }
    draw(*scratch, t->numel, seed, seed_name, ndim, shape);
    store((void *)t->data, dt, *scratch, t->numel);
    return VKTI_OK;
}

/* Every tensor of a table, diffusers-named, in dtype dt. */
static int gen_table(vkti_diag *d, gen *g, const vkti_sd_table *tab, vkti_io_dtype dt, uint64_t seed)
{
    float *scratch = NULL;
    uint64_t scratch_n = 0;
    int rc = VKTI_OK;
    for (size_t i = 0; i < tab->count && !rc; i++) {
        const vkti_sd_tensor *e = &tab->t[i];
        rc = gen_random(d, g, e->name, e->name, dt, e->ndim, e->shape, seed, &scratch, &scratch_n);
    }
    free(scratch);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------------------------ */

static int write_text(vkti_diag *d, const char *path, const char *text)
{
    if (!text)
        return vkti_fail(d, VKTI_E_OOM, "out of memory writing %s", path);
    return vkti_file_write_atomic(d, path, text, strlen(text));
}

static int copy_file(vkti_diag *d, const char *from, const char *to)
{
    uint8_t *data;
    size_t size;
    int rc = vkti_file_read(d, from, 64u << 20, &data, &size);
    if (rc)
        return rc;
    rc = vkti_file_write_atomic(d, to, data, size);
    free(data);
    return rc;
}

/* out = dir + "/" + name, refused when longer than cap */
static int path_join(vkti_diag *d, char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return vkti_fail(d, VKTI_E_INVALID, "path too long: %.200s/%s", dir, name);
    return VKTI_OK;
}

static int write_tokenizer(vkti_diag *d, const vkti_sd_synth *s, const char *dir)
{
    char from[4200], to[4200];
    int rc;
    static const char *const files[2] = {"vocab.json", "merges.txt"};
    for (int i = 0; i < 2; i++) {
        if ((rc = path_join(d, from, sizeof from, s->tokenizer_from, files[i])) ||
            (rc = path_join(d, to, sizeof to, dir, files[i])) || (rc = copy_file(d, from, to)))
            return rc;
    }
    const char *pad = s->family == VKTI_SD_FAMILY_SD2 ? "!" : "<|endoftext|>";
    char text[1024];
    snprintf(text, sizeof text,
             "{\n  \"bos_token\": \"<|startoftext|>\",\n  \"eos_token\": \"<|endoftext|>\",\n"
             "  \"pad_token\": \"%s\",\n  \"unk_token\": \"<|endoftext|>\"\n}\n", pad);
    if ((rc = path_join(d, to, sizeof to, dir, "special_tokens_map.json")) || (rc = write_text(d, to, text)))
        return rc;
    snprintf(text, sizeof text,
             "{\n  \"add_prefix_space\": false,\n  \"bos_token\": \"<|startoftext|>\",\n  \"do_lower_case\": true,\n"
             "  \"eos_token\": \"<|endoftext|>\",\n  \"errors\": \"replace\",\n  \"model_max_length\": %d,\n"
             "  \"pad_token\": \"%s\",\n  \"tokenizer_class\": \"CLIPTokenizer\",\n  \"unk_token\": \"<|endoftext|>\"\n}\n",
             s->text.max_position_embeddings, pad);
    if ((rc = path_join(d, to, sizeof to, dir, "tokenizer_config.json")))
        return rc;
    return write_text(d, to, text);
}

static const char MODEL_INDEX[] =
    "{\n  \"_class_name\": \"StableDiffusionPipeline\",\n  \"_diffusers_version\": \"0.30.0\",\n"
    "  \"feature_extractor\": [null, null],\n  \"image_encoder\": [null, null],\n"
    "  \"requires_safety_checker\": false,\n  \"safety_checker\": [null, null],\n"
    "  \"scheduler\": [\"diffusers\", \"%s\"],\n  \"text_encoder\": [\"transformers\", \"CLIPTextModel\"],\n"
    "  \"tokenizer\": [\"transformers\", \"CLIPTokenizer\"],\n  \"unet\": [\"diffusers\", \"UNet2DConditionModel\"],\n"
    "  \"vae\": [\"diffusers\", \"AutoencoderKL\"]\n}\n";

/* Converts a generated set to another dtype (for the .fp16 variant). */
static int convert_set(vkti_diag *d, const gen *src, vkti_io_dtype dt, gen *out)
{
    memset(out, 0, sizeof *out);
    float *tmp = NULL;
    uint64_t tmp_n = 0;
    for (size_t i = 0; i < src->n; i++) {
        const vkti_io_tensor *t = &src->t[i];
        vkti_io_tensor *o = gen_add(d, out, t->name, dt, t->ndim, t->shape, NULL);
        if (!o) {
            free(tmp);
            return VKTI_E_OOM;
        }
        if (t->numel > tmp_n) {
            float *p = realloc(tmp, (size_t)t->numel * sizeof *p);
            if (!p) {
                free(tmp);
                return vkti_fail(d, VKTI_E_OOM, "out of memory");
            }
            tmp = p;
            tmp_n = t->numel;
        }
        vkti_io_tensor_to_f32(d, t, tmp, t->numel);
        store((void *)o->data, dt, tmp, t->numel);
    }
    free(tmp);
    return VKTI_OK;
}

static int write_diffusers(vkti_diag *d, const vkti_sd_synth *s, const char *dir, gen *sets)
{
    static const char *const comps[3] = {"unet", "text_encoder", "vae"};
    static const char *const weights[3] = {"diffusion_pytorch_model", "model", "diffusion_pytorch_model"};
    const vkti_st_meta fmt = {"format", "pt"}; /* transformers refuses safetensors files without it */
    char path[4200];
    int rc;
    char *configs[3] = {vkti_unet_config_to_json(&s->unet), vkti_clip_text_config_to_json(&s->text),
                        vkti_vae_config_to_json(&s->vae)};
    rc = vkti_mkdir_p(d, dir);
    for (int c = 0; c < 3 && !rc; c++) {
        snprintf(path, sizeof path, "%s/%s", dir, comps[c]);
        if ((rc = vkti_mkdir_p(d, path)))
            break;
        snprintf(path, sizeof path, "%s/%s/config.json", dir, comps[c]);
        if ((rc = write_text(d, path, configs[c])))
            break;
        snprintf(path, sizeof path, "%s/%s/%s.safetensors", dir, comps[c], weights[c]);
        if ((rc = vkti_safetensors_write(d, path, sets[c].t, sets[c].n, &fmt, 1)))
            break;
        if (s->fp16_variant) {
            gen half;
            if (!(rc = convert_set(d, &sets[c], VKTI_IO_F16, &half))) {
                snprintf(path, sizeof path, "%s/%s/%s.fp16.safetensors", dir, comps[c], weights[c]);
                rc = vkti_safetensors_write(d, path, half.t, half.n, &fmt, 1);
            }
            gen_free(&half);
        }
    }
    for (int c = 0; c < 3; c++)
        free(configs[c]);
    if (rc)
        return rc;
    char text[2048];
    snprintf(text, sizeof text, MODEL_INDEX, s->v_prediction ? "DDIMScheduler" : "PNDMScheduler");
    snprintf(path, sizeof path, "%s/model_index.json", dir);
    if ((rc = write_text(d, path, text)))
        return rc;
    snprintf(path, sizeof path, "%s/scheduler", dir);
    if ((rc = vkti_mkdir_p(d, path)))
        return rc;
    snprintf(path, sizeof path, "%s/scheduler/scheduler_config.json", dir);
    char *sched = vkti_scheduler_config_sd(s->v_prediction);
    rc = write_text(d, path, sched);
    free(sched);
    if (rc || !s->tokenizer_from)
        return rc;
    snprintf(path, sizeof path, "%s/tokenizer", dir);
    if ((rc = vkti_mkdir_p(d, path)))
        return rc;
    return write_tokenizer(d, s, path);
}

/* The single file's tensors: every network's under its LDM name (borrowing the generated data;
 * OpenCLIP's q, k, v fused), plus what real checkpoints carry beyond the networks. */
static int ldm_set(vkti_diag *d, const vkti_sd_synth *s, const vkti_sd_table *tabs, const gen *sets, gen *out)
{
    memset(out, 0, sizeof *out);
    int rc = VKTI_OK;
    for (int c = 0; c < 3 && !rc; c++) {
        for (size_t i = 0; i < tabs[c].count && !rc; i++) {
            const vkti_sd_tensor *e = &tabs[c].t[i];
            const vkti_io_tensor *src = &sets[c].t[i];
            int64_t shape[4];
            const int ndim = vkti_sd_ldm_shape(e, shape);
            if (e->ldm_op != VKTI_LDM_QKV) {
                if (!gen_add(d, out, e->ldm, src->dtype, ndim, shape, src->data))
                    rc = VKTI_E_OOM;
                continue;
            }
            vkti_io_tensor *fused = NULL;
            for (size_t k = 0; k < out->n && !fused; k++)
                if (!strcmp(out->t[k].name, e->ldm))
                    fused = &out->t[k];
            if (!fused && !(fused = gen_add(d, out, e->ldm, src->dtype, ndim, shape, NULL))) {
                rc = VKTI_E_OOM;
                continue;
            }
            memcpy((uint8_t *)fused->data + e->ldm_part * src->bytes, src->data, (size_t)src->bytes);
        }
    }
    if (rc)
        return rc;
    float *scratch = NULL;
    uint64_t scratch_n = 0;
    const int64_t D = s->text.hidden_size, I = s->text.intermediate_size;
    if (s->family == VKTI_SD_FAMILY_SD1) {
        const int64_t shape[2] = {1, s->text.max_position_embeddings};
        vkti_io_tensor *t = gen_add(d, out, "cond_stage_model.transformer.text_model.embeddings.position_ids",
                                    VKTI_IO_I64, 2, shape, NULL);
        if (!t)
            return VKTI_E_OOM;
        for (int64_t i = 0; i < shape[1]; i++)
            memcpy((uint8_t *)t->data + i * 8, &i, 8);
    } else {
        /* the last OpenCLIP resblock (unused: SD 2.x takes the penultimate output) and the heads */
        char name[VKTI_SD_NAME_MAX];
        static const struct {
            const char *leaf;
            int ndim;
            int rows, cols; /* in units: 0 = D, 1 = 3D, 2 = I */
        } parts[] = {{"ln_1.weight", 1, 0, -1},         {"ln_1.bias", 1, 0, -1},
                     {"attn.in_proj_weight", 2, 1, 0},  {"attn.in_proj_bias", 1, 1, -1},
                     {"attn.out_proj.weight", 2, 0, 0}, {"attn.out_proj.bias", 1, 0, -1},
                     {"ln_2.weight", 1, 0, -1},         {"ln_2.bias", 1, 0, -1},
                     {"mlp.c_fc.weight", 2, 2, 0},      {"mlp.c_fc.bias", 1, 2, -1},
                     {"mlp.c_proj.weight", 2, 0, 2},    {"mlp.c_proj.bias", 1, 0, -1}};
        const int64_t unit[3] = {D, 3 * D, I};
        for (size_t k = 0; k < sizeof parts / sizeof parts[0] && !rc; k++) {
            snprintf(name, sizeof name, "cond_stage_model.model.transformer.resblocks.%d.%s", s->text.num_hidden_layers,
                     parts[k].leaf);
            const int64_t shape[2] = {unit[parts[k].rows], parts[k].cols >= 0 ? unit[parts[k].cols] : 0};
            rc = gen_random(d, out, name, name, s->dtype, parts[k].ndim, shape, s->seed, &scratch, &scratch_n);
        }
        const int64_t proj[2] = {D, D};
        if (!rc)
            rc = gen_random(d, out, "cond_stage_model.model.text_projection", "cond_stage_model.model.text_projection",
                            s->dtype, 2, proj, s->seed, &scratch, &scratch_n);
        vkti_io_tensor *t = rc ? NULL : gen_add(d, out, "cond_stage_model.model.logit_scale", VKTI_IO_F32, 0, proj, NULL);
        if (t) {
            const float v = 4.6052f; /* ln(100), OpenCLIP's trained value */
            memcpy((void *)t->data, &v, 4);
        } else if (!rc) {
            rc = VKTI_E_OOM;
        }
    }
    free(scratch);
    return rc;
}

/* ---- torch.save ---------------------------------------------------------------------------------- */

static const char *storage_class(vkti_io_dtype t)
{
    switch (t) {
    case VKTI_IO_F16: return "HalfStorage";
    case VKTI_IO_BF16: return "BFloat16Storage";
    case VKTI_IO_I64: return "LongStorage";
    default: return "FloatStorage";
    }
}

static void pkw_cstr(vkti_pkw *w, const char *s) { vkti_pkw_str(w, s, strlen(s)); }

/* Lightning's {"global_step": N, "state_dict": OrderedDict(name -> tensor)}, one storage per
 * tensor, as torch.save writes it (pickle_write.h, zip_write.h). */
static int write_ckpt(vkti_diag *d, const vkti_sd_synth *s, const gen *set, const char *path)
{
    uint64_t total = 0;
    for (size_t i = 0; i < set->n; i++)
        total += set->t[i].bytes;
    if (total >= ((uint64_t)4 << 30) - (1u << 20) || set->n > 65000)
        return vkti_fail(d, VKTI_E_INVALID, "%s: %llu bytes of weights; the .ckpt writer is for models under 4 GB", path,
                         (unsigned long long)total);
    const int64_t global_step = s->family == VKTI_SD_FAMILY_SD2 && !s->v_prediction ? 875000 : 470000;
    vkti_pkw w;
    vkti_pkw_init(&w);
    vkti_pkw_empty_dict(&w);
    vkti_pkw_items_begin(&w, 2);
    pkw_cstr(&w, "global_step");
    vkti_pkw_int(&w, global_step);
    pkw_cstr(&w, "state_dict");
    vkti_pkw_global(&w, "collections", "OrderedDict");
    vkti_pkw_tuple_begin(&w, 0);
    vkti_pkw_tuple_end(&w, 0);
    vkti_pkw_reduce(&w);
    char key[32];
    for (size_t at = 0; at < set->n; at += VKTI_PKW_BATCH) { /* SETITEMS in CPython's batches */
        const size_t n = set->n - at < VKTI_PKW_BATCH ? set->n - at : VKTI_PKW_BATCH;
        vkti_pkw_items_begin(&w, n);
        for (size_t i = at; i < at + n; i++) {
            const vkti_io_tensor *t = &set->t[i];
            pkw_cstr(&w, t->name);
            snprintf(key, sizeof key, "%zu", i);
            vkti_pkw_tensor(&w, storage_class(t->dtype), key, t->numel, 0, t->ndim, t->shape, t->stride, 0);
        }
        vkti_pkw_items_end(&w, n);
    }
    vkti_pkw_items_end(&w, 2);
    uint8_t *pkl = NULL, *zip = NULL;
    size_t pkl_size = 0, zip_size = 0;
    int rc = vkti_pkw_finish(d, &w, &pkl, &pkl_size);
    if (rc)
        return rc;
    vkti_zipw z;
    vkti_zipw_init(&z);
    rc = vkti_zipw_add(d, &z, "archive/data.pkl", pkl, pkl_size);
    if (!rc)
        rc = vkti_zipw_add(d, &z, "archive/byteorder", "little", 6);
    char name[64];
    for (size_t i = 0; i < set->n && !rc; i++) {
        snprintf(name, sizeof name, "archive/data/%zu", i);
        rc = vkti_zipw_add(d, &z, name, set->t[i].data, (size_t)set->t[i].bytes);
    }
    if (!rc)
        rc = vkti_zipw_add(d, &z, "archive/version", "3\n", 2);
    if (!rc)
        rc = vkti_zipw_finish(d, &z, &zip, &zip_size);
    else
        vkti_zipw_free(&z);
    if (!rc)
        rc = vkti_file_write_atomic(d, path, zip, zip_size);
    free(pkl);
    free(zip);
    return rc;
}

/* ---- everything ----------------------------------------------------------------------------------------- */

int vkti_sd_synth_write(vkti_diag *d, const vkti_sd_synth *s, const char *dir, const char *single, const char *ckpt)
{
    vkti_sd_table tabs[3];
    memset(tabs, 0, sizeof tabs);
    gen sets[3], ldm;
    memset(sets, 0, sizeof sets);
    memset(&ldm, 0, sizeof ldm);
    vkti_unet_config unet = s->unet;
    int rc;
    if (s->dtype != VKTI_IO_F32 && s->dtype != VKTI_IO_F16 && s->dtype != VKTI_IO_BF16)
        return vkti_fail(d, VKTI_E_INVALID, "weights are written as F32, F16 or BF16, not %s", vkti_io_dtype_name(s->dtype));
    if ((rc = vkti_unet_config_check(d, &unet, "the model")) ||
        (rc = vkti_clip_text_config_check(d, &s->text, "the model")) ||
        (rc = vkti_vae_config_check(d, &s->vae, "the model")))
        return rc;
    if ((rc = vkti_sd_unet_tensors(d, &unet, &tabs[0])) || (rc = vkti_sd_text_tensors(d, &s->text, s->family, &tabs[1])) ||
        (rc = vkti_sd_vae_tensors(d, &s->vae, &tabs[2])))
        goto done;
    for (int c = 0; c < 3 && !rc; c++)
        rc = gen_table(d, &sets[c], &tabs[c], s->dtype, s->seed);
    if (!rc && dir)
        rc = write_diffusers(d, s, dir, sets);
    if (!rc && (single || ckpt))
        rc = ldm_set(d, s, tabs, sets, &ldm);
    if (!rc && single) {
        char *json[4] = {vkti_unet_config_to_json(&unet), vkti_clip_text_config_to_json(&s->text),
                         vkti_vae_config_to_json(&s->vae), vkti_scheduler_config_sd(s->v_prediction)};
        if (!json[0] || !json[1] || !json[2] || !json[3]) {
            rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
        } else {
            const vkti_st_meta meta[5] = {{"format", "pt"},
                                          {"vkti.unet_config", json[0]},
                                          {"vkti.text_encoder_config", json[1]},
                                          {"vkti.vae_config", json[2]},
                                          {"vkti.scheduler_config", json[3]}};
            rc = vkti_safetensors_write(d, single, ldm.t, ldm.n, meta, 5);
        }
        for (int i = 0; i < 4; i++)
            free(json[i]);
    }
    if (!rc && ckpt)
        rc = write_ckpt(d, s, &ldm, ckpt);
done:
    gen_free(&ldm);
    for (int c = 0; c < 3; c++) {
        gen_free(&sets[c]);
        vkti_sd_table_free(&tabs[c]);
    }
    return rc;
}
