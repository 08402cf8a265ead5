/* str.h — heap copies of strings (C11 has no strdup): whole, the first n bytes, printf-formatted, or
 * a file name numbered. Each returns NULL when memory runs out; the caller frees the result. */
#ifndef VKTI_BASE_STR_H
#define VKTI_BASE_STR_H

#include <stddef.h>

#include "base/diag.h"

char *vkti_str_dup(const char *s);
char *vkti_str_dup_n(const char *s, size_t n); /* n bytes of s, then a terminating zero */
char *vkti_str_fmt(const char *fmt, ...) VKTI_PRINTF(1, 2);
/* path with "-n" before its 4-character extension ("out.png", 3 -> "out-3.png"); n <= 0: a copy.
 * For the numbered files of a batch or of pages. */
char *vkti_str_numbered(const char *path, int n);

#endif
