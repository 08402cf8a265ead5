/* trainer.c — textual inversion end to end (see trainer.h):
 *   1. the model (io/model_files.h), its tokenizer, the placeholder tokens <tok>, <tok>_1, ...
 *      added after the vocabulary, and their starting rows from --init's token embeddings,
 *      spread over the vectors as AUTOMATIC1111 does (vector i takes init token i*k/n);
 *   2. the images (train/dataset.h): each one's latent distribution (mean, std) cached through
 *      the VAE encoder, plain and mirrored when flips are on (random crops: a fixed set of crops
 *      per image, drawn once from the seed); then the VAE leaves the GPU;
 *   3. the loop (train/ti_step.h): per sample a random image, flip, template and timestep from the
 *      host RNG (xoshiro256**, saved in checkpoints), noise from Philox keyed by (seed, micro-step),
 *      the learning rate from the schedule, fp16 dynamic loss scaling as torch's GradScaler does
 *      it (start 2^16, halve on overflow, double after 2000 clean steps);
 *   4. the deterministic validation loss (every image, unflipped, centre crop, timesteps
 *      spread over the schedule, fixed noise, the first template), metrics, embeddings every
 *      --save-every, an atomic checkpoint every --checkpoint-every, Ctrl-C saving and stopping;
 *   5. previews every --preview-every steps when a preview prompt is given (sample/preview.h: the
 *      networks as they stand, a VAE decoder loaded at the first one and kept, a PNG grid in
 *      previews/ and the same PNG in TensorBoard); the step is recorded again after each;
 *   6. the final embedding in every asked format, the loss curve, the report.
 * Resuming restores rows, optimizer state, step, RNG and loss scale, and refuses another model
 * or a changed configuration (vkti_train_config_check_resume), so it continues bit-identically. */
#include "train/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "base/platform.h"
#include "io/embedding.h"
#include "io/model_files.h"
#include "io/noise_schedule.h"
#include "io/safetensors.h"
#include "io/tokenizer.h"
#include "model/clip_text.h"
#include "model/sd_dims.h"
#include "model/unet.h"
#include "model/vae.h"
#include "ops/rng.h"
#include "sample/preview.h"
#include "sample/schedule.h"
#include "sample/txt2img.h"
#include "train/dataset.h"
#include "train/lr_schedule.h"
#include "train/metrics.h"
#include "train/plot.h"
#include "train/progress.h"
#include "train/templates.h"
#include "train/ti_step.h"

#define TOKENS 77
#define RANDOM_CROPS 4            /* cached crops per image and flip with --crop random */
#define EVAL_TIMESTEPS 5          /* validation timesteps per image */
#define SCALE_INIT 65536.0        /* fp16 loss scale, as torch.cuda.amp.GradScaler */
#define SCALE_GROWTH_INTERVAL 2000
#define CHECKPOINT_FORMAT "vkti-ti-checkpoint-1"
#define PATH_CAP VKTI_REPORT_PATH_MAX

/* ---- the host RNG: xoshiro256**, seeded by splitmix64 -------------------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return out;
}

/* uniform in [0, n) (n < 2^32): the high bits scaled, bias below 2^-32 */
static uint32_t rng_below(rng *r, uint32_t n) { return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32); }
static double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* ---- state ------------------------------------------------------------------------------------ */

typedef struct latent_entry {
    float *mean, *std;  /* [h, w, c] */
    float *mask;        /* [h * w] or NULL */
} latent_entry;

typedef struct trainer {
    vkti_diag *d;
    vkti_gpu *g;
    const vkti_train_config *cfg;
    vkti_train_report *rep;
    vkti_model model;
    int model_open;
    vkti_tokenizer *tok;
    vkti_dataset *ds;
    vkti_templates templates;
    vkti_noise_schedule sched;
    vkti_lr_schedule lr;
    vkti_clip_text *te;
    vkti_unet *unet;
    vkti_ti_step *step;
    vkti_metrics *metrics;
    /* previews: the sampling keys of the model's scheduler config, the decoder (at the first one) */
    int previews;
    vkti_sampling_config sampling;
    vkti_vae_dims vae_dims;
    vkti_unet_dims unet_dims;
    vkti_vae *decoder;
    vkti_dtype dt;
    int v_prediction;
    int V, D, E;                 /* vocabulary, width, learned rows */
    char placeholder[1024];      /* "<tok> <tok>_1 ...": what a template's placeholder becomes */
    float *init_rows;            /* [E, D] */
    int lh, lw, lc;              /* latent size */
    float vae_scale;
    latent_entry *lat;           /* [count * variants] */
    int variants;                /* cached latents per image */
    int64_t step_no;             /* optimizer steps done */
    rng r;
    double loss_scale;
    int64_t good_steps;          /* clean steps since the scale last changed */
    /* the loss curve */
    double *curve_step, *curve_loss, *val_step, *val_loss;
    int curve_n, curve_cap, val_n, val_cap;
    char out_dir[PATH_CAP];
    vkti_progress_fn progress;
    void *progress_user;
    int force_recompute;         /* VKTI_FORCE_RECOMPUTE (tests): recompute whatever the budget */
} trainer;

static int path_join(trainer *t, char *out, const char *name)
{
    int n = snprintf(out, PATH_CAP, "%s/%s", t->out_dir, name);
    if (n < 0 || n >= PATH_CAP)
        return vkti_fail(t->d, VKTI_E_INVALID, "output path too long: %s/%s", t->out_dir, name);
    return VKTI_OK;
}

static int push_point(trainer *t, double **xs, double **ys, int *n, int *cap, double x, double y)
{
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 1024;
        double *nx = realloc(*xs, sizeof(double) * (size_t)c), *ny = nx ? realloc(*ys, sizeof(double) * (size_t)c) : NULL;
        if (nx)
            *xs = nx;
        if (!nx || !ny)
            return vkti_fail(t->d, VKTI_E_OOM, "out of host memory");
        *ys = ny;
        *cap = c;
    }
    (*xs)[*n] = x;
    (*ys)[(*n)++] = y;
    return VKTI_OK;
}

/* ---- setup: model, tokens, init rows ------------------------------------------------------------ */

