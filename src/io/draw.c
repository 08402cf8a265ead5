/* draw.c — drawing on an RGB canvas: alpha blending, rectangles, anti-aliased lines and dots
 * (coverage from the exact distance to the segment), blits, and text in vkti's own 5x8 bitmap
 * font. See draw.h. */
#include "io/draw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The font, printable ASCII 32..126: eight rows per glyph, bit 4 the leftmost pixel; the
 * comment draws each glyph row by row (top to bottom, '#' ink). Capitals and digits use rows
 * 0..6; g j p q y , ; and _ reach into row 7. */
static const uint8_t FONT[95][VKTI_FONT_H] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, /* ' ' .....|.....|.....|.....|.....|.....|.....|..... */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04, 0x00}, /* '!' ..#..|..#..|..#..|..#..|..#..|.....|..#..|..... */
    {0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '"' .#.#.|.#.#.|.....|.....|.....|.....|.....|..... */
    {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a, 0x00}, /* '#' .#.#.|.#.#.|#####|.#.#.|#####|.#.#.|.#.#.|..... */
    {0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04, 0x00}, /* '$' ..#..|.####|#.#..|.###.|..#.#|####.|..#..|..... */
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03, 0x00}, /* '%' ##...|##..#|...#.|..#..|.#...|#..##|...##|..... */
    {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d, 0x00}, /* '&' .##..|#..#.|#.#..|.#...|#.#.#|#..#.|.##.#|..... */
    {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '\'' ..#..|..#..|.#...|.....|.....|.....|.....|..... */
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02, 0x00}, /* '(' ...#.|..#..|.#...|.#...|.#...|..#..|...#.|..... */
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08, 0x00}, /* ')' .#...|..#..|...#.|...#.|...#.|..#..|.#...|..... */
    {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00, 0x00}, /* '*' .....|..#..|#.#.#|.###.|#.#.#|..#..|.....|..... */
    {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00, 0x00}, /* '+' .....|..#..|..#..|#####|..#..|..#..|.....|..... */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}, /* ',' .....|.....|.....|.....|.....|.##..|..#..|.#... */
    {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00}, /* '-' .....|.....|.....|#####|.....|.....|.....|..... */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c, 0x00}, /* '.' .....|.....|.....|.....|.....|.##..|.##..|..... */
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00, 0x00}, /* '/' .....|....#|...#.|..#..|.#...|#....|.....|..... */
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e, 0x00}, /* '0' .###.|#...#|#..##|#.#.#|##..#|#...#|.###.|..... */
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e, 0x00}, /* '1' ..#..|.##..|..#..|..#..|..#..|..#..|.###.|..... */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f, 0x00}, /* '2' .###.|#...#|....#|...#.|..#..|.#...|#####|..... */
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e, 0x00}, /* '3' #####|...#.|..#..|...#.|....#|#...#|.###.|..... */
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02, 0x00}, /* '4' ...#.|..##.|.#.#.|#..#.|#####|...#.|...#.|..... */
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e, 0x00}, /* '5' #####|#....|####.|....#|....#|#...#|.###.|..... */
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e, 0x00}, /* '6' ..##.|.#...|#....|####.|#...#|#...#|.###.|..... */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08, 0x00}, /* '7' #####|....#|...#.|..#..|.#...|.#...|.#...|..... */
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e, 0x00}, /* '8' .###.|#...#|#...#|.###.|#...#|#...#|.###.|..... */
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c, 0x00}, /* '9' .###.|#...#|#...#|.####|....#|...#.|.##..|..... */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00, 0x00}, /* ':' .....|.##..|.##..|.....|.##..|.##..|.....|..... */
    {0x00, 0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}, /* ';' .....|.....|.##..|.##..|.....|.##..|..#..|.#... */
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02, 0x00}, /* '<' ...#.|..#..|.#...|#....|.#...|..#..|...#.|..... */
    {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00, 0x00}, /* '=' .....|.....|#####|.....|#####|.....|.....|..... */
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08, 0x00}, /* '>' .#...|..#..|...#.|....#|...#.|..#..|.#...|..... */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00}, /* '?' .###.|#...#|....#|...#.|..#..|.....|..#..|..... */
    {0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e, 0x00}, /* '@' .###.|#...#|....#|.##.#|#.#.#|#.#.#|.###.|..... */
    {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11, 0x00}, /* 'A' .###.|#...#|#...#|#####|#...#|#...#|#...#|..... */
    {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e, 0x00}, /* 'B' ####.|#...#|#...#|####.|#...#|#...#|####.|..... */
    {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e, 0x00}, /* 'C' .###.|#...#|#....|#....|#....|#...#|.###.|..... */
    {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c, 0x00}, /* 'D' ###..|#..#.|#...#|#...#|#...#|#..#.|###..|..... */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f, 0x00}, /* 'E' #####|#....|#....|####.|#....|#....|#####|..... */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10, 0x00}, /* 'F' #####|#....|#....|####.|#....|#....|#....|..... */
    {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f, 0x00}, /* 'G' .###.|#...#|#....|#.###|#...#|#...#|.####|..... */
    {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11, 0x00}, /* 'H' #...#|#...#|#...#|#####|#...#|#...#|#...#|..... */
    {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e, 0x00}, /* 'I' .###.|..#..|..#..|..#..|..#..|..#..|.###.|..... */
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c, 0x00}, /* 'J' ..###|...#.|...#.|...#.|...#.|#..#.|.##..|..... */
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11, 0x00}, /* 'K' #...#|#..#.|#.#..|##...|#.#..|#..#.|#...#|..... */
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f, 0x00}, /* 'L' #....|#....|#....|#....|#....|#....|#####|..... */
    {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11, 0x00}, /* 'M' #...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#|..... */
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x00}, /* 'N' #...#|#...#|##..#|#.#.#|#..##|#...#|#...#|..... */
    {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e, 0x00}, /* 'O' .###.|#...#|#...#|#...#|#...#|#...#|.###.|..... */
    {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10, 0x00}, /* 'P' ####.|#...#|#...#|####.|#....|#....|#....|..... */
    {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d, 0x00}, /* 'Q' .###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#|..... */
    {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11, 0x00}, /* 'R' ####.|#...#|#...#|####.|#.#..|#..#.|#...#|..... */
    {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e, 0x00}, /* 'S' .####|#....|#....|.###.|....#|....#|####.|..... */
    {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00}, /* 'T' #####|..#..|..#..|..#..|..#..|..#..|..#..|..... */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e, 0x00}, /* 'U' #...#|#...#|#...#|#...#|#...#|#...#|.###.|..... */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04, 0x00}, /* 'V' #...#|#...#|#...#|#...#|#...#|.#.#.|..#..|..... */
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a, 0x00}, /* 'W' #...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.|..... */
    {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11, 0x00}, /* 'X' #...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#|..... */
    {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04, 0x00}, /* 'Y' #...#|#...#|.#.#.|..#..|..#..|..#..|..#..|..... */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f, 0x00}, /* 'Z' #####|....#|...#.|..#..|.#...|#....|#####|..... */
    {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e, 0x00}, /* '[' .###.|.#...|.#...|.#...|.#...|.#...|.###.|..... */
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00, 0x00}, /* '\\' .....|#....|.#...|..#..|...#.|....#|.....|..... */
    {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e, 0x00}, /* ']' .###.|...#.|...#.|...#.|...#.|...#.|.###.|..... */
    {0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '^' ..#..|.#.#.|#...#|.....|.....|.....|.....|..... */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}, /* '_' .....|.....|.....|.....|.....|.....|.....|##### */
    {0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '`' .#...|..#..|.....|.....|.....|.....|.....|..... */
    {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f, 0x00}, /* 'a' .....|.....|.###.|....#|.####|#...#|.####|..... */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e, 0x00}, /* 'b' #....|#....|#.##.|##..#|#...#|#...#|####.|..... */
    {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e, 0x00}, /* 'c' .....|.....|.###.|#....|#....|#...#|.###.|..... */
    {0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f, 0x00}, /* 'd' ....#|....#|.##.#|#..##|#...#|#...#|.####|..... */
    {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e, 0x00}, /* 'e' .....|.....|.###.|#...#|#####|#....|.###.|..... */
    {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08, 0x00}, /* 'f' ..##.|.#..#|.#...|###..|.#...|.#...|.#...|..... */
    {0x00, 0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* 'g' .....|.....|.####|#...#|#...#|.####|....#|.###. */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00}, /* 'h' #....|#....|#.##.|##..#|#...#|#...#|#...#|..... */
    {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e, 0x00}, /* 'i' ..#..|.....|.##..|..#..|..#..|..#..|.###.|..... */
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x02, 0x12, 0x0c}, /* 'j' ...#.|.....|..##.|...#.|...#.|...#.|#..#.|.##.. */
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12, 0x00}, /* 'k' #....|#....|#..#.|#.#..|##...|#.#..|#..#.|..... */
    {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e, 0x00}, /* 'l' .##..|..#..|..#..|..#..|..#..|..#..|.###.|..... */
    {0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11, 0x00}, /* 'm' .....|.....|##.#.|#.#.#|#.#.#|#...#|#...#|..... */
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00}, /* 'n' .....|.....|#.##.|##..#|#...#|#...#|#...#|..... */
    {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e, 0x00}, /* 'o' .....|.....|.###.|#...#|#...#|#...#|.###.|..... */
    {0x00, 0x00, 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10}, /* 'p' .....|.....|####.|#...#|#...#|####.|#....|#.... */
    {0x00, 0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x01}, /* 'q' .....|.....|.####|#...#|#...#|.####|....#|....# */
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10, 0x00}, /* 'r' .....|.....|#.##.|##..#|#....|#....|#....|..... */
    {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e, 0x00}, /* 's' .....|.....|.####|#....|.###.|....#|####.|..... */
    {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06, 0x00}, /* 't' .#...|.#...|###..|.#...|.#...|.#..#|..##.|..... */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d, 0x00}, /* 'u' .....|.....|#...#|#...#|#...#|#..##|.##.#|..... */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04, 0x00}, /* 'v' .....|.....|#...#|#...#|#...#|.#.#.|..#..|..... */
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a, 0x00}, /* 'w' .....|.....|#...#|#...#|#.#.#|#.#.#|.#.#.|..... */
    {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x00}, /* 'x' .....|.....|#...#|.#.#.|..#..|.#.#.|#...#|..... */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* 'y' .....|.....|#...#|#...#|#...#|.####|....#|.###. */
    {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f, 0x00}, /* 'z' .....|.....|#####|...#.|..#..|.#...|#####|..... */
    {0x03, 0x04, 0x04, 0x08, 0x04, 0x04, 0x03, 0x00}, /* '{' ...##|..#..|..#..|.#...|..#..|..#..|...##|..... */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00}, /* '|' ..#..|..#..|..#..|..#..|..#..|..#..|..#..|..... */
    {0x18, 0x04, 0x04, 0x02, 0x04, 0x04, 0x18, 0x00}, /* '}' ##...|..#..|..#..|...#.|..#..|..#..|##...|..... */
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00, 0x00}, /* '~' .....|.....|.#...|#.#.#|...#.|.....|.....|..... */
};

