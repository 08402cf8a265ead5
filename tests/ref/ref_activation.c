/* ref_activation.c — double-precision activation references (see ref_activation.h). GELU uses
 * the C library's erfc: gelu(x) = x * erfc(-x / sqrt 2) / 2, accurate in both tails. */
#include "ref/ref_activation.h"

#include <math.h>

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

double ref_act(ref_act_kind kind, double x)
{
    switch (kind) {
    case REF_GELU: return x * phi(x);
    case REF_QUICK_GELU: return x * sigmoid(1.702 * x);
    default: return x * sigmoid(x);
    }
}

double ref_act_grad(ref_act_kind kind, double x)
{
    switch (kind) {
    case REF_GELU: return phi(x) + x * exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846);
    case REF_QUICK_GELU: {
        double s = sigmoid(1.702 * x);
        return s + 1.702 * x * s * (1.0 - s);
    }
    default: {
        double s = sigmoid(x);
        return s * (1.0 + x * (1.0 - s));
    }
    }
}

void ref_geglu_forward(double *out, const double *x, int64_t rows, int64_t F)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < F; j++)
            out[r * F + j] = x[r * 2 * F + j] * ref_act(REF_GELU, x[r * 2 * F + F + j]);
}

void ref_geglu_backward(double *dx, const double *dy, const double *x, int64_t rows, int64_t F)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < F; j++) {
            double h = x[r * 2 * F + j], g = x[r * 2 * F + F + j], d = dy[r * F + j];
            dx[r * 2 * F + j] = d * ref_act(REF_GELU, g);
            dx[r * 2 * F + F + j] = d * h * ref_act_grad(REF_GELU, g);
        }
}
