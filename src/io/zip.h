/* zip.h — a zip archive reader over bytes in memory (a mapped file), for PyTorch checkpoints.
 * Read from the central directory, with every offset and size checked against the file: the end
 * record (zip64 when present, as PyTorch writes for archives past 4 GiB), each central entry, its
 * local header (which must agree on name and method), and the data range. Refused: encrypted
 * entries, methods other than stored (0) and deflate (8), stored entries whose sizes differ,
 * entries overlapping each other or the central directory, names that are empty, absolute, hold
 * "..", a backslash, control characters or bad UTF-8, and names given twice. Stored entries are
 * read in place; deflated ones are inflated (stb_image's zlib decoder) under a size cap. */
#ifndef VKTI_IO_ZIP_H
#define VKTI_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

#define VKTI_ZIP_MAX_ENTRIES (1u << 20)
#define VKTI_ZIP_MAX_NAME 4096
#define VKTI_ZIP_MAX_INFLATE (1u << 30) /* one deflated entry inflates to at most 1 GiB */

typedef struct vkti_zip_entry {
    const char *name;       /* NUL-terminated (names with NUL bytes are refused) */
    uint64_t header_offset; /* the local header */
    uint64_t data_offset;   /* the (compressed) data */
    uint64_t csize, usize;  /* compressed and uncompressed sizes */
    uint32_t crc;
    int method;             /* 0 stored, 8 deflate */
} vkti_zip_entry;

typedef struct vkti_zip {
    const char *what;          /* for messages (the file name); not owned */
    const uint8_t *data;
    size_t size;
    vkti_zip_entry *entries;   /* count, in central-directory order */
    size_t count;
    uint32_t *by_name_;        /* entry indices sorted by name */
    char *names_;
} vkti_zip;

/* Parses and checks the archive; on failure *z is empty (closing it is harmless). */
int vkti_zip_open(vkti_diag *d, vkti_zip *z, const char *what, const uint8_t *data, size_t size);
void vkti_zip_close(vkti_zip *z);
/* The entry called name, or NULL; its index through *index if given. */
const vkti_zip_entry *vkti_zip_find(const vkti_zip *z, const char *name, size_t *index);
/* An entry's bytes: a stored one's in place (*owned = NULL); a deflated one inflated into a new
 * buffer (*owned, free() it) after checking its size against max_bytes (<= VKTI_ZIP_MAX_INFLATE)
 * and deflate's largest possible ratio, and its CRC-32. check_crc also checks a stored entry's
 * CRC (which reads all of it). */
int vkti_zip_read(vkti_diag *d, const vkti_zip *z, const vkti_zip_entry *e, uint64_t max_bytes, int check_crc,
                  const uint8_t **data, uint8_t **owned);

#endif
