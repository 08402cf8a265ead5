/* test_runtime.c — the Vulkan runtime itself: arena marks, views, hazard tracking (barriers only
 * where needed), replaying one recording, transfers larger than the staging block, fills and
 * copies, limits checks, and the on-disk pipeline cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/platform.h"
#include "harness.h"
#include "ops/elementwise.h"

static void arena_case(th *t)
{
    if (!th_case(t, "arena mark and release reuse memory"))
        return;
    vkti_arena *a;
    if (!th_ok(t, vkti_arena_create(t->g, "t", 1 << 20, &a)))
        return;
    vkti_tensor x, y, z;
    int64_t n = 1000;
    uint64_t m = vkti_arena_mark(a);
    if (th_ok(t, vkti_arena_tensor(a, &x, VKTI_F32, 1, &n)) && th_ok(t, vkti_arena_tensor(a, &y, VKTI_F16, 1, &n))) {
        if (y.offset % 256 || y.offset < x.offset + x.bytes)
            th_fail(t, "second tensor at %llu overlaps or is unaligned", (unsigned long long)y.offset);
        vkti_arena_release(a, m);
        if (th_ok(t, vkti_arena_tensor(a, &z, VKTI_F32, 1, &n)) && (z.block != x.block || z.offset != x.offset))
            th_fail(t, "release did not return to the mark");
        int64_t big = 3 << 20; /* larger than the block size: its own block */
        if (th_ok(t, vkti_arena_tensor(a, &z, VKTI_U8, 1, &big)) && z.block == x.block)
            th_fail(t, "an oversized tensor shares a block");
    }
    vkti_arena_free(a);
}

static void barrier_case(th *t)
{
    if (!th_case(t, "barriers only on hazards"))
        return;
    int64_t n = 4096;
    float *h = th_alloc(t, sizeof(float) * 4096);
    vkti_tensor a, b, c, d;
    if (!h || !th_input(t, &a, VKTI_F32, 1, &n, h) || !th_output(t, &b, VKTI_F32, 1, &n) ||
        !th_output(t, &c, VKTI_F32, 1, &n) || !th_output(t, &d, VKTI_F32, 1, &n))
        return;
    th_fill(t, h, n, -1, 1);
    if (!th_ok(t, vkti_tensor_upload_f32(t->g, &a, h, n)) || !th_begin(t))
        return;
    /* b = a*2 and c = a*3 read the same input: independent, no barrier */
    th_ok(t, vkti_scale_forward(t->cmd, &b, &a, 2, 0));
    th_ok(t, vkti_scale_forward(t->cmd, &c, &a, 3, 0));
    int b0 = vkti_cmd_barrier_count(t->cmd);
    /* d = b + c reads what was written: one barrier */
    th_ok(t, vkti_add_forward(t->cmd, &d, &b, &c));
    int b1 = vkti_cmd_barrier_count(t->cmd);
    /* a = d * 1 overwrites what the first two read (write-after-read): one more */
    th_ok(t, vkti_scale_forward(t->cmd, &a, &d, 1, 0));
    int b2 = vkti_cmd_barrier_count(t->cmd);
    if (!th_submit(t))
        return;
    if (b0 != 0 || b1 != 1 || b2 != 2)
        th_fail(t, "barrier counts %d, %d, %d; expected 0, 1, 2", b0, b1, b2);
    double *ref = th_alloc(t, sizeof(double) * 4096);
    if (!ref)
        return;
    for (int i = 0; i < n; i++)
        ref[i] = 5.0 * h[i];
    th_check(t, &d, ref, TH_F32);
}

static void replay_case(th *t)
{
    if (!th_case(t, "one recording replayed accumulates"))
        return;
    int64_t n = 777;
    float *h = th_alloc(t, sizeof(float) * 777);
    double *ref = th_alloc(t, sizeof(double) * 777);
    vkti_tensor x, y;
    if (!h || !ref)
        return;
    th_fill(t, h, n, -1, 1);
    if (!th_input(t, &x, VKTI_F32, 1, &n, h) || !th_output(t, &y, VKTI_F32, 1, &n))
        return;
    /* y = x; then the recording "y = y + x" submitted 5 times gives 6x */
    if (!th_begin(t) || !th_ok(t, vkti_cmd_copy(t->cmd, &y, &x)) || !th_submit(t))
        return;
    if (!th_begin(t) || !th_ok(t, vkti_add_forward(t->cmd, &y, &y, &x)) || !th_ok(t, vkti_cmd_end(t->cmd)))
        return;
    for (int r = 0; r < 5; r++)
        if (!th_ok(t, vkti_cmd_submit(t->cmd, r == 4)))
            return;
    for (int i = 0; i < n; i++)
        ref[i] = 6.0 * h[i];
    th_check(t, &y, ref, TH_F32);
}

