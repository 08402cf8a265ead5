/* plot.c — the loss-curve PNG: ranges (robust to spikes and non-finite values), nice ticks,
 * the raw points, the running average, the validation line, axes, labels and legend. See plot.h. */
#include "train/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/image.h"

#define MAX_ABS 1e30 /* larger magnitudes are not losses: left out like NaN */
#define MAX_TICKS 40

#define C_BG 0xffffffu
#define C_PLOT_BG 0xfbfbfbu
#define C_GRID 0xe4e4e4u
#define C_AXIS 0x404040u
#define C_TEXT 0x202020u
#define C_DIM 0x707070u
#define C_RAW 0x5b9bd5u
#define C_SMOOTH 0x1a4c96u
#define C_VAL 0xe0701bu

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double nice_step(double range, int target)
{
    double raw = range / target, mag = pow(10, floor(log10(raw))), n = raw / mag;
    return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
}

int vkti_plot_ticks(double lo, double hi, int log_axis, double *ticks, int max)
{
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi) || max <= 0)
        return 0;
    int n = 0;
    if (log_axis && lo > 0) {
        double a = log10(lo), b = log10(hi);
        int k0 = (int)ceil(a - 1e-9) - 1, k1 = (int)floor(b + 1e-9);
        int minors = b - a < 3;
        for (int k = k0; k <= k1 && n < max; k++) {
            static const double mult[3] = {1, 2, 5};
            for (int m = 0; m < (minors ? 3 : 1) && n < max; m++) {
                double v = mult[m] * pow(10, k);
                if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
                    ticks[n++] = v;
            }
        }
        if (n >= 2)
            return n;
        n = 0; /* within one decade: ordinary ticks, placed on the log axis */
    }
    double step = nice_step(hi - lo, 6);
    double k0 = ceil(lo / step - 1e-9);
    for (int i = 0; n < max && i < MAX_TICKS; i++) {
        double v = (k0 + i) * step;
        if (v > hi + step * 1e-9)
            break;
        ticks[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    return n;
}

void vkti_plot_tick_label(char *out, size_t cap, double v, double step)
{
    double a = fabs(v);
    if (v == 0) {
        snprintf(out, cap, "0");
    } else if (a >= 1e6 || a < 1e-4) {
        snprintf(out, cap, "%.3g", v);
    } else {
        int decimals = step > 0 ? (int)ceil(-log10(step) - 1e-9) : 3;
        decimals = decimals < 0 ? 0 : decimals > 6 ? 6 : decimals;
        snprintf(out, cap, "%.*f", decimals, v);
    }
}

static int usable(double x, double y, int log_y)
{
    return isfinite(x) && isfinite(y) && fabs(x) < MAX_ABS && fabs(y) < MAX_ABS && (!log_y || y > 0);
}

typedef struct frame {
    int left, top, w, h;           /* the plot area */
    double x_lo, x_hi, f_lo, f_hi; /* f: y, or log10 y */
    int log_y;
} frame;

static double fy(const frame *f, double y) { return f->log_y ? log10(y) : y; }
static double px(const frame *f, double x) { return f->left + (x - f->x_lo) / (f->x_hi - f->x_lo) * f->w; }
static double py(const frame *f, double y)
{
    return f->top + f->h - (fy(f, y) - f->f_lo) / (f->f_hi - f->f_lo) * f->h;
}

int vkti_plot_loss_render(vkti_diag *d, vkti_canvas *out, const vkti_loss_plot *p, vkti_plot_info *info)
{
    memset(out, 0, sizeof *out);
    vkti_plot_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    int W = p->width ? p->width : 960, H = p->height ? p->height : 540;
    if (W < 200 || H < 200 || W > 8192 || H > 8192)
        return vkti_fail(d, VKTI_E_INVALID, "a loss plot of %dx%d: each side must be from 200 to 8192 pixels", W, H);
    if (p->train_n < 0 || p->val_n < 0 || (p->train_n && (!p->train_step || !p->train_loss)) ||
        (p->val_n && (!p->val_step || !p->val_loss)))
        return vkti_fail(d, VKTI_E_INVALID, "loss plot: missing data arrays");
    int log_y = p->log_y;
    double w = p->smoothing;
    if (!(w > 0 && w < 1)) {
        w = 1 - 10.0 / (p->train_n > 0 ? p->train_n : 1);
        w = w < 0.6 ? 0.6 : w > 0.99 ? 0.99 : w;
    }
    info->smoothing = w;

    /* the running average (debiased, as TensorBoard's), over usable points only */
    double *smooth = malloc(((size_t)p->train_n + 1) * sizeof *smooth);
    double *sorted = malloc(((size_t)p->train_n + 1) * sizeof *sorted);
    if (!smooth || !sorted) {
        free(smooth);
        free(sorted);
        return vkti_fail(d, VKTI_E_OOM, "out of memory plotting %d points", p->train_n);
    }
    double num = 0, den = 0, x_lo = INFINITY, x_hi = -INFINITY;
    int ns = 0;
    for (int i = 0; i < p->train_n; i++) {
        double x = p->train_step[i], y = p->train_loss[i];
        smooth[i] = NAN;
        if (!usable(x, y, log_y)) {
            info->left_out++;
            continue;
        }
        num = w * num + (1 - w) * y;
        den = w * den + (1 - w);
        smooth[i] = num / den;
        sorted[ns++] = y;
        x_lo = x < x_lo ? x : x_lo;
        x_hi = x > x_hi ? x : x_hi;
    }
    /* y range: the 1st to 99th percentile of the raw points and all validation points (the
     * running average lies within the raw points, except just after a spike: clipped then) */
    double y_lo = INFINITY, y_hi = -INFINITY;
    if (ns > 0) {
        qsort(sorted, (size_t)ns, sizeof *sorted, cmp_double);
        y_lo = sorted[(size_t)floor(0.01 * (ns - 1))];
        y_hi = sorted[(size_t)ceil(0.99 * (ns - 1))];
    }
    free(sorted);
    int nv = 0;
    for (int i = 0; i < p->val_n; i++) {
        double x = p->val_step[i], y = p->val_loss[i];
        if (!usable(x, y, log_y)) {
            info->left_out++;
            continue;
        }
        nv++;
        x_lo = x < x_lo ? x : x_lo;
        x_hi = x > x_hi ? x : x_hi;
        y_lo = y < y_lo ? y : y_lo;
        y_hi = y > y_hi ? y : y_hi;
    }
    int empty = ns + nv == 0;
    if (empty) {
        x_lo = 0, x_hi = 1;
        y_lo = log_y ? 0.1 : 0, y_hi = 1;
    }
    if (x_hi - x_lo <= 0) {
        x_lo -= 1;
        x_hi += 1;
    }
    frame f = {0};
    f.log_y = log_y;
    f.f_lo = log_y ? log10(y_lo) : y_lo;
    f.f_hi = log_y ? log10(y_hi) : y_hi;
    if (f.f_hi - f.f_lo <= 0) {
        double pad = log_y ? 0.1 : (fabs(f.f_lo) > 1e-12 ? fabs(f.f_lo) * 0.1 : 1);
        f.f_lo -= pad;
        f.f_hi += pad;
    }
    double margin = (f.f_hi - f.f_lo) * 0.05;
    f.f_lo -= margin;
    f.f_hi += margin;
    f.x_lo = x_lo;
    f.x_hi = x_hi;
    if (!empty && x_hi > x_lo) { /* a little room left and right */
        double mx = (x_hi - x_lo) * 0.02;
        f.x_lo -= mx;
        f.x_hi += mx;
    }
    info->x_lo = f.x_lo;
    info->x_hi = f.x_hi;
    info->y_lo = log_y ? pow(10, f.f_lo) : f.f_lo;
    info->y_hi = log_y ? pow(10, f.f_hi) : f.f_hi;

    /* ticks and the margins their labels need */
    double yt[MAX_TICKS], xt[MAX_TICKS];
    int nyt = vkti_plot_ticks(info->y_lo, info->y_hi, log_y, yt, MAX_TICKS);
    int nxt = vkti_plot_ticks(f.x_lo, f.x_hi, 0, xt, MAX_TICKS);
    double ystep = nyt > 1 ? yt[1] - yt[0] : 1, xstep = nxt > 1 ? xt[1] - xt[0] : 1;
    if (xstep < 1) { /* steps are whole numbers: no ticks between them */
        nxt = 0;
        for (double v = ceil(f.x_lo); v <= f.x_hi && nxt < MAX_TICKS; v++)
            xt[nxt++] = v;
        xstep = 1;
    }
    char label[64];
    int label_w = 0;
    for (int i = 0; i < nyt; i++) {
        vkti_plot_tick_label(label, sizeof label, yt[i], log_y ? yt[i] : ystep);
        int lw = vkti_text_width(label, 1);
        label_w = lw > label_w ? lw : label_w;
    }
    f.left = 6 + VKTI_FONT_H + 8 + label_w + 6;
    f.top = 8 + 2 * VKTI_FONT_H + 10;
    f.w = W - f.left - 20;
    f.h = H - f.top - (6 + VKTI_FONT_LINE + 4 + VKTI_FONT_LINE + 6);

    int rc = vkti_canvas_init(d, out, W, H, C_BG);
    if (rc) {
        free(smooth);
        return rc;
    }
    vkti_draw_fill_rect(out, f.left, f.top, f.w, f.h, C_PLOT_BG, 1);
    for (int i = 0; i < nyt; i++) {
        int y = (int)lround(py(&f, yt[i]));
        if (y < f.top || y > f.top + f.h)
            continue;
        vkti_draw_fill_rect(out, f.left, y, f.w, 1, C_GRID, 1);
        vkti_draw_fill_rect(out, f.left - 4, y, 4, 1, C_AXIS, 1);
        vkti_plot_tick_label(label, sizeof label, yt[i], log_y ? yt[i] : ystep);
        vkti_draw_text(out, f.left - 6 - vkti_text_width(label, 1), y - 3, 1, C_TEXT, label);
    }
    int last_right = -1000;
    for (int i = 0; i < nxt; i++) {
        int x = (int)lround(px(&f, xt[i]));
        if (x < f.left || x > f.left + f.w)
            continue;
        vkti_draw_fill_rect(out, x, f.top, 1, f.h, C_GRID, 1);
        vkti_draw_fill_rect(out, x, f.top + f.h, 1, 4, C_AXIS, 1);
        vkti_plot_tick_label(label, sizeof label, xt[i], xstep);
        int lw = vkti_text_width(label, 1);
        if (x - lw / 2 > last_right + 6) { /* skip labels that would overlap */
            vkti_draw_text(out, x - lw / 2, f.top + f.h + 6, 1, C_TEXT, label);
            last_right = x + lw / 2;
        }
    }

    /* raw points (clipped ones sit on the frame), then the running average, then validation */
    float alpha = p->train_n > 2000 ? 0.18f : 0.35f;
    double radius = p->train_n > 2000 ? 1.0 : 1.4;
    double top = f.top, bottom = f.top + f.h;
    for (int i = 0; i < p->train_n; i++) {
        double x = p->train_step[i], y = p->train_loss[i];
        if (!usable(x, y, log_y))
            continue;
        double yy = py(&f, y);
        if (yy < top || yy > bottom) {
            info->clipped++;
            yy = yy < top ? top : bottom;
        }
        vkti_draw_dot(out, px(&f, x), yy, radius, C_RAW, alpha);
        info->plotted++;
    }
    double lx = NAN, ly = NAN;
    for (int i = 0; i < p->train_n; i++) {
        if (!isfinite(smooth[i]))
            continue; /* a left-out point: the average carries on past it */
        double x = px(&f, p->train_step[i]), y = py(&f, smooth[i]);
        y = y < top ? top : y > bottom ? bottom : y;
        if (isfinite(lx))
            vkti_draw_line(out, lx, ly, x, y, C_SMOOTH, 2.4, 1);
        else if (ns == 1)
            vkti_draw_dot(out, x, y, 2.4, C_SMOOTH, 1);
        lx = x, ly = y;
    }
    free(smooth);
    lx = ly = NAN;
    for (int i = 0; i < p->val_n; i++) {
        double x = p->val_step[i], y = p->val_loss[i];
        if (!usable(x, y, log_y)) {
            lx = ly = NAN; /* a gap in the validation line */
            continue;
        }
        double X = px(&f, x), Y = py(&f, y);
        if (isfinite(lx))
            vkti_draw_line(out, lx, ly, X, Y, C_VAL, 2.0, 1);
        if (p->val_n <= 200 || nv == 1)
            vkti_draw_dot(out, X, Y, 3.2, C_VAL, 1);
        lx = X, ly = Y;
        info->plotted++;
    }

    /* frame, title, axis names */
    vkti_draw_rect(out, f.left - 1, f.top - 1, f.w + 2, f.h + 2, C_AXIS);
    const char *title = p->title ? p->title : "loss";
    int scale = vkti_text_width(title, 2) <= W - 20 ? 2 : 1;
    int tw = vkti_text_width(title, scale);
    vkti_draw_text_fit(out, tw <= W - 20 ? (W - tw) / 2 : 10, 8, W - 20, scale, C_TEXT, title);
    const char *yname = log_y ? "loss (log scale)" : "loss";
    vkti_draw_text_up(out, 6, f.top + f.h / 2 + vkti_text_width(yname, 1) / 2, 1, C_TEXT, yname);
    vkti_draw_text(out, f.left + f.w / 2 - vkti_text_width("step", 1) / 2, H - 6 - VKTI_FONT_LINE, 1, C_TEXT,
                   "step");
    if (empty) {
        const char *msg = "no finite loss values to plot yet";
        vkti_draw_text(out, f.left + (f.w - vkti_text_width(msg, 1)) / 2, f.top + f.h / 2 - 4, 1, C_DIM, msg);
    }

    /* legend, top right inside the plot */
    char lines[5][96];
    uint32_t colors[5];
    int kinds[5], nl = 0; /* kind 0 dot, 1 line, 2 line + dot, 3 note */
    if (ns) {
        snprintf(lines[nl], sizeof lines[nl], "training loss, each step");
        colors[nl] = C_RAW, kinds[nl++] = 0;
        snprintf(lines[nl], sizeof lines[nl], "training loss, running average (%.2f)", w);
        colors[nl] = C_SMOOTH, kinds[nl++] = 1;
    }
    if (nv) {
        snprintf(lines[nl], sizeof lines[nl], "validation loss (fixed timesteps and noise)");
        colors[nl] = C_VAL, kinds[nl++] = 2;
    }
    if (info->left_out) {
        snprintf(lines[nl], sizeof lines[nl], "%d point%s left out (%s)", info->left_out,
                 info->left_out == 1 ? "" : "s", log_y ? "not finite or <= 0" : "not finite");
        colors[nl] = C_DIM, kinds[nl++] = 3;
    }
    if (info->clipped) {
        snprintf(lines[nl], sizeof lines[nl], "%d point%s off the scale, drawn on its edge", info->clipped,
                 info->clipped == 1 ? "" : "s");
        colors[nl] = C_DIM, kinds[nl++] = 3;
    }
    if (nl) {
        int lw = 0;
        for (int i = 0; i < nl; i++) {
            int t = vkti_text_width(lines[i], 1);
            lw = t > lw ? t : lw;
        }
        int bw = lw + 34, bh = nl * 12 + 8;
        int bx = f.left + f.w - bw - 8, by = f.top + 8;
        if (bx < f.left + 2)
            bx = f.left + 2;
        vkti_draw_fill_rect(out, bx, by, bw, bh, 0xffffffu, 0.88f);
        vkti_draw_rect(out, bx, by, bw, bh, C_GRID);
        for (int i = 0; i < nl; i++) {
            int cy = by + 6 + i * 12 + 3;
            if (kinds[i] == 0)
                vkti_draw_dot(out, bx + 15, cy + 0.5, 2.0, colors[i], 0.8f);
            if (kinds[i] == 1 || kinds[i] == 2)
                vkti_draw_line(out, bx + 6, cy + 0.5, bx + 24, cy + 0.5, colors[i], kinds[i] == 1 ? 2.4 : 2.0, 1);
            if (kinds[i] == 2)
                vkti_draw_dot(out, bx + 15, cy + 0.5, 3.0, colors[i], 1);
            vkti_draw_text_fit(out, bx + 30, cy - 3, bw - 34, 1, kinds[i] == 3 ? C_DIM : C_TEXT, lines[i]);
        }
    }
    return VKTI_OK;
}

int vkti_plot_loss_write(vkti_diag *d, const char *path, const vkti_loss_plot *p, vkti_plot_info *info)
{
    vkti_canvas c;
    int rc = vkti_plot_loss_render(d, &c, p, info);
    if (rc)
        return rc;
    vkti_png_text text[2] = {{"Software", "vkti"}, {"Title", p->title ? p->title : "loss"}};
    rc = vkti_png_write(d, path, c.rgb, c.w, c.h, 3, text, 2);
    if (rc == VKTI_E_INVALID) /* a title that is not valid text: the picture without it */
        rc = vkti_png_write(d, path, c.rgb, c.w, c.h, 3, text, 1);
    vkti_canvas_free(&c);
    return rc;
}
