/* image.c — decoding JPEG, PNG and BMP safely: the format from magic numbers, the file's own
 * structure walked and its header's size checked against the limits before stb_image sees a
 * byte, EXIF orientation; then the geometry (fit = scale + crop + flip, stb_image_resize) and
 * the conversion to float. See image.h. */
#include "io/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "base/platform.h"

const char *vkti_image_format_name(vkti_image_format f)
{
    switch (f) {
    case VKTI_IMAGE_JPEG: return "JPEG";
    case VKTI_IMAGE_PNG: return "PNG";
    case VKTI_IMAGE_BMP: return "BMP";
    default: return "unknown";
    }
}

void vkti_image_free(vkti_image *img)
{
    if (!img)
        return;
    free(img->data);
    img->data = NULL;
    img->width = img->height = 0;
}

int vkti_image_alloc(vkti_diag *d, vkti_image *img, int width, int height, int channels, int depth)
{
    memset(img, 0, sizeof *img);
    if (width <= 0 || height <= 0 || width > VKTI_IMAGE_MAX_SIDE || height > VKTI_IMAGE_MAX_SIDE ||
        channels < 1 || channels > 4 || (depth != 1 && depth != 2))
        return vkti_fail(d, VKTI_E_INVALID, "image of %dx%d, %d channels, %d bytes each: not a size vkti makes",
                         width, height, channels, depth);
    size_t bytes = (size_t)width * (size_t)height * (size_t)channels * (size_t)depth;
    img->data = calloc(1, bytes);
    if (!img->data)
        return vkti_fail(d, VKTI_E_OOM, "out of memory for a %dx%d image (%zu bytes)", width, height, bytes);
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->depth = depth;
    return VKTI_OK;
}

/* ---- recognising files ------------------------------------------------------------------- */

static const uint8_t PNG_SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

vkti_image_format vkti_image_sniff(const uint8_t *p, size_t n)
{
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return VKTI_IMAGE_JPEG;
    if (n >= 8 && memcmp(p, PNG_SIG, 8) == 0)
        return VKTI_IMAGE_PNG;
    if (n >= 2 && p[0] == 'B' && p[1] == 'M')
        return VKTI_IMAGE_BMP;
    return VKTI_IMAGE_UNKNOWN;
}

const char *vkti_image_sniff_other(const uint8_t *p, size_t n)
{
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return "GIF";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "WebP";
    if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
        return "TIFF (or a camera raw file)";
    if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0) {
        if (memcmp(p + 8, "avif", 4) == 0 || memcmp(p + 8, "avis", 4) == 0)
            return "AVIF";
        if (memcmp(p + 8, "hei", 3) == 0 || memcmp(p + 8, "mif1", 4) == 0 || memcmp(p + 8, "msf1", 4) == 0)
            return "HEIF/HEIC";
        return "an ISO media file (video?)";
    }
    if (n >= 4 && memcmp(p, "8BPS", 4) == 0)
        return "Photoshop PSD";
    if (n >= 12 && memcmp(p, "\0\0\0\x0cjP  ", 8) == 0)
        return "JPEG 2000";
    if (n >= 2 && p[0] == 0xff && p[1] == 0x0a)
        return "JPEG XL";
    if (n >= 10 && memcmp(p, "#?RADIANCE", 10) == 0)
        return "Radiance HDR";
    if (n >= 5 && (memcmp(p, "<?xml", 5) == 0 || memcmp(p, "<svg", 4) == 0))
        return "SVG/XML";
    return NULL;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n)
        return 0;
    for (size_t i = 0; i < m; i++)
        if (lower((unsigned char)s[n - m + i]) != suffix[i])
            return 0;
    return 1;
}

int vkti_image_name_supported(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (ends_with_ci(name, ext[i]))
            return 1;
    return 0;
}

/* ---- structure walks (bounds-checked; nothing is trusted) --------------------------------- */

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }

