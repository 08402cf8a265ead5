/* bench_internal.h — what the op benchmark files of src/api/ share: a device, a recorder, and
 * how to time a piece of recorded work (median over runs of `reps` back-to-back repetitions
 * between two timestamps, after one warm-up run). */
#ifndef VKTI_API_BENCH_INTERNAL_H
#define VKTI_API_BENCH_INTERNAL_H

#include "gpu/gpu.h"

typedef struct bench {
    vkti_gpu *g;
    vkti_cmd *cmd;
    int runs, reps;
} bench;

/* Records one repetition of the work into c. */
typedef int (*record_fn)(vkti_cmd *c, void *user);

/* Median device milliseconds per repetition. */
int vkti__bench_time(bench *b, record_fn record, void *user, double *ms);
/* Uniform random values in [-0.5, 0.5) (f32/f16/bf16 tensors). */
int vkti__bench_fill(vkti_gpu *g, const vkti_tensor *t);
/* Appends a result row. */
int vkti__bench_row(vkti_bench_row **rows, int *n, const char *name, double ms, double flops, double bytes);
/* The memory-bound op families (norms, activations, shape ops, loss, optimizer, RNG). */
int vkti__bench_memops(bench *b, vkti_arena *arena, int quick, vkti_bench_row **rows, int *count);

#endif
