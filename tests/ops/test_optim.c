/* test_optim.c — AdamW, Adam and SGD with momentum (src/ops/optim.h) over several steps
 * against a double implementation of PyTorch's formulas (tests/ref/ref_optim.c), the way
 * the trainer runs them: gradient norm + step recorded once, replayed with a new gradient and
 * learning rate uploaded before each replay. Covers weight decay, clipping (on for some steps,
 * off for others), loss-scale removal, steps skipped for inf / NaN gradients (parameters and
 * moments keep their bits; the step count does not advance), resuming at step 5000, and
 * the bias corrections 1 - beta^t computed on the GPU for t up to 10^6. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ops/loss.h"
#include "ops/optim.h"
#include "ref/ref_optim.h"

typedef struct opt_case {
    const char *name;
    vkti_optim_kind kind;
    int64_t E, D;
    int steps;
    double lr, beta1, beta2, eps, wd, max_norm, loss_scale;
    int64_t start_step;   /* resume: the state's step count and non-zero moments */
    unsigned bad;         /* bit k: step k's gradient holds an inf (k odd) or a NaN (k even) */
    int vary;             /* gradient magnitude changes per step (clipping on and off) */
} opt_case;

static float *falloc(th *t, int64_t n) { return th_alloc(t, sizeof(float) * (size_t)(n > 0 ? n : 1)); }
static double *dalloc(th *t, int64_t n) { return th_alloc(t, sizeof(double) * (size_t)(n > 0 ? n : 1)); }

/* an output tensor (guarded) that starts with the values of host */
static int state_tensor(th *t, vkti_tensor *out, int64_t n, const float *host)
{
    return th_output(t, out, VKTI_F32, 1, &n) && th_ok(t, vkti_tensor_upload_f32(t->g, out, host, n));
}

