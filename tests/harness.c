/* harness.c — the op test harness (see harness.h) and the test program's main(). */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"

#define GUARD_BYTES 256u
#define GUARD_WORD 0xA5C3A5C3u
#define POISON_WORD 0xFFFFFFFFu /* NaN as f32 and as two f16 */
#define MAX_ALLOCS 4096

/* host allocations and guarded outputs of the current case */
typedef struct th_private {
    void *allocs[MAX_ALLOCS];
    int nallocs;
    /* guard bookkeeping: outputs allocated in this case */
    struct guard { vkti_tensor whole; uint64_t lead; uint64_t bytes; } guards[256];
    int nguards;
} th_private;

static void free_case_allocs(th *t)
{
    th_private *p = t->priv;
    for (int i = 0; i < p->nallocs; i++)
        free(p->allocs[i]);
    p->nallocs = 0;
    p->nguards = 0;
}

void *th_alloc(th *t, size_t bytes)
{
    th_private *priv = t->priv;
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p || priv->nallocs == MAX_ALLOCS) {
        free(p);
        th_fail(t, "out of host memory (%zu bytes)", bytes);
        return NULL;
    }
    priv->allocs[priv->nallocs++] = p;
    return p;
}

static void end_case(th *t)
{
    if (!t->case_name[0])
        return;
    t->cases++;
    if (t->case_failed)
        t->failed++;
    printf("%s %s/%s\n", t->case_failed ? "FAIL" : "ok  ", t->suite, t->case_name);
    fflush(stdout);
    t->case_name[0] = 0;
    free_case_allocs(t);
    vkti_arena_release(t->arena, t->case_mark);
}

static int matches(const char *filter, const char *suite, const char *name)
{
    if (!filter || !filter[0])
        return 1;
    char full[256];
    snprintf(full, sizeof full, "%s/%s", suite, name);
    return strstr(full, filter) != NULL;
}

int th_case(th *t, const char *fmt, ...)
{
    end_case(t);
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (!matches(t->filter, t->suite, name)) {
        t->skipped_cases++;
        return 0;
    }
    snprintf(t->case_name, sizeof t->case_name, "%s", name);
    t->case_failed = 0;
    t->case_mark = vkti_arena_mark(t->arena);
    th_seed(t, 0x1234 + (uint64_t)t->cases * 7919u);
    return 1;
}

int th_fail(th *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("     %s/%s: ", t->suite, t->case_name[0] ? t->case_name : "(setup)");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    t->case_failed = 1;
    if (!t->case_name[0])
        t->failed++;
    return 0;
}

int th_ok(th *t, int rc)
{
    if (rc == VKTI_OK)
        return 1;
    return th_fail(t, "status %d (%s): %s", rc, vkti_status_name(rc), t->diag.msg);
}

/* ---- random (xoshiro128-like: splitmix64 seeded xorshift128+) --------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void th_seed(th *t, uint64_t seed)
{
    t->rng[0] = splitmix(&seed);
    t->rng[1] = splitmix(&seed);
}

uint64_t th_u64(th *t)
{
    uint64_t s1 = t->rng[0];
    const uint64_t s0 = t->rng[1];
    t->rng[0] = s0;
    s1 ^= s1 << 23;
    t->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return t->rng[1] + s0;
}

double th_uniform(th *t) { return (double)(th_u64(t) >> 11) * (1.0 / 9007199254740992.0); }

double th_normal(th *t)
{
    double u1 = th_uniform(t), u2 = th_uniform(t);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void th_fill(th *t, float *x, int64_t n, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * th_uniform(t));
}

void th_fill_normal(th *t, float *x, int64_t n, float stddev)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(stddev * th_normal(t));
}

/* ---- tensors ---------------------------------------------------------------------------- */

static int64_t numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

