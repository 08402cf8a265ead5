/* gzip.c — gzip framing (RFC 1952): header fields, deflate body through stb_image's zlib decoder
 * (stbi_zlib_decode_noheader_buffer, into a buffer sized from the trailer's length so a hostile
 * file cannot make it grow without bound), CRC-32 and length check. */
#include "io/gzip.h"

#include <stdlib.h>
#include <string.h>
#include <stb_image.h>

#include "io/bytes.h"

enum { GZ_FTEXT = 1, GZ_FHCRC = 2, GZ_FEXTRA = 4, GZ_FNAME = 8, GZ_FCOMMENT = 16 };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Skips a NUL-terminated header field; returns the position after it, or 0 when it runs off. */
static size_t skip_cstring(const uint8_t *data, size_t pos, size_t end)
{
    while (pos < end && data[pos] != 0)
        pos++;
    return pos < end ? pos + 1 : 0;
}

int vkti_gunzip(vkti_diag *d, const char *name, const uint8_t *data, size_t size, size_t max_out,
                uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    if (size < 18)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %zu bytes is too short for a gzip file (truncated?)", name, size);
    if (data[0] != 0x1F || data[1] != 0x8B)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: not a gzip file (it does not start with 1f 8b)", name);
    if (data[2] != 8)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: gzip compression method %u is not deflate (8)", name, data[2]);
    unsigned flags = data[3];
    if (flags & 0xE0u)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: reserved gzip header flags are set (0x%02x)", name, flags);
    size_t end = size - 8; /* the trailer: CRC-32, then the length mod 2^32 */
    size_t pos = 10;
    if (flags & GZ_FEXTRA) {
        size_t xlen = (size_t)data[pos] | ((size_t)data[pos + 1] << 8);
        if (xlen > end - pos - 2)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the gzip extra field runs past the end of the file", name);
        pos += 2 + xlen;
    }
    if ((flags & GZ_FNAME) && !(pos = skip_cstring(data, pos, end)))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the gzip file name field is not terminated", name);
    if ((flags & GZ_FCOMMENT) && !(pos = skip_cstring(data, pos, end)))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the gzip comment field is not terminated", name);
    if (flags & GZ_FHCRC) {
        if (end - pos < 2)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the gzip header CRC runs past the end of the file", name);
        pos += 2;
    }
    if (pos >= end)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: no compressed data after the gzip header (truncated?)", name);
    uint32_t want_crc = le32(data + end), want_len = le32(data + end + 4);
    if (want_len > max_out)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: gzip says it holds %u bytes, more than the %zu allowed",
                         name, want_len, max_out);
    if (end - pos > (size_t)INT32_MAX)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: compressed data too large", name);
    uint8_t *buf = malloc((size_t)want_len + 1);
    if (!buf)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory inflating %u bytes", name, want_len);
    int got = stbi_zlib_decode_noheader_buffer((char *)buf, (int)want_len, (const char *)data + pos,
                                               (int)(end - pos));
    if (got < 0 || (uint32_t)got != want_len) {
        free(buf);
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: the deflate data is corrupt or does not match the %u bytes the gzip trailer names "
                         "(truncated or damaged file; download it again)", name, want_len);
    }
    if (vkti_crc32(0, buf, want_len) != want_crc) {
        free(buf);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: CRC-32 mismatch (damaged file; download it again)", name);
    }
    buf[want_len] = 0;
    *out = buf;
    *out_size = want_len;
    return VKTI_OK;
}
