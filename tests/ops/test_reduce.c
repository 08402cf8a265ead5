/* test_reduce.c — row sum/mean and row softmax against double references. */
#include "harness.h"
#include "ops/reduce.h"
#include "ref/ref_linalg.h"

static void sum_case(th *t, vkti_dtype dt, int64_t rows, int64_t cols, int mean)
{
    if (!th_case(t, "%s %s [%lld x %lld]", mean ? "mean" : "sum", vkti_dtype_name(dt), (long long)rows, (long long)cols))
        return;
    float *x = th_alloc(t, sizeof(float) * (size_t)(rows * cols));
    double *ref = th_alloc(t, sizeof(double) * (size_t)rows);
    if (!x || !ref)
        return;
    th_fill(t, x, rows * cols, -1, 1);
    vkti_tensor tx, to;
    int64_t shape[2] = {rows, cols};
    if (!th_input(t, &tx, dt, 2, shape, x) || !th_output(t, &to, VKTI_F32, 1, &rows))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_sum_rows_forward(t->cmd, &to, &tx, mean)) || !th_submit(t))
        return;
    ref_sum_rows(ref, x, rows, cols, mean);
    th_check(t, &to, ref, cols > 1000 ? TH_F32_LONG : TH_F32);
}

static void softmax_case(th *t, vkti_dtype dt, int64_t rows, int64_t cols, float scale)
{
    if (!th_case(t, "softmax %s [%lld x %lld] scale %g", vkti_dtype_name(dt), (long long)rows, (long long)cols,
                 (double)scale))
        return;
    int64_t n = rows * cols;
    float *x = th_alloc(t, sizeof(float) * (size_t)n);
    double *ref = th_alloc(t, sizeof(double) * (size_t)n);
    if (!x || !ref)
        return;
    th_fill(t, x, n, -4, 4);
    vkti_tensor tx, to;
    int64_t shape[2] = {rows, cols};
    if (!th_input(t, &tx, dt, 2, shape, x) || !th_output(t, &to, dt, 2, shape))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_softmax_rows_forward(t->cmd, &to, &tx, scale)) || !th_submit(t))
        return;
    ref_softmax_rows(ref, x, rows, cols, scale);
    th_check(t, &to, ref, dt == VKTI_F16 ? TH_F16 : TH_F32);
}

TH_SUITE(reduce)
{
    for (int d = 0; d < 2; d++) {
        vkti_dtype dt = d ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        sum_case(t, dt, 1, 1, 0);
        sum_case(t, dt, 7, 1000, 0);
        sum_case(t, dt, 300, 257, 1);
        sum_case(t, dt, 2, 320 * 64 * 64 / 2, 1);
        softmax_case(t, dt, 1, 1, 1.0f);
        softmax_case(t, dt, 5, 77, 0.125f);
        softmax_case(t, dt, 33, 1000, 2.0f);
        if (!t->quick)
            softmax_case(t, dt, 512, 4096, 0.158f); /* attention-score rows, head dim 40 */
    }
}
