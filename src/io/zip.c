/* zip.c — zip archive reader with every offset and size checked (see zip.h). */
#include "io/zip.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "io/bytes.h"
#include "io/unicode.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define EOCD_SIZE 22
#define EOCD64_SIZE 56
#define LOCATOR64_SIZE 20
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
/* deflate cannot do better than 1032:1 (a 258-byte match in about 2 bits) */
#define DEFLATE_MAX_RATIO 1032u
#define ZLIB_PAD 8

static char *q(char *buf, const char *s) { return vkti_quote(buf, VKTI_QUOTE_MAX, s, strlen(s)); }

typedef struct eocd {
    uint64_t entries, cd_size, cd_offset;
    uint64_t cd_end_limit; /* where the central directory must end: the first end record */
} eocd;

static int find_eocd(vkti_diag *d, const vkti_zip *z, eocd *e)
{
    const uint8_t *p = z->data;
    size_t n = z->size;
    if (n < EOCD_SIZE)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %zu bytes is too short for a zip archive (truncated?)", z->what, n);
    /* the end record sits in the last 22 + 65535 bytes (its comment is at most 65535 bytes) */
    size_t lowest = n > EOCD_SIZE + 65535 ? n - EOCD_SIZE - 65535 : 0;
    size_t pos = n - EOCD_SIZE;
    for (;;) {
        if (vkti_le32(p + pos) == SIG_EOCD && pos + EOCD_SIZE + vkti_le16(p + pos + 20) == n)
            break;
        if (pos == lowest)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: no zip end-of-central-directory record: the file is truncated or not a zip archive",
                             z->what);
        pos--;
    }
    const uint8_t *r = p + pos;
    uint16_t disk = vkti_le16(r + 4), cd_disk = vkti_le16(r + 6);
    uint64_t here = vkti_le16(r + 8), total = vkti_le16(r + 10);
    e->cd_size = vkti_le32(r + 12);
    e->cd_offset = vkti_le32(r + 16);
    e->entries = total;
    e->cd_end_limit = pos;
    int zip64 = pos >= LOCATOR64_SIZE && vkti_le32(p + pos - LOCATOR64_SIZE) == SIG_LOCATOR64;
    if (!zip64 && (disk == 0xffff || cd_disk == 0xffff || here == 0xffff || total == 0xffff ||
                   e->cd_size == 0xffffffffu || e->cd_offset == 0xffffffffu))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the zip end record says zip64 but there is no zip64 locator", z->what);
    if (zip64) {
        const uint8_t *l = p + pos - LOCATOR64_SIZE;
        uint64_t off = vkti_le64(l + 8);
        if (vkti_le32(l + 4) != 0 || vkti_le32(l + 16) > 1)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the zip archive spans several disks", z->what);
        if (off > pos - LOCATOR64_SIZE || pos - LOCATOR64_SIZE - off < EOCD64_SIZE ||
            vkti_le32(p + off) != SIG_EOCD64)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the zip64 locator points to byte %llu, where there is no zip64 end record",
                             z->what, (unsigned long long)off);
        const uint8_t *r64 = p + off;
        uint64_t rec = vkti_le64(r64 + 4);
        if (rec != pos - LOCATOR64_SIZE - off - 12)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the zip64 end record's size (%llu) does not fit where it is", z->what,
                             (unsigned long long)rec);
        if (vkti_le32(r64 + 16) != 0 || vkti_le32(r64 + 20) != 0)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: the zip archive spans several disks", z->what);
        here = vkti_le64(r64 + 24);
        e->entries = vkti_le64(r64 + 32);
        e->cd_size = vkti_le64(r64 + 40);
        e->cd_offset = vkti_le64(r64 + 48);
        e->cd_end_limit = off;
    } else if (disk != 0 || cd_disk != 0) {
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the zip archive spans several disks", z->what);
    }
    if (here != e->entries)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: the zip end record counts %llu entries on this disk but %llu in all",
                         z->what, (unsigned long long)here, (unsigned long long)e->entries);
    if (e->cd_offset > e->cd_end_limit || e->cd_size != e->cd_end_limit - e->cd_offset)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: the zip central directory (%llu bytes at offset %llu) does not end where the end record "
                         "is (byte %llu): truncated or corrupt archive",
                         z->what, (unsigned long long)e->cd_size, (unsigned long long)e->cd_offset,
                         (unsigned long long)e->cd_end_limit);
    if (e->entries > VKTI_ZIP_MAX_ENTRIES)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %llu zip entries, more than the %u vkti reads", z->what,
                         (unsigned long long)e->entries, VKTI_ZIP_MAX_ENTRIES);
    if (e->entries * CENTRAL_SIZE > e->cd_size)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %llu zip entries cannot fit a %llu-byte central directory", z->what,
                         (unsigned long long)e->entries, (unsigned long long)e->cd_size);
    return VKTI_OK;
}

