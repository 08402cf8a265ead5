/* noise_schedule.c — DDPM betas and ᾱ_t as diffusers computes them (see noise_schedule.h).
 *
 * Sources read (for facts; no code copied): diffusers 58eb52c schedulers/scheduling_ddpm.py
 * (DDPMScheduler.__init__, betas_for_alpha_bar, add_noise, get_velocity), training_utils.py
 * (compute_snr); PyTorch aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp (linspace_kernel:
 * scalar loop, two halves), native/cpu/ReduceOpsKernel.cpp (cumprod_cpu_kernel: accumulates in
 * acc_type<float, CPU> = double), native/cpu/PowKernel.cpp (x ** 2 is x * x, x ** 0.5 is sqrt).
 *
 * Every float32 step below is one statement with a float result, so no compiler may contract
 * a multiply and an add across it (C11 allows contraction only within one expression, and this
 * project builds with -std=c11, where GCC does not contract); the fused variant calls fmaf. */
#include "io/noise_schedule.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

vkti_noise_schedule_config vkti_noise_config_ddpm_default(void)
{
    vkti_noise_schedule_config c;
    memset(&c, 0, sizeof c);
    c.num_train_timesteps = 1000;
    c.beta_start = 0.0001;
    c.beta_end = 0.02;
    c.beta_schedule = VKTI_BETA_LINEAR;
    c.prediction_type = VKTI_PREDICT_EPSILON;
    c.linspace_mode = VKTI_LINSPACE_FUSED;
    return c;
}

vkti_noise_schedule_config vkti_noise_config_sd(vkti_prediction prediction)
{
    vkti_noise_schedule_config c = vkti_noise_config_ddpm_default();
    c.beta_start = 0.00085;
    c.beta_end = 0.012;
    c.beta_schedule = VKTI_BETA_SCALED_LINEAR;
    c.prediction_type = prediction;
    return c;
}

/* torch.linspace(a, b, n, dtype=float32) on the CPU; a and b are Python floats (doubles). */
static void linspace_f32(float *out, double a, double b, int n, vkti_linspace_mode mode)
{
    const float start = (float)a;
    const float end = (float)b;
    const float span = end - start;
    const float step = span / (float)(n - 1);
    const int halfway = n / 2;
    for (int i = 0; i < n; i++) {
        if (i < halfway) {
            const float fi = (float)i;
            if (mode == VKTI_LINSPACE_FUSED) {
                out[i] = fmaf(step, fi, start);
            } else {
                const float p = step * fi;
                out[i] = start + p;
            }
        } else {
            const float fk = (float)(n - 1 - i);
            if (mode == VKTI_LINSPACE_FUSED) {
                out[i] = fmaf(-step, fk, end);
            } else {
                const float p = step * fk;
                out[i] = end - p;
            }
        }
    }
}

/* diffusers' betas_for_alpha_bar with the cosine transform, in Python doubles, then float32. */
static double alpha_bar_cos(double t)
{
    /* math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2, evaluated left to right */
    const double pi = 3.141592653589793; /* math.pi */
    double x = (t + 0.008) / 1.008;
    x = x * pi;
    x = x / 2.0;
    const double c = cos(x);
    return c * c;
}

static void betas_squaredcos_cap_v2(float *out, int n)
{
    for (int i = 0; i < n; i++) {
        const double t1 = (double)i / (double)n;
        const double t2 = (double)(i + 1) / (double)n;
        double beta = 1.0 - alpha_bar_cos(t2) / alpha_bar_cos(t1);
        if (beta > 0.999)
            beta = 0.999;
        out[i] = (float)beta;
    }
}

