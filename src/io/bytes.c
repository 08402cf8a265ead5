/* bytes.c — where UTF-8 goes bad, CRC-32, quoting of untrusted names (see bytes.h). */
#include "io/bytes.h"
#include "io/unicode.h"

#include <stdio.h>
#include <string.h>

size_t vkti_utf8_check(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = s[i] < 0x80 ? 1 : vkti_utf8_decode(s + i, n - i, &cp);
        if (!len)
            return i;
        i += len;
    }
    return n;
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
        uint32_t cp;
        size_t seq = s[i] >= 0x80 ? vkti_utf8_decode(s + i, n - i, &cp) : 1;
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
