/* sha256.h — SHA-256 (FIPS 180-4), for the file hashes other Stable Diffusion tools print and match
 * on: AUTOMATIC1111's model hash (sha256 of 64 KiB at 1 MiB into the checkpoint, 8 hex digits) and
 * its embedding hashes (sha256 of the whole file, 12 hex digits). */
#ifndef VKTI_BASE_SHA256_H
#define VKTI_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct vkti_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t used;
} vkti_sha256;

void vkti_sha256_init(vkti_sha256 *s);
void vkti_sha256_update(vkti_sha256 *s, const void *data, size_t size);
void vkti_sha256_final(vkti_sha256 *s, uint8_t digest[32]);
/* digest of data as 64 lowercase hex digits + NUL */
void vkti_sha256_hex(const void *data, size_t size, char hex[65]);

#endif
