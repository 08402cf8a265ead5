/* bytes.h — byte-level helpers shared by the file readers (safetensors, zip, pickle): little-endian
 * loads, where UTF-8 goes bad, CRC-32, checked arithmetic, and quoting of untrusted names for
 * messages (so a hostile name cannot inject control characters into a log line). UTF-8 decoding,
 * encoding and validation themselves are unicode.h's. */
#ifndef VKTI_IO_BYTES_H
#define VKTI_IO_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t vkti_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t vkti_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t vkti_le64(const uint8_t *p) { return vkti_le32(p) | ((uint64_t)vkti_le32(p + 4) << 32); }
static inline void vkti_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void vkti_put_le32(uint8_t *p, uint32_t v)
{
    vkti_put_le16(p, (uint16_t)v);
    vkti_put_le16(p + 2, (uint16_t)(v >> 16));
}
static inline void vkti_put_le64(uint8_t *p, uint64_t v)
{
    vkti_put_le32(p, (uint32_t)v);
    vkti_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* a * b and a + b on uint64, returning 0 (and leaving *out alone) on overflow. */
static inline int vkti_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}
static inline int vkti_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a)
        return 0;
    *out = a + b;
    return 1;
}

/* The offset of the first byte of s[0..n) that does not start well-formed UTF-8 (as
 * vkti_utf8_decode of unicode.h judges it), or n if all of it is well-formed. */
size_t vkti_utf8_check(const uint8_t *s, size_t n);

/* CRC-32 (the zip/zlib polynomial) of data, continuing from crc (start with 0). */
uint32_t vkti_crc32(uint32_t crc, const void *data, size_t n);

/* Writes s[0..n) to buf as a quoted string for a message: printable ASCII and valid UTF-8 as is,
 * quotes, backslashes and control bytes escaped (\n, \x00...), cut with "..." past max_chars.
 * Returns buf. */
char *vkti_quote(char *buf, size_t cap, const void *s, size_t n);
/* The same without the enclosing quotes (for names known to be plain, such as module.name). */
char *vkti_quote_bare(char *buf, size_t cap, const void *s, size_t n);
#define VKTI_QUOTE_MAX 200 /* a buffer this size holds any quoted name vkti_quote writes */

#endif
