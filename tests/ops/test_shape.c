/* test_shape.c — the shape ops (src/ops/shape.h) against double references: nearest 2x
 * upsample, channel concat and its split backward (with accumulation), per-sample broadcast
 * add, the timestep embedding, the token-embedding lookup with learned rows and its
 * scatter-add backward, and the position-embedding add through vkti_add_forward. Every
 * backward reference is checked against central differences of its forward reference, every
 * GPU result against the references; f32 and f16 storage; odd sizes and the SD sizes. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "ops/elementwise.h"
#include "ops/shape.h"
#include "ref/ref_shape.h"

/* copies are exact: the output must hold the input's bits (a zero budget would read 0/0 as a
 * failure in the harness, so the absolute budget is a denormal's worth) */
#define EXACT ((th_tol){0, 1e-30})

static double *dalloc(th *t, int64_t n) { return th_alloc(t, sizeof(double) * (size_t)(n > 0 ? n : 1)); }
static float *falloc(th *t, int64_t n) { return th_alloc(t, sizeof(float) * (size_t)(n > 0 ? n : 1)); }

static double *to_double(th *t, const float *x, int64_t n)
{
    double *d = dalloc(t, n);
    for (int64_t i = 0; d && i < n; i++)
        d[i] = x[i];
    return d;
}

/* random device input of n values in [-1, 1]; host gets the values the device holds */
static float *rand_input(th *t, vkti_tensor *out, vkti_dtype dt, int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    float *h = falloc(t, n);
    if (!h)
        return NULL;
    th_fill(t, h, n, -1, 1);
    return th_input(t, out, dt, ndim, shape, h) ? h : NULL;
}

static int input_i32(th *t, vkti_tensor *out, int ndim, const int64_t *shape, const int32_t *host)
{
    if (!th_ok(t, vkti_arena_tensor(t->arena, out, VKTI_I32, ndim, shape)))
        return 0;
    return th_ok(t, vkti_tensor_upload(t->g, out, host, (size_t)vkti_tensor_numel(out) * sizeof(int32_t)));
}

static th_tol sum_tol(vkti_dtype dt, int64_t terms)
{
    return dt == VKTI_F16 ? TH_F16 : terms >= 1000 ? TH_F32_LONG : TH_F32;
}

/* ---- gradient checks of linear references: loss = sum(w * forward(x)) ------------------ */

typedef void (*fwd_fn)(const void *ctx, double *out, const double *x);
typedef struct lin_loss {
    fwd_fn f;
    const void *ctx;
    const double *w;
    double *tmp;
    int64_t nout;
} lin_loss;

static double lin_loss_eval(void *user, const double *x, int64_t n)
{
    (void)n;
    lin_loss *l = user;
    l->f(l->ctx, l->tmp, x);
    double s = 0;
    for (int64_t i = 0; i < l->nout; i++)
        s += l->w[i] * l->tmp[i];
    return s;
}

/* The analytic gradient (the backward reference applied to dy = w) against finite
 * differences. The functions are linear, so differences are exact up to rounding. */
static void gradcheck_linear(th *t, const char *what, fwd_fn f, const void *ctx, double *x, int64_t nin,
                             int64_t nout, const double *w, const double *analytic)
{
    lin_loss l = {f, ctx, w, dalloc(t, nout), nout};
    if (l.tmp)
        th_gradcheck(t, what, lin_loss_eval, &l, x, nin, analytic, 300, 1e-2, 1e-7);
}

/* ---- upsample ------------------------------------------------------------------------- */

typedef struct up_dims { int64_t N, H, W, C; } up_dims;

static void up_fwd(const void *ctx, double *out, const double *x)
{
    const up_dims *d = ctx;
    ref_upsample2x(out, x, d->N, d->H, d->W, d->C);
}

