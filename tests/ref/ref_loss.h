/* ref_loss.h — double-precision references for the MSE loss, its gradient and the gradient
 * norm (src/ops/loss.h). w and mask may be NULL. */
#ifndef VKTI_TESTS_REF_LOSS_H
#define VKTI_TESTS_REF_LOSS_H

#include <stdint.h>

/* (1 / (N P C)) sum w[n] mask[n,p] (pred - target)^2 over pred, target [N, P, C] */
double ref_mse(const double *pred, const double *target, const double *w, const double *mask, int64_t N, int64_t P,
               int64_t C);
/* d [N, P, C] = scale * 2 w[n] mask[n,p] (pred - target) / (N P C) */
void ref_mse_backward(double *d, const double *pred, const double *target, const double *w, const double *mask,
                      int64_t N, int64_t P, int64_t C, double scale);
/* sqrt(sum g^2) */
double ref_l2_norm(const double *g, int64_t n);

#endif
