/* schedule.c — timesteps, sigmas and per-step coefficients of the samplers (see schedule.h).
 *
 * Sources read (facts, no code copied): diffusers 58eb52c schedulers/scheduling_ddim.py,
 * scheduling_euler_ancestral_discrete.py, scheduling_dpmsolver_multistep.py, configuration_utils.py
 * (from_config passes on only the keys the file had: a key the source class filled from its own
 * defaults is in `_use_default_values` and dropped, so the new sampler's defaults apply); numpy's linspace
 * (numpy/_core/function_base.py: y = arange(num) * step + start, last = stop), arange's fill
 * (start + i * (a[1] - a[0])), interp (slope * (x - xp[j]) + fp[j]; fp[j] when x == xp[j]), round
 * (half to even); torch's pow (x ** 2 is x * x, x ** 0.5 is sqrt).
 *
 * Float steps are single statements with float results, so nothing is contracted into a fused
 * multiply-add (C11 contracts only within an expression; GCC does not under -std=c11). */
#include "sample/schedule.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

const char *vkti_sampler_name(vkti_sampler s)
{
    switch (s) {
    case VKTI_SAMPLER_DDIM: return "ddim";
    case VKTI_SAMPLER_EULER_A: return "euler_a";
    case VKTI_SAMPLER_DPMPP_2M: return "dpmpp_2m";
    default: return "?";
    }
}

const char *vkti_sampler_a1111_name(vkti_sampler s, int karras)
{
    switch (s) {
    case VKTI_SAMPLER_DDIM: return "DDIM";
    case VKTI_SAMPLER_EULER_A: return "Euler a";
    case VKTI_SAMPLER_DPMPP_2M: return karras ? "DPM++ 2M Karras" : "DPM++ 2M";
    default: return "?";
    }
}

int vkti_sampler_parse(const char *name, vkti_sampler *out)
{
    for (int s = VKTI_SAMPLER_DDIM; s <= VKTI_SAMPLER_DPMPP_2M; s++)
        if (name && !strcmp(name, vkti_sampler_name((vkti_sampler)s))) {
            *out = (vkti_sampler)s;
            return VKTI_OK;
        }
    return VKTI_E_INVALID;
}

const char *vkti_spacing_name(vkti_timestep_spacing s)
{
    switch (s) {
    case VKTI_SPACING_LEADING: return "leading";
    case VKTI_SPACING_TRAILING: return "trailing";
    default: return "linspace";
    }
}

/* ---- the config ------------------------------------------------------------------------------ */

static int json_bool(vkti_diag *d, const cJSON *it, const char *source, const char *key, int *out)
{
    if (!cJSON_IsBool(it))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: \"%s\" must be true or false", source, key);
    *out = cJSON_IsTrue(it);
    return VKTI_OK;
}

