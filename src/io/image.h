/* image.h — pictures in and out: decoding JPEG, PNG and BMP (stb_image) under caps on file size,
 * pixels and memory that are checked before anything is decoded; EXIF orientation; resizing
 * with a proper filter, center or positioned crop and horizontal flip (stb_image_resize);
 * conversion to the float [-1, 1] HWC layout the VAE encoder takes; a pixel hash and a perceptual
 * hash (for duplicate finding); PNG writing with text chunks (AUTOMATIC1111's "parameters").
 *
 * Ownership: a vkti_image owns its pixels (vkti_image_free); buffers returned through uint8_t **
 * are malloc'd and freed with free(). */
#ifndef VKTI_IO_IMAGE_H
#define VKTI_IO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

/* ---- limits: checked from the file's own header before any decoding ----------------------- */

#define VKTI_IMAGE_MAX_FILE_BYTES ((size_t)128 << 20)    /* 128 MiB per image file */
#define VKTI_IMAGE_MAX_SIDE 16384                         /* pixels on either side */
#define VKTI_IMAGE_MAX_PIXELS ((uint64_t)64 << 20)        /* 64 Mpx, e.g. 8192 x 8192 */
/* Bytes of the decoded picture (width x height x channels x bytes per channel): 64 Mpx of 8-bit
 * RGBA, or about 42 Mpx of 16-bit RGB. stb's working memory while decoding is at most about as
 * much again. */
#define VKTI_IMAGE_MAX_DECODED_BYTES ((uint64_t)256 << 20)
/* Any single allocation stb_image makes (src/io/stb.c enforces it): a PNG whose compressed
 * data inflates to more than its header allows fails here instead of exhausting memory. */
#define VKTI_IMAGE_MAX_STB_ALLOC ((size_t)1 << 30)

typedef enum vkti_image_format {
    VKTI_IMAGE_UNKNOWN = 0,
    VKTI_IMAGE_JPEG = 1,
    VKTI_IMAGE_PNG = 2,
    VKTI_IMAGE_BMP = 3
} vkti_image_format;

const char *vkti_image_format_name(vkti_image_format f);

/* What a file's header says (after EXIF orientation: width and height as the picture is shown). */
typedef struct vkti_image_info {
    vkti_image_format format;
    int width, height;
    int file_channels;   /* 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA (PNG tRNS counts as alpha) */
    int bits;            /* 8, or 16 for 16-bit PNG */
    int orientation;     /* EXIF orientation 1..8 (1: as stored) */
} vkti_image_info;

/* A decoded picture: pixels [height, width, channels], row-major, each sample `depth` bytes
 * (1: uint8; 2: uint16 in host byte order, full scale 65535). channels is 3 (RGB) or 4 (RGBA,
 * straight, not premultiplied alpha). */
typedef struct vkti_image {
    int width, height;
    int channels;
    int depth;
    uint8_t *data;
    vkti_image_info info; /* the source file's header (width/height there: the original size) */
} vkti_image;

void vkti_image_free(vkti_image *img);
/* A zeroed image of the given shape (pixels all 0). */
int vkti_image_alloc(vkti_diag *d, vkti_image *img, int width, int height, int channels, int depth);

/* The format from the first bytes (magic numbers), or VKTI_IMAGE_UNKNOWN. */
vkti_image_format vkti_image_sniff(const uint8_t *data, size_t size);
/* For a file that is not JPEG, PNG or BMP: the name of a picture format it looks like
 * ("GIF", "WebP", "TIFF", "HEIF/AVIF", ...), or NULL. */
const char *vkti_image_sniff_other(const uint8_t *data, size_t size);
/* 1 if the file name's extension is one vkti reads (.jpg .jpeg .jpe .jfif .png .bmp, any case). */
int vkti_image_name_supported(const char *name);

/* Reads the header only: format, size, channels, depth, orientation; checks the structure
 * (a JPEG's segments up to its end marker, a PNG's chunks up to IEND, a BMP's pixel array
 * inside the file) and every limit above. name is used in messages. */
int vkti_image_probe(vkti_diag *d, vkti_image_info *info, const uint8_t *data, size_t size, const char *name);

/* Decodes a file's bytes (probe first, then stb_image): RGB, or RGBA if the file has alpha;
 * 8-bit, or 16-bit for 16-bit PNGs; EXIF orientation applied. */
int vkti_image_decode(vkti_diag *d, vkti_image *out, const uint8_t *data, size_t size, const char *name);
/* Reads (up to VKTI_IMAGE_MAX_FILE_BYTES) and decodes a file. */
int vkti_image_load(vkti_diag *d, vkti_image *out, const char *path);

/* ---- geometry ---------------------------------------------------------------------------- */

/* Where the crop window sits and whether the result is mirrored. x and y run from 0 (window at
 * the left / top edge) through 0.5 (centered) to 1 (right / bottom edge); only the axis that
 * is longer than the window after scaling matters. A random crop is x, y drawn from U[0, 1]. */
