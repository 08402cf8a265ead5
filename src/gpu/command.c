/* command.c — command recording: dispatches with descriptor sets from per-recording pools,
 * copies and fills, barriers inserted only on real hazards (read-after-write, write-after-write,
 * write-after-read between byte ranges of the same block), timestamps, and submission that can
 * replay one recording many times. */
#include "gpu/internal.h"

#include <stdlib.h>
#include <string.h>

#define SETS_PER_POOL 1024
#define MAX_TIMESTAMPS 256
#define WAIT_TIMEOUT_NS (600ull * 1000000000ull) /* a step that runs 10 minutes is a hang */

typedef struct range {
    const vkti_block *b;
    uint64_t lo, hi;
} range;

typedef struct range_list {
    range *v;
    int n, cap;
} range_list;

struct vkti_cmd {
    vkti_gpu *g;
    VkCommandBuffer cb;
    VkFence fence;
    int pending;           /* submitted and not yet waited for */
    int recording;
    int recorded;
    VkDescriptorPool *pools;
    int npools, cur_pool;
    VkQueryPool qpool;
    int nts;
    uint64_t ts[MAX_TIMESTAMPS];
    int ts_valid;
    range_list writes, reads;
    int dispatches, barriers;
};

static int range_push(vkti_gpu *g, range_list *l, const vkti_tensor *t)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        void *nv = realloc(l->v, (size_t)cap * sizeof *l->v);
        if (!nv)
            return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = (range){t->block, t->offset, t->offset + t->bytes};
    return VKTI_OK;
}

static int range_overlaps(const range_list *l, const vkti_tensor *t)
{
    uint64_t lo = t->offset, hi = t->offset + t->bytes;
    for (int i = 0; i < l->n; i++)
        if (l->v[i].b == t->block && l->v[i].lo < hi && lo < l->v[i].hi)
            return 1;
    return 0;
}

int vkti_cmd_create(vkti_gpu *g, vkti_cmd **out)
{
    *out = NULL;
    vkti_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
    c->g = g;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = g->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkResult r = vkAllocateCommandBuffers(g->device, &ai, &c->cb);
    if (r == VK_SUCCESS)
        r = vkCreateFence(g->device, &fi, NULL, &c->fence);
    if (r == VK_SUCCESS && g->info.timestamps) {
        VkQueryPoolCreateInfo qi = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = MAX_TIMESTAMPS,
        };
        r = vkCreateQueryPool(g->device, &qi, NULL, &c->qpool);
    }
    if (r != VK_SUCCESS) {
        vkti_cmd_free(c);
        return vkti__vk_fail(g, r, "vkAllocateCommandBuffers", __FILE__, __LINE__);
    }
    *out = c;
    return VKTI_OK;
}

void vkti_cmd_free(vkti_cmd *c)
{
    if (!c)
        return;
    vkti_gpu *g = c->g;
    if (c->pending)
        vkWaitForFences(g->device, 1, &c->fence, VK_TRUE, WAIT_TIMEOUT_NS);
    for (int i = 0; i < c->npools; i++)
        vkDestroyDescriptorPool(g->device, c->pools[i], NULL);
    free(c->pools);
    if (c->qpool)
        vkDestroyQueryPool(g->device, c->qpool, NULL);
    if (c->fence)
        vkDestroyFence(g->device, c->fence, NULL);
    if (c->cb)
        vkFreeCommandBuffers(g->device, g->pool, 1, &c->cb);
    free(c->writes.v);
    free(c->reads.v);
    free(c);
}

vkti_gpu *vkti_cmd_gpu(vkti_cmd *c) { return c->g; }
int vkti_cmd_dispatch_count(const vkti_cmd *c) { return c->dispatches; }
int vkti_cmd_barrier_count(const vkti_cmd *c) { return c->barriers; }

