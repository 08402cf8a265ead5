/* ref_sampler.c — double-precision reference of the sampler op and of whole sampler runs (see
 * ref_sampler.h). */
#include "ref/ref_sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "pc_sampler.h"

/* one element of one step: returns the new x; *x0 gets the predicted x0 */
static double step_elem(double xi, double e, double hist, double nz, const double *c, unsigned mode, unsigned flags,
                        double *x0_out)
{
    const int v = (flags & VKTI_SAMPLER_F_V) != 0;
    double x0 = 0, nx;
    if (mode == VKTI_SAMPLER_MODE_INIT) {
        nx = nz * c[2];
    } else if (mode == VKTI_SAMPLER_MODE_DDIM) {
        double pe = v ? c[2] * e + c[3] * xi : e;
        x0 = v ? c[2] * xi - c[3] * e : (xi - c[3] * e) / c[2];
        if (flags & VKTI_SAMPLER_F_CLIP)
            x0 = fmin(fmax(x0, -c[4]), c[4]);
        nx = c[5] * x0 + c[6] * pe + ((flags & VKTI_SAMPLER_F_NOISE) ? c[7] * nz : 0.0);
    } else if (mode == VKTI_SAMPLER_MODE_EULER_A) {
        x0 = v ? e * c[3] + xi / c[4] : xi - c[2] * e;
        nx = xi + (xi - x0) / c[2] * c[5] + nz * c[6];
    } else {
        x0 = v ? c[2] * xi - c[3] * e : (xi - c[3] * e) / c[2];
        nx = c[4] * xi - c[5] * x0 - c[6] * (c[7] * (x0 - hist));
    }
    *x0_out = x0;
    return nx;
}

void ref_sampler_step(double *x_out, double *hist_out, double *in_out, const float *x, const float *hist,
                      const float *model_out, const float *noise, const float *coef, unsigned mode, unsigned flags,
                      int64_t B, int64_t n, int copies, int64_t noise_stride)
{
    double c[VKTI_SAMPLER_COEFS];
    for (int k = 0; k < VKTI_SAMPLER_COEFS; k++)
        c[k] = coef[k];
    for (int64_t i = 0; i < B * n; i++) {
        int64_t b = i / n, k = i % n;
        int noisy = mode == VKTI_SAMPLER_MODE_INIT || (flags & VKTI_SAMPLER_F_NOISE);
        double e = 0, x0;
        if (mode != VKTI_SAMPLER_MODE_INIT) {
            e = model_out[i];
            if (flags & VKTI_SAMPLER_F_GUIDED)
                e = model_out[i] + c[VKTI_SC_GUIDANCE] * ((double)model_out[B * n + i] - model_out[i]);
        }
        double nx = step_elem(x[i], e, hist ? hist[i] : 0.0, noisy ? noise[b * noise_stride + k] : 0.0, c, mode, flags, &x0);
        if (mode != VKTI_SAMPLER_MODE_INIT && hist_out)
            hist_out[i] = x0;
        else if (mode == VKTI_SAMPLER_MODE_INIT && (flags & VKTI_SAMPLER_F_HIST) && hist_out)
            hist_out[i] = 0.0;
        x_out[i] = nx;
        for (int g = 0; g < copies; g++)
            in_out[g * B * n + i] = nx / c[VKTI_SC_IN_DIV];
    }
}

int ref_sampler_trajectory(double *x, const vkti_sampler_plan *p, const double *noise0, const double *noise, int64_t n,
                           ref_model_fn model, void *user)
{
    double *in = malloc(sizeof(double) * (size_t)n), *e = malloc(sizeof(double) * (size_t)n);
    double *hist = calloc((size_t)n, sizeof(double));
    if (!in || !e || !hist) {
        free(in);
        free(e);
        free(hist);
        return -1;
    }
    double c[VKTI_SAMPLER_COEFS], x0;
    for (int k = 0; k < VKTI_SAMPLER_COEFS; k++)
        c[k] = p->init_coef[k];
    for (int64_t i = 0; i < n; i++) {
        x[i] = step_elem(0, 0, 0, noise0[i], c, VKTI_SAMPLER_MODE_INIT, 0, &x0);
        in[i] = x[i] / c[VKTI_SC_IN_DIV];
    }
    for (int s = 0; s < p->steps; s++) {
        model(user, s, in, e, n);
        for (int k = 0; k < VKTI_SAMPLER_COEFS; k++)
            c[k] = p->coef[s][k];
        for (int64_t i = 0; i < n; i++) {
            x[i] = step_elem(x[i], e[i], hist[i], noise ? noise[(int64_t)s * n + i] : 0.0, c, p->mode, p->flags, &x0);
            hist[i] = x0;
            in[i] = x[i] / c[VKTI_SC_IN_DIV];
        }
    }
    free(in);
    free(e);
    free(hist);
    return 0;
}

void ref_sampler_latent(double *out, const float *latents, int64_t h, int64_t w, int64_t C, int image, int64_t y0,
                        int64_t x0, int64_t oh, int64_t ow, double scale)
{
    for (int64_t y = 0; y < oh; y++)
        for (int64_t xx = 0; xx < ow; xx++)
            for (int64_t ch = 0; ch < C; ch++)
                out[(y * ow + xx) * C + ch] = latents[(((int64_t)image * h + y0 + y) * w + x0 + xx) * C + ch] / scale;
}

/* ---- the fixture ------------------------------------------------------------------------------ */

