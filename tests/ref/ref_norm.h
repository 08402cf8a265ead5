/* ref_norm.h — double-precision CPU references for group norm (NHWC, optional SiLU) and layer
 * norm, forward and input-gradient backward. Inputs are double so that the same functions
 * serve the finite-difference checks. */
#ifndef VKTI_TESTS_REF_NORM_H
#define VKTI_TESTS_REF_NORM_H

#include <stdint.h>

/* x, out are [N, P, C]; G groups of C/G consecutive channels; gamma, beta [C]; mean, rstd
 * [N, G] (biased variance, rstd = 1/sqrt(var + eps)). silu: out = silu(normalized). */
void ref_group_norm_forward(double *out, double *mean, double *rstd, const double *x, const double *gamma,
                            const double *beta, int64_t N, int64_t P, int64_t C, int64_t G, double eps, int silu);
/* dx (overwritten) [N, P, C] from dy, with the forward's mean and rstd. */
void ref_group_norm_backward(double *dx, const double *dy, const double *x, const double *gamma, const double *beta,
                             const double *mean, const double *rstd, int64_t N, int64_t P, int64_t C, int64_t G,
                             int silu);

/* x, out are [R, C], normalized over C; mean, rstd [R]. */
void ref_layer_norm_forward(double *out, double *mean, double *rstd, const double *x, const double *gamma,
                            const double *beta, int64_t R, int64_t C, double eps);
void ref_layer_norm_backward(double *dx, const double *dy, const double *x, const double *gamma, const double *mean,
                             const double *rstd, int64_t R, int64_t C);

#endif
