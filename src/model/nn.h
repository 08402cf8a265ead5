/* nn.h — what the network files share: where weights come from (a callback over named host
 * tensors, so a network does not care whether a diffusers folder, a single-file checkpoint or a
 * test's safetensors file supplies them), uploading them with their shapes checked, and the
 * arenas a network records into:
 *     weights  the frozen parameters, uploaded once;
 *     act      activations the forward keeps for the backward (and its outputs);
 *     tmp      temporaries, released block by block (a later block reuses the bytes; the
 *              runtime puts a barrier wherever that reuse is a hazard).
 * A network's forward starts by releasing act and tmp: one recording per network at a time. */
#ifndef VKTI_MODEL_NN_H
#define VKTI_MODEL_NN_H

#include <stdint.h>

#include "gpu/gpu.h"
#include "io/io_tensor.h"

/* Finds the host tensor `name` (a diffusers-style name such as
 * "text_model.final_layer_norm.weight"); on failure leaves a message naming it and the file. */
typedef int (*vkti_weight_get_fn)(void *user, vkti_diag *d, const char *name, const vkti_io_tensor **out);

typedef struct vkti_weight_source {
    vkti_weight_get_fn get;
    void *user;
} vkti_weight_source;

enum {
    VKTI_NN_KEEP_F32 = 1, /* upload as f32 whatever the network's dtype (embedding tables for learning) */
    VKTI_NN_CONV = 2      /* a conv weight: file [O, I, kh, kw], device [O, kh, kw, I] (OHWI) */
};

typedef struct vkti_nn {
    vkti_gpu *g;
    vkti_diag *d;
    vkti_dtype dtype;             /* F16 or F32: weights and activations */
    const vkti_weight_source *src;
    const char *what;             /* "text encoder", "unet", "vae": for messages */
    vkti_arena *weights, *act, *tmp;
    uint64_t params;              /* parameters loaded */
} vkti_nn;

int vkti_nn_init(vkti_nn *nn, vkti_gpu *g, vkti_dtype dtype, const vkti_weight_source *src, const char *what);
void vkti_nn_free(vkti_nn *nn);

/* Loads the weight named printf-style by fmt, checks it has exactly the file shape
 * shape[0..ndim), converts it (to the network dtype, or f32 with VKTI_NN_KEEP_F32; conv weights
 * permuted to OHWI with VKTI_NN_CONV) and uploads it. Errors name the tensor and both shapes. */
int vkti_nn_weight(vkti_nn *nn, vkti_tensor *out, int flags, int ndim, const int64_t *shape, const char *fmt, ...)
    VKTI_PRINTF(6, 7);

/* A device tensor of the network dtype from arena a. */
int vkti_nn_alloc(vkti_nn *nn, vkti_arena *a, vkti_tensor *out, int ndim, const int64_t *shape);
/* The same tensor seen with another shape of the same element count. */
vkti_tensor vkti_nn_reshape(const vkti_tensor *t, int ndim, const int64_t *shape);

#endif
