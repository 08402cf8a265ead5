/* ctx_internal.h — the layout of the public vkti_ctx, for the files of src/api/ that
 * implement the public API on top of the lower layers. */
#ifndef VKTI_API_CTX_INTERNAL_H
#define VKTI_API_CTX_INTERNAL_H

#include "base/diag.h"
#include "gpu/gpu.h"

struct vkti_ctx {
    vkti_diag diag;
    vkti_options opt;
    char device_sel[256];
    char cache_path[1024];
    char disable[256];
    vkti_gpu *gpu;        /* opened on first use */
};

/* The context's device, opened on first call. */
int vkti__ctx_gpu(vkti_ctx *ctx, vkti_gpu **out);

#endif
