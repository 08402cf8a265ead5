/* json_reader.h — a strict pull reader for JSON held in memory, for headers of untrusted files
 * (safetensors). Unlike cJSON it reads integers exactly (up to 2^64-1, never through a double),
 * follows RFC 8259 to the letter as serde_json does (no "01", "+1", "1.", raw control characters,
 * lone surrogates), reports where a problem is, bounds nesting, and allocates nothing: decoded
 * strings go into a pool the caller provides (input size + 1 bytes always suffice). The input must
 * already be valid UTF-8 (the caller checks the whole text first). */
#ifndef VKTI_IO_JSON_READER_H
#define VKTI_IO_JSON_READER_H

#include <stddef.h>
#include <stdint.h>

#define VKTI_JR_MAX_DEPTH 128 /* nesting limit (serde_json's default recursion limit) */

typedef struct vkti_jr {
    const uint8_t *start, *p, *end;
    char *pool;
    size_t pool_used, pool_cap;
    int depth;
    uint8_t first[VKTI_JR_MAX_DEPTH + 1]; /* per depth: no member/item read yet */
    char error[160];                      /* the first problem, with its byte offset */
} vkti_jr;

void vkti_jr_init(vkti_jr *j, const uint8_t *data, size_t size, char *pool, size_t pool_cap);
/* The kind of the next value: '{', '[', '"', 'n', 't', 'f', '0' (a number); 0 if none. */
int vkti_jr_peek(vkti_jr *j);
/* Each returns 0 (or 1, see below) on success and -1 on error, with j->error set. */
int vkti_jr_object_begin(vkti_jr *j);
/* The next member's key: 1 with *key NUL-terminated in the pool (*len may exceed strlen(*key)
 * when the key holds \u0000); 0 at the closing brace; -1 on error. The value follows. */
int vkti_jr_object_next(vkti_jr *j, const char **key, size_t *len);
int vkti_jr_array_begin(vkti_jr *j);
/* 1: an item follows; 0: the closing bracket was read; -1 on error. */
int vkti_jr_array_next(vkti_jr *j);
int vkti_jr_string(vkti_jr *j, const char **s, size_t *len);
/* A non-negative integer literal (no fraction, no exponent) that fits 64 bits. */
int vkti_jr_uint(vkti_jr *j, uint64_t *v);
/* Reads "null" if it is next: 1 if it was, 0 if something else is next. */
int vkti_jr_null(vkti_jr *j);
/* Skips any one value (checking it all the same). */
int vkti_jr_skip(vkti_jr *j);
/* Succeeds if only whitespace is left. */
int vkti_jr_finish(vkti_jr *j);

#endif
