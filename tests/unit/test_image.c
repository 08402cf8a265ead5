/* test_image.c — src/io/image: decoding each format (8-bit RGB, RGBA, grey, grey + alpha,
 * 16-bit, palette + tRNS, BMP with alpha, EXIF orientation), the limits, hostile files (empty,
 * text named .png, every truncation, lying sizes, huge dimensions, a deflate bomb), resize / crop
 * geometry and flip, float conversion, buckets, hashes, and PNG text chunks round trip. */
#include <math.h>

#include "unit_util.h"

#include <stb_image.h>

static vkti_diag D;

/* a test picture: R follows x, G follows y, B a checker, so geometry shows in the values */
static uint8_t *pattern(int w, int h, int comp)
{
    uint8_t *p = malloc((size_t)w * h * comp);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * comp;
            uint8_t v[4] = {(uint8_t)(x * 255 / (w > 1 ? w - 1 : 1)), (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1)),
                            (uint8_t)(((x / 4 + y / 4) & 1) ? 200 : 40), (uint8_t)(255 - x * 3)};
            if (comp < 3)
                v[1] = v[0];
            for (int k = 0; k < comp; k++)
                q[k] = comp == 2 && k == 1 ? v[3] : v[k];
        }
    return p;
}

static int decode(vkti_image *img, ubuf b, const char *name)
{
    D.msg[0] = 0;
    return vkti_image_decode(&D, img, b.p, b.n, name);
}

static void test_formats(void)
{
    int w = 37, h = 23;
    uint8_t *rgb = pattern(w, h, 3), *rgba = pattern(w, h, 4), *grey = pattern(w, h, 1), *ga = pattern(w, h, 2);
    static const char *const fmts[] = {"png", "bmp", "jpg"};
    for (int f = 0; f < 3; f++) {
        ubuf b = encode_stb(fmts[f], rgb, w, h, 3);
        vkti_image img;
        int rc = decode(&img, b, fmts[f]);
        CHECK(rc == VKTI_OK && img.width == w && img.height == h && img.channels == 3 && img.depth == 1,
              "%s RGB: rc %d %dx%d c%d (%s)", fmts[f], rc, img.width, img.height, img.channels, D.msg);
        if (rc == VKTI_OK) {
            double err = 0;
            for (int i = 0; i < w * h * 3; i++)
                err += fabs((double)img.data[i] - rgb[i]);
            err /= w * h * 3;
            /* PNG and BMP are lossless; JPEG at quality 95 within 3 levels on average */
            CHECK(f < 2 ? err == 0 : err < 3, "%s RGB pixels: mean error %.3f", fmts[f], err);
            CHECK(img.info.format == (f == 0 ? VKTI_IMAGE_PNG : f == 1 ? VKTI_IMAGE_BMP : VKTI_IMAGE_JPEG),
                  "%s format %d", fmts[f], img.info.format);
        }
        vkti_image_free(&img);
        free(b.p);
    }
    /* RGBA in PNG and BMP: alpha kept */
    for (int f = 0; f < 2; f++) {
        ubuf b = encode_stb(fmts[f], rgba, w, h, 4);
        vkti_image img;
        int rc = decode(&img, b, fmts[f]);
        CHECK(rc == VKTI_OK && img.channels == 4 && img.info.file_channels == 4 &&
                  !memcmp(img.data, rgba, (size_t)w * h * 4),
              "%s RGBA: rc %d channels %d (%s)", fmts[f], rc, img.channels, D.msg);
        vkti_image_free(&img);
        free(b.p);
    }
    /* grey PNG -> RGB with equal channels; grey + alpha -> RGBA; grey JPEG -> RGB */
    {
        ubuf b = encode_stb("png", grey, w, h, 1);
        vkti_image img;
        int rc = decode(&img, b, "grey.png");
        int same = rc == VKTI_OK;
        for (int i = 0; same && i < w * h; i++)
            same = img.data[i * 3] == grey[i] && img.data[i * 3 + 1] == grey[i] && img.data[i * 3 + 2] == grey[i];
        CHECK(same && img.channels == 3 && img.info.file_channels == 1, "grey PNG: rc %d (%s)", rc, D.msg);
        vkti_image_free(&img);
        free(b.p);
        b = encode_stb("png", ga, w, h, 2);
        rc = decode(&img, b, "ga.png");
        same = rc == VKTI_OK && img.channels == 4;
        for (int i = 0; same && i < w * h; i++)
            same = img.data[i * 4] == ga[i * 2] && img.data[i * 4 + 2] == ga[i * 2] && img.data[i * 4 + 3] == ga[i * 2 + 1];
        CHECK(same && img.info.file_channels == 2, "grey+alpha PNG: rc %d (%s)", rc, D.msg);
        vkti_image_free(&img);
        free(b.p);
        b = encode_stb("jpg", grey, w, h, 1);
        rc = decode(&img, b, "grey.jpg");
        CHECK(rc == VKTI_OK && img.channels == 3 && abs(img.data[0] - img.data[1]) <= 2,
              "grey JPEG: rc %d (%s)", rc, D.msg);
        vkti_image_free(&img);
        free(b.p);
    }
    /* 16-bit RGB PNG: kept at 16 bits, exact */
    {
        int W = 5, H = 3;
        size_t row = 1 + (size_t)W * 6;
        uint8_t raw[(1 + 5 * 6) * 3];
        uint16_t want[5 * 3 * 3];
        for (int y = 0; y < H; y++) {
            raw[y * row] = 0;
            for (int x = 0; x < W * 3; x++) {
                uint16_t v = (uint16_t)(x * 4099 + y * 13 + (x == 0 && y == 0 ? 65535 - 0 : 0));
                if (x == 1 && y == 2)
                    v = 65535;
                want[y * W * 3 + x] = v;
                raw[y * row + 1 + x * 2] = (uint8_t)(v >> 8);
                raw[y * row + 2 + x * 2] = (uint8_t)v;
            }
        }
        ubuf b = png_make(W, H, 16, 2, raw, row * H, NULL, 0, NULL, 0);
        vkti_image img;
        int rc = decode(&img, b, "deep.png");
        int same = rc == VKTI_OK && img.depth == 2 && img.channels == 3 && img.info.bits == 16;
        for (int i = 0; same && i < W * H * 3; i++) {
            uint16_t v;
            memcpy(&v, img.data + i * 2, 2);
            same = v == want[i];
        }
        CHECK(same, "16-bit PNG: rc %d depth %d (%s)", rc, img.depth, D.msg);
        if (rc == VKTI_OK) {
            float f[5 * 3 * 3], a[15];
            vkti_image_to_float(f, a, &img);
            uint8_t *r8 = NULL;
            vkti_image_to_rgb8(&D, &r8, &img);
            int fok = r8 != NULL && a[3] == 1.0f && f[0] == 1.0f && r8[0] == 255 && r8[31] == 255;
            for (int i = 0; fok && i < W * H * 3; i++)
                fok = f[i] == (float)(want[i] / 32767.5 - 1.0) &&
                      r8[i] == (uint8_t)(((uint32_t)want[i] * 255u + 32767u) / 65535u);
            CHECK(fok, "16-bit to float and to 8-bit");
            free(r8);
        }
        vkti_image_free(&img);
        free(b.p);
    }
    /* palette PNG with tRNS: RGBA */
    {
        uint8_t plte[6] = {255, 0, 0, 0, 0, 255}, trns[2] = {255, 0};
        uint8_t raw[2 * 3] = {0, 0, 1, 0, 1, 0}; /* 2x2 indices: [0 1; 1 0] */
        ubuf b = png_make(2, 2, 8, 3, raw, 6, plte, 6, trns, 2);
        vkti_image img;
        int rc = decode(&img, b, "palette.png");
        CHECK(rc == VKTI_OK && img.channels == 4 && img.data[0] == 255 && img.data[3] == 255 && img.data[6] == 255 &&
                  img.data[7] == 0,
              "palette + tRNS PNG: rc %d channels %d (%s)", rc, img.channels, D.msg);
        vkti_image_free(&img);
        free(b.p);
    }
    free(rgb);
    free(rgba);
    free(grey);
    free(ga);
}

