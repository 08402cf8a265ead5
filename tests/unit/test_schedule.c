/* test_schedule.c — the samplers' host half (src/sample/schedule.h): timesteps for every spacing
 * against values numpy gives (computed once with Python's float, which is numpy's float64), the
 * config's class defaults, every step's coefficients against a double-precision derivation written
 * here from the papers' formulas (not from schedule.c's float sequence), Karras sigma endpoints,
 * sampler properties on whole trajectories (an exact denoiser of a point mass leads every sampler
 * to that point; DDIM with eta 0 ignores the noise), the refusals, and — when
 * tests/fixtures/sampler_reference.safetensors exists (tools/ref/sampler_reference.py on a
 * machine with torch) — diffusers' own timesteps, sigmas and trajectories. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "sample/schedule.h"
#include "ref/ref_sampler.h"
#include "check.h"

#define STEP_TOL 4e-6

static const char SD15[] = "{\"_class_name\": \"PNDMScheduler\", \"_diffusers_version\": \"0.6.0\", \"beta_end\": 0.012, "
                           "\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"num_train_timesteps\": 1000, "
                           "\"set_alpha_to_one\": false, \"skip_prk_steps\": true, \"steps_offset\": 1, "
                           "\"trained_betas\": null, \"clip_sample\": false}";

static vkti_noise_schedule sd_schedule(vkti_prediction pred)
{
    vkti_noise_schedule ns;
    vkti_noise_schedule_config c = vkti_noise_config_sd(pred);
    vkti_diag d = {0};
    if (vkti_noise_schedule_init(&d, &ns, &c))
        printf("noise schedule: %s\n", d.msg);
    return ns;
}

static vkti_sampling_config parse(const char *json)
{
    vkti_sampling_config c;
    vkti_diag d = {0};
    int rc = vkti_sampling_config_parse(&d, &c, json, strlen(json), "test");
    CHECK(rc == 0, "parse %s: %s", json, d.msg);
    return c;
}

static int plan(vkti_sampler_plan *p, const vkti_noise_schedule *ns, const vkti_sampling_config *c, vkti_sampler s,
                int steps, double eta, int karras, vkti_diag *d)
{
    vkti_sampler_settings st = {s, steps, eta, karras, 7.5};
    return vkti_sampler_plan_init(d, p, ns, c, &st);
}

static int rel_close(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fabs(want) + 1e-30 || (got == want);
}

/* ---- timesteps ----------------------------------------------------------------------------- */

