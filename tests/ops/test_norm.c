/* test_norm.c — group norm (NHWC, with and without fused SiLU) and layer norm, forward and
 * backward, against the double references of ref_norm.c: the references' backward against
 * finite differences of their forward, then the GPU against the references, in f32 and f16,
 * at odd sizes, at Stable Diffusion sizes, and on inputs with a large mean (100 +- 1) that a
 * sum-of-squares variance would get wrong. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ops/norm.h"
#include "ref/ref_norm.h"

static double *to_double(th *t, const float *x, int64_t n)
{
    double *d = th_alloc(t, sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; d && i < n; i++)
        d[i] = x[i];
    return d;
}

static float *to_float(th *t, const double *x, int64_t n)
{
    float *f = th_alloc(t, sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; f && i < n; i++)
        f[i] = (float)x[i];
    return f;
}

/* root mean square deviation of x from its mean: the scale a mean's error is judged against */
static double spread(const float *x, int64_t n)
{
    double s = 0, q = 0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    for (int64_t i = 0; i < n; i++)
        q += (x[i] - s / (double)n) * (x[i] - s / (double)n);
    return sqrt(q / (double)n);
}

/* a device tensor holding host values that the test then overwrites into an output */
static int preload(th *t, const vkti_tensor *out, float *host, double *as_double, int64_t n)
{
    if (!th_ok(t, vkti_tensor_upload_f32(t->g, out, host, n)) || !th_ok(t, vkti_tensor_download_f32(t->g, out, host, n)))
        return 0;
    for (int64_t i = 0; i < n; i++)
        as_double[i] = host[i];
    return 1;
}

/* ---- group norm ------------------------------------------------------------------------- */

typedef struct gn_case {
    int64_t N, H, W, C, G;
    double eps;
    int silu;
    float offset; /* added to every input: a large mean against a spread of about 1 */
    int accum;    /* backward: dx += */
    int big;      /* SD-sized: skipped with --quick */
} gn_case;

typedef struct gn_data {
    int64_t N, P, C, G, n;
    float *x, *gamma, *beta, *dy;
    double eps;
    int silu;
} gn_data;

static int gn_make(th *t, const gn_case *gc, gn_data *d, int with_dy)
{
    d->N = gc->N, d->P = gc->H * gc->W, d->C = gc->C, d->G = gc->G, d->eps = (float)gc->eps, d->silu = gc->silu;
    d->n = d->N * d->P * d->C;
    d->x = th_alloc(t, sizeof(float) * (size_t)d->n);
    d->dy = with_dy ? th_alloc(t, sizeof(float) * (size_t)d->n) : NULL;
    d->gamma = th_alloc(t, sizeof(float) * (size_t)d->C);
    d->beta = th_alloc(t, sizeof(float) * (size_t)d->C);
    if (!d->x || !d->gamma || !d->beta || (with_dy && !d->dy))
        return 0;
    /* activations with per-channel means and scales, as a real network's */
    float *cm = th_alloc(t, sizeof(float) * (size_t)d->C), *cs = th_alloc(t, sizeof(float) * (size_t)d->C);
    if (!cm || !cs)
        return 0;
    th_fill(t, cm, d->C, -0.5f, 0.5f);
    th_fill(t, cs, d->C, 0.5f, 1.5f);
    th_fill_normal(t, d->x, d->n, 1.0f);
    for (int64_t i = 0; i < d->n; i++)
        d->x[i] = gc->offset + cm[i % d->C] + cs[i % d->C] * d->x[i];
    th_fill(t, d->gamma, d->C, -1.5f, 1.5f);
    th_fill(t, d->beta, d->C, -1.0f, 1.0f);
    if (with_dy)
        th_fill_normal(t, d->dy, d->n, 1.0f);
    return 1;
}

static const char *gn_name(const gn_case *gc, char *buf, size_t size)
{
    snprintf(buf, size, "[%lld x %lldx%lld x %lld] G=%lld eps=%g%s%s%s", (long long)gc->N, (long long)gc->H,
             (long long)gc->W, (long long)gc->C, (long long)gc->G, gc->eps, gc->silu ? " silu" : "",
             gc->offset != 0 ? " mean=100" : "", gc->accum ? " accum" : "");
    return buf;
}