static int upload_u32(th *t, vkti_tensor *out, const uint32_t *h, int64_t n, int alloc)
{
    if (alloc && !th_ok(t, vkti_arena_tensor(t->arena, out, VKTI_U32, 1, &n)))
        return 0;
    return th_ok(t, vkti_tensor_upload(t->g, out, h, sizeof(uint32_t) * (size_t)n));
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void check_rel(th *t, const char *what, double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        th_fail(t, "%s: got %.9g, want %.9g (relative error %.3g, budget %.1e)", what, got, want,
                fabs(got - want) / fabs(want), rel);
}

static void run_case(th *t, const opt_case *oc)
{
    if (!th_case(t, "%s [%lld x %lld] %d steps", oc->name, (long long)oc->E, (long long)oc->D, oc->steps))
        return;
    int64_t n = oc->E * oc->D, one = 1, sixteen = VKTI_OPT_HYPER_N, nscratch = vkti_loss_scratch_elems(n);
    float *p = falloc(t, n), *m = falloc(t, n), *v = falloc(t, n), *g = falloc(t, n), *prev = falloc(t, 3 * n);
    double *rp = dalloc(t, n), *rm = dalloc(t, n), *rv = dalloc(t, n), *rg = dalloc(t, n);
    if (!p || !m || !v || !g || !prev || !rp || !rm || !rv || !rg)
        return;
    th_fill_normal(t, p, n, 0.5f);
    for (int64_t i = 0; i < n; i++) {
        m[i] = oc->start_step ? (float)(0.01 * th_normal(t)) : 0.0f;
        v[i] = oc->start_step ? (float)(1e-6 + 1e-4 * th_uniform(t)) : 0.0f;
        rp[i] = p[i], rm[i] = m[i], rv[i] = v[i];
    }
    uint32_t st[VKTI_OPT_STATE_N] = {0};
    st[VKTI_OPT_STEP] = (uint32_t)oc->start_step;
    float hyper[VKTI_OPT_HYPER_N] = {0}; /* uploaded before each step */
    vkti_tensor tp, tm, tv, tg, tnorm, tscratch, thyper, tstate;
    if (!state_tensor(t, &tp, n, p) || !state_tensor(t, &tm, n, m) || !state_tensor(t, &tv, n, v) ||
        !th_input(t, &tg, VKTI_F32, 1, &n, g) || !th_output(t, &tnorm, VKTI_F32, 1, &one) ||
        !th_output(t, &tscratch, VKTI_F32, 1, &nscratch) || !th_input(t, &thyper, VKTI_F32, 1, &sixteen, hyper) ||
        !upload_u32(t, &tstate, st, VKTI_OPT_STATE_N, 1))
        return;
    ref_optim ro = {(int)oc->kind, oc->lr, oc->beta1, oc->beta2, oc->eps, oc->wd, oc->max_norm, oc->loss_scale,
                    oc->start_step, 0, 0, 0, 0};
    /* the step, recorded once */
    if (!th_begin(t) || !th_ok(t, vkti_grad_norm_forward(t->cmd, &tnorm, &tscratch, &tg)) ||
        !th_ok(t, vkti_optim_step(t->cmd, oc->kind, &tp, &tm, oc->kind == VKTI_OPTIM_SGD ? NULL : &tv, &tstate, &tg,
                                  &tnorm, &thyper)) ||
        !th_ok(t, vkti_cmd_end(t->cmd)))
        return;
    int clipped = 0, unclipped = 0;
    for (int k = 0; k < oc->steps && !t->case_failed; k++) {
        /* this step's values: a new gradient (loss-scaled, as backward produces it) and a
         * learning rate on a warm-up schedule */
        double mag = oc->vary ? (k % 3 == 0 ? 0.05 : 1.0) : 1.0;
        for (int64_t i = 0; i < n; i++)
            g[i] = (float)(oc->loss_scale * mag * th_normal(t));
        if (oc->bad & (1u << k))
            g[(int64_t)(th_u64(t) % (uint64_t)n)] = (k % 2) ? INFINITY : NAN;
        for (int64_t i = 0; i < n; i++)
            rg[i] = g[i];
        vkti_optim_params op = {oc->lr * (k + 1) / oc->steps, oc->beta1, oc->beta2, oc->eps, oc->wd, oc->max_norm,
                                oc->loss_scale};
        vkti_optim_hyper(hyper, &op);
        ro.lr = op.lr;
        if (!th_ok(t, vkti_tensor_upload(t->g, &tg, g, sizeof(float) * (size_t)n)) ||
            !th_ok(t, vkti_tensor_upload(t->g, &thyper, hyper, sizeof hyper)) ||
            !th_ok(t, vkti_tensor_download_f32(t->g, &tp, prev, n)) ||
            !th_ok(t, vkti_tensor_download_f32(t->g, &tm, prev + n, n)) ||
            !th_ok(t, vkti_tensor_download_f32(t->g, &tv, prev + 2 * n, n)) || !th_ok(t, vkti_cmd_submit(t->cmd, 1)))
            return;
        int applied = ref_optim_step(&ro, rp, rm, rv, rg, n);
        if (!th_ok(t, vkti_tensor_download(t->g, &tstate, st, sizeof st)))
            return;
        char what[96];
        snprintf(what, sizeof what, "step %d", k);
        if (st[VKTI_OPT_STEP] != (uint32_t)ro.step || st[VKTI_OPT_SKIPPED] != (uint32_t)ro.skipped ||
            st[VKTI_OPT_APPLY] != (uint32_t)applied)
            th_fail(t, "%s: state step %u skipped %u apply %u, want %lld %lld %d", what, st[VKTI_OPT_STEP],
                    st[VKTI_OPT_SKIPPED], st[VKTI_OPT_APPLY], (long long)ro.step, (long long)ro.skipped, applied);
        if (!applied) { /* a skipped step leaves every bit where it was */
            float *now = falloc(t, 3 * n);
            if (!now || !th_ok(t, vkti_tensor_download_f32(t->g, &tp, now, n)) ||
                !th_ok(t, vkti_tensor_download_f32(t->g, &tm, now + n, n)) ||
                !th_ok(t, vkti_tensor_download_f32(t->g, &tv, now + 2 * n, n)))
                return;
            if (memcmp(now, prev, sizeof(float) * (size_t)(3 * n)))
                th_fail(t, "%s: a skipped step changed the parameters or moments", what);
            continue;
        }
        if (oc->max_norm > 0)
            *(ro.norm > oc->max_norm ? &clipped : &unclipped) += 1;
        /* the bias corrections: a few ulp; the norm: an f32 sum of squares */
        check_rel(t, "1 - beta1^t", bits_f32(st[VKTI_OPT_BC1]), ro.bc1, 5e-7);
        check_rel(t, "1 - beta2^t", bits_f32(st[VKTI_OPT_BC2]), ro.bc2, 5e-7);
        check_rel(t, "gradient norm", bits_f32(st[VKTI_OPT_NORM]), ro.norm, 1e-5);
        th_check(t, &tp, rp, TH_F32);
        th_check(t, &tm, rm, TH_F32);
        if (oc->kind != VKTI_OPTIM_SGD)
            th_check(t, &tv, rv, TH_F32);
    }
    if (oc->vary && oc->max_norm > 0 && (!clipped || !unclipped))
        th_fail(t, "the case should clip some steps and not others (clipped %d, not %d)", clipped, unclipped);
}

/* 1 - beta^t from the GPU against double, for t from 1 to 10^6 and betas from 0 to 0.9999:
 * the state is preset to t - 1 and one step is replayed. Budget: 5e-7 relative (about four
 * ulp: log1p, the product and expm1, each within one or two). Steps 3, 340 and 3400 put
 * t log(beta) near -0.35, where expm1 switches from its series to exp - 1. */
static void bias_case(th *t)
{
    if (!th_case(t, "bias corrections 1 - beta^t, t = 1 .. 1e6"))
        return;
    static const double betas[] = {0.9, 0.999, 0.99, 0.9999, 0.5, 0.0};
    static const uint32_t steps[] = {1, 2, 3, 10, 100, 340, 1000, 3400, 10000, 100000, 1000000};
    int64_t one = 1, nscratch = 1, sixteen = VKTI_OPT_HYPER_N;
    float zero = 0.0f, gone = 1.0f, hyper[VKTI_OPT_HYPER_N];
    vkti_tensor tp, tm, tv, tg, tnorm, tscratch, thyper, tstate;
    uint32_t st[VKTI_OPT_STATE_N] = {0};
    if (!state_tensor(t, &tp, 1, &zero) || !state_tensor(t, &tm, 1, &zero) || !state_tensor(t, &tv, 1, &zero) ||
        !th_input(t, &tg, VKTI_F32, 1, &one, &gone) || !th_output(t, &tnorm, VKTI_F32, 1, &one) ||
        !th_output(t, &tscratch, VKTI_F32, 1, &nscratch) || !th_output(t, &thyper, VKTI_F32, 1, &sixteen) ||
        !upload_u32(t, &tstate, st, VKTI_OPT_STATE_N, 1))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_grad_norm_forward(t->cmd, &tnorm, &tscratch, &tg)) ||
        !th_ok(t, vkti_optim_step(t->cmd, VKTI_OPTIM_ADAMW, &tp, &tm, &tv, &tstate, &tg, &tnorm, &thyper)) ||
        !th_ok(t, vkti_cmd_end(t->cmd)))
        return;
    double worst = 0;
    for (size_t b = 0; b < sizeof betas / sizeof betas[0]; b += 2)
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            vkti_optim_params op = vkti_optim_defaults(VKTI_OPTIM_ADAMW);
            op.beta1 = betas[b];
            op.beta2 = betas[b + 1];
            vkti_optim_hyper(hyper, &op);
            memset(st, 0, sizeof st);
            st[VKTI_OPT_STEP] = steps[s] - 1;
            if (!th_ok(t, vkti_tensor_upload(t->g, &thyper, hyper, sizeof hyper)) ||
                !upload_u32(t, &tstate, st, VKTI_OPT_STATE_N, 0) || !th_ok(t, vkti_cmd_submit(t->cmd, 1)) ||
                !th_ok(t, vkti_tensor_download(t->g, &tstate, st, sizeof st)))
                return;
            for (int k = 0; k < 2; k++) {
                double beta = betas[b + (size_t)k], want = 1.0 - pow(beta, (double)steps[s]);
                double got = bits_f32(st[k ? VKTI_OPT_BC2 : VKTI_OPT_BC1]), err = fabs(got - want) / want;
                worst = fmax(worst, err);
                char what[64];
                snprintf(what, sizeof what, "1 - %g^%u", beta, steps[s]);
                check_rel(t, what, got, want, 5e-7);
            }
        }
    if (t->verbose)
        printf("     worst relative error of 1 - beta^t: %.3g\n", worst);
}

