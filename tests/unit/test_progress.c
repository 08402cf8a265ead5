/* test_progress.c — the progress line: duration, rate, rate-of-learning and loss formatting; the
 * smoothing (the EMA factors and their bias correction, worked out by hand); ETA; fitting to
 * narrow terminals; when a line is handed out on a terminal and elsewhere. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/progress.h"
#include "check.h"

static void test_format(void)
{
    static const struct { double s; const char *want; } d[] = {
        {0, "0s"}, {0.9, "0s"}, {59.99, "59s"}, {60, "1m00s"}, {65, "1m05s"}, {3599, "59m59s"}, {3600, "1h00m"},
        {7385, "2h03m"}, {86399, "23h59m"}, {86400, "1d00h"}, {3 * 86400 + 4 * 3600 + 5, "3d04h"},
        {99 * 86400 + 23 * 3600, "99d23h"}, {100 * 86400, ">99d"}, {-1, "--"}, {NAN, "--"}, {INFINITY, "--"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        vkti_format_duration(d[i].s, buf, sizeof buf);
        CHECK(!strcmp(buf, d[i].want), "duration %g: '%s', want '%s'", d[i].s, buf, d[i].want);
    }
    static const struct { double r; const char *want; } r[] = {
        {123.4, "123 it/s"}, {99.4, "99.4 it/s"}, {12.34, "12.3 it/s"}, {9.994, "9.99 it/s"}, {3.214, "3.21 it/s"},
        {1.0, "1.00 it/s"}, {0.4, "2.50 s/it"}, {0.01, "100.00 s/it"}, {0, "-- it/s"}, {-2, "-- it/s"},
        {NAN, "-- it/s"}, {INFINITY, "-- it/s"},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        vkti_format_rate(r[i].r, buf, sizeof buf);
        CHECK(!strcmp(buf, r[i].want), "rate %g: '%s', want '%s'", r[i].r, buf, r[i].want);
    }
    vkti_format_lr(5e-4, buf, sizeof buf);
    CHECK(!strcmp(buf, "5.00e-04"), "lr '%s'", buf);
    vkti_format_lr(NAN, buf, sizeof buf);
    CHECK(!strcmp(buf, "--"), "lr NaN '%s'", buf);
    vkti_format_loss(0.12345, buf, sizeof buf);
    CHECK(!strcmp(buf, "0.1235") || !strcmp(buf, "0.1234"), "loss '%s'", buf);
    vkti_format_loss(1.234e-5, buf, sizeof buf);
    CHECK(!strcmp(buf, "1.234e-05"), "small loss '%s'", buf);
    vkti_format_loss(0, buf, sizeof buf);
    CHECK(!strcmp(buf, "0"), "zero loss '%s'", buf);
    vkti_format_loss(NAN, buf, sizeof buf);
    CHECK(!strcmp(buf, "nan"), "NaN loss '%s'", buf);
    char tiny[4];
    vkti_format_duration(7385, tiny, sizeof tiny);
    CHECK(strlen(tiny) == 3, "duration into a small buffer");
}

static void test_smoothing(void)
{
    vkti_progress p;
    vkti_progress_init(&p, 0, 1000, 0);
    CHECK(isnan(vkti_progress_loss(&p)) && vkti_progress_steps_per_second(&p) == 0 && vkti_progress_eta(&p) < 0,
          "nothing known before the first update");
    /* setup took 50 s: the first update only marks the start */
    vkti_progress_update(&p, 1, 50.0, 1, 0.5, 1e-4);
    CHECK(vkti_progress_loss(&p) == 0.5, "bias-corrected first reading: %.17g", vkti_progress_loss(&p));
    CHECK(vkti_progress_steps_per_second(&p) == 0, "no speed from the first update");
    /* then 0.25 s per step, updates every 4 steps: 4 it/s exactly, ETA (1000 - 9) / 4 */
    vkti_progress_update(&p, 5, 51.0, 0, NAN, 1e-4);
    vkti_progress_update(&p, 9, 52.0, 1, 0.3, 1e-4);
    CHECK(fabs(vkti_progress_steps_per_second(&p) - 4.0) < 1e-12, "speed %.17g", vkti_progress_steps_per_second(&p));
    CHECK(fabs(vkti_progress_eta(&p) - 991 / 4.0) < 1e-9, "eta %.17g", vkti_progress_eta(&p));
    /* two readings, 0.5 then 0.3: (0.02·0.98·0.5 + 0.02·0.3) / (1 − 0.98²) */
    double want = (0.02 * 0.98 * 0.5 + 0.02 * 0.3) / (1 - 0.98 * 0.98);
    CHECK(fabs(vkti_progress_loss(&p) - want) < 1e-15, "loss EMA %.17g, want %.17g", vkti_progress_loss(&p), want);
    /* a constant loss stays exactly itself; the weight after n readings is 1 − 0.98^n */
    vkti_progress q;
    vkti_progress_init(&q, 0, 100, 0);
    for (int i = 1; i <= 100; i++)
        vkti_progress_update(&q, i, i, 1, 0.25, 1e-3);
    CHECK(fabs(vkti_progress_loss(&q) - 0.25) < 1e-15 && fabs(q.loss_weight - (1 - pow(0.98, 100))) < 1e-12,
          "constant loss %.17g weight %.17g", vkti_progress_loss(&q), q.loss_weight);
    CHECK(fabs(vkti_progress_steps_per_second(&q) - 1.0) < 1e-12 && vkti_progress_eta(&q) == 0, "1 it/s, done");
    /* a change of speed shows at the factor 0.9 per step */
    vkti_progress_update(&q, 101, 102.0, 0, 0, 1e-3); /* one step in 2 s */
    double spp = (0.9 * (1 - pow(0.9, 99)) * 1.0 + 0.1 * 2.0) / (1 - pow(0.9, 100));
    CHECK(fabs(1.0 / vkti_progress_steps_per_second(&q) - spp) < 1e-12, "seconds per step %.17g want %.17g",
          1.0 / vkti_progress_steps_per_second(&q), spp);
    /* non-finite losses are counted, not averaged */
    vkti_progress_update(&q, 102, 103.0, 1, NAN, 1e-3);
    vkti_progress_update(&q, 103, 104.0, 1, INFINITY, 1e-3);
    CHECK(q.nonfinite == 2 && fabs(vkti_progress_loss(&q) - 0.25) < 1e-15, "non-finite");
    /* a resumed run counts from its checkpoint */
    vkti_progress r;
    vkti_progress_init(&r, 400, 1000, 0);
    vkti_progress_update(&r, 401, 10, 1, 0.2, 1e-4);
    vkti_progress_update(&r, 411, 15, 1, 0.2, 1e-4);
    CHECK(fabs(vkti_progress_eta(&r) - 589 * 0.5) < 1e-9, "resumed eta %.17g", vkti_progress_eta(&r));
}

