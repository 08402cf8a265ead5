/* ti_step.h — one textual-inversion training step on the GPU, recorded once and replayed
 * (DESIGN.md decision 3). A micro-step, for B samples:
 *     eps2, noise = N(0, 1) from Philox under key (streams 1 and 0)
 *     latent = s * (mean + std * eps2)                  (the cached latent distribution)
 *     noisy  = sqrt(abar_t) * latent + sqrt(1 - abar_t) * noise
 *     target = noise (epsilon) | sqrt(abar_t) * noise - sqrt(1 - abar_t) * latent (v)
 *     cond   = text_encoder(ids, learned rows); pred = unet(noisy, t, cond)
 *     loss   = mean(w * mask * (pred - target)^2); then the backward to d(learned rows) (+=)
 * and an update: clip-by-norm + AdamW / Adam / SGD on the learned rows, then the gradient is
 * zeroed. Gradient accumulation is A micro-steps per update (fold 1/A into the weights w).
 *
 * Every per-step value sits in host-visible memory (vkti_ti_io): the host writes the next step's
 * inputs, runs, and reads the loss and the optimizer's counters in place. An evaluation
 * recording (forward and loss only) shares the networks, so switching between the two records
 * again — cheap next to a step. */
#ifndef VKTI_TRAIN_TI_STEP_H
#define VKTI_TRAIN_TI_STEP_H

#include "model/clip_text.h"
#include "model/unet.h"
#include "ops/optim.h"

typedef struct vkti_ti_step_params {
    int batch;                 /* B samples per micro-step */
    int latent_h, latent_w, latent_c;
    int tokens;                /* 77 */
    int learned;               /* E learned rows (placeholder vectors), ids V .. V+E-1 */
    int v_prediction;
    int use_mask;              /* per-pixel loss mask [B, h*w] in the inputs */
    vkti_optim_kind optimizer;
    vkti_dtype dtype;          /* the networks' storage dtype (F16 or F32) */
    int external_noise;        /* 1: noise and eps2 are inputs the host writes (tests that must use
                                  another program's noise), not drawn on the GPU */
    int recompute;             /* 1: the UNet recomputes its attention blocks in the backward
                                  (VKTI_UNET_RECOMPUTE): less memory, the same bits */
} vkti_ti_step_params;

/* Host views of the per-step tensors (mapped memory). Write inputs only between runs. */
typedef struct vkti_ti_io {
    int32_t *ids;              /* [B, tokens] */
    float *timesteps;          /* [B] */
    float *coef_lat;           /* [B, 2]: (s, s) for latent = s * mean + s * (std * eps2) */
    float *coef_noisy;         /* [B, 2]: (sqrt(abar), sqrt(1 - abar)) */
    float *coef_target;        /* [B, 2]: (sqrt(abar), -sqrt(1 - abar)) for v targets */
    float *weights;            /* [B] loss weights (min-SNR, 1/A for accumulation) */
    void *mean, *std;          /* [B, h, w, c] in the network dtype (write with vkti_ti_io_put) */
    float *mask;               /* [B, h*w] when use_mask, else NULL */
    uint32_t *key;             /* [4] Philox key: vkti_rng_key(key, seed, counter) */
    float *hyper;              /* [VKTI_OPT_HYPER_N]: vkti_optim_hyper */
    const uint32_t *state;     /* [VKTI_OPT_STATE_N]: the optimizer's step and skip counters */
    const float *loss;         /* [1]: the last run's loss (before weights' 1/A, as weighted) */
    void *noise, *eps2;        /* [B, h, w, c] network dtype, with external_noise only */
} vkti_ti_io;

typedef struct vkti_ti_step vkti_ti_step;

/* init_rows [E, D] f32: the learned rows' starting values. */
int vkti_ti_step_create(vkti_ti_step **out, vkti_gpu *g, vkti_clip_text *te, vkti_unet *unet,
                        const vkti_ti_step_params *p, const float *init_rows);
void vkti_ti_step_free(vkti_ti_step *s);
vkti_ti_io *vkti_ti_step_io(vkti_ti_step *s);
/* Copies n f32 values into a network-dtype input (mean or std) at element offset first. */
void vkti_ti_io_put(const vkti_ti_step *s, void *dst, int64_t first, const float *src, int64_t n);

/* Runs one micro-step (forward, loss, backward into the accumulated gradient) and waits. */
int vkti_ti_step_micro(vkti_ti_step *s);
/* Runs one update of the learned rows from the accumulated gradient, then zeroes it; waits. */
int vkti_ti_step_update(vkti_ti_step *s);
/* Forward and loss only, from the same inputs (the deterministic validation loss); waits. */
int vkti_ti_step_eval(vkti_ti_step *s);

/* The gradient accumulated since the last update [E, D] f32 (as the backward made it: times the
 * loss scale). */
int vkti_ti_step_get_grad(vkti_ti_step *s, float *grad);
/* The learned rows [E, D] f32, and the optimizer state (m, v [E, D] f32 — v unused by SGD — and
 * the u32 state), for saving and for checkpoints; set_* restore them. */
int vkti_ti_step_get_rows(vkti_ti_step *s, float *rows);
int vkti_ti_step_get_state(vkti_ti_step *s, float *m, float *v, uint32_t state[VKTI_OPT_STATE_N]);
int vkti_ti_step_set_state(vkti_ti_step *s, const float *rows, const float *m, const float *v,
                           const uint32_t state[VKTI_OPT_STATE_N]);
/* The networks were recorded into by someone else (a preview's sampling): the next run records
 * the step again. */
void vkti_ti_step_forget(vkti_ti_step *s);
/* Device bytes the networks' activations took in the last recording. */
uint64_t vkti_ti_step_activation_bytes(const vkti_ti_step *s);
/* Records the training micro-step now (the next vkti_ti_step_micro would), so that the memory it
 * needs is allocated and can be measured (vkti_gpu_bytes_in_use, activation bytes). */
int vkti_ti_step_prepare(vkti_ti_step *s);
/* Switches the UNet's recompute mode (params.recompute) and gives the activation memory of the
 * previous recordings back (vkti_unet_trim); the next run records again. Waits for the device. */
int vkti_ti_step_set_recompute(vkti_ti_step *s, int on);

#endif
