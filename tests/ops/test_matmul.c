/* test_matmul.c — matmul against the double reference: f32 and f16 storage, transposes, bias,
 * accumulation, batching with shared or per-batch B, sizes off every tile boundary, and the
 * Stable Diffusion shapes the networks use. */
#include <stdlib.h>

#include "harness.h"
#include "ops/matmul.h"
#include "ref/ref_linalg.h"

typedef struct mm_case {
    int64_t batch, M, N, K;
    int ta, tb, bias, accum, b_batched;
    int big; /* SD-sized: skipped with --quick */
} mm_case;

static void run_case(th *t, const mm_case *c, vkti_dtype dt)
{
    if (c->big && t->quick)
        return;
    if (!th_case(t, "%s %lldx[%lldx%lldx%lld]%s%s%s%s%s", vkti_dtype_name(dt), (long long)c->batch, (long long)c->M,
                 (long long)c->N, (long long)c->K, c->ta ? " tA" : "", c->tb ? " tB" : "", c->bias ? " bias" : "",
                 c->accum ? " accum" : "", c->batch > 1 ? (c->b_batched ? " B-batched" : " B-shared") : ""))
        return;
    int64_t bb = c->b_batched ? c->batch : 1;
    int64_t na = c->batch * c->M * c->K, nb = bb * c->K * c->N, nc = c->batch * c->M * c->N;
    float *a = th_alloc(t, sizeof(float) * (size_t)na), *b = th_alloc(t, sizeof(float) * (size_t)nb);
    float *bias = th_alloc(t, sizeof(float) * (size_t)c->N), *c0 = th_alloc(t, sizeof(float) * (size_t)nc);
    double *ref = th_alloc(t, sizeof(double) * (size_t)nc), *cin = th_alloc(t, sizeof(double) * (size_t)nc);
    if (!a || !b || !bias || !c0 || !ref || !cin)
        return;
    th_fill(t, a, na, -1, 1);
    th_fill(t, b, nb, -1, 1);
    th_fill(t, bias, c->N, -1, 1);
    th_fill(t, c0, nc, -1, 1);
    vkti_tensor ta, tb, tbias, tc;
    int64_t sa[3] = {c->batch, c->ta ? c->K : c->M, c->ta ? c->M : c->K};
    int64_t sb[3] = {bb, c->tb ? c->N : c->K, c->tb ? c->K : c->N};
    int64_t sc[3] = {c->batch, c->M, c->N};
    if (!th_input(t, &ta, dt, 3, sa, a) || !th_input(t, &tb, dt, 3, sb, b) ||
        !th_input(t, &tbias, dt, 1, &c->N, bias) || !th_output(t, &tc, dt, 3, sc))
        return;
    if (c->accum) { /* the output holds c0 before the product is added */
        if (!th_ok(t, vkti_tensor_upload_f32(t->g, &tc, c0, nc)) || !th_ok(t, vkti_tensor_download_f32(t->g, &tc, c0, nc)))
            return;
        for (int64_t i = 0; i < nc; i++)
            cin[i] = c0[i];
    }
    vkti_matmul_params p = {.trans_a = c->ta, .trans_b = c->tb, .alpha = 0.75f, .beta = -0.5f, .accumulate = c->accum};
    if (!th_begin(t) || !th_ok(t, vkti_matmul_forward(t->cmd, &tc, &ta, &tb, c->bias ? &tbias : NULL, &p)) ||
        !th_submit(t))
        return;
    ref_matmul(ref, a, b, c->bias ? bias : NULL, c->accum ? cin : NULL, c->batch, c->M, c->N, c->K, c->ta, c->tb,
               c->b_batched, 0.75, -0.5);
    th_tol tol = dt == VKTI_F16 ? TH_F16 : (c->K >= 1000 ? TH_F32_LONG : TH_F32);
    th_check(t, &tc, ref, tol);
}

TH_SUITE(matmul)
{
    static const mm_case cases[] = {
        {1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
        {1, 64, 64, 16, 0, 0, 0, 0, 0, 0},
        {1, 65, 63, 17, 0, 0, 0, 0, 0, 0},
        {1, 65, 63, 17, 1, 0, 0, 0, 0, 0},
        {1, 65, 63, 17, 0, 1, 1, 0, 0, 0},
        {1, 65, 63, 17, 1, 1, 1, 1, 0, 0},
        {1, 130, 97, 300, 0, 1, 1, 0, 0, 0},
        {3, 77, 40, 77, 0, 0, 0, 0, 1, 0},  /* attention-like: per-batch B */
        {4, 50, 33, 29, 0, 1, 1, 0, 0, 0},  /* shared weights */
        {2, 33, 129, 65, 1, 0, 0, 1, 1, 0},
        {1, 4096, 320, 320, 0, 1, 1, 0, 0, 1},   /* attention projection at 64x64 */
        {1, 4096, 320, 2880, 0, 1, 0, 0, 0, 1},  /* 3x3 conv 320->320 at 64x64 as a GEMM */
        {1, 64, 1280, 11520, 0, 1, 1, 0, 0, 1},  /* 3x3 conv 1280->1280 at 8x8 */
        {1, 4096, 77, 40, 0, 1, 0, 0, 0, 1},     /* cross-attention scores, head dim 40 */
    };
    for (int dt = 0; dt < 2; dt++) {
        if (dt == 1 && !t->allow_f16)
            continue;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            run_case(t, &cases[i], dt ? VKTI_F16 : VKTI_F32);
    }
}
