/* test_sampler.c — the sampler op against its double reference: every mode (start, DDIM, Euler
 * ancestral, DPM++ 2M) with epsilon and v prediction, with and without guidance, noise, clipping;
 * one and two copies of the next UNet input; f32 and f16 networks; odd sizes and the SD 1.5
 * latent (64 x 64 x 4, guidance batch); a recording replayed over three steps with coefficients
 * rewritten in mapped memory between submissions (DPM++ 2M's history carried on the device); the
 * decoder-input window; and whole runs of every sampler as src/sample/schedule.h plans them, with a
 * fake model (the mix op: out = a * in + (t / 1000) * E) between the steps, against the double
 * reference run and — when tests/fixtures/sampler_reference.safetensors exists — against diffusers'. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "harness.h"
#include "ops/elementwise.h"
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

/* ---- whole runs ------------------------------------------------------------------------------ */

/* A run of plan p on the device for B images of n elements: INIT once, then per step the fake
 * model (mix: row r = a[r] * in + (t / 1000) * E) and the sampler step, one recording replayed with
 * the coefficients rewritten in mapped memory. With guided, the model gives rows (uncond: a0,
 * cond: a1) and the step combines them. noise0 [B*n]; noise [steps][B*n] (uploaded per step).
 * Returns the final x (th_alloc'd) or NULL. */
static float *gpu_run(th *t, const vkti_sampler_plan *p, vkti_dtype dt, int64_t B, int64_t n, int guided,
                      const float *noise0, const float *noise, const float *E, float a0, float a1)
{
    const int64_t total = B * n, rows = guided ? 2 : 1;
    vkti_arena *mapped = NULL;
    vkti_cmd *init = NULL;
    float *result = NULL;
    if (!th_ok(t, vkti_arena_create_mapped(t->g, "run", 0, &mapped)) || !th_ok(t, vkti_cmd_create(t->g, &init)))
        goto done;
    float *Er = th_alloc(t, sizeof(float) * (size_t)(rows * total));
    float *zeros = th_alloc(t, sizeof(float) * (size_t)total);
    if (!Er || !zeros)
        goto done;
    for (int64_t r = 0; r < rows * B; r++)
        memcpy(Er + r * n, E, sizeof(float) * (size_t)n);
    memset(zeros, 0, sizeof(float) * (size_t)total);
    vkti_tensor x, hist, in, out, tE, tnz, coef, mcoef;
    int64_t sx[2] = {B, n}, sr[2] = {rows * B, n}, snz = total, sc = VKTI_SAMPLER_COEFS, sm = 2 * rows * B;
    if (!th_input(t, &x, VKTI_F32, 2, sx, zeros) || !th_input(t, &hist, VKTI_F32, 2, sx, zeros) ||
        !th_output(t, &in, dt, 2, sr) || !th_output(t, &out, dt, 2, sr) || !th_input(t, &tE, dt, 2, sr, Er) ||
        !th_input(t, &tnz, VKTI_F32, 1, &snz, zeros) || !th_ok(t, vkti_arena_tensor(mapped, &coef, VKTI_F32, 1, &sc)) ||
        !th_ok(t, vkti_arena_tensor(mapped, &mcoef, VKTI_F32, 1, &sm)))
        goto done;
    float *c = vkti_tensor_host(&coef), *mc = vkti_tensor_host(&mcoef);
    unsigned flags = p->flags | (guided ? VKTI_SAMPLER_F_GUIDED : 0u);
    /* the start */
    memcpy(c, p->init_coef, sizeof p->init_coef);
    if (!th_ok(t, vkti_tensor_upload_f32(t->g, &tnz, noise0, total)) || !th_ok(t, vkti_cmd_begin(init)) ||
        !th_ok(t, vkti_sampler_step_forward(init, &x, &hist, &in, NULL, &tnz, &coef, VKTI_SAMPLER_MODE_INIT,
                                            VKTI_SAMPLER_F_HIST)) ||
        !th_ok(t, vkti_cmd_end(init)) || !th_ok(t, vkti_cmd_submit(init, 1)))
        goto done;
    /* the steps: one recording */
    if (!th_begin(t) || !th_ok(t, vkti_mix_forward(t->cmd, &out, &in, &tE, &mcoef)) ||
        !th_ok(t, vkti_sampler_step_forward(t->cmd, &x, p->mode == VKTI_SAMPLER_MODE_DPMPP_2M ? &hist : NULL, &in, &out,
                                            (p->flags & VKTI_SAMPLER_F_NOISE) ? &tnz : NULL, &coef, p->mode, flags)) ||
        !th_ok(t, vkti_cmd_end(t->cmd)))
        goto done;
    for (int i = 0; i < p->steps; i++) {
        memcpy(c, p->coef[i], sizeof p->coef[i]);
        float s = p->timestep[i] / 1000.0f;
        for (int64_t r = 0; r < rows * B; r++) {
            mc[2 * r] = guided && r >= B ? a1 : a0;
            mc[2 * r + 1] = s;
        }
        if ((p->flags & VKTI_SAMPLER_F_NOISE) && !th_ok(t, vkti_tensor_upload_f32(t->g, &tnz, noise + i * total, total)))
            goto done;
        if (!th_ok(t, vkti_cmd_submit(t->cmd, 1)))
            goto done;
    }
    result = th_download(t, &x);
done:
    th_ok(t, vkti_gpu_wait_idle(t->g));
    vkti_cmd_free(init);
    vkti_arena_free(mapped);
    return result;
}

