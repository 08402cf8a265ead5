/* image_hash.c — fingerprints of decoded images: a 64-bit hash of the exact pixels (exact
 * duplicates) and dHash, a 64-bit perceptual hash (near duplicates). See image.h. */
#include "io/image.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t vkti_image_pixel_hash(const vkti_image *img)
{
    size_t n = (size_t)img->width * (size_t)img->height * (size_t)img->channels * (size_t)img->depth;
    uint64_t h = mix64(((uint64_t)img->width << 32) ^ ((uint64_t)img->height << 8) ^
                       ((uint64_t)img->channels << 4) ^ (uint64_t)img->depth);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, img->data + i, 8);
        h = (h ^ mix64(w + i)) * 0x100000001b3ull;
    }
    uint64_t tail = 0;
    memcpy(&tail, img->data + i, n - i);
    h ^= mix64(tail ^ (uint64_t)n);
    return mix64(h);
}

int vkti_hamming64(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ b;
    int n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

/* luma of pixel i, 0..255, with PIL's convert("L") weights (ITU-R 601) */
static double luma(const vkti_image *img, size_t i)
{
    double v[3];
    for (int k = 0; k < 3; k++) {
        size_t at = i * (size_t)img->channels + (size_t)k;
        if (img->depth == 2) {
            uint16_t s;
            memcpy(&s, img->data + at * 2, 2);
            v[k] = s / 257.0;
        } else {
            v[k] = img->data[at];
        }
    }
    return 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
}

int vkti_image_dhash(vkti_diag *d, const vkti_image *img, uint64_t *hash, uint64_t *mirrored)
{
    enum { GW = 9, GH = 8 };
    double sum[GH][GW] = {{0}};
    double cnt[GH][GW] = {{0}};
    int W = img->width, H = img->height;
    int *col = malloc((size_t)W * sizeof *col);
    if (!col)
        return vkti_fail(d, VKTI_E_OOM, "out of memory hashing a %dx%d image", W, H);
    for (int x = 0; x < W; x++)
        col[x] = (int)((int64_t)x * GW / W);
    /* area average: every pixel falls in one cell */
    for (int y = 0; y < H; y++) {
        int r = (int)((int64_t)y * GH / H);
        for (int x = 0; x < W; x++) {
            sum[r][col[x]] += luma(img, (size_t)y * (size_t)W + (size_t)x);
            cnt[r][col[x]] += 1;
        }
    }
    free(col);
    double g[GH][GW];
    for (int r = 0; r < GH; r++)
        for (int c = 0; c < GW; c++) {
            if (cnt[r][c] > 0) {
                g[r][c] = sum[r][c] / cnt[r][c];
            } else { /* an image narrower than the grid: the nearest pixel */
                int x = (int)(((int64_t)c * W + W / 2) / GW), y = (int)(((int64_t)r * H + H / 2) / GH);
                g[r][c] = luma(img, (size_t)y * (size_t)W + (size_t)x);
            }
        }
    uint64_t h = 0, m = 0;
    for (int r = 0; r < GH; r++)
        for (int c = 0; c < GW - 1; c++) {
            int bit = r * (GW - 1) + c;
            if (g[r][c] > g[r][c + 1])
                h |= 1ull << bit;
            if (g[r][GW - 1 - c] > g[r][GW - 2 - c])
                m |= 1ull << bit;
        }
    *hash = h;
    if (mirrored)
        *mirrored = m;
    return VKTI_OK;
}
