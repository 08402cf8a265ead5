/* matmul.h — batched matrix product with fp32 accumulation, optional transposes, bias and
 * accumulation into the output:
 *     C[b] = alpha * op(A[b]) * op(B[b]) + bias + beta * C[b]
 * Shapes use the last two dimensions; leading dimensions multiply into the batch.
 *     A: [batch, M, K] (trans_a: [batch, K, M]); B: [batch_b, K, N] (trans_b: [batch_b, N, K]);
 *     C: [batch, M, N]; bias: [N] or NULL. batch_b is batch or 1 (one B for every batch).
 * All of A, B, C, bias share one storage dtype (f32 or f16). */
#ifndef VKTI_OPS_MATMUL_H
#define VKTI_OPS_MATMUL_H

#include "gpu/gpu.h"

typedef struct vkti_matmul_params {
    int trans_a, trans_b;
    float alpha;       /* 0 is read as 1 */
    float beta;        /* used only when accumulate is set */
    int accumulate;
} vkti_matmul_params;

int vkti_matmul_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *a, const vkti_tensor *b,
                        const vkti_tensor *bias, const vkti_matmul_params *p);

#endif
