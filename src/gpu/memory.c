/* memory.c — device memory: blocks (one VkDeviceMemory + one VkBuffer each), arenas that
 * sub-allocate tensors from blocks, tensor views, and host <-> device transfers. */
#include "gpu/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"

#define TENSOR_ALIGN 256u                      /* binding offsets and cache lines */
#define DEFAULT_BLOCK_BYTES (16ull << 20) /* an arena's first block; each next one doubles */
#define MAX_GROWN_BLOCK (1ull << 30)
#define STAGING_BYTES (64ull << 20)

size_t vkti_dtype_size(vkti_dtype t)
{
    switch (t) {
    case VKTI_F32: case VKTI_I32: case VKTI_U32: return 4;
    case VKTI_F16: case VKTI_BF16: return 2;
    case VKTI_U8: return 1;
    }
    return 0;
}

const char *vkti_dtype_name(vkti_dtype t)
{
    switch (t) {
    case VKTI_F32: return "f32";
    case VKTI_F16: return "f16";
    case VKTI_I32: return "i32";
    case VKTI_U32: return "u32";
    case VKTI_BF16: return "bf16";
    case VKTI_U8: return "u8";
    }
    return "?";
}

int64_t vkti_tensor_numel(const vkti_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

static int find_memory_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits,
                            VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
        if ((bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want &&
            !(mp->memoryTypes[i].propertyFlags & avoid))
            return (int)i;
    return -1;
}

int vkti__block_create(vkti_gpu *g, uint64_t size, int host_visible, vkti_block **out)
{
    *out = NULL;
    if (size > g->info.max_memory_allocation_size)
        return vkti_fail(g->diag, VKTI_E_OOM,
                         "a block of %llu bytes is over the device's maxMemoryAllocationSize (%llu)",
                         (unsigned long long)size, (unsigned long long)g->info.max_memory_allocation_size);
    vkti_block *b = calloc(1, sizeof *b);
    if (!b)
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    b->size = size;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(g->device, &bci, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        free(b);
        return vkti__vk_fail(g, r, "vkCreateBuffer", __FILE__, __LINE__);
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(g->device, b->buffer, &req);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = -1;
    if (host_visible) {
        type = find_memory_type(&g->mem_props, req.memoryTypeBits, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (type < 0)
            type = find_memory_type(&g->mem_props, req.memoryTypeBits, hv, 0);
    } else if (g->info.type == VKTI_DEVICE_CPU || g->info.type == VKTI_DEVICE_INTEGRATED) {
        /* unified memory: device-local and mappable, so transfers are plain memcpy */
        type = find_memory_type(&g->mem_props, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | hv, 0);
    }
    if (type < 0 && !host_visible) /* discrete: plain device-local, not the small BAR window */
        type = find_memory_type(&g->mem_props, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    if (type < 0 && !host_visible)
        type = find_memory_type(&g->mem_props, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (type < 0)
        type = find_memory_type(&g->mem_props, req.memoryTypeBits, 0, 0);
    if (type < 0) {
        vkDestroyBuffer(g->device, b->buffer, NULL);
        free(b);
        return vkti_fail(g->diag, VKTI_E_VULKAN, "no memory type fits a storage buffer");
    }
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    r = vkAllocateMemory(g->device, &mai, NULL, &b->memory);
    if (r == VK_SUCCESS)
        r = vkBindBufferMemory(g->device, b->buffer, b->memory, 0);
    VkMemoryPropertyFlags flags = g->mem_props.memoryTypes[type].propertyFlags;
    if (r == VK_SUCCESS && (flags & hv) == hv)
        r = vkMapMemory(g->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(g->device, b->buffer, NULL);
        if (b->memory)
            vkFreeMemory(g->device, b->memory, NULL);
        free(b);
        int rc = vkti__vk_fail(g, r, "vkAllocateMemory", __FILE__, __LINE__);
        return vkti_fail_wrap(g->diag, rc, "allocating %.1f MiB of device memory", (double)size / 1048576.0);
    }
    if (!host_visible) {
        b->counted = 1;
        g->bytes_in_use += size;
        if (g->bytes_in_use > g->bytes_peak)
            g->bytes_peak = g->bytes_in_use;
    }
    *out = b;
    return VKTI_OK;
}

void vkti__block_free(vkti_gpu *g, vkti_block *b)
{
    if (!b)
        return;
    if (b->mapped)
        vkUnmapMemory(g->device, b->memory);
    vkDestroyBuffer(g->device, b->buffer, NULL);
    vkFreeMemory(g->device, b->memory, NULL);
    if (b->counted)
        g->bytes_in_use -= b->size;
    free(b);
}

/* ---- arenas ----------------------------------------------------------------------------- */


int vkti_arena_create(vkti_gpu *g, const char *name, uint64_t block_bytes, vkti_arena **out)
{
    vkti_arena *a = calloc(1, sizeof *a);
    if (!a)
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    a->gpu = g;
    snprintf(a->name, sizeof a->name, "%s", name ? name : "arena");
    uint64_t cap = g->info.max_memory_allocation_size;
    a->block_bytes = block_bytes ? block_bytes : DEFAULT_BLOCK_BYTES;
    if (a->block_bytes > cap)
        a->block_bytes = cap;
    *out = a;
    return VKTI_OK;
}

int vkti_arena_create_mapped(vkti_gpu *g, const char *name, uint64_t block_bytes, vkti_arena **out)
{
    int rc = vkti_arena_create(g, name, block_bytes ? block_bytes : (1u << 20), out);
    if (rc == VKTI_OK)
        (*out)->mapped = 1;
    return rc;
}

void *vkti_tensor_host(const vkti_tensor *t)
{
    return t->block && t->block->mapped ? (uint8_t *)t->block->mapped + t->offset : NULL;
}

void vkti_arena_free(vkti_arena *a)
{
    if (!a)
        return;
    for (vkti_block *b = a->blocks, *nx; b; b = nx) {
        nx = b->next;
        vkti__block_free(a->gpu, b);
    }
    free(a);
}

/* Linear position of the start of block b (sum of the sizes of the blocks before it). */
static uint64_t block_base(const vkti_arena *a, const vkti_block *b)
{
    uint64_t base = 0;
    for (const vkti_block *x = a->blocks; x && x != b; x = x->next)
        base += x->size;
    return base;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

int vkti_arena_tensor(vkti_arena *a, vkti_tensor *out, vkti_dtype dtype, int ndim, const int64_t *shape)
{
    vkti_gpu *g = a->gpu;
    memset(out, 0, sizeof *out);
    if (ndim < 1 || ndim > VKTI_MAX_DIMS)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "tensor rank %d outside 1..%d", ndim, VKTI_MAX_DIMS);
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && numel > UINT64_MAX / 16 / (uint64_t)shape[i]))
            return vkti_fail(g->diag, VKTI_E_INTERNAL, "bad tensor shape");
        numel *= (uint64_t)shape[i];
        out->shape[i] = shape[i];
    }
    out->ndim = ndim;
    out->dtype = dtype;
    out->bytes = numel * vkti_dtype_size(dtype);
    uint64_t need = align_up(out->bytes ? out->bytes : 4, TENSOR_ALIGN);
    uint64_t align = g->info.min_storage_offset_alignment > TENSOR_ALIGN ? g->info.min_storage_offset_alignment
                                                                        : TENSOR_ALIGN;
    for (;;) {
        if (a->cur) {
            uint64_t off = align_up(a->cur_used, align);
            if (off + need <= a->cur->size) {
                out->block = a->cur;
                out->offset = off;
                a->cur_used = off + need;
                a->used = block_base(a, a->cur) + a->cur_used;
                if (a->used > a->peak)
                    a->peak = a->used;
                return VKTI_OK;
            }
            if (a->cur->next) { /* blocks kept from before a release */
                a->cur = a->cur->next;
                a->cur_used = 0;
                continue;
            }
        }
        vkti_block *b;
        /* blocks grow geometrically, so a tiny model holds little and a large one few blocks */
        uint64_t sz = need > a->block_bytes ? need : a->block_bytes;
        if (a->blocks && a->block_bytes < MAX_GROWN_BLOCK && 2 * a->block_bytes <= g->info.max_memory_allocation_size)
            a->block_bytes *= 2;
        int rc = vkti__block_create(g, sz, a->mapped, &b);
        if (rc)
            return vkti_fail_wrap(g->diag, rc, "arena '%s' needs %.1f MiB more", a->name,
                                  (double)need / 1048576.0);
        if (!a->blocks)
            a->blocks = b;
        else {
            vkti_block *last = a->blocks;
            while (last->next)
                last = last->next;
            last->next = b;
        }
        a->allocated += sz;
        a->cur = b;
        a->cur_used = 0;
    }
}

uint64_t vkti_arena_mark(const vkti_arena *a) { return a->used; }

void vkti_arena_release(vkti_arena *a, uint64_t mark)
{
    uint64_t base = 0;
    for (vkti_block *b = a->blocks; b; b = b->next) {
        if (mark < base + b->size || !b->next) {
            a->cur = b;
            a->cur_used = mark > base ? mark - base : 0;
            a->used = mark;
            return;
        }
        base += b->size;
    }
    a->cur = NULL;
    a->cur_used = 0;
    a->used = 0;
}

uint64_t vkti_arena_bytes(const vkti_arena *a) { return a->allocated; }
uint64_t vkti_arena_peak(const vkti_arena *a) { return a->peak; }
void vkti_arena_reset_peak(vkti_arena *a) { a->peak = a->used; }

int vkti_tensor_view(vkti_gpu *g, vkti_tensor *out, const vkti_tensor *t, int64_t first, int ndim,
                     const int64_t *shape)
{
    int64_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= shape[i];
    int64_t total = vkti_tensor_numel(t);
    if (ndim < 1 || ndim > VKTI_MAX_DIMS || first < 0 || count < 0 || first + count > total)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "view [%lld, +%lld) outside a tensor of %lld elements",
                         (long long)first, (long long)count, (long long)total);
    vkti_tensor v = *t;
    uint64_t es = vkti_dtype_size(t->dtype);
    v.offset = t->offset + (uint64_t)first * es;
    v.bytes = (uint64_t)count * es;
    v.ndim = ndim;
    for (int i = 0; i < VKTI_MAX_DIMS; i++)
        v.shape[i] = i < ndim ? shape[i] : 0;
    *out = v;
    return VKTI_OK;
}

/* ---- transfers -------------------------------------------------------------------------- */

static int staging_ready(vkti_gpu *g)
{
    if (g->staging)
        return VKTI_OK;
    return vkti__block_create(g, STAGING_BYTES, 1, &g->staging);
}

/* Copies between a tensor's bytes and host memory through the staging block. */
static int staged(vkti_gpu *g, const vkti_tensor *t, void *host, size_t bytes, int upload)
{
    int rc = staging_ready(g);
    if (rc)
        return rc;
    uint8_t *h = host;
    for (size_t done = 0; done < bytes;) {
        size_t chunk = bytes - done < STAGING_BYTES ? bytes - done : STAGING_BYTES;
        vkti_tensor st = {.block = g->staging, .offset = 0, .bytes = chunk, .dtype = VKTI_U8, .ndim = 1,
                          .shape = {(int64_t)chunk}};
        vkti_tensor dv = *t;
        dv.offset = t->offset + done;
        dv.bytes = chunk;
        dv.dtype = VKTI_U8;
        dv.ndim = 1;
        dv.shape[0] = (int64_t)chunk;
        if (upload)
            memcpy(g->staging->mapped, h + done, chunk);
        if ((rc = vkti_cmd_begin(g->xfer)) || (rc = upload ? vkti_cmd_copy(g->xfer, &dv, &st)
                                                           : vkti_cmd_copy(g->xfer, &st, &dv)) ||
            (rc = vkti_cmd_end(g->xfer)) || (rc = vkti_cmd_submit(g->xfer, 1)))
            return rc;
        if (!upload)
            memcpy(h + done, g->staging->mapped, chunk);
        done += chunk;
    }
    return VKTI_OK;
}

int vkti_tensor_upload(vkti_gpu *g, const vkti_tensor *t, const void *src, size_t bytes)
{
    if (bytes != t->bytes)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "upload of %zu bytes into a tensor of %llu", bytes,
                         (unsigned long long)t->bytes);
    if (t->block->mapped && !g->no_mapped) {
        memcpy((uint8_t *)t->block->mapped + t->offset, src, bytes);
        return VKTI_OK;
    }
    return staged(g, t, (void *)src, bytes, 1);
}

