/* conv2d.h — 2-D convolution of NHWC activations: forward with fused bias and residual, and the
 * input-gradient backward (the transposed convolution). Both are implicit GEMMs with fp32
 * accumulation; no im2col buffer is made. Every tensor of one call shares a storage dtype (f32
 * or f16). shaders/conv2d.comp runs everywhere; shaders/conv2d_cm.comp (tensor cores through
 * GL_NV_cooperative_matrix) takes f16 calls whose Cin and Cout are multiples of 8 on devices that
 * have it (VKTI_DISABLE=coopmat turns it off).
 *
 * Shapes:
 *     in       [N, H, W, Cin]
 *     weight   [Cout, kh, kw, Cin]          (OHWI; see vkti_conv2d_weight_from_oihw)
 *     out      [N, Ho, Wo, Cout]            Ho = (H + pad_top + pad_bottom - kh) / stride + 1,
 *                                           Wo = (W + pad_left + pad_right - kw) / stride + 1
 *     bias     NULL, [Cout], or [N, Cout]   (per sample: the UNet ResNet block's first conv passes
 *                                           conv.bias[c] + time_emb_proj(temb)[n, c], fusing the add)
 *     residual NULL or [N, Ho, Wo, Cout]    (the ResNet skip add)
 * Padding is zero padding. There is no weight gradient: textual inversion freezes weights. */
#ifndef VKTI_OPS_CONV2D_H
#define VKTI_OPS_CONV2D_H

#include "gpu/gpu.h"

typedef struct vkti_conv2d_params {
    int kh, kw, stride;
    int pad_top, pad_bottom, pad_left, pad_right;  /* UNet: 1,1,1,1; VAE encoder downsample: 0,1,0,1 */
} vkti_conv2d_params;

/* The output size of one spatial dimension: (in + pad_a + pad_b - k) / stride + 1, or 0 when
 * the padded input is smaller than the kernel. */
int64_t vkti_conv2d_out_size(int64_t in, int k, int stride, int pad_a, int pad_b);

/* out = conv(in, weight) + bias + residual. out must not overlap any input.
 * Cost: 2 * N*Ho*Wo * Cout * kh*kw*Cin flops; zero padding costs no reads. */
int vkti_conv2d_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *in, const vkti_tensor *weight,
                        const vkti_tensor *bias, const vkti_tensor *residual, const vkti_conv2d_params *p);

/* d_in [N, H, W, Cin] = (or += when accumulate) the gradient of sum(d_out * conv(in, weight))
 * with respect to in, from d_out [N, Ho, Wo, Cout]. Every element of d_in is written, including
 * pixels no output reads (they get 0, or are left as they were when accumulating). The sizes H
 * and W come from d_in: with stride 2 several input sizes give the same output size.
 * With stride s the input pixels are processed in s*s phase classes, each over only the taps
 * that reach it, so a stride-2 3x3 backward costs the same flops as its forward. */
int vkti_conv2d_backward(vkti_cmd *c, const vkti_tensor *d_in, const vkti_tensor *d_out, const vkti_tensor *weight,
                         const vkti_conv2d_params *p, int accumulate);

/* Host helper for loaders: PyTorch's weight layout [Cout, Cin, kh, kw] to the op's [Cout, kh, kw, Cin]. */
void vkti_conv2d_weight_from_oihw(float *dst, const float *src, int cout, int cin, int kh, int kw);

#endif