static void test_timesteps(void)
{
    vkti_noise_schedule ns = sd_schedule(VKTI_PREDICT_EPSILON);
    vkti_sampling_config sd = parse(SD15), lin = parse("{\"timestep_spacing\": \"linspace\"}"),
                         tr = parse("{\"timestep_spacing\": \"trailing\"}"),
                         lead = parse("{\"timestep_spacing\": \"leading\", \"steps_offset\": 1}");
    vkti_sampler_plan p;
    vkti_diag d = {0};
    /* DDIM, SD 1.5's config (leading, steps_offset 1): 951, 901, ..., 1 */
    CHECK(plan(&p, &ns, &sd, VKTI_SAMPLER_DDIM, 20, 0, 0, &d) == 0, "%s", d.msg);
    for (int i = 0; i < 20; i++)
        CHECK(p.timestep[i] == (float)(951 - 50 * i), "ddim leading t[%d] = %g", i, p.timestep[i]);
    CHECK(p.spacing == VKTI_SPACING_LEADING && p.steps_offset == 1 && !(p.flags & VKTI_SAMPLER_F_CLIP), "ddim sd15 config");
    vkti_sampler_plan_free(&p);
    /* np.linspace(0, 999, 20).round()[::-1] */
    static const int ddim_lin[20] = {999, 946, 894, 841, 789, 736, 684, 631, 578, 526, 473, 421, 368, 315, 263, 210, 158, 105, 53, 0};
    CHECK(plan(&p, &ns, &lin, VKTI_SAMPLER_DDIM, 20, 0, 0, &d) == 0, "%s", d.msg);
    for (int i = 0; i < 20; i++)
        CHECK(p.timestep[i] == (float)ddim_lin[i], "ddim linspace t[%d] = %g", i, p.timestep[i]);
    vkti_sampler_plan_free(&p);
    /* trailing: round(arange(1000, 0, -50)) - 1 */
    CHECK(plan(&p, &ns, &tr, VKTI_SAMPLER_DDIM, 20, 0, 0, &d) == 0, "%s", d.msg);
    for (int i = 0; i < 20; i++)
        CHECK(p.timestep[i] == (float)(999 - 50 * i), "ddim trailing t[%d] = %g", i, p.timestep[i]);
    vkti_sampler_plan_free(&p);
    /* trailing with 30 steps: 1000 - 33.33 i rounded, less one: 999, 966, 932, 899, ... 32 */
    CHECK(plan(&p, &ns, &tr, VKTI_SAMPLER_DDIM, 30, 0, 0, &d) == 0, "%s", d.msg);
    CHECK(p.timestep[0] == 999 && p.timestep[1] == 966 && p.timestep[2] == 932 && p.timestep[3] == 899 &&
          p.timestep[29] == 32, "ddim trailing 30: %g %g %g %g .. %g", p.timestep[0], p.timestep[1], p.timestep[2],
          p.timestep[3], p.timestep[29]);
    vkti_sampler_plan_free(&p);
    /* Euler a, linspace: 999, 946.42..., ... 0 as float32 */
    CHECK(plan(&p, &ns, &lin, VKTI_SAMPLER_EULER_A, 20, 0, 0, &d) == 0, "%s", d.msg);
    CHECK(p.timestep[0] == 999.0f && p.timestep[19] == 0.0f && p.timestep[1] == (float)(18 * (999.0 / 19)),
          "euler linspace %g %.9g %g", p.timestep[0], p.timestep[1], p.timestep[19]);
    CHECK(p.init_sigma == p.sigmas[0] && p.sigmas[20] == 0.0f, "euler linspace init sigma %g vs %g", p.init_sigma, p.sigmas[0]);
    vkti_sampler_plan_free(&p);
    /* Euler a, leading + 1 (a file that asks for it), init sigma sqrt(max^2 + 1) */
    CHECK(plan(&p, &ns, &lead, VKTI_SAMPLER_EULER_A, 20, 0, 0, &d) == 0, "%s", d.msg);
    CHECK(p.timestep[0] == 951.0f && p.timestep[19] == 1.0f, "euler leading %g .. %g", p.timestep[0], p.timestep[19]);
    CHECK(rel_close(p.init_sigma, sqrt((double)p.sigmas[0] * p.sigmas[0] + 1), 1e-6), "euler leading init sigma %g",
          p.init_sigma);
    vkti_sampler_plan_free(&p);
    /* DPM++ 2M, linspace: linspace(0, 999, 21).round()[::-1][:-1] */
    static const int dpm_lin[20] = {999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300, 250, 200, 150, 100, 50};
    CHECK(plan(&p, &ns, &lin, VKTI_SAMPLER_DPMPP_2M, 20, 0, 0, &d) == 0, "%s", d.msg);
    for (int i = 0; i < 20; i++)
        CHECK(p.timestep[i] == (float)dpm_lin[i], "dpm linspace t[%d] = %g", i, p.timestep[i]);
    vkti_sampler_plan_free(&p);
    /* DPM++ 2M, leading + 1: ratio 1000 // 21 = 47 */
    CHECK(plan(&p, &ns, &lead, VKTI_SAMPLER_DPMPP_2M, 20, 0, 0, &d) == 0, "%s", d.msg);
    for (int i = 0; i < 20; i++)
        CHECK(p.timestep[i] == (float)((20 - i) * 47 + 1), "dpm leading t[%d] = %g", i, p.timestep[i]);
    vkti_sampler_plan_free(&p);
    vkti_noise_schedule_free(&ns);
}

/* ---- config ------------------------------------------------------------------------------------ */

