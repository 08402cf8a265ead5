/* clip_text.h — the CLIP text encoder (transformers' CLIPTextModel) on the GPU: token and
 * position embeddings, causal self-attention layers with a quick_gelu (SD 1.x) or gelu (SD 2.x)
 * MLP, the final layer norm; and the backward from d(last_hidden_state) to the learned embedding
 * rows — the only parameters textual inversion trains.
 *
 * Learned rows: tokens added after the vocabulary (ids V .. V+E-1) read their embeddings from a
 * separate f32 tensor extra [E, D]; every other row comes from the frozen table. */
#ifndef VKTI_MODEL_CLIP_TEXT_H
#define VKTI_MODEL_CLIP_TEXT_H

#include "model/nn.h"
#include "ops/activation.h"

typedef struct vkti_clip_text_dims {
    int vocab;       /* rows of the token table (49408) */
    int width;       /* D: 768 SD 1.x, 1024 SD 2.x */
    int layers;
    int heads;
    int mlp;         /* intermediate size */
    int positions;   /* 77 */
    vkti_act act;    /* VKTI_ACT_QUICK_GELU or VKTI_ACT_GELU */
    float eps;       /* layer norm */
} vkti_clip_text_dims;

typedef struct vkti_clip_text vkti_clip_text;

/* Loads the weights (transformers names, "text_model.encoder.layers.0.mlp.fc1.weight"...). */
int vkti_clip_text_create(vkti_clip_text **out, vkti_gpu *g, const vkti_clip_text_dims *dims,
                          const vkti_weight_source *src, vkti_dtype dtype);
void vkti_clip_text_free(vkti_clip_text *te);
const vkti_clip_text_dims *vkti_clip_text_get_dims(const vkti_clip_text *te);
uint64_t vkti_clip_text_params(const vkti_clip_text *te);
/* The frozen token table [V, D] (the network dtype): the trainer initialises learned rows from it. */
const vkti_tensor *vkti_clip_text_token_table(const vkti_clip_text *te);

/* Records the forward: hidden [B, T, D] (network dtype) = last_hidden_state for ids [B, T] (i32,
 * T <= positions), with learned rows extra [E, D] f32 (NULL: none). train = 1 keeps what the
 * backward needs. Releases the activations of the previous recording. */
int vkti_clip_text_forward(vkti_cmd *c, vkti_clip_text *te, const vkti_tensor *hidden, const vkti_tensor *ids,
                           const vkti_tensor *extra, int train);
/* Records the backward of the last train forward: d_extra [E, D] f32 (= or += with accumulate)
 * from d_hidden [B, T, D]. */
int vkti_clip_text_backward(vkti_cmd *c, vkti_clip_text *te, const vkti_tensor *d_extra, const vkti_tensor *d_hidden,
                            int accumulate);

#endif