/* a JPEG with an EXIF APP1 (orientation o) inserted after SOI */
static ubuf jpeg_with_orientation(const uint8_t *px, int w, int h, int o, int big_endian)
{
    ubuf j = encode_stb("jpg", px, w, h, 3);
    uint8_t app1[2 + 2 + 6 + 8 + 2 + 12 + 4];
    size_t n = 0;
    app1[n++] = 0xff, app1[n++] = 0xe1;
    size_t len = sizeof app1 - 2;
    app1[n++] = (uint8_t)(len >> 8), app1[n++] = (uint8_t)len;
    memcpy(app1 + n, "Exif\0\0", 6), n += 6;
    if (big_endian) {
        uint8_t tiff[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (uint8_t)o, 0, 0, 0, 0, 0, 0};
        memcpy(app1 + n, tiff, sizeof tiff), n += sizeof tiff;
    } else {
        uint8_t tiff[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t)o, 0, 0, 0, 0, 0, 0, 0};
        memcpy(app1 + n, tiff, sizeof tiff), n += sizeof tiff;
    }
    ubuf out = {0};
    ub_put(&out, j.p, 2);
    ub_put(&out, app1, n);
    ub_put(&out, j.p + 2, j.n - 2);
    free(j.p);
    return out;
}

static void test_orientation(void)
{
    /* stored 32x16: quadrants top-left red, top-right green, bottom-left blue, bottom-right white */
    int w = 32, h = 16;
    uint8_t *px = malloc((size_t)w * h * 3);
    static const uint8_t colors[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(px + ((size_t)y * w + x) * 3, colors[(y >= h / 2) * 2 + (x >= w / 2)], 3);
    /* displayed corners (TL, TR, BL, BR) as quadrant indices R=0 G=1 B=2 W=3, per orientation */
    static const int expect[9][4] = {{0}, {0, 1, 2, 3}, {1, 0, 3, 2}, {3, 2, 1, 0}, {2, 3, 0, 1},
                                      {0, 2, 1, 3}, {2, 0, 3, 1}, {3, 1, 2, 0}, {1, 3, 0, 2}};
    for (int o = 1; o <= 8; o++) {
        ubuf b = jpeg_with_orientation(px, w, h, o, o & 1);
        vkti_image img;
        int rc = decode(&img, b, "exif.jpg");
        int W = o >= 5 ? h : w, H = o >= 5 ? w : h, ok = rc == VKTI_OK && img.width == W && img.height == H &&
                                                      img.info.orientation == o;
        int cx[4] = {2, W - 3, 2, W - 3}, cy[4] = {2, 2, H - 3, H - 3};
        for (int k = 0; ok && k < 4; k++) {
            const uint8_t *p = img.data + ((size_t)cy[k] * W + cx[k]) * 3;
            const uint8_t *c = colors[expect[o][k]];
            for (int j = 0; j < 3; j++)
                ok = ok && abs(p[j] - c[j]) < 40;
        }
        CHECK(ok, "EXIF orientation %d: rc %d %dx%d (%s)", o, rc, img.width, img.height, D.msg);
        if (o == 6) {
            vkti_image_info info;
            vkti_image_probe(&D, &info, b.p, b.n, "exif.jpg");
            CHECK(info.width == 16 && info.height == 32, "probe reports the displayed size");
        }
        vkti_image_free(&img);
        free(b.p);
    }
    free(px);
}

static void expect_fail(ubuf b, const char *name, int want_rc, const char *needle)
{
    vkti_image img;
    int rc = decode(&img, b, name);
    CHECK(rc == want_rc && strstr(D.msg, name) && (!needle || strstr(D.msg, needle)) && !strchr(D.msg, '\n'),
          "%s: rc %d (want %d), message '%s' (want '%s')", name, rc, want_rc, D.msg, needle ? needle : "");
    if (rc == VKTI_OK)
        vkti_image_free(&img);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* PNG header claiming w x h with a valid IHDR CRC and a tiny IDAT */
static ubuf png_claiming(int w, int h, int depth, int color)
{
    uint8_t raw[8] = {0};
    return png_make(w, h, depth, color, raw, sizeof raw, NULL, 0, NULL, 0);
}

/* fixed-Huffman deflate of `copies` back-references of 258 bytes at distance 1 after one literal 0 */
static ubuf zlib_bomb(size_t copies)
{
    ubuf z = {0};
    uint8_t hdr[2] = {0x78, 0x01};
    ub_put(&z, hdr, 2);
    uint64_t acc = 0;
    int bits = 0;
#define PUTBITS(v, n)                                                                                              \
    do {                                                                                                           \
        acc |= (uint64_t)(v) << bits;                                                                              \
        bits += (n);                                                                                               \
        while (bits >= 8) {                                                                                        \
            uint8_t byte = (uint8_t)acc;                                                                           \
            ub_put(&z, &byte, 1);                                                                                  \
            acc >>= 8;                                                                                             \
            bits -= 8;                                                                                             \
        }                                                                                                          \
    } while (0)
    PUTBITS(1, 1);            /* BFINAL */
    PUTBITS(1, 2);            /* fixed Huffman */
    PUTBITS(0x0c, 8);         /* literal 0: code 00110000, sent most significant bit first -> reversed */
    for (size_t i = 0; i < copies; i++) {
        PUTBITS(0xa3, 8);     /* length 258: code 285 = 11000101, reversed 10100011 */
        PUTBITS(0, 5);        /* distance code 0 (distance 1) */
    }
    PUTBITS(0, 7);            /* end of block: code 256 = 0000000 */
    PUTBITS(0, 7);            /* flush */
#undef PUTBITS
    uint8_t adler[4] = {0};   /* wrong, but the output limit is reached first */
    ub_put(&z, adler, 4);
    return z;
}

static void test_hostile(void)
{
    ubuf empty = {0};
    empty.p = malloc(1);
    expect_fail(empty, "empty.png", VKTI_E_FORMAT, "empty file");
    free(empty.p);

    const char *txt = "this is not a picture\n";
    ubuf t = {(uint8_t *)(uintptr_t)txt, strlen(txt), 0};
    expect_fail(t, "notes.png", VKTI_E_FORMAT, "not a JPEG, PNG or BMP");
    ubuf gif = {(uint8_t *)(uintptr_t)"GIF89a\x01\x00\x01\x00", 10, 0};
    expect_fail(gif, "anim.gif", VKTI_E_FORMAT, "GIF");
    ubuf webp = {(uint8_t *)(uintptr_t)"RIFF\x10\0\0\0WEBPVP8 ", 16, 0};
    expect_fail(webp, "photo.webp", VKTI_E_FORMAT, "WebP");

    /* every truncation of a PNG, a BMP and a JPEG fails with one message (and no crash) */
    int w = 19, h = 11;
    uint8_t *px = pattern(w, h, 3);
    static const char *const fmts[] = {"png", "bmp", "jpg"};
    for (int f = 0; f < 3; f++) {
        ubuf full = encode_stb(fmts[f], px, w, h, 3);
        int bad = 0;
        for (size_t n = 0; n < full.n; n++) {
            ubuf cut = {malloc(n + 1), n, n + 1};
            memcpy(cut.p, full.p, n);
            vkti_image img;
            char name[32];
            snprintf(name, sizeof name, "cut.%s", fmts[f]);
            int rc = decode(&img, cut, name);
            if (rc == VKTI_OK) {
                vkti_image_free(&img);
                bad++;
            } else if (!strstr(D.msg, name) || strchr(D.msg, '\n')) {
                bad++;
            }
            free(cut.p);
        }
        CHECK(bad == 0, "%s: %d of %zu truncations decoded or gave a bad message", fmts[f], bad, full.n);
        free(full.p);
    }
    /* truncated messages say so */
    ubuf png = encode_stb("png", px, w, h, 3);
    ubuf cut = {png.p, png.n - 5, 0};
    expect_fail(cut, "short.png", VKTI_E_FORMAT, "truncated");
    ubuf jpg = encode_stb("jpg", px, w, h, 3);
    ubuf jcut = {jpg.p, jpg.n / 2, 0};
    expect_fail(jcut, "short.jpg", VKTI_E_FORMAT, "truncated");

    /* a photo-sized JPEG cut inside its image data: stb would fill in the rest; the walk refuses it */
    {
        int bw = 256, bh = 192;
        uint8_t *noise = malloc((size_t)bw * bh * 3);
        uint32_t s = 99;
        for (int i = 0; i < bw * bh * 3; i++)
            noise[i] = (uint8_t)(urand(&s) >> 5);
        ubuf big = encode_stb("jpg", noise, bw, bh, 3);
        ubuf cut9 = {big.p, big.n * 9 / 10, 0};
        expect_fail(cut9, "cut.jpg", VKTI_E_FORMAT, "ends inside the image data");
        ubuf noeoi = {big.p, big.n - 2, 0};
        expect_fail(noeoi, "noeoi.jpg", VKTI_E_FORMAT, "truncated JPEG");
        vkti_image img;
        CHECK(decode(&img, big, "whole.jpg") == VKTI_OK, "the whole file decodes");
        vkti_image_free(&img);
        free(big.p);
        free(noise);
    }
    /* lying sizes: a header bigger than the pixel data */
    {
        uint8_t raw[(1 + 10 * 3) * 10];
        memset(raw, 0, sizeof raw);
        ubuf lie = png_make(100, 100, 8, 2, raw, sizeof raw, NULL, 0, NULL, 0);
        expect_fail(lie, "lie.png", VKTI_E_FORMAT, "cannot decode");
        free(lie.p);
        ubuf bmp = encode_stb("bmp", px, w, h, 3);
        bmp.p[18] = 200; /* width 200 */
        expect_fail(bmp, "lie.bmp", VKTI_E_FORMAT, "truncated BMP");
        bmp.p[18] = 0, bmp.p[19] = 0, bmp.p[20] = 0, bmp.p[21] = 0;
        expect_fail(bmp, "zero.bmp", VKTI_E_FORMAT, "0x");
        free(bmp.p);
        /* a JPEG whose frame header claims 4000x3000 while its data is for 19x11 */
        ubuf j = encode_stb("jpg", px, w, h, 3);
        for (size_t i = 2; i + 9 < j.n; i++)
            if (j.p[i] == 0xff && j.p[i + 1] == 0xc0) {
                j.p[i + 5] = 3000 >> 8, j.p[i + 6] = 3000 & 255, j.p[i + 7] = 4000 >> 8, j.p[i + 8] = 4000 & 255;
                break;
            }
        vkti_image img;
        int rc = decode(&img, j, "lie.jpg");
        /* stb may decode it (as grey) or refuse it; either way no crash and a sane result */
        CHECK(rc == VKTI_OK ? img.width == 4000 && img.height == 3000 : strstr(D.msg, "lie.jpg") != NULL,
              "lying JPEG: rc %d (%s)", rc, D.msg);
        if (rc == VKTI_OK)
            vkti_image_free(&img);
        free(j.p);
    }
    /* huge dimensions: refused from the header, before any decoding */
    {
        ubuf a = png_claiming(100000, 100000, 8, 2);
        expect_fail(a, "wide.png", VKTI_E_FORMAT, "up to 16384 pixels a side");
        free(a.p);
        ubuf b = png_claiming(10000, 10000, 8, 2);
        expect_fail(b, "many.png", VKTI_E_FORMAT, "megapixels");
        free(b.p);
        ubuf c = png_claiming(6000, 6000, 16, 6);
        expect_fail(c, "deep.png", VKTI_E_FORMAT, "MiB decoded");
        free(c.p);
        ubuf z = png_claiming(0, 5, 8, 2);
        expect_fail(z, "zero.png", VKTI_E_FORMAT, "0x5");
        free(z.p);
        ubuf j = encode_stb("jpg", px, w, h, 3);
        for (size_t i = 2; i + 9 < j.n; i++)
            if (j.p[i] == 0xff && j.p[i + 1] == 0xc0) {
                j.p[i + 5] = 0xff, j.p[i + 6] = 0xff, j.p[i + 7] = 0xff, j.p[i + 8] = 0xff;
                break;
            }
        expect_fail(j, "huge.jpg", VKTI_E_FORMAT, "16384");
        free(j.p);
        ubuf bm = encode_stb("bmp", px, w, h, 3);
        put_be32(bm.p + 18, 0x00000100); /* little-endian 0x00010000 = 65536 wide */
        expect_fail(bm, "huge.bmp", VKTI_E_FORMAT, "16384");
        free(bm.p);
    }
    /* structure: PNG without IHDR first, a chunk length past the end, a bad colour type */
    {
        ubuf p2 = encode_stb("png", px, w, h, 3);
        memcpy(p2.p + 12, "IHDX", 4);
        expect_fail(p2, "nohdr.png", VKTI_E_FORMAT, "header chunk");
        memcpy(p2.p + 12, "IHDR", 4);
        p2.p[8 + 8 + 9] = 5; /* colour type 5 */
        expect_fail(p2, "color.png", VKTI_E_FORMAT, "colour type");
        free(p2.p);
        uint8_t bogus[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01};
        ubuf bj = {bogus, sizeof bogus, 0};
        expect_fail(bj, "seg.jpg", VKTI_E_FORMAT, "JPEG");
    }
    /* a deflate bomb: a 16x16 PNG whose IDAT inflates to ~1.1 GiB; stb's capped allocator stops it */
    {
        double t0 = vkti_now();
        ubuf z = zlib_bomb(((size_t)1 << 30) / 258 + 4096);
        ubuf b = {0};
        static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        ub_put(&b, sig, 8);
        uint8_t ihdr[13] = {0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0};
        png_chunk(&b, "IHDR", ihdr, 13);
        png_chunk(&b, "IDAT", z.p, z.n);
        png_chunk(&b, "IEND", NULL, 0);
        expect_fail(b, "bomb.png", VKTI_E_FORMAT, "cannot decode");
        printf("deflate bomb (%zu KiB compressed) refused in %.2f s\n", z.n >> 10, vkti_now() - t0);
        free(z.p);
        free(b.p);
    }
    /* a file that does not exist, and a directory */
    {
        vkti_image img;
        CHECK(vkti_image_load(&D, &img, "/nonexistent/x.png") == VKTI_E_IO && strstr(D.msg, "/nonexistent/x.png"),
              "missing file: %s", D.msg);
        CHECK(vkti_image_load(&D, &img, ".") != VKTI_OK, "a directory is not an image");
    }
    free(png.p);
    free(jpg.p);
    free(px);
}

static void test_geometry(void)
{
    /* a horizontal ramp R = x, vertical ramp G = y (in a 200x100 8-bit image: R = x * 255 / 199) */
    int w = 200, h = 100;
    vkti_image src;
    vkti_image_alloc(&D, &src, w, h, 3, 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            src.data[(y * w + x) * 3 + 0] = (uint8_t)(x * 255 / 199);
            src.data[(y * w + x) * 3 + 1] = (uint8_t)(y * 255 / 99);
            src.data[(y * w + x) * 3 + 2] = 77;
        }
    double win[4];
    vkti_image_fit_window(&src, 64, 64, VKTI_CROP_MIDDLE, win);
    CHECK(fabs(win[0] - 50) < 1e-9 && fabs(win[2] - 150) < 1e-9 && win[1] == 0 && fabs(win[3] - 100) < 1e-9,
          "center window %g %g %g %g", win[0], win[1], win[2], win[3]);
    vkti_image_fit_window(&src, 64, 64, (vkti_crop){0, 0.5f, 0}, win);
    CHECK(win[0] == 0 && fabs(win[2] - 100) < 1e-9, "left window %g..%g", win[0], win[2]);
    vkti_image_fit_window(&src, 64, 64, (vkti_crop){1, 0.5f, 0}, win);
    CHECK(fabs(win[0] - 100) < 1e-9 && fabs(win[2] - 200) < 1e-9, "right window %g..%g", win[0], win[2]);
    vkti_image_fit_window(&src, 64, 32, VKTI_CROP_MIDDLE, win); /* same aspect: the whole image */
    CHECK(fabs(win[0]) < 1e-9 && fabs(win[2] - 200) < 1e-9 && fabs(win[3] - 100) < 1e-9, "same-aspect window");

    /* center crop 200x100 -> 50x50: output column i samples source x = 50 + (i + 0.5) * 2 - 0.5 */
    vkti_image out, flip;
    int rc = vkti_image_fit(&D, &out, &src, 50, 50, VKTI_CROP_MIDDLE);
    CHECK(rc == VKTI_OK && out.width == 50 && out.height == 50 && out.channels == 3, "fit: %s", D.msg);
    int worst = 0;
    for (int y = 1; y < 49; y++)
        for (int x = 1; x < 49; x++) {
            int want_r = (int)lround((50 + (x + 0.5) * 2 - 0.5) * 255 / 199);
            int want_g = (int)lround(((y + 0.5) * 2 - 0.5) * 255 / 99);
            int er = abs(out.data[(y * 50 + x) * 3] - want_r), eg = abs(out.data[(y * 50 + x) * 3 + 1] - want_g);
            int eb = abs(out.data[(y * 50 + x) * 3 + 2] - 77);
            int e = er > eg ? er : eg;
            e = e > eb ? e : eb;
            worst = e > worst ? e : worst;
        }
    /* a linear ramp stays linear under a symmetric filter: within rounding (and the ramp's own
     * integer steps) */
    CHECK(worst <= 2, "center crop: worst error %d levels", worst);
    rc = vkti_image_fit(&D, &flip, &src, 50, 50, (vkti_crop){0.5f, 0.5f, 1});
    int mirrored = rc == VKTI_OK;
    for (int y = 0; mirrored && y < 50; y++)
        for (int x = 0; x < 50; x++)
            mirrored = mirrored && !memcmp(flip.data + (y * 50 + x) * 3, out.data + (y * 50 + 49 - x) * 3, 3);
    CHECK(mirrored, "flip mirrors the crop exactly");
    vkti_image_free(&flip);
    /* left crop starts at the left edge, right crop ends at the right edge */
    vkti_image l, r;
    vkti_image_fit(&D, &l, &src, 50, 50, (vkti_crop){0, 0.5f, 0});
    vkti_image_fit(&D, &r, &src, 50, 50, (vkti_crop){1, 0.5f, 0});
    CHECK(l.data[(25 * 50) * 3] <= 4 && r.data[(25 * 50 + 49) * 3] >= 251 && l.data[(25 * 50 + 49) * 3] < 140 &&
              r.data[(25 * 50) * 3] > 120,
          "left/right crops: %d %d %d %d", l.data[(25 * 50) * 3], r.data[(25 * 50 + 49) * 3],
          l.data[(25 * 50 + 49) * 3], r.data[(25 * 50) * 3]);
    vkti_image_free(&l);
    vkti_image_free(&r);
    vkti_image_free(&out);

    /* upscaling a tall 10x20 to 64x64: width -> 64, the middle half of the height kept */
    vkti_image tall, up;
    vkti_image_alloc(&D, &tall, 10, 20, 3, 1);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 10; x++)
            tall.data[(y * 10 + x) * 3 + 1] = (uint8_t)(y * 10);
    vkti_image_fit_window(&tall, 64, 64, VKTI_CROP_MIDDLE, win);
    CHECK(win[0] == 0 && fabs(win[2] - 10) < 1e-9 && fabs(win[1] - 5) < 1e-9 && fabs(win[3] - 15) < 1e-9,
          "tall window %g %g %g %g", win[0], win[1], win[2], win[3]);
    rc = vkti_image_fit(&D, &up, &tall, 64, 64, VKTI_CROP_MIDDLE);
    /* output row 0 samples source y = 5 + 0.5 / 6.4 (G = (y - 0.5) * 10 = 45.8); row 63: 144.2 */
    CHECK(rc == VKTI_OK && abs(up.data[1] - 46) <= 2 && abs(up.data[(63 * 64) * 3 + 1] - 144) <= 2,
          "tall upscale: top G %d bottom G %d", up.data[1], up.data[(63 * 64) * 3 + 1]);
    vkti_image_free(&up);
    vkti_image_free(&tall);

    /* a constant image stays constant (weights sum to one; no ringing) */
    vkti_image flat, f2;
    vkti_image_alloc(&D, &flat, 123, 77, 3, 1);
    memset(flat.data, 123, (size_t)123 * 77 * 3);
    vkti_image_fit(&D, &f2, &flat, 40, 40, (vkti_crop){0.3f, 0.5f, 1});
    int flat_ok = 1;
    for (int i = 0; i < 40 * 40 * 3; i++)
        flat_ok = flat_ok && f2.data[i] == 123;
    CHECK(flat_ok, "constant image stays constant");
    vkti_image_free(&f2);
    vkti_image_free(&flat);

    /* RGBA: a transparent region's colour does not bleed into opaque pixels */
    vkti_image a, a2;
    vkti_image_alloc(&D, &a, 64, 64, 4, 1);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *p = a.data + (y * 64 + x) * 4;
            if (x < 32)
                p[0] = 255, p[3] = 255; /* opaque red */
            else
                p[1] = 255, p[3] = 0;   /* transparent green */
        }
    vkti_image_fit(&D, &a2, &a, 16, 16, VKTI_CROP_MIDDLE);
    int bleed = 0;
    for (int x = 0; x < 16; x++) {
        const uint8_t *p = a2.data + (8 * 16 + x) * 4;
        if (p[3] > 8 && p[1] > 8)
            bleed++;
    }
    CHECK(a2.channels == 4 && bleed == 0 && a2.data[(8 * 16 + 7) * 4 + 3] > 128 && a2.data[(8 * 16 + 9) * 4 + 3] < 128,
          "alpha-weighted resize: %d pixels with green bleed", bleed);
    float rgbf[16 * 16 * 3], alf[16 * 16];
    vkti_image_to_float(rgbf, alf, &a2);
    CHECK(alf[8 * 16] == 1.0f && alf[8 * 16 + 15] == 0.0f && rgbf[0] == 1.0f, "alpha plane %g %g", (double)alf[8 * 16],
          (double)alf[8 * 16 + 15]);
    vkti_image_free(&a2);
    vkti_image_free(&a);

    /* 16-bit images resize at 16 bits */
    vkti_image d16, d16o;
    vkti_image_alloc(&D, &d16, 30, 20, 3, 2);
    for (int i = 0; i < 30 * 20 * 3; i++) {
        uint16_t v = 40000;
        memcpy(d16.data + i * 2, &v, 2);
    }
    rc = vkti_image_fit(&D, &d16o, &d16, 16, 16, VKTI_CROP_MIDDLE);
    uint16_t v16 = 0;
    if (rc == VKTI_OK)
        memcpy(&v16, d16o.data + 100, 2);
    CHECK(rc == VKTI_OK && d16o.depth == 2 && v16 == 40000, "16-bit fit: %u", v16);
    vkti_image_free(&d16o);
    vkti_image_free(&d16);
    CHECK(vkti_image_fit(&D, &out, &src, 0, 64, VKTI_CROP_MIDDLE) == VKTI_E_INVALID, "zero-size fit refused");

    /* float conversion: diffusers' image / 127.5 - 1 */
    vkti_image tiny;
    vkti_image_alloc(&D, &tiny, 3, 1, 3, 1);
    uint8_t vals[9] = {0, 255, 128, 1, 254, 127, 64, 192, 200};
    memcpy(tiny.data, vals, 9);
    float f[9];
    vkti_image_to_float(f, NULL, &tiny);
    int fl = 1;
    for (int i = 0; i < 9; i++)
        fl = fl && f[i] == (float)(vals[i] / 127.5 - 1.0);
    CHECK(fl && f[0] == -1.0f && f[1] == 1.0f, "to_float");
    vkti_image_free(&tiny);
    vkti_image_free(&src);

    /* buckets */
    int bw, bh;
    vkti_image_bucket(1000, 1000, 512, &bw, &bh);
    CHECK(bw == 512 && bh == 512, "square bucket %dx%d", bw, bh);
    vkti_image_bucket(1024, 512, 512, &bw, &bh);
    CHECK(bw == 704 && bh == 320, "2:1 bucket %dx%d", bw, bh);
    vkti_image_bucket(512, 1024, 512, &bw, &bh);
    CHECK(bw == 320 && bh == 704, "1:2 bucket %dx%d", bw, bh);
    vkti_image_bucket(4000, 3000, 512, &bw, &bh);
    CHECK(bw % 64 == 0 && bh % 64 == 0 && bw * bh <= 512 * 512 && fabs(log((double)bw / bh / (4.0 / 3))) < 0.1,
          "4:3 bucket %dx%d", bw, bh);
    vkti_image_bucket(100, 3000, 64, &bw, &bh);
    CHECK(bw % 8 == 0 && bh % 8 == 0 && bw >= 32 && bh <= 128 && bw * bh <= 64 * 64, "extreme bucket %dx%d", bw, bh);
}

