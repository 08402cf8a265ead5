/* op_common.c — shared op helpers (see op_common.h). */
#include "ops/op_common.h"

#include <stdio.h>

const char *vkti_op_variant(vkti_dtype t)
{
    switch (t) {
    case VKTI_F32: return "f32";
    case VKTI_F16: return "f16";
    default: return NULL;
    }
}

int vkti_op_check(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t, vkti_dtype dtype,
                  int64_t n)
{
    vkti_diag *d = vkti_gpu_diag(vkti_cmd_gpu(c));
    if (!t || !t->block)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: tensor %s is missing", op, name);
    if (t->dtype != dtype)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: tensor %s is %s, expected %s", op, name,
                         vkti_dtype_name(t->dtype), vkti_dtype_name(dtype));
    if (n >= 0 && vkti_tensor_numel(t) != n)
        return vkti_fail(d, VKTI_E_INTERNAL, "%s: tensor %s has %lld elements, expected %lld", op, name,
                         (long long)vkti_tensor_numel(t), (long long)n);
    return VKTI_OK;
}

int vkti_op_check_shape(vkti_cmd *c, const char *op, const char *name, const vkti_tensor *t, int ndim,
                        const int64_t *shape)
{
    int ok = t && t->block && t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == shape[i];
    if (ok)
        return VKTI_OK;
    char want[96] = "", got[96] = "";
    int lw = 0, lg = 0;
    for (int i = 0; i < ndim; i++)
        lw += snprintf(want + lw, sizeof want - (size_t)lw, "%s%lld", i ? "x" : "", (long long)shape[i]);
    for (int i = 0; t && i < t->ndim; i++)
        lg += snprintf(got + lg, sizeof got - (size_t)lg, "%s%lld", i ? "x" : "", (long long)t->shape[i]);
    return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: tensor %s is [%s], expected [%s]",
                     op, name, got, want);
}

int vkti_op_check_u32(vkti_cmd *c, const char *op, int64_t n)
{
    if (n >= 0 && n <= (int64_t)UINT32_MAX)
        return VKTI_OK;
    return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "%s: size %lld exceeds 32-bit indexing",
                     op, (long long)n);
}

int vkti_op_run(vkti_cmd *c, const char *shader, const char *variant, const uint32_t *spec, int nspec,
                const vkti_arg *args, int nargs, const void *push, uint32_t push_bytes, uint32_t gx,
                uint32_t gy, uint32_t gz)
{
    char name[96];
    if (variant)
        snprintf(name, sizeof name, "%s.%s", shader, variant);
    else
        snprintf(name, sizeof name, "%s", shader);
    vkti_pipeline *p;
    int rc = vkti_pipeline_get(vkti_cmd_gpu(c), name, spec, nspec, &p);
    if (rc)
        return rc;
    return vkti_cmd_dispatch(c, p, args, nargs, push, push_bytes, gx, gy, gz);
}
