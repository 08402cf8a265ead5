/* test_lr_schedule.c — learning-rate schedules: diffusers' four (values worked out by hand at the
 * points where the formula is exact, monotonicity elsewhere, and diffusers' own numbers from
 * tests/fixtures/lr_schedules.txt when tools/ref/lr_schedule_fixture.py has made it), --scale-lr,
 * and AUTOMATIC1111's piecewise strings: the expected runs below came from running A1111's own
 * learn_schedule.py (LearnRateScheduler.apply at every step, as train_embedding does), plus
 * hostile strings. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "train/lr_schedule.h"
#include "check.h"

static vkti_lr_schedule make(vkti_lr_kind kind, double lr, const char *pw, int64_t warmup, int64_t total,
                             double scale)
{
    vkti_diag d = {0};
    vkti_lr_schedule s;
    int rc = vkti_lr_schedule_init(&d, &s, kind, lr, pw, warmup, total, scale);
    CHECK(rc == VKTI_OK, "init kind %d: %s", (int)kind, d.msg);
    return s;
}

static void test_diffusers(void)
{
    vkti_lr_schedule s = make(VKTI_LR_CONSTANT, 1e-4, NULL, 500, 1000, 1.0);
    CHECK(vkti_lr_at(&s, 0) == 1e-4 && vkti_lr_at(&s, 999) == 1e-4 && vkti_lr_at(&s, 5000) == 1e-4,
          "constant ignores warmup");

    s = make(VKTI_LR_CONSTANT_WITH_WARMUP, 1e-3, NULL, 4, 10, 1.0);
    CHECK(vkti_lr_at(&s, 0) == 0.0 && vkti_lr_at(&s, 1) == 1e-3 * 0.25 && vkti_lr_at(&s, 2) == 1e-3 * 0.5 &&
              vkti_lr_at(&s, 3) == 1e-3 * 0.75 && vkti_lr_at(&s, 4) == 1e-3 && vkti_lr_at(&s, 9) == 1e-3,
          "constant_with_warmup: 0, 1/4, 1/2, 3/4, then 1");

    /* linear: W = 2, N = 10; after warmup (N − k) / (N − W) */
    s = make(VKTI_LR_LINEAR, 2.0, NULL, 2, 10, 1.0);
    const double lin[] = {0, 1.0, 2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0};
    int bad = 0;
    for (int k = 0; k < 12; k++)
        bad += vkti_lr_at(&s, k) != lin[k];
    CHECK(bad == 0, "linear W=2 N=10 differs at %d steps", bad);
    s = make(VKTI_LR_LINEAR, 1.0, NULL, 0, 4, 1.0);
    CHECK(vkti_lr_at(&s, 0) == 1.0 && vkti_lr_at(&s, 2) == 0.5 && vkti_lr_at(&s, 4) == 0.0, "linear without warmup");
    /* warmup longer than the run (diffusers allows it): the rate never leaves the ramp */
    s = make(VKTI_LR_LINEAR, 1.0, NULL, 100, 10, 1.0);
    CHECK(vkti_lr_at(&s, 9) == 0.09, "linear, warmup past the end: %.17g", vkti_lr_at(&s, 9));

    /* cosine: 0.5·(1 + cos(π·progress)); exact at progress 0, 1/2 and 1 */
    s = make(VKTI_LR_COSINE, 4.0, NULL, 10, 110, 1.0);
    /* past the end diffusers' cosine rises again (max(0, ·) only clips below 0); the trainer never
     * asks for k >= steps, but the function says what diffusers would */
    CHECK(vkti_lr_at(&s, 5) == 2.0 && vkti_lr_at(&s, 10) == 4.0 && vkti_lr_at(&s, 60) == 2.0 &&
              vkti_lr_at(&s, 110) == 0.0 && fabs(vkti_lr_at(&s, 200) - 4.0 * 0.5 * (1 + cos(1.9 * acos(-1.0)))) < 1e-15,
          "cosine at warmup/2, warmup, middle, end, past the end: %g %g %g %g %g", vkti_lr_at(&s, 5),
          vkti_lr_at(&s, 10), vkti_lr_at(&s, 60), vkti_lr_at(&s, 110), vkti_lr_at(&s, 200));
    int mono = 1;
    for (int k = 11; k <= 110; k++)
        mono &= vkti_lr_at(&s, k) < vkti_lr_at(&s, k - 1);
    CHECK(mono, "cosine not strictly decreasing after warmup");
    /* a quarter of the way: 0.5·(1 + cos(π/4)) = 0.5 + √2/4 */
    CHECK(fabs(vkti_lr_at(&s, 35) / 4.0 - (0.5 + sqrt(2.0) / 4)) < 1e-15, "cosine at 1/4: %.17g", vkti_lr_at(&s, 35));

    /* --scale-lr: lr × grad_accum × batch */
    CHECK(vkti_lr_scale_factor(4, 3) == 12.0, "scale factor");
    s = make(VKTI_LR_CONSTANT, 5e-4, NULL, 0, 10, vkti_lr_scale_factor(2, 4));
    CHECK(vkti_lr_at(&s, 3) == 5e-4 * 8, "scaled constant %.17g", vkti_lr_at(&s, 3));
    s = make(VKTI_LR_PIECEWISE, 0, "0.005:2, 0.001", 0, 10, 2.0);
    CHECK(vkti_lr_at(&s, 1) == 0.01 && vkti_lr_at(&s, 2) == 0.002, "scaled piecewise");

    vkti_train_config cfg;
    vkti_train_config_init(&cfg);
    cfg.learning_rate = 5e-4;
    cfg.scale_lr = 1;
    cfg.batch_size = 2;
    cfg.grad_accum = 4;
    cfg.lr_schedule = VKTI_LR_COSINE;
    cfg.lr_warmup_steps = 0;
    cfg.steps = 100;
    vkti_diag d = {0};
    CHECK(vkti_lr_schedule_from_config(&d, &s, &cfg) == VKTI_OK && vkti_lr_at(&s, 0) == 4e-3 &&
              vkti_lr_at(&s, 50) == 2e-3,
          "from config: %s %g", d.msg, vkti_lr_at(&s, 0));

    /* refusals */
    vkti_lr_schedule t;
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_CONSTANT, NAN, NULL, 0, 10, 1) == VKTI_E_INVALID, "NaN rate");
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_CONSTANT, -1e-4, NULL, 0, 10, 1) == VKTI_E_INVALID, "negative rate");
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_CONSTANT, 0, NULL, 0, 10, 1) == VKTI_E_INVALID, "zero rate");
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_CONSTANT, INFINITY, NULL, 0, 10, 1) == VKTI_E_INVALID, "inf rate");
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_LINEAR, 1e-4, NULL, -1, 10, 1) == VKTI_E_INVALID, "negative warmup");
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_LINEAR, 1e-4, NULL, 0, 0, 1) == VKTI_E_INVALID, "zero steps");
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_LINEAR, 1e-4, NULL, 0, 10, 0) == VKTI_E_INVALID, "zero scale");
    CHECK(vkti_lr_schedule_init(&d, &t, (vkti_lr_kind)99, 1e-4, NULL, 0, 10, 1) == VKTI_E_INVALID, "unknown kind");
}

