/* ref_optim.c — PyTorch's optimizer steps in double precision (see ref_optim.h).
 *
 * With gamma = lr, lambda = weight_decay, and g_t the unscaled, clipped gradient
 * (torch.cuda.amp.GradScaler.unscale_ then torch.nn.utils.clip_grad_norm_:
 * g_t = (g / s) * min(1, max_norm / (||g / s|| + 1e-6)); a non-finite ||g / s|| skips the step,
 * and the step count t does not advance):
 *
 * torch.optim.AdamW (amsgrad=False):
 *     theta_t <- theta_{t-1} - gamma lambda theta_{t-1}
 *     m_t <- beta1 m_{t-1} + (1 - beta1) g_t
 *     v_t <- beta2 v_{t-1} + (1 - beta2) g_t^2
 *     m^_t <- m_t / (1 - beta1^t);  v^_t <- v_t / (1 - beta2^t)
 *     theta_t <- theta_t - gamma m^_t / (sqrt(v^_t) + eps)
 * torch.optim.Adam (amsgrad=False):
 *     g_t <- g_t + lambda theta_{t-1}   (if lambda != 0)
 *     m_t, v_t, m^_t, v^_t as above
 *     theta_t <- theta_{t-1} - gamma m^_t / (sqrt(v^_t) + eps)
 * torch.optim.SGD (momentum mu, dampening tau = 0, nesterov=False):
 *     g_t <- g_t + lambda theta_{t-1}
 *     b_t <- g_t if t = 1, else mu b_{t-1} + (1 - tau) g_t
 *     theta_t <- theta_{t-1} - gamma b_t */
#include "ref/ref_optim.h"

#include <math.h>

int ref_optim_step(ref_optim *o, double *param, double *m, double *v, const double *g, int64_t n)
{
    double ss = 0;
    for (int64_t i = 0; i < n; i++)
        ss += g[i] * g[i];
    o->norm = sqrt(ss) / o->loss_scale;
    if (!isfinite(o->norm)) {
        o->skipped++;
        return 0;
    }
    o->step++;
    double t = (double)o->step, factor = 1.0 / o->loss_scale;
    if (o->max_norm > 0) {
        double coef = o->max_norm / (o->norm + 1e-6);
        factor *= coef < 1.0 ? coef : 1.0;
    }
    o->bc1 = 1.0 - pow(o->beta1, t);
    o->bc2 = 1.0 - pow(o->beta2, t);
    for (int64_t i = 0; i < n; i++) {
        double gt = g[i] * factor, th = param[i];
        if (o->kind == 0) {
            th = th - o->lr * o->weight_decay * th;
        } else {
            gt = gt + o->weight_decay * th;
        }
        if (o->kind == 2) {
            m[i] = o->step == 1 ? gt : o->beta1 * m[i] + gt;
            th = th - o->lr * m[i];
        } else {
            m[i] = o->beta1 * m[i] + (1 - o->beta1) * gt;
            v[i] = o->beta2 * v[i] + (1 - o->beta2) * gt * gt;
            double mh = m[i] / o->bc1, vh = v[i] / o->bc2;
            th = th - o->lr * mh / (sqrt(vh) + o->eps);
        }
        param[i] = th;
    }
    return 1;
}
