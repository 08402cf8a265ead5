/* test_sampler.c — the sampler op against its double reference: every mode (start, DDIM, Euler
 * ancestral, DPM++ 2M) with epsilon and v prediction, with and without guidance, noise, clipping;
 * one and two copies of the next UNet input; f32 and f16 networks; odd sizes and the SD 1.5
 * latent (64 x 64 x 4, guidance batch); a recording replayed over three steps with coefficients
 * rewritten in mapped memory between submissions (DPM++ 2M's history carried on the device); and
 * the decoder-input window. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "ops/sampler.h"
#include "ref/ref_sampler.h"

/* plausible coefficients of a step of the mode (the op does not care where they come from) */
static void random_coefs(th *t, unsigned mode, float *c)
{
    memset(c, 0, sizeof(float) * VKTI_SAMPLER_COEFS);
    c[VKTI_SC_IN_DIV] = (float)(1.0 + 14.0 * th_uniform(t));
    c[VKTI_SC_GUIDANCE] = 7.5f;
    double a = 0.01 + 0.98 * th_uniform(t), s = 0.03 + 14.6 * th_uniform(t);
    switch (mode) {
    case VKTI_SAMPLER_MODE_INIT:
        c[2] = (float)s;
        break;
    case VKTI_SAMPLER_MODE_DDIM: {
        double ap = a + (1 - a) * th_uniform(t), std = 0.5 * sqrt(1 - ap) * th_uniform(t);
        c[2] = (float)sqrt(a);
        c[3] = (float)sqrt(1 - a);
        c[4] = 1.0f;
        c[5] = (float)sqrt(ap);
        c[6] = (float)sqrt(1 - ap - std * std);
        c[7] = (float)std;
        break;
    }
    case VKTI_SAMPLER_MODE_EULER_A: {
        double up = 0.5 * s * th_uniform(t);
        c[2] = (float)s;
        c[3] = (float)(-s / sqrt(s * s + 1));
        c[4] = (float)(s * s + 1);
        c[5] = (float)(-s * th_uniform(t));
        c[6] = (float)up;
        break;
    }
    default:
        c[2] = (float)sqrt(a);
        c[3] = (float)sqrt(1 - a);
        c[4] = (float)(0.3 + 0.6 * th_uniform(t));
        c[5] = (float)(-0.4 * th_uniform(t));
        c[6] = 0.5f * c[5];
        c[7] = (float)(0.5 + th_uniform(t));
        break;
    }
}

static const char *mode_name(unsigned m)
{
    static const char *const names[] = {"init", "ddim", "euler_a", "dpmpp_2m"};
    return names[m];
}

/* an f32 tensor with guards that starts with host values (x and hist are read and written) */
static int inout(th *t, vkti_tensor *out, int ndim, const int64_t *shape, float *host)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return th_output(t, out, VKTI_F32, ndim, shape) && th_ok(t, vkti_tensor_upload_f32(t->g, out, host, n));
}

