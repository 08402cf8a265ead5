/* test_attention.c — fused attention forward and backward against the double reference
 * (explicit softmax(scale * Q K^T) V and its backward): head dims 40, 64, 80, 160 and odd ones,
 * odd token counts, causal on and off (Nq below, equal to and above Nk), several batches and
 * heads, sharp softmaxes, the Stable Diffusion and CLIP shapes, f32 and f16 storage; and the
 * reference backward against central finite differences of the reference forward. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "ops/attention.h"
#include "ref/ref_attention.h"

typedef struct attn_case {
    int64_t batch, heads, nq, nk, dim;
    int causal;
    double scale; /* 0: 1 / sqrt(dim) */
    int big;      /* SD-sized and slow on lavapipe: skipped with --quick */
} attn_case;

static double case_scale(const attn_case *c) { return c->scale != 0 ? c->scale : 1.0 / sqrt((double)c->dim); }

static double *to_double(th *t, const float *x, int64_t n)
{
    double *y = th_alloc(t, sizeof(double) * (size_t)n);
    for (int64_t i = 0; y && i < n; i++)
        y[i] = x[i];
    return y;
}

/* th_check, naming the tensor when it fails */
static void check(th *t, const char *name, const vkti_tensor *x, const double *ref, th_tol tol)
{
    if (!th_check(t, x, ref, tol))
        th_fail(t, "(the failing tensor above is %s)", name);
}

/* Forward and backward in one recording; every output (and the delta scratch) is checked. */
static void gpu_case(th *t, const attn_case *c, vkti_dtype dt)
{
    if (c->big && t->quick)
        return;
    double scale = case_scale(c);
    if (!th_case(t, "%s B%lld H%lld %lldx%lld D%lld%s scale %.3g", vkti_dtype_name(dt), (long long)c->batch,
                 (long long)c->heads, (long long)c->nq, (long long)c->nk, (long long)c->dim,
                 c->causal ? " causal" : "", scale))
        return;
    int64_t nqe = c->batch * c->nq * c->heads * c->dim, nke = c->batch * c->nk * c->heads * c->dim;
    int64_t rows = c->batch * c->heads * c->nq;
    float *q = th_alloc(t, sizeof(float) * (size_t)nqe), *k = th_alloc(t, sizeof(float) * (size_t)nke);
    float *v = th_alloc(t, sizeof(float) * (size_t)nke), *dout = th_alloc(t, sizeof(float) * (size_t)nqe);
    double *out = th_alloc(t, sizeof(double) * (size_t)nqe), *lse = th_alloc(t, sizeof(double) * (size_t)rows);
    double *dq = th_alloc(t, sizeof(double) * (size_t)nqe), *delta = th_alloc(t, sizeof(double) * (size_t)rows);
    double *dk = th_alloc(t, sizeof(double) * (size_t)nke), *dv = th_alloc(t, sizeof(double) * (size_t)nke);
    if (!q || !k || !v || !dout || !out || !lse || !dq || !delta || !dk || !dv)
        return;
    th_fill_normal(t, q, nqe, 1.0f);
    th_fill_normal(t, k, nke, 1.0f);
    th_fill_normal(t, v, nke, 1.0f);
    th_fill_normal(t, dout, nqe, 1.0f);

    /* q, out, d_out, dq as [B, Nq, H, D]; k, v, dk, dv as [B, Nk, H*D] (both forms are accepted) */
    int64_t sq[4] = {c->batch, c->nq, c->heads, c->dim}, sk[3] = {c->batch, c->nk, c->heads * c->dim};
    int64_t sr[3] = {c->batch, c->heads, c->nq};
    int heads = (int)c->heads;
    int64_t nscratch;
    if (!th_ok(t, vkti_attention_backward_scratch(t->g, c->batch, c->nq, c->nk, heads, c->dim, &nscratch)))
        return;
    /* the scratch is poisoned like an output: every part the backward reads it must write */
    vkti_tensor tq, tk, tv, tdo, tout, tlse, tscratch, tdelta, tdq, tdk, tdv;
    if (!th_input(t, &tq, dt, 4, sq, q) || !th_input(t, &tk, dt, 3, sk, k) || !th_input(t, &tv, dt, 3, sk, v) ||
        !th_input(t, &tdo, dt, 4, sq, dout) || !th_output(t, &tout, dt, 4, sq) ||
        !th_output(t, &tlse, VKTI_F32, 3, sr) || !th_output(t, &tscratch, VKTI_F32, 1, &nscratch) ||
        !th_output(t, &tdq, dt, 4, sq) || !th_output(t, &tdk, dt, 3, sk) || !th_output(t, &tdv, dt, 3, sk) ||
        !th_ok(t, vkti_tensor_view(t->g, &tdelta, &tscratch, 0, 3, sr)))
        return;
    if (!th_begin(t) ||
        !th_ok(t, vkti_attention_forward(t->cmd, &tout, &tlse, &tq, &tk, &tv, heads, (float)scale, c->causal)) ||
        !th_ok(t, vkti_attention_backward(t->cmd, &tdq, &tdk, &tdv, &tscratch, &tdo, &tq, &tk, &tv, &tout, &tlse, heads,
                                          (float)scale, c->causal)) ||
        !th_submit(t))
        return;
    if (t->verbose)
        printf("     scratch %lld elements (%s)\n", (long long)nscratch,
               nscratch > rows ? "dK/dV split over query ranges" : "delta only");

    double *qd = to_double(t, q, nqe), *kd = to_double(t, k, nke), *vd = to_double(t, v, nke);
    double *dod = to_double(t, dout, nqe);
    if (!qd || !kd || !vd || !dod)
        return;
    ref_attn_shape s = {c->batch, c->nq, c->nk, c->heads, c->dim, scale, c->causal};
    ref_attention_forward(out, lse, qd, kd, vd, &s);
    ref_attention_backward(dq, dk, dv, delta, dod, qd, kd, vd, &s);

    /* Sums over thousands of keys or queries take the long-reduction budget. The row statistics
     * are f32 whatever the storage (lse from exactly the stored inputs); delta is computed from
     * the stored out, so it carries out's f16 rounding. */
    int long_sums = c->nq >= 1000 || c->nk >= 1000, f16 = dt == VKTI_F16;
    /* Scores of standard deviation over 8 (unit-variance inputs) reach |s| ~ 50: the fp32
     * rounding of a score (|s| * 6e-8) is a relative error of its probability, ~3e-6, so every
     * output of such a case takes the long-reduction budget in f32. */
    int sharp = scale * sqrt((double)c->dim) > 8;
    th_tol f32 = long_sums || sharp ? TH_F32_LONG : TH_F32, tol = f16 ? TH_F16 : f32;
    /* dq and dk pass through dS = P (dP - delta), a difference of two sums over D channels that
     * cancels most of their size: fp32 rounding of those sums lands at up to ~1e-5 of the
     * result's RMS (rel-rms ~5e-7), so f32 takes the long-reduction budget there. */
    th_tol tol_qk = f16 ? TH_F16 : TH_F32_LONG;
    /* Sharp scores in f16: rows are near one-hot, the dominant key's dS cancels almost
     * entirely, and delta carries the f16 rounding of the stored out (~2^-12 per channel,
     * summed over D) times scale: budget 2e-2 for dq and dk. */
    if (f16 && sharp)
        tol_qk.rel = 2e-2;
    /* One key: the softmax is constant and dq, dk are exactly 0; the GPU returns the rounding of
     * dP - delta, so the budget is relative to those terms' size, scale * sqrt(D). */
    if (c->nk == 1)
        tol_qk.abs = tol_qk.rel * scale * sqrt((double)c->dim);
    check(t, "out", &tout, out, tol);
    check(t, "lse", &tlse, lse, f32);
    check(t, "delta", &tdelta, delta, tol);
    check(t, "dq", &tdq, dq, tol_qk);
    check(t, "dk", &tdk, dk, tol_qk);
    check(t, "dv", &tdv, dv, tol);
}

