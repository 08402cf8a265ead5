/* inspect_sheet.c — the contact sheet of `vkti inspect`: pages of at most 10 x 10 cells, each
 * the image as training sees it (after resize and crop; shrunk only if larger than the
 * thumbnail size) with its number, file name, original size and flags underneath; exact
 * duplicates framed red, near duplicates orange. PNG pages written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/inspect_internal.h"
#include "base/str.h"
#include "io/draw.h"

#define PAD 10
#define LABEL_H (2 * VKTI_FONT_LINE + 4)
#define HEADER_H 40 /* the first guess; the real one depends on how the legend wraps */
#define MAX_COLS 10
#define MAX_ROWS 10

#define BG 0xf2f2f2u
#define INK 0x202020u
#define DIM 0x707070u
#define BOX 0xd0d0d0u
#define RED 0xd02020u
#define ORANGE 0xe08000u

static void draw_cell(vkti_canvas *c, const vkti_inspect_impl *r, int k, int x, int y, int thumb)
{
    const vkti_inspect_image *im = &r->pub.images[k];
    const vkti_inspect_thumb *t = &r->thumbs[k];
    uint32_t frame = im->duplicate_of >= 0 ? RED : im->similar_to >= 0 ? ORANGE : BOX;
    int fw = frame == BOX ? 1 : 3;
    for (int i = 0; i < fw; i++)
        vkti_draw_rect(c, x - 1 - i, y - 1 - i, thumb + 2 + 2 * i, thumb + 2 + 2 * i, frame);
    vkti_draw_blit(c, x + (thumb - t->w) / 2, y + (thumb - t->h) / 2, t->rgb, t->w, t->h);

    char line[512];
    snprintf(line, sizeof line, "%d %s", k + 1, im->name);
    vkti_draw_text_fit(c, x, y + thumb + 4, thumb, 1, INK, line);
    int n = snprintf(line, sizeof line, "%dx%d", im->width, im->height);
    if (im->duplicate_of >= 0)
        n += snprintf(line + n, sizeof line - (size_t)n, " =%d", im->duplicate_of + 1);
    else if (im->similar_to >= 0)
        n += snprintf(line + n, sizeof line - (size_t)n, " ~%d%s", im->similar_to + 1, im->similar_mirrored ? "m" : "");
    if (im->upscaled)
        n += snprintf(line + n, sizeof line - (size_t)n, " up");
    if (im->caption)
        n += snprintf(line + n, sizeof line - (size_t)n, " txt");
    if (im->channels == 2 || im->channels == 4)
        snprintf(line + n, sizeof line - (size_t)n, " a");
    vkti_draw_text_fit(c, x, y + thumb + 4 + VKTI_FONT_LINE, thumb, 1,
                       frame == BOX ? DIM : frame, line);
}

int vkti__inspect_sheet(vkti_diag *d, vkti_inspect_impl *r, const char *path)
{
    const vkti_inspect_report *p = &r->pub;
    int n = p->image_count, thumb = p->thumb;
    int per_page = MAX_COLS * MAX_ROWS;
    int pages = (n + per_page - 1) / per_page;
    int first = n < per_page ? n : per_page;
    int cols = 1;
    while (cols * cols < first)
        cols++;
    cols = cols > MAX_COLS ? MAX_COLS : cols;
    int cell_w = thumb + PAD, cell_h = thumb + LABEL_H + PAD;
    r->pages = calloc((size_t)pages, sizeof *r->pages);
    if (!r->pages)
        return vkti_fail(d, VKTI_E_OOM, "out of memory");
    int rc = VKTI_OK;
    for (int page = 0; page < pages && rc == VKTI_OK; page++) {
        int k0 = page * per_page, count = n - k0 < per_page ? n - k0 : per_page;
        int rows = (count + cols - 1) / cols;
        int W = PAD + cols * cell_w, H = HEADER_H + rows * cell_h + PAD;
        if (W < 320)
            W = 320;
        char title[1024], sub[1024];
        snprintf(title, sizeof title, "%s: %d image%s", p->dir, n, n == 1 ? "" : "s");
        int scale = vkti_text_width(title, 2) <= W - 2 * PAD ? 2 : 1;
        int m = p->buckets ? snprintf(sub, sizeof sub, "as trained: aspect buckets of about %dx%d, center crop",
                                      p->resolution, p->resolution)
                           : snprintf(sub, sizeof sub, "as trained: %dx%d, center crop", p->resolution, p->resolution);
        int largest = p->buckets ? 2 * p->resolution : p->resolution;
        if (largest > thumb)
            m += snprintf(sub + m, sizeof sub - (size_t)m, ", shown at %d px", thumb);
        if (pages > 1)
            m += snprintf(sub + m, sizeof sub - (size_t)m, "; page %d of %d", page + 1, pages);
        snprintf(sub + m, sizeof sub - (size_t)m, ". Red =N: same pixels as N. Orange ~N: looks like N "
                 "(m: mirrored). up: enlarged, txt: has a caption, a: has alpha.");
        int sub_lines = vkti_draw_text_wrap(NULL, 0, 0, W - 2 * PAD, 1, 0, sub);
        int header = 6 + 8 * scale + 6 + sub_lines * VKTI_FONT_LINE + 8;
        H += header - HEADER_H;
        vkti_canvas c;
        rc = vkti_canvas_init(d, &c, W, H, BG);
        if (rc)
            break;
        vkti_draw_text_fit(&c, PAD, 6, W - 2 * PAD, scale, INK, title);
        vkti_draw_text_wrap(&c, PAD, 6 + 8 * scale + 6, W - 2 * PAD, 1, DIM, sub);
        for (int i = 0; i < count; i++) {
            int col = i % cols, row = i / cols;
            draw_cell(&c, r, k0 + i, PAD + col * cell_w, header + row * cell_h, thumb);
        }
        char *name = vkti_str_numbered(path, page == 0 ? 0 : page + 1); /* sheet.png, sheet-2.png, ... */
        if (!name) {
            vkti_canvas_free(&c);
            rc = vkti_fail(d, VKTI_E_OOM, "out of memory");
            break;
        }
        char software[64];
        snprintf(software, sizeof software, "vkti %s inspect", VKTI_VERSION);
        vkti_png_text text[2] = {{"Software", software}, {"Title", p->dir}};
        /* the folder name goes in only when it is valid text for the chunk */
        rc = vkti_png_write(d, name, c.rgb, c.w, c.h, 3, text, 2);
        if (rc == VKTI_E_INVALID)
            rc = vkti_png_write(d, name, c.rgb, c.w, c.h, 3, text, 1);
        if (page == 0) {
            r->pub.sheet_w = W;
            r->pub.sheet_h = H;
        }
        vkti_canvas_free(&c);
        if (rc) {
            free(name);
            break;
        }
        r->pages[page] = name;
        r->pub.sheet_pages = page + 1;
    }
    return rc;
}
