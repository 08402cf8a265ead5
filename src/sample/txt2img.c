/* txt2img.c — the text-to-image loop over loaded networks (see txt2img.h).
 *
 * Sources read (facts, no code copied): diffusers 58eb52c pipelines/stable_diffusion/
 * pipeline_stable_diffusion.py (encode_prompt: [negative, prompt] order, "" as the default
 * negative; prepare_latents: randn * init_noise_sigma; the loop: cat([latents] * 2),
 * scale_model_input, unet, chunk(2), uncond + scale * (text - uncond), scheduler.step; decode of
 * latents / scaling_factor). */
#include "sample/txt2img.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "ops/rng.h"
#include "ops/sampler.h"
#include "sample/decode.h"
#include "sample/prompt.h"
#include "vkti/generate.h"

void vkti_txt2img_result_free(vkti_txt2img_result *r)
{
    free(r->initial);
    free(r->latents);
    free(r->rgb);
    memset(r, 0, sizeof *r);
}

int vkti_txt2img_check(vkti_diag *d, const vkti_unet_dims *u, const vkti_vae_dims *v, const vkti_txt2img_params *p)
{
    const int fv = 1 << (v->nblocks - 1), fu = 1 << (u->nblocks - 1), f = fv * fu;
    const int side[2] = {p->width, p->height};
    const char *flag[2] = {"--width", "--height"};
    for (int k = 0; k < 2; k++) {
        const int x = side[k];
        if (x > VKTI_GENERATE_MAX_SIDE)
            return vkti_fail(d, VKTI_E_INVALID, "%s %d is more than %d pixels", flag[k], x, VKTI_GENERATE_MAX_SIDE);
        if (x % 8 || x < 8)
            return vkti_fail(d, VKTI_E_INVALID, "%s %d is not a multiple of 8 (the VAE works in 8-pixel cells); try %d",
                             flag[k], x, x < f ? f : x / f * f);
        if (x % f || x < f)
            return vkti_fail(d, VKTI_E_INVALID, "%s %d is not a multiple of %d (the VAE's factor %d times the UNet's "
                             "downsampling %d); try %d", flag[k], x, f, fv, fu, x < f ? f : x / f * f);
    }
    if (p->steps < 1 || p->steps > VKTI_GENERATE_MAX_STEPS)
        return vkti_fail(d, VKTI_E_INVALID, "--steps must be from 1 to %d, not %d", VKTI_GENERATE_MAX_STEPS, p->steps);
    if (p->batch < 1 || p->batch > VKTI_GENERATE_MAX_BATCH)
        return vkti_fail(d, VKTI_E_INVALID, "--batch must be from 1 to %d, not %d", VKTI_GENERATE_MAX_BATCH, p->batch);
    if (!(p->cfg >= 0 && p->cfg <= 100))
        return vkti_fail(d, VKTI_E_INVALID, "--cfg must be from 0 to 100, not %g", p->cfg);
    if (p->seed > (uint64_t)VKTI_GENERATE_MAX_SEED - (uint64_t)p->batch + 1)
        return vkti_fail(d, VKTI_E_INVALID, "--seed must be from 0 to %lld less the batch", VKTI_GENERATE_MAX_SEED);
    if (!p->prompt)
        return vkti_fail(d, VKTI_E_INVALID, "a prompt is needed (--prompt)");
    if (u->in_channels != v->latent || u->out_channels != v->latent)
        return vkti_fail(d, VKTI_E_FORMAT, "the UNet's %d channels do not match the VAE's %d latent channels",
                         u->in_channels, v->latent);
    return VKTI_OK;
}

/* the device tensors and recordings of one sampling run */
typedef struct run {
    vkti_arena *dev, *map;
    vkti_cmd *text, *step;
    vkti_tensor ids, timesteps, coef, key[VKTI_GENERATE_MAX_BATCH], extra, cond, x, hist, in, out, noise;
} run;

static void run_free(vkti_gpu *g, run *s)
{
    if (s->text || s->step)
        vkti_gpu_wait_idle(g);
    vkti_cmd_free(s->text);
    vkti_cmd_free(s->step);
    vkti_arena_free(s->dev);
    vkti_arena_free(s->map);
}

/* rng into each image's noise slice under its own key */
static int record_noise(vkti_cmd *c, run *s, int B, int64_t n, int64_t stride)
{
    vkti_gpu *g = vkti_cmd_gpu(c);
    for (int b = 0; b < B; b++) {
        vkti_tensor v;
        int rc;
        if ((rc = vkti_tensor_view(g, &v, &s->noise, (int64_t)b * stride, 1, &n)) ||
            (rc = vkti_rng_normal_forward(c, &v, &s->key[b], 0, 0)))
            return rc;
    }
    return VKTI_OK;
}

