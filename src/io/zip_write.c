/* zip_write.c — stored-entry zip archives with 64-byte-aligned data (see zip_write.h). */
#include "io/zip_write.h"

#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"

#define LOCAL_HEADER 30
#define CENTRAL_HEADER 46
#define END_RECORD 22
#define MAX_NAME 4096
#define MAX_ENTRIES 65535u
#define MAX_ARCHIVE 0xffffffffu

static int reserve(vkti_diag *d, vkti_zipw *z, size_t more)
{
    if (more > MAX_ARCHIVE || z->len + more > MAX_ARCHIVE)
        return vkti_fail(d, VKTI_E_INVALID, "zip writer: the archive would pass 4 GiB, which needs zip64 (not written)");
    if (z->len + more <= z->cap)
        return VKTI_OK;
    size_t cap = z->cap ? z->cap : 4096;
    while (cap < z->len + more)
        cap *= 2;
    uint8_t *b = realloc(z->buf, cap);
    if (!b)
        return vkti_fail(d, VKTI_E_OOM, "zip writer: out of memory");
    z->buf = b;
    z->cap = cap;
    return VKTI_OK;
}

static void put(vkti_zipw *z, const void *data, size_t n)
{
    if (n)
        memcpy(z->buf + z->len, data, n);
    z->len += n;
}

static void put16(vkti_zipw *z, uint32_t v)
{
    vkti_put_le16(z->buf + z->len, (uint16_t)v);
    z->len += 2;
}

static void put32(vkti_zipw *z, uint32_t v)
{
    vkti_put_le32(z->buf + z->len, v);
    z->len += 4;
}

void vkti_zipw_init(vkti_zipw *z) { memset(z, 0, sizeof *z); }

void vkti_zipw_free(vkti_zipw *z)
{
    for (size_t i = 0; i < z->count; i++)
        free(z->entries[i].name);
    free(z->entries);
    free(z->buf);
    memset(z, 0, sizeof *z);
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME || name[0] == '/' || strstr(name, "..") || strchr(name, '\\'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)name[i] < 0x20)
            return 0;
    return vkti_utf8_check((const uint8_t *)name, n) == n;
}

int vkti_zipw_add(vkti_diag *d, vkti_zipw *z, const char *name, const void *data, size_t size)
{
    if (!name_ok(name))
        return vkti_fail(d, VKTI_E_INVALID, "zip writer: bad entry name");
    if (z->count >= MAX_ENTRIES)
        return vkti_fail(d, VKTI_E_INVALID, "zip writer: more than %u entries", MAX_ENTRIES);
    if (z->count == z->entry_cap) {
        size_t cap = z->entry_cap ? 2 * z->entry_cap : 8;
        vkti_zipw_entry *e = realloc(z->entries, cap * sizeof *e);
        if (!e)
            return vkti_fail(d, VKTI_E_OOM, "zip writer: out of memory");
        z->entries = e;
        z->entry_cap = cap;
    }
    size_t nl = strlen(name);
    /* the data starts after the header, the name and the extra field's 4-byte head */
    size_t start = z->len + LOCAL_HEADER + nl + 4;
    size_t pad = (VKTI_ZIPW_ALIGN - start % VKTI_ZIPW_ALIGN) % VKTI_ZIPW_ALIGN;
    int rc = reserve(d, z, LOCAL_HEADER + nl + 4 + pad + size);
    if (rc)
        return rc;
    char *copy = malloc(nl + 1);
    if (!copy)
        return vkti_fail(d, VKTI_E_OOM, "zip writer: out of memory");
    memcpy(copy, name, nl + 1);
    vkti_zipw_entry *e = &z->entries[z->count++];
    e->name = copy;
    e->crc = vkti_crc32(0, data, size);
    e->size = (uint32_t)size;
    e->offset = (uint32_t)z->len;

    put32(z, 0x04034b50u);
    put16(z, 0);        /* version needed: stored */
    put16(z, 0);        /* flags */
    put16(z, 0);        /* method: stored */
    put16(z, 0);        /* time */
    put16(z, 0);        /* date */
    put32(z, e->crc);
    put32(z, e->size);  /* compressed */
    put32(z, e->size);  /* uncompressed */
    put16(z, (uint32_t)nl);
    put16(z, (uint32_t)(4 + pad));
    put(z, name, nl);
    put(z, "FB", 2);
    put16(z, (uint32_t)pad);
    memset(z->buf + z->len, 'Z', pad);
    z->len += pad;
    put(z, data, size);
    return VKTI_OK;
}

int vkti_zipw_finish(vkti_diag *d, vkti_zipw *z, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    size_t cd = 0;
    for (size_t i = 0; i < z->count; i++)
        cd += CENTRAL_HEADER + strlen(z->entries[i].name);
    int rc = reserve(d, z, cd + END_RECORD);
    if (rc) {
        vkti_zipw_free(z);
        return rc;
    }
    uint32_t cd_offset = (uint32_t)z->len;
    for (size_t i = 0; i < z->count; i++) {
        const vkti_zipw_entry *e = &z->entries[i];
        size_t nl = strlen(e->name);
        put32(z, 0x02014b50u);
        put16(z, 20);   /* made by: zip 2.0 */
        put16(z, 0);    /* version needed */
        put16(z, 0);    /* flags */
        put16(z, 0);    /* method */
        put16(z, 0);    /* time */
        put16(z, 0);    /* date */
        put32(z, e->crc);
        put32(z, e->size);
        put32(z, e->size);
        put16(z, (uint32_t)nl);
        put16(z, 0);    /* extra */
        put16(z, 0);    /* comment */
        put16(z, 0);    /* disk */
        put16(z, 0);    /* internal attributes */
        put32(z, 0);    /* external attributes */
        put32(z, e->offset);
        put(z, e->name, nl);
    }
    put32(z, 0x06054b50u);
    put16(z, 0);
    put16(z, 0);
    put16(z, (uint32_t)z->count);
    put16(z, (uint32_t)z->count);
    put32(z, (uint32_t)cd);
    put32(z, cd_offset);
    put16(z, 0);
    *out = z->buf;
    *size = z->len;
    z->buf = NULL;
    vkti_zipw_free(z);
    return VKTI_OK;
}