static int open_model(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    int rc = vkti_model_open(t->d, &t->model, cfg->model, cfg->tokenizer[0] ? cfg->tokenizer : NULL);
    if (rc)
        return rc;
    t->model_open = 1;
    const char *tdir;
    if ((rc = vkti_model_tokenizer_dir(t->d, &t->model, &tdir)) || (rc = vkti_tokenizer_load(t->d, tdir, &t->tok)))
        return rc;
    if (t->model.tokenizer.needs_sd2_pad && (rc = vkti_tokenizer_set_pad_token(t->d, t->tok, "!")))
        return rc;
    if ((rc = vkti_noise_schedule_from_json(t->d, &t->sched, t->model.scheduler_json, t->model.scheduler_json_len,
                                            t->model.scheduler_source, VKTI_LINSPACE_FUSED)))
        return rc;
    t->v_prediction = cfg->prediction_type == VKTI_PREDICTION_V ||
                      (cfg->prediction_type == VKTI_PREDICTION_AUTO && t->sched.prediction_type == VKTI_PREDICT_V);
    t->V = t->model.text_encoder.vocab_size;
    t->D = t->model.text_encoder.hidden_size;
    t->E = cfg->num_vectors;
    t->vae_scale = (float)t->model.vae.scaling_factor;
    int f = 1 << (t->model.vae.num_blocks - 1);
    if (cfg->resolution % (8 * f / 8 * (1 << (t->model.unet.num_blocks - 1))) != 0 || cfg->resolution % f)
        return vkti_fail(t->d, VKTI_E_INVALID, "resolution %d: this model needs a multiple of %d pixels", cfg->resolution,
                         f * (1 << (t->model.unet.num_blocks - 1)));
    t->lh = t->lw = cfg->resolution / f;
    t->lc = t->model.vae.latent_channels;
    vkti_log(t->d, VKTI_LOG_INFO, "model %s: %s, %s, %s; tokenizer %s", cfg->model, vkti_model_layout_name(&t->model),
             t->model.family == VKTI_SD_FAMILY_SD2 ? "SD 2.x" : "SD 1.x", t->v_prediction ? "v-prediction" : "epsilon",
             vkti_tokenizer_source(t->tok));
    return VKTI_OK;
}

/* the placeholder tokens, their ids V .. V+E-1, and their starting rows from --init */
static int add_tokens(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    int rc;
    int32_t id;
    if (vkti_tokenizer_single_token(t->d, t->tok, cfg->token, &id) == 1 ||
        vkti_tokenizer_token_id(t->tok, cfg->token) >= 0)
        return vkti_fail(t->d, VKTI_E_INVALID, "--token \"%s\" is already a word of the model's vocabulary (id %d): "
                         "choose a new one, such as \"<my-%s>\"", cfg->token, (int)id, cfg->token);
    size_t len = 0;
    t->placeholder[0] = 0;
    for (int i = 0; i < t->E; i++) {
        char name[VKTI_TRAIN_TOKEN_MAX + 16];
        if (i == 0)
            snprintf(name, sizeof name, "%s", cfg->token);
        else
            snprintf(name, sizeof name, "%s_%d", cfg->token, i);
        if ((rc = vkti_tokenizer_add_token(t->d, t->tok, name, &id)))
            return vkti_fail_wrap(t->d, rc, "--token \"%s\"", cfg->token);
        if (id != t->V + i)
            return vkti_fail(t->d, VKTI_E_INTERNAL, "token %s got id %d, expected %d", name, (int)id, t->V + i);
        int w = snprintf(t->placeholder + len, sizeof t->placeholder - len, "%s%s", i ? " " : "", name);
        if (w < 0 || (size_t)w >= sizeof t->placeholder - len)
            return vkti_fail(t->d, VKTI_E_INVALID, "--token: too long with %d vectors", t->E);
        len += (size_t)w;
    }
    /* starting rows: --init's tokens spread over the vectors */
    int32_t *ids = NULL;
    size_t n = 0;
    if ((rc = vkti_tokenizer_tokenize(t->d, t->tok, cfg->init_text, &ids, &n)))
        return vkti_fail_wrap(t->d, rc, "--init \"%s\"", cfg->init_text);
    if (n == 0) {
        free(ids);
        return vkti_fail(t->d, VKTI_E_INVALID, "--init \"%s\" has no tokens: give a word or two that describe the concept",
                         cfg->init_text);
    }
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= t->V) {
            free(ids);
            return vkti_fail(t->d, VKTI_E_INVALID, "--init \"%s\" contains the placeholder itself", cfg->init_text);
        }
    const vkti_io_tensor *table = vkti_model_find(&t->model, VKTI_SD_TEXT_ENCODER, "text_model.embeddings.token_embedding.weight");
    float *row = malloc(sizeof(float) * (size_t)t->D);
    t->init_rows = malloc(sizeof(float) * (size_t)t->E * (size_t)t->D);
    if (!table || !row || !t->init_rows) {
        free(ids);
        free(row);
        return vkti_fail(t->d, VKTI_E_OOM, "out of host memory");
    }
    for (int i = 0; i < t->E && rc == VKTI_OK; i++) {
        int32_t src = ids[(size_t)i * n / (size_t)t->E];
        /* one row of the table: a view of D elements at row src */
        vkti_io_tensor rv = *table;
        rv.ndim = 1;
        rv.shape[0] = t->D;
        rv.data = table->data + (size_t)src * (size_t)table->stride[0] * vkti_io_dtype_size(table->dtype);
        vkti_io_tensor_set_packed(&rv);
        rv.data = table->data + (size_t)src * (size_t)table->stride[0] * vkti_io_dtype_size(table->dtype);
        rc = vkti_io_tensor_to_f32(t->d, &rv, t->init_rows + (size_t)i * (size_t)t->D, (uint64_t)t->D);
    }
    char words[512] = "";
    for (size_t i = 0, l = 0; i < n && l < sizeof words - 64; i++) {
        const char *s = vkti_tokenizer_token_text(t->tok, ids[i]);
        int w = snprintf(words + l, sizeof words - l, "%s%s", i ? " " : "", s ? s : "?");
        l += w > 0 ? (size_t)w : 0;
    }
    vkti_log(t->d, VKTI_LOG_INFO, "placeholder %s: %d vector%s, ids %d..%d, initialised from %s", cfg->token, t->E,
             t->E == 1 ? "" : "s", t->V, t->V + t->E - 1, words);
    free(ids);
    free(row);
    return rc;
}

/* ---- latent cache ---------------------------------------------------------------------------------- */

