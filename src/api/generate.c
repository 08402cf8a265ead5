/* generate.c — the public API of vkti/generate.h (`vkti generate`): checks every input it can before
 * anything heavy is loaded (options, the output, the embeddings against the model and the prompt),
 * then opens the model (sample/pipeline.h), samples and decodes (sample/txt2img.h) and writes each
 * image as a PNG with AUTOMATIC1111's parameters text (sample/infotext.h).
 *
 * Choices where nothing else decides: the model's own size by default (diffusers: the UNet's
 * sample_size times the VAE's factor); a random 32-bit seed when none is given (as A1111);
 * "Model hash" is A1111's legacy hash of a single-file checkpoint (sha256 of 64 KiB at 1 MiB:
 * instant, and A1111 still matches it) and is left out for a diffusers folder, which A1111 cannot
 * load; "TI hashes" as A1111 writes them (sha256 of each embedding file, 12 digits). The text
 * encoder and the UNet are freed before the decode, so the decode has their memory. */
#include "vkti/generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctx_internal.h"
#include "base/platform.h"
#include "base/sha256.h"
#include "base/str.h"
#include "io/embedding.h"
#include "io/image.h"
#include "io/safetensors.h"
#include "sample/infotext.h"
#include "sample/pipeline.h"
#include "sample/prompt.h"

typedef struct report_impl {
    vkti_generate_report pub; /* first: the public pointer is this one */
    char **files;
    char *parameters;
    char device[256];
} report_impl;

void vkti_generate_options_init(vkti_generate_options *o)
{
    memset(o, 0, sizeof *o);
    o->sampler = VKTI_SAMPLER_EULER_A;
    o->steps = 20;
    o->cfg = 7.0;
    o->seed = -1;
    o->batch = 1;
}

void vkti_generate_report_free(vkti_generate_report *r)
{
    report_impl *ri = (report_impl *)r;
    if (!ri)
        return;
    for (int i = 0; ri->files && i < ri->pub.images; i++)
        free(ri->files[i]);
    free(ri->files);
    free(ri->parameters);
    free(ri);
}

static int ends_with_png(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && s[n - 4] == '.' && (s[n - 3] | 32) == 'p' && (s[n - 2] | 32) == 'n' && (s[n - 1] | 32) == 'g';
}

/* the options alone */
static int check_options(vkti_diag *d, const vkti_generate_options *o)
{
    if (!o->model || !o->model[0])
        return vkti_fail(d, VKTI_E_INVALID, "--model is needed: a diffusers folder or a checkpoint file");
    if (!o->prompt)
        return vkti_fail(d, VKTI_E_INVALID, "--prompt is needed");
    if (!o->out || !o->out[0])
        return vkti_fail(d, VKTI_E_INVALID, "--out is needed: the PNG file to write");
    if (!ends_with_png(o->out))
        return vkti_fail(d, VKTI_E_INVALID, "--out %s: give a file name ending in .png", o->out);
    if (o->sampler < VKTI_SAMPLER_DDIM || o->sampler > VKTI_SAMPLER_DPMPP_2M)
        return vkti_fail(d, VKTI_E_INVALID, "unknown sampler");
    if (o->steps < 1 || o->steps > VKTI_GENERATE_MAX_STEPS)
        return vkti_fail(d, VKTI_E_INVALID, "--steps must be from 1 to %d, not %d", VKTI_GENERATE_MAX_STEPS, o->steps);
    if (o->batch < 1 || o->batch > VKTI_GENERATE_MAX_BATCH)
        return vkti_fail(d, VKTI_E_INVALID, "--batch must be from 1 to %d, not %d", VKTI_GENERATE_MAX_BATCH, o->batch);
    if (!(o->cfg >= 0 && o->cfg <= 100))
        return vkti_fail(d, VKTI_E_INVALID, "--cfg must be from 0 to 100, not %g", o->cfg);
    if (o->eta != 0 && o->sampler != VKTI_SAMPLER_DDIM)
        return vkti_fail(d, VKTI_E_INVALID, "--eta applies to the ddim sampler only (--sampler ddim)");
    if (!(o->eta >= 0 && o->eta <= 1))
        return vkti_fail(d, VKTI_E_INVALID, "--eta must be from 0 (deterministic) to 1, not %g", o->eta);
    if (o->karras && o->sampler != VKTI_SAMPLER_DPMPP_2M)
        return vkti_fail(d, VKTI_E_INVALID, "--karras applies to the dpmpp_2m sampler only (--sampler dpmpp_2m)");
    if (o->seed > VKTI_GENERATE_MAX_SEED - o->batch + 1)
        return vkti_fail(d, VKTI_E_INVALID, "--seed must be from 0 to %lld", VKTI_GENERATE_MAX_SEED - o->batch + 1);
    const int side[2] = {o->width, o->height};
    const char *flag[2] = {"--width", "--height"};
    for (int k = 0; k < 2; k++) {
        if (side[k] < 0 || side[k] > VKTI_GENERATE_MAX_SIDE)
            return vkti_fail(d, VKTI_E_INVALID, "%s must be from 8 to %d pixels, not %d", flag[k], VKTI_GENERATE_MAX_SIDE,
                             side[k]);
        if (side[k] % 8)
            return vkti_fail(d, VKTI_E_INVALID, "%s %d is not a multiple of 8 (the VAE works in 8-pixel cells); try %d",
                             flag[k], side[k], side[k] < 8 ? 8 : side[k] / 8 * 8);
    }
    if (o->embedding_count < 0 || o->embedding_count > VKTI_GENERATE_MAX_EMBEDDINGS)
        return vkti_fail(d, VKTI_E_INVALID, "at most %d embeddings", VKTI_GENERATE_MAX_EMBEDDINGS);
    return VKTI_OK;
}

