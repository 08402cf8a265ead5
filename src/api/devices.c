/* devices.c — the public device listing (vkti devices) and name helpers. */
#include "api/ctx_internal.h"

int vkti_devices_list(vkti_ctx *ctx, vkti_device_info **out, int *count)
{
    return vkti_gpu_enumerate(&ctx->diag, ctx->opt.validation, out, count);
}

int vkti_device_current(vkti_ctx *ctx, vkti_device_info *out)
{
    vkti_gpu *g;
    int rc = vkti__ctx_gpu(ctx, &g);
    if (rc == VKTI_OK)
        *out = *vkti_gpu_info(g);
    return rc;
}

const char *vkti_device_type_name(vkti_device_type type)
{
    switch (type) {
    case VKTI_DEVICE_INTEGRATED: return "integrated GPU";
    case VKTI_DEVICE_DISCRETE: return "discrete GPU";
    case VKTI_DEVICE_VIRTUAL: return "virtual GPU";
    case VKTI_DEVICE_CPU: return "CPU";
    default: return "other";
    }
}

const char *vkti_vendor_name(uint32_t vendor_id)
{
    switch (vendor_id) {
    case 0x1002: return "AMD";
    case 0x10de: return "NVIDIA";
    case 0x8086: return "Intel";
    case 0x13b5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "ImgTec";
    case 0x106b: return "Apple";
    case 0x10005: return "Mesa";
    default: return "unknown";
    }
}
