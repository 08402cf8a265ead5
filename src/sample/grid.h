/* grid.h — pictures side by side: the grid of a training preview (or of a batch), with an optional
 * caption above, drawn with io/draw.h. */
#ifndef VKTI_SAMPLE_GRID_H
#define VKTI_SAMPLE_GRID_H

#include <stdint.h>

#include "io/draw.h"

#define VKTI_GRID_GAP 4            /* pixels between pictures and around them */
#define VKTI_GRID_BACKGROUND 0x202020u

/* The columns of a grid of n: 0 for none, else ceil(sqrt(n)) (4 -> 2 x 2, 5 -> 3 x 2). */
int vkti_grid_columns(int n);

/* out = n pictures rgb [n, h, w, 3] in cols columns (0: vkti_grid_columns(n)), row by row, with
 * caption (may be NULL) wrapped in a strip above. */
int vkti_grid_make(vkti_diag *d, vkti_canvas *out, const uint8_t *rgb, int n, int w, int h, int cols,
                   const char *caption);

#endif