int th_input(th *t, vkti_tensor *out, vkti_dtype dtype, int ndim, const int64_t *shape, float *host)
{
    int64_t n = numel(ndim, shape);
    if (!th_ok(t, vkti_arena_tensor(t->arena, out, dtype, ndim, shape)))
        return 0;
    if (dtype == VKTI_F16 || dtype == VKTI_BF16)
        for (int64_t i = 0; i < n; i++)
            host[i] = dtype == VKTI_F16 ? vkti_f16_to_f32(vkti_f32_to_f16(host[i]))
                                        : vkti_bf16_to_f32(vkti_f32_to_bf16(host[i]));
    if (dtype == VKTI_F32 || dtype == VKTI_F16 || dtype == VKTI_BF16)
        return th_ok(t, vkti_tensor_upload_f32(t->g, out, host, n));
    return th_fail(t, "th_input: use vkti_tensor_upload for %s", vkti_dtype_name(dtype));
}

static int fill_words(th *t, const vkti_tensor *x, uint64_t offset, uint64_t bytes, uint32_t word)
{
    vkti_tensor v = *x;
    v.offset = x->offset + offset;
    v.bytes = bytes;
    v.dtype = VKTI_U8;
    v.ndim = 1;
    v.shape[0] = (int64_t)bytes;
    uint32_t *h = malloc(bytes + 4);
    if (!h)
        return th_fail(t, "out of host memory");
    for (uint64_t i = 0; i < (bytes + 3) / 4; i++)
        h[i] = word;
    int ok = th_ok(t, vkti_tensor_upload(t->g, &v, h, bytes));
    free(h);
    return ok;
}

int th_output(th *t, vkti_tensor *out, vkti_dtype dtype, int ndim, const int64_t *shape)
{
    int64_t n = numel(ndim, shape);
    uint64_t bytes = (uint64_t)n * vkti_dtype_size(dtype);
    uint64_t body = (bytes + GUARD_BYTES - 1) / GUARD_BYTES * GUARD_BYTES;
    int64_t total = (int64_t)(GUARD_BYTES + body + GUARD_BYTES);
    vkti_tensor whole;
    if (!th_ok(t, vkti_arena_tensor(t->arena, &whole, VKTI_U8, 1, &total)))
        return 0;
    th_private *priv = t->priv;
    if (priv->nguards == (int)(sizeof priv->guards / sizeof priv->guards[0]))
        return th_fail(t, "too many outputs in one case");
    vkti_tensor o = whole;
    o.offset = whole.offset + GUARD_BYTES;
    o.bytes = bytes;
    o.dtype = dtype;
    o.ndim = ndim;
    for (int i = 0; i < VKTI_MAX_DIMS; i++)
        o.shape[i] = i < ndim ? shape[i] : 0;
    if (!fill_words(t, &whole, 0, (uint64_t)total, GUARD_WORD) || !fill_words(t, &o, 0, bytes, POISON_WORD))
        return 0;
    priv->guards[priv->nguards++] = (struct guard){whole, GUARD_BYTES, bytes};
    *out = o;
    return 1;
}

int th_begin(th *t) { return th_ok(t, vkti_cmd_begin(t->cmd)); }

int th_submit(th *t)
{
    int rc = vkti_cmd_end(t->cmd);
    if (rc == VKTI_OK)
        rc = vkti_cmd_submit(t->cmd, 1);
    return th_ok(t, rc);
}

float *th_download(th *t, const vkti_tensor *x)
{
    int64_t n = vkti_tensor_numel(x);
    float *h = th_alloc(t, sizeof(float) * (size_t)(n ? n : 1));
    if (!h || !th_ok(t, vkti_tensor_download_f32(t->g, x, h, n)))
        return NULL;
    return h;
}

/* Guards of the output that contains x must hold the sentinel. */
static int check_guards(th *t, const vkti_tensor *x)
{
    th_private *priv = t->priv;
    for (int i = 0; i < priv->nguards; i++) {
        struct guard *gd = &priv->guards[i];
        if (gd->whole.block != x->block || x->offset != gd->whole.offset + gd->lead)
            continue;
        uint8_t *h = malloc(gd->whole.bytes);
        if (!h)
            return th_fail(t, "out of host memory");
        int ok = th_ok(t, vkti_tensor_download(t->g, &gd->whole, h, gd->whole.bytes));
        uint64_t tail = gd->lead + gd->bytes;
        for (uint64_t b = 0; ok && b < gd->whole.bytes; b++) {
            if (b >= gd->lead && b < tail)
                continue;
            uint8_t want = (uint8_t)(GUARD_WORD >> (8 * (b % 4)));
            if (h[b] != want) {
                long long where = b < gd->lead ? (long long)b - (long long)gd->lead : (long long)(b - tail);
                ok = th_fail(t, "write outside the output: guard byte %s%lld changed", b < gd->lead ? "" : "+", where);
            }
        }
        free(h);
        return ok;
    }
    return 1; /* not allocated by th_output: nothing to check */
}