/* Outputs in f32 meet TH_F32 (measured: a few percent of it) except around a large mean: the
 * mean of values near 100 stored in f32 is off by up to half an ulp (3.8e-6), which moves
 * every normalized output by that times rstd * gamma, about 1e-5. There: TH_F32_LONG. */
static th_tol gn_tol(const gn_case *gc, vkti_dtype dt)
{
    return dt == VKTI_F16 ? TH_F16 : gc->offset != 0 ? TH_F32_LONG : TH_F32;
}

static void gn_forward_case(th *t, const gn_case *gc, vkti_dtype dt)
{
    char name[128];
    if ((gc->big && t->quick) || !th_case(t, "gn fwd %s %s", vkti_dtype_name(dt), gn_name(gc, name, sizeof name)))
        return;
    gn_data d;
    if (!gn_make(t, gc, &d, 0))
        return;
    int64_t shape[3] = {d.N, d.P, d.C}, ng = d.N * d.G, sshape[2] = {d.N, d.G};
    vkti_tensor tx, tg, tb, to, tm, tr, ts;
    if (!th_input(t, &tx, dt, 3, shape, d.x) || !th_input(t, &tg, dt, 1, &d.C, d.gamma) ||
        !th_input(t, &tb, dt, 1, &d.C, d.beta) || !th_output(t, &to, dt, 3, shape) ||
        !th_output(t, &tm, VKTI_F32, 2, sshape) || !th_output(t, &tr, VKTI_F32, 2, sshape))
        return;
    int64_t ns = vkti_group_norm_scratch_numel(&tx, (int)d.G);
    if (!th_output(t, &ts, VKTI_F32, 1, &ns)) /* NaN-poisoned: reading unwritten scratch shows */
        return;
    if (!th_begin(t) ||
        !th_ok(t, vkti_group_norm_forward(t->cmd, &to, &tm, &tr, &ts, &tx, &tg, &tb, (int)d.G, (float)d.eps, d.silu)) ||
        !th_submit(t))
        return;
    double *ref = th_alloc(t, sizeof(double) * (size_t)d.n), *rm = th_alloc(t, sizeof(double) * (size_t)ng),
           *rr = th_alloc(t, sizeof(double) * (size_t)ng);
    double *x = to_double(t, d.x, d.n), *g = to_double(t, d.gamma, d.C), *b = to_double(t, d.beta, d.C);
    if (!ref || !rm || !rr || !x || !g || !b)
        return;
    ref_group_norm_forward(ref, rm, rr, x, g, b, d.N, d.P, d.C, d.G, d.eps, d.silu);
    /* Statistics are f32 whatever the storage (computed from exactly the stored values). The
     * mean is judged against the data's spread, not its own size: an error of 1e-4 spread moves
     * every normalized value by 1e-4 (plus 2e-7 relative: its own f32 rounding). rstd is a
     * long f32 reduction: TH_F32_LONG. */
    th_check(t, &to, ref, gn_tol(gc, dt));
    th_check(t, &tm, rm, (th_tol){2e-7, 1e-4 * spread(d.x, d.n)});
    th_check(t, &tr, rr, TH_F32_LONG);
}

/* The budget of a norm backward. dx = rstd * (dxh - mean(dxh) - xh * mean(dxh * xh)), dxh = gamma * dy:
 * its terms are of size rstd * |gamma * dy| before they cancel, and f32 rounds them, not the result.
 * Where they cancel completely (a group of one element: xh = 0, rstd = 1/sqrt(eps) ~ 316) the result
 * is the rounding of those terms, so the absolute budget is rel times that term scale (when it
 * exceeds the result's RMS, which for every non-degenerate case it does not by much). */
static th_tol bwd_tol(th_tol base, const double *ref, int64_t n, const double *rstd, int64_t nr, const double *gamma,
                      const double *dy, int64_t C)
{
    double rmax = 0, sg = 0, sr = 0;
    for (int64_t i = 0; i < nr; i++)
        rmax = rstd[i] > rmax ? rstd[i] : rmax;
    for (int64_t i = 0; i < n; i++) {
        sg += (gamma[i % C] * dy[i]) * (gamma[i % C] * dy[i]);
        sr += ref[i] * ref[i];
    }
    double terms = rmax * sqrt(sg / (double)(n ? n : 1)), res = sqrt(sr / (double)(n ? n : 1));
    base.abs = base.rel * (terms > res ? terms : res);
    return base;
}

