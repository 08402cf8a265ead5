/* test_hostile.c — every file of the hostile corpus (tests/data/hostile/, written by
 * tools/gen_io_fixtures.py) must be refused by its reader (safetensors or torch checkpoint) with a
 * non-zero status and one message line that names the file and holds the text EXPECTED lists for
 * it — and without a crash (CI runs this under ASan and UBSan). Every file must be listed, and
 * every listed file must exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "io/ckpt.h"
#include "io/safetensors.h"

static int passed, failed;

#define CHECK(cond, ...)                                \
    do {                                                \
        if (cond) {                                     \
            passed++;                                   \
        } else {                                        \
            failed++;                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

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
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
