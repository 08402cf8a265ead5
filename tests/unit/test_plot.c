/* test_plot.c — src/train/plot: nice ticks and labels; the loss curve on a typical run, with
 * NaN / inf points (left out, counted, the line carries on), a spike (kept off the y range),
 * a single point, constant values, only validation points, no data at all, a log axis with
 * zeros and negatives, tiny magnitudes, 100000 points; bad sizes refused; the PNG written. Every
 * picture is also written to the scratch directory for a look. */
#include <math.h>

#include "unit_util.h"

#include <stb_image.h>

#include "train/plot.h"

static vkti_diag D;
static char DIR_[512];

/* pixels of exactly this colour */
static int count_color(const vkti_canvas *c, uint32_t color)
{
    int n = 0;
    for (int i = 0; i < c->w * c->h; i++)
        n += c->rgb[i * 3] == (color >> 16 & 255) && c->rgb[i * 3 + 1] == (color >> 8 & 255) &&
             c->rgb[i * 3 + 2] == (color & 255);
    return n;
}

static int render(const char *name, const vkti_loss_plot *p, vkti_plot_info *info, vkti_canvas *c)
{
    int rc = vkti_plot_loss_render(&D, c, p, info);
    if (rc == VKTI_OK) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s.png", DIR_, name);
        vkti_png_write(&D, path, c->rgb, c->w, c->h, 3, NULL, 0);
    }
    return rc;
}

static void test_ticks(void)
{
    double t[64];
    int n = vkti_plot_ticks(0, 1, 0, t, 64);
    CHECK(n == 6 && t[0] == 0 && fabs(t[5] - 1) < 1e-12 && fabs(t[1] - 0.2) < 1e-12, "0..1: %d ticks", n);
    n = vkti_plot_ticks(0.013, 0.087, 0, t, 64);
    CHECK(n >= 5 && n <= 10 && t[0] >= 0.013 && t[n - 1] <= 0.087, "0.013..0.087: %d ticks from %g", n, t[0]);
    n = vkti_plot_ticks(0, 5000, 0, t, 64);
    CHECK(n == 6 && t[1] == 1000, "0..5000: %d ticks, step %g", n, n > 1 ? t[1] - t[0] : 0);
    n = vkti_plot_ticks(-3, 7, 0, t, 64);
    CHECK(n == 5 && t[0] == -2 && t[1] == 0 && t[4] == 6, "-3..7: %d ticks %g %g", n, t[0], t[1]);
    n = vkti_plot_ticks(0.01, 5, 1, t, 64); /* under three decades: 1, 2, 5 x 10^k */
    CHECK(n == 9 && fabs(t[0] - 0.01) < 1e-12 && fabs(t[1] - 0.02) < 1e-12 && fabs(t[8] - 5) < 1e-9,
          "log 0.01..5: %d", n);
    n = vkti_plot_ticks(0.01, 10, 1, t, 64); /* three decades: powers of ten */
    CHECK(n == 4 && fabs(t[0] - 0.01) < 1e-12 && fabs(t[3] - 10) < 1e-9, "log 0.01..10: %d", n);
    n = vkti_plot_ticks(1e-6, 1e3, 1, t, 64);
    CHECK(n == 10, "log over 9 decades: decades only (%d)", n);
    n = vkti_plot_ticks(0.11, 0.19, 1, t, 64);
    CHECK(n >= 3 && t[0] >= 0.11 && t[n - 1] <= 0.19, "log within a decade falls back: %d", n);
    CHECK(vkti_plot_ticks(1, 1, 0, t, 64) == 0 && vkti_plot_ticks(NAN, 1, 0, t, 64) == 0 &&
              vkti_plot_ticks(0, INFINITY, 0, t, 64) == 0,
          "degenerate ranges give no ticks");
    n = vkti_plot_ticks(0, 1e9, 0, t, 3);
    CHECK(n == 3, "max respected");
    char s[32];
    vkti_plot_tick_label(s, sizeof s, 0.2, 0.2);
    CHECK(!strcmp(s, "0.2"), "label %s", s);
    vkti_plot_tick_label(s, sizeof s, 0.05, 0.05);
    CHECK(!strcmp(s, "0.05"), "label %s", s);
    vkti_plot_tick_label(s, sizeof s, 1500, 500);
    CHECK(!strcmp(s, "1500"), "label %s", s);
    vkti_plot_tick_label(s, sizeof s, 2e-7, 1e-7);
    CHECK(!strcmp(s, "2e-07"), "label %s", s);
    vkti_plot_tick_label(s, sizeof s, 0, 0.1);
    CHECK(!strcmp(s, "0"), "label %s", s);
}

