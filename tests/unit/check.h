/* check.h — what every unit test program shares: the CHECK counter (a failed check prints where
 * and why, the program goes on and exits non-zero at the end), a scratch directory under the build
 * tree and removing one, and whether synchronization validation is asked for. Header-only: each
 * test program is one file. */
#ifndef VKTI_TESTS_CHECK_H
#define VKTI_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "base/platform.h"

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

/* a fresh directory under the build tree (or the current directory) */
static inline void scratch_dir(char *out, size_t cap, const char *name)
{
    const char *bd = getenv("VKTI_BUILD_DIR");
    snprintf(out, cap, "%s/test-%s-%ld", bd ? bd : ".", name, (long)(vkti_now() * 1e3) % 1000000);
    vkti_diag d = {0};
    if (vkti_mkdir_p(&d, out) != VKTI_OK)
        printf("cannot make %s: %s\n", out, d.msg);
}

/* VKTI_SYNC_VALIDATION=1 (as ctest sets it): the validation layer's synchronization checks too */
static inline int sync_validation_asked(void)
{
    const char *e = getenv("VKTI_SYNC_VALIDATION");
    return e && e[0] == '1';
}

/* removes a directory and everything in it (best effort) */
static inline void rm_tree(const char *path)
{
    char **names = NULL;
    int n = 0;
    vkti_diag d = {0};
    if (vkti_dir_list(&d, path, &names, &n) == VKTI_OK) {
        for (int i = 0; i < n; i++) {
            char p[8192];
            int k = snprintf(p, sizeof p, "%s/%s", path, names[i]);
            if (k < 0 || (size_t)k >= sizeof p)
                continue;
            if (vkti_dir_exists(p))
                rm_tree(p);
            else
                vkti_file_remove(p);
        }
        vkti_dir_list_free(names, n);
    }
    vkti_dir_remove(path);
}

#endif
