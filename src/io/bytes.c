/* bytes.c — UTF-8 validation and encoding, CRC-32, quoting of untrusted names (see bytes.h). */
#include "io/bytes.h"

#include <stdio.h>
#include <string.h>

/* Length of the UTF-8 sequence at s[0..n), or 0 if it is not a valid one. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1fu, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0fu, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int vkti_utf8_valid(const uint8_t *s, size_t n, size_t *bad_at)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_seq(s + i, n - i);
        if (!len) {
            if (bad_at)
                *bad_at = i;
            return 0;
        }
        i += len;
    }
    return 1;
}

size_t vkti_utf8_encode(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

uint32_t vkti_crc32(uint32_t crc, const void *data, size_t n)
{
    /* the table is built per call (1 KiB, 2K operations): no global state, and the callers
     * check whole zip entries, so the build is noise next to the bytes it checks */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

char *vkti_quote(char *buf, size_t cap, const void *data, size_t n)
{
    const uint8_t *s = data;
    const size_t max_out = cap < VKTI_QUOTE_MAX ? cap : VKTI_QUOTE_MAX;
    size_t o = 0, i = 0;
    if (cap < 8) {
        if (cap)
            buf[0] = 0;
        return buf;
    }
    buf[o++] = '\'';
    while (i < n) {
        char tmp[8];
        size_t tl;
        size_t seq = s[i] >= 0x80 ? utf8_seq(s + i, n - i) : 1;
        if (s[i] == '\'' || s[i] == '\\') {
            tmp[0] = '\\', tmp[1] = (char)s[i], tl = 2;
        } else if (s[i] == '\n') {
            memcpy(tmp, "\\n", 2), tl = 2;
        } else if (s[i] < 0x20 || s[i] == 0x7f || (s[i] >= 0x80 && !seq)) {
            snprintf(tmp, sizeof tmp, "\\x%02x", s[i]), tl = 4, seq = 1;
        } else {
            memcpy(tmp, s + i, seq), tl = seq;
        }
        if (o + tl + 5 > max_out) { /* room for "...'" and the NUL */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, tmp, tl);
        o += tl;
        i += seq;
    }
    buf[o++] = '\'';
    buf[o] = 0;
    return buf;
}

char *vkti_quote_bare(char *buf, size_t cap, const void *s, size_t n)
{
    vkti_quote(buf, cap, s, n);
    size_t len = strlen(buf);
    if (len >= 2) {
        memmove(buf, buf + 1, len - 2);
        buf[len - 2] = 0;
    }
    return buf;
}