static void test_plots(void)
{
    enum { N = 1500, V = 16 };
    static double step[N], loss[N], vs[V], vl[V];
    uint32_t seed = 7;
    for (int i = 0; i < N; i++) {
        step[i] = i + 1;
        double noise = (urand(&seed) % 10000) / 10000.0;
        loss[i] = 0.05 + 0.25 * exp(-i / 400.0) + 0.2 * noise * noise;
    }
    for (int i = 0; i < V; i++) {
        vs[i] = (i + 1) * 100;
        vl[i] = 0.12 + 0.1 * exp(-(i + 1) * 100 / 400.0);
    }
    vkti_loss_plot p = {.title = "<my-cat>: loss", .train_step = step, .train_loss = loss, .train_n = N,
                        .val_step = vs, .val_loss = vl, .val_n = V};
    vkti_canvas c;
    vkti_plot_info info;
    int rc = render("typical", &p, &info, &c);
    CHECK(rc == VKTI_OK && c.w == 960 && c.h == 540, "typical run: %s", D.msg);
    CHECK(info.plotted == N + V && info.left_out == 0 && info.x_lo < 1 && info.x_hi > N, "info: %d plotted",
          info.plotted);
    CHECK(info.y_lo < 0.06 && info.y_hi > 0.3 && info.y_hi < 0.6, "y range %g..%g", info.y_lo, info.y_hi);
    CHECK(fabs(info.smoothing - 0.99) < 1e-12, "auto smoothing %g", info.smoothing);
    CHECK(count_color(&c, 0x1a4c96) > 300 && count_color(&c, 0xe0701b) > 100, "smoothed and validation lines drawn");
    vkti_canvas_free(&c);

    /* NaN, inf and absurd values: left out and counted, the average carries on */
    static double bad[N];
    memcpy(bad, loss, sizeof bad);
    for (int i = 0; i < N; i += 10)
        bad[i] = i % 20 ? NAN : INFINITY;
    bad[5] = 1e300;
    bad[7] = -INFINITY;
    double vbad[V];
    memcpy(vbad, vl, sizeof vbad);
    vbad[3] = NAN;
    p.train_loss = bad;
    p.val_loss = vbad;
    p.smoothing = 0.9;
    rc = render("nan", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.left_out == N / 10 + 2 + 1 && info.plotted == N + V - info.left_out &&
              isfinite(info.y_lo) && isfinite(info.y_hi) && info.y_hi < 1,
          "NaN points: %d left out, y %g..%g", info.left_out, info.y_lo, info.y_hi);
    CHECK(count_color(&c, 0x1a4c96) > 300, "the average carries on past NaN");
    vkti_canvas_free(&c);

    /* one spike does not flatten the curve; it is drawn on the frame */
    memcpy(bad, loss, sizeof bad);
    bad[700] = 50;
    p.train_loss = bad;
    p.val_loss = vl;
    rc = render("spike", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.y_hi < 1 && info.clipped >= 1, "spike: y_hi %g, %d clipped", info.y_hi, info.clipped);
    vkti_canvas_free(&c);

    /* a single point; constant values; validation only; nothing */
    double one_x = 42, one_y = 0.3;
    p = (vkti_loss_plot){.train_step = &one_x, .train_loss = &one_y, .train_n = 1};
    rc = render("single", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.plotted == 1 && info.x_lo < 42 && info.x_hi > 42 && info.y_lo < 0.3 &&
              info.y_hi > 0.3,
          "single point: x %g..%g y %g..%g", info.x_lo, info.x_hi, info.y_lo, info.y_hi);
    CHECK(count_color(&c, 0x1a4c96) > 0, "single point visible");
    vkti_canvas_free(&c);
    static double flat[N];
    for (int i = 0; i < N; i++)
        flat[i] = 0.25;
    p = (vkti_loss_plot){.train_step = step, .train_loss = flat, .train_n = N};
    rc = render("flat", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.y_lo < 0.25 && info.y_hi > 0.25, "constant: y %g..%g", info.y_lo, info.y_hi);
    vkti_canvas_free(&c);
    for (int i = 0; i < N; i++)
        flat[i] = 0;
    rc = render("zeros", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.y_lo < 0 && info.y_hi > 0, "all zero: y %g..%g", info.y_lo, info.y_hi);
    vkti_canvas_free(&c);
    p = (vkti_loss_plot){.val_step = vs, .val_loss = vl, .val_n = V, .title = "validation only"};
    rc = render("val_only", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.plotted == V && count_color(&c, 0xe0701b) > 50, "validation only");
    vkti_canvas_free(&c);
    p = (vkti_loss_plot){.train_step = step, .train_loss = flat, .train_n = 0};
    rc = render("empty", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.plotted == 0, "no data");
    vkti_canvas_free(&c);
    for (int i = 0; i < 20; i++)
        bad[i] = NAN;
    p = (vkti_loss_plot){.train_step = step, .train_loss = bad, .train_n = 20};
    rc = render("all_nan", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.plotted == 0 && info.left_out == 20, "all NaN");
    vkti_canvas_free(&c);

    /* log axis: zeros and negatives left out; decades across the range */
    memcpy(bad, loss, sizeof bad);
    bad[3] = 0;
    bad[4] = -0.1;
    for (int i = 0; i < N; i++)
        bad[i] = bad[i] > 0 ? bad[i] * pow(10, -3.0 * i / N) : bad[i];
    p = (vkti_loss_plot){.train_step = step, .train_loss = bad, .train_n = N, .val_step = vs, .val_loss = vl,
                         .val_n = V, .log_y = 1, .title = "log scale"};
    rc = render("log", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.left_out == 2 && info.y_lo > 0 && info.y_lo < 1e-3 && info.y_hi > 0.3,
          "log axis: %d left out, y %g..%g", info.left_out, info.y_lo, info.y_hi);
    vkti_canvas_free(&c);
    /* tiny magnitudes */
    for (int i = 0; i < N; i++)
        bad[i] = loss[i] * 1e-7;
    p = (vkti_loss_plot){.train_step = step, .train_loss = bad, .train_n = N};
    rc = render("tiny", &p, &info, &c);
    CHECK(rc == VKTI_OK && info.y_hi < 1e-6 && info.y_lo > 0, "tiny values: y %g..%g", info.y_lo, info.y_hi);
    vkti_canvas_free(&c);

    /* 100000 points, at a small size */
    enum { M = 100000 };
    double *ms = malloc(M * sizeof *ms), *ml = malloc(M * sizeof *ml);
    for (int i = 0; i < M; i++) {
        ms[i] = i;
        ml[i] = 0.1 + 0.1 * ((urand(&seed) % 1000) / 1000.0) + 0.2 * exp(-i / 20000.0);
    }
    p = (vkti_loss_plot){.train_step = ms, .train_loss = ml, .train_n = M, .width = 400, .height = 240};
    double t0 = vkti_now();
    rc = render("many", &p, &info, &c);
    double secs = vkti_now() - t0;
    CHECK(rc == VKTI_OK && info.plotted == M && c.w == 400 && c.h == 240, "100000 points");
    printf("100000 points plotted in %.2f s\n", secs);
    vkti_canvas_free(&c);
    free(ms);
    free(ml);

    /* refusals */
    p = (vkti_loss_plot){.train_step = step, .train_loss = loss, .train_n = N, .width = 100};
    CHECK(vkti_plot_loss_render(&D, &c, &p, NULL) == VKTI_E_INVALID && !c.rgb, "width 100 refused");
    p = (vkti_loss_plot){.train_step = NULL, .train_loss = loss, .train_n = N};
    CHECK(vkti_plot_loss_render(&D, &c, &p, NULL) == VKTI_E_INVALID, "missing array refused");

    /* written as a PNG of the asked size */
    char path[700];
    snprintf(path, sizeof path, "%s/written.png", DIR_);
    p = (vkti_loss_plot){.train_step = step, .train_loss = loss, .train_n = N, .width = 640, .height = 360,
                         .title = "run \xe2\x9c\x93"};
    rc = vkti_plot_loss_write(&D, path, &p, NULL);
    int w = 0, h = 0, ch = 0;
    CHECK(rc == VKTI_OK && stbi_info(path, &w, &h, &ch) && w == 640 && h == 360, "written %dx%d: %s", w, h, D.msg);
}

int main(void)
{
    scratch_dir(DIR_, sizeof DIR_, "plot");
    test_ticks();
    test_plots();
    printf("pictures in %s\n", DIR_);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