typedef struct fixture_priv {
    vkti_safetensors st;
    float *bufs[8 * REF_SAMPLER_MAX_CASES + 3];
    int nbufs;
} fixture_priv;

/* a copy of tensor name as f32 with numel want (want < 0: any) */
static float *load(fixture_priv *p, const char *name, int64_t want, int64_t *numel, char *why, size_t cap)
{
    const vkti_io_tensor *t = vkti_safetensors_find(&p->st, name);
    if (!t) {
        snprintf(why, cap, "tensor %s missing", name);
        return NULL;
    }
    if (want >= 0 && (int64_t)t->numel != want) {
        snprintf(why, cap, "tensor %s has %llu elements, expected %lld", name, (unsigned long long)t->numel, (long long)want);
        return NULL;
    }
    float *b = malloc(sizeof(float) * (t->numel ? t->numel : 1));
    vkti_diag d = {0};
    if (!b || vkti_io_tensor_to_f32(&d, t, b, t->numel)) {
        free(b);
        snprintf(why, cap, "tensor %s: %s", name, b ? d.msg : "out of memory");
        return NULL;
    }
    p->bufs[p->nbufs++] = b;
    if (numel)
        *numel = (int64_t)t->numel;
    return b;
}

int ref_sampler_fixture_open(ref_sampler_fixture *f, const char *path, char *why, size_t why_cap)
{
    memset(f, 0, sizeof *f);
    char def[1024];
    if (!path)
        path = getenv("VKTI_SAMPLER_FIXTURE"); /* another fixture, e.g. SD 1.5's 64 x 64 latents */
    if (!path) {
        const char *src = getenv("VKTI_SOURCE_DIR");
#ifdef VKTI_TEST_SOURCE_DIR
        if (!src)
            src = VKTI_TEST_SOURCE_DIR;
#endif
        snprintf(def, sizeof def, "%s/tests/fixtures/sampler_reference.safetensors", src ? src : ".");
        path = def;
    }
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        snprintf(why, why_cap, "%s is absent (make it with tools/ref/sampler_reference.py on a machine with torch)", path);
        return 0;
    }
    fclose(probe);
    fixture_priv *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    f->priv = p;
    vkti_diag d = {0};
    if (vkti_safetensors_open(&d, &p->st, path)) {
        snprintf(why, why_cap, "%s", d.msg);
        ref_sampler_fixture_close(f);
        return -1;
    }
    int64_t nn = 0;
    if (!(f->noise0 = load(p, "noise0", -1, &f->n, why, why_cap)) || !(f->E = load(p, "E", f->n, NULL, why, why_cap)) ||
        !(f->noise = load(p, "noise", -1, &nn, why, why_cap))) {
        ref_sampler_fixture_close(f);
        return -1;
    }
    f->max_steps = (int)(nn / f->n);
    const char *cases = vkti_safetensors_meta(&p->st, "cases");
    char list[4096];
    snprintf(list, sizeof list, "%s", cases ? cases : "");
    for (char *tok = strtok(list, ","); tok && f->ncases < REF_SAMPLER_MAX_CASES; tok = strtok(NULL, ",")) {
        ref_sampler_case *c = &f->cases[f->ncases];
        char key[128];
        snprintf(c->name, sizeof c->name, "%s", tok);
#define META(field) (snprintf(key, sizeof key, "%s." field, tok), vkti_safetensors_meta(&p->st, key))
        const char *sampler = META("sampler"), *steps = META("steps"), *eta = META("eta"), *karras = META("karras");
        c->config = META("config");
#undef META
        if (!sampler || !steps || !eta || !karras || !c->config || vkti_sampler_parse(sampler, &c->sampler)) {
            snprintf(why, why_cap, "case %s: metadata incomplete", tok);
            ref_sampler_fixture_close(f);
            return -1;
        }
        c->steps = atoi(steps);
        c->eta = atof(eta);
        c->karras = atoi(karras);
        const int64_t S = c->steps, n = f->n;
        float *init;
#define T(field, count) (snprintf(key, sizeof key, "%s." field, tok), load(p, key, count, NULL, why, why_cap))
        if (S < 1 || S > f->max_steps || !(c->timesteps = T("timesteps", S)) || !(init = T("init_noise_sigma", 1)) ||
            !(c->x = T("x", (S + 1) * n)) || !(c->model_in = T("model_in", S * n)) ||
            !(c->model_out = T("model_out", S * n)) || !(c->x0 = T("x0", S * n)) ||
            (c->sampler != VKTI_SAMPLER_DDIM && !(c->sigmas = T("sigmas", S + 1)))) {
#undef T
            ref_sampler_fixture_close(f);
            return -1;
        }
        c->init_sigma = init[0];
        f->ncases++;
    }
    return 1;
}

void ref_sampler_fixture_close(ref_sampler_fixture *f)
{
    fixture_priv *p = f->priv;
    if (p) {
        for (int i = 0; i < p->nbufs; i++)
            free(p->bufs[i]);
        vkti_safetensors_close(&p->st);
        free(p);
    }
    memset(f, 0, sizeof *f);
}

void ref_sampler_fake_model(double *out, const double *in, const float *E, float t, int64_t n)
{
    float s = t / 1000.0f;
    for (int64_t i = 0; i < n; i++) {
        float a = 0.1f * (float)in[i];
        float b = s * E[i];
        out[i] = (double)(a + b);
    }
}