typedef struct vkti_crop {
    float x, y;
    int flip;  /* 1: mirror left-right after cropping */
} vkti_crop;

#define VKTI_CROP_MIDDLE ((vkti_crop){0.5f, 0.5f, 0})

/* Scales src uniformly so that it covers out_w x out_h (the shorter side, relative to the
 * target, matches it exactly), cuts the out_w x out_h window at crop, mirrors it if asked.
 * Resampling: Catmull-Rom cubic (the kernel of PIL's BICUBIC, which diffusers uses), widened
 * when shrinking so it averages (antialiased), edges clamped, alpha-weighted for RGBA, on the
 * stored (gamma-encoded) values as PIL does. out gets src's channels and depth. */
int vkti_image_fit(vkti_diag *d, vkti_image *out, const vkti_image *src, int out_w, int out_h, vkti_crop crop);
/* Resizes the whole image to out_w x out_h (no crop; aspect ratio not kept). */
int vkti_image_resize(vkti_diag *d, vkti_image *out, const vkti_image *src, int out_w, int out_h);
/* Mirrors left-right in place. */
void vkti_image_flip(vkti_image *img);

/* The window fit() cuts, in source pixels (fractional): x0, y0, x1, y1. */
void vkti_image_fit_window(const vkti_image *src, int out_w, int out_h, vkti_crop crop, double window[4]);

/* ---- conversion -------------------------------------------------------------------------- */

/* rgb is [height, width, 3] in [-1, 1] (v / 127.5 - 1 for 8-bit, v / 32767.5 - 1 for 16-bit):
 * what the VAE encoder takes (NHWC). alpha (may be NULL) is [height, width] in [0, 1], all 1
 * for an image without alpha. */
void vkti_image_to_float(float *rgb, float *alpha, const vkti_image *img);
/* 8-bit RGB [height, width, 3] of img (16-bit rounded down to 8, alpha dropped: the colours
 * training sees); *rgb malloc'd. */
int vkti_image_to_rgb8(vkti_diag *d, uint8_t **rgb, const vkti_image *img);

/* Bucket for an image of w x h at a training resolution: sides multiples of `step`
 * (max(8, resolution / 8 rounded down to a multiple of 8): 64 at 512), area at most
 * resolution^2, each side within [resolution / 2, resolution * 2], aspect ratio closest
 * (in log) to the image's. */
void vkti_image_bucket(int w, int h, int resolution, int *bucket_w, int *bucket_h);

/* ---- hashes ------------------------------------------------------------------------------ */

/* 64-bit hash of the decoded pixels and their shape: equal for images with the same pixels,
 * whatever their file format. */
uint64_t vkti_image_pixel_hash(const vkti_image *img);

/* dHash: the image as 9 x 8 greyscale (area-averaged), one bit per horizontally adjacent pair
 * (left brighter than right): 64 bits. *mirrored is the dHash of the left-right mirror.
 * Near duplicates: Hamming distance <= VKTI_DHASH_NEAR (photos of different scenes sit near 32). */
#define VKTI_DHASH_NEAR 8
int vkti_image_dhash(vkti_diag *d, const vkti_image *img, uint64_t *hash, uint64_t *mirrored);
int vkti_hamming64(uint64_t a, uint64_t b);

/* ---- PNG writing ------------------------------------------------------------------------- */

/* A text chunk: key (1..79 printable ASCII characters, no leading, trailing or double spaces)
 * and a UTF-8 value. Pure-ASCII values go in tEXt, others in uncompressed iTXt (as PIL does, so
 * AUTOMATIC1111's reader and others show them). AUTOMATIC1111's convention for generated images:
 * key "parameters", value "PROMPT\nNegative prompt: NEGATIVE\nSteps: 20, Sampler: DDIM,
 * CFG scale: 7, Seed: 42, Size: 512x512, Model hash: ..., Model: NAME" (the negative line only
 * when there is one). */
typedef struct vkti_png_text {
    const char *key;
    const char *text;
} vkti_png_text;

#define VKTI_PNG_TEXT_MAX_BYTES ((size_t)1 << 20)

/* PNG bytes of 8-bit pixels [h, w, channels] (channels 1..4) with the text chunks right after
 * IHDR; *png malloc'd. */
int vkti_png_encode(vkti_diag *d, uint8_t **png, size_t *size, const uint8_t *pixels, int w, int h, int channels,
                    const vkti_png_text *texts, int text_count);
/* The same, written atomically (temporary file, flush, rename) to path. */
int vkti_png_write(vkti_diag *d, const char *path, const uint8_t *pixels, int w, int h, int channels,
                   const vkti_png_text *texts, int text_count);
/* Finds the tEXt or iTXt chunk named key in PNG bytes (checking every chunk's CRC) and returns its
 * value, NUL-terminated, in *text (malloc'd). VKTI_E_FORMAT if absent or malformed. */
int vkti_png_read_text(vkti_diag *d, const uint8_t *png, size_t size, const char *key, char **text);

#endif
