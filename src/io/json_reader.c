/* json_reader.c — strict JSON pull reader (see json_reader.h). */
#include "io/json_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io/unicode.h"

static int fail(vkti_jr *j, const char *fmt, ...)
{
    if (!j->error[0]) {
        char what[120];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        snprintf(j->error, sizeof j->error, "%s at byte %zu", what, (size_t)(j->p - j->start));
    }
    return -1;
}

void vkti_jr_init(vkti_jr *j, const uint8_t *data, size_t size, char *pool, size_t pool_cap)
{
    memset(j, 0, sizeof *j);
    j->start = j->p = data;
    j->end = data + size;
    j->pool = pool;
    j->pool_cap = pool_cap;
}

static void skip_ws(vkti_jr *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

int vkti_jr_peek(vkti_jr *j)
{
    skip_ws(j);
    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{': case '[': case '"': case 'n': case 't': case 'f': return *j->p;
    default: return (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) ? '0' : 0;
    }
}

static int expect(vkti_jr *j, char c, const char *what)
{
    skip_ws(j);
    if (j->p >= j->end)
        return fail(j, "unexpected end of text, expected %s", what);
    if (*j->p != (uint8_t)c)
        return fail(j, "expected %s", what);
    j->p++;
    return 0;
}

static int hex4(vkti_jr *j, uint32_t *out)
{
    if (j->end - j->p < 4)
        return fail(j, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = j->p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return fail(j, "bad \\u escape");
        v = v * 16 + d;
    }
    j->p += 4;
    *out = v;
    return 0;
}

/* Reads a string; if out is given, decodes it into the pool. */
static int read_string(vkti_jr *j, const char **out, size_t *len)
{
    if (expect(j, '"', "a string") < 0)
        return -1;
    char *dst = NULL;
    size_t n = 0;
    if (out) {
        dst = j->pool + j->pool_used;
        if (!j->pool || j->pool_used >= j->pool_cap)
            return fail(j, "string pool exhausted");
    }
    const size_t room = out ? j->pool_cap - j->pool_used - 1 : 0;
#define PUT(byte)                                              \
    do {                                                       \
        if (dst) {                                             \
            if (n >= room)                                     \
                return fail(j, "string pool exhausted");       \
            dst[n] = (char)(byte);                             \
        }                                                      \
        n++;                                                   \
    } while (0)
    for (;;) {
        if (j->p >= j->end)
            return fail(j, "unterminated string");
        uint8_t c = *j->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(j, "raw control character 0x%02x in a string", c);
        if (c != '\\') {
            PUT(c);
            continue;
        }
        if (j->p >= j->end)
            return fail(j, "unterminated string");
        c = *j->p++;
        switch (c) {
        case '"': PUT('"'); break;
        case '\\': PUT('\\'); break;
        case '/': PUT('/'); break;
        case 'b': PUT('\b'); break;
        case 'f': PUT('\f'); break;
        case 'n': PUT('\n'); break;
        case 'r': PUT('\r'); break;
        case 't': PUT('\t'); break;
        case 'u': {
            uint32_t cp = 0;
            if (hex4(j, &cp) < 0)
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail(j, "lone trailing surrogate \\u%04x", cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t lo = 0;
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return fail(j, "lone leading surrogate \\u%04x", cp);
                j->p += 2;
                if (hex4(j, &lo) < 0)
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return fail(j, "lone leading surrogate \\u%04x", cp);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            uint8_t u[4];
            size_t ul = vkti_utf8_encode(cp, u);
            for (size_t i = 0; i < ul; i++)
                PUT(u[i]);
            break;
        }
        default:
            return fail(j, "bad escape \\%c", c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
#undef PUT
    if (out) {
        dst[n] = 0;
        j->pool_used += n + 1;
        *out = dst;
    }
    if (len)
        *len = n;
    return 0;
}

int vkti_jr_string(vkti_jr *j, const char **s, size_t *len) { return read_string(j, s, len); }

static int push(vkti_jr *j)
{
    if (j->depth >= VKTI_JR_MAX_DEPTH)
        return fail(j, "nested deeper than %d levels", VKTI_JR_MAX_DEPTH);
    j->depth++;
    j->first[j->depth] = 1;
    return 0;
}

int vkti_jr_object_begin(vkti_jr *j)
{
    if (expect(j, '{', "an object") < 0)
        return -1;
    return push(j);
}

int vkti_jr_array_begin(vkti_jr *j)
{
    if (expect(j, '[', "an array") < 0)
        return -1;
    return push(j);
}

/* After an item: ',' (1: another follows) or the closing character (0). */
static int next_item(vkti_jr *j, char close)
{
    skip_ws(j);
    if (j->p >= j->end)
        return fail(j, "unexpected end of text, expected '%c'", close);
    if (j->first[j->depth]) {
        j->first[j->depth] = 0;
        if (*j->p == (uint8_t)close) {
            j->p++;
            j->depth--;
            return 0;
        }
        return 1;
    }
    if (*j->p == (uint8_t)close) {
        j->p++;
        j->depth--;
        return 0;
    }
    if (*j->p != ',')
        return fail(j, "expected ',' or '%c'", close);
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == (uint8_t)close)
        return fail(j, "trailing comma");
    return 1;
}

int vkti_jr_object_next(vkti_jr *j, const char **key, size_t *len)
{
    int r = next_item(j, '}');
    if (r <= 0)
        return r;
    if (read_string(j, key, len) < 0)
        return -1;
    if (expect(j, ':', "':' after a key") < 0)
        return -1;
    return 1;
}

int vkti_jr_array_next(vkti_jr *j) { return next_item(j, ']'); }

static int is_digit(const vkti_jr *j) { return j->p < j->end && *j->p >= '0' && *j->p <= '9'; }

/* Checks a number against the JSON grammar; *integer says whether it had no fraction/exponent. */
static int scan_number(vkti_jr *j, int *negative, int *integer)
{
    skip_ws(j);
    *negative = 0;
    *integer = 1;
    if (j->p < j->end && *j->p == '-') {
        *negative = 1;
        j->p++;
    }
    if (!is_digit(j))
        return fail(j, "expected a number");
    if (*j->p == '0') {
        j->p++;
        if (is_digit(j))
            return fail(j, "number with a leading zero");
    } else {
        while (is_digit(j))
            j->p++;
    }
    if (j->p < j->end && *j->p == '.') {
        *integer = 0;
        j->p++;
        if (!is_digit(j))
            return fail(j, "expected digits after '.'");
        while (is_digit(j))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        *integer = 0;
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!is_digit(j))
            return fail(j, "expected digits in an exponent");
        while (is_digit(j))
            j->p++;
    }
    return 0;
}

int vkti_jr_uint(vkti_jr *j, uint64_t *v)
{
    if (vkti_jr_peek(j) != '0')
        return fail(j, "expected a non-negative integer");
    const uint8_t *start = j->p;
    int negative, integer;
    if (scan_number(j, &negative, &integer) < 0)
        return -1;
    if (negative) {
        j->p = start;
        return fail(j, "negative number where a size is expected");
    }
    if (!integer) {
        j->p = start;
        return fail(j, "number with a fraction or exponent where an integer is expected");
    }
    uint64_t x = 0;
    for (const uint8_t *q = start; q < j->p; q++) {
        uint64_t d = (uint64_t)(*q - '0');
        if (x > (UINT64_MAX - d) / 10) {
            j->p = start;
            return fail(j, "integer larger than 2^64-1");
        }
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

static int literal(vkti_jr *j, const char *word)
{
    size_t n = strlen(word);
    skip_ws(j);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return fail(j, "unexpected character");
    j->p += n;
    return 0;
}

int vkti_jr_null(vkti_jr *j)
{
    if (vkti_jr_peek(j) != 'n')
        return 0;
    return literal(j, "null") < 0 ? -1 : 1;
}

int vkti_jr_skip(vkti_jr *j)
{
    int negative, integer, r;
    switch (vkti_jr_peek(j)) {
    case '{':
        if (vkti_jr_object_begin(j) < 0)
            return -1;
        while ((r = vkti_jr_object_next(j, NULL, NULL)) == 1)
            if (vkti_jr_skip(j) < 0)
                return -1;
        return r;
    case '[':
        if (vkti_jr_array_begin(j) < 0)
            return -1;
        while ((r = vkti_jr_array_next(j)) == 1)
            if (vkti_jr_skip(j) < 0)
                return -1;
        return r;
    case '"': return read_string(j, NULL, NULL);
    case 'n': return literal(j, "null");
    case 't': return literal(j, "true");
    case 'f': return literal(j, "false");
    case '0': return scan_number(j, &negative, &integer);
    default:
        return j->p >= j->end ? fail(j, "unexpected end of text") : fail(j, "unexpected character");
    }
}

int vkti_jr_finish(vkti_jr *j)
{
    skip_ws(j);
    if (j->p != j->end)
        return fail(j, "unexpected text after the end of the JSON value");
    return 0;
}
