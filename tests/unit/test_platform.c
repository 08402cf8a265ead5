/* test_platform.c — the platform file: atomic writes (and that a failed one leaves the old file),
 * whole-file reads with a size cap, mapping, mkdir -p, directory listing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"

static int passed, failed;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (cond) {                                       \
            passed++;                                     \
        } else {                                          \
            failed++;                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);   \
            printf(__VA_ARGS__);                          \
            printf("\n");                                 \
        }                                                 \
    } while (0)

int main(void)
{
    vkti_diag d = {0};
    const char *bd = getenv("VKTI_BUILD_DIR");
    char root[512], path[600], sub[600];
    snprintf(root, sizeof root, "%s/test-platform-%ld", bd ? bd : ".", (long)(vkti_now() * 1e3) % 1000000);
    snprintf(sub, sizeof sub, "%s/a/b/c", root);
    CHECK(vkti_mkdir_p(&d, sub) == VKTI_OK && vkti_dir_exists(sub), "mkdir -p %s: %s", sub, d.msg);

    snprintf(path, sizeof path, "%s/a/file.bin", root);
    CHECK(vkti_file_write_atomic(&d, path, "hello", 5) == VKTI_OK, "write: %s", d.msg);
    CHECK(vkti_file_write_atomic(&d, path, "world!", 6) == VKTI_OK, "rewrite: %s", d.msg);
    uint8_t *data = NULL;
    size_t size = 0;
    CHECK(vkti_file_read(&d, path, 100, &data, &size) == VKTI_OK && size == 6 && !memcmp(data, "world!", 6),
          "read back");
    free(data);
    CHECK(vkti_file_read(&d, path, 3, &data, &size) == VKTI_E_FORMAT, "size cap not enforced");
    vkti_mapped_file m;
    CHECK(vkti_file_map(&d, path, &m) == VKTI_OK && m.size == 6 && !memcmp(m.data, "world!", 6), "map");
    vkti_file_unmap(&m);
    /* a write into a directory that does not exist fails and leaves nothing */
    char bad[700];
    snprintf(bad, sizeof bad, "%s/missing/x.bin", root);
    CHECK(vkti_file_write_atomic(&d, bad, "x", 1) == VKTI_E_IO && !vkti_file_exists(bad), "failed write");

    char **names = NULL;
    int n = 0;
    snprintf(path, sizeof path, "%s/a", root);
    CHECK(vkti_dir_list(&d, path, &names, &n) == VKTI_OK && n == 2 && !strcmp(names[0], "b") &&
              !strcmp(names[1], "file.bin"),
          "dir list gave %d entries", n);
    free(names);
    CHECK(vkti_dir_list(&d, bad, &names, &n) == VKTI_E_IO, "listing a missing directory");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
