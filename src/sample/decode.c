/* decode.c — latents to RGB through the VAE decoder, whole or tiled (see decode.h).
 *
 * Sources read (facts, no code copied): diffusers 58eb52c models/autoencoders/autoencoder_kl.py
 * (tiled_decode, blend_v, blend_h: tile_latent_min_size = sample_size / 2^(blocks - 1), overlap
 * factor 0.25), image_processor.py (denormalize, numpy_to_pil). */
#include "sample/decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/sampler.h"

#define ARENA_BLOCK (256ull << 20) /* gpu/memory.c's default block: the slack an arena may leave */

uint8_t vkti_decode_pixel(float x)
{
    float v = x * 0.5f;
    v = v + 0.5f;
    v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; /* clamp(0, 1); NaN stays NaN */
    float s = v * 255.0f;
    if (!(s == s))
        return 0;
    return (uint8_t)nearbyintf(s);
}

/* ---- the estimate ------------------------------------------------------------------------------ */

uint64_t vkti_decode_estimate(const vkti_vae_dims *d, vkti_dtype dtype, int64_t h, int64_t w, uint64_t *largest)
{
    /* mirrors vkti_vae_decode: stream tensors in `act` (kept to the end), the 2x upsampled inputs
     * in `tmp` (kept too), each resnet's temporaries in `tmp` (released after it) */
    const uint64_t es = vkti_dtype_size(dtype);
    const int nb = d->nblocks;
    const int64_t Cl = d->channels[nb - 1];
    uint64_t P = (uint64_t)(h * w), act = 0, keep = 0, peak = 0, big = 0;
#define TENSOR(bytes) do { uint64_t b_ = (bytes); big = b_ > big ? b_ : big; } while (0)
    if (d->use_post_quant_conv)
        act += P * (uint64_t)d->latent * es;
    act += P * (uint64_t)Cl * es * (d->mid_attn ? 4u : 3u); /* conv_in, the mid block's outputs */
    TENSOR(P * (uint64_t)Cl * es);
    if (d->mid_attn) /* h, q, k, v, o and a score chunk [rows, P] */
        peak = 5 * P * (uint64_t)Cl * es + P * P * es;
    int64_t prev = Cl;
    for (int i = 0; i < nb; i++, P *= 4) {
        const int64_t co = d->channels[nb - 1 - i];
        for (int j = 0; j <= d->layers_per_block; j++) {
            int64_t ci = j ? co : prev;
            uint64_t t = P * (uint64_t)(ci + 2 * co + (ci != co ? co : 0)) * es; /* h0, h1, h2, shortcut */
            TENSOR(P * (uint64_t)(ci > co ? ci : co) * es);
            act += P * (uint64_t)co * es;
            peak = keep + t > peak ? keep + t : peak;
        }
        prev = co;
        if (i < nb - 1) { /* nearest 2x (tmp, kept) and its conv (act) */
            keep += 4 * P * (uint64_t)co * es;
            act += 4 * P * (uint64_t)co * es;
            TENSOR(4 * P * (uint64_t)co * es);
        }
    }
    P /= 4;
    uint64_t head = keep + P * (uint64_t)d->channels[0] * es; /* the output norm */
    peak = head > peak ? head : peak;
    uint64_t out = P * (uint64_t)d->out_channels * es;
#undef TENSOR
    if (largest)
        *largest = big;
    return act + peak + out + 2 * ARENA_BLOCK;
}

int vkti_decode_plan(vkti_diag *d, const vkti_vae_dims *dims, vkti_dtype dtype, int64_t h, int64_t w, uint64_t budget,
                     uint64_t max_binding, int *tile)
{
    uint64_t big, need = vkti_decode_estimate(dims, dtype, h, w, &big);
    *tile = 0;
    if ((!budget || need <= budget) && big <= max_binding)
        return VKTI_OK;
    int64_t side = h > w ? h : w;
    for (int64_t t = (side / 8) * 8; t >= 8; t -= 8) {
        need = vkti_decode_estimate(dims, dtype, t, t, &big);
        if ((!budget || need <= budget) && big <= max_binding && t < side) {
            *tile = (int)t;
            return VKTI_OK;
        }
    }
    need = vkti_decode_estimate(dims, dtype, 8, 8, &big);
    if (big > max_binding)
        return vkti_fail(d, VKTI_E_OOM, "the VAE decoder cannot run on this device even in 8 x 8 latent tiles");
    return vkti_fail(d, VKTI_E_OOM, "the VAE decode needs about %.0f MiB even in 8 x 8 latent tiles, more than the "
                     "%.0f MiB left under --max-vram; raise --max-vram", (double)need / 1048576.0, (double)budget / 1048576.0);
}

