/* test_elementwise.c — add, mul (with per-channel broadcast), scale and SiLU against double
 * references, f32 and f16, at odd sizes, a 2-D grid size, and an SD activation size. */
#include <math.h>

#include "harness.h"
#include "ops/elementwise.h"

enum { ADD, MUL, SCALE, SILU, CLAMP };
static const char *const NAMES[] = {"add", "mul", "scale", "silu", "clamp"};

static void run_case(th *t, int op, vkti_dtype dt, int64_t n, int64_t nb)
{
    if (!th_case(t, "%s %s n=%lld%s", NAMES[op], vkti_dtype_name(dt), (long long)n, nb != n ? " broadcast" : ""))
        return;
    float *a = th_alloc(t, sizeof(float) * (size_t)n), *b = th_alloc(t, sizeof(float) * (size_t)nb);
    double *ref = th_alloc(t, sizeof(double) * (size_t)n);
    if (!a || !b || !ref)
        return;
    th_fill(t, a, n, -6, 6);
    th_fill(t, b, nb, -2, 2);
    vkti_tensor ta, tb, to;
    if (!th_input(t, &ta, dt, 1, &n, a) || !th_input(t, &tb, dt, 1, &nb, b) || !th_output(t, &to, dt, 1, &n))
        return;
    if (!th_begin(t))
        return;
    int rc = op == ADD ? vkti_add_forward(t->cmd, &to, &ta, &tb)
           : op == MUL ? vkti_mul_forward(t->cmd, &to, &ta, &tb)
           : op == SCALE ? vkti_scale_forward(t->cmd, &to, &ta, -1.5f, 0.25f)
           : op == CLAMP ? vkti_clamp_forward(t->cmd, &to, &ta, -2.5f, 1.0f)
                         : vkti_silu_forward(t->cmd, &to, &ta);
    if (!th_ok(t, rc) || !th_submit(t))
        return;
    for (int64_t i = 0; i < n; i++) {
        double x = a[i], y = b[i % nb];
        ref[i] = op == ADD ? x + y : op == MUL ? x * y : op == SCALE ? -1.5 * x + 0.25
               : op == CLAMP ? fmin(fmax(x, -2.5), 1.0) : x / (1.0 + exp(-x));
    }
    /* elementwise results are one rounding from exact: judge each element by itself */
    th_check(t, &to, ref, dt == VKTI_F16 ? (th_tol){1e-3, 1e-4} : (th_tol){1e-6, 1e-7});
}

TH_SUITE(elementwise)
{
    for (int d = 0; d < 2; d++) {
        vkti_dtype dt = d ? VKTI_F16 : VKTI_F32;
        if (dt == VKTI_F16 && !t->allow_f16)
            continue;
        for (int op = 0; op < 5; op++) {
            run_case(t, op, dt, 1, 1);
            run_case(t, op, dt, 1000, 1000);
        }
        run_case(t, ADD, dt, 320 * 77, 320);      /* per-channel broadcast */
        run_case(t, MUL, dt, 320 * 77, 320);
        run_case(t, ADD, dt, 256 * 65536 + 3, 1); /* more groups than one grid row holds */
        if (!t->quick)
            run_case(t, SILU, dt, 320 * 64 * 64, 320 * 64 * 64);
    }
    /* mix: per-sample coefficients from a device tensor, rewritten between replays of one recording */
    for (int d = 0; d < 2; d++) {
        vkti_dtype dt = d ? VKTI_F16 : VKTI_F32;
        if ((dt == VKTI_F16 && !t->allow_f16) || !th_case(t, "mix %s [3 x 4 x 5 x 7], coefficients replayed", vkti_dtype_name(dt)))
            continue;
        int64_t N = 3, per = 4 * 5 * 7, n = N * per, sh[4] = {3, 4, 5, 7};
        float *x = th_alloc(t, sizeof(float) * (size_t)n), *y = th_alloc(t, sizeof(float) * (size_t)n);
        double *ref = th_alloc(t, sizeof(double) * (size_t)n);
        vkti_tensor tx, ty, to, tc;
        if (!x || !y || !ref)
            return;
        th_fill(t, x, n, -1, 1);
        th_fill(t, y, n, -1, 1);
        float coef[6] = {0};
        if (!th_input(t, &tx, dt, 4, sh, x) || !th_input(t, &ty, dt, 4, sh, y) || !th_input(t, &tc, VKTI_F32, 1, (int64_t[]){6}, coef) ||
            !th_output(t, &to, dt, 4, sh) || !th_begin(t) || !th_ok(t, vkti_mix_forward(t->cmd, &to, &tx, &ty, &tc)) ||
            !th_ok(t, vkti_cmd_end(t->cmd)))
            return;
        for (int rep = 0; rep < 2; rep++) {
            for (int k = 0; k < 6; k++)
                coef[k] = (float)(rep ? 0.25 * k - 0.7 : 1.0 / (k + 1));
            if (!th_ok(t, vkti_tensor_upload_f32(t->g, &tc, coef, 6)) || !th_ok(t, vkti_cmd_submit(t->cmd, 1)))
                return;
            for (int64_t i = 0; i < n; i++)
                ref[i] = (double)coef[2 * (i / per)] * x[i] + (double)coef[2 * (i / per) + 1] * y[i];
            th_check(t, &to, ref, dt == VKTI_F16 ? TH_F16 : TH_F32);
        }
    }
    /* a mismatched broadcast is refused with a message */
    if (th_case(t, "add refuses a b that does not divide a")) {
        int64_t n = 10, nb = 3;
        vkti_tensor ta, tb, to;
        float x[10] = {0};
        if (!th_input(t, &ta, VKTI_F32, 1, &n, x) || !th_input(t, &tb, VKTI_F32, 1, &nb, x) ||
            !th_output(t, &to, VKTI_F32, 1, &n) || !th_begin(t))
            return;
        if (vkti_add_forward(t->cmd, &to, &ta, &tb) == VKTI_OK)
            th_fail(t, "accepted b of 3 elements for a of 10");
        th_submit(t);
    }
}