static void gn_backward_case(th *t, const gn_case *gc, vkti_dtype dt)
{
    char name[128];
    if ((gc->big && t->quick) || !th_case(t, "gn bwd %s %s", vkti_dtype_name(dt), gn_name(gc, name, sizeof name)))
        return;
    gn_data d;
    if (!gn_make(t, gc, &d, 1))
        return;
    int64_t shape[3] = {d.N, d.P, d.C}, ng = d.N * d.G, sshape[2] = {d.N, d.G};
    vkti_tensor tx, tdy, tg, tb, tm, tr, tdx, ts;
    if (!th_input(t, &tx, dt, 3, shape, d.x) || !th_input(t, &tdy, dt, 3, shape, d.dy) ||
        !th_input(t, &tg, dt, 1, &d.C, d.gamma) || !th_input(t, &tb, dt, 1, &d.C, d.beta) ||
        !th_output(t, &tdx, dt, 3, shape))
        return;
    double *ref = th_alloc(t, sizeof(double) * (size_t)d.n), *out = th_alloc(t, sizeof(double) * (size_t)d.n);
    double *rm = th_alloc(t, sizeof(double) * (size_t)ng), *rr = th_alloc(t, sizeof(double) * (size_t)ng);
    double *x = to_double(t, d.x, d.n), *dy = to_double(t, d.dy, d.n), *g = to_double(t, d.gamma, d.C),
           *b = to_double(t, d.beta, d.C), *d0 = th_alloc(t, sizeof(double) * (size_t)d.n);
    float *f0 = th_alloc(t, sizeof(float) * (size_t)d.n);
    if (!ref || !out || !rm || !rr || !x || !dy || !g || !b || !d0 || !f0)
        return;
    /* the saved statistics come from the reference forward, rounded to f32 as stored */
    ref_group_norm_forward(out, rm, rr, x, g, b, d.N, d.P, d.C, d.G, d.eps, d.silu);
    float *fm = to_float(t, rm, ng), *fr = to_float(t, rr, ng);
    if (!fm || !fr || !th_input(t, &tm, VKTI_F32, 2, sshape, fm) || !th_input(t, &tr, VKTI_F32, 2, sshape, fr))
        return;
    int64_t ns = vkti_group_norm_scratch_numel(&tx, (int)d.G);
    if (!th_output(t, &ts, VKTI_F32, 1, &ns))
        return;
    if (gc->accum) {
        th_fill(t, f0, d.n, -1, 1);
        if (!preload(t, &tdx, f0, d0, d.n))
            return;
    }
    if (!th_begin(t) ||
        !th_ok(t, vkti_group_norm_backward(t->cmd, &tdx, &ts, &tdy, &tx, &tg, &tb, &tm, &tr, (int)d.G, d.silu,
                                           gc->accum)) ||
        !th_submit(t))
        return;
    ref_group_norm_backward(ref, dy, x, g, b, rm, rr, d.N, d.P, d.C, d.G, d.silu);
    if (gc->accum)
        for (int64_t i = 0; i < d.n; i++)
            ref[i] += d0[i];
    th_check(t, &tdx, ref, bwd_tol(gn_tol(gc, dt), ref, d.n, rr, ng, g, dy, d.C));
}

/* loss = sum(w * group_norm(x)) for the finite-difference check */
typedef struct gn_loss {
    gn_data *d;
    const double *w, *gamma, *beta;
    double *out;
} gn_loss;

static double gn_loss_fn(void *user, const double *x, int64_t n)
{
    gn_loss *l = user;
    ref_group_norm_forward(l->out, NULL, NULL, x, l->gamma, l->beta, l->d->N, l->d->P, l->d->C, l->d->G, l->d->eps,
                           l->d->silu);
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += l->w[i] * l->out[i];
    return s;
}