void vkti_font_glyph(int ch, uint8_t rows[VKTI_FONT_H])
{
    if (ch < 32 || ch > 126)
        ch = '?';
    memcpy(rows, FONT[ch - 32], VKTI_FONT_H);
}

int vkti_canvas_init(vkti_diag *d, vkti_canvas *c, int w, int h, uint32_t background)
{
    memset(c, 0, sizeof *c);
    if (w <= 0 || h <= 0 || w > 32768 || h > 32768)
        return vkti_fail(d, VKTI_E_INVALID, "a %dx%d canvas is not a size vkti draws", w, h);
    size_t n = (size_t)w * (size_t)h;
    c->rgb = malloc(n * 3);
    if (!c->rgb)
        return vkti_fail(d, VKTI_E_OOM, "out of memory for a %dx%d picture", w, h);
    c->w = w;
    c->h = h;
    for (size_t i = 0; i < n; i++) {
        c->rgb[i * 3 + 0] = (uint8_t)(background >> 16);
        c->rgb[i * 3 + 1] = (uint8_t)(background >> 8);
        c->rgb[i * 3 + 2] = (uint8_t)background;
    }
    return VKTI_OK;
}

void vkti_canvas_free(vkti_canvas *c)
{
    if (!c)
        return;
    free(c->rgb);
    memset(c, 0, sizeof *c);
}