/* every output can be written: a probe file beside each, removed again */
static int check_outputs(vkti_diag *d, const vkti_generate_options *o)
{
    for (int i = 0; i < o->batch + (o->save_latents ? 1 : 0); i++) {
        char *name = i < o->batch ? vkti_str_numbered(o->out, o->batch == 1 ? 0 : i + 1) : NULL;
        const char *path = i < o->batch ? name : o->save_latents;
        if (i < o->batch && !name)
            return vkti_fail(d, VKTI_E_OOM, "out of host memory");
        int rc = VKTI_OK;
        if (vkti_dir_exists(path)) {
            rc = vkti_fail(d, VKTI_E_INVALID, "%s is a folder; give a file name", path);
        } else {
            size_t n = strlen(path) + 32;
            char *probe = malloc(n);
            if (!probe) {
                rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
            } else {
                snprintf(probe, n, "%s.vkti-probe", path);
                if (vkti_file_write_atomic(d, probe, "", 0))
                    rc = vkti_fail_wrap(d, VKTI_E_IO, "cannot write %s (is the folder there and writable?): ", path);
                else
                    vkti_file_remove(probe);
                free(probe);
            }
        }
        free(name);
        if (rc)
            return rc;
    }
    return VKTI_OK;
}

static void base_name(const char *path, char *out, size_t cap, int strip_ext)
{
    size_t n = strlen(path);
    while (n > 1 && (path[n - 1] == '/' || path[n - 1] == '\\'))
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/' && path[start - 1] != '\\')
        start--;
    size_t end = n;
    if (strip_ext)
        for (size_t k = n; k > start; k--)
            if (path[k - 1] == '.') {
                end = k - 1;
                break;
            }
    size_t len = end - start < cap - 1 ? end - start : cap - 1;
    memcpy(out, path + start, len);
    out[len] = 0;
}

/* A1111's legacy model hash: sha256 of the 64 KiB at 1 MiB, 8 hex digits */
static int legacy_model_hash(vkti_diag *d, const char *path, char out[9])
{
    vkti_mapped_file f;
    if (vkti_file_map(d, path, &f))
        return VKTI_E_IO;
    size_t a = f.size < 0x100000 ? f.size : 0x100000, b = f.size < 0x110000 ? f.size : 0x110000;
    char hex[65];
    vkti_sha256_hex(f.data + a, b - a, hex);
    vkti_file_unmap(&f);
    memcpy(out, hex, 8);
    out[8] = 0;
    return VKTI_OK;
}

