/* str.c — heap copies of strings; see str.h. */
#include "base/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *vkti_str_dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *vkti_str_dup(const char *s)
{
    return vkti_str_dup_n(s, strlen(s));
}

char *vkti_str_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

char *vkti_str_numbered(const char *path, int n)
{
    size_t len = strlen(path);
    if (n <= 0 || len < 4)
        return vkti_str_dup(path);
    return vkti_str_fmt("%.*s-%d%s", (int)(len - 4), path, n, path + len - 4);
}
