/* zip_write.h — a zip archive writer in memory, laid out as PyTorch's writer (miniz, through
 * caffe2/serialize/inline_container.cc) lays out a torch.save archive: entries stored
 * uncompressed, each one's data starting at a multiple of VKTI_ZIPW_ALIGN bytes thanks to a
 * padding extra field "FB" (id 0x4246) in its local header; then the central directory (no extra
 * fields) and the end record. Times and dates are zero; names must be relative, '/'-separated
 * UTF-8 without ".." (what zip.h reads back). Archives are limited to what zip without zip64
 * describes (4 GiB, 65535 entries): enough for embeddings and small checkpoints. */
#ifndef VKTI_IO_ZIP_WRITE_H
#define VKTI_IO_ZIP_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

#define VKTI_ZIPW_ALIGN 64 /* PyTorch's kFieldAlignment */

typedef struct vkti_zipw_entry {
    char *name;
    uint32_t crc;
    uint32_t size;
    uint32_t offset; /* of the local header */
} vkti_zipw_entry;

typedef struct vkti_zipw {
    uint8_t *buf;
    size_t len, cap;
    vkti_zipw_entry *entries;
    size_t count, entry_cap;
} vkti_zipw;

void vkti_zipw_init(vkti_zipw *z);
void vkti_zipw_free(vkti_zipw *z);
/* Appends a stored entry holding data[0..size). */
int vkti_zipw_add(vkti_diag *d, vkti_zipw *z, const char *name, const void *data, size_t size);
/* Writes the central directory and end record and hands the archive over (*out: free() it);
 * z is freed either way. */
int vkti_zipw_finish(vkti_diag *d, vkti_zipw *z, uint8_t **out, size_t *size);

#endif
