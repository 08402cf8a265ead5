/* blocks.h — the blocks the UNet and the VAE are built from, forward and input-gradient backward:
 *     ResNet block (diffusers ResnetBlock2D): GN+SiLU, conv3x3 (+ time embedding as a per-sample
 *         bias), GN+SiLU, conv3x3, plus the shortcut (1x1 conv when channels change);
 *     spatial transformer (diffusers Transformer2DModel + BasicTransformerBlock): GN, proj_in,
 *         per block self-attention, cross-attention on the text condition, GEGLU feed-forward,
 *         each behind a layer norm with a residual, then proj_out plus the input.
 * Activations are NHWC: x [N, H*W, C] (or [N, H, W, C]). Each block's *_a struct holds what its
 * forward keeps for its backward; a forward with a = NULL keeps nothing (inference). */
#ifndef VKTI_MODEL_BLOCKS_H
#define VKTI_MODEL_BLOCKS_H

#include "model/nn.h"

/* ---- ResNet block --------------------------------------------------------------------- */

typedef struct vkti_resnet_w {
    int cin, cout, temb_dim;  /* temb_dim 0: no time embedding (VAE) */
    int groups;
    float eps;
    vkti_tensor gn1_w, gn1_b, conv1_w, conv1_b, temb_w, temb_b, gn2_w, gn2_b, conv2_w, conv2_b, sc_w, sc_b;
    int has_sc;
} vkti_resnet_w;

typedef struct vkti_resnet_a {
    vkti_tensor x, mean1, rstd1, h1, mean2, rstd2;
} vkti_resnet_a;

/* prefix: "down_blocks.0.resnets.1". With a time embedding, temb_b holds
 * time_emb_proj.bias + conv1.bias, so one linear gives conv1's per-sample bias. */
int vkti_resnet_load(vkti_nn *nn, vkti_resnet_w *w, int cin, int cout, int temb_dim, int groups, float eps,
                     const char *prefix);
/* out [N, H, W, cout] from x [N, H, W, cin]; s_temb [N, temb_dim] = silu(temb) or NULL. */
int vkti_resnet_forward(vkti_cmd *c, vkti_nn *nn, const vkti_resnet_w *w, vkti_resnet_a *a, const vkti_tensor *out,
                        const vkti_tensor *x, const vkti_tensor *s_temb);
/* dx (= or += with accumulate) from dout. */
int vkti_resnet_backward(vkti_cmd *c, vkti_nn *nn, const vkti_resnet_w *w, const vkti_resnet_a *a,
                         const vkti_tensor *dx, const vkti_tensor *dout, int accumulate);

/* ---- spatial transformer ---------------------------------------------------------------- */

typedef struct vkti_tblock_w {
    vkti_tensor ln1_w, ln1_b, q1, k1, v1, o1_w, o1_b;
    vkti_tensor ln2_w, ln2_b, q2, k2, v2, o2_w, o2_b;
    vkti_tensor ln3_w, ln3_b, ff1_w, ff1_b, ff2_w, ff2_b;
} vkti_tblock_w;

typedef struct vkti_transformer_w {
    int c, heads, cross_dim, depth, groups, linear_proj;
    vkti_tensor gn_w, gn_b, in_w, in_b, out_w, out_b;
    vkti_tblock_w *blk; /* [depth] */
} vkti_transformer_w;

typedef struct vkti_tblock_a {
    vkti_tensor h1, m1, r1, q1, k1, v1, a1, l1;
    vkti_tensor h2, m2, r2, q2, k2, v2, a2, l2;
    vkti_tensor h3, m3, r3, p;
} vkti_tblock_a;

typedef struct vkti_transformer_a {
    vkti_tensor x, mean, rstd;
    vkti_tblock_a *blk; /* [depth], allocated by the caller */
} vkti_transformer_a;

/* prefix: "down_blocks.0.attentions.1"; linear_proj: SD 2.x's Linear proj_in/out (else 1x1 convs). */
int vkti_transformer_load(vkti_nn *nn, vkti_transformer_w *w, int c, int heads, int cross_dim, int depth,
                          int groups, int linear_proj, const char *prefix);
void vkti_transformer_free(vkti_transformer_w *w);
/* out [N, P, C] from x [N, P, C] and the condition cond [N, T, cross_dim]. */
int vkti_transformer_forward(vkti_cmd *c, vkti_nn *nn, const vkti_transformer_w *w, vkti_transformer_a *a,
                             const vkti_tensor *out, const vkti_tensor *x, const vkti_tensor *cond);
/* The same forward with what it keeps in *a (which must not be NULL) allocated from `keep`:
 * nn->act is vkti_transformer_forward; nn->tmp computes exactly the same (the attention's
 * statistics included) and keeps nothing past the call (a->x still names x); another arena holds
 * the state for a recomputation before the backward (gradient checkpointing). */
int vkti_transformer_forward_keep(vkti_cmd *c, vkti_nn *nn, const vkti_transformer_w *w, vkti_transformer_a *a,
                                  vkti_arena *keep, const vkti_tensor *out, const vkti_tensor *x,
                                  const vkti_tensor *cond);
/* From dout: d_cond += the condition's gradient (always accumulated: every cross-attention of the
 * UNet adds to it); dx (= or += with accumulate) unless dx is NULL, in which case the backward
 * stops after the cross-attention (the first transformer of the UNet needs nothing below). */
int vkti_transformer_backward(vkti_cmd *c, vkti_nn *nn, const vkti_transformer_w *w, const vkti_transformer_a *a,
                              const vkti_tensor *dx, const vkti_tensor *d_cond, const vkti_tensor *dout,
                              const vkti_tensor *cond, int accumulate);

#endif
