/* test_conv2d.c — conv2d forward and input-gradient backward against the double references
 * (tests/ref/ref_conv.c): every kernel/stride/padding the SD networks use, odd sizes, few and many
 * channels, batches, both bias shapes, residual, accumulation, f32 and f16 storage, the SD sizes
 * (f16 cases with channels in multiples of 8 take the tensor-core kernel where the device has one);
 * the reference backward against finite differences of the reference forward; and the OIHW
 * weight relayout. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ops/conv2d.h"
#include "ref/ref_conv.h"

typedef struct conv_case {
    const char *what;
    int64_t N, H, W, Cin, Cout;
    int kh, kw, stride, pt, pb, pl, pr;
    int bias;      /* 0 none, 1 [Cout], 2 [N, Cout] */
    int residual;  /* forward adds a residual */
    int accum;     /* backward accumulates into d_in */
    int big;       /* SD-sized: skipped with --quick */
} conv_case;

static ref_conv_dims dims_of(const conv_case *c)
{
    return (ref_conv_dims){c->N, c->H, c->W, c->Cin, c->Cout, c->kh, c->kw, c->stride, c->pt, c->pb, c->pl, c->pr};
}

static vkti_conv2d_params params_of(const conv_case *c)
{
    return (vkti_conv2d_params){c->kh, c->kw, c->stride, c->pt, c->pb, c->pl, c->pr};
}

static double *to_double(th *t, const float *x, int64_t n)
{
    double *d = th_alloc(t, sizeof(double) * (size_t)n);
    for (int64_t i = 0; d && i < n; i++)
        d[i] = x[i];
    return d;
}

static float *random_floats(th *t, int64_t n, float scale)
{
    float *x = th_alloc(t, sizeof(float) * (size_t)n);
    if (x)
        th_fill(t, x, n, -scale, scale);
    return x;
}

/* f32 budget: long reductions (K in the thousands) get TH_F32_LONG */
static th_tol tolerance(vkti_dtype dt, int64_t K)
{
    return dt == VKTI_F16 ? TH_F16 : K >= 1000 ? TH_F32_LONG : TH_F32;
}

static const char *case_label(const conv_case *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s %lldx%lldx%lldx%lld->%lld k%dx%d s%d p(%d,%d,%d,%d)", c->what, (long long)c->N,
             (long long)c->H, (long long)c->W, (long long)c->Cin, (long long)c->Cout, c->kh, c->kw, c->stride, c->pt,
             c->pb, c->pl, c->pr);
    return buf;
}

static void run_forward(th *t, const conv_case *c, vkti_dtype dt)
{
    char label[160];
    if ((c->big && t->quick) ||
        !th_case(t, "fwd %s %s%s%s", vkti_dtype_name(dt), case_label(c, label, sizeof label),
                 c->bias == 1 ? " bias" : c->bias == 2 ? " bias[N,C]" : "", c->residual ? " residual" : ""))
        return;
    ref_conv_dims d = dims_of(c);
    int64_t Ho = ref_conv_out_size(c->H, c->kh, c->stride, c->pt, c->pb);
    int64_t Wo = ref_conv_out_size(c->W, c->kw, c->stride, c->pl, c->pr);
    int64_t K = c->kh * c->kw * c->Cin;
    int64_t nin = c->N * c->H * c->W * c->Cin, nw = c->Cout * K, nout = c->N * Ho * Wo * c->Cout;
    int64_t nbias = c->bias == 2 ? c->N * c->Cout : c->Cout;
    /* weights ~ 1/sqrt(K) as trained layers have: outputs stay O(1), which f16 can hold */
    float *x = random_floats(t, nin, 1.0f), *w = random_floats(t, nw, 1.7f / sqrtf((float)K));
    float *b = random_floats(t, nbias, 1.0f), *r = random_floats(t, nout, 1.0f);
    double *ref = th_alloc(t, sizeof(double) * (size_t)nout);
    if (!x || !w || !b || !r || !ref)
        return;
    int64_t xs[4] = {c->N, c->H, c->W, c->Cin}, ws[4] = {c->Cout, c->kh, c->kw, c->Cin};
    int64_t os[4] = {c->N, Ho, Wo, c->Cout}, bs[2] = {c->N, c->Cout};
    vkti_tensor tx, tw, tb, tr, to;
    if (!th_input(t, &tx, dt, 4, xs, x) || !th_input(t, &tw, dt, 4, ws, w) ||
        !th_input(t, &tb, dt, c->bias == 2 ? 2 : 1, c->bias == 2 ? bs : &bs[1], b) ||
        !th_input(t, &tr, dt, 4, os, r) || !th_output(t, &to, dt, 4, os))
        return;
    vkti_conv2d_params p = params_of(c);
    if (!th_begin(t) ||
        !th_ok(t, vkti_conv2d_forward(t->cmd, &to, &tx, &tw, c->bias ? &tb : NULL, c->residual ? &tr : NULL, &p)) ||
        !th_submit(t))
        return;
    double *xd = to_double(t, x, nin), *wd = to_double(t, w, nw), *bd = to_double(t, b, nbias), *rd = to_double(t, r, nout);
    if (!xd || !wd || !bd || !rd)
        return;
    ref_conv2d_forward(ref, xd, wd, c->bias ? bd : NULL, c->bias == 2, c->residual ? rd : NULL, &d);
    th_check(t, &to, ref, tolerance(dt, K));
}