static void staging_case(th *t)
{
    if (!th_case(t, "transfers through staging, larger than the staging block"))
        return;
    vkti_diag d = {.level = VKTI_LOG_WARN};
    vkti_gpu *g;
    vkti_gpu_options o = {.validation = 1, .disable = "mapped", .device = getenv("VKTI_DEVICE")};
    if (!th_ok(t, vkti_gpu_create(&g, &d, &o)))
        return;
    vkti_arena *a = NULL;
    int64_t n = (70 << 20) / 4 + 5; /* > 64 MiB staging */
    vkti_tensor x;
    float *h = malloc(sizeof(float) * (size_t)n), *back = malloc(sizeof(float) * (size_t)n);
    if (h && back && th_ok(t, vkti_arena_create(g, "s", 0, &a)) && th_ok(t, vkti_arena_tensor(a, &x, VKTI_F32, 1, &n))) {
        for (int64_t i = 0; i < n; i++)
            h[i] = (float)i;
        if (th_ok(t, vkti_tensor_upload_f32(g, &x, h, n)) && th_ok(t, vkti_tensor_download_f32(g, &x, back, n)) &&
            memcmp(h, back, sizeof(float) * (size_t)n) != 0)
            th_fail(t, "round trip through staging changed the data");
    }
    if (vkti_gpu_validation_messages(g))
        th_fail(t, "validation messages: %d", vkti_gpu_validation_messages(g));
    free(h);
    free(back);
    vkti_arena_free(a);
    vkti_gpu_free(g);
}

static void fill_copy_view_case(th *t)
{
    if (!th_case(t, "fill, copy and views"))
        return;
    int64_t n = 1024;
    vkti_tensor x, y, v;
    if (!th_output(t, &x, VKTI_F32, 1, &n) || !th_output(t, &y, VKTI_F32, 1, &n))
        return;
    /* fill the second half of x with 2.0 through a view, copy x to y */
    float two = 2.0f;
    uint32_t pattern;
    memcpy(&pattern, &two, 4);
    if (!th_ok(t, vkti_tensor_view(t->g, &v, &x, 512, 1, (int64_t[]){512})) || !th_begin(t) ||
        !th_ok(t, vkti_cmd_fill(t->cmd, &x, 0)) || !th_ok(t, vkti_cmd_fill(t->cmd, &v, pattern)) ||
        !th_ok(t, vkti_cmd_copy(t->cmd, &y, &x)) || !th_submit(t))
        return;
    double *ref = th_alloc(t, sizeof(double) * 1024);
    if (!ref)
        return;
    for (int i = 0; i < 1024; i++)
        ref[i] = i < 512 ? 0.0 : 2.0;
    th_check(t, &y, ref, TH_F32);
    vkti_tensor bad;
    if (vkti_tensor_view(t->g, &bad, &x, 1000, 1, (int64_t[]){100}) == VKTI_OK)
        th_fail(t, "a view past the end was accepted");
}

static void limits_case(th *t)
{
    if (!th_case(t, "a binding over maxStorageBufferRange is refused"))
        return;
    const vkti_device_info *info = vkti_gpu_info(t->g);
    if (info->max_storage_buffer_range >= (1ull << 31)) {
        printf("     (skipped: this device's range is %llu bytes)\n", (unsigned long long)info->max_storage_buffer_range);
        return;
    }
    vkti_arena *a;
    if (!th_ok(t, vkti_arena_create(t->g, "big", 0, &a)))
        return;
    int64_t n = (int64_t)(info->max_storage_buffer_range / 4) + 64;
    vkti_tensor x;
    if (th_ok(t, vkti_arena_tensor(a, &x, VKTI_F32, 1, &n)) && th_begin(t)) {
        int rc = vkti_scale_forward(t->cmd, &x, &x, 1, 0);
        if (rc != VKTI_E_UNSUPPORTED || !strstr(t->diag.msg, "maxStorageBufferRange"))
            th_fail(t, "expected a maxStorageBufferRange refusal, got %d: %s", rc, t->diag.msg);
        th_submit(t);
    }
    vkti_arena_free(a);
}

static void pipeline_cache_case(th *t)
{
    if (!th_case(t, "pipeline cache is written and read back"))
        return;
    char path[512];
    const char *dir = getenv("VKTI_BUILD_DIR");
    snprintf(path, sizeof path, "%s/test-pipeline-cache-%d.bin", dir ? dir : ".", (int)(vkti_now() * 1000) % 100000);
    for (int round = 0; round < 2; round++) {
        vkti_diag d = {.level = VKTI_LOG_WARN};
        vkti_gpu *g;
        vkti_gpu_options o = {.validation = 1, .pipeline_cache = path, .device = getenv("VKTI_DEVICE")};
        if (!th_ok(t, vkti_gpu_create(&g, &d, &o)))
            return;
        vkti_pipeline *p;
        th_ok(t, vkti_pipeline_get(g, "elementwise.f32", NULL, 0, &p));
        if (vkti_pipeline_bindings(p) != 3)
            th_fail(t, "elementwise has %d bindings, expected 3", vkti_pipeline_bindings(p));
        if (vkti_pipeline_get(g, "no-such-shader", NULL, 0, &p) == VKTI_OK)
            th_fail(t, "a missing shader was found");
        if (vkti_gpu_validation_messages(g))
            th_fail(t, "validation messages: %d", vkti_gpu_validation_messages(g));
        vkti_gpu_free(g);
        if (round == 0 && !vkti_file_exists(path))
            th_fail(t, "no cache file at %s", path);
    }
    vkti_file_remove(path);
}

TH_SUITE(runtime)
{
    arena_case(t);
    barrier_case(t);
    replay_case(t);
    fill_copy_view_case(t);
    staging_case(t);
    limits_case(t);
    pipeline_cache_case(t);
}