static void test_line(void)
{
    vkti_progress p;
    vkti_progress_init(&p, 0, 5000, 0);
    vkti_progress_update(&p, 1000, 100, 1, 0.1234, 5e-4);
    vkti_progress_update(&p, 1234, 100 + 234 / 3.21, 1, 0.1234, 5e-4);
    char line[256];
    vkti_progress_line(&p, 100 + 234 / 3.21, 0, line, sizeof line);
    CHECK(!strcmp(line, "step 1234/5000 | 24.7% | 3.21 it/s | elapsed 1m12s | ETA 19m33s | loss 0.1234 | lr 5.00e-04"),
          "full line: '%s'", line);
    static const struct { int width; const char *want; } fit[] = {
        {200, "step 1234/5000 | 24.7% | 3.21 it/s | elapsed 1m12s | ETA 19m33s | loss 0.1234 | lr 5.00e-04"},
        {80, "step 1234/5000 | 24.7% | 3.21 it/s | ETA 19m33s | loss 0.1234 | lr 5.00e-04"},
        {70, "step 1234/5000 | 3.21 it/s | ETA 19m33s | loss 0.1234 | lr 5.00e-04"},
        {60, "step 1234/5000 | 3.21 it/s | ETA 19m33s | loss 0.1234"},
        {45, "step 1234/5000 | ETA 19m33s | loss 0.1234"},
        {30, "step 1234/5000 | loss 0.1234"},
        {20, "step 1234/5000"},
        {10, "step 1234"},
        {1, ""},
    };
    for (size_t i = 0; i < sizeof fit / sizeof fit[0]; i++) {
        vkti_progress_line(&p, 100 + 234 / 3.21, fit[i].width, line, sizeof line);
        CHECK(!strcmp(line, fit[i].want) && (int)strlen(line) <= (fit[i].width > 1 ? fit[i].width - 1 : 0),
              "width %d: '%s'", fit[i].width, line);
    }
    vkti_progress_update(&p, 1235, 200, 1, NAN, 5e-4);
    vkti_progress_line(&p, 200, 0, line, sizeof line);
    CHECK(strstr(line, "| 1 non-finite |") != NULL, "non-finite shown: '%s'", line);
    vkti_progress_line(&p, 200, 40, line, sizeof line);
    CHECK(!strcmp(line, "step 1235/5000 | loss 0.1234"), "narrow line keeps loss first: '%s'", line);
    char small[8];
    vkti_progress_line(&p, 200, 0, small, sizeof small);
    CHECK(strlen(small) == 7, "line into a small buffer");
}

