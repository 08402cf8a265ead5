/* sampler.c — dispatch of shaders/sampler.comp (sampler steps) and shaders/sampler_latent.comp
 * (the decoder's input window). */
#include "ops/sampler.h"

#include "ops/op_common.h"

int vkti_sampler_step_forward(vkti_cmd *c, const vkti_tensor *x, const vkti_tensor *hist, const vkti_tensor *model_in,
                              const vkti_tensor *model_out, const vkti_tensor *noise, const vkti_tensor *coef,
                              unsigned mode, unsigned flags)
{
    const char *op = "sampler";
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    const char *variant = vkti_op_variant(model_in->dtype);
    if (!variant)
        return vkti_fail(d, VKTI_E_INTERNAL, "sampler: model_in must be f32 or f16");
    if (mode > VKTI_SAMPLER_MODE_DPMPP_2M)
        return vkti_fail(d, VKTI_E_INTERNAL, "sampler: unknown mode %u", mode);
    if (x->ndim < 2)
        return vkti_fail(d, VKTI_E_INTERNAL, "sampler: x must be [B, ...]");
    const int64_t B = x->shape[0], total = vkti_tensor_numel(x), n = total / (B > 0 ? B : 1);
    const int init = mode == VKTI_SAMPLER_MODE_INIT;
    if (init)
        flags |= VKTI_SAMPLER_F_NOISE;
    const int64_t copies = total > 0 ? vkti_tensor_numel(model_in) / total : 0;
    int rc;
    if ((rc = vkti_op_check(c, op, "x", x, VKTI_F32, -1)) || (rc = vkti_op_check(c, op, "coef", coef, VKTI_F32, VKTI_SAMPLER_COEFS)) ||
        (rc = vkti_op_check_u32(c, op, 2 * total)))
        return rc;
    if (B < 1 || n < 1 || (copies != 1 && copies != 2) || copies * total != vkti_tensor_numel(model_in))
        return vkti_fail(d, VKTI_E_INTERNAL, "sampler: model_in has %lld elements, not 1 or 2 times x's %lld",
                         (long long)vkti_tensor_numel(model_in), (long long)total);
    if (!init) {
        int64_t rows = (flags & VKTI_SAMPLER_F_GUIDED) ? 2 : 1;
        if (!model_out || (rc = vkti_op_check(c, op, "model_out", model_out, model_in->dtype, rows * total)))
            return model_out ? rc : vkti_fail(d, VKTI_E_INTERNAL, "sampler: a step needs model_out");
    }
    int need_hist = mode == VKTI_SAMPLER_MODE_DPMPP_2M || (init && (flags & VKTI_SAMPLER_F_HIST));
    if (need_hist && (!hist || (rc = vkti_op_check(c, op, "hist", hist, VKTI_F32, total))))
        return hist ? rc : vkti_fail(d, VKTI_E_INTERNAL, "sampler: this mode needs hist");
    int64_t stride = 0;
    if (flags & VKTI_SAMPLER_F_NOISE) {
        if (!noise || (rc = vkti_op_check(c, op, "noise", noise, VKTI_F32, -1)))
            return noise ? rc : vkti_fail(d, VKTI_E_INTERNAL, "sampler: this step needs noise");
        stride = vkti_tensor_numel(noise) / B;
        if (stride < n)
            return vkti_fail(d, VKTI_E_INTERNAL, "sampler: noise holds %lld elements, fewer than %lld images of %lld",
                             (long long)vkti_tensor_numel(noise), (long long)B, (long long)n);
    }
    vkti_pc_sampler pc = {(uint32_t)n, (uint32_t)B, (uint32_t)stride, (uint32_t)copies, mode, flags};
    /* bindings the mode does not use alias a used tensor with the same access */
    vkti_arg args[6] = {
        {x, VKTI_RW},
        {need_hist ? hist : x, VKTI_RW},
        {model_in, VKTI_WRITE},
        {init ? model_in : model_out, init ? VKTI_WRITE : VKTI_READ},
        {(flags & VKTI_SAMPLER_F_NOISE) ? noise : x, (flags & VKTI_SAMPLER_F_NOISE) ? VKTI_READ : VKTI_RW},
        {coef, VKTI_READ},
    };
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)total, 256, g);
    return vkti_op_run(c, "sampler", variant, NULL, 0, args, 6, &pc, sizeof pc, g[0], g[1], g[2]);
}

int vkti_sampler_latent_forward(vkti_cmd *c, const vkti_tensor *out, const vkti_tensor *latents, int image, int y0,
                                int x0, float scale)
{
    const char *op = "sampler_latent";
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    const char *variant = vkti_op_variant(out->dtype);
    int rc;
    if (!variant || out->ndim != 4 || out->shape[0] != 1 || latents->ndim != 4)
        return vkti_fail(d, VKTI_E_INTERNAL, "sampler_latent: out must be f32 or f16 [1, h, w, C], latents [B, h, w, C]");
    const int64_t B = latents->shape[0], h = latents->shape[1], w = latents->shape[2], C = latents->shape[3];
    const int64_t oh = out->shape[1], ow = out->shape[2];
    if ((rc = vkti_op_check(c, op, "latents", latents, VKTI_F32, -1)) || (rc = vkti_op_check_u32(c, op, vkti_tensor_numel(latents))))
        return rc;
    if (out->shape[3] != C || image < 0 || image >= B || y0 < 0 || x0 < 0 || y0 + oh > h || x0 + ow > w || !(scale != 0.0f))
        return vkti_fail(d, VKTI_E_INTERNAL, "sampler_latent: window %lldx%lld at (%d, %d) of image %d outside [%lld, %lld, %lld, %lld]",
                         (long long)oh, (long long)ow, y0, x0, image, (long long)B, (long long)h, (long long)w, (long long)C);
    int64_t n = oh * ow * C;
    vkti_pc_sampler_latent pc = {(uint32_t)n, (uint32_t)w, (uint32_t)h, (uint32_t)C, (uint32_t)ow,
                                 (uint32_t)image, (uint32_t)y0, (uint32_t)x0, scale};
    vkti_arg args[2] = {{out, VKTI_WRITE}, {latents, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)n, 256, g);
    return vkti_op_run(c, "sampler_latent", variant, NULL, 0, args, 2, &pc, sizeof pc, g[0], g[1], g[2]);
}
