/* lr_schedule.h — the learning rate of every optimizer update: diffusers' get_scheduler schedules
 * (constant, constant_with_warmup, linear, cosine — the LambdaLR factors of diffusers/optimization.py,
 * same as transformers'), AUTOMATIC1111's piecewise string ("0.005:100, 1e-3:1000, 1e-5"), and
 * --scale-lr.
 *
 * Step numbering: vkti_lr_at(s, k) is the rate of the k-th optimizer update, k = 0, 1, ...; that is
 * base_lr · λ(k) of diffusers (LambdaLR sets λ(0) at construction and the training loop calls
 * lr_scheduler.step() after each update) and the rate A1111 applies at embedding.step = k. */
#ifndef VKTI_TRAIN_LR_SCHEDULE_H
#define VKTI_TRAIN_LR_SCHEDULE_H

#include <stdint.h>

#include "base/diag.h"
#include "vkti/train_config.h"

#define VKTI_LR_MAX_PIECES 64

/* One piece of a piecewise schedule: rate for the updates before end_step (and from the previous
 * piece's end_step on). */
typedef struct vkti_lr_piece {
    double rate;
    int64_t end_step;
} vkti_lr_piece;

typedef struct vkti_lr_schedule {
    vkti_lr_kind kind;
    double base_lr;              /* already multiplied by the --scale-lr factor */
    int64_t warmup_steps;
    int64_t total_steps;
    int piece_count;
    vkti_lr_piece pieces[VKTI_LR_MAX_PIECES]; /* rates already scaled */
    int64_t end_step;            /* piecewise: where A1111 would stop training; else total_steps */
} vkti_lr_schedule;

/* Parses AUTOMATIC1111's learn-rate string for a run of max_steps updates.
 * Grammar: PIECE ("," PIECE)*, PIECE = RATE ":" STEP | RATE ":" "-1" | RATE, where the last two
 * forms (the rate holds to the end) may only come last; spaces around numbers are allowed.
 * A1111's LearnScheduleIterator semantics for such strings: each rate holds until its step (so
 * "0.005:100" covers updates 0..99); a step beyond max_steps is cut to max_steps. Where A1111 is
 * silently odd, this refuses: steps not strictly increasing, a step of 0 or below (other than -1),
 * anything after a final rate, empty pieces, a rate that is not a positive finite number, more
 * than VKTI_LR_MAX_PIECES pieces, underscores or hex in numbers. *end_step is the step after which
 * A1111 would end the run (the last piece's step, or max_steps). */
int vkti_lr_piecewise_parse(vkti_diag *d, const char *text, int64_t max_steps, vkti_lr_piece *pieces, int cap,
                            int *count, int64_t *end_step);

/* --scale-lr: the factor diffusers' script applies (gradient_accumulation_steps × batch size ×
 * processes, with one process). */
double vkti_lr_scale_factor(int batch_size, int grad_accum);

/* piecewise is read only for VKTI_LR_PIECEWISE; scale multiplies every rate (1.0 = none). */
int vkti_lr_schedule_init(vkti_diag *d, vkti_lr_schedule *s, vkti_lr_kind kind, double base_lr,
                          const char *piecewise, int64_t warmup_steps, int64_t total_steps, double scale);
/* From a finished training configuration (kind, rates, warmup, steps, --scale-lr). */
int vkti_lr_schedule_from_config(vkti_diag *d, vkti_lr_schedule *s, const vkti_train_config *cfg);

/* The rate of update k (k >= 0). Past a piecewise schedule's end it keeps the last rate. */
double vkti_lr_at(const vkti_lr_schedule *s, int64_t k);

#endif
