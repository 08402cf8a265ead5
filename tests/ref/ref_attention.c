/* ref_attention.c — double-precision attention references (see ref_attention.h). */
#include "ref/ref_attention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* element (token n, head h, channel 0) of a [B, N, H, D] tensor */
static int64_t at(const ref_attn_shape *s, int64_t b, int64_t n, int64_t tokens, int64_t h)
{
    return ((b * tokens + n) * s->heads + h) * s->dim;
}

/* p[j] = softmax_j(scale * q_i . k_j) over the unmasked keys (masked: 0); returns the lse. */
static double probabilities(double *p, const double *qi, const double *k, const ref_attn_shape *s, int64_t b,
                            int64_t h, int64_t i)
{
    int64_t kend = s->causal && i + 1 < s->nk ? i + 1 : s->nk;
    double m = -INFINITY, sum = 0;
    for (int64_t j = 0; j < kend; j++) {
        const double *kj = k + at(s, b, j, s->nk, h);
        double x = 0;
        for (int64_t d = 0; d < s->dim; d++)
            x += qi[d] * kj[d];
        p[j] = s->scale * x;
        m = fmax(m, p[j]);
    }
    for (int64_t j = 0; j < kend; j++) {
        p[j] = exp(p[j] - m);
        sum += p[j];
    }
    for (int64_t j = 0; j < s->nk; j++)
        p[j] = j < kend ? p[j] / sum : 0.0;
    return m + log(sum);
}

void ref_attention_forward(double *out, double *lse, const double *q, const double *k, const double *v,
                           const ref_attn_shape *s)
{
    double *p = malloc(sizeof(double) * (size_t)s->nk);
    if (!p)
        abort();
    for (int64_t b = 0; b < s->batch; b++)
        for (int64_t h = 0; h < s->heads; h++)
            for (int64_t i = 0; i < s->nq; i++) {
                const double *qi = q + at(s, b, i, s->nq, h);
                double l = probabilities(p, qi, k, s, b, h, i);
                if (lse)
                    lse[(b * s->heads + h) * s->nq + i] = l;
                double *oi = out + at(s, b, i, s->nq, h);
                memset(oi, 0, sizeof(double) * (size_t)s->dim);
                for (int64_t j = 0; j < s->nk; j++) {
                    const double *vj = v + at(s, b, j, s->nk, h);
                    for (int64_t d = 0; d < s->dim; d++)
                        oi[d] += p[j] * vj[d];
                }
            }
    free(p);
}

void ref_attention_backward(double *dq, double *dk, double *dv, double *delta, const double *dout, const double *q,
                            const double *k, const double *v, const ref_attn_shape *s)
{
    int64_t nq_el = s->batch * s->nq * s->heads * s->dim, nk_el = s->batch * s->nk * s->heads * s->dim;
    memset(dq, 0, sizeof(double) * (size_t)nq_el);
    memset(dk, 0, sizeof(double) * (size_t)nk_el);
    memset(dv, 0, sizeof(double) * (size_t)nk_el);
    double *p = malloc(sizeof(double) * (size_t)s->nk), *dp = malloc(sizeof(double) * (size_t)s->nk);
    if (!p || !dp)
        abort();
    for (int64_t b = 0; b < s->batch; b++)
        for (int64_t h = 0; h < s->heads; h++)
            for (int64_t i = 0; i < s->nq; i++) {
                const double *qi = q + at(s, b, i, s->nq, h), *doi = dout + at(s, b, i, s->nq, h);
                probabilities(p, qi, k, s, b, h, i);
                double rowsum = 0;
                for (int64_t j = 0; j < s->nk; j++) {
                    const double *vj = v + at(s, b, j, s->nk, h);
                    double x = 0;
                    for (int64_t d = 0; d < s->dim; d++)
                        x += doi[d] * vj[d];
                    dp[j] = x;
                    rowsum += p[j] * x;
                }
                if (delta)
                    delta[(b * s->heads + h) * s->nq + i] = rowsum;
                double *dqi = dq + at(s, b, i, s->nq, h);
                for (int64_t j = 0; j < s->nk; j++) {
                    if (p[j] == 0.0)
                        continue; /* masked */
                    double ds = p[j] * (dp[j] - rowsum) * s->scale;
                    const double *kj = k + at(s, b, j, s->nk, h);
                    double *dkj = dk + at(s, b, j, s->nk, h), *dvj = dv + at(s, b, j, s->nk, h);
                    for (int64_t d = 0; d < s->dim; d++) {
                        dqi[d] += ds * kj[d];
                        dkj[d] += ds * qi[d];
                        dvj[d] += p[j] * doi[d];
                    }
                }
            }
    free(p);
    free(dp);
}
