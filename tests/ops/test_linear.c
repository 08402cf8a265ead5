/* test_linear.c — Linear forward (x * W^T + b) and input gradient (dy * W) against the double
 * matmul reference: f32 and f16, with and without bias, accumulation, 3-D activations, odd
 * sizes and the Stable Diffusion / CLIP projection sizes; the gradient formula itself against
 * finite differences. */
#include "harness.h"
#include "ops/linear.h"
#include "ref/ref_linalg.h"

typedef struct lin_case {
    int64_t lead, rows; /* x is [lead, rows, in] (lead 1: [rows, in]) */
    int64_t in, out;
    int bias, accum, big;
} lin_case;

static void lin_run(th *t, const lin_case *lc, vkti_dtype dt, int backward)
{
    if ((lc->big && t->quick) ||
        !th_case(t, "%s %s [%lld x %lld x %lld] -> %lld%s%s", backward ? "bwd" : "fwd", vkti_dtype_name(dt),
                 (long long)lc->lead, (long long)lc->rows, (long long)lc->in, (long long)lc->out,
                 !backward && lc->bias ? " bias" : "", backward && lc->accum ? " accum" : ""))
        return;
    int64_t R = lc->lead * lc->rows, nx = R * lc->in, ny = R * lc->out;
    int nd = lc->lead > 1 ? 3 : 2;
    int64_t sx[3], sy[3], sw[2] = {lc->out, lc->in};
    if (nd == 3) {
        sx[0] = sy[0] = lc->lead, sx[1] = sy[1] = lc->rows, sx[2] = lc->in, sy[2] = lc->out;
    } else {
        sx[0] = sy[0] = lc->rows, sx[1] = lc->in, sy[1] = lc->out;
    }
    float *x = th_alloc(t, sizeof(float) * (size_t)nx), *dy = th_alloc(t, sizeof(float) * (size_t)ny);
    float *w = th_alloc(t, sizeof(float) * (size_t)(lc->out * lc->in)), *b = th_alloc(t, sizeof(float) * (size_t)lc->out);
    float *d0 = th_alloc(t, sizeof(float) * (size_t)nx);
    double *ref = th_alloc(t, sizeof(double) * (size_t)(backward ? nx : ny)), *cin = th_alloc(t, sizeof(double) * (size_t)nx);
    if (!x || !dy || !w || !b || !d0 || !ref || !cin)
        return;
    th_fill(t, x, nx, -1, 1);
    th_fill(t, dy, ny, -1, 1);
    th_fill(t, w, lc->out * lc->in, -1, 1);
    th_fill(t, b, lc->out, -1, 1);
    vkti_tensor tx, tdy, tw, tb, to;
    if (!th_input(t, &tx, dt, nd, sx, x) || !th_input(t, &tdy, dt, nd, sy, dy) || !th_input(t, &tw, dt, 2, sw, w) ||
        !th_input(t, &tb, dt, 1, &lc->out, b) || !th_output(t, &to, dt, nd, backward ? sx : sy))
        return;
    int accum = backward && lc->accum;
    if (accum) {
        th_fill(t, d0, nx, -1, 1);
        if (!th_ok(t, vkti_tensor_upload_f32(t->g, &to, d0, nx)) || !th_ok(t, vkti_tensor_download_f32(t->g, &to, d0, nx)))
            return;
        for (int64_t i = 0; i < nx; i++)
            cin[i] = d0[i];
    }
    if (!th_begin(t))
        return;
    int rc = backward ? vkti_linear_backward(t->cmd, &to, &tdy, &tw, accum)
                      : vkti_linear_forward(t->cmd, &to, &tx, &tw, lc->bias ? &tb : NULL);
    if (!th_ok(t, rc) || !th_submit(t))
        return;
    if (backward) /* dx [R, in] = dy [R, out] * W [out, in] (+ dx) */
        ref_matmul(ref, dy, w, NULL, accum ? cin : NULL, 1, R, lc->in, lc->out, 0, 0, 0, 1.0, 1.0);
    else          /* out [R, out] = x [R, in] * W^T + b */
        ref_matmul(ref, x, w, lc->bias ? b : NULL, NULL, 1, R, lc->out, lc->in, 0, 1, 0, 1.0, 0.0);
    int64_t K = backward ? lc->out : lc->in;
    th_check(t, &to, ref, dt == VKTI_F16 ? TH_F16 : K >= 1000 ? TH_F32_LONG : TH_F32);
}

/* loss = sum(wl * (x W^T + b)) with x in double, for the finite-difference check */
typedef struct lin_loss {
    int64_t R, in, out;
    const float *w, *b, *wl;
} lin_loss;

static double lin_loss_fn(void *user, const double *x, int64_t n)
{
    lin_loss *l = user;
    (void)n;
    double s = 0;
    for (int64_t r = 0; r < l->R; r++)
        for (int64_t o = 0; o < l->out; o++) {
            double y = l->b[o];
            for (int64_t i = 0; i < l->in; i++)
                y += x[r * l->in + i] * l->w[o * l->in + i];
            s += l->wl[r * l->out + o] * y;
        }
    return s;
}

static void lin_gradcheck(th *t)
{
    if (!th_case(t, "reference dx = dy * W vs finite differences"))
        return;
    enum { R = 3, IN = 5, OUT = 4 };
    float w[OUT * IN], b[OUT], wl[R * OUT];
    double x[R * IN], dx[R * IN];
    th_fill(t, w, OUT * IN, -1, 1);
    th_fill(t, b, OUT, -1, 1);
    th_fill(t, wl, R * OUT, -1, 1);
    for (int i = 0; i < R * IN; i++)
        x[i] = 2 * th_uniform(t) - 1;
    ref_matmul(dx, wl, w, NULL, NULL, 1, R, IN, OUT, 0, 0, 0, 1.0, 0.0);
    lin_loss l = {R, IN, OUT, w, b, wl};
    th_gradcheck(t, "linear dx", lin_loss_fn, &l, x, R * IN, dx, R * IN, 1e-5, 1e-6);
}

TH_SUITE(linear)
{
    static const lin_case cases[] = {
        {1, 1, 1, 1, 1, 1, 0},
        {3, 5, 7, 9, 0, 0, 0},          /* 3-D activations, no bias */
        {1, 65, 130, 33, 1, 1, 0},
        {2, 77, 40, 67, 1, 0, 0},
        {1, 4096, 320, 320, 1, 1, 1},   /* UNet attention projection at 64x64 */
        {1, 77, 768, 768, 1, 0, 1},     /* CLIP attention projection */
    };
    lin_gradcheck(t);
    for (int k = 0; k < 2; k++) {
        vkti_dtype dt = k ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            lin_run(t, &cases[i], dt, 0);
            lin_run(t, &cases[i], dt, 1);
        }
    }
    if (th_case(t, "refuses x whose last dimension is not in_features")) {
        int64_t sx[2] = {2, 6}, sw[2] = {3, 5}, so[2] = {2, 3};
        float host[15] = {0};
        vkti_tensor tx, tw, to;
        if (!th_input(t, &tx, VKTI_F32, 2, sx, host) || !th_input(t, &tw, VKTI_F32, 2, sw, host) ||
            !th_output(t, &to, VKTI_F32, 2, so) || !th_begin(t))
            return;
        if (vkti_linear_forward(t->cmd, &to, &tx, &tw, NULL) == VKTI_OK)
            th_fail(t, "accepted x [2, 6] for a weight [3, 5]");
        th_submit(t);
    }
}
