/* progress.h — the progress line of a training run: step/total, percent, it/s, elapsed time, ETA,
 * smoothed loss and learning rate, fitted to the terminal width (drop the least useful fields
 * first); one line rewritten in place with '\r' on a terminal (at most 10 times a second), a full
 * line every few seconds otherwise. Nothing here prints or reads a clock: the caller passes the
 * time (vkti_now()), the width (vkti_terminal_width()) and prints what it gets back.
 *
 * Smoothing: the loss is an exponential moving average with factor 0.98 per loss reading (about
 * the last 50 readings), bias-corrected like Adam's moments so the first readings are not pulled
 * toward 0; the speed is an average of seconds per step with factor 0.9 per step, bias-corrected,
 * and the interval up to the first update (pipeline creation, first submission) is left out. */
#ifndef VKTI_TRAIN_PROGRESS_H
#define VKTI_TRAIN_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define VKTI_PROGRESS_LOSS_BETA 0.98
#define VKTI_PROGRESS_RATE_BETA 0.9
#define VKTI_PROGRESS_TTY_INTERVAL 0.1  /* seconds between redraws on a terminal */
#define VKTI_PROGRESS_LOG_INTERVAL 10.0 /* default seconds between lines elsewhere */
#define VKTI_PROGRESS_LINE_MAX 256

typedef struct vkti_progress {
    int64_t total;                    /* the run's last step */
    int64_t start_step;               /* where this process began (a resumed run: the checkpoint's step) */
    int64_t step;                     /* the latest step reported */
    double start_time, last_time;     /* when the first update came, and the latest */
    int updates;
    double spp, spp_weight;           /* seconds per step: EMA and its bias-correction weight */
    double loss, loss_weight;         /* loss EMA and its weight */
    double last_loss;
    int64_t nonfinite;                /* non-finite losses seen */
    double lr;
    double interval;                  /* seconds between lines off a terminal */
    double last_print;                /* when a line was last handed out; < 0: never */
    int last_len;                     /* length of the last line drawn on a terminal */
} vkti_progress;

/* start_step: the step the run begins at (0, or the resumed checkpoint's); total: the last step;
 * interval_s: seconds between lines off a terminal (<= 0: VKTI_PROGRESS_LOG_INTERVAL). */
void vkti_progress_init(vkti_progress *p, int64_t start_step, int64_t total, double interval_s);
/* After update number `step` finished at time `now`: have_loss says whether the loss was read back
 * this time (a non-finite one is counted, not averaged); lr is the rate that update used. */
void vkti_progress_update(vkti_progress *p, int64_t step, double now, int have_loss, double loss, double lr);

double vkti_progress_loss(const vkti_progress *p);         /* smoothed; NaN before any reading */
double vkti_progress_steps_per_second(const vkti_progress *p); /* 0 before two updates */
double vkti_progress_eta(const vkti_progress *p);          /* seconds; < 0 when unknown */

/* The line itself, without '\r' or '\n', at most width − 1 characters (width <= 0: no limit). */
void vkti_progress_line(const vkti_progress *p, double now, int width, char *out, size_t cap);
/* What to print now, or 0 if nothing: on a terminal '\r' + the line + spaces over the rest of the
 * previous one (+ '\n' when final); elsewhere the line + '\n' every interval. final: the last call
 * of the run, always printed. Records that it handed a line out. */
int vkti_progress_render(vkti_progress *p, double now, int is_tty, int width, int final, char *out, size_t cap);

/* "42s", "3m05s", "2h03m", "3d04h", ">99d"; "--" for negative, NaN or infinite. */
void vkti_format_duration(double seconds, char *out, size_t cap);
/* "123 it/s", "12.3 it/s", "3.21 it/s", "2.50 s/it" (below one step a second), "-- it/s". */
void vkti_format_rate(double steps_per_second, char *out, size_t cap);
/* "5.00e-04" */
void vkti_format_lr(double lr, char *out, size_t cap);
/* "0.1234", or "1.234e-05" outside [0.001, 1000); "nan" */
void vkti_format_loss(double loss, char *out, size_t cap);

#endif