static void test_hashes(void)
{
    int w = 90, h = 64;
    uint8_t *px = pattern(w, h, 3);
    ubuf png = encode_stb("png", px, w, h, 3), bmp = encode_stb("bmp", px, w, h, 3), jpg = encode_stb("jpg", px, w, h, 3);
    vkti_image a, b, c, m, small;
    decode(&a, png, "a.png");
    decode(&b, bmp, "b.bmp");
    decode(&c, jpg, "c.jpg");
    CHECK(vkti_image_pixel_hash(&a) == vkti_image_pixel_hash(&b), "same pixels, same hash (PNG vs BMP)");
    CHECK(vkti_image_pixel_hash(&a) != vkti_image_pixel_hash(&c), "JPEG pixels differ");
    b.data[1000] ^= 1;
    CHECK(vkti_image_pixel_hash(&a) != vkti_image_pixel_hash(&b), "one changed bit changes the hash");
    uint64_t ha, hc, hm, hs, ma, mm, hn;
    vkti_image_dhash(&D, &a, &ha, &ma);
    vkti_image_dhash(&D, &c, &hc, NULL);
    CHECK(vkti_hamming64(ha, hc) <= 4, "JPEG re-encode: dHash distance %d", vkti_hamming64(ha, hc));
    vkti_image_resize(&D, &small, &a, 45, 32);
    vkti_image_dhash(&D, &small, &hs, NULL);
    CHECK(vkti_hamming64(ha, hs) <= 4, "half size: dHash distance %d", vkti_hamming64(ha, hs));
    vkti_image_alloc(&D, &m, w, h, 3, 1);
    memcpy(m.data, a.data, (size_t)w * h * 3);
    vkti_image_flip(&m);
    vkti_image_dhash(&D, &m, &hm, &mm);
    CHECK(hm == ma && mm == ha, "mirrored hash of a mirrored image (width a multiple of 9): %d %d",
          vkti_hamming64(hm, ma), vkti_hamming64(mm, ha));
    /* noise is far from the pattern */
    vkti_image noise;
    vkti_image_alloc(&D, &noise, w, h, 3, 1);
    uint32_t s = 12345;
    for (int i = 0; i < w * h * 3; i++)
        noise.data[i] = (uint8_t)urand(&s);
    vkti_image_dhash(&D, &noise, &hn, NULL);
    CHECK(vkti_hamming64(ha, hn) > VKTI_DHASH_NEAR, "different images: dHash distance %d", vkti_hamming64(ha, hn));
    /* tiny images (narrower than the 9x8 grid) hash without trouble */
    vkti_image one;
    vkti_image_alloc(&D, &one, 1, 1, 3, 1);
    uint64_t h1 = 1;
    CHECK(vkti_image_dhash(&D, &one, &h1, NULL) == VKTI_OK && h1 == 0, "1x1 dHash");
    CHECK(vkti_hamming64(0, ~0ull) == 64 && vkti_hamming64(5, 6) == 2, "hamming");
    vkti_image_free(&one);
    vkti_image_free(&noise);
    vkti_image_free(&a);
    vkti_image_free(&b);
    vkti_image_free(&c);
    vkti_image_free(&m);
    vkti_image_free(&small);
    free(png.p);
    free(bmp.p);
    free(jpg.p);
    free(px);
}

