/* bench_step.c — `vkti bench step`: the networks and the training step on a real model's
 * shapes. UNet forward (batch 1 and 2: one sampling step without and with classifier-free
 * guidance) and forward + input-gradient backward are timed on the device (timestamps around a
 * recording replayed several times; median); the whole textual-inversion step (text encoder and
 * UNet forward and backward, loss, optimizer: two submissions) by the host clock per step, as a
 * user sees it. Inputs are random; weights are the model's. With recompute, both backwards
 * recompute the UNet's attention blocks (VKTI_UNET_RECOMPUTE). */
#include "api/ctx_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/model_files.h"
#include "io/noise_schedule.h"
#include "model/clip_text.h"
#include "model/sd_dims.h"
#include "model/unet.h"
#include "ops/rng.h"
#include "train/ti_step.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int row(vkti_bench_row **rows, int *n, double ms, double flops, const char *fmt, ...) VKTI_PRINTF(5, 6);
static int row(vkti_bench_row **rows, int *n, double ms, double flops, const char *fmt, ...)
{
    vkti_bench_row *nr = realloc(*rows, sizeof **rows * (size_t)(*n + 1));
    if (!nr)
        return VKTI_E_OOM;
    *rows = nr;
    vkti_bench_row *r = &nr[(*n)++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->name, sizeof r->name, fmt, ap);
    va_end(ap);
    r->ms = ms;
    r->flops = flops;
    r->bytes = 0;
    return VKTI_OK;
}

static void fill_random(float *x, int64_t n, uint64_t *s, float scale)
{
    for (int64_t i = 0; i < n; i++) {
        *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
        x[i] = scale * (float)((double)(*s >> 40) / 8388608.0 - 1.0);
    }
}

/* UNet forward (and backward) of batch B timed on the device: median ms of `runs` replays after
 * `warm` warm-up replays */
static int time_unet(vkti_gpu *g, vkti_unet *u, const vkti_unet_dims *ud, vkti_dtype nd, int B, int h, int w,
                     int mode, int warm, int runs, double *ms)
{
    vkti_arena *a = NULL;
    vkti_cmd *c = NULL;
    vkti_tensor x, t, cond, out, dout, dcond;
    int rc, t0, t1;
    uint64_t seed = 0x1234;
    int64_t nx = (int64_t)B * h * w * ud->in_channels, nc = (int64_t)B * 77 * ud->cross_dim;
    float *hx = malloc(sizeof(float) * (size_t)(nx > nc ? nx : nc)), ts[8];
    double *times = calloc((size_t)runs, sizeof(double));
    if (!hx || !times) {
        free(hx);
        free(times);
        return VKTI_E_OOM;
    }
    for (int i = 0; i < B; i++)
        ts[i] = (float)(100 + 97 * i);
    if ((rc = vkti_arena_create(g, "bench", 0, &a)) || (rc = vkti_cmd_create(g, &c)))
        goto done;
    if ((rc = vkti_arena_tensor(a, &x, nd, VKTI_DIMS(B, h, w, ud->in_channels))) ||
        (rc = vkti_arena_tensor(a, &out, nd, VKTI_DIMS(B, h, w, ud->out_channels))) ||
        (rc = vkti_arena_tensor(a, &dout, nd, VKTI_DIMS(B, h, w, ud->out_channels))) ||
        (rc = vkti_arena_tensor(a, &cond, nd, VKTI_DIMS(B, 77, ud->cross_dim))) ||
        (rc = vkti_arena_tensor(a, &dcond, nd, VKTI_DIMS(B, 77, ud->cross_dim))) ||
        (rc = vkti_arena_tensor(a, &t, VKTI_F32, VKTI_DIMS(B))))
        goto done;
    fill_random(hx, nx, &seed, 1.0f);
    if ((rc = vkti_tensor_upload_f32(g, &x, hx, nx)) || (rc = vkti_tensor_upload_f32(g, &dout, hx, nx)))
        goto done;
    fill_random(hx, nc, &seed, 1.0f);
    if ((rc = vkti_tensor_upload_f32(g, &cond, hx, nc)) || (rc = vkti_tensor_upload_f32(g, &t, ts, B)))
        goto done;
    if ((rc = vkti_cmd_begin(c)) || (rc = vkti_cmd_timestamp(c, &t0)) ||
        (rc = vkti_unet_forward(c, u, &out, &x, &t, &cond, mode)) ||
        (mode && (rc = vkti_unet_backward(c, u, &dcond, &dout))) || (rc = vkti_cmd_timestamp(c, &t1)) ||
        (rc = vkti_cmd_end(c)))
        goto done;
    for (int r = -warm; r < runs; r++) {
        double ns;
        if ((rc = vkti_cmd_submit(c, 1)))
            goto done;
        if (r >= 0) {
            if ((rc = vkti_cmd_elapsed_ns(c, t0, t1, &ns)))
                goto done;
            times[r] = ns * 1e-6;
        }
    }
    qsort(times, (size_t)runs, sizeof times[0], cmp_d);
    *ms = times[runs / 2];
done:
    vkti_cmd_free(c);
    vkti_arena_free(a);
    free(hx);
    free(times);
    return rc;
}

