/* gzip.h — decompression of a gzip file held in memory (RFC 1952 framing parsed here, the deflate
 * stream inflated by stb_image's zlib decoder), with the CRC-32 and length of the trailer checked. */
#ifndef VKTI_IO_GZIP_H
#define VKTI_IO_GZIP_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

/* Inflates the single-member gzip data[0..size) into a new buffer (*out, plus a NUL not counted in
 * *out_size; free with free()). Refuses output larger than max_out bytes. name is for messages. */
int vkti_gunzip(vkti_diag *d, const char *name, const uint8_t *data, size_t size, size_t max_out,
                uint8_t **out, size_t *out_size);

#endif