static int cache_latents(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    vkti_dataset_options dopt = {.resolution = cfg->resolution, .repeats = cfg->repeats};
    int rc = vkti_dataset_open(t->d, &t->ds, cfg->data, &dopt);
    if (rc)
        return rc;
    const int flips = cfg->flip_prob > 0 ? 2 : 1, crops = cfg->crop == VKTI_CROP_RANDOM ? RANDOM_CROPS : 1;
    t->variants = flips * crops;
    const int count = t->ds->count, R = cfg->resolution;
    const int64_t per = (int64_t)t->lh * t->lw * t->lc;
    t->lat = calloc((size_t)count * (size_t)t->variants, sizeof *t->lat);
    float *rgb = malloc(sizeof(float) * (size_t)R * (size_t)R * 3), *alpha = malloc(sizeof(float) * (size_t)R * (size_t)R);
    float *mean = malloc(sizeof(float) * (size_t)per), *logvar = malloc(sizeof(float) * (size_t)per);
    if (!t->lat || !rgb || !alpha || !mean || !logvar) {
        rc = vkti_fail(t->d, VKTI_E_OOM, "out of host memory caching latents");
        goto done;
    }
    vkti_vae_dims vd;
    vkti_vae *vae = NULL;
    vkti_model_net net = {&t->model, VKTI_SD_VAE};
    vkti_weight_source src = {vkti_model_weight_get, &net};
    vkti_arena *a = NULL;
    vkti_cmd *c = NULL;
    vkti_tensor timg, tm, tl;
    if ((rc = vkti_vae_dims_from_config(t->d, &t->model.vae, &vd)) ||
        (rc = vkti_vae_create(&vae, t->g, &vd, &src, t->dt, VKTI_VAE_ENCODER)) ||
        (rc = vkti_arena_create(t->g, "latent cache", 0, &a)) || (rc = vkti_cmd_create(t->g, &c)) ||
        (rc = vkti_arena_tensor(a, &timg, t->dt, VKTI_DIMS(1, R, R, 3))) ||
        (rc = vkti_arena_tensor(a, &tm, t->dt, VKTI_DIMS(1, t->lh, t->lw, t->lc))) ||
        (rc = vkti_arena_tensor(a, &tl, t->dt, VKTI_DIMS(1, t->lh, t->lw, t->lc))) || (rc = vkti_cmd_begin(c)) ||
        (rc = vkti_vae_encode(c, vae, &tm, &tl, &timg)) || (rc = vkti_cmd_end(c)))
        goto vae_done;
    rng cr;
    rng_seed(&cr, (uint64_t)cfg->seed ^ 0xc0ffee);
    double t0 = vkti_now();
    for (int i = 0; i < count && rc == VKTI_OK; i++)
        for (int v = 0; v < t->variants && rc == VKTI_OK; v++) {
            vkti_crop crop = {0.5f, 0.5f, v % flips};
            if (crops > 1) {
                crop.x = (float)rng_unit(&cr);
                crop.y = (float)rng_unit(&cr);
            }
            latent_entry *le = &t->lat[i * t->variants + v];
            le->mean = malloc(sizeof(float) * (size_t)per);
            le->std = malloc(sizeof(float) * (size_t)per);
            if (!le->mean || !le->std) {
                rc = vkti_fail(t->d, VKTI_E_OOM, "out of host memory caching latents");
                break;
            }
            if ((rc = vkti_dataset_preprocess(t->d, t->ds, i, crop, rgb, alpha)) ||
                (rc = vkti_tensor_upload_f32(t->g, &timg, rgb, (int64_t)R * R * 3)) || (rc = vkti_cmd_submit(c, 1)) ||
                (rc = vkti_tensor_download_f32(t->g, &tm, le->mean, per)) ||
                (rc = vkti_tensor_download_f32(t->g, &tl, logvar, per)))
                break;
            for (int64_t k = 0; k < per; k++) /* DiagonalGaussianDistribution: std = exp(0.5 logvar) */
                le->std[k] = expf(0.5f * logvar[k]);
            if (cfg->loss_mask) { /* alpha averaged over each latent pixel's footprint */
                int f = R / t->lh;
                le->mask = malloc(sizeof(float) * (size_t)t->lh * (size_t)t->lw);
                if (!le->mask) {
                    rc = vkti_fail(t->d, VKTI_E_OOM, "out of host memory");
                    break;
                }
                for (int y = 0; y < t->lh; y++)
                    for (int x = 0; x < t->lw; x++) {
                        double s = 0;
                        for (int dy = 0; dy < f; dy++)
                            for (int dx = 0; dx < f; dx++)
                                s += alpha[(size_t)(y * f + dy) * (size_t)R + (size_t)(x * f + dx)];
                        le->mask[y * t->lw + x] = (float)(s / (f * f));
                    }
            }
        }
    if (rc == VKTI_OK)
        vkti_log(t->d, VKTI_LOG_INFO, "cached %d latent distributions of %d images in %.1f s (the VAE encoder then leaves "
                 "the GPU)", count * t->variants, count, vkti_now() - t0);
    t->rep->images = count;
    t->rep->latents = count * t->variants;
vae_done:
    vkti_cmd_free(c);
    vkti_arena_free(a);
    vkti_vae_free(vae);
done:
    free(rgb);
    free(alpha);
    free(mean);
    free(logvar);
    return rc;
}

/* ---- the networks and the step -------------------------------------------------------------------- */

static double mib(uint64_t bytes) { return (double)bytes / 1048576.0; }

/* With --max-vram: the step recorded as it would run, keeping every activation; if the device
 * memory then allocated is over the budget (or the device has not that much), recorded again
 * recomputing the UNet's attention blocks in the backward (the same bits, less memory); if that
 * is still over, a refusal. The decision depends on the configuration (and on the device only
 * where it cannot hold the keep-everything step); either way the training is the same, bit for
 * bit: only memory and time differ. */
static int fit_memory(trainer *t)
{
    const uint64_t budget = t->cfg->max_vram;
    uint64_t need = 0, act = 0;
    int rc = vkti_ti_step_prepare(t->step);
    if (rc == VKTI_OK) {
        need = vkti_gpu_bytes_in_use(t->g);
        act = vkti_ti_step_activation_bytes(t->step);
        if (!t->force_recompute && (!budget || need <= budget))
            return VKTI_OK;
    } else if (rc != VKTI_E_OOM || !budget) {
        return rc;
    }
    if ((rc = vkti_ti_step_set_recompute(t->step, 1)) || (rc = vkti_ti_step_prepare(t->step)))
        return rc == VKTI_E_OOM && budget
                   ? vkti_fail_wrap(t->d, rc, "--max-vram %.0f MiB: even recomputing the UNet's attention blocks the "
                                    "training step does not fit the device (lower --batch or --resolution): ", mib(budget))
                   : rc;
    uint64_t need2 = vkti_gpu_bytes_in_use(t->g), act2 = vkti_ti_step_activation_bytes(t->step);
    if (budget && need2 > budget) {
        char without[64] = "";
        if (need)
            snprintf(without, sizeof without, " (%.0f MiB keeping every activation)", mib(need));
        return vkti_fail(t->d, VKTI_E_OOM, "the training step needs %.0f MiB of device memory even recomputing the "
                         "UNet's attention blocks%s, over --max-vram %.0f MiB: lower --batch or --resolution, or raise "
                         "--max-vram", mib(need2), without, mib(budget));
    }
    char was[64] = "";
    if (act)
        snprintf(was, sizeof was, " instead of %.1f MiB", mib(act));
    /* the probe's memory is freed: the run's peak is what it holds from here on. The probe
     * itself held `need` for a moment — over the budget; said, not hidden. */
    vkti_gpu_reset_peak(t->g);
    if (budget && need)
        vkti_log(t->d, VKTI_LOG_INFO, "--max-vram %.0f MiB: recomputing the UNet's attention blocks in the backward "
                 "(activations %.1f MiB%s; the step keeping every activation, %.0f MiB, was held briefly to measure "
                 "it)", mib(budget), mib(act2), was, mib(need));
    else if (budget)
        vkti_log(t->d, VKTI_LOG_INFO, "--max-vram %.0f MiB: recomputing the UNet's attention blocks in the backward "
                 "(activations %.1f MiB%s)", mib(budget), mib(act2), was);
    else
        vkti_log(t->d, VKTI_LOG_INFO, "VKTI_FORCE_RECOMPUTE: recomputing the UNet's attention blocks in the backward "
                 "(activations %.1f MiB%s)", mib(act2), was);
    return VKTI_OK;
}