TH_SUITE(optim)
{
    static const opt_case cases[] = {
        /* name, kind, E, D, steps, lr, beta1, beta2, eps, wd, max_norm, loss_scale, start, bad, vary */
        {"adamw", VKTI_OPTIM_ADAMW, 2, 768, 6, 5e-3, 0.9, 0.999, 1e-8, 1e-2, 0, 1, 0, 0, 0},
        /* norms ~39 (clipped by a factor ~0.77) and ~2 (not clipped) */
        {"adamw clip, loss scale 1024, inf and NaN steps skipped", VKTI_OPTIM_ADAMW, 2, 768, 8, 5e-3, 0.9, 0.999,
         1e-8, 1e-2, 30.0, 1024, 0, (1u << 2) | (1u << 5), 1},
        {"adamw first step skipped", VKTI_OPTIM_ADAMW, 3, 37, 4, 1e-2, 0.9, 0.999, 1e-8, 0.1, 0, 1, 0, 1u, 0},
        {"adamw resumed at step 5000", VKTI_OPTIM_ADAMW, 1, 768, 4, 1e-3, 0.9, 0.999, 1e-8, 1e-2, 0, 1, 5000, 0, 0},
        {"adamw one value", VKTI_OPTIM_ADAMW, 1, 1, 5, 1e-2, 0.9, 0.999, 1e-8, 1e-2, 0, 1, 0, 0, 0},
        {"adam L2 decay, beta1 0", VKTI_OPTIM_ADAM, 2, 768, 6, 5e-3, 0.0, 0.99, 1e-6, 0.1, 0, 1, 0, 0, 0},
        {"adam clip, loss scale 65536", VKTI_OPTIM_ADAM, 3, 37, 6, 1e-2, 0.9, 0.999, 1e-8, 0, 4.0, 65536, 0, 0, 1},
        {"sgd momentum 0.9 decay", VKTI_OPTIM_SGD, 2, 768, 6, 1e-2, 0.9, 0, 0, 1e-2, 0, 1, 0, 0, 0},
        {"sgd no momentum", VKTI_OPTIM_SGD, 3, 37, 4, 1e-1, 0.0, 0, 0, 0, 0, 1, 0, 0, 0},
        {"sgd clip, NaN step skipped", VKTI_OPTIM_SGD, 2, 768, 6, 1e-2, 0.9, 0, 0, 0, 15.0, 8, 0, 1u << 4, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(t, &cases[i]);
    bias_case(t);
}