static int compare(th *t, const char *what, const float *gotf, const double *gotd, const double *ref, int64_t n,
                   th_tol tol)
{
    double ss = 0, se = 0;
    for (int64_t i = 0; i < n; i++)
        ss += ref[i] * ref[i];
    double rms = sqrt(ss / (double)(n ? n : 1));
    double abs_tol = tol.abs >= 0 ? tol.abs : tol.rel * rms;
    double worst = 0, worst_err = 0;
    int64_t worst_i = -1, bad = 0, nonfinite = -1;
    for (int64_t i = 0; i < n; i++) {
        double g = gotf ? (double)gotf[i] : gotd[i], r = ref[i];
        if (!isfinite(g) || !isfinite(r)) {
            if (!(isinf(g) && isinf(r) && (g > 0) == (r > 0)) && nonfinite < 0)
                nonfinite = i;
            continue;
        }
        double e = fabs(g - r);
        se += e * e;
        double q = e == 0 ? 0 : e / (abs_tol + tol.rel * fabs(r)); /* exact is in budget even when it is 0 */
        if (!(q <= 1.0))
            bad++;
        if (q > worst || worst_i < 0) {
            worst = q;
            worst_i = i;
            worst_err = e;
        }
    }
    double nrmse = ss > 0 ? sqrt(se / ss) : sqrt(se);
    if (t->verbose || nonfinite >= 0 || bad)
        printf("     %-40s worst %.3f of budget at [%lld] (got %.7g ref %.7g, |err| %.3g), rel-rms %.3g, budget rel %.1e\n",
               what, worst, (long long)worst_i, worst_i >= 0 ? (gotf ? (double)gotf[worst_i] : gotd[worst_i]) : 0.0,
               worst_i >= 0 ? ref[worst_i] : 0.0, worst_err, nrmse, tol.rel);
    if (nonfinite >= 0)
        return th_fail(t, "%s: non-finite value at [%lld] (got %g, ref %g)", what, (long long)nonfinite,
                       gotf ? (double)gotf[nonfinite] : gotd[nonfinite], ref[nonfinite]);
    if (bad)
        return th_fail(t, "%s: %lld of %lld elements over budget", what, (long long)bad, (long long)n);
    return 1;
}

int th_check(th *t, const vkti_tensor *out, const double *ref, th_tol tol)
{
    float *got = th_download(t, out);
    if (!got)
        return 0;
    int ok = check_guards(t, out);
    return compare(t, t->case_name, got, NULL, ref, vkti_tensor_numel(out), tol) && ok;
}

int th_check_host(th *t, const char *what, const double *got, const double *ref, int64_t n, th_tol tol)
{
    return compare(t, what, NULL, got, ref, n, tol);
}

int th_gradcheck(th *t, const char *what, th_loss_fn f, void *user, double *x, int64_t n, const double *analytic,
                 int samples, double h, double rel_tol)
{
    int64_t count = samples >= n ? n : samples;
    double *num = th_alloc(t, sizeof(double) * (size_t)(count ? count : 1));
    double *ana = th_alloc(t, sizeof(double) * (size_t)(count ? count : 1));
    if (!num || !ana)
        return 0;
    for (int64_t s = 0; s < count; s++) {
        int64_t i = samples >= n ? s : (int64_t)(th_u64(t) % (uint64_t)n);
        double keep = x[i];
        x[i] = keep + h;
        double fp = f(user, x, n);
        x[i] = keep - h;
        double fm = f(user, x, n);
        x[i] = keep;
        num[s] = (fp - fm) / (2 * h);
        ana[s] = analytic[i];
    }
    char label[200];
    snprintf(label, sizeof label, "%s vs finite differences", what);
    return compare(t, label, NULL, ana, num, count, (th_tol){rel_tol, -1});
}