static void upsample_case(th *t, vkti_dtype dt, up_dims d, int big)
{
    if (big && t->quick)
        return;
    if (!th_case(t, "upsample2x %s [%lld,%lld,%lld,%lld]", vkti_dtype_name(dt), (long long)d.N, (long long)d.H,
                 (long long)d.W, (long long)d.C))
        return;
    int64_t ns = d.N * d.H * d.W * d.C, nb = 4 * ns;
    int64_t ss[4] = {d.N, d.H, d.W, d.C}, bs[4] = {d.N, 2 * d.H, 2 * d.W, d.C};
    vkti_tensor tx, ty, tdy, tdx;
    float *x = rand_input(t, &tx, dt, 4, ss), *dy = rand_input(t, &tdy, dt, 4, bs);
    double *ref = dalloc(t, nb), *refdx = dalloc(t, ns), *xd = x ? to_double(t, x, ns) : NULL;
    double *dyd = dy ? to_double(t, dy, nb) : NULL;
    if (!x || !dy || !ref || !refdx || !xd || !dyd || !th_output(t, &ty, dt, 4, bs) || !th_output(t, &tdx, dt, 4, ss))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_upsample2x_forward(t->cmd, &ty, &tx)) ||
        !th_ok(t, vkti_upsample2x_backward(t->cmd, &tdx, &tdy)) || !th_submit(t))
        return;
    ref_upsample2x(ref, xd, d.N, d.H, d.W, d.C);
    ref_upsample2x_backward(refdx, dyd, d.N, d.H, d.W, d.C);
    th_check(t, &ty, ref, EXACT);
    th_check(t, &tdx, refdx, sum_tol(dt, 4));
    if (!big)
        gradcheck_linear(t, "upsample2x backward", up_fwd, &d, xd, ns, nb, dyd, refdx);
}

/* ---- concat --------------------------------------------------------------------------- */

typedef struct cat_dims { int64_t rows, Ca, Cb; } cat_dims;

static void cat_fwd(const void *ctx, double *out, const double *ab)
{
    const cat_dims *d = ctx;
    ref_concat(out, ab, ab + d->rows * d->Ca, d->rows, d->Ca, d->Cb);
}

/* accumulate: 0 overwrite; 1 da and db add to what they hold; 2 db only, da absent */
static void concat_case(th *t, vkti_dtype dt, int64_t N, int64_t P, int64_t Ca, int64_t Cb, int accumulate, int big)
{
    if (big && t->quick)
        return;
    static const char *const modes[] = {"", " accumulate", " db only, accumulate"};
    if (!th_case(t, "concat %s [%lld,%lld,%lld+%lld]%s", vkti_dtype_name(dt), (long long)N, (long long)P,
                 (long long)Ca, (long long)Cb, modes[accumulate]))
        return;
    int64_t rows = N * P, na = rows * Ca, nb = rows * Cb, no = rows * (Ca + Cb);
    int64_t sa[3] = {N, P, Ca}, sb[3] = {N, P, Cb}, so[3] = {N, P, Ca + Cb};
    vkti_tensor ta, tb, tout, tdout, tda, tdb;
    float *a = rand_input(t, &ta, dt, 3, sa), *b = rand_input(t, &tb, dt, 3, sb);
    float *dout = rand_input(t, &tdout, dt, 3, so);
    double *ab = dalloc(t, na + nb), *ref = dalloc(t, no), *rda = dalloc(t, na), *rdb = dalloc(t, nb);
    double *doutd = dout ? to_double(t, dout, no) : NULL;
    if (!a || !b || !dout || !ab || !ref || !rda || !rdb || !doutd || !th_output(t, &tout, dt, 3, so) ||
        !th_output(t, &tda, dt, 3, sa) || !th_output(t, &tdb, dt, 3, sb))
        return;
    for (int64_t i = 0; i < na; i++)
        ab[i] = a[i];
    for (int64_t i = 0; i < nb; i++)
        ab[na + i] = b[i];
    ref_concat(ref, ab, ab + na, rows, Ca, Cb);
    ref_concat_backward(rda, rdb, doutd, rows, Ca, Cb);
    if (accumulate) { /* the gradients hold earlier contributions */
        float *pa = falloc(t, na), *pb = falloc(t, nb);
        if (!pa || !pb)
            return;
        th_fill(t, pa, na, -1, 1);
        th_fill(t, pb, nb, -1, 1);
        if (!th_ok(t, vkti_tensor_upload_f32(t->g, &tda, pa, na)) || !th_ok(t, vkti_tensor_upload_f32(t->g, &tdb, pb, nb)) ||
            !th_ok(t, vkti_tensor_download_f32(t->g, &tda, pa, na)) || !th_ok(t, vkti_tensor_download_f32(t->g, &tdb, pb, nb)))
            return;
        for (int64_t i = 0; i < na; i++)
            rda[i] = accumulate == 2 ? pa[i] : rda[i] + pa[i];
        for (int64_t i = 0; i < nb; i++)
            rdb[i] += pb[i];
    }
    if (!th_begin(t) || !th_ok(t, vkti_concat_forward(t->cmd, &tout, &ta, &tb)) ||
        !th_ok(t, vkti_concat_backward(t->cmd, accumulate == 2 ? NULL : &tda, &tdb, &tdout, accumulate != 0,
                                       accumulate != 0)) ||
        !th_submit(t))
        return;
    th_check(t, &tout, ref, EXACT);
    th_tol tol = accumulate ? sum_tol(dt, 2) : EXACT;
    th_check(t, &tda, rda, accumulate == 2 ? EXACT : tol); /* untouched when absent */
    th_check(t, &tdb, rdb, tol);
    if (!big && !accumulate) {
        double *grad = dalloc(t, na + nb);
        if (!grad)
            return;
        memcpy(grad, rda, sizeof(double) * (size_t)na);
        memcpy(grad + na, rdb, sizeof(double) * (size_t)nb);
        cat_dims d = {rows, Ca, Cb};
        gradcheck_linear(t, "concat backward", cat_fwd, &d, ab, na + nb, no, doutd, grad);
    }
}

