/* ref_optim.h — a double-precision implementation of PyTorch's optimizer formulas
 * (torch.optim.AdamW, torch.optim.Adam, torch.optim.SGD) with GradScaler-style unscaling and
 * skipping, and clip_grad_norm_, to check src/ops/optim.h step by step. */
#ifndef VKTI_TESTS_REF_OPTIM_H
#define VKTI_TESTS_REF_OPTIM_H

#include <stdint.h>

typedef struct ref_optim {
    int kind;               /* 0 AdamW, 1 Adam, 2 SGD (the vkti_optim_kind values) */
    double lr, beta1, beta2, eps, weight_decay, max_norm, loss_scale;
    int64_t step, skipped;  /* t, and steps skipped for a non-finite gradient */
    double bc1, bc2, norm;  /* of the latest step */
} ref_optim;

/* One step on param, m, v [n] from the raw (loss-scaled) gradient g. Returns 1 if the step was
 * applied, 0 if skipped. */
int ref_optim_step(ref_optim *o, double *param, double *m, double *v, const double *g, int64_t n);

#endif