static int build(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    vkti_clip_text_dims td;
    vkti_unet_dims *ud = &t->unet_dims;
    vkti_model_net tn = {&t->model, VKTI_SD_TEXT_ENCODER}, un = {&t->model, VKTI_SD_UNET};
    vkti_weight_source tsrc = {vkti_model_weight_get, &tn}, usrc = {vkti_model_weight_get, &un};
    int rc;
    vkti_clip_text_dims_from_config(&t->model.text_encoder, &td);
    if ((rc = vkti_unet_dims_from_config(t->d, &t->model.unet, ud)) ||
        (rc = vkti_clip_text_create(&t->te, t->g, &td, &tsrc, t->dt)) ||
        (rc = vkti_unet_create(&t->unet, t->g, ud, &usrc, t->dt)))
        return rc;
    vkti_optim_kind k = cfg->optimizer == VKTI_OPTIMIZER_SGD ? VKTI_OPTIM_SGD
                      : cfg->optimizer == VKTI_OPTIMIZER_ADAM ? VKTI_OPTIM_ADAM : VKTI_OPTIM_ADAMW;
    vkti_ti_step_params p = {.batch = cfg->batch_size, .latent_h = t->lh, .latent_w = t->lw, .latent_c = t->lc,
                             .tokens = TOKENS, .learned = t->E, .v_prediction = t->v_prediction,
                             .use_mask = cfg->loss_mask, .optimizer = k, .dtype = t->dt};
    if ((rc = vkti_ti_step_create(&t->step, t->g, t->te, t->unet, &p, t->init_rows)) ||
        ((cfg->max_vram || t->force_recompute) && (rc = fit_memory(t))))
        return rc;
    t->loss_scale = t->dt == VKTI_F16 ? SCALE_INIT : 1.0;
    return vkti_lr_schedule_from_config(t->d, &t->lr, cfg);
}

static void set_hyper(trainer *t, double lr)
{
    const vkti_train_config *cfg = t->cfg;
    vkti_optim_kind k = cfg->optimizer == VKTI_OPTIMIZER_SGD ? VKTI_OPTIM_SGD
                      : cfg->optimizer == VKTI_OPTIMIZER_ADAM ? VKTI_OPTIM_ADAM : VKTI_OPTIM_ADAMW;
    vkti_optim_params p = vkti_optim_defaults(k);
    p.lr = lr;
    if (k == VKTI_OPTIM_SGD) {
        p.beta1 = cfg->sgd_momentum;
    } else {
        p.beta1 = cfg->adam_beta1;
        p.beta2 = cfg->adam_beta2;
        p.eps = cfg->adam_epsilon;
    }
    p.weight_decay = vkti_train_config_weight_decay(cfg);
    p.max_norm = cfg->max_grad_norm;
    p.loss_scale = t->loss_scale;
    vkti_optim_hyper(vkti_ti_step_io(t->step)->hyper, &p);
}

/* Fills sample b of the step's inputs: ids from the prompt, timestep coefficients, latents. */
static int fill_sample(trainer *t, int b, int entry, int timestep, const char *prompt, double weight)
{
    vkti_ti_io *io = vkti_ti_step_io(t->step);
    const latent_entry *le = &t->lat[entry];
    const int64_t per = (int64_t)t->lh * t->lw * t->lc;
    int rc = vkti_tokenizer_encode(t->d, t->tok, prompt, io->ids + (size_t)b * TOKENS, TOKENS, NULL, NULL);
    if (rc)
        return rc;
    vkti_noise_coefs k = vkti_noise_coefs_at(&t->sched, timestep);
    io->timesteps[b] = (float)timestep;
    io->coef_lat[2 * b] = t->vae_scale;
    io->coef_lat[2 * b + 1] = t->vae_scale;
    io->coef_noisy[2 * b] = k.a;
    io->coef_noisy[2 * b + 1] = k.b;
    io->coef_target[2 * b] = k.v_noise;
    io->coef_target[2 * b + 1] = k.v_latent;
    io->weights[b] = (float)weight;
    vkti_ti_io_put(t->step, io->mean, b * per, le->mean, per);
    vkti_ti_io_put(t->step, io->std, b * per, le->std, per);
    if (io->mask)
        memcpy(io->mask + (size_t)b * (size_t)(t->lh * t->lw), le->mask, sizeof(float) * (size_t)(t->lh * t->lw));
    return VKTI_OK;
}

/* the prompt for an image from template `index` */
static int prompt_for(trainer *t, int index, int item, char *out, size_t cap)
{
    const char *caption = t->ds->items[item].caption;
    char fallback[VKTI_CAPTION_MAX];
    if (!caption && t->templates.uses_filewords) {
        vkti_caption_from_filename(t->ds->items[item].path, fallback, sizeof fallback);
        caption = fallback;
    }
    return vkti_template_render(t->d, &t->templates, index, t->placeholder, caption, out, cap);
}

/* ---- validation ----------------------------------------------------------------------------------- */

