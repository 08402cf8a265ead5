/* grid.c — a grid of pictures with a caption (see grid.h). */
#include "sample/grid.h"

#include <math.h>

int vkti_grid_columns(int n)
{
    if (n <= 0)
        return 0;
    int c = (int)ceil(sqrt((double)n));
    while (c * c < n) /* exact whatever sqrt rounded to */
        c++;
    while (c > 1 && (c - 1) * (c - 1) >= n)
        c--;
    return c;
}

int vkti_grid_make(vkti_diag *d, vkti_canvas *out, const uint8_t *rgb, int n, int w, int h, int cols,
                   const char *caption)
{
    if (n < 1 || w < 1 || h < 1)
        return vkti_fail(d, VKTI_E_INTERNAL, "grid: %d pictures of %dx%d", n, w, h);
    if (cols <= 0)
        cols = vkti_grid_columns(n);
    if (cols > n)
        cols = n;
    const int rows = (n + cols - 1) / cols, g = VKTI_GRID_GAP;
    const int W = cols * w + (cols + 1) * g;
    const int scale = W >= 600 ? 2 : 1;
    const int lines = caption && caption[0] ? vkti_draw_text_wrap(NULL, 0, 0, W - 2 * g, scale, 0, caption) : 0;
    const int top = lines ? lines * VKTI_FONT_LINE * scale + g : 0;
    const int H = rows * h + (rows + 1) * g + top;
    int rc = vkti_canvas_init(d, out, W, H, VKTI_GRID_BACKGROUND);
    if (rc)
        return rc;
    if (lines)
        vkti_draw_text_wrap(out, g, g, W - 2 * g, scale, 0xe0e0e0u, caption);
    for (int i = 0; i < n; i++) {
        int r = i / cols, c = i % cols;
        vkti_draw_blit(out, g + c * (w + g), top + g + r * (h + g), rgb + (size_t)i * w * h * 3, w, h);
    }
    return VKTI_OK;
}
