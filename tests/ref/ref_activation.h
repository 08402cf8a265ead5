/* ref_activation.h — double-precision references for the activations of ops/activation.h:
 * SiLU, exact GELU, quick_gelu (value and derivative) and GEGLU (forward and backward). */
#ifndef VKTI_TESTS_REF_ACTIVATION_H
#define VKTI_TESTS_REF_ACTIVATION_H

#include <stdint.h>

typedef enum ref_act_kind { REF_SILU, REF_GELU, REF_QUICK_GELU } ref_act_kind;

double ref_act(ref_act_kind kind, double x);
double ref_act_grad(ref_act_kind kind, double x);

/* x is [rows, 2F] = (h, g) halves, out [rows, F] = h * gelu(g); dx [rows, 2F] (overwritten). */
void ref_geglu_forward(double *out, const double *x, int64_t rows, int64_t F);
void ref_geglu_backward(double *dx, const double *dy, const double *x, int64_t rows, int64_t F);

#endif