static int validate(trainer *t, double *loss_out)
{
    const vkti_train_config *cfg = t->cfg;
    vkti_ti_io *io = vkti_ti_step_io(t->step);
    const int B = cfg->batch_size, count = t->ds->count, T = t->sched.num_train_timesteps;
    const int total = count * EVAL_TIMESTEPS;
    double sum = 0;
    char prompt[VKTI_PROMPT_MAX];
    set_hyper(t, 0);
    for (int first = 0, call = 0; first < total; first += B, call++) {
        for (int b = 0; b < B; b++) {
            int s = first + b < total ? first + b : total - 1, item = s / EVAL_TIMESTEPS, j = s % EVAL_TIMESTEPS;
            int timestep = (int)(((double)j + 0.5) * T / EVAL_TIMESTEPS); /* 100, 300, ... for T = 1000 */
            int rc = prompt_for(t, 0, item, prompt, sizeof prompt);
            if (rc || (rc = fill_sample(t, b, item * t->variants, timestep, prompt, first + b < total ? 1.0 : 0.0)))
                return rc;
            /* the centre-crop, unflipped latent as it is: its mean, not a sample */
            io->coef_lat[2 * b + 1] = 0.0f;
        }
        vkti_rng_key(io->key, (uint64_t)cfg->seed ^ 0x7e57ull, (uint64_t)call);
        int rc = vkti_ti_step_eval(t->step);
        if (rc)
            return rc;
        sum += (double)io->loss[0] * B; /* the batch mean over B samples, padding weighted 0 */
    }
    *loss_out = sum / total;
    return VKTI_OK;
}

/* ---- saving ---------------------------------------------------------------------------------------- */

static void token_file_name(const char *token, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = token; *p && n + 1 < cap; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
            ch >= 0x80)
            out[n++] = (char)ch;
    }
    if (n == 0 && cap > 9)
        n = (size_t)snprintf(out, cap, "embedding");
    out[n] = 0;
}

static int rows_finite(const float *rows, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(rows[i]))
            return 0;
    return 1;
}

/* Writes the embedding in every configured format; suffix "" for the final files. */
static int save_embedding(trainer *t, const char *suffix, int final)
{
    const vkti_train_config *cfg = t->cfg;
    vkti_embedding e;
    int rc = vkti_embedding_alloc(t->d, &e, cfg->token, t->E, t->D, 0);
    if (rc)
        return rc;
    if ((rc = vkti_ti_step_get_rows(t->step, e.vec[0])))
        goto done;
    if (!rows_finite(e.vec[0], (int64_t)t->E * t->D)) {
        rc = vkti_fail(t->d, VKTI_E_INTERNAL, "the learned rows are not finite at step %lld: not saved",
                       (long long)t->step_no);
        goto done;
    }
    e.has_step = 1;
    e.step = t->step_no;
    if ((rc = vkti_embedding_set_string(t->d, &e.sd_checkpoint, t->model.fingerprint)) ||
        (rc = vkti_embedding_set_string(t->d, &e.sd_checkpoint_name, cfg->model)))
        goto done;
    char base[256], name[600], path[PATH_CAP];
    token_file_name(cfg->token, base, sizeof base);
    static const struct { unsigned bit; vkti_embedding_format fmt; const char *ext; } fmts[] = {
        {VKTI_FORMAT_DIFFUSERS, VKTI_EMBEDDING_DIFFUSERS, "safetensors"},
        {VKTI_FORMAT_KOHYA, VKTI_EMBEDDING_KOHYA, "safetensors"},
        {VKTI_FORMAT_A1111, VKTI_EMBEDDING_A1111, "pt"},
    };
    for (size_t i = 0; i < 3 && rc == VKTI_OK; i++) {
        if (!(cfg->formats & fmts[i].bit))
            continue;
        if (fmts[i].fmt == VKTI_EMBEDDING_DIFFUSERS)
            snprintf(name, sizeof name, "%slearned_embeds%s.%s", final ? "" : "embeddings/", suffix, fmts[i].ext);
        else
            snprintf(name, sizeof name, "%s%s%s%s.%s", final ? "" : "embeddings/", base, suffix,
                     fmts[i].fmt == VKTI_EMBEDDING_A1111 ? "-a1111" : "", fmts[i].ext);
        if ((rc = path_join(t, path, name)) || (rc = vkti_embedding_write(t->d, &e, fmts[i].fmt, path)))
            break;
        if (final) {
            char *dst = fmts[i].fmt == VKTI_EMBEDDING_DIFFUSERS ? t->rep->embedding
                      : fmts[i].fmt == VKTI_EMBEDDING_KOHYA ? t->rep->embedding_kohya : t->rep->embedding_a1111;
            snprintf(dst, VKTI_REPORT_PATH_MAX, "%s", path);
        }
    }
done:
    vkti_embedding_free(&e);
    return rc;
}

/* checkpoint: rows, optimizer moments and state, RNG, step, loss scale, configuration, model */
static int save_checkpoint(trainer *t)
{
    const int64_t n = (int64_t)t->E * t->D;
    float *buf = malloc(sizeof(float) * (size_t)n * 3);
    uint32_t state[VKTI_OPT_STATE_N];
    int rc = buf ? VKTI_OK : vkti_fail(t->d, VKTI_E_OOM, "out of host memory");
    if (rc == VKTI_OK)
        rc = vkti_ti_step_get_rows(t->step, buf);
    if (rc == VKTI_OK)
        rc = vkti_ti_step_get_state(t->step, buf + n, buf + 2 * n, state);
    if (rc == VKTI_OK && !rows_finite(buf, n))
        rc = vkti_fail(t->d, VKTI_E_INTERNAL, "the learned rows are not finite: no checkpoint written");
    char *cfg_json = rc ? NULL : vkti_train_config_to_json(t->cfg);
    if (rc == VKTI_OK && !cfg_json)
        rc = vkti_fail(t->d, VKTI_E_OOM, "out of host memory");
    if (rc == VKTI_OK) {
        vkti_io_tensor ts[5];
        const char *names[5] = {"rows", "m", "v", "optim_state", "rng"};
        memset(ts, 0, sizeof ts);
        for (int i = 0; i < 3; i++) {
            ts[i] = (vkti_io_tensor){.name = names[i], .dtype = VKTI_IO_F32, .ndim = 2, .shape = {t->E, t->D},
                                     .data = (const uint8_t *)(buf + i * n)};
            vkti_io_tensor_set_packed(&ts[i]);
        }
        ts[3] = (vkti_io_tensor){.name = names[3], .dtype = VKTI_IO_I32, .ndim = 1, .shape = {VKTI_OPT_STATE_N},
                                 .data = (const uint8_t *)state};
        ts[4] = (vkti_io_tensor){.name = names[4], .dtype = VKTI_IO_I64, .ndim = 1, .shape = {4},
                                 .data = (const uint8_t *)t->r.s};
        vkti_io_tensor_set_packed(&ts[3]);
        vkti_io_tensor_set_packed(&ts[4]);
        char step[32], scale[64], good[32], path[PATH_CAP];
        snprintf(step, sizeof step, "%lld", (long long)t->step_no);
        snprintf(scale, sizeof scale, "%.17g", t->loss_scale);
        snprintf(good, sizeof good, "%lld", (long long)t->good_steps);
        vkti_st_meta meta[] = {{"format", CHECKPOINT_FORMAT}, {"step", step}, {"loss_scale", scale},
                               {"good_steps", good}, {"model_fingerprint", t->model.fingerprint}, {"config", cfg_json}};
        if ((rc = path_join(t, path, "checkpoint.safetensors")) == VKTI_OK &&
            (rc = vkti_safetensors_write(t->d, path, ts, 5, meta, sizeof meta / sizeof meta[0])) == VKTI_OK)
            snprintf(t->rep->checkpoint, VKTI_REPORT_PATH_MAX, "%s", path);
    }
    free(cfg_json);
    free(buf);
    return rc;
}

