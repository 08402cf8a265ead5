/* progress.c — the progress line (see progress.h). */
#include "train/progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void vkti_progress_init(vkti_progress *p, int64_t start_step, int64_t total, double interval_s)
{
    memset(p, 0, sizeof *p);
    p->start_step = start_step;
    p->step = start_step;
    p->total = total;
    p->loss = 0;
    p->last_loss = NAN;
    p->lr = NAN;
    p->interval = interval_s > 0 ? interval_s : VKTI_PROGRESS_LOG_INTERVAL;
    p->last_print = -1;
}

void vkti_progress_update(vkti_progress *p, int64_t step, double now, int have_loss, double loss, double lr)
{
    if (p->updates == 0) {
        /* the first update marks the start: what came before it was setup */
        p->start_time = now;
    } else {
        int64_t ds = step - p->step;
        double dt = now - p->last_time;
        if (ds > 0 && dt >= 0) {
            /* every step of the interval counts as one sample of dt / ds */
            double keep = pow(VKTI_PROGRESS_RATE_BETA, (double)ds);
            p->spp = keep * p->spp + (1 - keep) * (dt / (double)ds);
            p->spp_weight = keep * p->spp_weight + (1 - keep);
        }
    }
    p->updates++;
    p->step = step;
    p->last_time = now;
    p->lr = lr;
    if (!have_loss)
        return;
    if (isfinite(loss)) {
        p->loss = VKTI_PROGRESS_LOSS_BETA * p->loss + (1 - VKTI_PROGRESS_LOSS_BETA) * loss;
        p->loss_weight = VKTI_PROGRESS_LOSS_BETA * p->loss_weight + (1 - VKTI_PROGRESS_LOSS_BETA);
        p->last_loss = loss;
    } else {
        p->nonfinite++;
    }
}

double vkti_progress_loss(const vkti_progress *p)
{
    return p->loss_weight > 0 ? p->loss / p->loss_weight : NAN;
}

double vkti_progress_steps_per_second(const vkti_progress *p)
{
    if (!(p->spp_weight > 0))
        return 0;
    double spp = p->spp / p->spp_weight;
    return spp > 0 ? 1.0 / spp : 0;
}

double vkti_progress_eta(const vkti_progress *p)
{
    double r = vkti_progress_steps_per_second(p);
    if (!(r > 0))
        return -1;
    int64_t left = p->total - p->step;
    return left > 0 ? (double)left / r : 0;
}

void vkti_format_duration(double s, char *out, size_t cap)
{
    if (!(s >= 0) || isinf(s)) {
        snprintf(out, cap, "--");
        return;
    }
    double t = floor(s);
    if (t < 60)
        snprintf(out, cap, "%.0fs", t);
    else if (t < 3600)
        snprintf(out, cap, "%.0fm%02.0fs", floor(t / 60), fmod(t, 60));
    else if (t < 86400)
        snprintf(out, cap, "%.0fh%02.0fm", floor(t / 3600), floor(fmod(t, 3600) / 60));
    else if (t < 100 * 86400.0)
        snprintf(out, cap, "%.0fd%02.0fh", floor(t / 86400), floor(fmod(t, 86400) / 3600));
    else
        snprintf(out, cap, ">99d");
}

void vkti_format_rate(double r, char *out, size_t cap)
{
    if (!(r > 0) || isinf(r))
        snprintf(out, cap, "-- it/s");
    else if (r >= 99.5)
        snprintf(out, cap, "%.0f it/s", r);
    else if (r >= 9.995)
        snprintf(out, cap, "%.1f it/s", r);
    else if (r >= 0.995)
        snprintf(out, cap, "%.2f it/s", r);
    else
        snprintf(out, cap, "%.2f s/it", 1.0 / r);
}

void vkti_format_lr(double lr, char *out, size_t cap)
{
    if (isnan(lr))
        snprintf(out, cap, "--");
    else
        snprintf(out, cap, "%.2e", lr);
}