/* EXIF orientation from an APP1 payload ("Exif\0\0" + TIFF); 1 when absent or unreadable. */
static int exif_orientation(const uint8_t *p, size_t n)
{
    if (n < 14 || memcmp(p, "Exif\0\0", 6) != 0)
        return 1;
    p += 6;
    n -= 6;
    int little;
    if (memcmp(p, "II*\0", 4) == 0)
        little = 1;
    else if (memcmp(p, "MM\0*", 4) == 0)
        little = 0;
    else
        return 1;
    uint32_t ifd = little ? le32(p + 4) : be32(p + 4);
    if (ifd > n || n - ifd < 2)
        return 1;
    uint32_t count = little ? le16(p + ifd) : be16(p + ifd);
    size_t at = (size_t)ifd + 2;
    for (uint32_t i = 0; i < count; i++, at += 12) {
        if (at > n || n - at < 12)
            return 1;
        const uint8_t *e = p + at;
        uint32_t tag = little ? le16(e) : be16(e);
        uint32_t type = little ? le16(e + 2) : be16(e + 2);
        if (tag == 0x0112 && type == 3) { /* Orientation, SHORT */
            uint32_t v = little ? le16(e + 8) : be16(e + 8);
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    return 1;
}

/* Walks a JPEG's segments from SOI to EOI (through the entropy-coded data after each SOS):
 * finds the frame header and the EXIF orientation, and notices truncation. */
static int jpeg_walk(vkti_diag *d, vkti_image_info *info, const uint8_t *p, size_t n, const char *name)
{
    size_t i = 2;
    int have_sof = 0;
    for (;;) {
        if (i >= n || n - i < 2)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated JPEG (ends before its end marker)", name);
        if (p[i] != 0xff)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt JPEG (no marker at byte %zu)", name, i);
        uint8_t m = p[i + 1];
        if (m == 0xff) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0xd9) /* EOI */
            break;
        if ((m >= 0xd0 && m <= 0xd7) || m == 0x01 || m == 0xd8) {
            i += 2;
            continue;
        }
        if (n - i < 4)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated JPEG (ends inside a segment header)", name);
        size_t len = be16(p + i + 2);
        if (len < 2)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt JPEG (segment length %zu at byte %zu)", name, len, i);
        if (len > n - i - 2)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated JPEG (a segment runs past the end of the file)", name);
        const uint8_t *seg = p + i + 4;
        size_t seg_n = len - 2;
        int is_sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
        if (is_sof && !have_sof) {
            if (seg_n < 6)
                return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt JPEG (short frame header)", name);
            if (m != 0xc0 && m != 0xc1 && m != 0xc2)
                return vkti_fail(d, VKTI_E_FORMAT,
                                 "%s: a lossless, hierarchical or arithmetic-coded JPEG, which vkti does not read "
                                 "(save it as an ordinary JPEG or PNG)", name);
            info->bits = 8;
            info->height = (int)be16(seg + 1);
            info->width = (int)be16(seg + 3);
            info->file_channels = seg[5] == 1 ? 1 : 3;
            if (seg[0] != 8)
                return vkti_fail(d, VKTI_E_FORMAT, "%s: a %d-bit JPEG; vkti reads 8-bit JPEGs", name, seg[0]);
            have_sof = 1;
        } else if (m == 0xe1 && info->orientation == 1) {
            info->orientation = exif_orientation(seg, seg_n);
        }
        i += 2 + len;
        if (m == 0xda) { /* SOS: entropy-coded data up to the next marker other than RST / stuffing */
            if (!have_sof)
                return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt JPEG (scan before frame header)", name);
            for (;;) {
                const uint8_t *ff = i < n ? memchr(p + i, 0xff, n - i) : NULL;
                if (!ff || (size_t)(ff - p) + 1 >= n)
                    return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated JPEG (ends inside the image data)", name);
                i = (size_t)(ff - p);
                uint8_t next = p[i + 1];
                if (next == 0x00 || (next >= 0xd0 && next <= 0xd7))
                    i += 2;
                else if (next == 0xff)
                    i += 1;
                else
                    break;
            }
        }
    }
    if (!have_sof)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt JPEG (no frame header)", name);
    return VKTI_OK;
}

/* Walks a PNG's chunks from IHDR to IEND: size, depth, colour type, transparency, truncation. */
static int png_walk(vkti_diag *d, vkti_image_info *info, const uint8_t *p, size_t n, const char *name)
{
    size_t i = 8;
    int have_idat = 0, color = -1, trns = 0;
    for (int k = 0;; k++) {
        if (n - i < 12)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated PNG (ends before its IEND chunk)", name);
        size_t len = be32(p + i);
        const uint8_t *type = p + i + 4;
        if (len > 0x7fffffffu)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt PNG (chunk length %zu)", name, len);
        if (len > n - i - 12)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated PNG (a %.4s chunk runs past the end of the file)",
                             name, (const char *)type);
        const uint8_t *data = p + i + 8;
        if (k == 0) {
            if (memcmp(type, "IHDR", 4) != 0 || len != 13)
                return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt PNG (does not start with a header chunk)", name);
            info->width = (int)(be32(data) > 0x7fffffffu ? 0x7fffffff : be32(data));
            info->height = (int)(be32(data + 4) > 0x7fffffffu ? 0x7fffffff : be32(data + 4));
            int depth = data[8];
            color = data[9];
            static const int channels_of[7] = {1, 0, 3, 3, 2, 0, 4};
            if (color > 6 || channels_of[color] == 0 ||
                !(depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16))
                return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt PNG (colour type %d, bit depth %d)", name, color,
                                 depth);
            info->file_channels = channels_of[color];
            info->bits = depth == 16 ? 16 : 8;
        } else if (memcmp(type, "tRNS", 4) == 0) {
            trns = 1;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            have_idat = 1;
        } else if (memcmp(type, "IEND", 4) == 0) {
            break;
        }
        i += 12 + len;
    }
    if (!have_idat)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt PNG (no image data)", name);
    if (trns && (info->file_channels == 1 || info->file_channels == 3))
        info->file_channels++;
    return VKTI_OK;
}