int vkti_sampling_config_parse(vkti_diag *d, vkti_sampling_config *cfg, const char *json, size_t len,
                               const char *source)
{
    memset(cfg, 0, sizeof *cfg);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not a JSON object (a diffusers scheduler_config.json is expected)", source);
    }
    int rc = VKTI_OK;
    const cJSON *it;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "_class_name")) && cJSON_IsString(it)) {
        size_t n = strlen(it->valuestring);
        if (n >= sizeof cfg->class_name)
            n = sizeof cfg->class_name - 1;
        memcpy(cfg->class_name, it->valuestring, n);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "timestep_spacing"))) {
        const char *v = cJSON_GetStringValue(it);
        if (v && !strcmp(v, "leading"))
            cfg->spacing = VKTI_SPACING_LEADING;
        else if (v && !strcmp(v, "trailing"))
            cfg->spacing = VKTI_SPACING_TRAILING;
        else if (v && !strcmp(v, "linspace"))
            cfg->spacing = VKTI_SPACING_LINSPACE;
        else {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"timestep_spacing\" must be \"leading\", \"trailing\" or \"linspace\"",
                           source);
            goto done;
        }
        cfg->has_spacing = 1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "steps_offset"))) {
        double v = cJSON_IsNumber(it) ? it->valuedouble : -1;
        if (!(v >= 0 && v <= 1000 && v == floor(v))) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"steps_offset\" must be a whole number from 0 to 1000", source);
            goto done;
        }
        cfg->steps_offset = (int)v;
        cfg->has_steps_offset = 1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "set_alpha_to_one"))) {
        if ((rc = json_bool(d, it, source, "set_alpha_to_one", &cfg->set_alpha_to_one)))
            goto done;
        cfg->has_set_alpha_to_one = 1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "clip_sample"))) {
        if ((rc = json_bool(d, it, source, "clip_sample", &cfg->clip_sample)))
            goto done;
        cfg->has_clip_sample = 1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "clip_sample_range"))) {
        if (!cJSON_IsNumber(it) || !(it->valuedouble > 0) || !isfinite(it->valuedouble)) {
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"clip_sample_range\" must be a positive number", source);
            goto done;
        }
        cfg->clip_sample_range = it->valuedouble;
        cfg->has_clip_range = 1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "use_karras_sigmas")) && !cJSON_IsNull(it)) {
        if ((rc = json_bool(d, it, source, "use_karras_sigmas", &cfg->use_karras_sigmas)))
            goto done;
        cfg->has_karras = 1;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "thresholding")) && cJSON_IsTrue(it)) {
        rc = vkti_fail(d, VKTI_E_FORMAT, "%s: \"thresholding\" is true; dynamic thresholding is for pixel-space models "
                       "and vkti does not implement it (set it to false)", source);
        goto done;
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- numpy ------------------------------------------------------------------------------------ */

void vkti_np_linspace(double *out, double start, double stop, int num)
{
    if (num <= 0)
        return;
    if (num == 1) { /* div = 0: y = [0] * delta + start */
        out[0] = 0.0 * (stop - start) + start;
        return;
    }
    double step = (stop - start) / (num - 1);
    for (int i = 0; i < num; i++) {
        double y = (double)i * step;
        out[i] = y + start;
    }
    out[num - 1] = stop;
}

int vkti_np_arange(double *out, int cap, double start, double stop, double step)
{
    double len = ceil((stop - start) / step);
    int n = len > 0 ? (len > 1e9 ? 1000000000 : (int)len) : 0;
    if (!out)
        return n;
    double a1 = start + step, delta = a1 - start;
    for (int i = 0; i < n && i < cap; i++) {
        if (i == 0) {
            out[i] = start;
        } else if (i == 1) {
            out[i] = a1;
        } else {
            double p = (double)i * delta;
            out[i] = start + p;
        }
    }
    return n;
}

double vkti_np_interp_index(double x, const double *fp, int n)
{
    if (x != x)
        return x;
    if (x < 0)
        return fp[0];
    if (x >= n - 1)
        return fp[n - 1];
    int j = (int)floor(x);
    if ((double)j == x)
        return fp[j];
    double slope = fp[j + 1] - fp[j]; /* / (xp[j+1] - xp[j]) = 1 */
    double dx = x - (double)j;
    double r = slope * dx;
    return r + fp[j];
}

/* np.round: half to even (the default rounding mode) */
static double np_round(double x) { return nearbyint(x); }

/* ---- torch float32 scalars ---------------------------------------------------------------------- */

/* ((1 - ac) / ac) ** 0.5 */
static float sigma_of(float ac)
{
    float one_minus = 1.0f - ac;
    float q = one_minus / ac;
    return sqrtf(q);
}

/* DPMSolverMultistepScheduler._sigma_to_alpha_sigma_t and lambda = log(alpha) - log(sigma) */
static void dpm_alpha_sigma(float sigma, float *alpha_t, float *sigma_t, float *lambda)
{
    float sq = sigma * sigma;
    float sq1 = sq + 1.0f;
    float r = sqrtf(sq1);
    float a = 1.0f / r;
    float s = sigma * a;
    float la = logf(a), ls = logf(s);
    *alpha_t = a;
    *sigma_t = s;
    *lambda = la - ls;
}

/* ---- timesteps ---------------------------------------------------------------------------------- */

/* trailing: np.arange(top, 0, -T / S), counted; refuses when numpy gives another count */
static int trailing(vkti_diag *d, double *out, int T, int top, int S, const char *who)
{
    double ratio = (double)T / S;
    int n = vkti_np_arange(NULL, 0, top, 0, -ratio);
    if (n != S)
        return vkti_fail(d, VKTI_E_INVALID, "%d steps with \"trailing\" timestep spacing give %s %d timesteps, not %d "
                         "(numpy's arange rounds %d / %d); choose another number of steps", S, who, n, S, T, S);
    vkti_np_arange(out, S, top, 0, -ratio);
    return VKTI_OK;
}

static int check_range(vkti_diag *d, const double *t, int S, int T, const char *spacing)
{
    for (int i = 0; i < S; i++)
        if (!(t[i] >= 0 && t[i] <= T - 1))
            return vkti_fail(d, VKTI_E_INVALID, "%d steps with \"%s\" timestep spacing reach timestep %g, outside the "
                             "schedule's 0 .. %d; use fewer steps", S, spacing, t[i], T - 1);
    return VKTI_OK;
}

/* ---- DDIM ------------------------------------------------------------------------------------------ */

static int plan_ddim(vkti_diag *d, vkti_sampler_plan *p, const vkti_noise_schedule *ns, const vkti_sampling_config *cfg,
                     const vkti_sampler_settings *s, double *t)
{
    const int T = ns->num_train_timesteps, S = s->steps;
    const float *ac = ns->alphas_cumprod;
    int rc;
    p->spacing = cfg->has_spacing ? cfg->spacing : VKTI_SPACING_LEADING;
    if (p->spacing == VKTI_SPACING_LINSPACE) {
        vkti_np_linspace(t, 0, T - 1, S);
        for (int i = 0; i < S; i++)
            t[i] = np_round(t[i]);
    } else if (p->spacing == VKTI_SPACING_LEADING) {
        int ratio = T / S;
        for (int i = 0; i < S; i++)
            t[i] = (double)(i * ratio + p->steps_offset);
    } else {
        if ((rc = trailing(d, t, T, T, S, "DDIMScheduler")))
            return rc;
        for (int i = 0; i < S; i++)
            t[i] = np_round(t[i]) - 1;
    }
    if (p->spacing != VKTI_SPACING_TRAILING) /* ascending so far */
        for (int i = 0; i < S / 2; i++) {
            double x = t[i];
            t[i] = t[S - 1 - i];
            t[S - 1 - i] = x;
        }
    if ((rc = check_range(d, t, S, T, vkti_spacing_name(p->spacing))))
        return rc;
    const int set_one = cfg->has_set_alpha_to_one ? cfg->set_alpha_to_one : 1;
    const int clip = cfg->has_clip_sample ? cfg->clip_sample : 1;
    const float clip_range = (float)(cfg->has_clip_range ? cfg->clip_sample_range : 1.0);
    const float final_ac = set_one ? 1.0f : ac[0];
    const float eta = (float)s->eta;
    p->mode = VKTI_SAMPLER_MODE_DDIM;
    p->flags |= (clip ? VKTI_SAMPLER_F_CLIP : 0u) | (s->eta > 0 ? VKTI_SAMPLER_F_NOISE : 0u);
    p->init_sigma = 1.0f;
    for (int i = 0; i < S; i++) {
        int ts = (int)t[i], prev = ts - T / S;
        float a_t = ac[ts], a_prev = prev >= 0 ? ac[prev] : final_ac;
        float b_t = 1.0f - a_t, b_prev = 1.0f - a_prev;
        float ratio = b_prev / b_t, q = a_t / a_prev;
        float one_minus_q = 1.0f - q;
        float variance = ratio * one_minus_q;
        float std = eta * sqrtf(variance);
        float std2 = std * std, dir = 1.0f - a_prev;
        float dir2 = dir - std2;
        float *c = p->coef[i];
        p->timestep[i] = (float)ts;
        c[2] = sqrtf(a_t);
        c[3] = sqrtf(b_t);
        c[4] = clip_range;
        c[5] = sqrtf(a_prev);
        c[6] = sqrtf(dir2);
        c[7] = std;
        c[VKTI_SC_IN_DIV] = 1.0f;
    }
    p->init_coef[VKTI_SC_IN_DIV] = 1.0f;
    return VKTI_OK;
}

/* ---- Euler ancestral ------------------------------------------------------------------------------ */

static int plan_euler_a(vkti_diag *d, vkti_sampler_plan *p, const vkti_noise_schedule *ns,
                        const vkti_sampling_config *cfg, const vkti_sampler_settings *s, double *t, double *base)
{
    const int T = ns->num_train_timesteps, S = s->steps;
    int rc;
    p->spacing = cfg->has_spacing ? cfg->spacing : VKTI_SPACING_LINSPACE;
    float *ts = p->timestep;
    if (p->spacing == VKTI_SPACING_LINSPACE) {
        vkti_np_linspace(t, 0, T - 1, S);
        for (int i = 0; i < S; i++)
            ts[S - 1 - i] = (float)t[i];
    } else if (p->spacing == VKTI_SPACING_LEADING) {
        int ratio = T / S;
        for (int i = 0; i < S; i++) {
            float v = (float)np_round((double)(i * ratio));
            ts[S - 1 - i] = v + (float)p->steps_offset;
        }
    } else {
        if ((rc = trailing(d, t, T, T, S, "EulerAncestralDiscreteScheduler")))
            return rc;
        for (int i = 0; i < S; i++) {
            float v = (float)np_round(t[i]);
            ts[i] = v - 1.0f;
        }
    }
    for (int i = 0; i < S; i++)
        t[i] = ts[i];
    if ((rc = check_range(d, t, S, T, vkti_spacing_name(p->spacing))))
        return rc;
    for (int k = 0; k < T; k++)
        base[k] = sigma_of(ns->alphas_cumprod[k]);
    for (int i = 0; i < S; i++)
        p->sigmas[i] = (float)vkti_np_interp_index((double)ts[i], base, T);
    p->sigmas[S] = 0.0f;
    float smax = 0.0f;
    for (int i = 0; i <= S; i++)
        smax = p->sigmas[i] > smax ? p->sigmas[i] : smax;
    if (p->spacing == VKTI_SPACING_LEADING) {
        float sq = smax * smax;
        float sq1 = sq + 1.0f;
        p->init_sigma = sqrtf(sq1);
    } else {
        p->init_sigma = smax;
    }
    p->mode = VKTI_SAMPLER_MODE_EULER_A;
    p->flags |= VKTI_SAMPLER_F_NOISE;
    for (int i = 0; i <= S; i++) {
        float sg = p->sigmas[i], sq = sg * sg;
        float sq1 = sq + 1.0f;
        float in_div = sqrtf(sq1); /* scale_model_input: sample / ((sigma ** 2 + 1) ** 0.5) */
        if (i == 0)
            p->init_coef[VKTI_SC_IN_DIV] = in_div;
        else
            p->coef[i - 1][VKTI_SC_IN_DIV] = i < S ? in_div : 1.0f;
        if (i == S)
            break;
        float *c = p->coef[i];
        float from = sg, to = p->sigmas[i + 1];
        float to2 = to * to, from2 = from * from;
        float diff = from2 - to2;
        float num = to2 * diff;
        float q = num / from2;
        float up = sqrtf(q);
        float up2 = up * up;
        float down2 = to2 - up2;
        float down = sqrtf(down2);
        float neg = -sg;
        c[2] = sg;
        c[3] = neg / in_div;   /* v: -sigma / (sigma ** 2 + 1) ** 0.5 */
        c[4] = sq1;            /* v: sample / (sigma ** 2 + 1) */
        c[5] = down - sg;      /* dt */
        c[6] = up;
    }
    return VKTI_OK;
}

/* ---- DPM++ 2M -------------------------------------------------------------------------------------- */

/* EulerDiscreteScheduler._sigma_to_t: the (fractional) timestep of a sigma on the log-sigma table */
static double sigma_to_t(double sigma, const float *log_sigmas, int T)
{
    double ls = log(sigma > 1e-10 ? sigma : 1e-10);
    int low = 0;
    for (int k = 0; k < T; k++)
        if (ls - (double)log_sigmas[k] >= 0)
            low = k;  /* argmax of the cumulative count: the last index with dists >= 0 */
    if (low > T - 2)
        low = T - 2;
    float lo = log_sigmas[low], hi = log_sigmas[low + 1];
    float den = lo - hi;           /* np.float32 - np.float32 */
    double num = (double)lo - ls;  /* np.float32 - np.float64 */
    double w = num / (double)den;
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    double a = (1.0 - w) * (double)low;
    double b = w * (double)(low + 1);
    return a + b;
}

static int plan_dpmpp_2m(vkti_diag *d, vkti_sampler_plan *p, const vkti_noise_schedule *ns,
                         const vkti_sampling_config *cfg, const vkti_sampler_settings *s, double *t, double *base)
{
    const int T = ns->num_train_timesteps, S = s->steps;
    int rc;
    p->spacing = cfg->has_spacing ? cfg->spacing : VKTI_SPACING_LINSPACE;
    p->karras = s->karras || (cfg->has_karras && cfg->use_karras_sigmas);
    const int last = T; /* lambda_min_clipped = -inf: nothing clipped */
    double *tt = malloc(sizeof(double) * (size_t)(S + 1));
    if (!tt)
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    if (p->spacing == VKTI_SPACING_LINSPACE) {
        vkti_np_linspace(tt, 0, last - 1, S + 1);
        for (int i = 0; i < S; i++)
            t[i] = np_round(tt[S - i]);
    } else if (p->spacing == VKTI_SPACING_LEADING) {
        int ratio = last / (S + 1);
        for (int i = 0; i < S; i++)
            t[i] = (double)((S - i) * ratio + p->steps_offset);
    } else {
        rc = trailing(d, t, T, last, S, "DPMSolverMultistepScheduler");
        for (int i = 0; rc == VKTI_OK && i < S; i++)
            t[i] = np_round(t[i]) - 1;
        if (rc) {
            free(tt);
            return rc;
        }
    }
    float *log_sigmas = malloc(sizeof(float) * (size_t)T);
    if (!log_sigmas) {
        free(tt);
        return vkti_fail(d, VKTI_E_OOM, "out of host memory");
    }
    for (int k = 0; k < T; k++) {
        float sg = sigma_of(ns->alphas_cumprod[k]);
        base[k] = sg;
        log_sigmas[k] = logf(sg);
    }
    if (p->karras) {
        /* in_sigmas = flip(sigmas): sigma_min = sigmas[0], sigma_max = sigmas[T - 1] (as doubles) */
        const double rho = 7.0, smin = base[0], smax = base[T - 1];
        vkti_np_linspace(tt, 0, 1, S);
        double min_inv = pow(smin, 1.0 / rho), max_inv = pow(smax, 1.0 / rho);
        double span = min_inv - max_inv;
        for (int i = 0; i < S; i++) {
            double r = tt[i] * span;
            double v = max_inv + r;
            double sg = pow(v, rho);
            p->sigmas[i] = (float)sg;
            t[i] = np_round(sigma_to_t(sg, log_sigmas, T));
        }
    } else {
        if ((rc = check_range(d, t, S, T, vkti_spacing_name(p->spacing)))) {
            free(tt);
            free(log_sigmas);
            return rc;
        }
        for (int i = 0; i < S; i++)
            p->sigmas[i] = (float)vkti_np_interp_index(t[i], base, T);
    }
    p->sigmas[S] = 0.0f; /* final_sigmas_type "zero" */
    free(tt);
    free(log_sigmas);
    if ((rc = check_range(d, t, S, T, vkti_spacing_name(p->spacing))))
        return rc;
    p->mode = VKTI_SAMPLER_MODE_DPMPP_2M;
    p->init_sigma = 1.0f;
    p->init_coef[VKTI_SC_IN_DIV] = 1.0f;
    for (int i = 0; i < S; i++) {
        float *c = p->coef[i];
        float a_s0, s_s0, l_s0, a_t, s_t, l_t;
        p->timestep[i] = (float)t[i];
        dpm_alpha_sigma(p->sigmas[i], &a_s0, &s_s0, &l_s0);
        dpm_alpha_sigma(p->sigmas[i + 1], &a_t, &s_t, &l_t);
        float h = l_t - l_s0;
        float e = expf(-h);
        float em1 = e - 1.0f;
        float B = a_t * em1;
        c[VKTI_SC_IN_DIV] = 1.0f;
        c[2] = a_s0;            /* convert_model_output at sigma_s0 */
        c[3] = s_s0;
        c[4] = s_t / s_s0;
        c[5] = B;
        /* first order at the first step (no history) and the last (lower_order_final) */
        if (i > 0 && i < S - 1) {
            float a_s1, s_s1, l_s1;
            dpm_alpha_sigma(p->sigmas[i - 1], &a_s1, &s_s1, &l_s1);
            float h0 = l_s0 - l_s1;
            float r0 = h0 / h;
            c[6] = 0.5f * B;
            c[7] = 1.0f / r0;
        } else {
            c[6] = 0.0f;
            c[7] = 0.0f;
        }
    }
    return VKTI_OK;
}

/* ---- the plan ----------------------------------------------------------------------------------- */

void vkti_sampler_plan_free(vkti_sampler_plan *p)
{
    free(p->timestep);
    free(p->coef);
    free(p->sigmas);
    memset(p, 0, sizeof *p);
}

int vkti_sampler_plan_init(vkti_diag *d, vkti_sampler_plan *p, const vkti_noise_schedule *ns,
                           const vkti_sampling_config *cfg, const vkti_sampler_settings *s)
{
    memset(p, 0, sizeof *p);
    const int T = ns->num_train_timesteps, S = s->steps;
    if (S < 1 || S > T)
        return vkti_fail(d, VKTI_E_INVALID, "steps must be from 1 to %d (the model's training timesteps), not %d", T, S);
    if (s->sampler != VKTI_SAMPLER_DDIM && s->eta != 0)
        return vkti_fail(d, VKTI_E_INVALID, "eta applies to the ddim sampler only");
    if (s->sampler == VKTI_SAMPLER_DDIM && !(s->eta >= 0 && s->eta <= 1))
        return vkti_fail(d, VKTI_E_INVALID, "eta must be from 0 (deterministic DDIM) to 1 (DDPM-like), not %g", s->eta);
    if (s->karras && s->sampler != VKTI_SAMPLER_DPMPP_2M)
        return vkti_fail(d, VKTI_E_INVALID, "Karras sigmas apply to the dpmpp_2m sampler only (diffusers' %s has none)",
                         s->sampler == VKTI_SAMPLER_DDIM ? "DDIMScheduler" : "EulerAncestralDiscreteScheduler");
    p->sampler = s->sampler;
    p->prediction = ns->prediction_type;
    p->steps = S;
    p->steps_offset = cfg->has_steps_offset ? cfg->steps_offset : 0;
    p->flags = ns->prediction_type == VKTI_PREDICT_V ? VKTI_SAMPLER_F_V : 0u;
    p->timestep = calloc((size_t)S, sizeof *p->timestep);
    p->coef = calloc((size_t)S, sizeof *p->coef);
    p->sigmas = s->sampler == VKTI_SAMPLER_DDIM ? NULL : calloc((size_t)S + 1, sizeof *p->sigmas);
    double *t = calloc((size_t)S + 1, sizeof(double)), *base = calloc((size_t)T, sizeof(double));
    int rc = VKTI_OK;
    if (!p->timestep || !p->coef || (s->sampler != VKTI_SAMPLER_DDIM && !p->sigmas) || !t || !base)
        rc = vkti_fail(d, VKTI_E_OOM, "out of host memory");
    else if (s->sampler == VKTI_SAMPLER_DDIM)
        rc = plan_ddim(d, p, ns, cfg, s, t);
    else if (s->sampler == VKTI_SAMPLER_EULER_A)
        rc = plan_euler_a(d, p, ns, cfg, s, t, base);
    else
        rc = plan_dpmpp_2m(d, p, ns, cfg, s, t, base);
    free(t);
    free(base);
    if (rc) {
        vkti_sampler_plan_free(p);
        return rc;
    }
    p->init_coef[2] = p->init_sigma;
    p->init_coef[VKTI_SC_GUIDANCE] = (float)s->guidance;
    for (int i = 0; i < S; i++)
        p->coef[i][VKTI_SC_GUIDANCE] = (float)s->guidance;
    return VKTI_OK;
}
