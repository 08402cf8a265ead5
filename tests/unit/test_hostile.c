/* test_hostile.c — every file of the hostile corpus (tests/data/hostile/, written by
 * tools/gen_io_fixtures.py) must be refused by its reader (safetensors or torch checkpoint) with a
 * non-zero status and one message line that names the file and holds the text EXPECTED lists for
 * it — and without a crash (CI runs this under ASan and UBSan). Every file must be listed, and
 * every listed file must exist. Then seeded random damage (truncation, flipped bytes, bytes set to
 * 0x00/0xff/0x7f) to the valid fixtures of tests/data/io and to a safetensors file: whatever a
 * reader accepts, every tensor it describes must convert without reading outside the file (the
 * sanitizers watch). VKTI_FUZZ_ROUNDS=N runs N rounds per file instead of the default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/bytes.h"
#include "io/ckpt.h"
#include "io/safetensors.h"
#include "check.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Loads one file with the reader its extension names; returns the status. */
static int load(vkti_diag *d, const char *path)
{
    if (ends_with(path, ".safetensors")) {
        vkti_safetensors st;
        int rc = vkti_safetensors_open(d, &st, path);
        if (!rc)
            vkti_safetensors_close(&st);
        return rc;
    }
    vkti_ckpt c;
    int rc = vkti_ckpt_open(d, &c, path);
    if (!rc)
        vkti_ckpt_close(&c);
    return rc;
}

/* xorshift64*: a fixed seed, so a failure can be replayed */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void damage(uint8_t *buf, size_t *size, uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    if (r % 4 == 0) { /* truncate */
        *size = *size ? (size_t)(rng_next(rng) % *size) : 0;
        return;
    }
    int flips = 1 + (int)(r >> 8) % 4;
    for (int i = 0; i < flips && *size; i++) {
        size_t at = (size_t)(rng_next(rng) % *size);
        static const uint8_t values[4] = {0x00, 0xff, 0x7f, 0x80};
        uint64_t how = rng_next(rng);
        buf[at] = (uint8_t)(how % 3 ? buf[at] ^ (1u << (how >> 8) % 8) : values[(how >> 16) % 4]);
    }
}

/* Converts every tensor a reader accepted: reads each element the descriptor addresses. */
static void touch(const vkti_io_tensor *t, size_t n)
{
    vkti_diag d = {0};
    for (size_t i = 0; i < n; i++) {
        float *f = malloc(t[i].numel ? (size_t)t[i].numel * sizeof *f : 1);
        if (f && vkti_io_tensor_to_f32(&d, &t[i], f, t[i].numel) != 0)
            failed++;
        free(f);
    }
}

/* Where a torch archive's data.pkl lies and where its CRC is recorded in the central directory
 * (so damage to the pickle can get past the CRC check and reach the interpreter). */
static int find_pickle(const uint8_t *data, size_t size, size_t *begin, size_t *len, size_t *crc_at)
{
    vkti_zip z;
    vkti_diag d = {0};
    if (vkti_zip_open(&d, &z, "fuzz", data, size))
        return 0;
    int found = 0;
    for (size_t i = 0; i < z.count && !found; i++) {
        const vkti_zip_entry *e = &z.entries[i];
        size_t nl = strlen(e->name);
        if (e->method != 0 || !ends_with(e->name, "/data.pkl"))
            continue;
        for (size_t at = size - nl; at > e->data_offset + e->csize && !found; at--) { /* the central record's name */
            if (!memcmp(data + at, e->name, nl) && at >= 46 && vkti_le32(data + at - 46) == 0x02014b50u) {
                *begin = (size_t)e->data_offset;
                *len = (size_t)e->usize;
                *crc_at = at - 46 + 16;
                found = 1;
            }
        }
    }
    vkti_zip_close(&z);
    return found;
}

static void fuzz_one(const char *name, const uint8_t *orig, size_t orig_size, int rounds, uint64_t seed)
{
    uint8_t *buf = malloc(orig_size ? orig_size : 1);
    int accepted = 0;
    size_t pkl = 0, pkl_len = 0, crc_at = 0;
    int has_pickle = !ends_with(name, ".safetensors") && find_pickle(orig, orig_size, &pkl, &pkl_len, &crc_at);
    for (int r = 0; r < rounds; r++) {
        size_t size = orig_size;
        memcpy(buf, orig, orig_size);
        if (has_pickle && r % 2) { /* damage inside the pickle, with its CRC made right again */
            size_t n = pkl_len;
            damage(buf + pkl, &n, &seed);
            if (n < pkl_len) /* a truncated pickle: its end filled with STOPs */
                memset(buf + pkl + n, '.', pkl_len - n);
            vkti_put_le32(buf + crc_at, vkti_crc32(0, buf + pkl, pkl_len));
        } else {
            damage(buf, &size, &seed);
            if (rng_next(&seed) % 2)
                damage(buf, &size, &seed);
        }
        /* the damaged copy in an allocation of its exact size, so reading past it is caught */
        uint8_t *exact = malloc(size ? size : 1);
        memcpy(exact, buf, size);
        vkti_diag d = {0};
        if (ends_with(name, ".safetensors")) {
            vkti_safetensors st;
            if (vkti_safetensors_parse(&d, &st, name, exact, size) == 0) {
                touch(st.tensors, st.count);
                vkti_safetensors_close(&st);
                accepted++;
            }
        } else {
            vkti_ckpt c;
            if (vkti_ckpt_parse(&d, &c, name, exact, size) == 0) {
                touch(c.tensors, c.tensor_count);
                vkti_ckpt_close(&c);
                accepted++;
            }
        }
        free(exact);
    }
    free(buf);
    passed++;
    if (getenv("VKTI_VERBOSE"))
        printf("damaged %-24s %d times, %d still loaded\n", name, rounds, accepted);
}

