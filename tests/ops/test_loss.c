/* test_loss.c — the MSE loss (plain, per-sample weights, per-pixel mask, both) and its
 * gradient with a device-side loss scale, and the gradient norm, against double references;
 * the gradient reference against central differences of the loss reference; f32 and f16
 * storage; sizes from one element to several million (the two-stage reduction's 1024-partial
 * cap) and SD's latent batch [4, 64x64, 4]. */
#include <math.h>

#include "harness.h"
#include "ops/loss.h"
#include "ref/ref_loss.h"

#define LOSS_SCALE_INDEX 8 /* where the scale sits in the scale tensor, as in the optimizer's */

static double *dalloc(th *t, int64_t n) { return th_alloc(t, sizeof(double) * (size_t)(n > 0 ? n : 1)); }
static float *falloc(th *t, int64_t n) { return th_alloc(t, sizeof(float) * (size_t)(n > 0 ? n : 1)); }

static double *to_double(th *t, const float *x, int64_t n)
{
    double *d = dalloc(t, n);
    for (int64_t i = 0; d && i < n; i++)
        d[i] = x[i];
    return d;
}

typedef struct mse_ctx { const double *target, *w, *mask; int64_t N, P, C; } mse_ctx;

static double mse_loss(void *user, const double *pred, int64_t n)
{
    (void)n;
    const mse_ctx *m = user;
    return ref_mse(pred, m->target, m->w, m->mask, m->N, m->P, m->C);
}

static void mse_case(th *t, vkti_dtype dt, int64_t N, int64_t H, int64_t W, int64_t C, int use_w, int use_mask, int big)
{
    if (big && t->quick)
        return;
    if (!th_case(t, "mse %s [%lld,%lld,%lld,%lld]%s%s", vkti_dtype_name(dt), (long long)N, (long long)H, (long long)W,
                 (long long)C, use_w ? " weights" : "", use_mask ? " mask" : ""))
        return;
    int64_t P = H * W, n = N * P * C, shape[4] = {N, H, W, C}, smask[2] = {N, P}, one = 1, sixteen = 16;
    int64_t nscratch = vkti_loss_scratch_elems(n);
    float *pred = falloc(t, n), *target = falloc(t, n), *w = falloc(t, N), *mask = falloc(t, N * P);
    float *scale = falloc(t, 16);
    if (!pred || !target || !w || !mask || !scale)
        return;
    th_fill_normal(t, pred, n, 1.0f);
    th_fill_normal(t, target, n, 1.0f);
    th_fill(t, w, N, 0.1f, 5.0f); /* min-SNR-5 weights lie in (0, 5] */
    for (int64_t i = 0; i < N * P; i++) { /* an alpha mask: a third 0, a third 1, the rest between */
        double u = th_uniform(t);
        mask[i] = u < 1.0 / 3 ? 0.0f : u < 2.0 / 3 ? 1.0f : (float)th_uniform(t);
    }
    th_fill(t, scale, 16, 0.5f, 2.0f);
    scale[LOSS_SCALE_INDEX] = 1024.0f;
    vkti_tensor tp, tt, tw, tm, ts, tloss, tscratch, td, td1;
    if (!th_input(t, &tp, dt, 4, shape, pred) || !th_input(t, &tt, dt, 4, shape, target) ||
        !th_input(t, &tw, VKTI_F32, 1, &N, w) || !th_input(t, &tm, VKTI_F32, 2, smask, mask) ||
        !th_input(t, &ts, VKTI_F32, 1, &sixteen, scale) || !th_output(t, &tloss, VKTI_F32, 1, &one) ||
        !th_output(t, &tscratch, VKTI_F32, 1, &nscratch) || !th_output(t, &td, dt, 4, shape) ||
        !th_output(t, &td1, dt, 4, shape))
        return;
    const vkti_tensor *pw = use_w ? &tw : NULL, *pm = use_mask ? &tm : NULL;
    if (!th_begin(t) || !th_ok(t, vkti_mse_forward(t->cmd, &tloss, &tscratch, &tp, &tt, pw, pm)) ||
        !th_ok(t, vkti_mse_backward(t->cmd, &td, &tp, &tt, pw, pm, &ts, LOSS_SCALE_INDEX)) ||
        !th_ok(t, vkti_mse_backward(t->cmd, &td1, &tp, &tt, pw, pm, NULL, 0)) || !th_submit(t))
        return;
    double *pd = to_double(t, pred, n), *tdd = to_double(t, target, n), *wd = to_double(t, w, N);
    double *md = to_double(t, mask, N * P), *ref = dalloc(t, n), *ref1 = dalloc(t, n);
    if (!pd || !tdd || !wd || !md || !ref || !ref1)
        return;
    mse_ctx m = {tdd, use_w ? wd : NULL, use_mask ? md : NULL, N, P, C};
    double loss = mse_loss(&m, pd, n);
    th_check(t, &tloss, &loss, n >= 1000 ? TH_F32_LONG : TH_F32);
    ref_mse_backward(ref, pd, tdd, m.w, m.mask, N, P, C, 1024.0);
    ref_mse_backward(ref1, pd, tdd, m.w, m.mask, N, P, C, 1.0);
    th_check(t, &td, ref, dt == VKTI_F16 ? TH_F16 : TH_F32);
    /* Without a loss scale an f16 gradient 2 (pred - target) / count falls under f16's
     * smallest subnormal (2^-24) once count passes a few million, which is what the loss
     * scale is for: the unscaled f16 gradient is judged only up to 2^18 elements. */
    if (dt == VKTI_F32 || n <= (1 << 18))
        th_check(t, &td1, ref1, dt == VKTI_F16 ? TH_F16 : TH_F32);
    if (!big) /* the loss is quadratic: central differences are exact up to rounding */
        th_gradcheck(t, "mse backward", mse_loss, &m, pd, n, ref1, 300, 1e-3, 1e-7);
}

