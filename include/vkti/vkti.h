/* vkti.h — the public C API of vkti: a context, status codes and messages, device listing,
 * the op self-test and the op benchmark. The command-line program uses only this header.
 * Ownership: every vkti_*_init/create has a matching _free; strings returned by the library
 * stay owned by the context and live until the next call on it. */
#ifndef VKTI_VKTI_H
#define VKTI_VKTI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. 0 is success; negatives are failures. A user error (bad input) maps to exit
 * code 1, an environment error (no Vulkan, no device, out of memory, device lost) to 2. */
typedef enum vkti_status {
    VKTI_OK = 0,
    VKTI_E_INVALID = -1,     /* bad argument or option value */
    VKTI_E_IO = -2,          /* a file could not be read or written */
    VKTI_E_FORMAT = -3,      /* a file is malformed or hostile */
    VKTI_E_NO_VULKAN = -10,  /* no Vulkan loader or instance */
    VKTI_E_NO_DEVICE = -11,  /* no usable device, or --device matched nothing */
    VKTI_E_UNSUPPORTED = -12,/* the device lacks a needed feature */
    VKTI_E_OOM = -13,        /* host or device memory exhausted */
    VKTI_E_DEVICE_LOST = -14,
    VKTI_E_VULKAN = -15,     /* any other Vulkan failure */
    VKTI_E_INTERNAL = -16,   /* a bug in vkti */
    VKTI_E_INTERRUPTED = -17 /* stopped by the user (Ctrl-C) */
} vkti_status;

/* Exit code for a status: 0 ok, 1 user error, 2 environment error. */
int vkti_exit_code(int status);
const char *vkti_status_name(int status);

typedef enum vkti_log_level {
    VKTI_LOG_ERROR = 0,
    VKTI_LOG_WARN = 1,
    VKTI_LOG_INFO = 2,
    VKTI_LOG_DEBUG = 3
} vkti_log_level;

typedef void (*vkti_log_fn)(void *user, vkti_log_level level, const char *message);
/* A status line that replaces the previous one (training progress); final: the last of them. */
typedef void (*vkti_progress_fn)(void *user, const char *line, int final);

typedef enum vkti_precision {
    VKTI_PRECISION_FP16 = 0, /* fp16 storage, fp32 accumulation (default) */
    VKTI_PRECISION_FP32 = 1  /* fp32 everywhere: testing, GPUs without 16-bit storage */
} vkti_precision;

typedef struct vkti_options {
    const char *device;            /* "N" (index) or a substring of the name; NULL = default */
    vkti_precision precision;
    int validation;                /* 1: enable the Khronos validation layer; messages count as errors */
    const char *pipeline_cache;    /* file for the on-disk pipeline cache; NULL = none */
    const char *disable;           /* capabilities to ignore ("coopmat,subgroup,...") to test
                                      portable paths; the CLI takes it from VKTI_DISABLE */
    vkti_log_fn log;               /* NULL = silent */
    void *log_user;
    vkti_log_level log_level;      /* messages above this level are dropped */
    vkti_progress_fn progress;     /* NULL: progress goes to the log every 10 s instead */
    void *progress_user;
} vkti_options;

typedef struct vkti_ctx vkti_ctx;

/* Creates a context. Never fails for lack of a GPU: the device opens on first use. */
int vkti_ctx_init(vkti_ctx **out, const vkti_options *options);
void vkti_ctx_free(vkti_ctx *ctx);
/* The message left by the last failing call on ctx ("" if none). */
const char *vkti_ctx_message(const vkti_ctx *ctx);
/* Opens the device named in the options now (otherwise the first call that needs it does). */
int vkti_ctx_open_device(vkti_ctx *ctx);
/* Number of validation-layer messages seen so far (only with options.validation). */
int vkti_ctx_validation_messages(const vkti_ctx *ctx);

/* ---- devices ---------------------------------------------------------------------- */

