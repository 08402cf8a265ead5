/* attention.h — fused multi-head scaled-dot-product attention, forward and backward, with no
 * Nq x Nk matrix in memory (flash-attention style; FlashAttention-2 backward without atomics).
 *
 * Layout: token-major with heads contiguous inside the channel dimension, as the to_q / to_k /
 * to_v Linear layers write them, so no permute is needed:
 *     q, out, dq, d_out: [B, Nq, H, D] (or [B, Nq, H*D]);  k, v, dk, dv: [B, Nk, H, D] (or [B, Nk, H*D]);
 *     lse: f32 [B, H, Nq] (or any shape with B*H*Nq elements).
 * q, k, v, out and the gradients share one storage dtype (f32 or f16); arithmetic, the online
 * softmax and exponentials are f32. Causal: key j is masked for query i when j > i (the CLIP
 * text encoder; Nq need not equal Nk). D is the head dimension, at most 256 (tested: 40, 64, 80,
 * 160); tile sizes are chosen per D and the device's shared-memory size.
 *
 * Tensor cores: with f16 storage, D a multiple of 8, and a device with GL_NV_cooperative_matrix's
 * f16 16x8x16 shape (32-wide subgroups, the Vulkan memory model), the products run as
 * cooperative-matrix fragments (attention_*_cm.comp): the forward for D up to 160, the backward
 * for D up to 96; everything else takes the portable kernels (VKTI_DISABLE=coopmat forces them). */
#ifndef VKTI_OPS_ATTENTION_H
#define VKTI_OPS_ATTENTION_H

#include "gpu/gpu.h"

#define VKTI_ATTENTION_MAX_DIM 256

/* out = softmax(scale * Q K^T [+ causal mask]) V per batch and head; lse[b, h, i] receives the
 * natural log of the row's sum of exp(scale * q_i . k_j), which the backward needs (NULL: not
 * written, for inference). */
int vkti_attention_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *lse, const vkti_tensor *q,
                           const vkti_tensor *k, const vkti_tensor *v, int heads, float scale, int causal);

/* f32 elements of the scratch tensor vkti_attention_backward needs for these sizes on this
 * device: delta [B, H, Nq] (rowsum(d_out * out)) and, where the keys alone make too few
 * workgroups (cross-attention over 77 tokens), partial dK and dV sums of split query ranges. */
int vkti_attention_backward_scratch(vkti_gpu *g, int64_t batch, int64_t nq, int64_t nk, int heads, int64_t dim,
                                    int64_t *elements);

/* dq, dk, dv from d_out, given the forward's q, k, v, out and lse (same heads, scale, causal).
 * scratch is caller-provided f32 with at least vkti_attention_backward_scratch elements; its
 * first B*H*Nq hold delta afterwards. Dispatches: delta; dK/dV (one workgroup per key tile and
 * query range, then a sum over the ranges when there are several); dQ (one per query tile). */
int vkti_attention_backward(vkti_cmd *c, const vkti_tensor *dq, const vkti_tensor *dk, const vkti_tensor *dv,
                            const vkti_tensor *scratch, const vkti_tensor *d_out, const vkti_tensor *q,
                            const vkti_tensor *k, const vkti_tensor *v, const vkti_tensor *out,
                            const vkti_tensor *lse, int heads, float scale, int causal);

#endif