static void set_keys(run *s, uint64_t seed, int B, uint64_t counter)
{
    for (int b = 0; b < B; b++)
        vkti_rng_key(vkti_tensor_host(&s->key[b]), seed + (uint64_t)b, counter);
}

int vkti_txt2img_sample(vkti_diag *d, const vkti_sd_nets *nt, const vkti_txt2img_params *p, vkti_txt2img_result *r)
{
    memset(r, 0, sizeof *r);
    const vkti_unet_dims *ud = nt->unet_dims;
    const vkti_vae_dims *vd = nt->vae ? vkti_vae_get_dims(nt->vae) : NULL;
    const vkti_clip_text_dims *td = vkti_clip_text_get_dims(nt->te);
    int rc;
    if (vd && (rc = vkti_txt2img_check(d, ud, vd, p)))
        return rc;
    const int fv = vd ? 1 << (vd->nblocks - 1) : 8;
    const int B = p->batch, guided = p->cfg > 1.0, G = guided ? 2 : 1, T = VKTI_CLIP_LENGTH;
    const int64_t h = p->height / fv, w = p->width / fv, C = ud->in_channels, n = h * w * C;
    const int64_t stride = (n + 63) / 64 * 64; /* image b's noise at a 256-byte aligned offset */
    if (td->positions < T)
        return vkti_fail(d, VKTI_E_FORMAT, "the text encoder has %d positions, fewer than CLIP's %d", td->positions, T);
    if (p->nrows && (!p->rows || vkti_tokenizer_size(nt->tok) != (size_t)td->vocab + (size_t)p->nrows))
        return vkti_fail(d, VKTI_E_INTERNAL, "txt2img: %d learned rows for a tokenizer of %zu tokens and %d vocabulary rows",
                         p->nrows, vkti_tokenizer_size(nt->tok), td->vocab);
    r->latent_h = (int)h;
    r->latent_w = (int)w;
    r->latent_c = (int)C;
    r->guided = guided;
    /* the plan */
    vkti_sampler_settings st = {p->sampler, p->steps, p->eta, p->karras, p->cfg};
    vkti_sampler_plan plan;
    if ((rc = vkti_sampler_plan_init(d, &plan, nt->schedule, nt->sampling, &st)))
        return rc;
    /* the prompts */
    int32_t *ids_host = malloc(sizeof(int32_t) * (size_t)(2 * T));
    if (!ids_host) {
        vkti_sampler_plan_free(&plan);
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    }
    int cut_pos = 0, cut_neg = 0;
    if ((rc = vkti_prompt_encode(d, nt->tok, p->prompt, ids_host + T, T, &cut_pos)) ||
        (rc = vkti_prompt_encode(d, nt->tok, p->negative ? p->negative : "", ids_host, T, &cut_neg))) {
        free(ids_host);
        vkti_sampler_plan_free(&plan);
        return rc;
    }
    r->truncated = cut_pos || (guided && cut_neg);
    for (int i = 0; i < 2 * T; i++)
        if (ids_host[i] >= td->vocab + p->nrows) {
            rc = vkti_fail(d, VKTI_E_INTERNAL, "txt2img: token id %d has no row", (int)ids_host[i]);
            free(ids_host);
            vkti_sampler_plan_free(&plan);
            return rc;
        }
    vkti_gpu *g = nt->g;
    run s;
    memset(&s, 0, sizeof s);
    const int mode_dpm = plan.mode == VKTI_SAMPLER_MODE_DPMPP_2M, noisy = (plan.flags & VKTI_SAMPLER_F_NOISE) != 0;
    double t0 = vkti_now();
    if ((rc = vkti_arena_create(g, "txt2img", 0, &s.dev)) || (rc = vkti_arena_create_mapped(g, "txt2img inputs", 0, &s.map)) ||
        (rc = vkti_cmd_create(g, &s.text)) || (rc = vkti_cmd_create(g, &s.step)))
        goto done;
    if ((rc = vkti_arena_tensor(s.map, &s.ids, VKTI_I32, 2, (int64_t[]){(int64_t)G * B, T})) ||
        (rc = vkti_arena_tensor(s.map, &s.timesteps, VKTI_F32, 1, (int64_t[]){(int64_t)G * B})) ||
        (rc = vkti_arena_tensor(s.map, &s.coef, VKTI_F32, 1, (int64_t[]){VKTI_SAMPLER_COEFS})))
        goto done;
    for (int b = 0; b < B; b++)
        if ((rc = vkti_arena_tensor(s.map, &s.key[b], VKTI_U32, 1, (int64_t[]){4})))
            goto done;
    if ((rc = vkti_arena_tensor(s.dev, &s.cond, nt->dtype, 3, (int64_t[]){(int64_t)G * B, T, td->width})) ||
        (rc = vkti_arena_tensor(s.dev, &s.x, VKTI_F32, 4, (int64_t[]){B, h, w, C})) ||
        (rc = vkti_arena_tensor(s.dev, &s.hist, VKTI_F32, 4, (int64_t[]){B, h, w, C})) ||
        (rc = vkti_arena_tensor(s.dev, &s.in, nt->dtype, 4, (int64_t[]){(int64_t)G * B, h, w, C})) ||
        (rc = vkti_arena_tensor(s.dev, &s.out, nt->dtype, 4, (int64_t[]){(int64_t)G * B, h, w, C})) ||
        (rc = vkti_arena_tensor(s.dev, &s.noise, VKTI_F32, 1, (int64_t[]){B * stride})))
        goto done;
    if (p->nrows) {
        if ((rc = vkti_arena_tensor(s.dev, &s.extra, VKTI_F32, 2, (int64_t[]){p->nrows, td->width})) ||
            (rc = vkti_tensor_upload(g, &s.extra, p->rows, sizeof(float) * (size_t)p->nrows * (size_t)td->width)))
            goto done;
    }
    /* ids: [negative x B, prompt x B] with guidance, else [prompt x B] */
    int32_t *ids = vkti_tensor_host(&s.ids);
    for (int row = 0; row < G * B; row++)
        memcpy(ids + (size_t)row * T, ids_host + (guided && row < B ? 0 : T), sizeof(int32_t) * (size_t)T);
    /* the text encoder and the starting latents */
    if ((rc = vkti_cmd_begin(s.text)) ||
        (rc = vkti_clip_text_forward(s.text, nt->te, &s.cond, &s.ids, p->nrows ? &s.extra : NULL, 0)) ||
        (rc = record_noise(s.text, &s, B, n, stride)) ||
        (rc = vkti_sampler_step_forward(s.text, &s.x, &s.hist, &s.in, NULL, &s.noise, &s.coef, VKTI_SAMPLER_MODE_INIT,
                                        VKTI_SAMPLER_F_HIST)) ||
        (rc = vkti_cmd_end(s.text)))
        goto done;
    memcpy(vkti_tensor_host(&s.coef), plan.init_coef, sizeof plan.init_coef);
    set_keys(&s, p->seed, B, 0);
    if ((rc = vkti_cmd_submit(s.text, 1)))
        goto done;
    r->initial = malloc(sizeof(float) * (size_t)(B * n));
    if (!r->initial) {
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
        goto done;
    }
    if ((rc = vkti_tensor_download_f32(g, &s.x, r->initial, B * n)))
        goto done;
    double t1 = vkti_now();
    r->seconds_text = t1 - t0;
    /* the loop: one recording */
    unsigned flags = plan.flags | (guided ? VKTI_SAMPLER_F_GUIDED : 0u);
    if ((rc = vkti_cmd_begin(s.step)) || (rc = vkti_unet_forward(s.step, nt->unet, &s.out, &s.in, &s.timesteps, &s.cond, 0)) ||
        (noisy && (rc = record_noise(s.step, &s, B, n, stride))) ||
        (rc = vkti_sampler_step_forward(s.step, &s.x, mode_dpm ? &s.hist : NULL, &s.in, &s.out, noisy ? &s.noise : NULL,
                                        &s.coef, plan.mode, flags)) ||
        (rc = vkti_cmd_end(s.step)))
        goto done;
    float *ts = vkti_tensor_host(&s.timesteps), *coef = vkti_tensor_host(&s.coef);
    for (int i = 0; i < plan.steps; i++) {
        if (vkti_interrupt_requested()) {
            rc = vkti_fail(d, VKTI_E_INTERRUPTED, "interrupted at step %d of %d", i, plan.steps);
            goto done;
        }
        for (int k = 0; k < G * B; k++)
            ts[k] = plan.timestep[i];
        memcpy(coef, plan.coef[i], sizeof plan.coef[i]);
        set_keys(&s, p->seed, B, (uint64_t)i + 1);
        if ((rc = vkti_cmd_submit(s.step, 1)))
            goto done;
        if (p->progress)
            p->progress(p->user, "sampling", i + 1, plan.steps);
    }
    r->latents = malloc(sizeof(float) * (size_t)(B * n));
    if (!r->latents) {
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
        goto done;
    }
    rc = vkti_tensor_download_f32(g, &s.x, r->latents, B * n);
    r->seconds_sampling = vkti_now() - t1;
done:
    r->peak_bytes = vkti_gpu_bytes_peak(g);
    run_free(g, &s);
    free(ids_host);
    vkti_sampler_plan_free(&plan);
    return rc;
}

