/* unit_util.h — what the image, dataset, plot and inspect test programs share: check.h (the CHECK
 * counter, a scratch directory) and builders of image files in memory
 * (stb_image_write for PNG / BMP / JPEG; a hand-made PNG writer for what stb cannot write —
 * 16-bit, palette, tRNS — and for hostile files). Header-only: each test program is one file. */
#ifndef VKTI_TESTS_UNIT_UTIL_H
#define VKTI_TESTS_UNIT_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

#include "base/platform.h"
#include "io/bytes.h"
#include "io/image.h"
#include "check.h"

/* a growable byte buffer */
typedef struct ubuf {
    uint8_t *p;
    size_t n, cap;
} ubuf;

static inline void ub_put(ubuf *b, const void *data, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void ub_be32(ubuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    ub_put(b, x, 4);
}

static inline void ub_stb(void *ctx, void *data, int n) { ub_put(ctx, data, (size_t)n); }

/* 8-bit pixels [h, w, comp] as a file of the given format ("png", "bmp", "jpg" at quality 95) */
static inline ubuf encode_stb(const char *fmt, const uint8_t *px, int w, int h, int comp)
{
    ubuf b = {0};
    if (!strcmp(fmt, "png"))
        stbi_write_png_to_func(ub_stb, &b, w, h, comp, px, w * comp);
    else if (!strcmp(fmt, "bmp"))
        stbi_write_bmp_to_func(ub_stb, &b, w, h, comp, px);
    else
        stbi_write_jpg_to_func(ub_stb, &b, w, h, comp, px, 95);
    return b;
}

static inline void png_chunk(ubuf *b, const char *type, const uint8_t *data, size_t n)
{
    ub_be32(b, (uint32_t)n);
    size_t at = b->n;
    ub_put(b, type, 4);
    if (n)
        ub_put(b, data, n);
    ub_be32(b, vkti_crc32(0, b->p + at, n + 4));
}

/* zlib stream of stored (uncompressed) deflate blocks */
static inline ubuf zlib_stored(const uint8_t *data, size_t n)
{
    ubuf z = {0};
    uint8_t hdr[2] = {0x78, 0x01};
    ub_put(&z, hdr, 2);
    size_t at = 0;
    do {
        size_t len = n - at > 65535 ? 65535 : n - at;
        uint8_t bh[5] = {(uint8_t)(at + len == n), (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)~len,
                         (uint8_t)(~len >> 8)};
        ub_put(&z, bh, 5);
        if (len)
            ub_put(&z, data + at, len);
        at += len;
    } while (at < n);
    uint32_t a = 1, s = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + data[i]) % 65521;
        s = (s + a) % 65521;
    }
    ub_be32(&z, s << 16 | a);
    return z;
}

/* A PNG from raw scanlines (each row: filter byte 0 + samples; 16-bit samples big-endian).
 * plte/trns may be NULL. ihdr_w/ihdr_h are what the header claims (lying sizes). */
static inline ubuf png_make(int ihdr_w, int ihdr_h, int depth, int color, const uint8_t *raw, size_t raw_n,
                     const uint8_t *plte, size_t plte_n, const uint8_t *trns, size_t trns_n)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ubuf b = {0};
    ub_put(&b, sig, 8);
    uint8_t ihdr[13] = {(uint8_t)(ihdr_w >> 24), (uint8_t)(ihdr_w >> 16), (uint8_t)(ihdr_w >> 8), (uint8_t)ihdr_w,
                        (uint8_t)(ihdr_h >> 24), (uint8_t)(ihdr_h >> 16), (uint8_t)(ihdr_h >> 8), (uint8_t)ihdr_h,
                        (uint8_t)depth, (uint8_t)color, 0, 0, 0};
    png_chunk(&b, "IHDR", ihdr, 13);
    if (plte)
        png_chunk(&b, "PLTE", plte, plte_n);
    if (trns)
        png_chunk(&b, "tRNS", trns, trns_n);
    ubuf z = zlib_stored(raw, raw_n);
    png_chunk(&b, "IDAT", z.p, z.n);
    free(z.p);
    png_chunk(&b, "IEND", NULL, 0);
    return b;
}

static inline int write_file(const char *path, const void *data, size_t n)
{
    vkti_diag d = {0};
    int rc = vkti_file_write_atomic(&d, path, data, n);
    if (rc)
        printf("cannot write %s: %s\n", path, d.msg);
    return rc;
}

/* a deterministic pseudo-random byte stream */
static inline uint32_t urand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

#endif