/* Checks a BMP's header and that its pixel array lies inside the file. */
static int bmp_walk(vkti_diag *d, vkti_image_info *info, const uint8_t *p, size_t n, const char *name)
{
    if (n < 26)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated BMP (%zu bytes)", name, n);
    uint32_t off = le32(p + 10), hsz = le32(p + 14);
    int64_t w, h;
    uint32_t bpp, comp = 0;
    if (hsz == 12) {
        w = le16(p + 18);
        h = le16(p + 20);
        bpp = le16(p + 24);
    } else if (hsz == 40 || hsz == 56 || hsz == 108 || hsz == 124) {
        if (n < 14 + (size_t)hsz)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated BMP (ends inside its header)", name);
        w = (int32_t)le32(p + 18);
        h = (int32_t)le32(p + 22);
        bpp = le16(p + 28);
        comp = le32(p + 30);
    } else {
        return vkti_fail(d, VKTI_E_FORMAT, "%s: a BMP with a %u-byte header, which vkti does not read", name, hsz);
    }
    if (h < 0)
        h = -h; /* top-down rows */
    if (comp == 1 || comp == 2 || comp > 3)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: a compressed (RLE/JPEG/PNG) BMP, which vkti does not read", name);
    if (!(bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt BMP (%u bits per pixel)", name, bpp);
    if (w <= 0 || h <= 0 || w > VKTI_IMAGE_MAX_SIDE || h > VKTI_IMAGE_MAX_SIDE) {
        info->width = w > 0x7fffffff ? 0x7fffffff : (int)w;
        info->height = h > 0x7fffffff ? 0x7fffffff : (int)h;
        return VKTI_OK; /* the size check in probe names it */
    }
    uint64_t stride = ((uint64_t)w * bpp + 31) / 32 * 4;
    if (off < 14 + hsz || off > n || stride * (uint64_t)h > n - off)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: truncated BMP (its %lldx%lld pixels need %llu bytes after byte %u; "
                         "the file has %zu)", name, (long long)w, (long long)h,
                         (unsigned long long)(stride * (uint64_t)h), off, n);
    info->width = (int)w;
    info->height = (int)h;
    info->bits = 8;
    info->file_channels = 3; /* refined by stbi_info (32-bit BMPs with an alpha mask) */
    return VKTI_OK;
}

int vkti_image_probe(vkti_diag *d, vkti_image_info *info, const uint8_t *data, size_t size, const char *name)
{
    memset(info, 0, sizeof *info);
    info->orientation = 1;
    if (size == 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: empty file (0 bytes)", name);
    if (size > VKTI_IMAGE_MAX_FILE_BYTES)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %zu bytes is more than the %zu MiB an image file may have", name,
                         size, VKTI_IMAGE_MAX_FILE_BYTES >> 20);
    info->format = vkti_image_sniff(data, size);
    int rc;
    switch (info->format) {
    case VKTI_IMAGE_JPEG: rc = jpeg_walk(d, info, data, size, name); break;
    case VKTI_IMAGE_PNG: rc = png_walk(d, info, data, size, name); break;
    case VKTI_IMAGE_BMP: rc = bmp_walk(d, info, data, size, name); break;
    default: {
        const char *other = vkti_image_sniff_other(data, size);
        if (other)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: %s, which vkti does not read (convert it to PNG or JPEG)", name,
                             other);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not a JPEG, PNG or BMP file (its content is none of them%s)", name,
                         vkti_image_name_supported(name) ? ", whatever its name says" : "");
    }
    }
    if (rc)
        return rc;
    if (info->width <= 0 || info->height <= 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt %s (its header says %dx%d pixels)", name,
                         vkti_image_format_name(info->format), info->width, info->height);
    if (info->width > VKTI_IMAGE_MAX_SIDE || info->height > VKTI_IMAGE_MAX_SIDE)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %dx%d pixels; vkti reads images up to %d pixels a side "
                         "(scale it down first)", name, info->width, info->height, VKTI_IMAGE_MAX_SIDE);
    uint64_t pixels = (uint64_t)info->width * (uint64_t)info->height;
    if (pixels > VKTI_IMAGE_MAX_PIXELS)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %dx%d is %.1f megapixels; vkti reads up to %.0f (scale it down first)",
                         name, info->width, info->height, (double)pixels / 1048576.0,
                         (double)VKTI_IMAGE_MAX_PIXELS / 1048576.0);
    /* stb's view of the header must agree with ours (and tells the BMP alpha channel) */
    int sw = 0, sh = 0, sc = 0;
    if (!stbi_info_from_memory(data, (int)size, &sw, &sh, &sc))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: unreadable %s header (%s)", name,
                         vkti_image_format_name(info->format), stbi_failure_reason());
    if (sw != info->width || sh != info->height)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: corrupt %s (its header gives two sizes, %dx%d and %dx%d)", name,
                         vkti_image_format_name(info->format), info->width, info->height, sw, sh);
    if (info->format == VKTI_IMAGE_BMP)
        info->file_channels = sc == 4 ? 4 : 3;
    int out_channels = info->file_channels == 2 || info->file_channels == 4 ? 4 : 3;
    uint64_t bytes = pixels * (uint64_t)out_channels * (uint64_t)(info->bits / 8);
    if (bytes > VKTI_IMAGE_MAX_DECODED_BYTES)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %dx%d with %d %d-bit channels needs %.0f MiB decoded; the limit "
                         "is %.0f MiB (scale it down or save it as 8-bit)", name, info->width, info->height,
                         out_channels, info->bits, (double)bytes / 1048576.0,
                         (double)VKTI_IMAGE_MAX_DECODED_BYTES / 1048576.0);
    if (info->orientation >= 5) { /* shown rotated by a quarter turn */
        int t = info->width;
        info->width = info->height;
        info->height = t;
    }
    return VKTI_OK;
}

