/* internal.h — what the files of src/gpu/ share: the Vulkan headers (through volk), the
 * context and object layouts, and the VK_CHECK macro that turns a VkResult into a message. */
#ifndef VKTI_GPU_INTERNAL_H
#define VKTI_GPU_INTERNAL_H

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <volk.h>

#include "gpu/gpu.h"

struct vkti_block {
    VkDeviceMemory memory;
    VkBuffer buffer;
    uint64_t size;
    void *mapped;          /* non-NULL when the memory is host-visible and coherent */
    int counted;           /* counted in the device's bytes_in_use (device-local blocks) */
    vkti_block *next;      /* in the owning arena's list */
};

struct vkti_arena {
    vkti_gpu *gpu;
    char name[32];
    uint64_t block_bytes;
    vkti_block *blocks;    /* in creation order; allocation bumps through them */
    vkti_block *cur;       /* the block being filled */
    uint64_t cur_used;     /* bytes used in cur */
    uint64_t used;         /* total bytes handed out (mark/release counter) */
    uint64_t peak;         /* the most `used` has been */
    uint64_t allocated;    /* total bytes of blocks */
    int mapped;            /* blocks are host-visible (vkti_arena_create_mapped) */
    /* mark -> (block, used) replay: marks are monotone "used" counts; release walks blocks. */
};

typedef struct vkti_pipeline_entry vkti_pipeline_entry;

struct vkti_pipeline {
    VkPipeline pipeline;
    VkPipelineLayout layout;
    VkDescriptorSetLayout set_layout;
    int bindings;
    char name[64];
};

struct vkti_gpu {
    vkti_diag *diag;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkCommandPool pool;
    VkPipelineCache pipeline_cache;
    char pipeline_cache_path[1024];
    vkti_device_info info;
    VkPhysicalDeviceMemoryProperties mem_props;
    int validation_messages;
    /* pipelines, keyed by shader name + specialization constants */
    struct vkti_pipe_slot { char key[160]; vkti_pipeline *p; } *pipes;
    int npipes, cap_pipes;
    /* staging for uploads/downloads to memory the host cannot map */
    vkti_block *staging;
    vkti_cmd *xfer;
    uint64_t bytes_in_use, bytes_peak;
    int no_mapped;         /* transfers always through staging (options.disable "mapped") */
};

/* Records "call failed: VK_ERROR_xxx (file:line)" and returns the matching vkti_status. */
int vkti__vk_fail(vkti_gpu *g, VkResult r, const char *call, const char *file, int line);
const char *vkti__vk_result_name(VkResult r);

#define VK_CHECK(g, call)                                                     \
    do {                                                                      \
        VkResult vk_r_ = (call);                                              \
        if (vk_r_ != VK_SUCCESS)                                              \
            return vkti__vk_fail((g), vk_r_, #call, __FILE__, __LINE__);      \
    } while (0)

/* memory.c */
int vkti__block_create(vkti_gpu *g, uint64_t size, int host_visible, vkti_block **out);
void vkti__block_free(vkti_gpu *g, vkti_block *b);
/* pipeline.c */
void vkti__pipelines_free(vkti_gpu *g);
int vkti__pipeline_cache_open(vkti_gpu *g, const char *path);
void vkti__pipeline_cache_save(vkti_gpu *g);

#endif