/* A run of equal rates: rate for `count` updates. */
typedef struct run { double rate; int count; } run;
typedef struct a1111_case {
    const char *text;
    int64_t steps;
    int64_t end_step; /* how many updates A1111 performs */
    run runs[5];
} a1111_case;

static void test_a1111(void)
{
    /* from A1111's learn_schedule.py driven as train_embedding drives it */
    static const a1111_case cases[] = {
        {"0.005:100, 1e-3:1000, 1e-5", 3000, 3000, {{0.005, 100}, {0.001, 900}, {1e-05, 2000}}},
        {"0.005:100, 1e-3:1000, 1e-5", 500, 500, {{0.005, 100}, {0.001, 400}}},
        {"0.005", 50, 50, {{0.005, 50}}},
        {"0.005:100, 1e-3:1000", 3000, 1000, {{0.005, 100}, {0.001, 900}}},
        {"0.005:100, 1e-3:1000", 800, 800, {{0.005, 100}, {0.001, 700}}},
        {" 5e-3 : 10 ,1e-4: -1", 40, 40, {{0.005, 10}, {0.0001, 30}}},
        {"0.1:1, 0.2:2, 0.3:3, 0.4", 6, 6, {{0.1, 1}, {0.2, 1}, {0.3, 1}, {0.4, 3}}},
        {"0.01:10,0.001:20,0.0001:30", 25, 25, {{0.01, 10}, {0.001, 10}, {0.0001, 5}}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const a1111_case *x = &cases[c];
        vkti_lr_schedule s = make(VKTI_LR_PIECEWISE, 0, x->text, 0, x->steps, 1.0);
        CHECK(s.end_step == x->end_step, "'%s' over %lld: ends at %lld, A1111 at %lld", x->text, (long long)x->steps,
              (long long)s.end_step, (long long)x->end_step);
        int64_t k = 0;
        int bad = 0;
        for (int r = 0; r < 5 && x->runs[r].count; r++)
            for (int i = 0; i < x->runs[r].count; i++, k++)
                bad += vkti_lr_at(&s, k) != x->runs[r].rate;
        CHECK(bad == 0 && k == x->end_step, "'%s' over %lld: %d rates differ from A1111's", x->text,
              (long long)x->steps, bad);
    }
    /* resuming at step 150 (A1111 drops the pieces already over): the same rates from 150 on */
    vkti_lr_schedule s = make(VKTI_LR_PIECEWISE, 0, "0.005:100, 1e-3:1000, 1e-5", 0, 3000, 1.0);
    CHECK(vkti_lr_at(&s, 150) == 0.001 && vkti_lr_at(&s, 999) == 0.001 && vkti_lr_at(&s, 1000) == 1e-5,
          "resume at 150");
    /* past the end of a schedule that stops early: the last rate */
    s = make(VKTI_LR_PIECEWISE, 0, "0.005:100, 1e-3:1000", 0, 3000, 1.0);
    CHECK(vkti_lr_at(&s, 2000) == 0.001, "past the end");

    static const struct { const char *text; const char *needle; } bad[] = {
        {"", "empty"},
        {"   ", "empty"},
        {",", "piece 1 is empty"},
        {"0.005:100,", "ends with ','"},
        {"0.005:100, ,1e-5", "piece 2 is empty"},
        {"0.005:100,, 1e-5", "piece 2 is empty"},
        {":100", "no rate"},
        {"0.005:", "no step"},
        {"0.005:100:200", "more than one ':'"},
        {"abc", "not a number"},
        {"nan", "not a number"},
        {"inf:100", "not a number"},
        {"0x1p-3", "not a number"},
        {"1_0.5", "not a number"},
        {"1e999", "not a number"},
        {"0:100, 1e-3", "above 0"},
        {"-0.005:100", "above 0"},
        {"0.005:0, 1e-3", "step 0"},
        {"0.005:-5, 1e-3", "negative"},
        {"0.005:1_000", "not a whole number"},
        {"0.005:1e3", "not a whole number"},
        {"0.005:10.5", "not a whole number"},
        {"0.005:99999999999999999999999", "too large"},
        {"0.005:100, 0.001:50", "steps must increase"},
        {"0.005:100, 0.001:100", "steps must increase"},
        {"0.005, 0.001:100", "must be last"},
        {"0.005:-1, 0.001", "must be last"},
        {"0.005:100 0.001:200", "more than one ':'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vkti_diag d = {0};
        vkti_lr_schedule t;
        int rc = vkti_lr_schedule_init(&d, &t, VKTI_LR_PIECEWISE, 0, bad[i].text, 0, 1000, 1.0);
        CHECK(rc == VKTI_E_INVALID && strstr(d.msg, bad[i].needle), "'%s': rc %d, message '%s'", bad[i].text, rc,
              d.msg);
    }
    /* 64 pieces are fine, 65 are not; a long hostile string does not overflow anything */
    char buf[4096];
    size_t n = 0;
    for (int i = 1; i <= 65; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s0.001:%d", i > 1 ? "," : "", i * 10);
    vkti_diag d = {0};
    vkti_lr_schedule t;
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_PIECEWISE, 0, buf, 0, 100000, 1.0) == VKTI_E_INVALID &&
              strstr(d.msg, "more than 64"),
          "65 pieces: %s", d.msg);
    *strrchr(buf, ',') = 0;
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_PIECEWISE, 0, buf, 0, 100000, 1.0) == VKTI_OK && t.piece_count == 64,
          "64 pieces: %s", d.msg);
    char longnum[200];
    memset(longnum, '1', sizeof longnum - 1);
    longnum[sizeof longnum - 1] = 0;
    CHECK(vkti_lr_schedule_init(&d, &t, VKTI_LR_PIECEWISE, 0, longnum, 0, 10, 1.0) == VKTI_E_INVALID, "long number");
}