/* Applies EXIF orientation o (2..8) to img: a new buffer with each displayed pixel (ox, oy)
 * taken from stored pixel (sx, sy). */
static int apply_orientation(vkti_diag *d, vkti_image *img, int o)
{
    int W = img->width, H = img->height;
    int ow = o >= 5 ? H : W, oh = o >= 5 ? W : H;
    size_t px = (size_t)img->channels * (size_t)img->depth;
    uint8_t *out = malloc((size_t)ow * (size_t)oh * px);
    if (!out)
        return vkti_fail(d, VKTI_E_OOM, "out of memory rotating a %dx%d image", W, H);
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            int sx, sy;
            switch (o) {
            case 2: sx = W - 1 - ox; sy = oy; break;             /* mirrored */
            case 3: sx = W - 1 - ox; sy = H - 1 - oy; break;     /* rotated 180 */
            case 4: sx = ox; sy = H - 1 - oy; break;             /* flipped vertically */
            case 5: sx = oy; sy = ox; break;                     /* transposed */
            case 6: sx = oy; sy = H - 1 - ox; break;             /* shown turned 90 clockwise */
            case 7: sx = W - 1 - oy; sy = H - 1 - ox; break;     /* transverse */
            default: sx = W - 1 - oy; sy = ox; break;            /* 8: shown turned 90 anticlockwise */
            }
            memcpy(out + ((size_t)oy * (size_t)ow + (size_t)ox) * px,
                   img->data + ((size_t)sy * (size_t)W + (size_t)sx) * px, px);
        }
    }
    free(img->data);
    img->data = out;
    img->width = ow;
    img->height = oh;
    return VKTI_OK;
}