int vkti_noise_schedule_init(vkti_diag *d, vkti_noise_schedule *s, const vkti_noise_schedule_config *cfg)
{
    memset(s, 0, sizeof *s);
    const int n = cfg->num_train_timesteps;
    if (n < 2 || n > VKTI_NOISE_MAX_TIMESTEPS)
        return vkti_fail(d, VKTI_E_INVALID, "noise schedule: num_train_timesteps is %d; it must be 2 to %d",
                         n, VKTI_NOISE_MAX_TIMESTEPS);
    if (cfg->prediction_type != VKTI_PREDICT_EPSILON && cfg->prediction_type != VKTI_PREDICT_V)
        return vkti_fail(d, VKTI_E_INVALID, "noise schedule: unknown prediction type %d", (int)cfg->prediction_type);
    if (cfg->beta_schedule != VKTI_BETA_TRAINED && cfg->beta_schedule != VKTI_BETA_SQUAREDCOS_CAP_V2 &&
        (!isfinite(cfg->beta_start) || !isfinite(cfg->beta_end) || cfg->beta_start <= 0 || cfg->beta_end <= 0 ||
         cfg->beta_start >= 1 || cfg->beta_end >= 1))
        return vkti_fail(d, VKTI_E_INVALID,
                         "noise schedule: beta_start %g and beta_end %g must both lie strictly between 0 and 1",
                         cfg->beta_start, cfg->beta_end);
    if (cfg->beta_schedule == VKTI_BETA_TRAINED && !cfg->trained_betas)
        return vkti_fail(d, VKTI_E_INVALID, "noise schedule: trained betas requested but none given");

    float *mem = malloc(sizeof(float) * 5 * (size_t)n);
    if (!mem)
        return vkti_fail(d, VKTI_E_OOM, "noise schedule: out of host memory for %d timesteps", n);
    s->num_train_timesteps = n;
    s->prediction_type = cfg->prediction_type;
    s->betas = mem;
    s->alphas_cumprod = mem + n;
    s->sqrt_alphas_cumprod = mem + 2 * (size_t)n;
    s->sqrt_one_minus_alphas_cumprod = mem + 3 * (size_t)n;
    s->snr = mem + 4 * (size_t)n;

    switch (cfg->beta_schedule) {
    case VKTI_BETA_LINEAR:
        linspace_f32(s->betas, cfg->beta_start, cfg->beta_end, n, cfg->linspace_mode);
        break;
    case VKTI_BETA_SCALED_LINEAR:
        /* beta_start ** 0.5 in Python: pow(x, 0.5), correctly rounded like sqrt */
        linspace_f32(s->betas, sqrt(cfg->beta_start), sqrt(cfg->beta_end), n, cfg->linspace_mode);
        for (int i = 0; i < n; i++) {
            const float r = s->betas[i];
            s->betas[i] = r * r;
        }
        break;
    case VKTI_BETA_SQUAREDCOS_CAP_V2:
        betas_squaredcos_cap_v2(s->betas, n);
        break;
    case VKTI_BETA_TRAINED:
        for (int i = 0; i < n; i++)
            s->betas[i] = (float)cfg->trained_betas[i];
        break;
    default:
        vkti_noise_schedule_free(s);
        return vkti_fail(d, VKTI_E_INVALID, "noise schedule: unknown beta schedule %d", (int)cfg->beta_schedule);
    }

    double acc = 1.0; /* cumprod's double accumulator */
    for (int t = 0; t < n; t++) {
        const float beta = s->betas[t];
        if (!(beta > 0.0f && beta < 1.0f)) {
            vkti_noise_schedule_free(s);
            return vkti_fail(d, VKTI_E_INVALID,
                             "noise schedule: beta at timestep %d is %g; every beta must lie strictly between 0 and 1",
                             t, (double)beta);
        }
        const float alpha = 1.0f - beta;
        acc *= (double)alpha;
        const float ac = (float)acc;
        s->alphas_cumprod[t] = ac;
        const float sa = sqrtf(ac);
        const float om = 1.0f - ac;
        const float sb = sqrtf(om);
        const float ratio = sa / sb;
        s->sqrt_alphas_cumprod[t] = sa;
        s->sqrt_one_minus_alphas_cumprod[t] = sb;
        s->snr[t] = ratio * ratio;
        if (!(ac > 0.0f)) {
            vkti_noise_schedule_free(s);
            return vkti_fail(d, VKTI_E_INVALID,
                             "noise schedule: alphas_cumprod reaches 0 at timestep %d (the betas are too large): "
                             "the signal would vanish entirely",
                             t);
        }
    }
    return VKTI_OK;
}

void vkti_noise_schedule_free(vkti_noise_schedule *s)
{
    free(s->betas);
    memset(s, 0, sizeof *s);
}

vkti_noise_coefs vkti_noise_coefs_at(const vkti_noise_schedule *s, int t)
{
    vkti_noise_coefs c;
    c.a = s->sqrt_alphas_cumprod[t];
    c.b = s->sqrt_one_minus_alphas_cumprod[t];
    c.v_noise = c.a;
    c.v_latent = -c.b;
    return c;
}

static float round_f16(float x) { return vkti_f16_to_f32(vkti_f32_to_f16(x)); }

vkti_noise_coefs vkti_noise_coefs_at_f16(const vkti_noise_schedule *s, int t)
{
    /* torch's half ops compute in float and round the result to half */
    const float ac = round_f16(s->alphas_cumprod[t]);
    const float om = round_f16(1.0f - ac);
    vkti_noise_coefs c;
    c.a = round_f16(sqrtf(ac));
    c.b = round_f16(sqrtf(om));
    c.v_noise = c.a;
    c.v_latent = -c.b;
    return c;
}

float vkti_min_snr_weight(const vkti_noise_schedule *s, int t, double gamma)
{
    if (!(gamma > 0))
        return 1.0f;
    const float snr = s->snr[t];
    const float g = (float)gamma; /* γ · torch.ones_like(timesteps): a float32 tensor */
    const float m = snr < g ? snr : g;
    if (s->prediction_type == VKTI_PREDICT_V) {
        const float den = snr + 1.0f;
        return m / den;
    }
    return m / snr;
}