static void full_barrier(vkti_cmd *c, VkPipelineStageFlags src, VkPipelineStageFlags dst,
                         VkAccessFlags src_access, VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    vkCmdPipelineBarrier(c->cb, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

static const VkPipelineStageFlags WORK_STAGES = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
static const VkAccessFlags WORK_WRITES = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
static const VkAccessFlags WORK_ACCESS = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;

int vkti_cmd_wait(vkti_cmd *c)
{
    if (!c->pending)
        return VKTI_OK;
    vkti_gpu *g = c->g;
    VkResult r = vkWaitForFences(g->device, 1, &c->fence, VK_TRUE, WAIT_TIMEOUT_NS);
    c->pending = 0;
    if (r == VK_TIMEOUT)
        return vkti_fail(g->diag, VKTI_E_DEVICE_LOST, "the GPU did not finish within 10 minutes");
    VK_CHECK(g, r);
    if (c->qpool && c->nts) {
        r = vkGetQueryPoolResults(g->device, c->qpool, 0, (uint32_t)c->nts, sizeof c->ts, c->ts,
                                  sizeof c->ts[0], VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        VK_CHECK(g, r);
        c->ts_valid = 1;
    }
    return VKTI_OK;
}

int vkti_cmd_begin(vkti_cmd *c)
{
    vkti_gpu *g = c->g;
    int rc = vkti_cmd_wait(c);
    if (rc)
        return rc;
    VK_CHECK(g, vkResetCommandBuffer(c->cb, 0));
    for (int i = 0; i < c->npools; i++)
        VK_CHECK(g, vkResetDescriptorPool(g->device, c->pools[i], 0));
    c->cur_pool = 0;
    c->nts = 0;
    c->ts_valid = 0;
    c->writes.n = c->reads.n = 0;
    c->dispatches = c->barriers = 0;
    c->recorded = 0;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VK_CHECK(g, vkBeginCommandBuffer(c->cb, &bi));
    c->recording = 1;
    if (c->qpool)
        vkCmdResetQueryPool(c->cb, c->qpool, 0, MAX_TIMESTAMPS);
    /* Whatever earlier submissions wrote is visible to this one, and its writes wait for
     * their reads: one barrier against everything submitted before. */
    full_barrier(c, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, WORK_STAGES,
                 VK_ACCESS_MEMORY_WRITE_BIT, WORK_ACCESS);
    return VKTI_OK;
}

/* Inserts a barrier if any access in args conflicts with what was recorded since the last
 * one, then records the accesses. */
static int track(vkti_cmd *c, const vkti_arg *args, int nargs)
{
    int need = 0;
    for (int i = 0; i < nargs && !need; i++) {
        const vkti_tensor *t = args[i].t;
        if (range_overlaps(&c->writes, t))
            need = 1; /* RAW or WAW */
        else if ((args[i].access & VKTI_WRITE) && range_overlaps(&c->reads, t))
            need = 1; /* WAR */
    }
    if (need) {
        full_barrier(c, WORK_STAGES, WORK_STAGES, WORK_WRITES, WORK_ACCESS);
        c->writes.n = c->reads.n = 0;
        c->barriers++;
    }
    for (int i = 0; i < nargs; i++) {
        int rc = (args[i].access & VKTI_WRITE) ? range_push(c->g, &c->writes, args[i].t)
                                               : range_push(c->g, &c->reads, args[i].t);
        if (rc)
            return rc;
    }
    return VKTI_OK;
}

static int alloc_set(vkti_cmd *c, vkti_pipeline *p, VkDescriptorSet *set)
{
    vkti_gpu *g = c->g;
    for (;;) {
        if (c->cur_pool == c->npools) {
            VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * 8};
            VkDescriptorPoolCreateInfo pci = {
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                .maxSets = SETS_PER_POOL,
                .poolSizeCount = 1,
                .pPoolSizes = &ps,
            };
            void *np = realloc(c->pools, (size_t)(c->npools + 1) * sizeof *c->pools);
            if (!np)
                return vkti_fail(g->diag, VKTI_E_OOM, "out of host memory");
            c->pools = np;
            VK_CHECK(g, vkCreateDescriptorPool(g->device, &pci, NULL, &c->pools[c->npools]));
            c->npools++;
        }
        VkDescriptorSetAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = c->pools[c->cur_pool],
            .descriptorSetCount = 1,
            .pSetLayouts = &p->set_layout,
        };
        VkResult r = vkAllocateDescriptorSets(g->device, &ai, set);
        if (r == VK_SUCCESS)
            return VKTI_OK;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            VK_CHECK(g, r);
        c->cur_pool++;
    }
}

static int check_tensor(vkti_gpu *g, const char *what, const vkti_tensor *t, int binding)
{
    if (!t || !t->block)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: binding %d has no tensor", what, binding);
    if (t->bytes == 0)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: binding %d is empty", what, binding);
    if (t->offset % g->info.min_storage_offset_alignment)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: binding %d offset %llu is not aligned to %llu",
                         what, binding, (unsigned long long)t->offset,
                         (unsigned long long)g->info.min_storage_offset_alignment);
    if (t->bytes > g->info.max_storage_buffer_range)
        return vkti_fail(g->diag, VKTI_E_UNSUPPORTED,
                         "%s: binding %d is %.1f MiB, over this device's maxStorageBufferRange of %.1f MiB",
                         what, binding, (double)t->bytes / 1048576.0,
                         (double)g->info.max_storage_buffer_range / 1048576.0);
    if (t->offset + t->bytes > t->block->size)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: binding %d runs past its block", what, binding);
    return VKTI_OK;
}