static void run_backward(th *t, const conv_case *c, vkti_dtype dt)
{
    char label[160];
    if ((c->big && t->quick) ||
        !th_case(t, "bwd %s %s%s", vkti_dtype_name(dt), case_label(c, label, sizeof label), c->accum ? " accumulate" : ""))
        return;
    ref_conv_dims d = dims_of(c);
    int64_t Ho = ref_conv_out_size(c->H, c->kh, c->stride, c->pt, c->pb);
    int64_t Wo = ref_conv_out_size(c->W, c->kw, c->stride, c->pl, c->pr);
    int64_t K = c->kh * c->kw * c->Cin;
    int64_t nin = c->N * c->H * c->W * c->Cin, nw = c->Cout * K, nout = c->N * Ho * Wo * c->Cout;
    float *dy = random_floats(t, nout, 1.0f), *w = random_floats(t, nw, 1.7f / sqrtf((float)K));
    float *dx0 = random_floats(t, nin, 1.0f);
    double *ref = th_alloc(t, sizeof(double) * (size_t)nin);
    if (!dy || !w || !dx0 || !ref)
        return;
    int64_t xs[4] = {c->N, c->H, c->W, c->Cin}, ws[4] = {c->Cout, c->kh, c->kw, c->Cin};
    int64_t os[4] = {c->N, Ho, Wo, c->Cout};
    vkti_tensor tdy, tw, tdx;
    if (!th_input(t, &tdy, dt, 4, os, dy) || !th_input(t, &tw, dt, 4, ws, w) || !th_output(t, &tdx, dt, 4, xs))
        return;
    if (c->accum && /* d_in holds dx0 (as the device stores it) before the gradient is added */
        (!th_ok(t, vkti_tensor_upload_f32(t->g, &tdx, dx0, nin)) || !th_ok(t, vkti_tensor_download_f32(t->g, &tdx, dx0, nin))))
        return;
    vkti_conv2d_params p = params_of(c);
    if (!th_begin(t) || !th_ok(t, vkti_conv2d_backward(t->cmd, &tdx, &tdy, &tw, &p, c->accum)) || !th_submit(t))
        return;
    double *dyd = to_double(t, dy, nout), *wd = to_double(t, w, nw);
    if (!dyd || !wd)
        return;
    ref_conv2d_backward(ref, dyd, wd, &d);
    if (c->accum)
        for (int64_t i = 0; i < nin; i++)
            ref[i] += dx0[i];
    /* the backward's reduction runs over the taps that reach a pixel times Cout */
    th_check(t, &tdx, ref, tolerance(dt, (int64_t)c->kh * c->kw * c->Cout));
}

static int64_t forward_macs(const conv_case *c)
{
    return c->N * ref_conv_out_size(c->H, c->kh, c->stride, c->pt, c->pb) *
           ref_conv_out_size(c->W, c->kw, c->stride, c->pl, c->pr) * c->Cout * c->kh * c->kw * c->Cin;
}

/* loss(x) = sum(wgt * forward(x)) for the finite-difference check */
typedef struct fd_ctx {
    const ref_conv_dims *d;
    const double *w, *wgt;
    double *out;
    int64_t nout;
} fd_ctx;

static double fd_loss(void *user, const double *x, int64_t n)
{
    (void)n;
    fd_ctx *f = user;
    ref_conv2d_forward(f->out, x, f->w, NULL, 0, NULL, f->d);
    double s = 0;
    for (int64_t i = 0; i < f->nout; i++)
        s += f->wgt[i] * f->out[i];
    return s;
}