int vkti_image_decode(vkti_diag *d, vkti_image *out, const uint8_t *data, size_t size, const char *name)
{
    memset(out, 0, sizeof *out);
    vkti_image_info info;
    int rc = vkti_image_probe(d, &info, data, size, name);
    if (rc)
        return rc;
    int want = info.file_channels == 2 || info.file_channels == 4 ? 4 : 3;
    int w = 0, h = 0, c = 0;
    void *px;
    if (info.bits == 16)
        px = stbi_load_16_from_memory(data, (int)size, &w, &h, &c, want);
    else
        px = stbi_load_from_memory(data, (int)size, &w, &h, &c, want);
    if (!px)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: cannot decode this %s (%s)", name, vkti_image_format_name(info.format),
                         stbi_failure_reason());
    int stored_w = info.orientation >= 5 ? info.height : info.width;
    int stored_h = info.orientation >= 5 ? info.width : info.height;
    if (w != stored_w || h != stored_h) {
        stbi_image_free(px);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: decoded %dx%d but the header said %dx%d", name, w, h, stored_w,
                         stored_h);
    }
    /* stb allocates through src/io/stb.c's capped malloc, so free() releases it */
    out->data = px;
    out->width = w;
    out->height = h;
    out->channels = want;
    out->depth = info.bits / 8;
    out->info = info;
    if (info.orientation != 1 && (rc = apply_orientation(d, out, info.orientation))) {
        vkti_image_free(out);
        return rc;
    }
    return VKTI_OK;
}

int vkti_image_load(vkti_diag *d, vkti_image *out, const char *path)
{
    memset(out, 0, sizeof *out);
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = vkti_file_read(d, path, VKTI_IMAGE_MAX_FILE_BYTES, &data, &size);
    if (rc)
        return rc;
    rc = vkti_image_decode(d, out, data, size, path);
    free(data);
    return rc;
}

/* ---- geometry ---------------------------------------------------------------------------- */

void vkti_image_fit_window(const vkti_image *src, int out_w, int out_h, vkti_crop crop, double win[4])
{
    double sx = (double)out_w / src->width, sy = (double)out_h / src->height;
    double s = sx > sy ? sx : sy;                /* scale that covers the target */
    double ww = out_w / s, wh = out_h / s;       /* the window in source pixels */
    double cx = crop.x < 0 ? 0 : crop.x > 1 ? 1 : crop.x;
    double cy = crop.y < 0 ? 0 : crop.y > 1 ? 1 : crop.y;
    double x0 = cx * (src->width - ww), y0 = cy * (src->height - wh);
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    win[0] = x0;
    win[1] = y0;
    win[2] = x0 + ww > src->width ? src->width : x0 + ww;
    win[3] = y0 + wh > src->height ? src->height : y0 + wh;
}

static int resample(vkti_diag *d, vkti_image *out, const vkti_image *src, int out_w, int out_h, const double win[4])
{
    int rc = vkti_image_alloc(d, out, out_w, out_h, src->channels, src->depth);
    if (rc)
        return rc;
    out->info = src->info;
    int ok = stbir_resize_region(src->data, src->width, src->height, 0, out->data, out_w, out_h, 0,
                                 src->depth == 2 ? STBIR_TYPE_UINT16 : STBIR_TYPE_UINT8, src->channels,
                                 src->channels == 4 ? 3 : STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                                 STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM, STBIR_FILTER_CATMULLROM,
                                 STBIR_COLORSPACE_LINEAR, NULL, (float)(win[0] / src->width),
                                 (float)(win[1] / src->height), (float)(win[2] / src->width),
                                 (float)(win[3] / src->height));
    if (!ok) {
        vkti_image_free(out);
        return vkti_fail(d, VKTI_E_OOM, "resizing a %dx%d image to %dx%d failed (out of memory)", src->width,
                         src->height, out_w, out_h);
    }
    return VKTI_OK;
}

void vkti_image_flip(vkti_image *img)
{
    size_t px = (size_t)img->channels * (size_t)img->depth;
    uint8_t tmp[8];
    for (int y = 0; y < img->height; y++) {
        uint8_t *row = img->data + (size_t)y * (size_t)img->width * px;
        for (int a = 0, b = img->width - 1; a < b; a++, b--) {
            memcpy(tmp, row + (size_t)a * px, px);
            memcpy(row + (size_t)a * px, row + (size_t)b * px, px);
            memcpy(row + (size_t)b * px, tmp, px);
        }
    }
}