typedef struct lin_model {
    const vkti_sampler_plan *p;
    const float *E;
    double a;
} lin_model;

static void lin_eval(void *user, int step, const double *in, double *out, int64_t n)
{
    const lin_model *m = user;
    double s = m->p->timestep[step] / 1000.0;
    for (int64_t i = 0; i < n; i++)
        out[i] = m->a * in[i] + s * m->E[i];
}

static const char SD15_CONFIG[] = "{\"_class_name\": \"PNDMScheduler\", \"beta_end\": 0.012, \"beta_schedule\": "
                                  "\"scaled_linear\", \"beta_start\": 0.00085, \"num_train_timesteps\": 1000, "
                                  "\"set_alpha_to_one\": false, \"steps_offset\": 1, \"clip_sample\": false%s}";

static void run_case(th *t, vkti_sampler sampler, int karras, double eta, vkti_prediction pred, vkti_dtype dt, int guided,
                     int steps)
{
    const int64_t B = guided ? 2 : 1, n = 7 * 9 * 4;
    if (!th_case(t, "run %s%s%s %s %s %d steps%s", vkti_sampler_name(sampler), karras ? " karras" : "",
                 eta > 0 ? " eta" : "", pred == VKTI_PREDICT_V ? "v" : "eps", vkti_dtype_name(dt), steps,
                 guided ? " guided B=2" : ""))
        return;
    char json[512];
    snprintf(json, sizeof json, SD15_CONFIG, pred == VKTI_PREDICT_V ? ", \"prediction_type\": \"v_prediction\"" : "");
    vkti_noise_schedule ns;
    vkti_sampling_config cfg;
    vkti_sampler_plan p;
    vkti_sampler_settings st = {sampler, steps, eta, karras, 7.5};
    if (!th_ok(t, vkti_noise_schedule_from_json(&t->diag, &ns, json, strlen(json), "config", VKTI_LINSPACE_FUSED)))
        return;
    if (!th_ok(t, vkti_sampling_config_parse(&t->diag, &cfg, json, strlen(json), "config")) ||
        !th_ok(t, vkti_sampler_plan_init(&t->diag, &p, &ns, &cfg, &st))) {
        vkti_noise_schedule_free(&ns);
        return;
    }
    float *noise0 = th_alloc(t, sizeof(float) * (size_t)(B * n)), *noise = th_alloc(t, sizeof(float) * (size_t)(steps * B * n));
    float *E = th_alloc(t, sizeof(float) * (size_t)n);
    double *ref = th_alloc(t, sizeof(double) * (size_t)(B * n)), *n0 = th_alloc(t, sizeof(double) * (size_t)n),
           *nz = th_alloc(t, sizeof(double) * (size_t)(steps * n));
    if (noise0 && noise && E && ref && n0 && nz) {
        th_fill_normal(t, noise0, B * n, 1.0f);
        th_fill_normal(t, noise, steps * B * n, 1.0f);
        th_fill_normal(t, E, n, 1.0f);
        if (dt == VKTI_F16) /* the model's E is held in f16 */
            for (int64_t i = 0; i < n; i++)
                E[i] = vkti_f16_to_f32(vkti_f32_to_f16(E[i]));
        /* guided: rows a0 = 0.1 and a1 = 0.12 combine to 0.1 + 7.5 * 0.02 */
        float *got = gpu_run(t, &p, dt, B, n, guided, noise0, noise, E, 0.1f, 0.12f);
        lin_model m = {&p, E, guided ? 0.1 + 7.5 * 0.02 : 0.1};
        for (int64_t b = 0; got && b < B; b++) {
            for (int64_t i = 0; i < n; i++)
                n0[i] = noise0[b * n + i];
            for (int s = 0; s < steps; s++)
                for (int64_t i = 0; i < n; i++)
                    nz[s * n + i] = noise[(s * B + b) * n + i];
            ref_sampler_trajectory(ref + b * n, &p, n0, nz, n, lin_eval, &m);
        }
        /* f32: TH_F32 holds over 20 steps (float32 against double drifts ~3e-7 of the RMS here);
         * f16: the model reads the UNet input rounded to f16 at every step, 1e-2 of the RMS */
        if (got) {
            double *gd = th_alloc(t, sizeof(double) * (size_t)(B * n));
            for (int64_t i = 0; gd && i < B * n; i++)
                gd[i] = got[i];
            if (gd)
                th_check_host(t, "final x", gd, ref, B * n, dt == VKTI_F16 ? (th_tol){1e-2, -1} : TH_F32);
        }
    }
    vkti_sampler_plan_free(&p);
    vkti_noise_schedule_free(&ns);
}

