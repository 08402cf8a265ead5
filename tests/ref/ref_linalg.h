/* ref_linalg.h — double-precision CPU references for matmul, row reductions and softmax. */
#ifndef VKTI_TESTS_REF_LINALG_H
#define VKTI_TESTS_REF_LINALG_H

#include <stdint.h>

/* c[b] (M x N) = alpha * op(a[b]) * op(b[b or 0]) + bias + beta * c_in[b]; a, b as float.
 * trans_a: a[b] is K x M; trans_b: b is N x K. bias (N) and c_in may be NULL. */
void ref_matmul(double *c, const float *a, const float *b, const float *bias, const double *c_in, int64_t batch,
                int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, int b_batched, double alpha, double beta);
void ref_sum_rows(double *out, const float *x, int64_t rows, int64_t cols, int mean);
void ref_softmax_rows(double *out, const float *x, int64_t rows, int64_t cols, double scale);

#endif