/* tests/fixtures/lr_schedules.txt: "name k lr" lines (lr as %.17g) from diffusers' get_scheduler */
static void test_fixture(void)
{
    const char *src = getenv("VKTI_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/lr_schedules.txt", src ? src : ".");
    vkti_diag d = {0};
    uint8_t *text = NULL;
    size_t size = 0;
    if (vkti_file_read(&d, path, 16u << 20, &text, &size) != VKTI_OK) {
        printf("SKIP fixture: %s is absent (make it with tools/ref/lr_schedule_fixture.py on a machine with "
               "torch)\n", path);
        return;
    }
    /* the schedules the fixture script writes: base 1e-4, warmup 10 (or 0), 100 steps */
    struct { const char *name; vkti_lr_schedule s; } sch[] = {
        {"constant", make(VKTI_LR_CONSTANT, 1e-4, NULL, 10, 100, 1)},
        {"constant_with_warmup", make(VKTI_LR_CONSTANT_WITH_WARMUP, 1e-4, NULL, 10, 100, 1)},
        {"linear", make(VKTI_LR_LINEAR, 1e-4, NULL, 10, 100, 1)},
        {"cosine", make(VKTI_LR_COSINE, 1e-4, NULL, 10, 100, 1)},
        {"linear_w0", make(VKTI_LR_LINEAR, 1e-4, NULL, 0, 100, 1)},
        {"cosine_w0", make(VKTI_LR_COSINE, 1e-4, NULL, 0, 100, 1)},
        {"cosine_w150", make(VKTI_LR_COSINE, 1e-4, NULL, 150, 100, 1)},
    };
    int lines = 0, mismatches = 0;
    const char *p = (const char *)text, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char line[256], name[64];
        snprintf(line, sizeof line, "%.*s", (int)(len < 255 ? len : 255), p);
        p += len + 1;
        long long k;
        double want;
        if (line[0] == '#' || sscanf(line, "%63s %lld %lf", name, &k, &want) != 3)
            continue;
        for (size_t i = 0; i < sizeof sch / sizeof sch[0]; i++) {
            if (strcmp(name, sch[i].name))
                continue;
            lines++;
            double got = vkti_lr_at(&sch[i].s, k);
            if (got != want && mismatches++ < 5)
                printf("  fixture %s k=%lld: want %.17g got %.17g\n", name, k, want, got);
        }
    }
    free(text);
    printf("fixture: %d lines, %d mismatches\n", lines, mismatches);
    CHECK(lines > 0 && mismatches == 0, "diffusers' schedules: %d of %d values differ", mismatches, lines);
}

int main(void)
{
    test_diffusers();
    test_a1111();
    test_fixture();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