static void test_png_text(void)
{
    CHECK(vkti_crc32(0, (const uint8_t *)"123456789", 9) == 0xcbf43926u, "CRC-32 check value");
    int w = 13, h = 7;
    uint8_t *px = pattern(w, h, 3);
    const char *params = "a photo of <my-cat> on a sofa\nNegative prompt: blurry\n"
                         "Steps: 20, Sampler: DDIM, CFG scale: 7, Seed: 42, Size: 512x512";
    const char *utf = "caf\xc3\xa9 \xe2\x9c\x93 <ti>";
    vkti_png_text texts[2] = {{"parameters", params}, {"Comment", utf}};
    uint8_t *png = NULL;
    size_t n = 0;
    int rc = vkti_png_encode(&D, &png, &n, px, w, h, 3, texts, 2);
    CHECK(rc == VKTI_OK, "encode: %s", D.msg);
    /* right after IHDR: tEXt for ASCII, iTXt for the rest */
    CHECK(n > 50 && !memcmp(png + 37, "tEXt", 4) && !memcmp(png + 41, "parameters\0", 11), "tEXt after IHDR");
    char *back = NULL;
    rc = vkti_png_read_text(&D, png, n, "parameters", &back);
    CHECK(rc == VKTI_OK && back && !strcmp(back, params), "parameters round trip: %s", D.msg);
    free(back);
    rc = vkti_png_read_text(&D, png, n, "Comment", &back);
    CHECK(rc == VKTI_OK && back && !strcmp(back, utf), "UTF-8 iTXt round trip: %s", D.msg);
    free(back);
    CHECK(vkti_png_read_text(&D, png, n, "Software", &back) == VKTI_E_FORMAT && !back, "missing key");
    /* the picture still decodes, with stb and with ours */
    int dw, dh, dc;
    uint8_t *dec = stbi_load_from_memory(png, (int)n, &dw, &dh, &dc, 3);
    CHECK(dec && dw == w && dh == h && !memcmp(dec, px, (size_t)w * h * 3), "pixels survive the chunks");
    stbi_image_free(dec);
    vkti_image img;
    CHECK(vkti_image_decode(&D, &img, png, n, "t.png") == VKTI_OK && !memcmp(img.data, px, (size_t)w * h * 3),
          "our decoder reads it");
    vkti_image_free(&img);
    /* a corrupted byte inside the text chunk fails its CRC */
    png[50] ^= 0x20;
    CHECK(vkti_png_read_text(&D, png, n, "parameters", &back) == VKTI_E_FORMAT && strstr(D.msg, "CRC"),
          "CRC mismatch noticed: %s", D.msg);
    free(png);
    /* Latin-1 tEXt written by another tool comes back as UTF-8 */
    {
        ubuf b = png_make(1, 1, 8, 0, (const uint8_t *)"\0\0", 2, NULL, 0, NULL, 0);
        ubuf c = {0};
        ub_put(&c, b.p, 33);
        png_chunk(&c, "tEXt", (const uint8_t *)"Author\0Jos\xe9", 11);
        ub_put(&c, b.p + 33, b.n - 33);
        rc = vkti_png_read_text(&D, c.p, c.n, "Author", &back);
        CHECK(rc == VKTI_OK && !strcmp(back, "Jos\xc3\xa9"), "Latin-1 tEXt to UTF-8");
        free(back);
        free(b.p);
        free(c.p);
    }
    /* bad keys and text are refused before anything is written */
    vkti_png_text bad[] = {{"", "x"}, {" lead", "x"}, {"k\xc3\xa9y", "x"},
                           {"a123456789b123456789c123456789d123456789e123456789f123456789g123456789h123456789", "x"},
                           {"ok", "bad \xc3\x28 utf8"}, {"two  spaces", "x"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = vkti_png_encode(&D, &png, &n, px, w, h, 3, &bad[i], 1);
        CHECK(rc == VKTI_E_INVALID && !png, "bad text %zu accepted", i);
    }
    /* atomic write to a file, read back */
    char dir[512], path[600];
    scratch_dir(dir, sizeof dir, "png");
    snprintf(path, sizeof path, "%s/out.png", dir);
    rc = vkti_png_write(&D, path, px, w, h, 3, texts, 1);
    uint8_t *file = NULL;
    size_t fn = 0;
    CHECK(rc == VKTI_OK && vkti_file_read(&D, path, 1 << 20, &file, &fn) == VKTI_OK, "write %s: %s", path, D.msg);
    CHECK(file && vkti_png_read_text(&D, file, fn, "parameters", &back) == VKTI_OK && !strcmp(back, params),
          "file round trip");
    free(back);
    free(file);
    snprintf(path, sizeof path, "%s/missing/out.png", dir);
    CHECK(vkti_png_write(&D, path, px, w, h, 3, NULL, 0) == VKTI_E_IO && !vkti_file_exists(path),
          "write into a missing directory fails cleanly");
    free(px);
}

int main(void)
{
    test_formats();
    test_orientation();
    test_hostile();
    test_geometry();
    test_hashes();
    test_png_text();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