static int load_checkpoint(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s%s", cfg->resume, vkti_dir_exists(cfg->resume) ? "/checkpoint.safetensors" : "");
    vkti_safetensors st;
    int rc = vkti_safetensors_open(t->d, &st, path);
    if (rc)
        return vkti_fail_wrap(t->d, rc, "--resume");
    const char *fmt = vkti_safetensors_meta(&st, "format"), *step = vkti_safetensors_meta(&st, "step");
    const char *fp = vkti_safetensors_meta(&st, "model_fingerprint"), *cj = vkti_safetensors_meta(&st, "config");
    const char *scale = vkti_safetensors_meta(&st, "loss_scale"), *good = vkti_safetensors_meta(&st, "good_steps");
    const vkti_io_tensor *rows = vkti_safetensors_find(&st, "rows"), *m = vkti_safetensors_find(&st, "m"),
                         *v = vkti_safetensors_find(&st, "v"), *os = vkti_safetensors_find(&st, "optim_state"),
                         *rs = vkti_safetensors_find(&st, "rng");
    const uint64_t n = (uint64_t)t->E * (uint64_t)t->D;
    char err[1024];
    vkti_train_config saved;
    float *buf = NULL;
    uint32_t state[VKTI_OPT_STATE_N];
    if (!fmt || strcmp(fmt, CHECKPOINT_FORMAT) || !step || !fp || !cj || !scale || !good || !rows || !m || !v || !os ||
        !rs || rows->numel != n || m->numel != n || v->numel != n || os->numel != VKTI_OPT_STATE_N || rs->numel != 4 ||
        os->dtype != VKTI_IO_I32 || rs->dtype != VKTI_IO_I64) {
        rc = vkti_fail(t->d, VKTI_E_FORMAT, "%s: not a vkti checkpoint of this training (%d vectors of %d)", path, t->E,
                       t->D);
        goto done;
    }
    if (strcmp(fp, t->model.fingerprint)) {
        rc = vkti_fail(t->d, VKTI_E_INVALID, "--resume %s: the checkpoint was made with another model (fingerprint %s, "
                       "this one %s): resume with the same --model", path, fp, t->model.fingerprint);
        goto done;
    }
    vkti_train_config_init(&saved);
    if ((rc = vkti_train_config_load_json(&saved, cj, strlen(cj), path, err, sizeof err)) ||
        (rc = vkti_train_config_check_resume(&saved, cfg, err, sizeof err))) {
        rc = vkti_fail(t->d, VKTI_E_INVALID, "--resume %s: %s", path, err);
        goto done;
    }
    buf = malloc(sizeof(float) * n * 3);
    if (!buf) {
        rc = vkti_fail(t->d, VKTI_E_OOM, "out of host memory");
        goto done;
    }
    if ((rc = vkti_io_tensor_to_f32(t->d, rows, buf, n)) || (rc = vkti_io_tensor_to_f32(t->d, m, buf + n, n)) ||
        (rc = vkti_io_tensor_to_f32(t->d, v, buf + 2 * n, n)) ||
        (rc = vkti_io_tensor_copy(t->d, os, state, sizeof state)) || (rc = vkti_io_tensor_copy(t->d, rs, t->r.s, sizeof t->r.s)) ||
        (rc = vkti_ti_step_set_state(t->step, buf, buf + n, buf + 2 * n, state)))
        goto done;
    t->step_no = strtoll(step, NULL, 10);
    t->loss_scale = strtod(scale, NULL);
    t->good_steps = strtoll(good, NULL, 10);
    if (t->step_no < 0 || t->step_no > cfg->steps || !(t->loss_scale >= 1)) {
        rc = vkti_fail(t->d, VKTI_E_FORMAT, "%s: step %lld / loss scale %g out of range", path, (long long)t->step_no,
                       t->loss_scale);
        goto done;
    }
    vkti_log(t->d, VKTI_LOG_INFO, "resuming %s at step %lld", path, (long long)t->step_no);
done:
    free(buf);
    vkti_safetensors_close(&st);
    return rc;
}

static int write_curve(trainer *t)
{
    char path[PATH_CAP];
    vkti_loss_plot p = {.title = t->cfg->token, .train_step = t->curve_step, .train_loss = t->curve_loss,
                        .train_n = t->curve_n, .val_step = t->val_step, .val_loss = t->val_loss, .val_n = t->val_n};
    int rc = path_join(t, path, "loss.png");
    if (rc == VKTI_OK && (rc = vkti_plot_loss_write(t->d, path, &p, NULL)) == VKTI_OK)
        snprintf(t->rep->loss_curve, VKTI_REPORT_PATH_MAX, "%s", path);
    return rc;
}

/* ---- previews ------------------------------------------------------------------------------------ */

static vkti_txt2img_params preview_params(const trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    static const vkti_sampler samplers[] = {VKTI_SAMPLER_DDIM, VKTI_SAMPLER_EULER_A, VKTI_SAMPLER_DPMPP_2M,
                                            VKTI_SAMPLER_DPMPP_2M};
    return (vkti_txt2img_params){
        .prompt = cfg->preview_prompt, .negative = cfg->preview_negative,
        .sampler = samplers[cfg->preview_sampler], .karras = cfg->preview_sampler == VKTI_PREVIEW_DPMPP_2M_KARRAS,
        .eta = 0, .steps = cfg->preview_steps, .cfg = cfg->preview_cfg,
        .seed = (uint64_t)vkti_train_config_preview_seed(cfg), .width = cfg->resolution, .height = cfg->resolution,
        .batch = cfg->preview_images, .nrows = t->E, .max_vram = cfg->max_vram,
    };
}