int vkti_tensor_download(vkti_gpu *g, const vkti_tensor *t, void *dst, size_t bytes)
{
    if (bytes != t->bytes)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "download of %zu bytes from a tensor of %llu", bytes,
                         (unsigned long long)t->bytes);
    if (t->block->mapped && !g->no_mapped) {
        memcpy(dst, (uint8_t *)t->block->mapped + t->offset, bytes);
        return VKTI_OK;
    }
    return staged(g, t, dst, bytes, 0);
}

int vkti_tensor_upload_f32(vkti_gpu *g, const vkti_tensor *t, const float *src, int64_t n)
{
    if (n != vkti_tensor_numel(t))
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "upload of %lld values into %lld", (long long)n,
                         (long long)vkti_tensor_numel(t));
    if (t->dtype == VKTI_F32)
        return vkti_tensor_upload(g, t, src, (size_t)n * 4);
    if (t->dtype != VKTI_F16 && t->dtype != VKTI_BF16)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "upload_f32 into a %s tensor", vkti_dtype_name(t->dtype));
    uint16_t *tmp = malloc((size_t)n * 2 + 2);
    if (!tmp)
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    for (int64_t i = 0; i < n; i++)
        tmp[i] = t->dtype == VKTI_F16 ? vkti_f32_to_f16(src[i]) : vkti_f32_to_bf16(src[i]);
    int rc = vkti_tensor_upload(g, t, tmp, (size_t)n * 2);
    free(tmp);
    return rc;
}

int vkti_tensor_download_f32(vkti_gpu *g, const vkti_tensor *t, float *dst, int64_t n)
{
    if (n != vkti_tensor_numel(t))
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "download of %lld values from %lld", (long long)n,
                         (long long)vkti_tensor_numel(t));
    if (t->dtype == VKTI_F32)
        return vkti_tensor_download(g, t, dst, (size_t)n * 4);
    if (t->dtype != VKTI_F16 && t->dtype != VKTI_BF16)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "download_f32 from a %s tensor", vkti_dtype_name(t->dtype));
    uint16_t *tmp = malloc((size_t)n * 2 + 2);
    if (!tmp)
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    int rc = vkti_tensor_download(g, t, tmp, (size_t)n * 2);
    for (int64_t i = 0; rc == VKTI_OK && i < n; i++)
        dst[i] = t->dtype == VKTI_F16 ? vkti_f16_to_f32(tmp[i]) : vkti_bf16_to_f32(tmp[i]);
    free(tmp);
    return rc;
}