/* Inference: forward without lse (out alone fills the binding, here an odd number of f16s). */
static void forward_only_case(th *t, vkti_dtype dt)
{
    if (!th_case(t, "%s forward without lse B1 H1 33x20 D17 causal", vkti_dtype_name(dt)))
        return;
    int64_t sq[4] = {1, 33, 1, 17}, sk[4] = {1, 20, 1, 17}, nqe = 33 * 17, nke = 20 * 17;
    float *q = th_alloc(t, sizeof(float) * (size_t)nqe), *k = th_alloc(t, sizeof(float) * (size_t)nke);
    float *v = th_alloc(t, sizeof(float) * (size_t)nke);
    double *out = th_alloc(t, sizeof(double) * (size_t)nqe);
    if (!q || !k || !v || !out)
        return;
    th_fill_normal(t, q, nqe, 1.0f);
    th_fill_normal(t, k, nke, 1.0f);
    th_fill_normal(t, v, nke, 1.0f);
    vkti_tensor tq, tk, tv, tout;
    if (!th_input(t, &tq, dt, 4, sq, q) || !th_input(t, &tk, dt, 4, sk, k) || !th_input(t, &tv, dt, 4, sk, v) ||
        !th_output(t, &tout, dt, 4, sq))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_attention_forward(t->cmd, &tout, NULL, &tq, &tk, &tv, 1, 0.3f, 1)) ||
        !th_submit(t))
        return;
    double *qd = to_double(t, q, nqe), *kd = to_double(t, k, nke), *vd = to_double(t, v, nke);
    if (!qd || !kd || !vd)
        return;
    ref_attn_shape s = {1, 33, 20, 1, 17, (double)0.3f, 1};
    ref_attention_forward(out, NULL, qd, kd, vd, &s);
    th_check(t, &tout, out, dt == VKTI_F16 ? TH_F16 : TH_F32);
}