static void test_config(void)
{
    vkti_sampling_config c = parse(SD15);
    /* only what the file says: the keys its class filled from defaults do not pass to another
     * sampler (diffusers' _use_default_values) */
    CHECK(!strcmp(c.class_name, "PNDMScheduler") && !c.has_spacing && c.has_steps_offset && c.steps_offset == 1 &&
          c.has_set_alpha_to_one && !c.set_alpha_to_one && c.has_clip_sample && !c.clip_sample && !c.has_karras,
          "SD 1.5's PNDM config as read");
    c = parse("{\"_class_name\": \"DDIMScheduler\"}");
    CHECK(!c.has_spacing && !c.has_set_alpha_to_one && !c.has_clip_sample && !c.has_clip_range && !c.has_steps_offset,
          "a class name alone gives nothing");
    c = parse("{\"_class_name\": \"EulerAncestralDiscreteScheduler\", \"steps_offset\": 1}");
    CHECK(!c.has_spacing && c.steps_offset == 1 && !c.has_clip_sample, "Euler a's file");
    c = parse("{\"_class_name\": \"DPMSolverMultistepScheduler\", \"use_karras_sigmas\": true}");
    CHECK(c.has_karras && c.use_karras_sigmas && !c.has_spacing, "DPM's use_karras_sigmas");
    /* SD 1.5's file: each sampler's own spacing (DDIM leading + offset 1; Euler a and DPM++ linspace) */
    {
        vkti_noise_schedule ns = sd_schedule(VKTI_PREDICT_EPSILON);
        vkti_sampler_plan p;
        vkti_diag d = {0};
        vkti_sampling_config sd = parse(SD15);
        const vkti_sampler ss[] = {VKTI_SAMPLER_DDIM, VKTI_SAMPLER_EULER_A, VKTI_SAMPLER_DPMPP_2M};
        const float first[] = {951, 999, 999}, last[] = {1, 0, 50};
        for (int i = 0; i < 3; i++) {
            CHECK(plan(&p, &ns, &sd, ss[i], 20, 0, 0, &d) == 0 && p.timestep[0] == first[i] && p.timestep[19] == last[i],
                  "SD 1.5's file, sampler %d: timesteps %g .. %g, diffusers %g .. %g", i, p.timestep[0], p.timestep[19],
                  first[i], last[i]);
            vkti_sampler_plan_free(&p);
        }
        vkti_noise_schedule_free(&ns);
    }
    const char *bad[] = {"[1]", "{\"timestep_spacing\": \"sometimes\"}", "{\"steps_offset\": -1}", "{\"steps_offset\": 1.5}",
                         "{\"clip_sample\": 1}", "{\"thresholding\": true}", "{\"clip_sample_range\": 0}", "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vkti_diag d = {0};
        int rc = vkti_sampling_config_parse(&d, &c, bad[i], strlen(bad[i]), "bad.json");
        CHECK(rc == VKTI_E_FORMAT && strstr(d.msg, "bad.json"), "refused: %s (%d, %s)", bad[i], rc, d.msg);
    }
    /* a DPM config asking for Karras sigmas gets them */
    vkti_noise_schedule ns = sd_schedule(VKTI_PREDICT_EPSILON);
    vkti_sampler_plan p;
    vkti_diag d = {0};
    c = parse("{\"_class_name\": \"DPMSolverMultistepScheduler\", \"use_karras_sigmas\": true}");
    CHECK(plan(&p, &ns, &c, VKTI_SAMPLER_DPMPP_2M, 10, 0, 0, &d) == 0 && p.karras, "karras from the config");
    vkti_sampler_plan_free(&p);
    vkti_noise_schedule_free(&ns);
}

/* ---- refusals ---------------------------------------------------------------------------------- */