static int file_short_hash(vkti_diag *d, const char *path, char out[13])
{
    vkti_mapped_file f;
    if (vkti_file_map(d, path, &f))
        return VKTI_E_IO;
    char hex[65];
    vkti_sha256_hex(f.data, f.size, hex);
    vkti_file_unmap(&f);
    memcpy(out, hex, 12);
    out[12] = 0;
    return VKTI_OK;
}

static uint64_t random_seed(void)
{
    uint64_t z = (uint64_t)(vkti_now() * 1e6) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (z ^ (z >> 31)) & 0xffffffffull;
}

static void progress(const vkti_generate_options *o, const char *stage, int done, int total)
{
    if (o->progress)
        o->progress(o->progress_user, stage, done, total);
}

typedef struct tx_user {
    const vkti_generate_options *o;
} tx_user;

static void on_txt2img(void *user, const char *stage, int done, int total)
{
    const tx_user *u = user;
    progress(u->o, stage, done, total);
}

static int save_latents(vkti_diag *d, const char *path, const vkti_txt2img_result *r, int batch, uint64_t seed,
                        const char *params)
{
    vkti_io_tensor t[2];
    memset(t, 0, sizeof t);
    const char *names[2] = {"initial", "latents"};
    const float *data[2] = {r->initial, r->latents};
    for (int k = 0; k < 2; k++) {
        t[k].name = names[k];
        t[k].dtype = VKTI_IO_F32;
        t[k].ndim = 4;
        t[k].shape[0] = batch;
        t[k].shape[1] = r->latent_h;
        t[k].shape[2] = r->latent_w;
        t[k].shape[3] = r->latent_c;
        t[k].data = (const uint8_t *)data[k];
        vkti_io_tensor_set_packed(&t[k]);
    }
    char seed_s[32];
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    vkti_st_meta meta[3] = {{"layout", "NHWC (batch, height/8, width/8, channels)"}, {"seed", seed_s},
                            {"parameters", params ? params : ""}};
    return vkti_safetensors_write(d, path, t, 2, meta, 3);
}

