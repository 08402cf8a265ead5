/* test_activation.c — SiLU (backward), exact GELU, quick_gelu and GEGLU, forward and backward,
 * against the double references of ref_activation.c: the references' derivatives against
 * finite differences, then the GPU in f32 and f16 at odd sizes, at the Stable Diffusion / CLIP
 * sizes, and over a dense sweep of [-10, 10] that shows the GLSL erfc's accuracy. */
#include <math.h>

#include "harness.h"
#include "ops/activation.h"
#include "ref/ref_activation.h"

static const char *const NAMES[] = {"silu", "gelu", "quick_gelu"};
static const vkti_act ACTS[] = {VKTI_ACT_SILU, VKTI_ACT_GELU, VKTI_ACT_QUICK_GELU};

/* Forward results are a few roundings from exact, so each element is judged by itself: f32
 * 1e-6 relative + 1e-7 absolute (the erfc fit is good to 1.1e-7 relative; the absolute part
 * covers outputs near a zero of f). Backward results are products dy * f'(x) (GEGLU: dy * h *
 * gelu'(g)) where f' crosses zero: the error follows the size of the factors, not of the
 * product, so f32 backward takes TH_F32 (1e-5 of the RMS). f16: one rounding of the storage,
 * 1e-3 relative + 1e-4 absolute, as the elementwise tests. */
static th_tol act_tol(vkti_dtype dt, int backward)
{
    return dt == VKTI_F16 ? (th_tol){1e-3, 1e-4} : backward ? TH_F32 : (th_tol){1e-6, 1e-7};
}

static double *to_double(th *t, const float *x, int64_t n)
{
    double *d = th_alloc(t, sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; d && i < n; i++)
        d[i] = x[i];
    return d;
}

/* the output tensor holds random values before a backward that accumulates into it */
static int preload(th *t, const vkti_tensor *out, int64_t n, double *as_double)
{
    float *h = th_alloc(t, sizeof(float) * (size_t)n);
    if (!h)
        return 0;
    th_fill(t, h, n, -1, 1);
    if (!th_ok(t, vkti_tensor_upload_f32(t->g, out, h, n)) || !th_ok(t, vkti_tensor_download_f32(t->g, out, h, n)))
        return 0;
    for (int64_t i = 0; i < n; i++)
        as_double[i] = h[i];
    return 1;
}

/* ---- pointwise ---------------------------------------------------------------------------- */

typedef struct pw_case {
    int act;          /* index into ACTS */
    int64_t rows, cols;
    int sweep;        /* x evenly spaced over [-10, 10] instead of random in [-8, 8] */
    int accum, big;
    int grid;         /* only forward f32: the indexing is shared, the case is large */
} pw_case;

static void pw_run(th *t, const pw_case *pc, vkti_dtype dt, int backward)
{
    if ((pc->big && t->quick) ||
        !th_case(t, "%s %s %s [%lld x %lld]%s%s", NAMES[pc->act], backward ? "bwd" : "fwd", vkti_dtype_name(dt),
                 (long long)pc->rows, (long long)pc->cols, pc->sweep ? " sweep" : "",
                 backward && pc->accum ? " accum" : ""))
        return;
    int64_t n = pc->rows * pc->cols, shape[2] = {pc->rows, pc->cols};
    float *x = th_alloc(t, sizeof(float) * (size_t)n), *dy = th_alloc(t, sizeof(float) * (size_t)n);
    double *ref = th_alloc(t, sizeof(double) * (size_t)n);
    if (!x || !dy || !ref)
        return;
    if (pc->sweep)
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)(-10.0 + 20.0 * (double)i / (double)(n > 1 ? n - 1 : 1));
    else
        th_fill(t, x, n, -8, 8);
    th_fill_normal(t, dy, n, 1.0f);
    vkti_tensor tx, tdy, to;
    if (!th_input(t, &tx, dt, 2, shape, x) || !th_input(t, &tdy, dt, 2, shape, dy) || !th_output(t, &to, dt, 2, shape))
        return;
    int accum = backward && pc->accum;
    if (accum && !preload(t, &to, n, ref))
        return;
    if (!th_begin(t))
        return;
    int rc = backward ? vkti_act_backward(t->cmd, &to, &tdy, &tx, ACTS[pc->act], accum)
                      : vkti_act_forward(t->cmd, &to, &tx, ACTS[pc->act]);
    if (!th_ok(t, rc) || !th_submit(t))
        return;
    for (int64_t i = 0; i < n; i++) {
        double v = backward ? dy[i] * ref_act_grad((ref_act_kind)pc->act, x[i]) : ref_act((ref_act_kind)pc->act, x[i]);
        ref[i] = accum ? ref[i] + v : v;
    }
    th_check(t, &to, ref, act_tol(dt, backward));
}