int vkti_cmd_dispatch(vkti_cmd *c, vkti_pipeline *p, const vkti_arg *args, int nargs, const void *push,
                      uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz)
{
    vkti_gpu *g = c->g;
    if (!c->recording)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: dispatch outside begin/end", p->name);
    if (nargs != p->bindings)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: %d tensors given, the shader has %d bindings",
                         p->name, nargs, p->bindings);
    if (push_bytes > VKTI_PUSH_MAX || push_bytes % 4)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: push constants of %u bytes", p->name, push_bytes);
    if (gx == 0 || gy == 0 || gz == 0)
        return VKTI_OK; /* nothing to do */
    if (gx > g->info.max_workgroup_count[0] || gy > g->info.max_workgroup_count[1] ||
        gz > g->info.max_workgroup_count[2])
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "%s: grid %ux%ux%u over the device limit", p->name, gx, gy, gz);
    VkDescriptorBufferInfo bi[16];
    VkWriteDescriptorSet w[16];
    for (int i = 0; i < nargs; i++) {
        int rc = check_tensor(g, p->name, args[i].t, i);
        if (rc)
            return rc;
    }
    VkDescriptorSet set;
    int rc = alloc_set(c, p, &set);
    if (rc)
        return rc;
    for (int i = 0; i < nargs; i++) {
        bi[i] = (VkDescriptorBufferInfo){args[i].t->block->buffer, args[i].t->offset, args[i].t->bytes};
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = (uint32_t)i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &bi[i],
        };
    }
    if (nargs)
        vkUpdateDescriptorSets(g->device, (uint32_t)nargs, w, 0, NULL);
    if ((rc = track(c, args, nargs)))
        return rc;
    vkCmdBindPipeline(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    uint8_t pc[VKTI_PUSH_MAX] = {0};
    if (push_bytes)
        memcpy(pc, push, push_bytes);
    /* always push the whole range, so a shader never reads an undefined push constant */
    vkCmdPushConstants(c->cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, VKTI_PUSH_MAX, pc);
    vkCmdDispatch(c->cb, gx, gy, gz);
    c->dispatches++;
    return VKTI_OK;
}

void vkti_cmd_grid_1d(vkti_cmd *c, uint64_t n, uint32_t local, uint32_t g[3])
{
    uint64_t groups = (n + local - 1) / local;
    uint64_t maxx = c->g->info.max_workgroup_count[0];
    if (maxx > 65535)
        maxx = 65535;
    if (groups <= maxx) {
        g[0] = (uint32_t)groups;
        g[1] = 1;
    } else {
        g[0] = (uint32_t)maxx;
        g[1] = (uint32_t)((groups + maxx - 1) / maxx);
    }
    g[2] = 1;
}