static int check_name(vkti_diag *d, const vkti_zip *z, const uint8_t *name, size_t len)
{
    char buf[VKTI_QUOTE_MAX];
    const char *qn = vkti_quote(buf, sizeof buf, name, len);
    if (len == 0)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: a zip entry has an empty name", z->what);
    if (len > VKTI_ZIP_MAX_NAME)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry name of %zu bytes is too long", z->what, len);
    if (!vkti_utf8_valid(name, len))
        return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry name %s is not valid UTF-8", z->what, qn);
    for (size_t i = 0; i < len; i++) {
        if (name[i] < 0x20 || name[i] == 0x7f)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry name %s holds a control character", z->what, qn);
        if (name[i] == '\\')
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry name %s holds a backslash", z->what, qn);
    }
    if (name[0] == '/')
        return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry name %s is an absolute path", z->what, qn);
    for (size_t i = 0; i < len;) { /* each path component */
        size_t j = i;
        while (j < len && name[j] != '/')
            j++;
        if (j - i == 2 && name[i] == '.' && name[i + 1] == '.')
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry name %s climbs out of the archive with \"..\"", z->what, qn);
        i = j + 1;
    }
    return VKTI_OK;
}

/* The zip64 extra field of a central entry: replaces the 32-bit fields that hold 0xffffffff. */
static int read_zip64_extra(vkti_diag *d, const vkti_zip *z, const char *name, const uint8_t *extra, size_t len,
                            uint64_t *usize, uint64_t *csize, uint64_t *offset)
{
    char buf[VKTI_QUOTE_MAX];
    size_t i = 0;
    while (i < len) {
        if (len - i < 4)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s has a malformed extra field", z->what, q(buf, name));
        uint16_t id = vkti_le16(extra + i), sz = vkti_le16(extra + i + 2);
        if (sz > len - i - 4)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s has an extra field past its end", z->what, q(buf, name));
        if (id == 0x0001) {
            const uint8_t *f = extra + i + 4;
            size_t k = 0;
            uint64_t *fields[3] = {usize, csize, offset};
            for (int m = 0; m < 3; m++) {
                if (*fields[m] != 0xffffffffu)
                    continue;
                if (k + 8 > sz)
                    return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s has a zip64 field too short for its sizes",
                                     z->what, q(buf, name));
                *fields[m] = vkti_le64(f + k);
                k += 8;
            }
        }
        i += 4 + (size_t)sz;
    }
    return VKTI_OK;
}

static int cmp_entry_name(const void *a, const void *b)
{
    return strcmp((*(const vkti_zip_entry *const *)a)->name, (*(const vkti_zip_entry *const *)b)->name);
}