/* ---- scheduler_config.json ------------------------------------------------------------ */

static int json_number(vkti_diag *d, const cJSON *item, const char *source, const char *key, double *out)
{
    if (!cJSON_IsNumber(item))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: \"%s\" must be a number", source, key);
    if (!isfinite(item->valuedouble))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: \"%s\" is not a finite number", source, key);
    *out = item->valuedouble;
    return VKTI_OK;
}

int vkti_noise_schedule_from_json(vkti_diag *d, vkti_noise_schedule *s, const char *json, size_t len,
                                  const char *source, vkti_linspace_mode mode)
{
    memset(s, 0, sizeof *s);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not valid JSON (a diffusers scheduler_config.json is expected)", source);
    int rc = VKTI_OK;
    double *trained = NULL;
    vkti_noise_schedule_config cfg = vkti_noise_config_ddpm_default();
    cfg.linspace_mode = mode;
    if (!cJSON_IsObject(root)) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: the top level must be a JSON object", source);
        goto done;
    }
    const cJSON *it;
    double v = 0;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "num_train_timesteps"))) {
        if ((rc = json_number(d, it, source, "num_train_timesteps", &v)))
            goto done;
        if (v != floor(v) || v < 2 || v > VKTI_NOISE_MAX_TIMESTEPS) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"num_train_timesteps\" is %g; it must be a whole number from 2 to %d",
                           source, v, VKTI_NOISE_MAX_TIMESTEPS);
            goto done;
        }
        cfg.num_train_timesteps = (int)v;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "beta_start")) &&
        (rc = json_number(d, it, source, "beta_start", &cfg.beta_start)))
        goto done;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "beta_end")) &&
        (rc = json_number(d, it, source, "beta_end", &cfg.beta_end)))
        goto done;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "beta_schedule"))) {
        const char *name = cJSON_GetStringValue(it);
        if (!name) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"beta_schedule\" must be a string", source);
            goto done;
        }
        if (!strcmp(name, "linear"))
            cfg.beta_schedule = VKTI_BETA_LINEAR;
        else if (!strcmp(name, "scaled_linear"))
            cfg.beta_schedule = VKTI_BETA_SCALED_LINEAR;
        else if (!strcmp(name, "squaredcos_cap_v2"))
            cfg.beta_schedule = VKTI_BETA_SQUAREDCOS_CAP_V2;
        else {
            rc = vkti_fail(d, VKTI_E_FORMAT,
                           "%s: beta_schedule \"%.64s\" is not supported (linear, scaled_linear, squaredcos_cap_v2)",
                           source, name);
            goto done;
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "prediction_type"))) {
        const char *name = cJSON_GetStringValue(it);
        if (!name) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"prediction_type\" must be a string", source);
            goto done;
        }
        if (!strcmp(name, "epsilon"))
            cfg.prediction_type = VKTI_PREDICT_EPSILON;
        else if (!strcmp(name, "v_prediction"))
            cfg.prediction_type = VKTI_PREDICT_V;
        else {
            rc = vkti_fail(d, VKTI_E_FORMAT,
                           "%s: prediction_type \"%.64s\" is not supported for training (epsilon, v_prediction)",
                           source, name);
            goto done;
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "rescale_betas_zero_snr"))) {
        if (!cJSON_IsBool(it)) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"rescale_betas_zero_snr\" must be true or false", source);
            goto done;
        }
        if (cJSON_IsTrue(it)) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: rescale_betas_zero_snr is true; zero-terminal-SNR schedules "
                                             "are not supported yet", source);
            goto done;
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "trained_betas")) && !cJSON_IsNull(it)) {
        if (!cJSON_IsArray(it)) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"trained_betas\" must be null or a list of numbers", source);
            goto done;
        }
        int count = cJSON_GetArraySize(it);
        if (count != cfg.num_train_timesteps) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: trained_betas has %d entries but num_train_timesteps is %d", source,
                           count, cfg.num_train_timesteps);
            goto done;
        }
        trained = malloc(sizeof(double) * (size_t)count);
        if (!trained) {
            rc = vkti_fail(d, VKTI_E_OOM, "%s: out of host memory", source);
            goto done;
        }
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, it)
        {
            if ((rc = json_number(d, e, source, "trained_betas[]", &trained[i++])))
                goto done;
        }
        cfg.beta_schedule = VKTI_BETA_TRAINED;
        cfg.trained_betas = trained;
    }
    if ((rc = vkti_noise_schedule_init(d, s, &cfg)))
        vkti_fail_wrap(d, rc, "%s", source);
done:
    free(trained);
    cJSON_Delete(root);
    return rc;
}
