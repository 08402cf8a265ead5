/* selftest.c — `vkti selftest`: each op once on small random data on the context's device,
 * compared with a double-precision loop here. A quick health check for users; the full
 * verification (every variant, guard regions, gradients) is the test suite in tests/. */
#include "api/ctx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"

typedef struct st {
    vkti_ctx *ctx;
    vkti_gpu *g;
    vkti_arena *arena;
    vkti_cmd *cmd;
    vkti_dtype dt;
    uint64_t rng;
    int passed, failed;
} st;

static float rnd(st *s)
{
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(s->rng >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static int tensor(st *s, vkti_tensor *t, vkti_dtype dt, int64_t r, int64_t c, float *host)
{
    int64_t shape[2] = {r, c};
    int rc = vkti_arena_tensor(s->arena, t, dt, 2, shape);
    if (rc || !host)
        return rc;
    for (int64_t i = 0; i < r * c; i++)
        host[i] = rnd(s);
    rc = vkti_tensor_upload_f32(s->g, t, host, r * c);
    if (rc)
        return rc;
    if (dt == VKTI_F16) /* compare against what the device saw */
        vkti_tensor_download_f32(s->g, t, host, r * c);
    return VKTI_OK;
}

static void verdict(st *s, const char *name, const float *got, const double *ref, int64_t n)
{
    double tol = s->dt == VKTI_F16 ? 5e-3 : 1e-5, worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++)
        scale += ref[i] * ref[i];
    scale = sqrt(scale / (double)(n ? n : 1));
    int nan = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(got[i]))
            nan = 1;
        double e = fabs(got[i] - ref[i]) / (tol * (fabs(ref[i]) + scale));
        if (e > worst)
            worst = e;
    }
    int ok = !nan && worst <= 1.0;
    if (ok)
        s->passed++;
    else
        s->failed++;
    vkti_log(&s->ctx->diag, ok ? VKTI_LOG_INFO : VKTI_LOG_ERROR, "%-4s %-26s %s worst error %.3f of budget",
             ok ? "ok" : "FAIL", name, vkti_dtype_name(s->dt), nan ? INFINITY : worst);
}

static int run(st *s)
{
    int rc = vkti_cmd_end(s->cmd);
    return rc ? rc : vkti_cmd_submit(s->cmd, 1);
}

static int check_elementwise(st *s)
{
    enum { R = 37, C = 129 };
    float *a = malloc(sizeof(float) * R * C * 3), *b = a + R * C, *o = b + R * C;
    double *ref = malloc(sizeof(double) * R * C);
    vkti_tensor ta, tb, to, tbc;
    int rc = !a || !ref ? VKTI_E_OOM : 0;
    if (!rc) rc = tensor(s, &ta, s->dt, R, C, a);
    if (!rc) rc = tensor(s, &tb, s->dt, R, C, b);
    if (!rc) rc = tensor(s, &to, s->dt, R, C, NULL);
    if (!rc) rc = vkti_tensor_view(s->g, &tbc, &tb, 0, 1, (int64_t[]){C});
    const char *names[4] = {"add", "mul (broadcast [C])", "scale", "silu"};
    for (int k = 0; k < 4 && !rc; k++) {
        if ((rc = vkti_cmd_begin(s->cmd)))
            break;
        if (k == 0) rc = vkti_add_forward(s->cmd, &to, &ta, &tb);
        if (k == 1) rc = vkti_mul_forward(s->cmd, &to, &ta, &tbc);
        if (k == 2) rc = vkti_scale_forward(s->cmd, &to, &ta, 0.5f, 0.25f);
        if (k == 3) rc = vkti_silu_forward(s->cmd, &to, &ta);
        if (rc || (rc = run(s)) || (rc = vkti_tensor_download_f32(s->g, &to, o, R * C)))
            break;
        for (int i = 0; i < R * C; i++) {
            double x = a[i];
            ref[i] = k == 0 ? x + b[i] : k == 1 ? x * b[i % C] : k == 2 ? 0.5 * x + 0.25 : x / (1 + exp(-x));
        }
        verdict(s, names[k], o, ref, R * C);
    }
    free(a);
    free(ref);
    return rc;
}

