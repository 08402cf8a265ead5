/* bench_util.c — what the op benchmarks share (see bench_internal.h): timing a recorded piece of
 * work with timestamps, random inputs, result rows. */
#include "api/bench_internal.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int vkti__bench_time(bench *b, record_fn record, void *user, double *ms)
{
    double t[32];
    int runs = b->runs < 32 ? b->runs : 32;
    for (int r = -1; r < runs; r++) { /* r = -1 warms up (pipeline creation, first touch) */
        int t0, t1, rc;
        if ((rc = vkti_cmd_begin(b->cmd)) || (rc = vkti_cmd_timestamp(b->cmd, &t0)))
            return rc;
        for (int i = 0; i < b->reps; i++)
            if ((rc = record(b->cmd, user)))
                return rc;
        if ((rc = vkti_cmd_timestamp(b->cmd, &t1)) || (rc = vkti_cmd_end(b->cmd)) || (rc = vkti_cmd_submit(b->cmd, 1)))
            return rc;
        if (r >= 0) {
            double ns;
            if ((rc = vkti_cmd_elapsed_ns(b->cmd, t0, t1, &ns)))
                return rc;
            t[r] = ns * 1e-6 / b->reps;
        }
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    *ms = t[runs / 2];
    return VKTI_OK;
}

int vkti__bench_fill(vkti_gpu *g, const vkti_tensor *t)
{
    int64_t n = vkti_tensor_numel(t);
    float *h = malloc(sizeof(float) * (size_t)n);
    if (!h)
        return VKTI_E_OOM;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        h[i] = (float)((double)(s >> 40) / 16777216.0 - 0.5);
    }
    int rc = vkti_tensor_upload_f32(g, t, h, n);
    free(h);
    return rc;
}

int vkti__bench_row(vkti_bench_row **rows, int *n, const char *name, double ms, double flops, double bytes)
{
    vkti_bench_row *nr = realloc(*rows, sizeof **rows * (size_t)(*n + 1));
    if (!nr)
        return VKTI_E_OOM;
    *rows = nr;
    vkti_bench_row *r = &nr[(*n)++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->ms = ms;
    r->flops = flops;
    r->bytes = bytes;
    return VKTI_OK;
}

