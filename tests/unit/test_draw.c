/* test_draw.c — src/io/draw: every glyph has ink inside its 5x8 box and the glyphs differ, text
 * widths, fitting with "..", clipping at and far beyond the edges, anti-aliased line coverage
 * (ink = length x width), blending, blits. Writes draw-sample.png (all glyphs, lines) into the
 * scratch directory for a look. */
#include <math.h>

#include "unit_util.h"

#include "io/draw.h"

#define PI 3.14159265358979323846

static vkti_diag D;

/* total ink (sum over pixels of how far each moved from white towards black, 0..1) */
static double ink(const vkti_canvas *c)
{
    double s = 0;
    for (int i = 0; i < c->w * c->h; i++)
        s += (255 - c->rgb[i * 3]) / 255.0;
    return s;
}

static void test_font(void)
{
    int empty = 0, same = 0;
    uint8_t g[95][VKTI_FONT_H];
    for (int ch = 32; ch < 127; ch++) {
        vkti_font_glyph(ch, g[ch - 32]);
        int bits = 0;
        for (int r = 0; r < VKTI_FONT_H; r++) {
            if (g[ch - 32][r] & ~0x1f)
                bits += 100; /* ink outside the 5 columns */
            for (int k = 0; k < 5; k++)
                bits += (g[ch - 32][r] >> k) & 1;
        }
        if ((bits == 0) != (ch == ' ') || bits >= 100)
            empty++;
    }
    for (int a = 0; a < 95; a++)
        for (int b = a + 1; b < 95; b++)
            if (!memcmp(g[a], g[b], VKTI_FONT_H))
                same++;
    CHECK(empty == 0, "%d glyphs empty or too wide", empty);
    CHECK(same == 0, "%d pairs of identical glyphs", same);
    uint8_t q[VKTI_FONT_H], u[VKTI_FONT_H];
    vkti_font_glyph('?', q);
    vkti_font_glyph(200, u);
    CHECK(!memcmp(q, u, VKTI_FONT_H), "non-ASCII shows as '?'");

    CHECK(vkti_text_width("", 1) == 0 && vkti_text_width("A", 1) == 5 && vkti_text_width("AB", 1) == 11 &&
              vkti_text_width("AB", 2) == 22 && vkti_text_width("ABC\nA", 1) == 17,
          "text widths %d %d %d", vkti_text_width("A", 1), vkti_text_width("AB", 1), vkti_text_width("ABC\nA", 1));
    CHECK(vkti_text_width("caf\xc3\xa9", 1) == 4 * 6 - 1, "one '?' per UTF-8 character");
}

