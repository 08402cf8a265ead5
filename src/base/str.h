/* str.h — heap copies of strings (C11 has no strdup): whole, the first n bytes, or printf-formatted.
 * Each returns NULL when memory runs out; the caller frees the result. */
#ifndef VKTI_BASE_STR_H
#define VKTI_BASE_STR_H

#include <stddef.h>

#include "base/diag.h"

char *vkti_str_dup(const char *s);
char *vkti_str_dup_n(const char *s, size_t n); /* n bytes of s, then a terminating zero */
char *vkti_str_fmt(const char *fmt, ...) VKTI_PRINTF(1, 2);

#endif
