/* op_common.h — helpers every op file uses: storage-variant names, shape checks that leave a
 * message naming the op and tensor, and pipeline + dispatch in one call. */
#ifndef VKTI_OPS_OP_COMMON_H
#define VKTI_OPS_OP_COMMON_H

#include "gpu/gpu.h"

/* "f32" or "f16" for a float storage type, NULL for anything else. */
const char *vkti_op_variant(vkti_dtype t);

/* Fails unless t has storage type `dtype` and numel == n (n < 0: any). */
int vkti_op_check(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t,
                  vkti_dtype dtype, int64_t n);
/* Fails unless every dimension matches. */
int vkti_op_check_shape(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t,
                        int ndim, const int64_t *shape);
/* Fails unless n fits a 32-bit index. */
int vkti_op_check_u32(vkti_cmd *c, const char *op, int64_t n);

/* vkti_pipeline_get for "<shader>.<variant>" (or "<shader>" when variant is NULL), then dispatch. */
int vkti_op_run(vkti_cmd *c, const char *shader, const char *variant, const uint32_t *spec, int nspec,
                const vkti_arg *args, int nargs, const void *push, uint32_t push_bytes,
                uint32_t gx, uint32_t gy, uint32_t gz);

#endif