/* ---- decoding ---------------------------------------------------------------------------------- */

/* decodes latent window (y0, x0, lh, lw) of image b into p->px */
static int decode_piece(vkti_cmd *c, vkti_vae *vae, const vkti_tensor *lat, const vkti_tensor *z_all,
                        const vkti_tensor *img_all, int b, vkti_decode_piece *p, int f)
{
    vkti_gpu *g = vkti_cmd_gpu(c);
    const vkti_vae_dims *d = vkti_vae_get_dims(vae);
    const int64_t C = lat->shape[3], oc = d->out_channels;
    vkti_tensor z, img;
    int rc;
    p->ph = p->lh * f;
    p->pw = p->lw * f;
    if ((rc = vkti_tensor_view(g, &z, z_all, 0, 4, (int64_t[]){1, p->lh, p->lw, C})) ||
        (rc = vkti_tensor_view(g, &img, img_all, 0, 4, (int64_t[]){1, p->ph, p->pw, oc})))
        return rc;
    float *host = malloc(sizeof(float) * (size_t)p->ph * (size_t)p->pw * (size_t)oc);
    if (!host)
        return vkti_fail(vkti_gpu_diag(g), VKTI_E_OOM, "out of host memory");
    if ((rc = vkti_cmd_begin(c)) || (rc = vkti_sampler_latent_forward(c, &z, lat, b, p->y0, p->x0, d->scaling_factor)) ||
        (rc = vkti_vae_decode(c, vae, &img, &z)) || (rc = vkti_cmd_end(c)) || (rc = vkti_cmd_submit(c, 1)) ||
        (rc = vkti_tensor_download_f32(g, &img, host, vkti_tensor_numel(&img)))) {
        free(host);
        return rc;
    }
    if (oc != 3) { /* keep the first three channels */
        for (int64_t i = 0; i < (int64_t)p->ph * p->pw; i++)
            for (int k = 0; k < 3; k++)
                host[i * 3 + k] = k < oc ? host[i * oc + k] : 0.0f;
    }
    p->px = host;
    return VKTI_OK;
}

/* diffusers' blend_v / blend_h: b's first rows (columns) fade in from a's last ones, in place */
static void blend(const vkti_decode_piece *a, vkti_decode_piece *b, int extent, int vertical)
{
    int e = vertical ? (a->ph < b->ph ? a->ph : b->ph) : (a->pw < b->pw ? a->pw : b->pw);
    e = e < extent ? e : extent;
    for (int k = 0; k < e; k++) {
        float wa = (float)(1.0 - (double)k / e), wb = (float)((double)k / e);
        if (vertical) {
            const float *ra = a->px + (size_t)(a->ph - e + k) * a->pw * 3;
            float *rb = b->px + (size_t)k * b->pw * 3;
            for (int x = 0; x < b->pw * 3 && x < a->pw * 3; x++) {
                float u = ra[x] * wa, v = rb[x] * wb;
                rb[x] = u + v;
            }
        } else {
            for (int y = 0; y < b->ph && y < a->ph; y++) {
                const float *ra = a->px + ((size_t)y * a->pw + (size_t)(a->pw - e + k)) * 3;
                float *rb = b->px + ((size_t)y * b->pw + (size_t)k) * 3;
                for (int ch = 0; ch < 3; ch++) {
                    float u = ra[ch] * wa, v = rb[ch] * wb;
                    rb[ch] = u + v;
                }
            }
        }
    }
}

void vkti_decode_tiles(int h, int w, int tile, int *rows, int *cols)
{
    int stride = (tile * 3) / 4;
    *rows = tile ? (h + stride - 1) / stride : 1;
    *cols = tile ? (w + stride - 1) / stride : 1;
}

