/* gpu.h — the Vulkan runtime as the rest of vkti sees it: a device context, memory arenas,
 * tensors (block + offset + shape + dtype), pipelines from embedded SPIR-V, and command
 * recording with automatic barriers and timestamps. No Vulkan type appears here: only files
 * in src/gpu/ include Vulkan headers.
 *
 * Command recording: vkti_cmd_begin, then any number of dispatches, copies and fills, then
 * vkti_cmd_end; vkti_cmd_submit runs it and may be called again to replay the same recording.
 * Each dispatch names its tensors and whether it reads or writes them; the recorder inserts a
 * barrier only where a dispatch touches bytes that an earlier one wrote (or writes bytes an
 * earlier one read) since the last barrier. */
#ifndef VKTI_GPU_GPU_H
#define VKTI_GPU_GPU_H

#include <stddef.h>
#include <stdint.h>
#include "base/diag.h"

typedef struct vkti_gpu vkti_gpu;
typedef struct vkti_block vkti_block;
typedef struct vkti_arena vkti_arena;
typedef struct vkti_pipeline vkti_pipeline;
typedef struct vkti_cmd vkti_cmd;

typedef enum vkti_dtype {
    VKTI_F32 = 0,
    VKTI_F16 = 1,
    VKTI_I32 = 2,
    VKTI_U32 = 3,
    VKTI_BF16 = 4,
    VKTI_U8 = 5
} vkti_dtype;

size_t vkti_dtype_size(vkti_dtype t);
const char *vkti_dtype_name(vkti_dtype t);

#define VKTI_MAX_DIMS 4
/* ndim and a shape array from a list: vkti_arena_tensor(a, &t, VKTI_F16, VKTI_DIMS(B, T, D)) */
#define VKTI_DIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

/* A tensor is a typed, shaped byte range of a device block. Tensors do not own memory: an
 * arena does. shape[0] is the outermost dimension; elements are packed (row-major). */
typedef struct vkti_tensor {
    vkti_block *block;     /* NULL: no tensor */
    uint64_t offset;       /* bytes from the start of the block */
    uint64_t bytes;
    vkti_dtype dtype;
    int ndim;
    int64_t shape[VKTI_MAX_DIMS];
} vkti_tensor;

int64_t vkti_tensor_numel(const vkti_tensor *t);
/* A view of elements [first, first+count) of t with a new shape (count = product of shape). */
int vkti_tensor_view(vkti_gpu *g, vkti_tensor *out, const vkti_tensor *t, int64_t first,
                     int ndim, const int64_t *shape);

/* ---- device --------------------------------------------------------------------------- */

typedef struct vkti_gpu_options {
    const char *device;        /* "N" or a name substring; NULL: first discrete, integrated, CPU */
    int need_storage16;        /* fail (VKTI_E_UNSUPPORTED) if 16-bit storage is missing */
    int validation;            /* enable the validation layer; messages are counted */
    int sync_validation;       /* also enable synchronization validation (slower) */
    const char *pipeline_cache;/* file path; NULL: no on-disk cache */
    /* Capabilities to ignore, comma-separated: storage16, float16, subgroup, coopmat, mapped
     * ("mapped": never memcpy into mapped device memory, always go through staging).
     * Lets tests run the portable paths on a device that has the fast ones. */
    const char *disable;
} vkti_gpu_options;

int vkti_gpu_enumerate(vkti_diag *d, int validation, vkti_device_info **out, int *count);
int vkti_gpu_create(vkti_gpu **out, vkti_diag *d, const vkti_gpu_options *opt);
/* Waits for the device, saves the pipeline cache, frees everything. */
void vkti_gpu_free(vkti_gpu *g);
const vkti_device_info *vkti_gpu_info(const vkti_gpu *g);
vkti_diag *vkti_gpu_diag(vkti_gpu *g);
int vkti_gpu_validation_messages(const vkti_gpu *g);
/* Device-local bytes allocated now and at most, over all arenas. */
uint64_t vkti_gpu_bytes_in_use(const vkti_gpu *g);
uint64_t vkti_gpu_bytes_peak(const vkti_gpu *g);
/* The peak starts again from what is allocated now (after a probe whose memory was freed). */
void vkti_gpu_reset_peak(vkti_gpu *g);
int vkti_gpu_wait_idle(vkti_gpu *g);

/* ---- memory --------------------------------------------------------------------------- */

/* An arena hands out tensors from a few device blocks, bump allocation. block_bytes is the size
 * of its first block (0: 16 MiB); each further block doubles it, up to 1 GiB, and a tensor larger
 * than that gets a block of its own. */
