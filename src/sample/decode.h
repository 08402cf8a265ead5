/* decode.h — the sampler's latents to 8-bit RGB pictures through the VAE decoder (vae.h): one
 * image at a time, the whole latent at once when its decode fits the device-memory budget and the
 * device's largest binding, otherwise in overlapping square tiles blended as diffusers'
 * AutoencoderKL.tiled_decode blends them (25% overlap, linear ramps over the overlap, each tile
 * blended in place with the tiles above and to its left, then cropped). Tiles are not the same
 * picture as a whole decode (the decoder's group norms and mid-block attention see only the
 * tile), so tiling is used only when the whole does not fit, and reported.
 *
 * Pixels as diffusers' VaeImageProcessor.postprocess makes them: (x * 0.5 + 0.5) clamped to
 * [0, 1], times 255, rounded half to even, in float32. */
#ifndef VKTI_SAMPLE_DECODE_H
#define VKTI_SAMPLE_DECODE_H

#include <stdint.h>

#include "model/vae.h"

/* Device bytes vae.c's decoder allocates for one image of latent h x w (the stream tensors it
 * keeps, plus the largest step's temporaries, plus a 256 MiB arena block of slack per arena) and
 * the largest single tensor (*largest, may be NULL): an estimate, checked against the real
 * allocation by tests/unit/test_txt2img.c. */
uint64_t vkti_decode_estimate(const vkti_vae_dims *dims, vkti_dtype dtype, int64_t h, int64_t w, uint64_t *largest);

/* The latent side of the square tiles a decode of h x w needs under budget bytes (0: no limit) and
 * the device's binding range: 0 when the whole latent fits; VKTI_E_OOM when not even an 8 x 8
 * tile does (the message says how much it needs). */
int vkti_decode_plan(vkti_diag *d, const vkti_vae_dims *dims, vkti_dtype dtype, int64_t h, int64_t w, uint64_t budget,
                     uint64_t max_binding, int *tile);

/* 8-bit RGB [B, H, W, 3] (H = h * f, W = w * f) from latents [B, h, w, C] f32 on the device
 * (divided by the VAE's scaling factor first); dtype is the VAE's (the dtype it was created
 * with). tile: from vkti_decode_plan (0: whole). Each
 * image (each tile) is recorded into c, submitted and waited for; c holds the last recording.
 * progress (may be NULL) is called after each piece. */
int vkti_decode_rgb(vkti_cmd *c, vkti_vae *vae, vkti_dtype dtype, const vkti_tensor *latents, int tile, uint8_t *rgb,
                    void (*progress)(void *user, int done, int total), void *user);

/* One decoded piece: the latent window (y0, x0, lh, lw) and its pixels px [ph, pw, 3] (f32). */
typedef struct vkti_decode_piece {
    int y0, x0, lh, lw;
    int ph, pw;
    float *px;
} vkti_decode_piece;

/* The grid of tiles of latent side tile (stride 3/4 of it) over h x w: rows x cols (1 x 1 for 0). */
void vkti_decode_tiles(int h, int w, int tile, int *rows, int *cols);
/* The picture [h * f, w * f, 3] from the pieces of one image, row-major over the grid: blended in
 * place (their pixels change) and cropped as diffusers' tiled_decode, then postprocessed. */
void vkti_decode_assemble(uint8_t *out, vkti_decode_piece *pieces, int h, int w, int tile, int f);

/* diffusers' postprocess of one value in [-1, 1] (see above) */
uint8_t vkti_decode_pixel(float x);

#endif
