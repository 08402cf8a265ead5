/* activation.h — activations forward and input-gradient backward: SiLU, exact GELU (erf),
 * quick_gelu (CLIP), and GEGLU (diffusers' gated GELU). x, out, dy, dx share one dtype (f32 or
 * f16); arithmetic is f32. Backward ops recompute from the forward input x (nothing saved)
 * and with `accumulate` add into dx instead of overwriting it. SiLU forward is also
 * vkti_silu_forward in elementwise.h. */
#ifndef VKTI_OPS_ACTIVATION_H
#define VKTI_OPS_ACTIVATION_H

#include "gpu/gpu.h"

typedef enum vkti_act {
    VKTI_ACT_SILU = 0,       /* x * sigmoid(x) */
    VKTI_ACT_GELU = 1,       /* x * Phi(x) = x/2 * (1 + erf(x / sqrt 2)), PyTorch's exact GELU */
    VKTI_ACT_QUICK_GELU = 2  /* x * sigmoid(1.702 x) */
} vkti_act;

/* out = act(x); out and x have the same number of elements (any shape). */
int vkti_act_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x, vkti_act act);
/* dx = dy * act'(x) (accumulate: dx +=); dx, dy, x have the same number of elements. */
int vkti_act_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x, vkti_act act,
                      int accumulate);

int vkti_silu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                       int accumulate);
int vkti_gelu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x);
int vkti_gelu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                       int accumulate);
int vkti_quick_gelu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x);
int vkti_quick_gelu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                             int accumulate);

/* GEGLU: x is [..., 2F] (the output of the feed-forward projection), out is [..., F]:
 * (h, g) = the two halves of each row of x, out = h * gelu(g).
 * Backward: dx [..., 2F] = (dy * gelu(g), dy * h * gelu'(g)) from dy [..., F] and x. */
int vkti_geglu_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *x);
int vkti_geglu_backward(vkti_cmd *c, const vkti_tensor *dx, const vkti_tensor *dy, const vkti_tensor *x,
                        int accumulate);

#endif
