/* txt2img.h — text to image with loaded networks, as diffusers' StableDiffusionPipeline does it:
 * the prompt and the negative prompt through the text encoder (unconditional rows first), the
 * starting noise times the sampler's init sigma, the sampler loop — one UNet recording replayed for
 * every step, the timestep, the step's coefficients and the noise counter rewritten in mapped memory
 * between replays — classifier-free guidance when cfg > 1 (cfg <= 1: the conditional half alone,
 * as diffusers' do_classifier_free_guidance), then the VAE decode to 8-bit RGB (decode.h).
 * `vkti generate` (src/api/generate.c) and the trainer's previews run it.
 *
 * Noise (documented in include/vkti/generate.h): image i of a batch uses seed + i; its starting
 * latent is Philox key (seed + i, counter 0), stream 0, in [h, w, C] order; step k's ancestral
 * noise counter k + 1.
 *
 * The networks are borrowed. Running a sample records new forwards of the text encoder and the
 * UNet (and decode of the VAE): any recording the caller made with them is invalid afterwards and
 * must be recorded again (the trainer re-records its step after a preview). */
#ifndef VKTI_SAMPLE_TXT2IMG_H
#define VKTI_SAMPLE_TXT2IMG_H

#include <stdint.h>

#include "io/tokenizer.h"
#include "model/clip_text.h"
#include "model/unet.h"
#include "model/vae.h"
#include "sample/schedule.h"

typedef struct vkti_sd_nets {
    vkti_gpu *g;
    vkti_dtype dtype;                    /* the networks' storage dtype */
    vkti_clip_text *te;
    vkti_unet *unet;
    const vkti_unet_dims *unet_dims;
    vkti_vae *vae;                       /* with its decoder (may be NULL for sampling alone) */
    vkti_tokenizer *tok;                 /* with the added tokens of the learned rows */
    const vkti_noise_schedule *schedule;
    const vkti_sampling_config *sampling;
} vkti_sd_nets;

/* stage: "sampling" (done = steps finished) or "decoding" (done = images or tiles finished) */
typedef void (*vkti_txt2img_progress)(void *user, const char *stage, int done, int total);

typedef struct vkti_txt2img_params {
    const char *prompt;
    const char *negative;                /* NULL or "": the empty prompt */
    vkti_sampler sampler;
    int karras;
    double eta;
    int steps;
    double cfg;
    uint64_t seed;
    int width, height, batch;
    const float *rows;                   /* the text encoder's learned rows [nrows, width] for the
                                            added tokens (ids vocab ..), or NULL */
    int nrows;
    uint64_t max_vram;                   /* the device budget, bytes (0: none): the decode tiles
                                            itself to stay under it */
    vkti_txt2img_progress progress;
    void *user;
} vkti_txt2img_params;

typedef struct vkti_txt2img_result {
    int latent_h, latent_w, latent_c;
    float *initial;                      /* [batch, h, w, C]: the starting latents */
    float *latents;                      /* [batch, h, w, C]: the final latents */
    uint8_t *rgb;                        /* [batch, height, width, 3] (after the decode) */
    int truncated;                       /* the prompt or the negative prompt lost tokens past 75 */
    int guided;
    int decode_tile;                     /* latent side of the decode's tiles; 0: whole images */
    int decode_pieces;
    double seconds_text, seconds_sampling, seconds_decode;
    uint64_t peak_bytes;                 /* device bytes allocated at most, so far */
} vkti_txt2img_result;

void vkti_txt2img_result_free(vkti_txt2img_result *r);

/* Checks the parameters against the networks (sizes, steps, batch, guidance...): VKTI_E_INVALID
 * with one message naming the option. Called by the functions below; exposed so that a caller
 * can refuse before loading anything heavy. */
int vkti_txt2img_check(vkti_diag *d, const vkti_unet_dims *unet, const vkti_vae_dims *vae, const vkti_txt2img_params *p);

/* The text encoder, the starting noise and the sampler loop: r->latents and r->initial. */
int vkti_txt2img_sample(vkti_diag *d, const vkti_sd_nets *n, const vkti_txt2img_params *p, vkti_txt2img_result *r);
/* The decode of r->latents to r->rgb (n->vae with its decoder), tiled under p->max_vram. */
int vkti_txt2img_decode(vkti_diag *d, const vkti_sd_nets *n, const vkti_txt2img_params *p, vkti_txt2img_result *r);
/* Both. */
int vkti_txt2img(vkti_diag *d, const vkti_sd_nets *n, const vkti_txt2img_params *p, vkti_txt2img_result *r);

#endif