int vkti_bench_step(vkti_ctx *ctx, const char *model_path, int resolution, int batch, int steps, int recompute,
                    vkti_bench_row **rows, int *count, uint64_t *peak_bytes, uint64_t *activation_bytes)
{
    *rows = NULL;
    *count = 0;
    *activation_bytes = 0;
    const char *rec = recompute ? ", recompute" : "";
    vkti_gpu *g;
    int rc = vkti__ctx_gpu(ctx, &g);
    if (rc)
        return rc;
    if (!vkti_gpu_info(g)->timestamps)
        return vkti_fail(&ctx->diag, VKTI_E_UNSUPPORTED, "device '%s' has no timestamp queries", vkti_gpu_info(g)->name);
    vkti_diag *d = &ctx->diag;
    vkti_model m;
    memset(&m, 0, sizeof m);
    vkti_clip_text *te = NULL;
    vkti_unet *u = NULL;
    vkti_ti_step *st = NULL;
    vkti_noise_schedule ns = {0};
    float *init = NULL, *buf = NULL;
    if ((rc = vkti_model_open(d, &m, model_path, NULL)))
        return rc;
    vkti_dtype dt = ctx->opt.precision == VKTI_PRECISION_FP32 ? VKTI_F32 : VKTI_F16;
    vkti_clip_text_dims td;
    vkti_unet_dims ud;
    vkti_model_net tn = {&m, VKTI_SD_TEXT_ENCODER}, un = {&m, VKTI_SD_UNET};
    vkti_weight_source tsrc = {vkti_model_weight_get, &tn}, usrc = {vkti_model_weight_get, &un};
    vkti_clip_text_dims_from_config(&m.text_encoder, &td);
    const int f = 1 << (m.vae.num_blocks - 1), h = resolution / f, w = resolution / f;
    if ((rc = vkti_unet_dims_from_config(d, &m.unet, &ud)) || (rc = vkti_clip_text_create(&te, g, &td, &tsrc, dt)) ||
        (rc = vkti_unet_create(&u, g, &ud, &usrc, dt)) ||
        (rc = vkti_noise_schedule_from_json(d, &ns, m.scheduler_json, m.scheduler_json_len, "scheduler", VKTI_LINSPACE_FUSED)))
        goto done;
    vkti_log(d, VKTI_LOG_INFO, "%s: %.1fM unet and %.1fM text-encoder parameters, %dx%d (latent %dx%d), %s", model_path,
             (double)vkti_unet_params(u) / 1e6, (double)vkti_clip_text_params(te) / 1e6, resolution, resolution, h, w,
             vkti_dtype_name(dt));
    double ms = 0;
    /* a CPU device (lavapipe: about a minute per SD 1.5 forward at 256 x 256) gets one timed
     * replay and no warm-up; pipelines are built when recording, so the first replay is fair */
    const int cpu = vkti_gpu_info(g)->type == VKTI_DEVICE_CPU, runs = cpu ? 1 : 10, warm = cpu ? 0 : 2;
    for (int k = 0; k < 3; k++) {
        int B = k == 1 ? 2 : 1, bwd = k == 2;
        int mode = !bwd ? VKTI_UNET_INFER : recompute ? VKTI_UNET_RECOMPUTE : VKTI_UNET_KEEP;
        if ((rc = time_unet(g, u, &ud, dt, B, h, w, mode, warm, runs, &ms)) ||
            (rc = row(rows, count, ms, 0, "unet %s, batch %d, %dx%d%s", bwd ? "forward + input-gradient backward" : "forward",
                      B, resolution, resolution, bwd ? rec : "")))
            goto done;
    }
    /* the whole training step, batch `batch`, by the host clock */
    const int E = 1, D = td.width, T = ns.num_train_timesteps;
    init = malloc(sizeof(float) * (size_t)(E * D));
    int64_t per = (int64_t)h * w * ud.in_channels;
    buf = malloc(sizeof(float) * (size_t)per);
    if (!init || !buf) {
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
        goto done;
    }
    uint64_t s = 99;
    fill_random(init, E * D, &s, 0.02f);
    vkti_ti_step_params p = {.batch = batch, .latent_h = h, .latent_w = w, .latent_c = ud.in_channels, .tokens = 77,
                             .learned = E, .v_prediction = ns.prediction_type == VKTI_PREDICT_V,
                             .optimizer = VKTI_OPTIM_ADAMW, .dtype = dt, .recompute = recompute};
    if ((rc = vkti_ti_step_create(&st, g, te, u, &p, init)))
        goto done;
    vkti_ti_io *io = vkti_ti_step_io(st);
    vkti_optim_params op = vkti_optim_defaults(VKTI_OPTIM_ADAMW);
    op.lr = 5e-3;
    op.loss_scale = dt == VKTI_F16 ? 1024 : 1;
    vkti_optim_hyper(io->hyper, &op);
    double t_start = 0;
    for (int i = cpu ? -1 : -3; i < steps; i++) { /* warm-up steps: three, one on a CPU */
        if (i == 0)
            t_start = vkti_now();
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < 77; k++)
                io->ids[b * 77 + k] = k == 5 ? td.vocab : (int32_t)((k * 131 + b * 7) % (td.vocab - 2));
            int t = (int)((i * 7919u + (unsigned)b * 104729u) % (unsigned)T);
            vkti_noise_coefs c = vkti_noise_coefs_at(&ns, t);
            io->timesteps[b] = (float)t;
            io->coef_lat[2 * b] = io->coef_lat[2 * b + 1] = 0.18215f;
            io->coef_noisy[2 * b] = c.a;
            io->coef_noisy[2 * b + 1] = c.b;
            io->coef_target[2 * b] = c.v_noise;
            io->coef_target[2 * b + 1] = c.v_latent;
            io->weights[b] = 1.0f;
            fill_random(buf, per, &s, 5.0f);
            vkti_ti_io_put(st, io->mean, b * per, buf, per);
            fill_random(buf, per, &s, 0.1f);
            vkti_ti_io_put(st, io->std, b * per, buf, per);
        }
        vkti_rng_key(io->key, 7, (uint64_t)(i + 3));
        if ((rc = vkti_ti_step_micro(st)) || (rc = vkti_ti_step_update(st)))
            goto done;
    }
    double total = vkti_now() - t_start;
    if ((rc = row(rows, count, 1e3 * total / steps, 0, "training step (text encoder + unet fwd/bwd + AdamW), batch %d, "
                  "%dx%d%s, host clock", batch, resolution, resolution, rec)))
        goto done;
    *activation_bytes = vkti_ti_step_activation_bytes(st);
    vkti_log(d, VKTI_LOG_INFO, "training step%s: %.1f ms, %.2f samples/s; the UNet's activations %.0f MiB", rec,
             1e3 * total / steps, batch * steps / total, (double)*activation_bytes / 1048576.0);
done:
    *peak_bytes = vkti_gpu_bytes_peak(g);
    free(init);
    free(buf);
    vkti_ti_step_free(st);
    vkti_unet_free(u);
    vkti_clip_text_free(te);
    vkti_noise_schedule_free(&ns);
    vkti_model_close(&m);
    if (rc) {
        free(*rows);
        *rows = NULL;
        *count = 0;
    }
    return rc;
}
