/* linear.h — a Linear layer (PyTorch nn.Linear) on top of vkti_matmul_forward: forward and
 * the input gradient (the weight is frozen: no dW, no db). All tensors share one dtype (f32 or
 * f16); accumulation is f32. Leading dimensions of x are flattened into rows. */
#ifndef VKTI_OPS_LINEAR_H
#define VKTI_OPS_LINEAR_H

#include "gpu/gpu.h"

/* out [..., out_f] = x [..., in_f] * weight^T + bias; weight is [out_f, in_f] (PyTorch's
 * layout), bias [out_f] or NULL. */
int vkti_linear_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *weight,
                        const vkti_tensor *bias);

/* dx [..., in_f] = dy [..., out_f] * weight (accumulate: dx +=). */
int vkti_linear_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *weight,
                         int accumulate);

#endif