static void fuzz(const char *src)
{
    const char *env = getenv("VKTI_FUZZ_ROUNDS");
    int rounds = env ? atoi(env) : 300;
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/tests/data/io", src);
    char **names;
    int n;
    vkti_diag d = {0};
    if (vkti_dir_list(&d, dir, &names, &n)) {
        CHECK(0, "%s", d.msg);
        return;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int files = 0;
    for (int i = 0; i < n; i++) {
        if (!ends_with(names[i], ".pt") && !ends_with(names[i], ".ckpt"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        uint8_t *data;
        size_t size;
        if (vkti_file_read(&d, path, 1 << 20, &data, &size) == 0) {
            fuzz_one(names[i], data, size, rounds, seed + (uint64_t)i);
            files++;
            free(data);
        }
    }
    free(names);
    /* a safetensors file of several dtypes and metadata, from the writer */
    static const float f[6] = {1, 2, 3, 4, 5, 6};
    vkti_io_tensor t[3];
    memset(t, 0, sizeof t);
    const char *tn[3] = {"a", "bb", "c.d"};
    const vkti_io_dtype dt[3] = {VKTI_IO_F32, VKTI_IO_F16, VKTI_IO_U8};
    for (int i = 0; i < 3; i++) {
        t[i].name = tn[i];
        t[i].dtype = dt[i];
        t[i].ndim = 2;
        t[i].shape[0] = 2;
        t[i].shape[1] = 3 - i;
        t[i].data = (const uint8_t *)f;
        vkti_io_tensor_set_packed(&t[i]);
    }
    vkti_st_meta meta = {"format", "pt"};
    uint8_t *st;
    size_t st_size;
    if (vkti_safetensors_serialize(&d, t, 3, &meta, 1, &st, &st_size) == 0) {
        fuzz_one("damaged.safetensors", st, st_size, rounds * 4, seed);
        files++;
        free(st);
    }
    CHECK(files >= 9, "damaged only %d files", files);
}

int main(void)
{
    const char *src = getenv("VKTI_SOURCE_DIR");
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/tests/data/hostile", src ? src : ".");
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    vkti_diag d = {0};
    uint8_t *list;
    size_t size;
    if (vkti_file_read(&d, path, 1 << 20, &list, &size)) {
        printf("FAIL: %s\n0 passed, 1 failed\n", d.msg);
        return 1;
    }
    char **names;
    int nfiles;
    if (vkti_dir_list(&d, dir, &names, &nfiles)) {
        printf("FAIL: %s\n0 passed, 1 failed\n", d.msg);
        return 1;
    }
    int *listed = calloc((size_t)nfiles, sizeof *listed);
    int cases = 0;
    for (char *line = (char *)list, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (line[0] == '#' || !line[0])
            continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            CHECK(0, "EXPECTED line without a tab: %s", line);
            continue;
        }
        *tab = 0;
        const char *file = line, *want = tab + 1;
        int found = 0;
        for (int i = 0; i < nfiles; i++)
            if (!strcmp(names[i], file))
                listed[i] = found = 1;
        CHECK(found, "%s is listed in EXPECTED but missing", file);
        if (!found)
            continue;
        cases++;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        d.msg[0] = 0;
        int rc = load(&d, path);
        CHECK(rc < 0, "%s: loaded without an error", file);
        CHECK(strstr(d.msg, want) != NULL, "%s: message lacks \"%s\": %s", file, want, d.msg);
        CHECK(strstr(d.msg, path) != NULL, "%s: message does not name the file: %s", file, d.msg);
        CHECK(strchr(d.msg, '\n') == NULL, "%s: message is not one line: %s", file, d.msg);
        if (getenv("VKTI_VERBOSE"))
            printf("%-36s %s\n", file, d.msg);
    }
    for (int i = 0; i < nfiles; i++)
        CHECK(listed[i] || !strcmp(names[i], "EXPECTED"), "%s is not listed in EXPECTED", names[i]);
    CHECK(cases >= 30, "only %d hostile files", cases);
    free(listed);
    free(names);
    free(list);
    printf("%d hostile files refused\n", cases);
    fuzz(src ? src : ".");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
