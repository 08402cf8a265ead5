/* png_write.c — PNG files out: stb_image_write's encoder, text chunks (tEXt / iTXt, e.g.
 * AUTOMATIC1111's "parameters") inserted right after IHDR with their CRC-32, atomic writes; and
 * reading a text chunk back. See image.h. */
#include "io/image.h"

#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

#include "base/platform.h"
#include "io/bytes.h"
#include "io/unicode.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n < 1 || n > 79 || key[0] == ' ' || key[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 32 || key[i] > 126 || (key[i] == ' ' && key[i + 1] == ' '))
            return 0;
    return 1;
}

typedef struct png_buf {
    uint8_t *data;
    size_t size;
    int failed;
} png_buf;

static void collect(void *context, void *data, int size)
{
    png_buf *b = context;
    if (b->failed || size <= 0)
        return;
    uint8_t *p = realloc(b->data, b->size + (size_t)size);
    if (!p) {
        b->failed = 1;
        return;
    }
    memcpy(p + b->size, data, (size_t)size);
    b->data = p;
    b->size += (size_t)size;
}

int vkti_png_encode(vkti_diag *d, uint8_t **png, size_t *size, const uint8_t *pixels, int w, int h, int channels,
                    const vkti_png_text *texts, int text_count)
{
    *png = NULL;
    *size = 0;
    if (w <= 0 || h <= 0 || w > VKTI_IMAGE_MAX_SIDE || h > VKTI_IMAGE_MAX_SIDE || channels < 1 || channels > 4)
        return vkti_fail(d, VKTI_E_INVALID, "cannot write a PNG of %dx%d with %d channels", w, h, channels);
    /* the chunks first: they are checked before anything is encoded */
    size_t extra = 0;
    for (int i = 0; i < text_count; i++) {
        if (!texts[i].key || !key_ok(texts[i].key))
            return vkti_fail(d, VKTI_E_INVALID, "PNG text key '%s' must be 1 to 79 printable ASCII characters "
                             "without leading, trailing or double spaces", texts[i].key ? texts[i].key : "(null)");
        size_t n = strlen(texts[i].text);
        if (n > VKTI_PNG_TEXT_MAX_BYTES)
            return vkti_fail(d, VKTI_E_INVALID, "PNG text '%s' is %zu bytes; at most %zu are written", texts[i].key,
                             n, VKTI_PNG_TEXT_MAX_BYTES);
        if (!vkti_utf8_valid((const uint8_t *)texts[i].text, n))
            return vkti_fail(d, VKTI_E_INVALID, "PNG text '%s' is not valid UTF-8", texts[i].key);
        extra += 12 + strlen(texts[i].key) + 1 + 4 + n; /* iTXt's 4 extra bytes at most */
    }
    png_buf b = {0};
    int ok = stbi_write_png_to_func(collect, &b, w, h, channels, pixels, w * channels);
    if (!ok || b.failed || b.size < 33 || memcmp(b.data + 12, "IHDR", 4) != 0 || get_be32(b.data + 8) != 13) {
        free(b.data);
        return vkti_fail(d, VKTI_E_OOM, "encoding a %dx%d PNG failed (out of memory?)", w, h);
    }
    uint8_t *out = malloc(b.size + extra);
    if (!out) {
        free(b.data);
        return vkti_fail(d, VKTI_E_OOM, "out of memory for a %zu-byte PNG", b.size + extra);
    }
    size_t at = 33; /* signature (8) + IHDR (4 + 4 + 13 + 4) */
    memcpy(out, b.data, at);
    for (int i = 0; i < text_count; i++) {
        const char *key = texts[i].key, *text = texts[i].text;
        size_t kn = strlen(key), tn = strlen(text);
        int ascii = 1;
        for (size_t k = 0; k < tn; k++)
            if ((uint8_t)text[k] >= 0x80)
                ascii = 0;
        /* tEXt: key \0 text (Latin-1); iTXt: key \0 flag method language \0 translated \0 text (UTF-8) */
        size_t len = kn + 1 + (ascii ? 0 : 4) + tn;
        uint8_t *c = out + at;
        put_be32(c, (uint32_t)len);
        memcpy(c + 4, ascii ? "tEXt" : "iTXt", 4);
        uint8_t *p = c + 8;
        memcpy(p, key, kn + 1);
        p += kn + 1;
        if (!ascii) {
            memcpy(p, "\0\0\0\0", 4); /* uncompressed, no language, no translated key */
            p += 4;
        }
        memcpy(p, text, tn);
        put_be32(c + 8 + len, vkti_crc32(0, c + 4, len + 4));
        at += 12 + len;
    }
    memcpy(out + at, b.data + 33, b.size - 33);
    at += b.size - 33;
    free(b.data);
    *png = out;
    *size = at;
    return VKTI_OK;
}