void vkti_draw_blend(vkti_canvas *c, int x, int y, uint32_t color, float alpha)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h || !(alpha > 0))
        return;
    if (alpha > 1)
        alpha = 1;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    for (int k = 0; k < 3; k++) {
        float src = (float)((color >> (16 - 8 * k)) & 0xffu);
        p[k] = (uint8_t)(p[k] + (src - p[k]) * alpha + 0.5f);
    }
}

void vkti_draw_fill_rect(vkti_canvas *c, int x, int y, int w, int h, uint32_t color, float alpha)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
    for (int j = y0; j < y1; j++)
        for (int i = x0; i < x1; i++)
            vkti_draw_blend(c, i, j, color, alpha);
}

void vkti_draw_rect(vkti_canvas *c, int x, int y, int w, int h, uint32_t color)
{
    if (w <= 0 || h <= 0)
        return;
    vkti_draw_fill_rect(c, x, y, w, 1, color, 1);
    vkti_draw_fill_rect(c, x, y + h - 1, w, 1, color, 1);
    vkti_draw_fill_rect(c, x, y, 1, h, color, 1);
    vkti_draw_fill_rect(c, x + w - 1, y, 1, h, color, 1);
}

/* distance from (px, py) to the segment (x0, y0)-(x1, y1) */
static double seg_dist(double px, double py, double x0, double y0, double x1, double y1)
{
    double dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = x0 + t * dx - px, ey = y0 + t * dy - py;
    return sqrt(ex * ex + ey * ey);
}