/* ---- broadcast add --------------------------------------------------------------------- */

typedef struct bc_dims { int64_t N, P, C; const double *x; } bc_dims;

static void bc_fwd_b(const void *ctx, double *out, const double *b)
{
    const bc_dims *d = ctx;
    ref_bcast_add(out, d->x, b, d->N, d->P, d->C);
}

static void bcast_case(th *t, vkti_dtype dt, int64_t N, int64_t H, int64_t W, int64_t C, int big)
{
    if (big && t->quick)
        return;
    if (!th_case(t, "bcast_add %s [%lld,%lld,%lld,%lld] + [%lld,%lld]", vkti_dtype_name(dt), (long long)N,
                 (long long)H, (long long)W, (long long)C, (long long)N, (long long)C))
        return;
    int64_t P = H * W, n = N * P * C;
    int64_t sx[4] = {N, H, W, C}, sbias[2] = {N, C};
    vkti_tensor tx, tb, tdy, tout, tdb;
    float *x = rand_input(t, &tx, dt, 4, sx), *b = rand_input(t, &tb, dt, 2, sbias), *dy = rand_input(t, &tdy, dt, 4, sx);
    double *ref = dalloc(t, n), *refdb = dalloc(t, N * C);
    double *xd = x ? to_double(t, x, n) : NULL, *bd = b ? to_double(t, b, N * C) : NULL;
    double *dyd = dy ? to_double(t, dy, n) : NULL;
    if (!ref || !refdb || !xd || !bd || !dyd || !th_output(t, &tout, dt, 4, sx) || !th_output(t, &tdb, VKTI_F32, 2, sbias))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_bcast_add_forward(t->cmd, &tout, &tx, &tb)) ||
        !th_ok(t, vkti_bcast_add_backward_b(t->cmd, &tdb, &tdy)) || !th_submit(t))
        return;
    ref_bcast_add(ref, xd, bd, N, P, C);
    ref_bcast_add_backward_b(refdb, dyd, N, P, C);
    /* one rounding from exact: judge each element by itself */
    th_check(t, &tout, ref, dt == VKTI_F16 ? (th_tol){1e-3, 1e-4} : (th_tol){1e-6, 1e-7});
    th_check(t, &tdb, refdb, P >= 1000 ? TH_F32_LONG : TH_F32); /* f32 sums of the (rounded) dy */
    if (!big) {
        bc_dims d = {N, P, C, xd};
        gradcheck_linear(t, "bcast_add backward (b)", bc_fwd_b, &d, bd, N * C, n, dyd, refdb);
    }
}

/* ---- timestep embedding ------------------------------------------------------------------ */