int vkti_arena_create(vkti_gpu *g, const char *name, uint64_t block_bytes, vkti_arena **out);
/* An arena of host-visible, coherent memory: small per-step inputs and outputs of a replayed
 * recording (token ids, timesteps, hyperparameters, the loss). The host reads and writes its
 * tensors in place through vkti_tensor_host, with no transfer submission; shaders read them over
 * the bus, so keep them small. Write only while no submission that uses them is in flight. */
int vkti_arena_create_mapped(vkti_gpu *g, const char *name, uint64_t block_bytes, vkti_arena **out);
/* The host address of a tensor in a mapped arena (NULL for device-local memory). */
void *vkti_tensor_host(const vkti_tensor *t);
void vkti_arena_free(vkti_arena *a);
/* Allocates a tensor; its offset is aligned for storage-buffer binding. */
int vkti_arena_tensor(vkti_arena *a, vkti_tensor *out, vkti_dtype dtype, int ndim, const int64_t *shape);
/* Releases every tensor allocated after mark (from vkti_arena_mark). Blocks are kept. */
uint64_t vkti_arena_mark(const vkti_arena *a);
void vkti_arena_release(vkti_arena *a, uint64_t mark);
/* Bytes of blocks the arena holds; the most its tensors have used at once (since the last reset). */
uint64_t vkti_arena_bytes(const vkti_arena *a);
uint64_t vkti_arena_peak(const vkti_arena *a);
void vkti_arena_reset_peak(vkti_arena *a);

/* Host <-> device copies of a whole tensor's bytes; they wait for completion. */
int vkti_tensor_upload(vkti_gpu *g, const vkti_tensor *t, const void *src, size_t bytes);
int vkti_tensor_download(vkti_gpu *g, const vkti_tensor *t, void *dst, size_t bytes);
/* Upload from f32 host data, converting to the tensor's dtype (F32, F16 or BF16). */
int vkti_tensor_upload_f32(vkti_gpu *g, const vkti_tensor *t, const float *src, int64_t n);
int vkti_tensor_download_f32(vkti_gpu *g, const vkti_tensor *t, float *dst, int64_t n);

/* ---- pipelines ------------------------------------------------------------------------ */

/* The pipeline for an embedded shader variant ("matmul.f16") with specialization constants
 * spec[0..nspec) bound to constant_id 0..nspec-1. Created once and cached in the context. */
int vkti_pipeline_get(vkti_gpu *g, const char *shader, const uint32_t *spec, int nspec,
                      vkti_pipeline **out);
int vkti_pipeline_bindings(const vkti_pipeline *p);

/* ---- commands ------------------------------------------------------------------------- */

enum { VKTI_READ = 1, VKTI_WRITE = 2, VKTI_RW = 3 };

typedef struct vkti_arg {
    const vkti_tensor *t;
    int access;            /* VKTI_READ, VKTI_WRITE or VKTI_RW */
} vkti_arg;

#define VKTI_PUSH_MAX 128

int vkti_cmd_create(vkti_gpu *g, vkti_cmd **out);
void vkti_cmd_free(vkti_cmd *c);
vkti_gpu *vkti_cmd_gpu(vkti_cmd *c);
/* Starts a new recording (discarding the previous one). */
int vkti_cmd_begin(vkti_cmd *c);
/* Records a dispatch of groups (gx, gy, gz). args bind to bindings 0..nargs-1 in order. */
int vkti_cmd_dispatch(vkti_cmd *c, vkti_pipeline *p, const vkti_arg *args, int nargs,
                      const void *push, uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz);
/* Splits n work items into a grid of groups of `local` items each, within the device's
 * per-dimension group-count limit: sets g[0..2]. A shader indexes item (gid.y*gx + gid.x)*local+lid. */
void vkti_cmd_grid_1d(vkti_cmd *c, uint64_t n, uint32_t local, uint32_t g[3]);
int vkti_cmd_copy(vkti_cmd *c, const vkti_tensor *dst, const vkti_tensor *src);
/* Fills a tensor's bytes with a repeated 32-bit pattern. */
int vkti_cmd_fill(vkti_cmd *c, const vkti_tensor *dst, uint32_t pattern);
/* Writes a timestamp; returns its slot through *slot (or -1 if the queue has none). */
int vkti_cmd_timestamp(vkti_cmd *c, int *slot);
int vkti_cmd_end(vkti_cmd *c);
/* Submits the recording. wait=1 blocks until done. May be called many times per recording. */
int vkti_cmd_submit(vkti_cmd *c, int wait);
int vkti_cmd_wait(vkti_cmd *c);
/* Nanoseconds between two timestamp slots of the last completed submission. */
int vkti_cmd_elapsed_ns(vkti_cmd *c, int slot_from, int slot_to, double *ns);
/* Dispatches recorded since begin (for tests and statistics). */
int vkti_cmd_dispatch_count(const vkti_cmd *c);
int vkti_cmd_barrier_count(const vkti_cmd *c);

#endif
