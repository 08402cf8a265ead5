/* ctx.c — the public context: options, the last failure's message, lazy device opening,
 * status names and exit codes. */
#include "api/ctx_internal.h"
#include "base/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vkti_exit_code(int status)
{
    switch (status) {
    case VKTI_OK: return 0;
    case VKTI_E_INVALID:
    case VKTI_E_IO:
    case VKTI_E_FORMAT:
    case VKTI_E_INTERRUPTED: return 1;
    default: return 2;
    }
}

const char *vkti_status_name(int status)
{
    switch (status) {
    case VKTI_OK: return "ok";
    case VKTI_E_INVALID: return "invalid input";
    case VKTI_E_IO: return "i/o error";
    case VKTI_E_FORMAT: return "bad file";
    case VKTI_E_NO_VULKAN: return "no Vulkan";
    case VKTI_E_NO_DEVICE: return "no device";
    case VKTI_E_UNSUPPORTED: return "unsupported device";
    case VKTI_E_OOM: return "out of memory";
    case VKTI_E_DEVICE_LOST: return "device lost";
    case VKTI_E_VULKAN: return "Vulkan error";
    case VKTI_E_INTERNAL: return "internal error";
    case VKTI_E_INTERRUPTED: return "interrupted";
    default: return "error";
    }
}

const char *vkti_version(void) { return VKTI_VERSION; }

void vkti_free(void *p) { free(p); }

int vkti_stderr_is_terminal(void) { return vkti_stderr_is_tty(); }

int vkti_ctx_init(vkti_ctx **out, const vkti_options *options)
{
    *out = NULL;
    vkti_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return VKTI_E_OOM;
    if (options)
        ctx->opt = *options;
    else
        ctx->opt.log_level = VKTI_LOG_WARN;
    if (ctx->opt.device) {
        snprintf(ctx->device_sel, sizeof ctx->device_sel, "%s", ctx->opt.device);
        ctx->opt.device = ctx->device_sel;
    }
    if (ctx->opt.disable) {
        snprintf(ctx->disable, sizeof ctx->disable, "%s", ctx->opt.disable);
        ctx->opt.disable = ctx->disable;
    }
    if (ctx->opt.pipeline_cache) {
        snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s", ctx->opt.pipeline_cache);
        ctx->opt.pipeline_cache = ctx->cache_path;
    }
    ctx->diag.log = ctx->opt.log;
    ctx->diag.log_user = ctx->opt.log_user;
    ctx->diag.level = ctx->opt.log_level;
    *out = ctx;
    return VKTI_OK;
}

void vkti_ctx_free(vkti_ctx *ctx)
{
    if (!ctx)
        return;
    vkti_gpu_free(ctx->gpu);
    free(ctx);
}

const char *vkti_ctx_message(const vkti_ctx *ctx) { return ctx ? ctx->diag.msg : "out of memory"; }

int vkti__ctx_gpu(vkti_ctx *ctx, vkti_gpu **out)
{
    if (!ctx->gpu) {
        vkti_gpu_options go = {
            .device = ctx->opt.device,
            .need_storage16 = ctx->opt.precision == VKTI_PRECISION_FP16,
            .validation = ctx->opt.validation,
            .pipeline_cache = ctx->opt.pipeline_cache,
            .disable = ctx->opt.disable,
        };
        int rc = vkti_gpu_create(&ctx->gpu, &ctx->diag, &go);
        if (rc)
            return rc;
    }
    *out = ctx->gpu;
    return VKTI_OK;
}

int vkti_ctx_open_device(vkti_ctx *ctx)
{
    vkti_gpu *g;
    return vkti__ctx_gpu(ctx, &g);
}

int vkti_ctx_validation_messages(const vkti_ctx *ctx)
{
    return ctx->gpu ? vkti_gpu_validation_messages(ctx->gpu) : 0;
}
