/* optim.c — dispatch of shaders/optim_prepare.comp and optim_update.comp (see optim.h). */
#include "ops/optim.h"

#include <string.h>

#include "ops/op_common.h"

vkti_optim_params vkti_optim_defaults(vkti_optim_kind kind)
{
    vkti_optim_params p = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.0,
                           .max_norm = 0.0, .loss_scale = 1.0};
    if (kind == VKTI_OPTIM_ADAMW)
        p.weight_decay = 1e-2;
    if (kind == VKTI_OPTIM_SGD)
        p.beta1 = 0.0, p.beta2 = 0.0, p.eps = 0.0;
    return p;
}

void vkti_optim_hyper(float hyper[VKTI_OPT_HYPER_N], const vkti_optim_params *p)
{
    memset(hyper, 0, sizeof(float) * VKTI_OPT_HYPER_N);
    hyper[VKTI_OPT_LR] = (float)p->lr;
    hyper[VKTI_OPT_BETA1] = (float)p->beta1;
    hyper[VKTI_OPT_BETA2] = (float)p->beta2;
    hyper[VKTI_OPT_ONE_MINUS_BETA1] = (float)(1.0 - p->beta1);
    hyper[VKTI_OPT_ONE_MINUS_BETA2] = (float)(1.0 - p->beta2);
    hyper[VKTI_OPT_EPS] = (float)p->eps;
    hyper[VKTI_OPT_WEIGHT_DECAY] = (float)p->weight_decay;
    hyper[VKTI_OPT_MAX_NORM] = (float)p->max_norm;
    hyper[VKTI_OPT_LOSS_SCALE] = (float)(p->loss_scale > 0.0 ? p->loss_scale : 1.0);
}

int vkti_optim_step(vkti_cmd *c, vkti_optim_kind kind, const vkti_tensor *param, const vkti_tensor *m,
                    const vkti_tensor *v, const vkti_tensor *state, const vkti_tensor *grad, const vkti_tensor *norm,
                    const vkti_tensor *hyper)
{
    const char *op = kind == VKTI_OPTIM_ADAMW ? "adamw" : kind == VKTI_OPTIM_ADAM ? "adam" : "sgd";
    int64_t n = param ? vkti_tensor_numel(param) : 0;
    int rc;
    if (kind != VKTI_OPTIM_ADAMW && kind != VKTI_OPTIM_ADAM && kind != VKTI_OPTIM_SGD)
        return vkti_fail(vkti_gpu_diag(vkti_cmd_gpu(c)), VKTI_E_INTERNAL, "optim: unknown kind %d", (int)kind);
    if ((rc = vkti_op_check(c, op, "param", param, VKTI_F32, -1)) || (rc = vkti_op_check(c, op, "m", m, VKTI_F32, n)) ||
        (kind != VKTI_OPTIM_SGD && (rc = vkti_op_check(c, op, "v", v, VKTI_F32, n))) ||
        (rc = vkti_op_check(c, op, "grad", grad, VKTI_F32, n)) || (rc = vkti_op_check(c, op, "norm", norm, VKTI_F32, 1)) ||
        (rc = vkti_op_check(c, op, "hyper", hyper, VKTI_F32, VKTI_OPT_HYPER_N)) ||
        (rc = vkti_op_check(c, op, "state", state, VKTI_U32, VKTI_OPT_STATE_N)) || (rc = vkti_op_check_u32(c, op, n)))
        return rc;
    vkti_pc_optim pc = {(uint32_t)n, (uint32_t)kind};
    vkti_arg prep[3] = {{state, VKTI_RW}, {hyper, VKTI_READ}, {norm, VKTI_READ}};
    if ((rc = vkti_op_run(c, "optim_prepare", NULL, NULL, 0, prep, 3, &pc, sizeof pc, 1, 1, 1)))
        return rc;
    if (kind == VKTI_OPTIM_SGD && !v)
        v = m; /* bound but not read */
    vkti_arg args[6] = {{param, VKTI_RW}, {m, VKTI_RW}, {v, VKTI_RW}, {grad, VKTI_READ}, {state, VKTI_READ},
                        {hyper, VKTI_READ}};
    uint32_t g[3];
    vkti_cmd_grid_1d(c, (uint64_t)n, 256, g);
    return vkti_op_run(c, "optim_update", NULL, NULL, 0, args, 6, &pc, sizeof pc, g[0], g[1], g[2]);
}