static void norm_case(th *t, int64_t n, float stddev)
{
    if (!th_case(t, "grad_norm f32 n=%lld sd %g", (long long)n, (double)stddev))
        return;
    int64_t one = 1, nscratch = vkti_loss_scratch_elems(n);
    float *g = falloc(t, n);
    if (!g)
        return;
    th_fill_normal(t, g, n, stddev);
    vkti_tensor tg, tnorm, tscratch;
    if (!th_input(t, &tg, VKTI_F32, 1, &n, g) || !th_output(t, &tnorm, VKTI_F32, 1, &one) ||
        !th_output(t, &tscratch, VKTI_F32, 1, &nscratch))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_grad_norm_forward(t->cmd, &tnorm, &tscratch, &tg)) || !th_submit(t))
        return;
    double *gd = to_double(t, g, n);
    if (!gd)
        return;
    double ref = ref_l2_norm(gd, n);
    th_check(t, &tnorm, &ref, n >= 1000 ? TH_F32_LONG : TH_F32);
}

TH_SUITE(loss)
{
    for (int k = 0; k < 2; k++) {
        vkti_dtype dt = k ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        mse_case(t, dt, 1, 1, 1, 1, 0, 0, 0);
        mse_case(t, dt, 3, 5, 7, 3, 0, 0, 0);
        mse_case(t, dt, 3, 5, 7, 3, 1, 0, 0);
        mse_case(t, dt, 3, 5, 7, 3, 0, 1, 0);
        mse_case(t, dt, 2, 13, 11, 4, 1, 1, 0);
        mse_case(t, dt, 4, 64, 64, 4, 1, 1, 0);   /* SD latents, batch 4 */
        mse_case(t, dt, 4, 64, 64, 4, 0, 0, 0);
        mse_case(t, dt, 5, 300, 300, 4, 1, 1, 1); /* 1.8M elements: 440 partial sums */
        mse_case(t, dt, 2, 768, 768, 4, 0, 1, 1); /* 4.7M: the 1024-partial cap */
    }
    norm_case(t, 1, 1.0f);
    norm_case(t, 1536, 1e-3f);  /* two learned 768-wide rows */
    norm_case(t, 77 * 768, 5.0f);
    norm_case(t, 3000017, 1.0f);
}