/* ---- main --------------------------------------------------------------------------------- */

typedef struct th_suite_entry { const char *name; void (*fn)(th *t); } th_suite_entry;
extern const th_suite_entry th_suites[];
extern const int th_suite_count;

static void print_log(void *user, vkti_log_level level, const char *msg)
{
    (void)user;
    printf("     [%s] %s\n", level == VKTI_LOG_ERROR ? "error" : level == VKTI_LOG_WARN ? "warn" : "info", msg);
}

int main(int argc, char **argv)
{
    th t;
    memset(&t, 0, sizeof t);
    t.priv = calloc(1, sizeof *t.priv);
    if (!t.priv)
        return 2;
    const char *device = getenv("VKTI_DEVICE"), *disable = getenv("VKTI_DISABLE");
    int validation = 1, list = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            t.filter = argv[++i];
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else if (!strcmp(argv[i], "--disable") && i + 1 < argc)
            disable = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            t.verbose = 1;
        else if (!strcmp(argv[i], "--quick"))
            t.quick = 1;
        else if (!strcmp(argv[i], "--list"))
            list = 1;
        else if (!strcmp(argv[i], "--no-validation"))
            validation = 0;
        else {
            fprintf(stderr,
                    "usage: %s [-o FILTER] [--device N|NAME] [--disable CAPS] [--quick] [-v] [--list] [--no-validation]\n"
                    "  FILTER matches a substring of suite/case; --no-validation is for timing only:\n"
                    "  a run without the validation layer does not count as passing.\n",
                    argv[0]);
            return 2;
        }
    }
    if (list) {
        for (int i = 0; i < th_suite_count; i++)
            printf("%s\n", th_suites[i].name);
        return 0;
    }
    t.diag.log = print_log;
    t.diag.level = VKTI_LOG_WARN;
    const char *sync = getenv("VKTI_SYNC_VALIDATION"); /* 1: synchronization checks too (ctest sets it) */
    vkti_gpu_options o = {.device = device, .validation = validation, .disable = disable,
                          .sync_validation = validation && sync && sync[0] == '1'};
    int rc = vkti_gpu_create(&t.g, &t.diag, &o);
    if (rc) {
        printf("cannot open a Vulkan device: %s\n0 passed, 1 failed\n", t.diag.msg);
        return 1;
    }
    const vkti_device_info *info = vkti_gpu_info(t.g);
    t.allow_f16 = info->storage16;
    printf("device: %s (%s), validation %s\n", info->name, info->driver_info, validation ? "on" : "OFF");
    if ((rc = vkti_arena_create(t.g, "tests", 64ull << 20, &t.arena)) || (rc = vkti_cmd_create(t.g, &t.cmd))) {
        printf("setup failed: %s\n0 passed, 1 failed\n", t.diag.msg);
        return 1;
    }
    int ran = 0;
    for (int i = 0; i < th_suite_count; i++) {
        t.suite = th_suites[i].name;
        int before = t.cases + t.skipped_cases;
        th_suites[i].fn(&t);
        end_case(&t);
        ran += t.cases + t.skipped_cases > before;
    }
    int vmsg = vkti_gpu_validation_messages(t.g);
    vkti_cmd_free(t.cmd);
    vkti_arena_free(t.arena);
    vkti_gpu_free(t.g);
    vmsg = vmsg > 0 ? vmsg : 0;
    if (vmsg)
        printf("FAIL: %d validation message(s) (printed above)\n", vmsg);
    if (t.cases == 0)
        printf("FAIL: no case matched '%s'\n", t.filter ? t.filter : "");
    int failed = t.failed + (vmsg ? 1 : 0) + (t.cases == 0);
    printf("%d passed, %d failed\n", t.cases - t.failed, failed);
    (void)ran;
    free(t.priv);
    return failed ? 1 : 0;
}
