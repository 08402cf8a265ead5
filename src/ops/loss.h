/* loss.h — the training loss and the gradient norm. The loss: mean squared error with
 * optional per-sample weights (min-SNR-γ weighting) and an optional per-pixel mask (an
 * alpha-channel loss mask), forward and backward:
 *
 *     pred, target [N, ..., C] (f32 or f16, same dtype), P = the product of the middle dims;
 *     w [N] f32 or NULL; mask [N, P] f32 or NULL (broadcast over C);
 *     loss = (1 / count) * sum_{n,p,c} w[n] * mask[n,p] * (pred - target)^2,
 *     count = N * P * C — every element, masked or not.
 *
 * So masked-out elements count as zeros in the mean: the convention of kohya-ss sd-scripts
 * (loss * mask, then .mean()), and for a 0/1 mask the same number as
 * F.mse_loss(pred * mask, target * mask); a fractional mask weights the squared error
 * linearly (F.mse_loss(pred * mask, target * mask) would weight it by mask^2). A mean over
 * the unmasked elements only is these weights times N*P / sum(mask), folded into w by the
 * caller. Without w and mask this is F.mse_loss(pred, target) (reduction "mean"). */
#ifndef VKTI_OPS_LOSS_H
#define VKTI_OPS_LOSS_H

#include "gpu/gpu.h"

/* f32 elements of the scratch tensor that vkti_mse_forward (and vkti_grad_norm_forward) need
 * for n input elements (between 1 and 1024). */
int64_t vkti_loss_scratch_elems(int64_t n);

/* loss f32 [1]; scratch f32 [>= vkti_loss_scratch_elems(numel(pred))] (partial sums).
 * Deterministic: the summation order depends only on the sizes. */
int vkti_mse_forward(vkti_cmd *c, const vkti_tensor *loss, const vkti_tensor *scratch, const vkti_tensor *pred,
                     const vkti_tensor *target, const vkti_tensor *w, const vkti_tensor *mask);
/* d_pred (pred's dtype and shape) = 2 * s * w[n] * mask[n,p] * (pred - target) / count, with
 * s = scale[scale_index] read on the device (the loss scale of fp16 training; the optimizer's
 * hyperparameter tensor holds it at VKTI_OPT_LOSS_SCALE), or s = 1 when scale is NULL. */
int vkti_mse_backward(vkti_cmd *c, const vkti_tensor *d_pred, const vkti_tensor *pred, const vkti_tensor *target,
                      const vkti_tensor *w, const vkti_tensor *mask, const vkti_tensor *scale, int scale_index);

/* norm f32 [1] = sqrt(sum of g^2) over every element of g (f32, any shape): the global L2
 * norm for gradient clipping (vkti_optim_step reads it). scratch as for vkti_mse_forward.
 * A sum that overflows f32 gives inf, which the optimizer treats as non-finite. */
int vkti_grad_norm_forward(vkti_cmd *c, const vkti_tensor *norm, const vkti_tensor *scratch, const vkti_tensor *g);

#endif