typedef struct pw_loss {
    ref_act_kind kind;
    const double *w;
} pw_loss;

static double pw_loss_fn(void *user, const double *x, int64_t n)
{
    pw_loss *l = user;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += l->w[i] * ref_act(l->kind, x[i]);
    return s;
}

static void pw_gradcheck(th *t, int act)
{
    if (!th_case(t, "%s reference derivative vs finite differences", NAMES[act]))
        return;
    enum { N = 64 };
    double x[N], w[N], dx[N];
    for (int i = 0; i < N; i++) {
        x[i] = -8.0 + 16.0 * th_uniform(t);
        w[i] = th_normal(t);
        dx[i] = w[i] * ref_act_grad((ref_act_kind)act, x[i]);
    }
    pw_loss l = {(ref_act_kind)act, w};
    th_gradcheck(t, NAMES[act], pw_loss_fn, &l, x, N, dx, N, 1e-5, 1e-6);
}

/* ---- GEGLU -------------------------------------------------------------------------------- */

typedef struct geglu_case {
    int64_t rows, F;
    int accum, big;
} geglu_case;

static void geglu_run(th *t, const geglu_case *gc, vkti_dtype dt, int backward)
{
    if ((gc->big && t->quick) || !th_case(t, "geglu %s %s [%lld x 2*%lld]%s", backward ? "bwd" : "fwd",
                                          vkti_dtype_name(dt), (long long)gc->rows, (long long)gc->F,
                                          backward && gc->accum ? " accum" : ""))
        return;
    int64_t nx = gc->rows * 2 * gc->F, ny = gc->rows * gc->F;
    int64_t sx[2] = {gc->rows, 2 * gc->F}, sy[2] = {gc->rows, gc->F};
    float *x = th_alloc(t, sizeof(float) * (size_t)nx), *dy = th_alloc(t, sizeof(float) * (size_t)ny);
    double *ref = th_alloc(t, sizeof(double) * (size_t)nx), *d0 = th_alloc(t, sizeof(double) * (size_t)nx);
    if (!x || !dy || !ref || !d0)
        return;
    th_fill(t, x, nx, -5, 5);
    th_fill_normal(t, dy, ny, 1.0f);
    vkti_tensor tx, tdy, to;
    if (!th_input(t, &tx, dt, 2, sx, x) || !th_input(t, &tdy, dt, 2, sy, dy) ||
        !th_output(t, &to, dt, 2, backward ? sx : sy))
        return;
    int accum = backward && gc->accum;
    if (accum && !preload(t, &to, nx, d0))
        return;
    if (!th_begin(t))
        return;
    int rc = backward ? vkti_geglu_backward(t->cmd, &to, &tdy, &tx, accum) : vkti_geglu_forward(t->cmd, &to, &tx);
    if (!th_ok(t, rc) || !th_submit(t))
        return;
    double *xd = to_double(t, x, nx), *dyd = to_double(t, dy, ny);
    if (!xd || !dyd)
        return;
    if (backward) {
        ref_geglu_backward(ref, dyd, xd, gc->rows, gc->F);
        for (int64_t i = 0; accum && i < nx; i++)
            ref[i] += d0[i];
    } else {
        ref_geglu_forward(ref, xd, gc->rows, gc->F);
    }
    th_check(t, &to, ref, act_tol(dt, backward));
}

typedef struct geglu_loss {
    int64_t rows, F;
    const double *w;
    double *out;
} geglu_loss;