void vkti_decode_assemble(uint8_t *out, vkti_decode_piece *ps, int h, int w, int tile, int f)
{
    const int H = h * f, W = w * f;
    if (!tile) {
        for (size_t k = 0; k < (size_t)H * W * 3; k++)
            out[k] = vkti_decode_pixel(ps[0].px[k]);
        return;
    }
    const int extent = (tile * f) / 4, limit = tile * f - extent;
    int rows, cols;
    vkti_decode_tiles(h, w, tile, &rows, &cols);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            vkti_decode_piece *p = &ps[i * cols + j];
            if (i > 0)
                blend(&ps[(i - 1) * cols + j], p, extent, 1);
            if (j > 0)
                blend(&ps[i * cols + j - 1], p, extent, 0);
        }
    /* each tile's first limit x limit pixels, side by side */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            const vkti_decode_piece *p = &ps[i * cols + j];
            int oy = i * limit, ox = j * limit;
            for (int y = 0; y < p->ph && y < limit && oy + y < H; y++)
                for (int x = 0; x < p->pw && x < limit && ox + x < W; x++)
                    for (int ch = 0; ch < 3; ch++)
                        out[((size_t)(oy + y) * W + (size_t)(ox + x)) * 3 + ch] =
                            vkti_decode_pixel(p->px[((size_t)y * p->pw + x) * 3 + ch]);
        }
}

int vkti_decode_rgb(vkti_cmd *c, vkti_vae *vae, vkti_dtype dt, const vkti_tensor *lat, int tile, uint8_t *rgb,
                    void (*progress)(void *user, int done, int total), void *user)
{
    vkti_gpu *g = vkti_cmd_gpu(c);
    vkti_diag *dg = vkti_gpu_diag(g);
    const vkti_vae_dims *d = vkti_vae_get_dims(vae);
    if (lat->ndim != 4 || lat->dtype != VKTI_F32 || lat->shape[3] != d->latent)
        return vkti_fail(dg, VKTI_E_INTERNAL, "decode: latents must be f32 [B, h, w, %d]", d->latent);
    const int B = (int)lat->shape[0], h = (int)lat->shape[1], w = (int)lat->shape[2], f = 1 << (d->nblocks - 1);
    const int H = h * f, W = w * f;
    const int T = tile > 0 && tile < (h > w ? h : w) ? tile : 0;
    const int stride = T ? (T * 3) / 4 : 0;
    int rows, cols;
    vkti_decode_tiles(h, w, T, &rows, &cols);
    const int lh = T ? (T < h ? T : h) : h, lw = T ? (T < w ? T : w) : w;
    vkti_arena *a = NULL;
    vkti_decode_piece *ps = calloc((size_t)rows * (size_t)cols, sizeof *ps);
    vkti_tensor z, img;
    int rc = ps ? VKTI_OK : vkti_fail(dg, VKTI_E_OOM, "out of host memory");
    if (rc == VKTI_OK)
        rc = vkti_arena_create(g, "decode", 0, &a);
    if (rc == VKTI_OK)
        rc = vkti_arena_tensor(a, &z, dt, 4, (int64_t[]){1, lh, lw, d->latent});
    if (rc == VKTI_OK)
        rc = vkti_arena_tensor(a, &img, dt, 4, (int64_t[]){1, (int64_t)lh * f, (int64_t)lw * f, d->out_channels});
    const int total = B * rows * cols;
    for (int b = 0; rc == VKTI_OK && b < B; b++) {
        for (int i = 0; rc == VKTI_OK && i < rows; i++)
            for (int j = 0; rc == VKTI_OK && j < cols; j++) {
                vkti_decode_piece *p = &ps[i * cols + j];
                p->y0 = i * stride;
                p->x0 = j * stride;
                p->lh = T ? (h - p->y0 < T ? h - p->y0 : T) : h;
                p->lw = T ? (w - p->x0 < T ? w - p->x0 : T) : w;
                rc = decode_piece(c, vae, lat, &z, &img, b, p, f);
                if (rc == VKTI_OK && progress)
                    progress(user, (b * rows + i) * cols + j + 1, total);
            }
        if (rc)
            break;
        vkti_decode_assemble(rgb + (size_t)b * H * W * 3, ps, h, w, T, f);
        for (int k = 0; k < rows * cols; k++) {
            free(ps[k].px);
            ps[k].px = NULL;
        }
    }
    if (ps)
        for (int k = 0; k < rows * cols; k++)
            free(ps[k].px);
    free(ps);
    if (a) {
        vkti_gpu_wait_idle(g);
        vkti_arena_free(a);
    }
    return rc;
}