typedef struct decode_progress {
    const vkti_txt2img_params *p;
} decode_progress;

static void on_decode(void *user, int done, int total)
{
    const decode_progress *dp = user;
    if (dp->p->progress)
        dp->p->progress(dp->p->user, "decoding", done, total);
}

int vkti_txt2img_decode(vkti_diag *d, const vkti_sd_nets *nt, const vkti_txt2img_params *p, vkti_txt2img_result *r)
{
    if (!nt->vae || !r->latents)
        return vkti_fail(d, VKTI_E_INTERNAL, "txt2img: decode without a VAE or latents");
    vkti_gpu *g = nt->g;
    const vkti_vae_dims *vd = vkti_vae_get_dims(nt->vae);
    const int B = p->batch, h = r->latent_h, w = r->latent_w, C = r->latent_c, f = 1 << (vd->nblocks - 1);
    double t0 = vkti_now();
    uint64_t in_use = vkti_gpu_bytes_in_use(g), budget = 0;
    if (p->max_vram) {
        uint64_t latent_bytes = (uint64_t)B * h * w * C * 4 + (256u << 10);
        if (p->max_vram <= in_use + latent_bytes)
            return vkti_fail(d, VKTI_E_OOM, "--max-vram %.0f MiB leaves nothing for the VAE decode (%.0f MiB are in use)",
                             (double)p->max_vram / 1048576.0, (double)in_use / 1048576.0);
        budget = p->max_vram - in_use - latent_bytes;
    }
    int tile = 0, rc;
    if ((rc = vkti_decode_plan(d, vd, nt->dtype, h, w, budget, vkti_gpu_info(g)->max_storage_buffer_range, &tile)))
        return rc;
    r->decode_tile = tile;
    if (tile) {
        int stride = tile * 3 / 4;
        r->decode_pieces = B * ((h + stride - 1) / stride) * ((w + stride - 1) / stride);
        vkti_log(d, VKTI_LOG_INFO, "decoding each %dx%d image in %d tiles of %dx%d pixels (25%% overlap, blended as "
                 "diffusers' tiled VAE decode): the whole image does not fit %s", w * f, h * f, r->decode_pieces / B,
                 tile * f, tile * f, budget ? "the --max-vram budget" : "this device's largest binding");
    } else {
        r->decode_pieces = B;
    }
    r->rgb = malloc((size_t)B * (size_t)(h * f) * (size_t)(w * f) * 3);
    if (!r->rgb)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    vkti_arena *a = NULL;
    vkti_cmd *c = NULL;
    vkti_tensor lat;
    decode_progress dp = {p};
    rc = vkti_arena_create(g, "latents", 0, &a);
    if (rc == VKTI_OK)
        rc = vkti_cmd_create(g, &c);
    if (rc == VKTI_OK)
        rc = vkti_arena_tensor(a, &lat, VKTI_F32, 4, (int64_t[]){B, h, w, C});
    if (rc == VKTI_OK)
        rc = vkti_tensor_upload(g, &lat, r->latents, sizeof(float) * (size_t)B * (size_t)(h * w * C));
    if (rc == VKTI_OK)
        rc = vkti_decode_rgb(c, nt->vae, nt->dtype, &lat, tile, r->rgb, on_decode, &dp);
    if (c)
        vkti_gpu_wait_idle(g);
    vkti_cmd_free(c);
    vkti_arena_free(a);
    r->seconds_decode = vkti_now() - t0;
    r->peak_bytes = vkti_gpu_bytes_peak(g);
    return rc;
}

int vkti_txt2img(vkti_diag *d, const vkti_sd_nets *nt, const vkti_txt2img_params *p, vkti_txt2img_result *r)
{
    int rc = vkti_txt2img_sample(d, nt, p, r);
    if (rc == VKTI_OK)
        rc = vkti_txt2img_decode(d, nt, p, r);
    if (rc)
        vkti_txt2img_result_free(r);
    return rc;
}