static void gn_gradcheck(th *t, int silu)
{
    if (!th_case(t, "gn reference backward vs finite differences%s", silu ? " silu" : ""))
        return;
    gn_case gc = {2, 1, 5, 6, 3, 1e-5, silu, 0, 0, 0};
    gn_data d;
    if (!gn_make(t, &gc, &d, 1))
        return;
    double *x = to_double(t, d.x, d.n), *w = to_double(t, d.dy, d.n), *g = to_double(t, d.gamma, d.C),
           *b = to_double(t, d.beta, d.C), *out = th_alloc(t, sizeof(double) * (size_t)d.n),
           *dx = th_alloc(t, sizeof(double) * (size_t)d.n), *rm = th_alloc(t, sizeof(double) * (size_t)(d.N * d.G)),
           *rr = th_alloc(t, sizeof(double) * (size_t)(d.N * d.G));
    if (!x || !w || !g || !b || !out || !dx || !rm || !rr)
        return;
    ref_group_norm_forward(out, rm, rr, x, g, b, d.N, d.P, d.C, d.G, d.eps, d.silu);
    ref_group_norm_backward(dx, w, x, g, b, rm, rr, d.N, d.P, d.C, d.G, d.silu);
    gn_loss l = {&d, w, g, b, out};
    th_gradcheck(t, "group norm dx", gn_loss_fn, &l, x, d.n, dx, (int)d.n, 1e-5, 1e-6);
}

/* ---- layer norm ------------------------------------------------------------------------- */

typedef struct ln_case {
    int64_t R, C;
    float offset;
    int accum, big;
} ln_case;

static int ln_make(th *t, const ln_case *lc, float **x, float **gamma, float **beta, float **dy)
{
    int64_t n = lc->R * lc->C;
    *x = th_alloc(t, sizeof(float) * (size_t)n);
    *dy = th_alloc(t, sizeof(float) * (size_t)n);
    *gamma = th_alloc(t, sizeof(float) * (size_t)lc->C);
    *beta = th_alloc(t, sizeof(float) * (size_t)lc->C);
    if (!*x || !*dy || !*gamma || !*beta)
        return 0;
    th_fill_normal(t, *x, n, 1.0f);
    for (int64_t i = 0; i < n; i++)
        (*x)[i] += lc->offset;
    th_fill_normal(t, *dy, n, 1.0f);
    th_fill(t, *gamma, lc->C, -1.5f, 1.5f);
    th_fill(t, *beta, lc->C, -1.0f, 1.0f);
    return 1;
}

#define LN_EPS 1e-5f

/* as gn_tol: TH_F32, but TH_F32_LONG around a large mean, whose f32 rounding (3.8e-6 at 100)
 * moves the outputs by about 1e-5 */
static th_tol ln_tol(const ln_case *lc, vkti_dtype dt)
{
    return dt == VKTI_F16 ? TH_F16 : lc->offset != 0 ? TH_F32_LONG : TH_F32;
}

static void ln_forward_case(th *t, const ln_case *lc, vkti_dtype dt)
{
    if ((lc->big && t->quick) || !th_case(t, "ln fwd %s [%lld x %lld]%s", vkti_dtype_name(dt), (long long)lc->R,
                                          (long long)lc->C, lc->offset != 0 ? " mean=100" : ""))
        return;
    float *x, *gamma, *beta, *dy;
    if (!ln_make(t, lc, &x, &gamma, &beta, &dy))
        return;
    int64_t n = lc->R * lc->C, shape[2] = {lc->R, lc->C};
    vkti_tensor tx, tg, tb, to, tm, tr;
    if (!th_input(t, &tx, dt, 2, shape, x) || !th_input(t, &tg, dt, 1, &lc->C, gamma) ||
        !th_input(t, &tb, dt, 1, &lc->C, beta) || !th_output(t, &to, dt, 2, shape) ||
        !th_output(t, &tm, VKTI_F32, 1, &lc->R) || !th_output(t, &tr, VKTI_F32, 1, &lc->R))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_layer_norm_forward(t->cmd, &to, &tm, &tr, &tx, &tg, &tb, LN_EPS)) ||
        !th_submit(t))
        return;
    double *ref = th_alloc(t, sizeof(double) * (size_t)n), *rm = th_alloc(t, sizeof(double) * (size_t)lc->R),
           *rr = th_alloc(t, sizeof(double) * (size_t)lc->R);
    double *xd = to_double(t, x, n), *g = to_double(t, gamma, lc->C), *b = to_double(t, beta, lc->C);
    if (!ref || !rm || !rr || !xd || !g || !b)
        return;
    ref_layer_norm_forward(ref, rm, rr, xd, g, b, lc->R, lc->C, LN_EPS);
    /* as for group norm: statistics f32 in both storages, the mean judged against the spread */
    th_check(t, &to, ref, ln_tol(lc, dt));
    th_check(t, &tm, rm, (th_tol){2e-7, 1e-5 * spread(x, n)});
    th_check(t, &tr, rr, TH_F32);
}

