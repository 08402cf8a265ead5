/* ref_attention.h — double-precision CPU references for multi-head attention: the explicit
 * softmax(scale * Q K^T [+ causal mask]) V, one row of probabilities at a time, and its backward.
 * Layouts as in src/ops/attention.h: q, out, dq, dout [B, Nq, H, D]; k, v, dk, dv [B, Nk, H, D];
 * lse, delta [B, H, Nq]. Causal: key j is masked for query i when j > i. */
#ifndef VKTI_TESTS_REF_ATTENTION_H
#define VKTI_TESTS_REF_ATTENTION_H

#include <stdint.h>

typedef struct ref_attn_shape {
    int64_t batch, nq, nk, heads, dim;
    double scale;
    int causal;
} ref_attn_shape;

/* out and lse (natural log of each row's sum of exp(scale * q . k)); lse may be NULL. */
void ref_attention_forward(double *out, double *lse, const double *q, const double *k, const double *v,
                           const ref_attn_shape *s);
/* dq, dk, dv of loss = sum(dout * out), computed as dS = P (dP - rowsum(P dP)) with P and
 * dP = dO V^T formed explicitly per row; delta (may be NULL) receives rowsum(P dP). */
void ref_attention_backward(double *dq, double *dk, double *dv, double *delta, const double *dout, const double *q,
                            const double *k, const double *v, const ref_attn_shape *s);

#endif
