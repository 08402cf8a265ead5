/* reduce.h — row reductions and row softmax over a tensor seen as [rows, cols]
 * (cols = the last dimension). */
#ifndef VKTI_OPS_REDUCE_H
#define VKTI_OPS_REDUCE_H

#include "gpu/gpu.h"

/* out[r] = sum_c in[r, c] (mean=1: divided by cols). out is f32 [rows]; in is f32 or f16. */
int vkti_sum_rows_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *in, int mean);
/* out[r, :] = softmax(scale * in[r, :]); out and in share dtype and shape. */
int vkti_softmax_rows_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *in, float scale);

#endif