static void temb_case(th *t, vkti_dtype dt, int64_t N, int64_t dim, int t_i32, const vkti_temb_params *p,
                      double tmax)
{
    vkti_temb_params sd = {1, 0.0f, 10000.0f, 1.0f}, q = p ? *p : sd;
    if (!th_case(t, "timestep_embed %s N=%lld dim=%lld t %s <= %g flip %d shift %g period %g scale %g",
                 vkti_dtype_name(dt), (long long)N, (long long)dim, t_i32 ? "i32" : "f32", tmax, q.flip_sin_to_cos,
                 (double)q.shift, (double)q.max_period, (double)q.scale))
        return;
    int32_t *ti = th_alloc(t, sizeof(int32_t) * (size_t)N);
    float *tf = falloc(t, N);
    double *td = dalloc(t, N), *ref = dalloc(t, N * dim);
    if (!ti || !tf || !td || !ref)
        return;
    for (int64_t i = 0; i < N; i++) {
        /* the first and last timesteps are the range's ends */
        double v = i == 0 ? 0.0 : i == N - 1 ? tmax : th_uniform(t) * tmax;
        ti[i] = (int32_t)v;
        tf[i] = (float)(t_i32 ? (double)ti[i] : v);
        td[i] = t_i32 ? (double)ti[i] : (double)tf[i];
    }
    vkti_tensor tt, to;
    int64_t so[2] = {N, dim};
    int ok = t_i32 ? input_i32(t, &tt, 1, &N, ti) : th_input(t, &tt, VKTI_F32, 1, &N, tf);
    if (!ok || !th_output(t, &to, dt, 2, so))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_timestep_embed_forward(t->cmd, &to, &tt, p)) || !th_submit(t))
        return;
    ref_timestep_embed(ref, td, N, dim, q.flip_sin_to_cos, q.shift, q.max_period, q.scale);
    /* f32: the argument a = t * w_j is an f32 value, so any f32 implementation (PyTorch's
     * included) carries a rounding of up to ulp(a)/2 from the product plus about one ulp from
     * w_j; sin and cos pass it on. Budget: 2 ulp of the largest argument, plus 1e-6 for the
     * few-ulp error of sin/cos themselves. */
    double amax = tmax * (q.scale != 0.0f ? q.scale : 1.0), ulp = amax >= 1 ? ldexp(1.0, ilogb(amax) - 23) : 0x1p-24;
    th_check(t, &to, ref, dt == VKTI_F16 ? TH_F16 : (th_tol){0, 2 * ulp + 1e-6});
}

/* The embedding also measures the accuracy of precise_math.glsl directly, two ways:
 * - dim 2, scale 1: out = [sin t, cos t] of the f32 value t itself (w_0 = exp(0) = 1), so
 *   sin and cos are judged at exact arguments, |t| up to 12000;
 * - t = 1, dim 2 * half: out = [sin w_j, cos w_j] with w_j = exp(x_j), x_j = f32(j * coef)
 *   computed as the GPU does; sin w ~ w for small w, so exp is judged relative to w. */
static void temb_precision_case(th *t, int exp_mode)
{
    if (!th_case(t, "timestep_embed f32 precision: %s", exp_mode ? "exp(x), x in [-9.2, 0]" : "sin/cos of exact f32 arguments"))
        return;
    int64_t N = exp_mode ? 1 : 4096, dim = exp_mode ? 1000 : 2, half = dim / 2, so[2] = {N, dim};
    float *tf = falloc(t, N);
    double *ref = dalloc(t, N * dim);
    if (!tf || !ref)
        return;
    for (int64_t i = 0; i < N; i++) {
        /* spread over the range, some near multiples of pi/4 (the reduction's boundaries) */
        double u = th_uniform(t);
        tf[i] = exp_mode ? 1.0f : i % 4 == 0 ? (float)((double)(i / 4 - 512) * 0.78539816339744831)
                                  : (float)((2 * u - 1) * (i % 4 == 1 ? 12000.0 : i % 4 == 2 ? 10.0 : 1.0));
    }
    vkti_tensor tt, to;
    if (!th_input(t, &tt, VKTI_F32, 1, &N, tf) || !th_output(t, &to, VKTI_F32, 2, so))
        return;
    vkti_temb_params p = {0, 0.0f, 10000.0f, 1.0f};
    if (!th_begin(t) || !th_ok(t, vkti_timestep_embed_forward(t->cmd, &to, &tt, &p)) || !th_submit(t))
        return;
    float coef = (float)(-log(10000.0) / (double)half); /* as shape.c computes it */
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < half; j++) {
            float x = (float)j * coef; /* an f32 product, as on the GPU */
            double a = exp_mode ? exp((double)x) : (double)tf[n];
            ref[n * dim + j] = sin(a);
            ref[n * dim + half + j] = cos(a);
        }
    /* sin/cos: 2.5 ulp of 1 absolute; exp: 4 ulp relative (sin w ~ w; cos w near 1) */
    th_check(t, &to, ref, exp_mode ? (th_tol){4.8e-7, 1e-12} : (th_tol){0, 1.5e-7});
}