static void test_refusals(void)
{
    vkti_noise_schedule ns = sd_schedule(VKTI_PREDICT_EPSILON);
    vkti_sampling_config sd = parse(SD15), tr = parse("{\"timestep_spacing\": \"trailing\"}");
    vkti_sampler_plan p;
    struct {
        const vkti_sampling_config *c;
        vkti_sampler s;
        int steps;
        double eta;
        int karras;
        const char *msg;
    } cases[] = {
        {&sd, VKTI_SAMPLER_DDIM, 0, 0, 0, "steps must be from 1 to 1000"},
        {&sd, VKTI_SAMPLER_EULER_A, 1001, 0, 0, "steps must be from 1 to 1000"},
        {&sd, VKTI_SAMPLER_EULER_A, 20, 0.5, 0, "eta applies to the ddim sampler only"},
        {&sd, VKTI_SAMPLER_DDIM, 20, -0.1, 0, "eta must be"},
        {&sd, VKTI_SAMPLER_DDIM, 20, 1.5, 0, "eta must be"},
        {&sd, VKTI_SAMPLER_DDIM, 20, 0, 1, "Karras sigmas apply to the dpmpp_2m sampler only"},
        {&tr, VKTI_SAMPLER_DDIM, 61, 0, 0, "give DDIMScheduler 62 timesteps, not 61"},
        {&tr, VKTI_SAMPLER_DPMPP_2M, 103, 0, 0, "give DPMSolverMultistepScheduler 104 timesteps"},
        {&sd, VKTI_SAMPLER_DDIM, 1000, 0, 0, "reach timestep 1000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vkti_diag d = {0};
        int rc = plan(&p, &ns, cases[i].c, cases[i].s, cases[i].steps, cases[i].eta, cases[i].karras, &d);
        CHECK(rc == VKTI_E_INVALID && strstr(d.msg, cases[i].msg), "case %zu: rc %d, '%s'", i, rc, d.msg);
    }
    vkti_noise_schedule_free(&ns);
}

/* ---- coefficients against a double derivation ------------------------------------------------- */

static double sigma_d(const vkti_noise_schedule *ns, int t)
{
    double a = ns->alphas_cumprod[t];
    return sqrt((1 - a) / a);
}

/* sigma at a fractional timestep: linear interpolation of sigma(t) between integers */
static double sigma_at(const vkti_noise_schedule *ns, double t)
{
    int j = (int)floor(t);
    if (j >= ns->num_train_timesteps - 1)
        return sigma_d(ns, ns->num_train_timesteps - 1);
    return sigma_d(ns, j) + (t - j) * (sigma_d(ns, j + 1) - sigma_d(ns, j));
}

static void test_coefficients(vkti_prediction pred)
{
    vkti_noise_schedule ns = sd_schedule(pred);
    vkti_sampling_config sd = parse(SD15), lin = parse("{\"_class_name\": \"DDIMScheduler\", \"timestep_spacing\": \"linspace\"}");
    vkti_sampler_plan p;
    vkti_diag d = {0};
    const double eta = 0.6;
    /* DDIM (eta, SD config and DDIM defaults: clip on, set_alpha_to_one) */
    for (int cfgi = 0; cfgi < 2; cfgi++) {
        const vkti_sampling_config *c = cfgi ? &lin : &sd;
        if (plan(&p, &ns, c, VKTI_SAMPLER_DDIM, 25, eta, 0, &d)) {
            CHECK(0, "%s", d.msg);
            continue;
        }
        CHECK(!!(p.flags & VKTI_SAMPLER_F_CLIP) == cfgi && (p.flags & VKTI_SAMPLER_F_NOISE) &&
              !!(p.flags & VKTI_SAMPLER_F_V) == (pred == VKTI_PREDICT_V), "ddim flags %x", p.flags);
        int worst = 0;
        for (int i = 0; i < p.steps; i++) {
            int t = (int)p.timestep[i], prev = t - 1000 / 25;
            double a = ns.alphas_cumprod[t], ap = prev >= 0 ? ns.alphas_cumprod[prev] : (cfgi ? 1.0 : ns.alphas_cumprod[0]);
            double var = (1 - ap) / (1 - a) * (1 - a / ap), std = eta * sqrt(var);
            double want[8] = {1, 7.5, sqrt(a), sqrt(1 - a), 1.0, sqrt(ap), sqrt(1 - ap - std * std), std};
            /* std's 1 - abar_t / abar_prev cancels at the last steps: f32 keeps fewer digits there */
            for (int k = 0; k < 8; k++)
                if (!rel_close(p.coef[i][k], want[k], k == 7 ? 2e-5 : 4e-6))
                    worst++, printf("  ddim step %d slot %d: %.9g vs %.9g\n", i, k, p.coef[i][k], want[k]);
        }
        CHECK(worst == 0, "ddim coefficients (config %d)", cfgi);
        vkti_sampler_plan_free(&p);
    }
    /* Euler a */
    if (plan(&p, &ns, &lin, VKTI_SAMPLER_EULER_A, 30, 0, 0, &d) == 0) {
        int worst = 0;
        for (int i = 0; i <= p.steps; i++) {
            double s = i < p.steps ? sigma_at(&ns, p.timestep[i]) : 0.0;
            if (!rel_close(p.sigmas[i], s, 2e-6))
                worst++, printf("  euler sigma %d: %.9g vs %.9g\n", i, p.sigmas[i], s);
        }
        for (int i = 0; i < p.steps; i++) {
            double s = p.sigmas[i], s2 = p.sigmas[i + 1];
            double up = sqrt(s2 * s2 * (s * s - s2 * s2) / (s * s)), down = sqrt(s2 * s2 - up * up);
            double next_div = i + 1 < p.steps ? sqrt(s2 * s2 + 1) : 1.0;
            double want[7] = {next_div, 7.5, s, -s / sqrt(s * s + 1), s * s + 1, down - s, up};
            for (int k = 0; k < 7; k++)
                if (!rel_close(p.coef[i][k], want[k], k == 5 ? 1e-5 : 4e-6))
                    worst++, printf("  euler step %d slot %d: %.9g vs %.9g\n", i, k, p.coef[i][k], want[k]);
        }
        CHECK(rel_close(p.init_coef[VKTI_SC_IN_DIV], sqrt((double)p.sigmas[0] * p.sigmas[0] + 1), 4e-6) &&
              p.init_coef[2] == p.init_sigma, "euler init coefficients");
        CHECK(worst == 0, "euler a coefficients");
        vkti_sampler_plan_free(&p);
    }
    /* DPM++ 2M, plain and Karras */
    for (int karras = 0; karras < 2; karras++) {
        if (plan(&p, &ns, &lin, VKTI_SAMPLER_DPMPP_2M, 20, 0, karras, &d)) {
            CHECK(0, "%s", d.msg);
            continue;
        }
        int worst = 0;
        for (int i = 0; i < p.steps; i++) {
            double s0 = p.sigmas[i], st = p.sigmas[i + 1];
            double a0 = 1 / sqrt(s0 * s0 + 1), sg0 = s0 * a0, at = 1 / sqrt(st * st + 1), sgt = st * at;
            /* lambda = log(alpha / sigma_t) = -log(sigma); h = lambda_t - lambda_s0 */
            double ratio = st > 0 ? sgt / sg0 : 0.0, e = st > 0 ? (st / s0) : 0.0; /* exp(-h) = sigma_t / sigma_s0 */
            double B = at * (e - 1);
            double C = 0, inv_r0 = 0;
            if (i > 0 && i < p.steps - 1) {
                double s1 = p.sigmas[i - 1], h = log(s0) - log(st), h0 = log(s1) - log(s0);
                inv_r0 = h / h0;
                C = 0.5 * B;
            }
            double want[8] = {1, 7.5, a0, sg0, ratio, B, C, inv_r0};
            for (int k = 0; k < 8; k++)
                if (!rel_close(p.coef[i][k], want[k], k >= 5 ? 2e-5 : 4e-6) && fabs(p.coef[i][k] - want[k]) > 1e-7)
                    worst++, printf("  dpm%s step %d slot %d: %.9g vs %.9g\n", karras ? " karras" : "", i, k, p.coef[i][k], want[k]);
        }
        CHECK(worst == 0, "dpm++ 2m coefficients%s", karras ? " (karras)" : "");
        if (karras) {
            /* Karras: sigma_max ... sigma_min with rho 7, the endpoints the schedule's */
            double smax = sigma_d(&ns, 999), smin = sigma_d(&ns, 0);
            CHECK(rel_close(p.sigmas[0], smax, 1e-6) && rel_close(p.sigmas[p.steps - 1], smin, 1e-6) && p.sigmas[p.steps] == 0,
                  "karras endpoints %g %g (want %g %g)", p.sigmas[0], p.sigmas[p.steps - 1], smax, smin);
            int mono = 1;
            for (int i = 1; i < p.steps; i++) {
                double r = (double)i / (p.steps - 1);
                double want = pow(pow(smax, 1 / 7.0) + r * (pow(smin, 1 / 7.0) - pow(smax, 1 / 7.0)), 7.0);
                mono &= p.sigmas[i] < p.sigmas[i - 1] && rel_close(p.sigmas[i], want, 1e-6);
                mono &= p.timestep[i] <= p.timestep[i - 1];
            }
            CHECK(mono, "karras sigmas decrease as rho = 7 says, timesteps follow");
            CHECK(p.timestep[0] == 999 && p.timestep[p.steps - 1] == 0, "karras timesteps %g .. %g", p.timestep[0],
                  p.timestep[p.steps - 1]);
        }
        vkti_sampler_plan_free(&p);
    }
    vkti_noise_schedule_free(&ns);
}

/* ---- trajectories ------------------------------------------------------------------------------- */

/* An exact denoiser of the point mass at x0: the model input at the step's sigma is
 * sqrt(abar) (x0 + sigma eps), so eps = (in * sqrt(1 + sigma^2) - x0) / sigma; v-prediction
 * returns v = sqrt(abar) eps - sqrt(1 - abar) x0. DDIM's sigma is that of the integer timestep. */
typedef struct point_model {
    const vkti_noise_schedule *ns;
    const vkti_sampler_plan *p;
    const double *x0;
} point_model;

static void point_eval(void *user, int step, const double *in, double *out, int64_t n)
{
    const point_model *m = user;
    double s = m->p->sigmas ? m->p->sigmas[step] : sigma_d(m->ns, (int)m->p->timestep[step]);
    double a = 1 / (1 + s * s); /* abar of that sigma */
    for (int64_t i = 0; i < n; i++) {
        double x = in[i] * sqrt(1 + s * s);
        double eps = (x - m->x0[i]) / s;
        out[i] = m->ns->prediction_type == VKTI_PREDICT_V ? sqrt(a) * eps - sqrt(1 - a) * m->x0[i] : eps;
    }
}

static void test_trajectories(vkti_prediction pred)
{
    vkti_noise_schedule ns = sd_schedule(pred);
    vkti_sampling_config sd = parse(SD15), one = parse("{\"_class_name\": \"DDIMScheduler\", \"clip_sample\": false}");
    enum { N = 64 };
    double x0[N], noise0[N], *noise = malloc(sizeof(double) * N * 40), out[N], out2[N];
    uint32_t r = 12345;
    for (int i = 0; i < N; i++) {
        r = r * 1664525u + 1013904223u;
        x0[i] = ((r >> 8) / 16777216.0 - 0.5) * 2.0;
        r = r * 1664525u + 1013904223u;
        noise0[i] = ((r >> 8) / 16777216.0 - 0.5) * 3.0;
    }
    for (int i = 0; i < N * 40; i++) {
        r = r * 1664525u + 1013904223u;
        noise[i] = ((r >> 8) / 16777216.0 - 0.5) * 3.0;
    }
    struct {
        const vkti_sampling_config *c;
        vkti_sampler s;
        int steps;
        double eta;
        int karras;
        double tol;
    } cases[] = {
        /* the coefficients are float32 (relative 6e-8 each): the run lands within 1e-6 of exact */
        {&one, VKTI_SAMPLER_DDIM, 20, 0, 0, 1e-6},   /* set_alpha_to_one: the last step lands on x0 */
        {&sd, VKTI_SAMPLER_DDIM, 20, 0, 0, 0.05},    /* ends at alphas_cumprod[0]: x0 plus a little noise */
        {&sd, VKTI_SAMPLER_EULER_A, 20, 0, 0, 1e-6},
        {&sd, VKTI_SAMPLER_DPMPP_2M, 20, 0, 0, 1e-6},
        {&sd, VKTI_SAMPLER_DPMPP_2M, 7, 0, 1, 1e-6},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vkti_sampler_plan p;
        vkti_diag d = {0};
        if (plan(&p, &ns, cases[k].c, cases[k].s, cases[k].steps, cases[k].eta, cases[k].karras, &d)) {
            CHECK(0, "%s", d.msg);
            continue;
        }
        point_model m = {&ns, &p, x0};
        ref_sampler_trajectory(out, &p, noise0, noise, N, point_eval, &m);
        double err = 0;
        for (int i = 0; i < N; i++)
            err = fmax(err, fabs(out[i] - x0[i]));
        CHECK(err <= cases[k].tol, "%s %d steps%s (%s): an exact denoiser ends %.3g from its point", vkti_sampler_name(cases[k].s),
              cases[k].steps, cases[k].karras ? " karras" : "", pred ? "v" : "eps", err);
        vkti_sampler_plan_free(&p);
    }
    /* DDIM with eta 0 does not look at the noise; with eta > 0 it does */
    for (int e = 0; e < 2; e++) {
        vkti_sampler_plan p;
        vkti_diag d = {0};
        if (plan(&p, &ns, &sd, VKTI_SAMPLER_DDIM, 15, e ? 0.5 : 0.0, 0, &d))
            continue;
        point_model m = {&ns, &p, x0};
        ref_sampler_trajectory(out, &p, noise0, noise, N, point_eval, &m);
        ref_sampler_trajectory(out2, &p, noise0, noise + 7, N, point_eval, &m);
        int same = !memcmp(out, out2, sizeof out);
        CHECK(same == !e, "ddim eta %g: other step noise %s the result", e ? 0.5 : 0.0, same ? "keeps" : "changes");
        vkti_sampler_plan_free(&p);
    }
    free(noise);
    vkti_noise_schedule_free(&ns);
}

/* ---- diffusers' own runs ------------------------------------------------------------------------ */

/* max |got - want| within rel times the RMS of want */
static int close_rms(const double *got, const float *want, int64_t n, double rel, double *err)
{
    double ss = 0, worst = 0;
    for (int64_t i = 0; i < n; i++) {
        ss += (double)want[i] * want[i];
        worst = fmax(worst, fabs(got[i] - want[i]));
    }
    double rms = sqrt(ss / (double)(n ? n : 1));
    *err = rms > 0 ? worst / rms : worst;
    return worst <= rel * rms;
}

static unsigned ulps(float a, float b)
{
    int32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    int64_t dd = (int64_t)x - y;
    return (unsigned)(dd < 0 ? -dd : dd);
}

typedef struct fixture_model {
    const ref_sampler_case *c;
    const float *E;
} fixture_model;

static void fixture_eval(void *user, int step, const double *in, double *out, int64_t n)
{
    const fixture_model *m = user;
    ref_sampler_fake_model(out, in, m->E, m->c->timesteps[step], n);
}

static void test_fixture(void)
{
    ref_sampler_fixture f;
    char why[1024];
    int rc = ref_sampler_fixture_open(&f, NULL, why, sizeof why);
    if (rc == 0) {
        printf("SKIP fixture: %s; the derived values above still ran\n", why);
        return;
    }
    CHECK(rc == 1 && f.ncases > 0, "fixture: %s", why);
    if (rc != 1)
        return;
    const int64_t n = f.n;
    double *x = malloc(sizeof(double) * (size_t)n), *hist = malloc(sizeof(double) * (size_t)n),
           *in = malloc(sizeof(double) * (size_t)n);
    float *zero = calloc((size_t)n, sizeof(float));
    double *noise0 = malloc(sizeof(double) * (size_t)n), *noise = malloc(sizeof(double) * (size_t)(f.max_steps * n));
    for (int64_t i = 0; i < n; i++)
        noise0[i] = f.noise0[i];
    for (int64_t i = 0; i < f.max_steps * n; i++)
        noise[i] = f.noise[i];
    for (int k = 0; k < f.ncases; k++) {
        const ref_sampler_case *c = &f.cases[k];
        vkti_diag d = {0};
        vkti_noise_schedule ns;
        vkti_sampling_config cfg;
        vkti_sampler_plan p;
        if (vkti_noise_schedule_from_json(&d, &ns, c->config, strlen(c->config), c->name, VKTI_LINSPACE_FUSED) ||
            vkti_sampling_config_parse(&d, &cfg, c->config, strlen(c->config), c->name)) {
            CHECK(0, "%s: %s", c->name, d.msg);
            continue;
        }
        vkti_sampler_settings st = {c->sampler, c->steps, c->eta, c->karras, 1.0};
        if (vkti_sampler_plan_init(&d, &p, &ns, &cfg, &st)) {
            CHECK(0, "%s: %s", c->name, d.msg);
            vkti_noise_schedule_free(&ns);
            continue;
        }
        int same_t = 1;
        unsigned worst_sigma = 0;
        for (int i = 0; i < c->steps; i++)
            same_t &= p.timestep[i] == c->timesteps[i];
        for (int i = 0; c->sigmas && i <= c->steps; i++)
            worst_sigma = ulps(p.sigmas[i], c->sigmas[i]) > worst_sigma ? ulps(p.sigmas[i], c->sigmas[i]) : worst_sigma;
        CHECK(same_t, "%s: timesteps %g .. %g, diffusers %g .. %g", c->name, p.timestep[0], p.timestep[c->steps - 1],
              c->timesteps[0], c->timesteps[c->steps - 1]);
        /* sigmas: numpy's interpolation and Karras powers in double, then float32; 1 ulp for libm */
        CHECK(worst_sigma <= 1, "%s: sigmas differ from diffusers' by %u ulp", c->name, worst_sigma);
        CHECK(ulps(p.init_sigma, c->init_sigma) <= 1, "%s: init_noise_sigma %.9g, diffusers %.9g", c->name, p.init_sigma,
              c->init_sigma);
        /* every step from diffusers' own state: f32 coefficients and inputs, double arithmetic;
         * diffusers rounds each tensor operation to float32 (a few ulp of the RMS). STEP_TOL was
         * 2e-6 until diffusers' fixture first existed: DDIM with clipping and trailing spacing
         * measured 2.0e-6 (its x0 = (x - sqrt(1 - abar) eps) / sqrt(abar) at abar ~ 0.005 goes
         * through intermediates ~14x the result, each rounded to float32); 4e-6 is 34 float32
         * ulp of the RMS, far below any wrong coefficient (1e-3 and up). */
        double worst_step = 0, worst_in = 0, e;
        int ok = 1;
        for (int i = 0; i < c->steps; i++) {
            const float *xi = c->x + (int64_t)i * n, *hi = i ? c->x0 + (int64_t)(i - 1) * n : zero;
            double *x0d = malloc(sizeof(double) * (size_t)n);
            ref_sampler_step(x, x0d, in, xi, hi, c->model_out + (int64_t)i * n, f.noise + (int64_t)i * n, p.coef[i],
                             p.mode, p.flags, 1, n, 1, n);
            ok &= close_rms(x, c->x + (int64_t)(i + 1) * n, n, STEP_TOL, &e);
            worst_step = fmax(worst_step, e);
            ok &= close_rms(x0d, c->x0 + (int64_t)i * n, n, STEP_TOL, &e);
            worst_step = fmax(worst_step, e);
            float div = i ? p.coef[i - 1][VKTI_SC_IN_DIV] : p.init_coef[VKTI_SC_IN_DIV];
            for (int64_t j = 0; j < n; j++)
                in[j] = xi[j] / (double)div;
            ok &= close_rms(in, c->model_in + (int64_t)i * n, n, 1e-6, &e);
            worst_in = fmax(worst_in, e);
            free(x0d);
        }
        CHECK(ok, "%s: one step from diffusers' state: worst %.3g of the RMS (step), %.3g (model input)", c->name, worst_step,
              worst_in);
        /* the whole run from the same noise: double arithmetic drifts from float32's over the steps */
        fixture_model m = {c, f.E};
        ref_sampler_trajectory(x, &p, noise0, noise, n, fixture_eval, &m);
        CHECK(close_rms(x, c->x + (int64_t)c->steps * n, n, 1e-5, &e), "%s: whole run ends %.3g of the RMS from diffusers'",
              c->name, e);
        vkti_sampler_plan_free(&p);
        vkti_noise_schedule_free(&ns);
    }
    free(x);
    free(hist);
    free(in);
    free(zero);
    free(noise0);
    free(noise);
    ref_sampler_fixture_close(&f);
}

int main(void)
{
    test_timesteps();
    test_config();
    test_refusals();
    test_coefficients(VKTI_PREDICT_EPSILON);
    test_coefficients(VKTI_PREDICT_V);
    test_trajectories(VKTI_PREDICT_EPSILON);
    test_trajectories(VKTI_PREDICT_V);
    test_fixture();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