static void step_case(th *t, unsigned mode, unsigned flags, vkti_dtype dt, int64_t B, int64_t h, int64_t w, int copies,
                      int big)
{
    if (big && t->quick)
        return;
    const int64_t C = 4, n = h * w * C, total = B * n;
    const int guided = (flags & VKTI_SAMPLER_F_GUIDED) != 0;
    if (!th_case(t, "%s %s%s%s%s%s B=%lld %lldx%lldx%lld copies=%d", mode_name(mode), vkti_dtype_name(dt),
                 (flags & VKTI_SAMPLER_F_V) ? " v" : "", guided ? " guided" : "", (flags & VKTI_SAMPLER_F_NOISE) ? " noise" : "",
                 (flags & VKTI_SAMPLER_F_CLIP) ? " clip" : "", (long long)B, (long long)h, (long long)w, (long long)C, copies))
        return;
    const int64_t stride = n + 3, rows = guided ? 2 : 1;
    float *x = th_alloc(t, sizeof(float) * (size_t)total), *hist = th_alloc(t, sizeof(float) * (size_t)total);
    float *mo = th_alloc(t, sizeof(float) * (size_t)(rows * total)), *nz = th_alloc(t, sizeof(float) * (size_t)(B * stride));
    float coef[VKTI_SAMPLER_COEFS];
    double *rx = th_alloc(t, sizeof(double) * (size_t)total), *rh = th_alloc(t, sizeof(double) * (size_t)total);
    double *rin = th_alloc(t, sizeof(double) * (size_t)(copies * total));
    if (!x || !hist || !mo || !nz || !rx || !rh || !rin)
        return;
    th_fill_normal(t, x, total, 3.0f);
    th_fill_normal(t, hist, total, 1.0f);
    th_fill_normal(t, mo, rows * total, 1.0f);
    th_fill_normal(t, nz, B * stride, 1.0f);
    random_coefs(t, mode, coef);
    if (flags & VKTI_SAMPLER_F_CLIP)
        coef[4] = 1.5f; /* the clamp bites on a good share of the elements */
    const int use_hist = mode == VKTI_SAMPLER_MODE_DPMPP_2M || (flags & VKTI_SAMPLER_F_HIST);
    vkti_tensor tx, th_, tin, tmo, tnz, tc;
    int64_t sx[4] = {B, h, w, C}, sin[4] = {copies * B, h, w, C}, smo[4] = {rows * B, h, w, C};
    int64_t snz = B * stride, sc = VKTI_SAMPLER_COEFS;
    if (!inout(t, &tx, 4, sx, x) || (use_hist && !inout(t, &th_, 4, sx, hist)) || !th_output(t, &tin, dt, 4, sin) ||
        !th_input(t, &tmo, dt, 4, smo, mo) || !th_input(t, &tnz, VKTI_F32, 1, &snz, nz) ||
        !th_input(t, &tc, VKTI_F32, 1, &sc, coef))
        return;
    if (!th_begin(t) ||
        !th_ok(t, vkti_sampler_step_forward(t->cmd, &tx, use_hist ? &th_ : NULL, &tin,
                                            mode == VKTI_SAMPLER_MODE_INIT ? NULL : &tmo,
                                            (mode == VKTI_SAMPLER_MODE_INIT || (flags & VKTI_SAMPLER_F_NOISE)) ? &tnz : NULL,
                                            &tc, mode, flags)) ||
        !th_submit(t))
        return;
    ref_sampler_step(rx, rh, rin, x, hist, mo, nz, coef, mode, flags, B, n, copies, stride);
    th_check(t, &tx, rx, TH_F32);
    if (use_hist)
        th_check(t, &th_, rh, TH_F32);
    th_check(t, &tin, rin, dt == VKTI_F16 ? TH_F16 : TH_F32);
}

/* one recording, three replays: coefficients and the model output rewritten between them; x and
 * the DPM++ history carry over on the device */
static void replay_case(th *t, vkti_dtype dt)
{
    if (!th_case(t, "dpmpp_2m %s replayed 3 steps, coefficients in mapped memory", vkti_dtype_name(dt)))
        return;
    const int64_t B = 2, h = 5, w = 3, C = 4, n = h * w * C, total = B * n;
    float *x = th_alloc(t, sizeof(float) * (size_t)total), *hist = th_alloc(t, sizeof(float) * (size_t)total);
    float *mo = th_alloc(t, sizeof(float) * (size_t)(2 * total));
    double *rx = th_alloc(t, sizeof(double) * (size_t)total), *rh = th_alloc(t, sizeof(double) * (size_t)total);
    double *rin = th_alloc(t, sizeof(double) * (size_t)(2 * total));
    if (!x || !hist || !mo || !rx || !rh || !rin)
        return;
    th_fill_normal(t, x, total, 3.0f);
    memset(hist, 0, sizeof(float) * (size_t)total);
    vkti_arena *mapped = NULL;
    if (!th_ok(t, vkti_arena_create_mapped(t->g, "coefficients", 0, &mapped)))
        return;
    vkti_tensor tx, thist, tin, tmo, tc;
    int64_t sx[4] = {B, h, w, C}, s2[4] = {2 * B, h, w, C};
    if (inout(t, &tx, 4, sx, x) && inout(t, &thist, 4, sx, hist) && th_output(t, &tin, dt, 4, s2) &&
        th_input(t, &tmo, dt, 4, s2, mo) &&
        th_ok(t, vkti_arena_tensor(mapped, &tc, VKTI_F32, 1, (int64_t[]){VKTI_SAMPLER_COEFS})) && th_begin(t) &&
        th_ok(t, vkti_sampler_step_forward(t->cmd, &tx, &thist, &tin, &tmo, NULL, &tc, VKTI_SAMPLER_MODE_DPMPP_2M,
                                           VKTI_SAMPLER_F_GUIDED)) &&
        th_ok(t, vkti_cmd_end(t->cmd))) {
        float *coef = vkti_tensor_host(&tc);
        for (int step = 0; step < 3 && coef; step++) {
            th_fill_normal(t, mo, 2 * total, 1.0f);
            if (!th_ok(t, vkti_tensor_upload_f32(t->g, &tmo, mo, 2 * total)) ||
                !th_ok(t, vkti_tensor_download_f32(t->g, &tmo, mo, 2 * total)))
                break;
            random_coefs(t, VKTI_SAMPLER_MODE_DPMPP_2M, coef);
            if (step == 0)
                coef[6] = coef[7] = 0.0f; /* first order */
            ref_sampler_step(rx, rh, rin, x, hist, mo, NULL, coef, VKTI_SAMPLER_MODE_DPMPP_2M, VKTI_SAMPLER_F_GUIDED, B, n, 2, n);
            if (!th_ok(t, vkti_cmd_submit(t->cmd, 1)))
                break;
            th_check(t, &tx, rx, TH_F32);
            th_check(t, &thist, rh, TH_F32);
            th_check(t, &tin, rin, dt == VKTI_F16 ? TH_F16 : TH_F32);
            /* the next step starts from what the device holds */
            float *gx = th_download(t, &tx), *gh = th_download(t, &thist);
            if (!gx || !gh)
                break;
            memcpy(x, gx, sizeof(float) * (size_t)total);
            memcpy(hist, gh, sizeof(float) * (size_t)total);
        }
    }
    th_ok(t, vkti_gpu_wait_idle(t->g));
    vkti_arena_free(mapped);
}