static void test_drawing(void)
{
    vkti_canvas c;
    CHECK(vkti_canvas_init(&D, &c, 0, 10, 0) == VKTI_E_INVALID, "empty canvas refused");
    CHECK(vkti_canvas_init(&D, &c, 200, 100, 0xffffff) == VKTI_OK, "canvas");
    CHECK(ink(&c) == 0, "background");
    /* a horizontal 3-pixel line 100 long: ink = 100 x 3 plus the round caps (pi * 1.5^2) */
    vkti_draw_line(&c, 50, 50.5, 150, 50.5, 0x000000, 3, 1);
    double want = 100 * 3 + PI * 1.5 * 1.5, got = ink(&c);
    CHECK(fabs(got - want) < 0.03 * want, "line ink %.1f, want %.1f", got, want);
    memset(c.rgb, 255, (size_t)200 * 100 * 3);
    /* a diagonal: same ink whatever the angle */
    vkti_draw_line(&c, 20, 10, 20 + 60, 10 + 80, 0x000000, 2, 1);
    want = 100 * 2 + PI;
    got = ink(&c);
    CHECK(fabs(got - want) < 0.03 * want, "diagonal ink %.1f, want %.1f", got, want);
    memset(c.rgb, 255, (size_t)200 * 100 * 3);
    /* half alpha: half the ink */
    vkti_draw_line(&c, 50, 50.5, 150, 50.5, 0x000000, 3, 0.5f);
    want = (100 * 3 + PI * 1.5 * 1.5) / 2;
    got = ink(&c);
    CHECK(fabs(got - want) < 0.04 * want, "alpha 0.5 line ink %.1f, want %.1f", got, want);
    memset(c.rgb, 255, (size_t)200 * 100 * 3);
    /* a dot of radius 4: pi r^2 */
    vkti_draw_dot(&c, 100, 50, 4, 0, 1);
    got = ink(&c);
    CHECK(fabs(got - PI * 16) < 0.05 * PI * 16, "dot ink %.1f", got);
    memset(c.rgb, 255, (size_t)200 * 100 * 3);
    /* clipping: lines and rects past every edge, huge and non-finite coordinates */
    vkti_draw_line(&c, -1e9, -1e9, 1e9, 1e9, 0, 2, 1);
    vkti_draw_line(&c, NAN, 0, 10, 10, 0, 2, 1);
    vkti_draw_line(&c, 0, INFINITY, 10, 10, 0, 2, 1);
    vkti_draw_line(&c, -50, -50, -40, -40, 0, 2, 1);
    vkti_draw_fill_rect(&c, -10, -10, 1000, 5, 0, 1);
    vkti_draw_rect(&c, 190, 90, 50, 50, 0);
    vkti_draw_text(&c, 195, 95, 3, 0, "clipped text");
    vkti_draw_text(&c, -100, -100, 1, 0, "off");
    vkti_draw_text_up(&c, 5, 5, 2, 0, "up");
    uint8_t blk[4 * 4 * 3];
    memset(blk, 0, sizeof blk);
    vkti_draw_blit(&c, 198, 98, blk, 4, 4);
    vkti_draw_blit(&c, -2, -2, blk, 4, 4);
    CHECK(c.rgb[0] == 0 && c.rgb[(99 * 200 + 199) * 3] == 0, "blits clipped at the corners");
    /* the big diagonal passes through (50, 50) */
    CHECK(c.rgb[(50 * 200 + 50) * 3] < 128, "long diagonal clipped, still drawn");
    /* blend */
    memset(c.rgb, 0, (size_t)200 * 100 * 3);
    vkti_draw_blend(&c, 3, 3, 0xff8000, 0.5f);
    CHECK(c.rgb[(3 * 200 + 3) * 3] == 128 && c.rgb[(3 * 200 + 3) * 3 + 1] == 64 && c.rgb[(3 * 200 + 3) * 3 + 2] == 0,
          "blend %d %d %d", c.rgb[(3 * 200 + 3) * 3], c.rgb[(3 * 200 + 3) * 3 + 1], c.rgb[(3 * 200 + 3) * 3 + 2]);
    vkti_canvas_free(&c);

    /* fitting text: long names keep their ends */
    vkti_canvas_init(&D, &c, 300, 20, 0xffffff);
    int wdt = vkti_draw_text_fit(&c, 0, 0, 60, 1, 0, "IMG_20230102_123456789.jpg");
    CHECK(wdt <= 60 && wdt > 40, "fitted width %d", wdt);
    wdt = vkti_draw_text_fit(&c, 0, 10, 100, 1, 0, "short.png");
    CHECK(wdt == vkti_text_width("short.png", 1), "short text unchanged");
    CHECK(vkti_draw_text_fit(&c, 0, 0, 5, 1, 0, "toolong") == 0, "no room: nothing drawn");
    vkti_canvas_free(&c);
}

static void sample(void)
{
    vkti_canvas c;
    vkti_canvas_init(&D, &c, 420, 150, 0xffffff);
    char line[40];
    for (int row = 0; row < 3; row++) {
        int n = 0;
        for (int ch = 32 + row * 32; ch < 127 && ch < 64 + row * 32; ch++)
            line[n++] = (char)ch;
        line[n] = 0;
        vkti_draw_text(&c, 4, 4 + row * 12, 1, 0x000000, line);
    }
    vkti_draw_text(&c, 4, 44, 2, 0x203080, "Loss 0.1234 <tok>");
    vkti_draw_text_fit(&c, 4, 66, 120, 1, 0xa02020, "a_very_long_file_name_here.jpeg");
    vkti_draw_text_up(&c, 300, 140, 1, 0x000000, "vertical");
    for (int k = 0; k < 8; k++)
        vkti_draw_line(&c, 140 + k * 12, 80, 180 + k * 20, 140, 0x1060c0, 0.5 + k * 0.5, 1);
    vkti_draw_dot(&c, 360, 40, 6, 0xe04040, 0.6f);
    vkti_draw_rect(&c, 0, 0, 420, 150, 0x808080);
    char dir[512], path[600];
    scratch_dir(dir, sizeof dir, "draw");
    snprintf(path, sizeof path, "%s/draw-sample.png", dir);
    CHECK(vkti_png_write(&D, path, c.rgb, c.w, c.h, 3, NULL, 0) == VKTI_OK, "sample: %s", D.msg);
    printf("wrote %s\n", path);
    vkti_canvas_free(&c);
}

int main(void)
{
    test_font();
    test_drawing();
    sample();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
