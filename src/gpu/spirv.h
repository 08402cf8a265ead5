/* spirv.h — the table of SPIR-V modules compiled from shaders/ at build time and linked into
 * the binary (the table itself is generated into the build tree by cmake/shaders.cmake). */
#ifndef VKTI_GPU_SPIRV_H
#define VKTI_GPU_SPIRV_H

#include <stddef.h>
#include <stdint.h>

typedef struct vkti_spirv {
    const char *name;      /* "<shader>.<variant>", e.g. "matmul.f16" */
    const uint32_t *code;
    size_t words;
} vkti_spirv;

extern const vkti_spirv vkti_spirv_table[];
extern const int vkti_spirv_count;

const vkti_spirv *vkti_spirv_find(const char *name);

#endif