static void latent_case(th *t, vkti_dtype dt, int64_t B, int64_t h, int64_t w, int image, int64_t y0, int64_t x0,
                        int64_t oh, int64_t ow)
{
    const int64_t C = 4;
    if (!th_case(t, "latent window %s [%lld, %lld, %lld, 4] image %d %lldx%lld at (%lld, %lld)", vkti_dtype_name(dt),
                 (long long)B, (long long)h, (long long)w, image, (long long)oh, (long long)ow, (long long)y0, (long long)x0))
        return;
    int64_t total = B * h * w * C, sl[4] = {B, h, w, C}, so[4] = {1, oh, ow, C};
    float *lat = th_alloc(t, sizeof(float) * (size_t)total);
    double *ref = th_alloc(t, sizeof(double) * (size_t)(oh * ow * C));
    vkti_tensor tl, to;
    if (!lat || !ref)
        return;
    th_fill_normal(t, lat, total, 1.0f);
    if (!th_input(t, &tl, VKTI_F32, 4, sl, lat) || !th_output(t, &to, dt, 4, so) || !th_begin(t) ||
        !th_ok(t, vkti_sampler_latent_forward(t->cmd, &to, &tl, image, (int)y0, (int)x0, 0.18215f)) || !th_submit(t))
        return;
    ref_sampler_latent(ref, lat, h, w, C, image, y0, x0, oh, ow, 0.18215f);
    th_check(t, &to, ref, dt == VKTI_F16 ? TH_F16 : (th_tol){1e-6, 1e-7});
}

TH_SUITE(sampler)
{
    for (int d = 0; d < 2; d++) {
        vkti_dtype dt = d ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        const unsigned G = VKTI_SAMPLER_F_GUIDED, V = VKTI_SAMPLER_F_V, N = VKTI_SAMPLER_F_NOISE, K = VKTI_SAMPLER_F_CLIP;
        step_case(t, VKTI_SAMPLER_MODE_INIT, 0, dt, 1, 1, 1, 1, 0);
        step_case(t, VKTI_SAMPLER_MODE_INIT, VKTI_SAMPLER_F_HIST, dt, 3, 7, 5, 2, 0);
        for (unsigned mode = VKTI_SAMPLER_MODE_DDIM; mode <= VKTI_SAMPLER_MODE_DPMPP_2M; mode++) {
            unsigned noise = mode == VKTI_SAMPLER_MODE_EULER_A ? N : 0;
            step_case(t, mode, noise, dt, 1, 1, 1, 1, 0);
            step_case(t, mode, noise | G, dt, 3, 7, 5, 2, 0);
            step_case(t, mode, noise | V, dt, 2, 13, 1, 1, 0);
            step_case(t, mode, noise | V | G, dt, 1, 11, 17, 2, 0);
            step_case(t, mode, noise | G, dt, 2, 64, 64, 2, 0); /* SD 1.5 at 512 x 512, batch 2 with guidance */
        }
        step_case(t, VKTI_SAMPLER_MODE_DDIM, N | G, dt, 3, 7, 5, 2, 0);        /* eta > 0 */
        step_case(t, VKTI_SAMPLER_MODE_DDIM, K | N, dt, 2, 9, 9, 1, 0);        /* clip_sample */
        step_case(t, VKTI_SAMPLER_MODE_DDIM, K | V | G, dt, 1, 9, 9, 2, 0);
        step_case(t, VKTI_SAMPLER_MODE_EULER_A, N | G, dt, 4, 96, 96, 2, 1);  /* SD 2.x 768 x 768, batch 4 */
        replay_case(t, dt);
        latent_case(t, dt, 1, 1, 1, 0, 0, 0, 1, 1);
        latent_case(t, dt, 3, 7, 5, 2, 0, 0, 7, 5);
        latent_case(t, dt, 2, 13, 11, 1, 3, 4, 6, 5);
        latent_case(t, dt, 1, 64, 64, 0, 0, 0, 64, 64);
    }
}
