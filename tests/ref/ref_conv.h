/* ref_conv.h — double-precision CPU references for 2-D convolution of NHWC tensors: the direct
 * forward (gather) and its input-gradient backward (scatter). */
#ifndef VKTI_TESTS_REF_CONV_H
#define VKTI_TESTS_REF_CONV_H

#include <stdint.h>

typedef struct ref_conv_dims {
    int64_t N, H, W, Cin, Cout;
    int kh, kw, stride;
    int pad_top, pad_bottom, pad_left, pad_right;
} ref_conv_dims;

/* (in + pad_a + pad_b - k) / stride + 1 */
int64_t ref_conv_out_size(int64_t in, int k, int stride, int pad_a, int pad_b);

/* out [N, Ho, Wo, Cout] = conv(in [N, H, W, Cin], w [Cout, kh, kw, Cin]) + bias + residual, zero padding.
 * bias: NULL, [Cout] or (bias_per_sample) [N, Cout]; residual: NULL or [N, Ho, Wo, Cout]. */
void ref_conv2d_forward(double *out, const double *in, const double *w, const double *bias, int bias_per_sample,
                        const double *residual, const ref_conv_dims *d);

/* d_in [N, H, W, Cin] = d(sum(d_out * conv(in, w))) / d in, from d_out [N, Ho, Wo, Cout]: every
 * output element's gradient scattered back through the taps that produced it. Overwrites d_in. */
void ref_conv2d_backward(double *d_in, const double *d_out, const double *w, const ref_conv_dims *d);

#endif