/* the reference backward is the adjoint of the reference forward */
static void run_gradcheck(th *t, const conv_case *c)
{
    char label[160];
    if (!th_case(t, "gradcheck %s", case_label(c, label, sizeof label)))
        return;
    ref_conv_dims d = dims_of(c);
    int64_t Ho = ref_conv_out_size(c->H, c->kh, c->stride, c->pt, c->pb);
    int64_t Wo = ref_conv_out_size(c->W, c->kw, c->stride, c->pl, c->pr);
    int64_t nin = c->N * c->H * c->W * c->Cin, nw = c->Cout * c->kh * c->kw * c->Cin, nout = c->N * Ho * Wo * c->Cout;
    double *x = th_alloc(t, sizeof(double) * (size_t)nin), *w = th_alloc(t, sizeof(double) * (size_t)nw);
    double *wgt = th_alloc(t, sizeof(double) * (size_t)nout), *out = th_alloc(t, sizeof(double) * (size_t)nout);
    double *grad = th_alloc(t, sizeof(double) * (size_t)nin);
    if (!x || !w || !wgt || !out || !grad)
        return;
    for (int64_t i = 0; i < nin; i++)
        x[i] = th_normal(t);
    for (int64_t i = 0; i < nw; i++)
        w[i] = th_normal(t);
    for (int64_t i = 0; i < nout; i++)
        wgt[i] = th_normal(t);
    ref_conv2d_backward(grad, wgt, w, &d);
    fd_ctx f = {&d, w, wgt, out, nout};
    /* the loss is linear in x, so central differences are exact but for rounding (~1e-13 here) */
    th_gradcheck(t, "reference backward", fd_loss, &f, x, nin, grad, 300, 1e-2, 1e-7);
}

/* vkti_conv2d_weight_from_oihw moves w[o][i][y][x] to w[o][y][x][i] */
static void run_weight_layout(th *t)
{
    if (!th_case(t, "weight OIHW -> OHWI 3x5x3x2"))
        return;
    enum { CO = 3, CI = 5, KH = 3, KW = 2, NW = CO * CI * KH * KW };
    float src[NW], dst[NW];
    for (int i = 0; i < NW; i++)
        src[i] = (float)i;
    memset(dst, 0, sizeof dst);
    vkti_conv2d_weight_from_oihw(dst, src, CO, CI, KH, KW);
    for (int o = 0; o < CO; o++)
        for (int y = 0; y < KH; y++)
            for (int x = 0; x < KW; x++)
                for (int i = 0; i < CI; i++) {
                    float want = (float)(((o * CI + i) * KH + y) * KW + x);
                    float got = dst[((o * KH + y) * KW + x) * CI + i];
                    if (got != want) {
                        th_fail(t, "OHWI [%d][%d][%d][%d] is %g, expected OIHW element %g", o, y, x, i, (double)got,
                                (double)want);
                        return;
                    }
                }
}

/* wrong shapes are refused with a message, before anything is recorded */
static void run_rejects(th *t)
{
    if (!th_case(t, "rejects mismatched shapes"))
        return;
    int64_t xs[4] = {1, 6, 6, 8}, w7s[4] = {4, 3, 3, 7}, w8s[4] = {4, 3, 3, 8}, os[4] = {1, 6, 6, 4};
    int64_t bad_os[4] = {1, 5, 6, 4};
    float *x = random_floats(t, 288, 1), *w7 = random_floats(t, 252, 1), *w8 = random_floats(t, 288, 1);
    vkti_tensor tx, tw7, tw8, to, tbad;
    if (!x || !w7 || !w8 || !th_input(t, &tx, VKTI_F32, 4, xs, x) || !th_input(t, &tw7, VKTI_F32, 4, w7s, w7) ||
        !th_input(t, &tw8, VKTI_F32, 4, w8s, w8) || !th_output(t, &to, VKTI_F32, 4, os) ||
        !th_output(t, &tbad, VKTI_F32, 4, bad_os) || !th_begin(t))
        return;
    vkti_conv2d_params p = {3, 3, 1, 1, 1, 1, 1};
    if (vkti_conv2d_forward(t->cmd, &to, &tx, &tw7, NULL, NULL, &p) == VKTI_OK)
        th_fail(t, "forward accepted a weight of 7 input channels for an input of 8");
    if (vkti_conv2d_backward(t->cmd, &tx, &tbad, &tw8, &p, 0) == VKTI_OK)
        th_fail(t, "backward accepted d_out [1,5,6,4] for d_in [1,6,6,8]");
    else if (!strstr(t->diag.msg, "d_out"))
        th_fail(t, "the message does not name d_out: %s", t->diag.msg);
    if (vkti_cmd_dispatch_count(t->cmd) != 0)
        th_fail(t, "a refused call recorded a dispatch");
    th_submit(t);
}

