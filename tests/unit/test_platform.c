/* test_platform.c — the platform file: atomic writes (and that a failed one leaves the old file),
 * whole-file reads with a size cap, mapping, mkdir -p, directory listing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "check.h"

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

    /* appending: every call reaches the file before it returns */
    snprintf(path, sizeof path, "%s/a/log.txt", root);
    vkti_file *f = NULL;
    CHECK(vkti_file_open_append(&d, path, &f) == VKTI_OK, "open append: %s", d.msg);
    CHECK(f && vkti_file_append(&d, f, "one\n", 4) == VKTI_OK, "append");
    CHECK(vkti_file_read(&d, path, 100, &data, &size) == VKTI_OK && size == 4, "appended bytes visible before close");
    free(data);
    CHECK(f && vkti_file_sync(&d, f) == VKTI_OK, "sync: %s", d.msg);
    vkti_file_close(f);
    CHECK(vkti_file_open_append(&d, path, &f) == VKTI_OK && vkti_file_append(&d, f, "two\n", 4) == VKTI_OK,
          "reopen append");
    vkti_file_close(f);
    CHECK(vkti_file_read(&d, path, 100, &data, &size) == VKTI_OK && size == 8 && !memcmp(data, "one\ntwo\n", 8),
          "append keeps what was there");
    free(data);
    CHECK(vkti_file_open_append(&d, bad, &f) == VKTI_E_IO && f == NULL, "append into a missing directory");

    /* wall clock: after 2020-01-01 and before 2200; host name non-empty */
    double wt = vkti_wall_time();
    CHECK(wt > 1577836800.0 && wt < 7258118400.0, "wall time %.0f", wt);
    char host[64];
    vkti_hostname(host, sizeof host);
    CHECK(host[0] != 0 && strlen(host) < sizeof host, "host name '%s'", host);
    char tiny[4];
    vkti_hostname(tiny, sizeof tiny);
    CHECK(strlen(tiny) <= 3, "host name overflows a small buffer");
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