/* Before any work: the preview's options against the model, and the prompt's use of the token. */
static int preview_setup(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    t->previews = cfg->preview_every > 0 && cfg->preview_prompt[0];
    if (!t->previews)
        return VKTI_OK;
    const char *src = t->model.scheduler_source ? t->model.scheduler_source : "scheduler_config.json";
    vkti_txt2img_params p = preview_params(t);
    int rc;
    if ((rc = vkti_sampling_config_parse(t->d, &t->sampling, t->model.scheduler_json, t->model.scheduler_json_len,
                                         src)) ||
        (rc = vkti_vae_dims_from_config(t->d, &t->model.vae, &t->vae_dims)) ||
        (rc = vkti_unet_dims_from_config(t->d, &t->model.unet, &t->unet_dims)) ||
        (rc = vkti_txt2img_check(t->d, &t->unet_dims, &t->vae_dims, &p)))
        return vkti_fail_wrap(t->d, rc, "previews (--preview-*): ");
    if (!strstr(cfg->preview_prompt, cfg->token))
        vkti_log(t->d, VKTI_LOG_WARN, "the preview prompt \"%s\" does not contain the token %s: the previews will not "
                 "show what it learned", cfg->preview_prompt, cfg->token);
    return VKTI_OK;
}

static int preview(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    vkti_model_net net = {&t->model, VKTI_SD_VAE};
    vkti_weight_source src = {vkti_model_weight_get, &net};
    int rc;
    if (!t->decoder && (rc = vkti_vae_create(&t->decoder, t->g, &t->vae_dims, &src, t->dt, VKTI_VAE_DECODER)))
        return vkti_fail_wrap(t->d, rc, "previews: ");
    float *rows = malloc(sizeof(float) * (size_t)t->E * (size_t)t->D);
    if (!rows)
        return vkti_fail(t->d, VKTI_E_OOM, "out of host memory for a preview");
    vkti_sd_nets n = {.g = t->g, .dtype = t->dt, .te = t->te, .unet = t->unet, .unet_dims = &t->unet_dims,
                      .vae = t->decoder, .tok = t->tok, .schedule = &t->sched, .sampling = &t->sampling};
    vkti_txt2img_params p = preview_params(t);
    p.rows = rows;
    vkti_preview pv = {0};
    char name[64], path[PATH_CAP];
    snprintf(name, sizeof name, "previews/step-%06lld.png", (long long)t->step_no);
    if ((rc = vkti_ti_step_get_rows(t->step, rows)) == VKTI_OK)
        rc = vkti_preview_render(t->d, &n, &p, t->step_no, cfg->model, &pv);
    vkti_ti_step_forget(t->step); /* the sampling recorded into the networks */
    if (rc == VKTI_OK && (rc = path_join(t, path, "previews")) == VKTI_OK && (rc = vkti_mkdir_p(t->d, path)) == VKTI_OK &&
        (rc = path_join(t, path, name)) == VKTI_OK && (rc = vkti_file_write_atomic(t->d, path, pv.png, pv.png_size)) == VKTI_OK &&
        (rc = vkti_metrics_image(t->d, t->metrics, "preview", t->step_no, pv.png, pv.png_size, pv.width, pv.height, 3)) ==
            VKTI_OK) {
        t->rep->previews++;
        snprintf(t->rep->preview, VKTI_REPORT_PATH_MAX, "%s", path);
        vkti_log(t->d, VKTI_LOG_INFO, "step %lld: preview %s (%d images, %.1f s)", (long long)t->step_no, path, pv.images,
                 pv.seconds);
    }
    vkti_preview_free(&pv);
    free(rows);
    return rc;
}

/* ---- the loop -------------------------------------------------------------------------------------- */

static int eval_and_log(trainer *t)
{
    double vl;
    int rc = validate(t, &vl);
    if (rc)
        return rc;
    if (!(t->rep->first_val_loss == t->rep->first_val_loss))
        t->rep->first_val_loss = vl;
    t->rep->last_val_loss = vl;
    vkti_metric m = {"loss", vl, NULL};
    if ((rc = push_point(t, &t->val_step, &t->val_loss, &t->val_n, &t->val_cap, (double)t->step_no, vl)) ||
        (rc = vkti_metrics_log(t->d, t->metrics, "eval", t->step_no, &m, 1)))
        return rc;
    vkti_log(t->d, VKTI_LOG_INFO, "step %lld: validation loss %.6f", (long long)t->step_no, vl);
    return VKTI_OK;
}