TH_SUITE(conv2d)
{
    /* what, N H W Cin Cout, kh kw s, pads (top bottom left right), bias residual accum big */
    static const conv_case cases[] = {
        {"3x3", 2, 7, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        {"3x3 odd tiles", 1, 9, 11, 37, 70, 3, 3, 1, 1, 1, 1, 1, 2, 1, 1, 0},
        {"3x3 big tiles", 2, 24, 23, 48, 130, 3, 3, 1, 1, 1, 1, 1, 2, 1, 0, 0},
        {"3x3 s2 (UNet down)", 2, 9, 8, 19, 33, 3, 3, 2, 1, 1, 1, 1, 2, 0, 1, 0},
        {"3x3 s2 (VAE down)", 1, 10, 9, 20, 17, 3, 3, 2, 0, 1, 0, 1, 2, 1, 0, 0},
        {"3x3 s2 (VAE down) odd", 2, 11, 7, 9, 24, 3, 3, 2, 0, 1, 0, 1, 0, 0, 1, 0},
        {"1x1", 2, 5, 7, 24, 40, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0},
        {"1x1 s2", 1, 7, 6, 8, 16, 1, 1, 2, 0, 0, 0, 0, 0, 0, 1, 0},
        {"Cin 3 (VAE conv_in)", 1, 13, 11, 3, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        {"Cout 4 (UNet conv_out)", 2, 9, 7, 40, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0},
        {"Cout 3 (VAE conv_out)", 1, 8, 9, 21, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        /* channels in multiples of 8, as the tensor-core path needs: several row and column tiles,
         * a K slice half filled (40 = 32 + 8), both strides, every epilogue term */
        {"3x3 c8", 2, 11, 13, 40, 136, 3, 3, 1, 1, 1, 1, 1, 2, 1, 1, 0},
        {"3x3 s2 c8", 2, 13, 10, 24, 48, 3, 3, 2, 1, 1, 1, 1, 1, 0, 1, 0},
        {"3x3 s2 (VAE down) c8", 1, 12, 11, 16, 32, 3, 3, 2, 0, 1, 0, 1, 2, 1, 0, 0},
        /* not in SD: non-square kernels and unequal pads catch a swapped axis */
        {"3x2 s2 uneven pads", 2, 8, 9, 6, 10, 3, 2, 2, 2, 0, 1, 1, 1, 0, 1, 0},
        {"2x5 s3 uneven pads", 1, 11, 10, 5, 7, 2, 5, 3, 1, 0, 0, 2, 0, 1, 0, 0},
        {"1 pixel", 1, 1, 1, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        /* Stable Diffusion sizes */
        {"VAE conv_in", 1, 64, 64, 3, 128, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        {"VAE down 128", 1, 64, 64, 128, 128, 3, 3, 2, 0, 1, 0, 1, 1, 0, 0, 0},
        {"UNet conv_in", 1, 64, 64, 4, 320, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        {"UNet conv_out", 1, 64, 64, 320, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0},
        {"UNet 320", 1, 64, 64, 320, 320, 3, 3, 1, 1, 1, 1, 1, 2, 1, 0, 1},
        {"UNet down 320", 1, 64, 64, 320, 320, 3, 3, 2, 1, 1, 1, 1, 1, 0, 0, 1},
        {"UNet 1280", 1, 8, 8, 1280, 1280, 3, 3, 1, 1, 1, 1, 1, 2, 1, 1, 1},
        {"UNet skip 1x1 640->320", 1, 32, 32, 640, 320, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1},
    };
    const int ncases = (int)(sizeof cases / sizeof cases[0]);
    run_weight_layout(t);
    run_rejects(t);
    for (int i = 0; i < ncases; i++) /* every small case whose forward is cheap enough to repeat 600 times */
        if (forward_macs(&cases[i]) <= 300000)
            run_gradcheck(t, &cases[i]);
    for (int dt = 0; dt < 2; dt++) {
        if (dt == 1 && !t->allow_f16)
            continue;
        for (int i = 0; i < ncases; i++) {
            run_forward(t, &cases[i], dt ? VKTI_F16 : VKTI_F32);
            run_backward(t, &cases[i], dt ? VKTI_F16 : VKTI_F32);
        }
    }
}