static int check_rows(st *s)
{
    enum { R = 19, C = 300 };
    float *x = malloc(sizeof(float) * R * C * 2), *o = x + R * C;
    double *ref = malloc(sizeof(double) * R * C);
    vkti_tensor tx, to, ts;
    int rc = !x || !ref ? VKTI_E_OOM : 0;
    if (!rc) rc = tensor(s, &tx, s->dt, R, C, x);
    if (!rc) rc = tensor(s, &to, s->dt, R, C, NULL);
    if (!rc) rc = vkti_arena_tensor(s->arena, &ts, VKTI_F32, 1, (int64_t[]){R});
    if (!rc && !(rc = vkti_cmd_begin(s->cmd)) && !(rc = vkti_sum_rows_forward(s->cmd, &ts, &tx, 1)) &&
        !(rc = run(s)) && !(rc = vkti_tensor_download_f32(s->g, &ts, o, R))) {
        for (int r = 0; r < R; r++) {
            ref[r] = 0;
            for (int c = 0; c < C; c++)
                ref[r] += x[r * C + c] / (double)C;
        }
        verdict(s, "mean over rows", o, ref, R);
    }
    if (!rc && !(rc = vkti_cmd_begin(s->cmd)) && !(rc = vkti_softmax_rows_forward(s->cmd, &to, &tx, 3.0f)) &&
        !(rc = run(s)) && !(rc = vkti_tensor_download_f32(s->g, &to, o, R * C))) {
        for (int r = 0; r < R; r++) {
            double m = -1e300, sum = 0;
            for (int c = 0; c < C; c++)
                m = fmax(m, 3.0 * x[r * C + c]);
            for (int c = 0; c < C; c++)
                sum += exp(3.0 * x[r * C + c] - m);
            for (int c = 0; c < C; c++)
                ref[r * C + c] = exp(3.0 * x[r * C + c] - m) / sum;
        }
        verdict(s, "softmax", o, ref, R * C);
    }
    free(x);
    free(ref);
    return rc;
}

static int check_matmul(st *s)
{
    enum { M = 70, N = 45, K = 131 };
    float *a = malloc(sizeof(float) * (M * K + K * N + N + M * N)), *b = a + M * K, *bias = b + K * N, *o = bias + N;
    double *ref = malloc(sizeof(double) * M * N);
    vkti_tensor ta, tb, tbias, to;
    int rc = !a || !ref ? VKTI_E_OOM : 0;
    if (!rc) rc = tensor(s, &ta, s->dt, M, K, a);
    if (!rc) rc = tensor(s, &tb, s->dt, N, K, b); /* a Linear weight [out, in] */
    if (!rc) rc = tensor(s, &tbias, s->dt, 1, N, bias);
    if (!rc) rc = tensor(s, &to, s->dt, M, N, NULL);
    vkti_matmul_params p = {.trans_b = 1};
    if (!rc && !(rc = vkti_cmd_begin(s->cmd)) && !(rc = vkti_matmul_forward(s->cmd, &to, &ta, &tb, &tbias, &p)) &&
        !(rc = run(s)) && !(rc = vkti_tensor_download_f32(s->g, &to, o, M * N))) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double acc = bias[j];
                for (int k = 0; k < K; k++)
                    acc += (double)a[i * K + k] * b[j * K + k];
                ref[i * N + j] = acc;
            }
        verdict(s, "matmul x*W^T + bias", o, ref, M * N);
    }
    free(a);
    free(ref);
    return rc;
}

int vkti_selftest(vkti_ctx *ctx, int *passed, int *failed)
{
    st s = {.ctx = ctx, .rng = 0x5eed};
    *passed = *failed = 0;
    int rc = vkti__ctx_gpu(ctx, &s.g);
    if (rc)
        return rc;
    s.dt = ctx->opt.precision == VKTI_PRECISION_FP32 ? VKTI_F32 : VKTI_F16;
    if ((rc = vkti_arena_create(s.g, "selftest", 8u << 20, &s.arena)) || (rc = vkti_cmd_create(s.g, &s.cmd))) {
        vkti_arena_free(s.arena);
        return rc;
    }
    if (!rc) rc = check_elementwise(&s);
    if (!rc) rc = check_rows(&s);
    if (!rc) rc = check_matmul(&s);
    vkti_cmd_free(s.cmd);
    vkti_arena_free(s.arena);
    *passed = s.passed;
    *failed = s.failed;
    if (rc == VKTI_OK && s.failed)
        rc = vkti_fail(&ctx->diag, VKTI_E_INTERNAL, "%d of %d op checks failed on this device", s.failed,
                       s.passed + s.failed);
    return rc;
}