/* ---- token embedding ----------------------------------------------------------------------- */

typedef struct emb_dims { const int32_t *ids; const float *table; int64_t rows, V, E, D; } emb_dims;

static void emb_fwd_extra(const void *ctx, double *out, const double *extra)
{
    const emb_dims *d = ctx;
    ref_embed(out, d->ids, d->table, extra, d->rows, d->V, d->E, d->D);
}

static void embed_case(th *t, vkti_dtype dt, int64_t B, int64_t T, int64_t V, int64_t E, int64_t D, int accumulate,
                       int big)
{
    if (big && t->quick)
        return;
    if (!th_case(t, "embed %s ids [%lld,%lld] table [%lld,%lld] + %lld learned%s", vkti_dtype_name(dt), (long long)B,
                 (long long)T, (long long)V, (long long)D, (long long)E, accumulate ? " accumulate" : ""))
        return;
    int64_t rows = B * T, st[2] = {V, D}, se[2] = {E, D}, so[3] = {B, T, D}, sids[2] = {B, T};
    int32_t *ids = th_alloc(t, sizeof(int32_t) * (size_t)rows);
    if (!ids)
        return;
    /* a prompt: start token, words, the learned tokens twice, end token, padding; one id past
     * the learned rows and one negative id must give zero rows */
    for (int64_t r = 0; r < rows; r++) {
        int64_t tpos = r % T;
        ids[r] = (int32_t)(th_u64(t) % (uint64_t)V);
        if (tpos == 1 || tpos == 4)
            ids[r] = (int32_t)(V + (int64_t)(th_u64(t) % (uint64_t)E));
        if (tpos == 2 && r / T == 0)
            ids[r] = (int32_t)(V + E);
        if (tpos == 3 && r / T == 0)
            ids[r] = -1;
    }
    vkti_tensor tids, ttable, textra, tout, tdout, tdx;
    float *table = falloc(t, V * D), *extra = falloc(t, E * D), *dout;
    if (!table || !extra)
        return;
    th_fill(t, table, V * D, -1, 1);
    th_fill(t, extra, E * D, -1, 1);
    if (!input_i32(t, &tids, 2, sids, ids) || !th_input(t, &ttable, dt, 2, st, table) ||
        !th_input(t, &textra, VKTI_F32, 2, se, extra) || !(dout = rand_input(t, &tdout, dt, 3, so)) ||
        !th_output(t, &tout, dt, 3, so) || !th_output(t, &tdx, VKTI_F32, 2, se))
        return;
    double *extrad = to_double(t, extra, E * D), *doutd = to_double(t, dout, rows * D);
    double *ref = dalloc(t, rows * D), *refdx = dalloc(t, E * D);
    if (!extrad || !doutd || !ref || !refdx)
        return;
    ref_embed(ref, ids, table, extrad, rows, V, E, D);
    ref_embed_backward(refdx, ids, doutd, rows, V, E, D);
    if (accumulate) {
        float *prior = falloc(t, E * D);
        if (!prior)
            return;
        th_fill(t, prior, E * D, -1, 1);
        if (!th_ok(t, vkti_tensor_upload_f32(t->g, &tdx, prior, E * D)))
            return;
        for (int64_t i = 0; i < E * D; i++)
            refdx[i] += prior[i];
    }
    if (!th_begin(t) || !th_ok(t, vkti_embed_forward(t->cmd, &tout, &tids, &ttable, &textra)) ||
        !th_ok(t, vkti_embed_backward(t->cmd, &tdx, &tids, &tdout, V, accumulate)) || !th_submit(t))
        return;
    /* table rows are copied; learned rows are f32 rounded once to the output's dtype */
    th_check(t, &tout, ref, dt == VKTI_F16 ? (th_tol){1e-3, 1e-30} : EXACT);
    th_check(t, &tdx, refdx, TH_F32);
    if (!big && !accumulate) {
        emb_dims d = {ids, table, rows, V, E, D};
        gradcheck_linear(t, "embed backward (learned rows)", emb_fwd_extra, &d, extrad, E * D, rows * D, doutd, refdx);
    }
}