void vkti_draw_line(vkti_canvas *c, double x0, double y0, double x1, double y1, uint32_t color, double width,
                    float alpha)
{
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) || !(width > 0))
        return;
    /* far outside the canvas: nothing to draw (and no huge loops) */
    double lim = 4.0 * (c->w + c->h) + width;
    if (fabs(x0) > lim || fabs(x1) > lim || fabs(y0) > lim || fabs(y1) > lim) {
        /* clip the segment to a box around the canvas first */
        double bx0 = -width - 2, by0 = -width - 2, bx1 = c->w + width + 2, by1 = c->h + width + 2;
        double t0 = 0, t1 = 1, dx = x1 - x0, dy = y1 - y0;
        double p[4] = {-dx, dx, -dy, dy}, q[4] = {x0 - bx0, bx1 - x0, y0 - by0, by1 - y0};
        for (int k = 0; k < 4; k++) { /* Liang-Barsky */
            if (p[k] == 0) {
                if (q[k] < 0)
                    return;
            } else {
                double t = q[k] / p[k];
                if (p[k] < 0 && t > t0)
                    t0 = t;
                if (p[k] > 0 && t < t1)
                    t1 = t;
            }
        }
        if (t0 > t1)
            return;
        double nx0 = x0 + t0 * dx, ny0 = y0 + t0 * dy;
        x1 = x0 + t1 * dx;
        y1 = y0 + t1 * dy;
        x0 = nx0;
        y0 = ny0;
    }
    double r = width / 2, R = r + 1;
    int ylo = (int)floor((y0 < y1 ? y0 : y1) - R), yhi = (int)ceil((y0 > y1 ? y0 : y1) + R);
    if (ylo < 0)
        ylo = 0;
    if (yhi > c->h - 1)
        yhi = c->h - 1;
    double dy = y1 - y0, dx = x1 - x0;
    for (int py = ylo; py <= yhi; py++) {
        double yc = py + 0.5;
        /* the part of the segment within R of this row, then its x extent widened by R */
        double ta = 0, tb = 1;
        if (dy != 0) {
            ta = (yc - R - y0) / dy;
            tb = (yc + R - y0) / dy;
            if (ta > tb) {
                double t = ta;
                ta = tb;
                tb = t;
            }
            ta = ta < 0 ? 0 : ta > 1 ? 1 : ta;
            tb = tb < 0 ? 0 : tb > 1 ? 1 : tb;
        }
        double xa = x0 + ta * dx, xb = x0 + tb * dx;
        int xlo = (int)floor((xa < xb ? xa : xb) - R), xhi = (int)ceil((xa > xb ? xa : xb) + R);
        if (xlo < 0)
            xlo = 0;
        if (xhi > c->w - 1)
            xhi = c->w - 1;
        for (int px = xlo; px <= xhi; px++) {
            double cov = r + 0.5 - seg_dist(px + 0.5, yc, x0, y0, x1, y1);
            if (cov > 0)
                vkti_draw_blend(c, px, py, color, (float)(cov > 1 ? alpha : cov * alpha));
        }
    }
}

void vkti_draw_dot(vkti_canvas *c, double x, double y, double radius, uint32_t color, float alpha)
{
    vkti_draw_line(c, x, y, x, y, color, radius * 2, alpha);
}

void vkti_draw_blit(vkti_canvas *c, int x, int y, const uint8_t *rgb, int w, int h)
{
    for (int j = 0; j < h; j++) {
        int cy = y + j;
        if (cy < 0 || cy >= c->h)
            continue;
        int i0 = x < 0 ? -x : 0, i1 = x + w > c->w ? c->w - x : w;
        if (i1 > i0)
            memcpy(c->rgb + ((size_t)cy * (size_t)c->w + (size_t)(x + i0)) * 3,
                   rgb + ((size_t)j * (size_t)w + (size_t)i0) * 3, (size_t)(i1 - i0) * 3);
    }
}

/* ---- text -------------------------------------------------------------------------------- */

/* the next character to draw from s (ASCII, or '?' for one UTF-8 sequence or stray byte) */
static int next_char(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    int ch = *p++;
    if (ch >= 0x80) {
        while ((*p & 0xc0) == 0x80)
            p++;
        ch = '?';
    }
    *s = (const char *)p;
    return ch;
}