static int train_loop(trainer *t)
{
    const vkti_train_config *cfg = t->cfg;
    vkti_ti_io *io = vkti_ti_step_io(t->step);
    const int B = cfg->batch_size, A = cfg->grad_accum, T = t->sched.num_train_timesteps;
    const int flips = cfg->flip_prob > 0 ? 2 : 1, crops = t->variants / flips;
    char prompt[VKTI_PROMPT_MAX];
    vkti_progress prog;
    const int live = t->progress != NULL; /* a caller that redraws one line */
    int64_t consecutive_bad = 0;
    int rc = VKTI_OK;
    vkti_progress_init(&prog, t->step_no, cfg->steps, live ? 0.1 : 10.0);
    if (cfg->eval_every > 0 && t->step_no == 0 && (rc = eval_and_log(t)))
        return rc;
    double t0 = vkti_now();
    int64_t start = t->step_no;
    vkti_interrupt_install();
    while (t->step_no < cfg->steps) {
        double lr = vkti_lr_at(&t->lr, t->step_no), step_loss = 0;
        set_hyper(t, lr);
        for (int a = 0; a < A; a++) {
            for (int b = 0; b < B; b++) {
                int item = (int)rng_below(&t->r, (uint32_t)t->ds->count);
                int flip = flips > 1 && rng_unit(&t->r) < cfg->flip_prob;
                int crop = crops > 1 ? (int)rng_below(&t->r, (uint32_t)crops) : 0;
                int tpl = vkti_template_pick(&t->templates, rng_next(&t->r));
                int timestep = (int)rng_below(&t->r, (uint32_t)T);
                double w = cfg->min_snr_gamma > 0 ? vkti_min_snr_weight(&t->sched, timestep, cfg->min_snr_gamma) : 1.0;
                if ((rc = prompt_for(t, tpl, item, prompt, sizeof prompt)) ||
                    (rc = fill_sample(t, b, item * t->variants + crop * flips + flip, timestep, prompt, w / A)))
                    return rc;
            }
            vkti_rng_key(io->key, (uint64_t)cfg->seed, (uint64_t)(t->step_no * A + a));
            if ((rc = vkti_ti_step_micro(t->step)))
                return rc;
            step_loss += io->loss[0];
        }
        if ((rc = vkti_ti_step_update(t->step)))
            return rc;
        int applied = io->state[VKTI_OPT_APPLY] != 0;
        int loss_ok = isfinite(step_loss);
        if (applied && loss_ok) {
            consecutive_bad = 0;
            if (t->dt == VKTI_F16 && ++t->good_steps >= SCALE_GROWTH_INTERVAL) {
                t->loss_scale *= 2;
                t->good_steps = 0;
            }
        } else if (loss_ok && t->dt == VKTI_F16 && t->loss_scale > 1) {
            /* a gradient overflowed at this scale: GradScaler halves it and skips the step */
            t->loss_scale /= 2;
            t->good_steps = 0;
            t->rep->overflow_steps++;
        } else {
            t->rep->nonfinite_steps++;
            if (++consecutive_bad >= cfg->max_nonfinite_steps)
                return vkti_fail(t->d, VKTI_E_INVALID, "%lld steps in a row had a non-finite loss or gradient (the last "
                                 "good embedding was saved): lower --lr, or try --precision fp32",
                                 (long long)consecutive_bad);
        }
        t->step_no++;
        double now = vkti_now();
        vkti_progress_update(&prog, t->step_no, now, loss_ok, step_loss, lr);
        if (loss_ok && (rc = push_point(t, &t->curve_step, &t->curve_loss, &t->curve_n, &t->curve_cap,
                                        (double)t->step_no, step_loss)))
            return rc;
        if (cfg->log_every > 0 && t->step_no % cfg->log_every == 0) {
            vkti_metric m[4] = {{"loss", step_loss, NULL}, {"lr", lr, NULL}, {"loss_scale", t->loss_scale, NULL},
                                {"skipped", (double)(t->rep->nonfinite_steps + t->rep->overflow_steps), NULL}};
            if ((rc = vkti_metrics_log(t->d, t->metrics, "train", t->step_no, m, 4)))
                return rc;
        }
        char line[512];
        const int last = t->step_no == cfg->steps;
        if (vkti_progress_render(&prog, now, 0, live ? vkti_terminal_width() : 100, last, line, sizeof line)) {
            size_t l = strlen(line);
            while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
                line[--l] = 0;
            if (live)
                t->progress(t->progress_user, line, last);
            else
                vkti_log(t->d, VKTI_LOG_INFO, "%s", line);
        }
        int interrupted = vkti_interrupt_requested();
        if ((cfg->eval_every > 0 && t->step_no % cfg->eval_every == 0) && (rc = eval_and_log(t)))
            return rc;
        if (t->previews && t->step_no % cfg->preview_every == 0 && (rc = preview(t)))
            return rc;
        char suffix[48];
        snprintf(suffix, sizeof suffix, "-step%06lld", (long long)t->step_no);
        if (cfg->save_every > 0 && t->step_no % cfg->save_every == 0 && t->step_no < cfg->steps &&
            (rc = save_embedding(t, suffix, 0)))
            return rc;
        if (((cfg->checkpoint_every > 0 && t->step_no % cfg->checkpoint_every == 0) || interrupted) &&
            (rc = save_checkpoint(t)))
            return rc;
        if (interrupted) {
            t->rep->interrupted = 1;
            vkti_log(t->d, VKTI_LOG_WARN, "interrupted at step %lld: checkpoint and embedding saved; continue with "
                     "--resume %s", (long long)t->step_no, t->out_dir);
            break;
        }
    }
    t->rep->seconds = vkti_now() - t0;
    t->rep->steps_done = t->step_no;
    int64_t done = t->step_no - start;
    t->rep->steps_per_second = t->rep->seconds > 0 ? (double)done / t->rep->seconds : 0;
    t->rep->samples_per_second = t->rep->steps_per_second * B * A;
    t->rep->last_loss = vkti_progress_loss(&prog);
    return VKTI_OK;
}

int vkti_trainer_run(vkti_gpu *g, vkti_diag *d, const vkti_train_config *cfg, vkti_train_report *rep,
                     vkti_progress_fn progress, void *progress_user, int force_recompute)
{
    trainer t;
    memset(&t, 0, sizeof t);
    memset(rep, 0, sizeof *rep);
    rep->first_val_loss = rep->last_val_loss = NAN;
    t.d = d;
    t.g = g;
    t.cfg = cfg;
    t.rep = rep;
    t.progress = progress;
    t.progress_user = progress_user;
    t.force_recompute = force_recompute;
    t.dt = cfg->precision == VKTI_PRECISION_FP32 ? VKTI_F32 : VKTI_F16;
    snprintf(t.out_dir, sizeof t.out_dir, "%s", cfg->out);
    rng_seed(&t.r, (uint64_t)cfg->seed);
    char sub[PATH_CAP];
    int rc;
    if ((rc = vkti_mkdir_p(d, t.out_dir)) || (rc = path_join(&t, sub, "embeddings")) ||
        (cfg->save_every > 0 && (rc = vkti_mkdir_p(d, sub))) || (rc = open_model(&t)) || (rc = add_tokens(&t)) || (rc = preview_setup(&t)) ||
        (rc = vkti_templates_from_config(d, &t.templates, cfg)) || (rc = cache_latents(&t)) || (rc = build(&t)))
        goto done;
    if (cfg->resume[0] && (rc = load_checkpoint(&t)))
        goto done;
    rep->start_step = t.step_no;
    if ((rc = vkti_metrics_open(d, t.out_dir, t.step_no, cfg->tensorboard, &t.metrics)))
        goto done;
    snprintf(rep->tensorboard, sizeof rep->tensorboard, "%s", vkti_metrics_tb_path(t.metrics));
    path_join(&t, rep->metrics, "metrics.jsonl");
    rc = train_loop(&t);
    rep->peak_device_bytes = vkti_gpu_bytes_peak(g);
    /* the embedding as it stands, even after a failure (its rows are only saved when finite) */
    if (t.step && t.step_no > rep->start_step) {
        int rc2 = save_embedding(&t, "", 1);
        if (rc == VKTI_OK)
            rc = rc2;
    }
    if (rc == VKTI_OK && !rep->interrupted && cfg->checkpoint_every > 0)
        rc = save_checkpoint(&t);
    if (t.curve_n || t.val_n) {
        int rc2 = write_curve(&t);
        if (rc == VKTI_OK)
            rc = rc2;
    }
done:
    vkti_metrics_close(t.metrics);
    vkti_ti_step_free(t.step);
    vkti_vae_free(t.decoder);
    vkti_unet_free(t.unet);
    vkti_clip_text_free(t.te);
    if (t.lat)
        for (int i = 0; t.ds && i < t.ds->count * t.variants; i++) {
            free(t.lat[i].mean);
            free(t.lat[i].std);
            free(t.lat[i].mask);
        }
    free(t.lat);
    free(t.init_rows);
    free(t.curve_step), free(t.curve_loss), free(t.val_step), free(t.val_loss);
    vkti_templates_free(&t.templates);
    vkti_noise_schedule_free(&t.sched);
    vkti_dataset_free(t.ds);
    vkti_tokenizer_free(t.tok);
    if (t.model_open)
        vkti_model_close(&t.model);
    return rc;
}