static void test_render(void)
{
    vkti_progress p;
    vkti_progress_init(&p, 0, 100, 5.0);
    char out[512];
    /* on a terminal: redrawn in place, at most every 0.1 s; shorter lines erase longer ones */
    vkti_progress_update(&p, 1, 1.0, 1, 1234.5678, 1e-4);
    CHECK(vkti_progress_render(&p, 1.0, 1, 80, 0, out, sizeof out) == 1 && out[0] == '\r' && !strchr(out, '\n'),
          "first draw '%s'", out);
    int first_len = (int)strlen(out) - 1;
    CHECK(vkti_progress_render(&p, 1.05, 1, 80, 0, out, sizeof out) == 0 && out[0] == 0, "too soon");
    for (int i = 2; i <= 50; i++)
        vkti_progress_update(&p, i, 1.0 + 0.01 * i, 1, 0.001, 1e-4);
    CHECK(vkti_progress_render(&p, 1.5, 1, 80, 0, out, sizeof out) == 1 && (int)strlen(out) - 1 >= first_len,
          "redraw covers the previous line: %d < %d", (int)strlen(out) - 1, first_len);
    CHECK(vkti_progress_render(&p, 1.55, 1, 80, 1, out, sizeof out) == 1 && out[strlen(out) - 1] == '\n',
          "final draw ends the line");
    /* elsewhere: a line every interval (5 s here), and the final one */
    vkti_progress q;
    vkti_progress_init(&q, 0, 100, 5.0);
    int lines = 0;
    for (int i = 1; i <= 100; i++) {
        vkti_progress_update(&q, i, 0.2 * i, 1, 0.1, 1e-4);
        if (vkti_progress_render(&q, 0.2 * i, 0, 0, i == 100, out, sizeof out)) {
            lines++;
            CHECK(out[0] != '\r' && out[strlen(out) - 1] == '\n' && !strchr(out, '\r'), "log line '%s'", out);
        }
    }
    CHECK(lines == 5, "a 20 s run logged every 5 s gives %d lines, want 5 (0, 5, 10, 15 s and the end)", lines);
    CHECK(vkti_progress_render(&q, 100, 0, 0, 0, out, 0) == 0, "no buffer");
}

int main(void)
{
    test_format();
    test_smoothing();
    test_line();
    test_render();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
