/* harness.h — the op test harness: one Vulkan device with the validation layer on, seeded
 * random inputs, outputs surrounded by guard regions, comparison with double-precision CPU
 * references under per-op tolerances, and central finite differences for gradients.
 *
 * A suite is a file tests/ops/test_<name>.c defining TH_SUITE(<name>) { ... }; CMake
 * registers it (one ctest entry per suite) — no list to edit. Inside a suite:
 *
 *     if (th_case(t, "matmul f16 65x33x70")) {       // skipped unless it matches -o FILTER
 *         float *a = ...; th_input(t, &ta, VKTI_F16, 2, shape, a);   // a now holds the f16 values
 *         th_output(t, &to, VKTI_F16, 2, shape);     // poisoned with NaN, guarded on both sides
 *         th_begin(t); vkti_matmul_forward(t->cmd, &to, ...); th_submit(t);
 *         th_check(t, &to, ref, TH_F16);             // ref is double, computed from a
 *     }
 * Any failure (including a validation message) makes the program exit non-zero. */
#ifndef VKTI_TESTS_HARNESS_H
#define VKTI_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "gpu/gpu.h"

typedef struct th {
    vkti_diag diag;
    vkti_gpu *g;
    vkti_arena *arena;
    vkti_cmd *cmd;
    uint64_t rng[2];
    const char *filter;
    const char *suite;
    char case_name[160];
    int case_failed;
    int cases, failed, skipped_cases;
    int verbose;
    int quick;              /* --quick: skip the large SD-shaped cases */
    int allow_f16;          /* the device has 16-bit storage */
    uint64_t case_mark;     /* arena mark at th_case */
    struct th_private *priv;/* the harness's own bookkeeping (harness.c) */
} th;

/* Tolerance: an element passes when |got - ref| <= abs + rel * |ref|. abs < 0 means
 * "rel times the RMS of the reference": for sums of many terms an element near zero cannot be
 * judged relative to itself. */
typedef struct th_tol {
    double rel;
    double abs;
} th_tol;

#define TH_F32 ((th_tol){1e-5, -1})
#define TH_F32_LONG ((th_tol){1e-4, -1})  /* long reductions (K or N in the thousands) */
#define TH_F16 ((th_tol){5e-3, -1})

/* Defines a suite: TH_SUITE(matmul) { ... } in tests/ops/test_matmul.c. */
#define TH_SUITE(name) void th_suite_##name(th *t); void th_suite_##name(th *t)

/* ---- cases --------------------------------------------------------------------------- */

/* Starts a case; returns 0 (skip) if it does not match the filter. Ends the previous case.
 * Formats its name printf-style. Tensors allocated in a case are freed at the next th_case. */
int th_case(th *t, const char *fmt, ...) VKTI_PRINTF(2, 3);
/* Records a failure of the current case with a message. Returns 0. */
int th_fail(th *t, const char *fmt, ...) VKTI_PRINTF(2, 3);
/* Checks a vkti status: on failure records it with the diag message. Returns 1 if rc == 0. */
int th_ok(th *t, int rc);

/* ---- random data ----------------------------------------------------------------------- */

void th_seed(th *t, uint64_t seed);
uint64_t th_u64(th *t);
double th_uniform(th *t);                  /* [0, 1) */
double th_normal(th *t);                   /* N(0, 1) */
void th_fill(th *t, float *x, int64_t n, float lo, float hi);
void th_fill_normal(th *t, float *x, int64_t n, float stddev);
/* malloc that records a failure instead of returning NULL silently; freed at the next th_case */
void *th_alloc(th *t, size_t bytes);

/* ---- device tensors ------------------------------------------------------------------- */

/* Allocates a tensor, uploads host (f32, converted to dtype) and rewrites host with the values
 * the device holds (rounded to f16 if dtype is F16), so the reference sees exactly the input. */
int th_input(th *t, vkti_tensor *out, vkti_dtype dtype, int ndim, const int64_t *shape, float *host);
/* Allocates an output tensor with guard regions before and after it; fills the tensor with
 * NaN and the guards with a sentinel pattern. */
int th_output(th *t, vkti_tensor *out, vkti_dtype dtype, int ndim, const int64_t *shape);
/* vkti_cmd_begin on t->cmd, and end + submit + wait. */
int th_begin(th *t);
int th_submit(th *t);
/* Downloads out, checks its guards, NaN/inf, and every element against ref; prints the worst
 * element's error against its budget. Returns 1 on pass. */
int th_check(th *t, const vkti_tensor *out, const double *ref, th_tol tol);
/* Same for a host array (e.g. a CPU reference checked against finite differences). */
int th_check_host(th *t, const char *what, const double *got, const double *ref, int64_t n, th_tol tol);
/* Downloads a tensor to f32 host memory (allocated with th_alloc). */
float *th_download(th *t, const vkti_tensor *x);

/* ---- gradients ------------------------------------------------------------------------ */

/* f(user, x) evaluates a scalar loss in double precision at x (n values). */
typedef double (*th_loss_fn)(void *user, const double *x, int64_t n);

/* Compares analytic d f / d x with central differences (f(x+h) - f(x-h)) / 2h at `samples`
 * coordinates (all of them if samples >= n). x is restored. Returns 1 on pass. */
int th_gradcheck(th *t, const char *what, th_loss_fn f, void *user, double *x, int64_t n, const double *analytic,
                 int samples, double h, double rel_tol);

#endif