/* ---- position embedding: x [B, T, D] + pos [T, D] is vkti_add_forward ---------------------- */

static void posadd_case(th *t, vkti_dtype dt, int64_t B, int64_t T, int64_t D)
{
    if (!th_case(t, "position add (vkti_add_forward) %s [%lld,%lld,%lld] + [%lld,%lld]", vkti_dtype_name(dt),
                 (long long)B, (long long)T, (long long)D, (long long)T, (long long)D))
        return;
    int64_t sx[3] = {B, T, D}, sp[2] = {T, D}, n = B * T * D;
    vkti_tensor tx, tp, to;
    float *x = rand_input(t, &tx, dt, 3, sx), *pos = rand_input(t, &tp, dt, 2, sp);
    double *ref = dalloc(t, n);
    if (!x || !pos || !ref || !th_output(t, &to, dt, 3, sx))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_add_forward(t->cmd, &to, &tx, &tp)) || !th_submit(t))
        return;
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < T * D; i++)
            ref[b * T * D + i] = (double)x[b * T * D + i] + (double)pos[i];
    th_check(t, &to, ref, dt == VKTI_F16 ? (th_tol){1e-3, 1e-4} : (th_tol){1e-6, 1e-7});
}

TH_SUITE(shape)
{
    for (int k = 0; k < 2; k++) {
        vkti_dtype dt = k ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        upsample_case(t, dt, (up_dims){1, 1, 1, 1}, 0);
        upsample_case(t, dt, (up_dims){2, 3, 5, 7}, 0);
        upsample_case(t, dt, (up_dims){1, 4, 3, 67}, 0);
        upsample_case(t, dt, (up_dims){1, 32, 32, 640}, 1);

        concat_case(t, dt, 1, 1, 1, 1, 0, 0);
        concat_case(t, dt, 2, 15, 3, 5, 0, 0);
        concat_case(t, dt, 2, 15, 3, 5, 1, 0);
        concat_case(t, dt, 1, 9, 70, 65, 2, 0);
        concat_case(t, dt, 1, 4096, 320, 320, 0, 1);
        concat_case(t, dt, 1, 4096, 320, 320, 1, 1);

        bcast_case(t, dt, 1, 1, 1, 1, 0);
        bcast_case(t, dt, 3, 7, 5, 33, 0);
        bcast_case(t, dt, 4, 64, 64, 320, 1);

        temb_case(t, dt, 4, 320, 1, NULL, 999); /* SD: i32 timesteps 0..999 */
        temb_case(t, dt, 4, 320, 0, NULL, 999);
        temb_case(t, dt, 3, 320, 0, NULL, 10);
        temb_case(t, dt, 1, 2, 1, NULL, 999);
        temb_case(t, dt, 5, 7, 0, &(vkti_temb_params){0, 1.0f, 100.0f, 2.0f}, 300);
        temb_case(t, dt, 2, 1280, 1, NULL, 999);
        if (dt == VKTI_F32) {
            temb_precision_case(t, 0);
            temb_precision_case(t, 1);
        }

        embed_case(t, dt, 2, 7, 50, 3, 13, 0, 0);
        embed_case(t, dt, 2, 7, 50, 3, 13, 1, 0);
        embed_case(t, dt, 1, 2, 1, 1, 1, 0, 0);
        embed_case(t, dt, 2, 77, 49408, 2, 768, 0, 1); /* SD: CLIP vocabulary, 2 learned vectors */

        posadd_case(t, dt, 2, 77, 768);
        posadd_case(t, dt, 3, 5, 7);
    }
}