static int cmp_u64_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int parse(vkti_diag *d, vkti_zip *z)
{
    eocd e = {0};
    int rc = find_eocd(d, z, &e);
    if (rc)
        return rc;
    size_t count = (size_t)e.entries;
    z->entries = calloc(count ? count : 1, sizeof *z->entries);
    z->names_ = malloc((size_t)e.cd_size + 1); /* names + NULs fit in the directory's bytes */
    z->by_name_ = malloc((count ? count : 1) * sizeof *z->by_name_);
    if (!z->entries || !z->names_ || !z->by_name_)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory for %zu zip entries", z->what, count);
    const uint8_t *cd = z->data + e.cd_offset;
    size_t pos = 0, names_used = 0;
    char buf[VKTI_QUOTE_MAX];
    for (size_t i = 0; i < count; i++) {
        if (e.cd_size - pos < CENTRAL_SIZE || vkti_le32(cd + pos) != SIG_CENTRAL)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip central directory entry %zu is missing or corrupt", z->what, i);
        const uint8_t *h = cd + pos;
        uint16_t flags = vkti_le16(h + 8), method = vkti_le16(h + 10);
        uint32_t crc = vkti_le32(h + 16);
        uint64_t csize = vkti_le32(h + 20), usize = vkti_le32(h + 24);
        size_t nlen = vkti_le16(h + 28), xlen = vkti_le16(h + 30), clen = vkti_le16(h + 32);
        uint16_t disk = vkti_le16(h + 34);
        uint64_t offset = vkti_le32(h + 42);
        if (e.cd_size - pos - CENTRAL_SIZE < nlen + xlen + clen)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip central directory entry %zu runs past the directory", z->what, i);
        const uint8_t *name = h + CENTRAL_SIZE;
        if ((rc = check_name(d, z, name, nlen)))
            return rc;
        vkti_zip_entry *ze = &z->entries[i];
        memcpy(z->names_ + names_used, name, nlen);
        z->names_[names_used + nlen] = 0;
        ze->name = z->names_ + names_used;
        names_used += nlen + 1;
        if ((rc = read_zip64_extra(d, z, ze->name, name + nlen, xlen, &usize, &csize, &offset)))
            return rc;
        if (disk != 0 && disk != 0xffff)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s is on another disk", z->what, q(buf, ze->name));
        if (flags & 0x41u)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s is encrypted", z->what, q(buf, ze->name));
        if (method != 0 && method != 8)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: zip entry %s uses compression method %u; vkti reads stored (0) and deflate (8) entries",
                             z->what, q(buf, ze->name), method);
        if (method == 0 && csize != usize)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: zip entry %s is stored (uncompressed) but its sizes differ (%llu and %llu bytes)",
                             z->what, q(buf, ze->name), (unsigned long long)csize, (unsigned long long)usize);
        /* the local header, inside the part of the file before the central directory */
        if (offset > e.cd_offset || e.cd_offset - offset < LOCAL_SIZE)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s: its local header offset %llu is out of range",
                             z->what, q(buf, ze->name), (unsigned long long)offset);
        const uint8_t *l = z->data + offset;
        if (vkti_le32(l) != SIG_LOCAL)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s: no local header at offset %llu", z->what,
                             q(buf, ze->name), (unsigned long long)offset);
        uint16_t lflags = vkti_le16(l + 6), lmethod = vkti_le16(l + 8);
        size_t lnlen = vkti_le16(l + 26), lxlen = vkti_le16(l + 28);
        uint64_t data_off = offset + LOCAL_SIZE + lnlen + lxlen;
        if (data_off > e.cd_offset)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s: its local header runs into the central directory",
                             z->what, q(buf, ze->name));
        if (lnlen != nlen || memcmp(l + LOCAL_SIZE, name, nlen) != 0)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s: its local header names another file", z->what,
                             q(buf, ze->name));
        if (lmethod != method || (lflags & 0x41u))
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s: its local header disagrees with the central directory",
                             z->what, q(buf, ze->name));
        if (csize > e.cd_offset - data_off)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: zip entry %s: its %llu bytes of data run past the central directory (byte %llu): "
                             "truncated or corrupt archive",
                             z->what, q(buf, ze->name), (unsigned long long)csize, (unsigned long long)e.cd_offset);
        ze->header_offset = offset;
        ze->data_offset = data_off;
        ze->csize = csize;
        ze->usize = usize;
        ze->crc = crc;
        ze->method = method;
        pos += CENTRAL_SIZE + nlen + xlen + clen;
    }
    if (pos != e.cd_size)
        return vkti_fail(d, VKTI_E_FORMAT, "%s: %llu unexplained bytes at the end of the zip central directory", z->what,
                         (unsigned long long)(e.cd_size - pos));
    z->count = count;

    /* overlaps: entries sorted by where they start must each end before the next one starts */
    uint64_t *span = malloc((count ? count : 1) * 2 * sizeof *span);
    if (!span)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", z->what);
    for (size_t i = 0; i < count; i++) {
        span[2 * i] = z->entries[i].header_offset;
        span[2 * i + 1] = i;
    }
    qsort(span, count, 2 * sizeof *span, cmp_u64_pair);
    for (size_t i = 1; i < count; i++) {
        const vkti_zip_entry *a = &z->entries[span[2 * i - 2 + 1]], *b = &z->entries[span[2 * i + 1]];
        if (a->data_offset + a->csize > b->header_offset) {
            char buf2[VKTI_QUOTE_MAX];
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: zip entries %s and %s overlap (a corrupt or hostile archive)", z->what,
                           q(buf, a->name), q(buf2, b->name));
            break;
        }
    }
    free(span);
    if (rc)
        return rc;

    /* names: sorted once, for duplicates now and lookups later */
    const vkti_zip_entry **sorted = malloc((count ? count : 1) * sizeof *sorted);
    if (!sorted)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory", z->what);
    for (size_t i = 0; i < count; i++)
        sorted[i] = &z->entries[i];
    qsort(sorted, count, sizeof *sorted, cmp_entry_name);
    for (size_t i = 0; i < count; i++) {
        z->by_name_[i] = (uint32_t)(sorted[i] - z->entries);
        if (i && !strcmp(sorted[i]->name, sorted[i - 1]->name) && !rc)
            rc = vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s appears twice", z->what, q(buf, sorted[i]->name));
    }
    free(sorted);
    return rc;
}