static void ln_backward_case(th *t, const ln_case *lc, vkti_dtype dt)
{
    if ((lc->big && t->quick) || !th_case(t, "ln bwd %s [%lld x %lld]%s%s", vkti_dtype_name(dt), (long long)lc->R,
                                          (long long)lc->C, lc->offset != 0 ? " mean=100" : "",
                                          lc->accum ? " accum" : ""))
        return;
    float *x, *gamma, *beta, *dy;
    if (!ln_make(t, lc, &x, &gamma, &beta, &dy))
        return;
    int64_t n = lc->R * lc->C, shape[2] = {lc->R, lc->C};
    vkti_tensor tx, tdy, tg, tm, tr, tdx;
    if (!th_input(t, &tx, dt, 2, shape, x) || !th_input(t, &tdy, dt, 2, shape, dy) ||
        !th_input(t, &tg, dt, 1, &lc->C, gamma) || !th_output(t, &tdx, dt, 2, shape))
        return;
    double *ref = th_alloc(t, sizeof(double) * (size_t)n), *out = th_alloc(t, sizeof(double) * (size_t)n);
    double *rm = th_alloc(t, sizeof(double) * (size_t)lc->R), *rr = th_alloc(t, sizeof(double) * (size_t)lc->R);
    double *xd = to_double(t, x, n), *dyd = to_double(t, dy, n), *g = to_double(t, gamma, lc->C),
           *b = to_double(t, beta, lc->C), *d0 = th_alloc(t, sizeof(double) * (size_t)n);
    float *f0 = th_alloc(t, sizeof(float) * (size_t)n);
    if (!ref || !out || !rm || !rr || !xd || !dyd || !g || !b || !d0 || !f0)
        return;
    ref_layer_norm_forward(out, rm, rr, xd, g, b, lc->R, lc->C, LN_EPS);
    float *fm = to_float(t, rm, lc->R), *fr = to_float(t, rr, lc->R);
    if (!fm || !fr || !th_input(t, &tm, VKTI_F32, 1, &lc->R, fm) || !th_input(t, &tr, VKTI_F32, 1, &lc->R, fr))
        return;
    if (lc->accum) {
        th_fill(t, f0, n, -1, 1);
        if (!preload(t, &tdx, f0, d0, n))
            return;
    }
    if (!th_begin(t) || !th_ok(t, vkti_layer_norm_backward(t->cmd, &tdx, &tdy, &tx, &tg, &tm, &tr, lc->accum)) ||
        !th_submit(t))
        return;
    ref_layer_norm_backward(ref, dyd, xd, g, rm, rr, lc->R, lc->C);
    if (lc->accum)
        for (int64_t i = 0; i < n; i++)
            ref[i] += d0[i];
    th_check(t, &tdx, ref, bwd_tol(ln_tol(lc, dt), ref, n, rr, lc->R, g, dyd, lc->C));
}

typedef struct ln_loss {
    int64_t R, C;
    const double *w, *gamma, *beta;
    double *out;
} ln_loss;

static double ln_loss_fn(void *user, const double *x, int64_t n)
{
    ln_loss *l = user;
    ref_layer_norm_forward(l->out, NULL, NULL, x, l->gamma, l->beta, l->R, l->C, LN_EPS);
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += l->w[i] * l->out[i];
    return s;
}

static void ln_gradcheck(th *t)
{
    if (!th_case(t, "ln reference backward vs finite differences"))
        return;
    ln_case lc = {3, 7, 0, 0, 0};
    float *x, *gamma, *beta, *dy;
    if (!ln_make(t, &lc, &x, &gamma, &beta, &dy))
        return;
    int64_t n = lc.R * lc.C;
    double *xd = to_double(t, x, n), *w = to_double(t, dy, n), *g = to_double(t, gamma, lc.C),
           *b = to_double(t, beta, lc.C), *out = th_alloc(t, sizeof(double) * (size_t)n),
           *dx = th_alloc(t, sizeof(double) * (size_t)n), *rm = th_alloc(t, sizeof(double) * (size_t)lc.R),
           *rr = th_alloc(t, sizeof(double) * (size_t)lc.R);
    if (!xd || !w || !g || !b || !out || !dx || !rm || !rr)
        return;
    ref_layer_norm_forward(out, rm, rr, xd, g, b, lc.R, lc.C, LN_EPS);
    ref_layer_norm_backward(dx, w, xd, g, rm, rr, lc.R, lc.C);
    ln_loss l = {lc.R, lc.C, w, g, b, out};
    th_gradcheck(t, "layer norm dx", ln_loss_fn, &l, xd, n, dx, (int)n, 1e-5, 1e-6);
}