/* ---- reference backward vs finite differences of the reference forward ------------------- */

typedef struct grad_user {
    ref_attn_shape s;
    const double *q, *k, *v, *w;
    double *out;
    int which; /* 0: x is q, 1: k, 2: v */
} grad_user;

/* loss = sum(w * attention(q, k, v)) with x standing in for the tensor being differentiated */
static double grad_loss(void *user, const double *x, int64_t n)
{
    grad_user *u = user;
    (void)n;
    ref_attention_forward(u->out, NULL, u->which == 0 ? x : u->q, u->which == 1 ? x : u->k, u->which == 2 ? x : u->v,
                          &u->s);
    int64_t no = u->s.batch * u->s.nq * u->s.heads * u->s.dim;
    double sum = 0;
    for (int64_t i = 0; i < no; i++)
        sum += u->w[i] * u->out[i];
    return sum;
}

static void grad_case(th *t, int64_t batch, int64_t heads, int64_t nq, int64_t nk, int64_t dim, int causal)
{
    if (!th_case(t, "gradcheck reference B%lld H%lld %lldx%lld D%lld%s", (long long)batch, (long long)heads,
                 (long long)nq, (long long)nk, (long long)dim, causal ? " causal" : ""))
        return;
    ref_attn_shape s = {batch, nq, nk, heads, dim, 0.7, causal};
    int64_t nqe = batch * nq * heads * dim, nke = batch * nk * heads * dim;
    double *x[3], *grad[3], *w = th_alloc(t, sizeof(double) * (size_t)nqe);
    double *out = th_alloc(t, sizeof(double) * (size_t)nqe);
    for (int i = 0; i < 3; i++) {
        int64_t n = i == 0 ? nqe : nke;
        x[i] = th_alloc(t, sizeof(double) * (size_t)n);
        grad[i] = th_alloc(t, sizeof(double) * (size_t)n);
        if (!x[i] || !grad[i])
            return;
        for (int64_t j = 0; j < n; j++)
            x[i][j] = th_normal(t);
    }
    if (!w || !out)
        return;
    for (int64_t j = 0; j < nqe; j++)
        w[j] = th_normal(t);
    ref_attention_backward(grad[0], grad[1], grad[2], NULL, w, x[0], x[1], x[2], &s);
    static const char *names[3] = {"dq", "dk", "dv"};
    for (int i = 0; i < 3; i++) {
        grad_user u = {s, x[0], x[1], x[2], w, out, i};
        /* central differences in double: truncation ~h^2, cancellation ~1e-16 / h */
        th_gradcheck(t, names[i], grad_loss, &u, x[i], i == 0 ? nqe : nke, grad[i], 1 << 30, 1e-5, 1e-6);
    }
}

TH_SUITE(attention)
{
    grad_case(t, 2, 2, 5, 7, 3, 0);
    grad_case(t, 2, 2, 5, 7, 3, 1);
    grad_case(t, 1, 3, 7, 4, 4, 1); /* causal with more queries than keys */
    grad_case(t, 1, 2, 6, 6, 5, 1);

    static const int64_t dims[] = {40, 64, 80, 160}; /* SD 1.5: 8 heads of 40, 80, 160; CLIP: 12 of 64 */
    static const int64_t tokens[][3] = {
        /* nq, nk, causal */
        {1, 1, 0}, {1, 33, 0}, {33, 77, 0}, {33, 77, 1}, {100, 33, 1}, {100, 100, 1}, {77, 100, 0},
    };
    static const attn_case extra[] = {
        {2, 2, 33, 33, 17, 0, 0, 0},       /* head dim padded to the thread grid */
        {2, 2, 65, 65, 8, 1, 0, 0},
        {1, 2, 100, 100, 64, 0, 0.5, 0},   /* sharp softmax: scores of standard deviation 4 */
        {1, 1, 100, 100, 64, 1, 2.0, 0},   /* near one-hot rows: the running maximum moves */
        {1, 1, 300, 33, 40, 0, 0, 0},      /* few keys, many queries: dK/dV split over query ranges */
        {1, 2, 300, 33, 64, 1, 0, 0},
        {2, 12, 77, 77, 64, 1, 0, 0},      /* CLIP text encoder: 12 heads of 64, causal */
        {1, 8, 4096, 77, 40, 0, 0, 1},     /* SD 1.5 cross-attention at 64x64: 8 heads of 40 */
        {1, 1, 4096, 4096, 40, 0, 0, 1},   /* SD 1.5 self-attention at 64x64, one head of 40 */
    };
    for (int d = 0; d < 2; d++) {
        vkti_dtype dt = d ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
            for (size_t j = 0; j < sizeof tokens / sizeof tokens[0]; j++) {
                attn_case c = {2, 3, tokens[j][0], tokens[j][1], dims[i], (int)tokens[j][2], 0, 0};
                gpu_case(t, &c, dt);
            }
        forward_only_case(t, dt);
        for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
            gpu_case(t, &extra[i], dt);
    }
}
