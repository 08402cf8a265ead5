/* train.c — the public `vkti train` entry point: the device from the configuration, then the
 * trainer (src/train/trainer.c). VKTI_FORCE_RECOMPUTE=1 in the environment (for tests, whose tiny
 * models never exceed any budget): recompute the UNet's attention blocks in the backward as
 * --max-vram does over budget; the embedding is the same, byte for byte. */
#include <stdio.h>
#include <string.h>

#include "api/ctx_internal.h"
#include "base/platform.h"
#include "train/trainer.h"

int vkti_train(vkti_ctx *ctx, const vkti_train_config *cfg, vkti_train_report *report)
{
    if (!ctx->gpu) { /* the configuration's device and precision win over the context's */
        if (cfg->device[0]) {
            snprintf(ctx->device_sel, sizeof ctx->device_sel, "%s", cfg->device);
            ctx->opt.device = ctx->device_sel;
        }
        ctx->opt.precision = cfg->precision;
    }
    vkti_gpu *g;
    int rc = vkti__ctx_gpu(ctx, &g);
    if (rc)
        return rc;
    const char *force = vkti_env("VKTI_FORCE_RECOMPUTE");
    return vkti_trainer_run(g, &ctx->diag, cfg, report, ctx->opt.progress, ctx->opt.progress_user,
                            force && strcmp(force, "0") != 0);
}
