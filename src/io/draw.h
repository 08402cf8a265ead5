/* draw.h — drawing on an 8-bit RGB buffer for the pictures vkti makes itself (contact sheets,
 * the loss curve, preview grids): an embedded 5x8 bitmap font for printable ASCII, text,
 * anti-aliased lines and dots, rectangles, alpha blending and blits. Everything is clipped to
 * the canvas; nothing here fails except allocating a canvas. Colours are 0xRRGGBB. */
#ifndef VKTI_IO_DRAW_H
#define VKTI_IO_DRAW_H

#include <stdint.h>

#include "base/diag.h"

/* the font: each glyph 5 x 8 pixels (capitals and digits use rows 0..6, row 7 holds
 * descenders), drawn in a 6 x 10 cell */
#define VKTI_FONT_W 5
#define VKTI_FONT_H 8
#define VKTI_FONT_ADVANCE 6
#define VKTI_FONT_LINE 10

typedef struct vkti_canvas {
    int w, h;
    uint8_t *rgb; /* [h, w, 3], owned */
} vkti_canvas;

int vkti_canvas_init(vkti_diag *d, vkti_canvas *c, int w, int h, uint32_t background);
void vkti_canvas_free(vkti_canvas *c);

/* Blends colour over pixel (x, y) with opacity alpha in [0, 1]. */
void vkti_draw_blend(vkti_canvas *c, int x, int y, uint32_t color, float alpha);
void vkti_draw_fill_rect(vkti_canvas *c, int x, int y, int w, int h, uint32_t color, float alpha);
/* A 1-pixel outline just inside (x, y, w, h). */
void vkti_draw_rect(vkti_canvas *c, int x, int y, int w, int h, uint32_t color);
/* An anti-aliased line of the given width (pixels) with round ends; coordinates are continuous
 * (pixel (i, j) covers [i, i+1) x [j, j+1)). */
void vkti_draw_line(vkti_canvas *c, double x0, double y0, double x1, double y1, uint32_t color, double width,
                    float alpha);
/* An anti-aliased filled disc. */
void vkti_draw_dot(vkti_canvas *c, double x, double y, double radius, uint32_t color, float alpha);
/* Copies an 8-bit RGB picture [h, w, 3] with its top-left corner at (x, y). */
void vkti_draw_blit(vkti_canvas *c, int x, int y, const uint8_t *rgb, int w, int h);

/* Text, top-left at (x, y), each font pixel a scale x scale square. Bytes outside printable
 * ASCII show as '?' (one per UTF-8 character); '\n' starts a new line. Returns the width drawn. */
int vkti_draw_text(vkti_canvas *c, int x, int y, int scale, uint32_t color, const char *text);
/* Text turned a quarter anticlockwise (reading upwards), its baseline side to the right; (x, y)
 * is the bottom-left corner of the rotated box. */
void vkti_draw_text_up(vkti_canvas *c, int x, int y, int scale, uint32_t color, const char *text);
/* Width in pixels of the longest line of text. */
int vkti_text_width(const char *text, int scale);
/* Text fitted into max_w pixels: when too long, its middle is replaced by ".." (so a file name
 * keeps its start and its extension). Returns the width drawn. */
int vkti_draw_text_fit(vkti_canvas *c, int x, int y, int max_w, int scale, uint32_t color, const char *text);

/* Text wrapped at spaces into lines of at most max_w pixels (a word longer than a line is cut),
 * lines VKTI_FONT_LINE * scale apart. Returns the number of lines; c may be NULL to count them. */
int vkti_draw_text_wrap(vkti_canvas *c, int x, int y, int max_w, int scale, uint32_t color, const char *text);

/* The 8 rows of a character's glyph, bit 4 the leftmost pixel ('?' for anything not printable ASCII). */
void vkti_font_glyph(int ch, uint8_t rows[VKTI_FONT_H]);

#endif