int vkti_generate(vkti_ctx *ctx, const vkti_generate_options *o, vkti_generate_report **report)
{
    *report = NULL;
    vkti_diag *d = &ctx->diag;
    double t_start = vkti_now();
    int rc;
    if ((rc = check_options(d, o)) || (rc = check_outputs(d, o)))
        return rc;
    report_impl *ri = calloc(1, sizeof *ri);
    vkti_embedding *embs = calloc((size_t)(o->embedding_count ? o->embedding_count : 1), sizeof *embs);
    char (*ti_hash)[13] = calloc((size_t)(o->embedding_count ? o->embedding_count : 1), sizeof *ti_hash);
    vkti_sd_pipeline pl;
    memset(&pl, 0, sizeof pl);
    vkti_prompt_rows rows = {0};
    vkti_txt2img_result res;
    memset(&res, 0, sizeof res);
    char *ti_list = NULL;
    int nread = 0;
    if (!ri || !embs || !ti_hash) {
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
        goto done;
    }
    /* the embeddings, then the model's files, tokenizer and configs (nothing on the device yet) */
    for (; nread < o->embedding_count; nread++) {
        const vkti_generate_embedding *ge = &o->embeddings[nread];
        if ((rc = vkti_embedding_read(d, &embs[nread], ge->path)) || (rc = file_short_hash(d, ge->path, ti_hash[nread])))
            goto done;
    }
    if ((rc = vkti_sd_pipeline_open(d, &pl, o->model, o->tokenizer)))
        goto done;
    const int fv = 1 << (pl.vae_dims.nblocks - 1);
    vkti_txt2img_params p = {
        .prompt = o->prompt, .negative = o->negative, .sampler = o->sampler, .karras = o->karras, .eta = o->eta,
        .steps = o->steps, .cfg = o->cfg, .width = o->width, .height = o->height, .batch = o->batch,
        .max_vram = o->max_vram,
    };
    if (!p.width)
        p.width = (pl.model.unet.sample_size ? pl.model.unet.sample_size : 64) * fv;
    if (!p.height)
        p.height = (pl.model.unet.sample_size ? pl.model.unet.sample_size : 64) * fv;
    if ((rc = vkti_txt2img_check(d, &pl.unet_dims, &pl.vae_dims, &p)))
        goto done;
    /* the steps against the schedule (trailing counts, offsets past the end) */
    {
        vkti_sampler_plan plan;
        vkti_sampler_settings st = {o->sampler, o->steps, o->eta, o->karras, o->cfg};
        if ((rc = vkti_sampler_plan_init(d, &plan, &pl.schedule, &pl.sampling, &st)))
            goto done;
        vkti_sampler_plan_free(&plan);
    }
    /* the embeddings' tokens: added to the tokenizer, and each must be in a prompt the run reads */
    rows.vocab = pl.te_dims.vocab;
    rows.width = pl.te_dims.width;
    {
        int32_t ids_pos[VKTI_CLIP_LENGTH], ids_neg[VKTI_CLIP_LENGTH], first[VKTI_GENERATE_MAX_EMBEDDINGS];
        int cut_pos = 0, cut_neg = 0;
        for (int i = 0; i < o->embedding_count; i++)
            if ((rc = vkti_prompt_add_embedding(d, pl.tok, &rows, &embs[i], o->embeddings[i].token, o->embeddings[i].path,
                                                &first[i])))
                goto done;
        if ((rc = vkti_prompt_encode(d, pl.tok, o->prompt, ids_pos, VKTI_CLIP_LENGTH, &cut_pos)) ||
            (rc = vkti_prompt_encode(d, pl.tok, o->negative ? o->negative : "", ids_neg, VKTI_CLIP_LENGTH, &cut_neg)))
            goto done;
        const int guided = o->cfg > 1.0;
        for (int i = 0; i < o->embedding_count; i++) {
            const char *tok = o->embeddings[i].token ? o->embeddings[i].token : embs[i].token;
            int in_pos = vkti_prompt_has(ids_pos, VKTI_CLIP_LENGTH, first[i]);
            int in_neg = vkti_prompt_has(ids_neg, VKTI_CLIP_LENGTH, first[i]);
            if (in_pos || (guided && in_neg))
                continue;
            if (in_neg)
                rc = vkti_fail(d, VKTI_E_INVALID, "%s: '%s' is only in the negative prompt, which --cfg %g does not use "
                               "(guidance needs --cfg above 1)", o->embeddings[i].path, tok, o->cfg);
            else
                rc = vkti_fail(d, VKTI_E_INVALID, "%s: the prompt %s not contain its token '%s'%s; write it in the "
                               "prompt, or give FILE:TOKEN to name the token you wrote", o->embeddings[i].path,
                               guided ? "and the negative prompt do" : "does", tok,
                               (cut_pos || cut_neg) ? " (within the 75 tokens the text encoder reads)" : "");
            goto done;
        }
    }
    /* the device */
    progress(o, "loading", 0, 1);
    vkti_gpu *g;
    if ((rc = vkti__ctx_gpu(ctx, &g)))
        goto done;
    const vkti_dtype dt = ctx->opt.precision == VKTI_PRECISION_FP32 ? VKTI_F32 : VKTI_F16;
    if ((rc = vkti_sd_pipeline_load(d, &pl, g, dt)))
        goto done;
    ri->pub.seconds_load = vkti_now() - t_start;
    progress(o, "loading", 1, 1);
    const uint64_t seed = o->seed >= 0 ? (uint64_t)o->seed : random_seed();
    tx_user tu = {o};
    p.seed = seed;
    p.rows = rows.rows;
    p.nrows = rows.count;
    p.progress = on_txt2img;
    p.user = &tu;
    if ((rc = vkti_txt2img_sample(d, &pl.nets, &p, &res)))
        goto done;
    vkti_sd_pipeline_drop_sampling(&pl); /* the decode gets their memory */
    if ((rc = vkti_txt2img_decode(d, &pl.nets, &p, &res)))
        goto done;
    /* the files */
    char model_name[256], hash[9] = {0}, version[64];
    base_name(o->model, model_name, sizeof model_name, pl.model.layout == VKTI_MODEL_LDM);
    if (pl.model.layout == VKTI_MODEL_LDM && (rc = legacy_model_hash(d, pl.model.path, hash)))
        goto done;
    snprintf(version, sizeof version, "vkti %s", vkti_version());
    if (o->embedding_count) {
        size_t cap = (size_t)o->embedding_count * (VKTI_EMB_MAX_TOKEN + 20) + 1;
        ti_list = calloc(cap, 1);
        if (!ti_list) {
            rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
            goto done;
        }
        for (int i = 0; i < o->embedding_count; i++) {
            size_t n = strlen(ti_list);
            snprintf(ti_list + n, cap - n, "%s%s: %s", i ? ", " : "",
                     o->embeddings[i].token ? o->embeddings[i].token : embs[i].token, ti_hash[i]);
        }
    }
    ri->files = calloc((size_t)o->batch, sizeof *ri->files);
    if (!ri->files) {
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
        goto done;
    }
    const size_t px = (size_t)p.width * p.height * 3;
    for (int i = 0; i < o->batch; i++) {
        vkti_infotext it = {
            .prompt = o->prompt, .negative = o->negative, .steps = o->steps,
            .sampler = vkti_sampler_a1111_name(o->sampler, o->karras || (pl.sampling.has_karras && pl.sampling.use_karras_sigmas &&
                                                                         o->sampler == VKTI_SAMPLER_DPMPP_2M)),
            .cfg = o->cfg, .seed = seed + (uint64_t)i, .width = p.width, .height = p.height,
            .model_hash = hash[0] ? hash : NULL, .model = model_name, .eta = o->eta, .batch_size = o->batch,
            .batch_pos = i, .ti_hashes = ti_list, .version = version,
        };
        char *params = vkti_infotext_format(&it);
        char *name = vkti_str_numbered(o->out, o->batch == 1 ? 0 : i + 1);
        if (!params || !name) {
            free(params);
            free(name);
            rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
            goto done;
        }
        vkti_png_text txt = {"parameters", params};
        progress(o, "writing", i, o->batch);
        rc = vkti_png_write(d, name, res.rgb + (size_t)i * px, p.width, p.height, 3, &txt, 1);
        ri->files[i] = name;
        ri->pub.images = i + 1;
        if (i == 0)
            ri->parameters = params;
        else
            free(params);
        if (rc)
            goto done;
    }
    progress(o, "writing", o->batch, o->batch);
    if (o->save_latents && (rc = save_latents(d, o->save_latents, &res, o->batch, seed, ri->parameters)))
        goto done;
    /* the report */
    snprintf(ri->device, sizeof ri->device, "%s", vkti_gpu_info(g)->name);
    ri->pub.seed = (int64_t)seed;
    ri->pub.files = (const char *const *)ri->files;
    ri->pub.parameters = ri->parameters;
    ri->pub.device = ri->device;
    ri->pub.precision = dt == VKTI_F16 ? "fp16" : "fp32";
    ri->pub.width = p.width;
    ri->pub.height = p.height;
    ri->pub.truncated = res.truncated;
    ri->pub.decode_tile = res.decode_tile * fv;
    ri->pub.decode_pieces = res.decode_pieces;
    ri->pub.seconds_text = res.seconds_text;
    ri->pub.seconds_sampling = res.seconds_sampling;
    ri->pub.seconds_decode = res.seconds_decode;
    ri->pub.steps_per_second = res.seconds_sampling > 0 ? o->steps / res.seconds_sampling : 0;
    ri->pub.peak_bytes = res.peak_bytes;
    ri->pub.seconds_total = vkti_now() - t_start;
    *report = &ri->pub;
    ri = NULL;
done:
    vkti_generate_report_free(ri ? &ri->pub : NULL);
    vkti_txt2img_result_free(&res);
    vkti_prompt_rows_free(&rows);
    vkti_sd_pipeline_close(&pl);
    for (int i = 0; i < nread; i++)
        vkti_embedding_free(&embs[i]);
    free(embs);
    free(ti_hash);
    free(ti_list);
    return rc;
}