int vkti_cmd_copy(vkti_cmd *c, const vkti_tensor *dst, const vkti_tensor *src)
{
    vkti_gpu *g = c->g;
    if (dst->bytes != src->bytes)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "copy of %llu bytes into %llu",
                         (unsigned long long)src->bytes, (unsigned long long)dst->bytes);
    if (!src->bytes)
        return VKTI_OK;
    vkti_arg args[2] = {{src, VKTI_READ}, {dst, VKTI_WRITE}};
    int rc = track(c, args, 2);
    if (rc)
        return rc;
    VkBufferCopy region = {src->offset, dst->offset, src->bytes};
    vkCmdCopyBuffer(c->cb, src->block->buffer, dst->block->buffer, 1, &region);
    return VKTI_OK;
}

int vkti_cmd_fill(vkti_cmd *c, const vkti_tensor *dst, uint32_t pattern)
{
    vkti_gpu *g = c->g;
    if (dst->offset % 4 || dst->bytes % 4)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "fill needs 4-byte aligned offset and size (%llu, %llu)",
                         (unsigned long long)dst->offset, (unsigned long long)dst->bytes);
    if (!dst->bytes)
        return VKTI_OK;
    vkti_arg a = {dst, VKTI_WRITE};
    int rc = track(c, &a, 1);
    if (rc)
        return rc;
    vkCmdFillBuffer(c->cb, dst->block->buffer, dst->offset, dst->bytes, pattern);
    return VKTI_OK;
}

int vkti_cmd_timestamp(vkti_cmd *c, int *slot)
{
    *slot = -1;
    if (!c->qpool)
        return VKTI_OK;
    if (c->nts == MAX_TIMESTAMPS)
        return vkti_fail(c->g->diag, VKTI_E_INTERNAL, "more than %d timestamps in one recording", MAX_TIMESTAMPS);
    vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->qpool, (uint32_t)c->nts);
    *slot = c->nts++;
    return VKTI_OK;
}

int vkti_cmd_end(vkti_cmd *c)
{
    vkti_gpu *g = c->g;
    if (!c->recording)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "end without begin");
    /* make every write visible to the host once the fence signals */
    full_barrier(c, WORK_STAGES, VK_PIPELINE_STAGE_HOST_BIT, WORK_WRITES, VK_ACCESS_HOST_READ_BIT);
    c->recording = 0;
    VK_CHECK(g, vkEndCommandBuffer(c->cb));
    c->recorded = 1;
    return VKTI_OK;
}

int vkti_cmd_submit(vkti_cmd *c, int wait)
{
    vkti_gpu *g = c->g;
    if (!c->recorded)
        return vkti_fail(g->diag, VKTI_E_INTERNAL, "submit of an unfinished recording");
    int rc = vkti_cmd_wait(c);
    if (rc)
        return rc;
    VK_CHECK(g, vkResetFences(g->device, 1, &c->fence));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &c->cb,
    };
    c->ts_valid = 0;
    VK_CHECK(g, vkQueueSubmit(g->queue, 1, &si, c->fence));
    c->pending = 1;
    return wait ? vkti_cmd_wait(c) : VKTI_OK;
}

int vkti_cmd_elapsed_ns(vkti_cmd *c, int from, int to, double *ns)
{
    *ns = 0;
    if (!c->ts_valid || from < 0 || to < 0 || from >= c->nts || to >= c->nts)
        return vkti_fail(c->g->diag, VKTI_E_INTERNAL, "no timestamps %d..%d in the last submission", from, to);
    uint64_t d = c->ts[to] - c->ts[from];
    *ns = (double)d * c->g->info.timestamp_period_ns;
    return VKTI_OK;
}