void vkti_format_loss(double loss, char *out, size_t cap)
{
    if (isnan(loss))
        snprintf(out, cap, "nan");
    else if (fabs(loss) >= 0.001 && fabs(loss) < 1000)
        snprintf(out, cap, "%.4f", loss);
    else if (loss == 0)
        snprintf(out, cap, "0");
    else
        snprintf(out, cap, "%.3e", loss);
}

enum { F_STEP, F_PCT, F_RATE, F_ELAPSED, F_ETA, F_LOSS, F_NONFINITE, F_LR, F_COUNT };

void vkti_progress_line(const vkti_progress *p, double now, int width, char *out, size_t cap)
{
    char f[F_COUNT][64];
    char tmp[48];
    int64_t total = p->total > 0 ? p->total : 1;
    snprintf(f[F_STEP], sizeof f[0], "step %lld/%lld", (long long)p->step, (long long)p->total);
    snprintf(f[F_PCT], sizeof f[0], "%.1f%%", 100.0 * (double)p->step / (double)total);
    vkti_format_rate(vkti_progress_steps_per_second(p), f[F_RATE], sizeof f[0]);
    vkti_format_duration(p->updates ? now - p->start_time : -1, tmp, sizeof tmp);
    snprintf(f[F_ELAPSED], sizeof f[0], "elapsed %s", tmp);
    vkti_format_duration(vkti_progress_eta(p), tmp, sizeof tmp);
    snprintf(f[F_ETA], sizeof f[0], "ETA %s", tmp);
    vkti_format_loss(vkti_progress_loss(p), tmp, sizeof tmp);
    snprintf(f[F_LOSS], sizeof f[0], "loss %s", tmp);
    snprintf(f[F_NONFINITE], sizeof f[0], "%lld non-finite", (long long)p->nonfinite);
    vkti_format_lr(p->lr, tmp, sizeof tmp);
    snprintf(f[F_LR], sizeof f[0], "lr %s", tmp);

    int show[F_COUNT];
    for (int i = 0; i < F_COUNT; i++)
        show[i] = 1;
    show[F_NONFINITE] = p->nonfinite > 0;
    /* fields dropped first to last when the line is too wide; the step count always stays */
    static const int drop_order[] = {F_ELAPSED, F_PCT, F_LR, F_RATE, F_ETA, F_NONFINITE, F_LOSS};
    int limit = width > 0 ? width - 1 : 1 << 30;
    for (int k = 0;; k++) {
        size_t len = 0;
        for (int i = 0; i < F_COUNT; i++)
            if (show[i])
                len += strlen(f[i]) + (len ? 3 : 0);
        if ((int)len <= limit || k == (int)(sizeof drop_order / sizeof drop_order[0]))
            break;
        show[drop_order[k]] = 0;
    }
    size_t n = 0;
    if (cap)
        out[0] = 0;
    for (int i = 0; i < F_COUNT && cap; i++) {
        if (!show[i])
            continue;
        int w = snprintf(out + n, cap - n, "%s%s", n ? " | " : "", f[i]);
        if (w < 0 || (size_t)w >= cap - n) {
            n = cap - 1;
            break;
        }
        n += (size_t)w;
    }
    if (cap && (int)n > limit)
        out[limit] = 0; /* even the step count is too wide: cut it */
}

int vkti_progress_render(vkti_progress *p, double now, int is_tty, int width, int final, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0] = 0;
    double gap = is_tty ? VKTI_PROGRESS_TTY_INTERVAL : p->interval;
    if (!final && p->last_print >= 0 && now - p->last_print < gap)
        return 0;
    char line[VKTI_PROGRESS_LINE_MAX];
    vkti_progress_line(p, now, is_tty ? width : 0, line, sizeof line);
    int len = (int)strlen(line);
    if (is_tty) {
        int pad = p->last_len > len ? p->last_len - len : 0;
        snprintf(out, cap, "\r%s%*s%s", line, pad, "", final ? "\n" : "");
        p->last_len = final ? 0 : len;
    } else {
        snprintf(out, cap, "%s\n", line);
    }
    p->last_print = now;
    return 1;
}