static double geglu_loss_fn(void *user, const double *x, int64_t n)
{
    geglu_loss *l = user;
    (void)n;
    ref_geglu_forward(l->out, x, l->rows, l->F);
    double s = 0;
    for (int64_t i = 0; i < l->rows * l->F; i++)
        s += l->w[i] * l->out[i];
    return s;
}

static void geglu_gradcheck(th *t)
{
    if (!th_case(t, "geglu reference backward vs finite differences"))
        return;
    enum { ROWS = 3, F = 5 };
    double x[ROWS * 2 * F], w[ROWS * F], out[ROWS * F], dx[ROWS * 2 * F];
    for (int i = 0; i < ROWS * 2 * F; i++)
        x[i] = -4.0 + 8.0 * th_uniform(t);
    for (int i = 0; i < ROWS * F; i++)
        w[i] = th_normal(t);
    ref_geglu_backward(dx, w, x, ROWS, F);
    geglu_loss l = {ROWS, F, w, out};
    th_gradcheck(t, "geglu dx", geglu_loss_fn, &l, x, ROWS * 2 * F, dx, ROWS * 2 * F, 1e-5, 1e-6);
}

TH_SUITE(activation)
{
    enum { SILU, GELU, QGELU };
    static const pw_case pw_cases[] = {
        {SILU, 1, 1, 0, 1, 0, 0},
        {GELU, 1, 1, 0, 0, 0, 0},
        {QGELU, 1, 1, 0, 0, 0, 0},
        {SILU, 7, 143, 0, 0, 0, 0},
        {GELU, 7, 143, 0, 1, 0, 0},
        {QGELU, 7, 143, 0, 1, 0, 0},
        {GELU, 1, 20001, 1, 0, 0, 0},            /* erfc accuracy over [-10, 10] */
        {SILU, 1, 20001, 1, 0, 0, 0},
        {QGELU, 1, 20001, 1, 0, 0, 0},
        {QGELU, 77, 3072, 0, 0, 1, 0},           /* CLIP MLP */
        {GELU, 77, 5120, 0, 1, 1, 0},            /* OpenCLIP ViT-H MLP (SD 2.x) */
        {SILU, 64 * 64, 320, 0, 1, 1, 0},        /* UNet resnet activation at 64x64 */
        {GELU, 65536, 257, 0, 0, 1, 1},          /* more workgroups than one grid row holds */
    };
    static const geglu_case geglu_cases[] = {
        {1, 1, 0, 0},
        {7, 3, 1, 0},
        {33, 300, 0, 0},
        {5, 257, 1, 0},
        {4096, 1280, 1, 1},                   /* UNet feed-forward at 64x64: [4096, 2*1280] */
        {77, 5120, 0, 1},                     /* 1280-wide block's feed-forward over 77 rows */
    };
    pw_gradcheck(t, SILU);
    pw_gradcheck(t, GELU);
    pw_gradcheck(t, QGELU);
    geglu_gradcheck(t);
    for (int k = 0; k < 2; k++) {
        vkti_dtype dt = k ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        for (size_t i = 0; i < sizeof pw_cases / sizeof pw_cases[0]; i++) {
            if (pw_cases[i].grid && dt != VKTI_F32)
                continue;
            if (pw_cases[i].act != SILU) /* SiLU forward is elementwise's */
                pw_run(t, &pw_cases[i], dt, 0);
            if (!pw_cases[i].grid)
                pw_run(t, &pw_cases[i], dt, 1);
        }
        for (size_t i = 0; i < sizeof geglu_cases / sizeof geglu_cases[0]; i++) {
            geglu_run(t, &geglu_cases[i], dt, 0);
            geglu_run(t, &geglu_cases[i], dt, 1);
        }
    }
    if (th_case(t, "geglu refuses an odd last dimension")) {
        int64_t sx[2] = {2, 5}, sy[2] = {2, 2};
        float host[10] = {0};
        vkti_tensor tx, to;
        if (!th_input(t, &tx, VKTI_F32, 2, sx, host) || !th_output(t, &to, VKTI_F32, 2, sy) || !th_begin(t))
            return;
        if (vkti_geglu_forward(t->cmd, &to, &tx) == VKTI_OK)
            th_fail(t, "accepted x [2, 5]");
        th_submit(t);
    }
}
