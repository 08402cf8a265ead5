/* unicode.c — UTF-8 decoding and encoding, canonical combining classes, full lower-casing and NFC
 * (Unicode Standard chapter 3.11: canonical decomposition, canonical ordering, canonical
 * composition; Hangul by the algorithm of chapter 3.12) over the generated tables. */
#include "io/unicode.h"

enum {
    S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7,
    L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT, S_COUNT = L_COUNT * N_COUNT
};

size_t vkti_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2, c = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, c = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, c = b0 & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

size_t vkti_utf8_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

int vkti_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = vkti_utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

int vkti_uni_ccc_of(uint32_t cp)
{
    if (!(vkti_uni_props(cp) & VKTI_UNI_FLAG_NFC))
        return 0; /* every character with a class != 0 carries the NFC flag */
    size_t lo = 0, hi = vkti_uni_ccc_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t c = vkti_uni_ccc[mid] >> 8;
        if (c == cp)
            return (int)(vkti_uni_ccc[mid] & 0xFFu);
        if (c < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int vkti_uni_to_lower(uint32_t cp, uint32_t out[2])
{
    if (vkti_uni_props(cp) & VKTI_UNI_FLAG_LOWER) {
        size_t lo = 0, hi = vkti_uni_lower_count;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const vkti_uni_lower_row *r = &vkti_uni_lower[mid];
            if (r->cp == cp) {
                out[0] = r->lo0;
                if (r->lo1) {
                    out[1] = r->lo1;
                    return 2;
                }
                return 1;
            }
            if (r->cp < cp)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    out[0] = cp;
    return 1;
}

/* Appends the full canonical decomposition of cp to out; returns how many code points. */
static size_t decompose(uint32_t cp, uint32_t *out)
{
    if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
        uint32_t s = cp - S_BASE;
        out[0] = L_BASE + s / N_COUNT;
        out[1] = V_BASE + (s % N_COUNT) / T_COUNT;
        if (s % T_COUNT == 0)
            return 2;
        out[2] = T_BASE + s % T_COUNT;
        return 3;
    }
    if (vkti_uni_props(cp) & VKTI_UNI_FLAG_DECOMP) {
        size_t lo = 0, hi = vkti_uni_decomp_count;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const vkti_uni_decomp_row *r = &vkti_uni_decomp[mid];
            if (r->cp == cp) {
                for (size_t i = 0; i < r->len; i++)
                    out[i] = vkti_uni_decomp_pool[r->offset + i];
                return r->len;
            }
            if (r->cp < cp)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    out[0] = cp;
    return 1;
}

/* The primary composite of (a, b), or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 && b > T_BASE &&
        b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    size_t lo = 0, hi = vkti_uni_comp_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const vkti_uni_comp_row *r = &vkti_uni_comp[mid];
        if (r->first == a && r->second == b)
            return r->composite;
        if (r->first < a || (r->first == a && r->second < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int vkti_uni_nfc_quick(const uint32_t *cps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (vkti_uni_props(cps[i]) & VKTI_UNI_FLAG_NFC)
            return 0;
    return 1;
}

void vkti_uni_nfc(const uint32_t *cps, size_t n, uint32_t *work, size_t *out_n)
{
    /* 1. full canonical decomposition */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += decompose(cps[i], work + m);
    /* 2. canonical ordering: a stable sort by combining class inside each run of non-starters */
    for (size_t i = 1; i < m; i++) {
        int ci = vkti_uni_ccc_of(work[i]);
        if (ci == 0)
            continue;
        size_t j = i;
        uint32_t c = work[i];
        while (j > 0) {
            int cj = vkti_uni_ccc_of(work[j - 1]);
            if (cj == 0 || cj <= ci)
                break;
            work[j] = work[j - 1];
            j--;
        }
        work[j] = c;
    }
    /* 3. canonical composition */
    if (m == 0) {
        *out_n = 0;
        return;
    }
    size_t starter = 0, out = 1;
    int last_class = vkti_uni_ccc_of(work[0]) ? 256 : 0;
    if (last_class)
        starter = SIZE_MAX; /* no starter yet: nothing can compose */
    for (size_t i = 1; i < m; i++) {
        uint32_t c = work[i];
        int cls = vkti_uni_ccc_of(c);
        uint32_t comp = 0;
        if (starter != SIZE_MAX && (last_class < cls || last_class == 0))
            comp = compose_pair(work[starter], c);
        if (comp) {
            work[starter] = comp;
            continue;
        }
        if (cls == 0)
            starter = out;
        last_class = cls;
        work[out++] = c;
    }
    *out_n = out;
}