TH_SUITE(norm)
{
    static const gn_case gn_cases[] = {
        {1, 1, 1, 1, 1, 1e-5, 0, 0, 1, 0},         /* dx is 0: accumulate to have something to see */
        {2, 3, 5, 6, 3, 1e-5, 1, 0, 1, 0},
        {3, 7, 9, 130, 13, 1e-6, 0, 0, 0, 0},      /* 10 channels a group, C not a multiple of 64 */
        {2, 1, 67, 96, 32, 1e-5, 1, 0, 0, 0},      /* 3 channels a group */
        {1, 128, 130, 12, 4, 1e-6, 1, 0, 1, 0},    /* 245 chunks of 68 pixels, a short last one */
        {2, 16, 16, 64, 32, 1e-6, 0, 100, 0, 0},   /* large mean */
        {1, 64, 64, 320, 32, 1e-5, 0, 0, 0, 1},    /* UNet, 64x64 */
        {1, 64, 64, 320, 32, 1e-5, 1, 0, 1, 1},
        {1, 64, 64, 320, 32, 1e-6, 0, 0, 0, 1},    /* VAE eps */
        {1, 64, 64, 320, 32, 1e-6, 1, 0, 0, 1},
        {1, 64, 64, 320, 32, 1e-6, 1, 100, 0, 1},  /* large mean at full size */
        {2, 8, 8, 1280, 32, 1e-5, 1, 0, 0, 1},     /* UNet, 8x8 */
    };
    static const ln_case ln_cases[] = {
        {1, 1, 0, 1, 0},         /* dx is 0: accumulate to have something to see */
        {3, 5, 0, 0, 0},
        {7, 130, 0, 0, 0},
        {33, 257, 0, 1, 0},
        {5, 320, 100, 0, 0},     /* large mean */
        {2, 1280, 0, 0, 0},
        {77, 768, 0, 0, 1},      /* CLIP */
        {4096, 320, 0, 1, 1},    /* UNet transformer at 64x64 */
    };
    gn_gradcheck(t, 0);
    gn_gradcheck(t, 1);
    ln_gradcheck(t);
    for (int k = 0; k < 2; k++) {
        vkti_dtype dt = k ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        for (size_t i = 0; i < sizeof gn_cases / sizeof gn_cases[0]; i++) {
            gn_forward_case(t, &gn_cases[i], dt);
            gn_backward_case(t, &gn_cases[i], dt);
        }
        for (size_t i = 0; i < sizeof ln_cases / sizeof ln_cases[0]; i++) {
            ln_forward_case(t, &ln_cases[i], dt);
            ln_backward_case(t, &ln_cases[i], dt);
        }
    }
    if (th_case(t, "gn refuses groups that do not divide C")) {
        int64_t shape[3] = {1, 4, 10}, two = 2;
        vkti_tensor tx, tg, to, tm, ts;
        float host[40] = {0};
        if (!th_input(t, &tx, VKTI_F32, 3, shape, host) || !th_input(t, &tg, VKTI_F32, 1, &shape[2], host) ||
            !th_output(t, &to, VKTI_F32, 3, shape) || !th_output(t, &tm, VKTI_F32, 1, &two) ||
            !th_output(t, &ts, VKTI_F32, 1, &shape[2]) || !th_begin(t))
            return;
        if (vkti_group_norm_forward(t->cmd, &to, &tm, &tm, &ts, &tx, &tg, &tg, 3, 1e-5f, 0) == VKTI_OK)
            th_fail(t, "accepted 3 groups of 10 channels");
        else if (!strstr(t->diag.msg, "groups"))
            th_fail(t, "unclear message: %s", t->diag.msg);
        th_submit(t);
    }
}