int vkti_zip_open(vkti_diag *d, vkti_zip *z, const char *what, const uint8_t *data, size_t size)
{
    memset(z, 0, sizeof *z);
    z->what = what;
    z->data = data;
    z->size = size;
    int rc = parse(d, z);
    if (rc)
        vkti_zip_close(z);
    return rc;
}

void vkti_zip_close(vkti_zip *z)
{
    free(z->entries);
    free(z->by_name_);
    free(z->names_);
    memset(z, 0, sizeof *z);
}

const vkti_zip_entry *vkti_zip_find(const vkti_zip *z, const char *name, size_t *index)
{
    size_t lo = 0, hi = z->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const vkti_zip_entry *e = &z->entries[z->by_name_[mid]];
        int c = strcmp(name, e->name);
        if (c == 0) {
            if (index)
                *index = z->by_name_[mid];
            return e;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int vkti_zip_read(vkti_diag *d, const vkti_zip *z, const vkti_zip_entry *e, uint64_t max_bytes, int check_crc,
                  const uint8_t **data, uint8_t **owned)
{
    char buf[VKTI_QUOTE_MAX];
    *data = NULL;
    *owned = NULL;
    const uint8_t *src = z->data + e->data_offset;
    if (e->method == 0) {
        if (e->usize > max_bytes)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s is %llu bytes, more than the %llu expected", z->what,
                             q(buf, e->name), (unsigned long long)e->usize, (unsigned long long)max_bytes);
        if (check_crc && vkti_crc32(0, src, (size_t)e->usize) != e->crc)
            return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s fails its CRC check (a corrupt file)", z->what,
                             q(buf, e->name));
        *data = src;
        return VKTI_OK;
    }
    if (e->usize > e->csize * DEFLATE_MAX_RATIO + 1024)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: zip entry %s claims %llu bytes from %llu compressed ones, beyond what deflate can do "
                         "(a zip bomb or a corrupt header)",
                         z->what, q(buf, e->name), (unsigned long long)e->usize, (unsigned long long)e->csize);
    if (max_bytes > VKTI_ZIP_MAX_INFLATE)
        max_bytes = VKTI_ZIP_MAX_INFLATE;
    if (e->usize > max_bytes)
        return vkti_fail(d, VKTI_E_FORMAT,
                         "%s: zip entry %s inflates to %llu bytes, more than the %llu vkti inflates (store large entries "
                         "uncompressed, as torch.save does)",
                         z->what, q(buf, e->name), (unsigned long long)e->usize, (unsigned long long)max_bytes);
    if (e->csize > INT_MAX - ZLIB_PAD) /* stb's decoder takes int sizes; usize <= 1 GiB already */
        return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s is too large to inflate", z->what, q(buf, e->name));
    uint8_t *out = malloc(e->usize ? (size_t)e->usize : 1);
    if (!out)
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory inflating zip entry %s (%llu bytes)", z->what,
                         q(buf, e->name), (unsigned long long)e->usize);
    /* stb_image 2.27 (Debian 12's) fails a valid stream whose last codes sit in its final two
     * bytes (it wants 16 bits in hand); zero padding after the stream, which deflate's end-of-block
     * makes it never use as data, works around that. stb decodes into a fixed buffer and fails
     * rather than write past it. */
    uint8_t *padded = malloc((size_t)e->csize + ZLIB_PAD);
    if (!padded) {
        free(out);
        return vkti_fail(d, VKTI_E_OOM, "%s: out of memory inflating zip entry %s", z->what, q(buf, e->name));
    }
    memcpy(padded, src, (size_t)e->csize);
    memset(padded + e->csize, 0, ZLIB_PAD);
    int got = stbi_zlib_decode_noheader_buffer((char *)out, (int)e->usize, (const char *)padded,
                                               (int)e->csize + ZLIB_PAD);
    free(padded);
    if (got < 0 || (uint64_t)got != e->usize) {
        free(out);
        if (got < 0)
            return vkti_fail(d, VKTI_E_FORMAT,
                             "%s: zip entry %s: corrupt deflate data, or it inflates past its declared %llu bytes",
                             z->what, q(buf, e->name), (unsigned long long)e->usize);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s inflates to %d bytes, not the %llu its header says",
                         z->what, q(buf, e->name), got, (unsigned long long)e->usize);
    }
    if (vkti_crc32(0, out, (size_t)e->usize) != e->crc) {
        free(out);
        return vkti_fail(d, VKTI_E_FORMAT, "%s: zip entry %s fails its CRC check (a corrupt file)", z->what,
                         q(buf, e->name));
    }
    *data = out;
    *owned = out;
    return VKTI_OK;
}
