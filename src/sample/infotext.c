/* infotext.c — AUTOMATIC1111's parameters text (see infotext.h). Sources read (facts, no code
 * copied): stable-diffusion-webui modules/processing.py create_infotext, infotext_utils.quote. */
#include "sample/infotext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2 + 64;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A1111's quote(): as is, or json.dumps(text, ensure_ascii=False) when it holds , : or newline */
static void value(buf *b, const char *v)
{
    if (!strpbrk(v, ",:\n")) {
        puts_(b, v);
        return;
    }
    puts_(b, "\"");
    for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
        switch (*s) {
        case '"': puts_(b, "\\\""); break;
        case '\\': puts_(b, "\\\\"); break;
        case '\n': puts_(b, "\\n"); break;
        case '\r': puts_(b, "\\r"); break;
        case '\t': puts_(b, "\\t"); break;
        case '\b': puts_(b, "\\b"); break;
        case '\f': puts_(b, "\\f"); break;
        default:
            if (*s < 0x20)
                printf_(b, "\\u%04x", *s);
            else
                put(b, (const char *)s, 1);
        }
    }
    puts_(b, "\"");
}

static void key(buf *b, int *first, const char *k)
{
    if (!*first)
        puts_(b, ", ");
    *first = 0;
    puts_(b, k);
    puts_(b, ": ");
}

char *vkti_infotext_format(const vkti_infotext *t)
{
    buf b = {0};
    int first = 1;
    char num[64];
    puts_(&b, t->prompt ? t->prompt : "");
    if (t->negative && t->negative[0]) {
        puts_(&b, "\nNegative prompt: ");
        puts_(&b, t->negative);
    }
    puts_(&b, "\n");
    key(&b, &first, "Steps");
    printf_(&b, "%d", t->steps);
    key(&b, &first, "Sampler");
    value(&b, t->sampler);
    key(&b, &first, "CFG scale");
    printf_(&b, "%.10g", t->cfg);
    key(&b, &first, "Seed");
    printf_(&b, "%llu", (unsigned long long)t->seed);
    key(&b, &first, "Size");
    printf_(&b, "%dx%d", t->width, t->height);
    if (t->model_hash) {
        key(&b, &first, "Model hash");
        value(&b, t->model_hash);
    }
    if (t->model) {
        key(&b, &first, "Model");
        value(&b, t->model);
    }
    if (t->eta != 0) {
        key(&b, &first, "Eta DDIM");
        snprintf(num, sizeof num, "%.10g", t->eta);
        puts_(&b, num);
    }
    if (t->batch_size > 1) {
        key(&b, &first, "Batch size");
        printf_(&b, "%d", t->batch_size);
        key(&b, &first, "Batch pos");
        printf_(&b, "%d", t->batch_pos);
    }
    if (t->ti_hashes) {
        key(&b, &first, "TI hashes");
        value(&b, t->ti_hashes);
    }
    if (t->version) {
        key(&b, &first, "Version");
        value(&b, t->version);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    /* A1111 strips the whole text */
    size_t start = 0, end = b.n;
    while (start < end && strchr(" \t\n\r\v\f", b.p[start]))
        start++;
    while (end > start && strchr(" \t\n\r\v\f", b.p[end - 1]))
        end--;
    memmove(b.p, b.p + start, end - start);
    b.p[end - start] = 0;
    return b.p;
}