/* draws one glyph; rotate: 0 upright, 1 turned a quarter anticlockwise */
static void glyph(vkti_canvas *c, int x, int y, int scale, uint32_t color, int ch, int rotate)
{
    uint8_t rows[VKTI_FONT_H];
    vkti_font_glyph(ch, rows);
    for (int gy = 0; gy < VKTI_FONT_H; gy++)
        for (int gx = 0; gx < VKTI_FONT_W; gx++)
            if (rows[gy] & (0x10 >> gx)) {
                if (rotate)
                    vkti_draw_fill_rect(c, x + gy * scale, y - (gx + 1) * scale, scale, scale, color, 1);
                else
                    vkti_draw_fill_rect(c, x + gx * scale, y + gy * scale, scale, scale, color, 1);
            }
}

int vkti_text_width(const char *text, int scale)
{
    int best = 0, n = 0;
    while (*text) {
        int ch = next_char(&text);
        if (ch == '\n') {
            n = 0;
            continue;
        }
        n++;
        if (n > best)
            best = n;
    }
    return best ? (best * VKTI_FONT_ADVANCE - 1) * scale : 0;
}

int vkti_draw_text(vkti_canvas *c, int x, int y, int scale, uint32_t color, const char *text)
{
    int cx = x, widest = 0;
    while (*text) {
        int ch = next_char(&text);
        if (ch == '\n') {
            cx = x;
            y += VKTI_FONT_LINE * scale;
            continue;
        }
        if (ch != ' ')
            glyph(c, cx, y, scale, color, ch, 0);
        cx += VKTI_FONT_ADVANCE * scale;
        if (cx - x - scale > widest)
            widest = cx - x - scale;
    }
    return widest;
}

void vkti_draw_text_up(vkti_canvas *c, int x, int y, int scale, uint32_t color, const char *text)
{
    int cy = y;
    while (*text) {
        int ch = next_char(&text);
        if (ch == '\n')
            continue;
        if (ch != ' ')
            glyph(c, x, cy, scale, color, ch, 1);
        cy -= VKTI_FONT_ADVANCE * scale;
    }
}

int vkti_draw_text_fit(vkti_canvas *c, int x, int y, int max_w, int scale, uint32_t color, const char *text)
{
    if (vkti_text_width(text, scale) <= max_w)
        return vkti_draw_text(c, x, y, scale, color, text);
    /* count characters, keep a head and a tail around ".." */
    int n = 0;
    for (const char *s = text; *s;) {
        int ch = next_char(&s);
        n += ch != '\n';
    }
    int room = (max_w / scale + 1) / VKTI_FONT_ADVANCE - 2; /* characters besides ".." */
    if (room < 1)
        return 0;
    int tail = room / 2, head = room - tail;
    char buf[512];
    int o = 0, i = 0;
    for (const char *s = text; *s && o < (int)sizeof buf - 4;) {
        int ch = next_char(&s);
        if (ch == '\n')
            continue;
        if (i < head || i >= n - tail)
            buf[o++] = (char)ch;
        else if (i == head) {
            buf[o++] = '.';
            buf[o++] = '.';
        }
        i++;
    }
    buf[o] = 0;
    return vkti_draw_text(c, x, y, scale, color, buf);
}

int vkti_draw_text_wrap(vkti_canvas *c, int x, int y, int max_w, int scale, uint32_t color, const char *text)
{
    int per_line = (max_w / scale + 1) / VKTI_FONT_ADVANCE; /* characters that fit */
    if (per_line < 1)
        per_line = 1;
    char line[1024];
    int n = 0, lines = 0, last_space = -1;
    const char *s = text;
    for (;;) {
        int ch = *s ? next_char(&s) : 0;
        if (ch == 0 || ch == '\n' || n == per_line || n == (int)sizeof line - 1) {
            int cut = n, resume = n;
            if (ch != 0 && ch != '\n' && last_space > 0) { /* break at the last space */
                cut = last_space;
                resume = last_space + 1;
            }
            line[cut] = 0;
            if (c)
                vkti_draw_text(c, x, y + lines * VKTI_FONT_LINE * scale, scale, color, line);
            lines++;
            /* carry the rest of the word over */
            int rest = n - resume;
            memmove(line, line + resume, (size_t)(rest > 0 ? rest : 0));
            n = rest > 0 ? rest : 0;
            last_space = -1;
            if (ch == 0)
                break;
            if (ch == '\n')
                continue;
        }
        if (ch == ' ' && n == 0)
            continue; /* no space at the start of a line */
        if (ch == ' ')
            last_space = n;
        line[n++] = (char)ch;
    }
    return lines;
}
