/* train.c — the public `vkti train` entry point: the device from the configuration, then the
 * trainer (src/train/trainer.c). */
#include <stdio.h>
#include <string.h>

#include "api/ctx_internal.h"
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
    return vkti_trainer_run(g, &ctx->diag, cfg, report, ctx->opt.progress, ctx->opt.progress_user);
}