int vkti_png_write(vkti_diag *d, const char *path, const uint8_t *pixels, int w, int h, int channels,
                   const vkti_png_text *texts, int text_count)
{
    uint8_t *png = NULL;
    size_t size = 0;
    int rc = vkti_png_encode(d, &png, &size, pixels, w, h, channels, texts, text_count);
    if (rc)
        return vkti_fail_wrap(d, rc, "%s", path);
    rc = vkti_file_write_atomic(d, path, png, size);
    free(png);
    return rc;
}

/* appends Latin-1 bytes as UTF-8 */
static size_t latin1_to_utf8(char *out, const uint8_t *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            out[o++] = (char)s[i];
        } else {
            out[o++] = (char)(0xc0 | (s[i] >> 6));
            out[o++] = (char)(0x80 | (s[i] & 0x3f));
        }
    }
    return o;
}

int vkti_png_read_text(vkti_diag *d, const uint8_t *png, size_t size, const char *key, char **text)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *text = NULL;
    if (size < 8 || memcmp(png, sig, 8) != 0)
        return vkti_fail(d, VKTI_E_FORMAT, "not a PNG file");
    size_t kn = strlen(key);
    for (size_t i = 8;;) {
        if (size - i < 12)
            return vkti_fail(d, VKTI_E_FORMAT, "truncated PNG (no IEND chunk)");
        size_t len = get_be32(png + i);
        if (len > size - i - 12)
            return vkti_fail(d, VKTI_E_FORMAT, "truncated PNG (a chunk runs past the end)");
        const uint8_t *type = png + i + 4, *data = png + i + 8;
        if (vkti_crc32(0, type, len + 4) != get_be32(data + len))
            return vkti_fail(d, VKTI_E_FORMAT, "corrupt PNG (%.4s chunk CRC mismatch)", (const char *)type);
        if (memcmp(type, "IEND", 4) == 0)
            break;
        int is_text = memcmp(type, "tEXt", 4) == 0, is_itxt = memcmp(type, "iTXt", 4) == 0;
        if ((is_text || is_itxt) && len > kn && memcmp(data, key, kn) == 0 && data[kn] == 0) {
            const uint8_t *v = data + kn + 1, *end = data + len;
            if (is_itxt) { /* flag, method, language \0, translated keyword \0 */
                if (end - v < 2 || v[0] != 0)
                    return vkti_fail(d, VKTI_E_FORMAT, "PNG iTXt '%s' is compressed, which is not read", key);
                v += 2;
                for (int z = 0; z < 2; z++) {
                    const uint8_t *nul = memchr(v, 0, (size_t)(end - v));
                    if (!nul)
                        return vkti_fail(d, VKTI_E_FORMAT, "corrupt PNG iTXt chunk '%s'", key);
                    v = nul + 1;
                }
            }
            size_t n = (size_t)(end - v);
            char *s = malloc(n * 2 + 1);
            if (!s)
                return vkti_fail(d, VKTI_E_OOM, "out of memory");
            size_t o = n;
            if (is_itxt)
                memcpy(s, v, n);
            else
                o = latin1_to_utf8(s, v, n);
            s[o] = 0;
            *text = s;
            return VKTI_OK;
        }
        i += 12 + len;
    }
    return vkti_fail(d, VKTI_E_FORMAT, "the PNG has no text chunk '%s'", key);
}