typedef enum vkti_device_type {
    VKTI_DEVICE_OTHER = 0,
    VKTI_DEVICE_INTEGRATED = 1,
    VKTI_DEVICE_DISCRETE = 2,
    VKTI_DEVICE_VIRTUAL = 3,
    VKTI_DEVICE_CPU = 4
} vkti_device_type;

#define VKTI_MAX_HEAPS 16

typedef struct vkti_device_info {
    int index;
    char name[256];
    char driver_name[256];
    char driver_info[256];
    uint32_t vendor_id, device_id;
    uint32_t api_version, driver_version;
    vkti_device_type type;
    int heap_count;
    uint64_t heap_size[VKTI_MAX_HEAPS];
    int heap_device_local[VKTI_MAX_HEAPS];
    /* capabilities */
    int storage16;                 /* storageBuffer16BitAccess */
    int float16;                   /* shaderFloat16 */
    uint32_t subgroup_size;
    uint32_t subgroup_min_size, subgroup_max_size; /* from subgroup size control, else = size */
    int subgroup_arithmetic, subgroup_shuffle, subgroup_size_control;
    int coopmat_nv, coopmat_khr, coopmat2_nv;
    /* VK_NV_cooperative_matrix shape fp16 x fp16 -> fp32, M=16 N=8 K=16, subgroup scope: the one
     * the tensor-core kernels use */
    int coopmat_nv_f16_16x8x16;
    int push_descriptor;
    int memory_model;              /* vulkanMemoryModel (the cooperative-matrix shaders need it) */
    uint64_t max_storage_buffer_range;
    uint64_t max_memory_allocation_size;
    uint32_t max_shared_memory;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint64_t min_storage_offset_alignment;
    int timestamps;                /* compute queue has timestamp bits */
    double timestamp_period_ns;
} vkti_device_info;

/* Lists every Vulkan device. *out is allocated (free with vkti_free). */
int vkti_devices_list(vkti_ctx *ctx, vkti_device_info **out, int *count);
/* The device the context uses (opens it if needed). */
int vkti_device_current(vkti_ctx *ctx, vkti_device_info *out);
const char *vkti_device_type_name(vkti_device_type type);
const char *vkti_vendor_name(uint32_t vendor_id);

/* ---- self-test and benchmark ------------------------------------------------------ */

/* Runs every op once on small random data on the context's device and compares it with a
 * CPU reference; reports each through the log at INFO level. Returns VKTI_OK if all pass. */
int vkti_selftest(vkti_ctx *ctx, int *passed, int *failed);

typedef struct vkti_bench_row {
    char name[96];        /* e.g. "matmul f16 4096x320x320" */
    double ms;            /* median device time per run */
    double flops;         /* operations per run (0 for copies) */
    double bytes;         /* bytes moved per run (minimum) */
} vkti_bench_row;

/* Times the op benchmark set; *rows allocated (free with vkti_free). quick=1 uses small sizes. */
int vkti_bench_ops(vkti_ctx *ctx, int quick, vkti_bench_row **rows, int *count);

/* Times the UNet (forward, batch 1 and 2; forward + input-gradient backward, batch 1) and the
 * whole training step (batch `batch`, `steps` steps after warm-up) of the model at path, at
 * resolution pixels; recompute = 1: the backward recomputes the UNet's attention blocks (what
 * `vkti train --max-vram` does over budget). *rows allocated (vkti_free); *peak_bytes: device
 * memory held at most; *activation_bytes: the UNet's activations in the training step. */
int vkti_bench_step(vkti_ctx *ctx, const char *model_path, int resolution, int batch, int steps, int recompute,
                    vkti_bench_row **rows, int *count, uint64_t *peak_bytes, uint64_t *activation_bytes);

void vkti_free(void *p);
/* 1 when standard error is a terminal (for programs that draw progress lines in place). */
int vkti_stderr_is_terminal(void);
const char *vkti_version(void);

#ifdef __cplusplus
}
#endif
#endif