/* diffusers' own runs (tests/fixtures/sampler_reference.safetensors) replayed on the device */
static void fixture_cases(th *t)
{
    ref_sampler_fixture f;
    char why[1024];
    int rc = ref_sampler_fixture_open(&f, NULL, why, sizeof why);
    if (rc == 0) {
        if (th_case(t, "diffusers fixture"))
            printf("SKIP %s\n", why);
        return;
    }
    if (rc < 0) {
        if (th_case(t, "diffusers fixture"))
            th_fail(t, "%s", why);
        return;
    }
    for (int k = 0; k < f.ncases; k++) {
        const ref_sampler_case *c = &f.cases[k];
        if (!th_case(t, "diffusers %s", c->name))
            continue;
        vkti_noise_schedule ns;
        vkti_sampling_config cfg;
        vkti_sampler_plan p;
        vkti_sampler_settings st = {c->sampler, c->steps, c->eta, c->karras, 1.0};
        if (!th_ok(t, vkti_noise_schedule_from_json(&t->diag, &ns, c->config, strlen(c->config), c->name, VKTI_LINSPACE_FUSED)))
            continue;
        if (th_ok(t, vkti_sampling_config_parse(&t->diag, &cfg, c->config, strlen(c->config), c->name)) &&
            th_ok(t, vkti_sampler_plan_init(&t->diag, &p, &ns, &cfg, &st))) {
            float *got = gpu_run(t, &p, VKTI_F32, 1, f.n, 0, f.noise0, f.noise, f.E, 0.1f, 0.1f);
            double *want = th_alloc(t, sizeof(double) * (size_t)f.n), *gd = th_alloc(t, sizeof(double) * (size_t)f.n);
            for (int64_t i = 0; got && want && gd && i < f.n; i++) {
                want[i] = c->x[(int64_t)c->steps * f.n + i];
                gd[i] = got[i];
            }
            /* the same float32 operations in the same order; what differs is the device's division
             * (2.5 ulp allowed), exp/log of the C library, and the fake model's fused multiply-add */
            if (got && want && gd)
                th_check_host(t, "final x vs diffusers", gd, want, f.n, (th_tol){1e-4, -1});
            vkti_sampler_plan_free(&p);
        }
        vkti_noise_schedule_free(&ns);
    }
    ref_sampler_fixture_close(&f);
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
        for (int pred = 0; pred < 2; pred++) {
            vkti_prediction pr = pred ? VKTI_PREDICT_V : VKTI_PREDICT_EPSILON;
            run_case(t, VKTI_SAMPLER_DDIM, 0, 0.0, pr, dt, 0, 20);
            run_case(t, VKTI_SAMPLER_DDIM, 0, 0.5, pr, dt, 1, 20);
            run_case(t, VKTI_SAMPLER_EULER_A, 0, 0.0, pr, dt, 0, 20);
            run_case(t, VKTI_SAMPLER_EULER_A, 0, 0.0, pr, dt, 1, 9);
            run_case(t, VKTI_SAMPLER_DPMPP_2M, 0, 0.0, pr, dt, 1, 20);
            run_case(t, VKTI_SAMPLER_DPMPP_2M, 1, 0.0, pr, dt, 0, 12);
        }
    }
    fixture_cases(t);
}