int vkti_image_fit(vkti_diag *d, vkti_image *out, const vkti_image *src, int out_w, int out_h, vkti_crop crop)
{
    memset(out, 0, sizeof *out);
    if (out_w <= 0 || out_h <= 0 || out_w > VKTI_IMAGE_MAX_SIDE || out_h > VKTI_IMAGE_MAX_SIDE)
        return vkti_fail(d, VKTI_E_INVALID, "cannot fit an image to %dx%d", out_w, out_h);
    double win[4];
    vkti_image_fit_window(src, out_w, out_h, crop, win);
    int rc = resample(d, out, src, out_w, out_h, win);
    if (rc == VKTI_OK && crop.flip)
        vkti_image_flip(out);
    return rc;
}

int vkti_image_resize(vkti_diag *d, vkti_image *out, const vkti_image *src, int out_w, int out_h)
{
    memset(out, 0, sizeof *out);
    if (out_w <= 0 || out_h <= 0 || out_w > VKTI_IMAGE_MAX_SIDE || out_h > VKTI_IMAGE_MAX_SIDE)
        return vkti_fail(d, VKTI_E_INVALID, "cannot resize an image to %dx%d", out_w, out_h);
    double win[4] = {0, 0, src->width, src->height};
    return resample(d, out, src, out_w, out_h, win);
}

/* ---- conversion -------------------------------------------------------------------------- */

void vkti_image_to_float(float *rgb, float *alpha, const vkti_image *img)
{
    size_t n = (size_t)img->width * (size_t)img->height;
    int c = img->channels;
    /* the same arithmetic as diffusers' `image / 127.5 - 1.0` (float64, then float32) */
    double half = img->depth == 2 ? 32767.5 : 127.5, full = img->depth == 2 ? 65535.0 : 255.0;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            double v;
            if (img->depth == 2) {
                uint16_t s;
                memcpy(&s, img->data + (i * (size_t)c + (size_t)k) * 2, 2);
                v = s;
            } else {
                v = img->data[i * (size_t)c + (size_t)k];
            }
            rgb[i * 3 + (size_t)k] = (float)(v / half - 1.0);
        }
        if (alpha) {
            double a = full;
            if (c == 4) {
                if (img->depth == 2) {
                    uint16_t s;
                    memcpy(&s, img->data + (i * 4 + 3) * 2, 2);
                    a = s;
                } else {
                    a = img->data[i * 4 + 3];
                }
            }
            alpha[i] = (float)(a / full);
        }
    }
}

int vkti_image_to_rgb8(vkti_diag *d, uint8_t **rgb, const vkti_image *img)
{
    size_t n = (size_t)img->width * (size_t)img->height;
    uint8_t *out = malloc(n * 3);
    *rgb = out;
    if (!out)
        return vkti_fail(d, VKTI_E_OOM, "out of memory for a %dx%d RGB image", img->width, img->height);
    int c = img->channels;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            if (img->depth == 2) {
                uint16_t s;
                memcpy(&s, img->data + (i * (size_t)c + (size_t)k) * 2, 2);
                out[i * 3 + (size_t)k] = (uint8_t)(((uint32_t)s * 255u + 32767u) / 65535u);
            } else {
                out[i * 3 + (size_t)k] = img->data[i * (size_t)c + (size_t)k];
            }
        }
    return VKTI_OK;
}

void vkti_image_bucket(int w, int h, int resolution, int *bucket_w, int *bucket_h)
{
    int step = resolution / 8 / 8 * 8;
    if (step < 8)
        step = 8;
    int64_t area = (int64_t)resolution * resolution;
    int lo = resolution / 2 / step * step, hi = resolution * 2;
    if (lo < step)
        lo = step;
    double want = log((double)w / h);
    int best_w = resolution, best_h = resolution;
    double best = fabs(want);
    /* candidates: each side length with the other as large as the area allows, both ways round
     * (so a portrait image gets the transpose of the landscape one's bucket) */
    for (int side = lo; side <= hi; side += step) {
        int64_t other = area / side / step * step;
        if (other < lo || other > hi)
            continue;
        for (int t = 0; t < 2; t++) {
            int bw = t ? (int)other : side, bh = t ? side : (int)other;
            double err = fabs(log((double)bw / (double)bh) - want);
            /* the closer aspect ratio; on a tie the larger area, then the wider when w >= h */
            int64_t a = (int64_t)bw * bh, best_a = (int64_t)best_w * best_h;
            int tie = fabs(err - best) <= 1e-12;
            if (err < best - 1e-12 || (tie && a > best_a) ||
                (tie && a == best_a && (w >= h ? bw > best_w : bh > best_h))) {
                best = err;
                best_w = bw;
                best_h = bh;
            }
        }
    }
    *bucket_w = best_w;
    *bucket_h = best_h;
}
