/* plot.h — the loss-curve picture a training run leaves behind: the training loss (every point
 * faint, an exponentially smoothed line bold) and the deterministic validation loss over steps,
 * with axes, tick labels, a title and a legend, optionally on a logarithmic y axis. Robust to
 * non-finite points (left out and counted), a single point, constant values and very many
 * points; the y range ignores the worst 1% of raw spikes so one outlier does not flatten the
 * curve (clipped points sit on the frame). */
#ifndef VKTI_TRAIN_PLOT_H
#define VKTI_TRAIN_PLOT_H

#include "base/diag.h"
#include "io/draw.h"

typedef struct vkti_loss_plot {
    const char *title;         /* NULL: "loss" */
    const double *train_step;  /* [train_n] x of each training loss (step number) */
    const double *train_loss;  /* [train_n] may hold NaN / inf */
    int train_n;
    const double *val_step;    /* [val_n] validation loss at those steps */
    const double *val_loss;
    int val_n;
    double smoothing;          /* weight of the running average (TensorBoard's "smoothing"),
                                  0 < w < 1; 0: chosen from the number of points, 0.6 to 0.99 */
    int log_y;                 /* 1: logarithmic y axis (points <= 0 are left out) */
    int width, height;         /* pixels, 200..8192 (0: 960 x 540) */
} vkti_loss_plot;

/* What was drawn, for the caller's summary and for tests. */
typedef struct vkti_plot_info {
    int plotted;               /* points drawn (training + validation) */
    int left_out;              /* non-finite points, and points <= 0 on a log axis */
    int clipped;               /* raw training points outside the y range, drawn on the frame */
    double x_lo, x_hi, y_lo, y_hi; /* the axes' ranges (y in data units even on a log axis) */
    double smoothing;          /* the running-average weight used */
} vkti_plot_info;

/* Draws into *out (allocated here; vkti_canvas_free). info may be NULL. */
int vkti_plot_loss_render(vkti_diag *d, vkti_canvas *out, const vkti_loss_plot *p, vkti_plot_info *info);
/* Renders and writes a PNG atomically. */
int vkti_plot_loss_write(vkti_diag *d, const char *path, const vkti_loss_plot *p, vkti_plot_info *info);

/* "Nice" tick positions covering [lo, hi]: multiples of 1, 2 or 5 x 10^k (about 5 to 10 of
 * them); on a log axis, powers of ten (with 2 and 5 between them when the range spans less than
 * three decades). Returns the count (at most max). */
int vkti_plot_ticks(double lo, double hi, int log_axis, double *ticks, int max);
/* A tick label: the shortest of %g-style forms that tells neighbouring ticks `step` apart. */
void vkti_plot_tick_label(char *out, size_t cap, double v, double step);

#endif
