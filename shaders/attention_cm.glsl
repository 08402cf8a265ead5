// attention_cm.glsl — shared by the tensor-core attention kernels attention_*_cm.comp: their
// extensions and includes, the fragment operations (GL_NV_cooperative_matrix, 16x8x16, f16
// operands, f32 accumulators, subgroup scope), and the staging of [B, N, H, D] f16 tensors into
// shared tiles. Include it first, right after #version, with DP (the head dimension rounded up to
// a multiple of 16) defined.
//
// Fragments: A is 16x16 f16 (rows x k), B 16x8 f16 (k x columns), C 16x8 f32. NV cooperative
// matrices give no per-element access that a kernel could map to rows, so every per-row
// operation goes through shared memory: C fragments are stored to shared memory as f32, lanes do
// the row work, and results come back as A fragments (f16) or as a C fragment that repeats one
// value per row, which FRAG_MUL multiplies into another C fragment component by component.
//
// Shared tiles are uvec4 arrays (8 halves or 4 floats a slot); tiles of head vectors have a row
// pitch of DP / 8 + 1 slots (one padding slot against bank conflicts). Fragment loads and stores
// take offsets and strides in slots.
//
// Only the block between the FRAGMENT OPS markers touches cooperative matrices or subgroups:
// the kernels are written against it, so it can be replaced by plain loops over the same shared
// memory to run the kernels' logic on a device without tensor cores.
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
// ---- FRAGMENT OPS (extensions) ----
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
// ---- end FRAGMENT OPS (extensions) ----
#define STORAGE_F16
#include "common.glsl"
#include "pc_attention.h"
#include "attention_common.glsl"

#define WG 128u              // 4 subgroups of 32
#define DC (DP / 8u)         // uvec4 chunks of a padded head vector
#define KS (DC + 1u)         // row pitch of a shared head-vector tile (slots)
#define NKD (DP / 16u)       // 16-wide k steps over the head dimension
#define NND (DP / 8u)        // 8-wide fragment columns over the head dimension

layout(local_size_x = 128) in;

// ---- FRAGMENT OPS ----
#define FRAG_A fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define FRAG_B fcoopmatNV<16, gl_ScopeSubgroup, 16, 8>
#define FRAG_C fcoopmatNV<32, gl_ScopeSubgroup, 16, 8>
#define FRAG_C_ZERO FRAG_C(0.0)
// m = the fragment at slot `el` of the shared uvec4 array buf, rows (or columns when colmajor)
// `stride` slots apart
#define FRAG_LOAD_A(m, buf, el, stride, colmajor) coopMatLoadNV(m, buf, el, stride, colmajor)
#define FRAG_LOAD_B(m, buf, el, stride, colmajor) coopMatLoadNV(m, buf, el, stride, colmajor)
#define FRAG_LOAD_C(m, buf, el, stride, colmajor) coopMatLoadNV(m, buf, el, stride, colmajor)
#define FRAG_STORE_C(m, buf, el, stride, colmajor) coopMatStoreNV(m, buf, el, stride, colmajor)
#define FRAG_MMA(a, b, c) coopMatMulAddNV(a, b, c)   // a * b + c
// c[e] *= d[e] for every component this invocation holds: components of two fragments of one
// type correspond (the extension's + and / are component-wise on them). The loop has a constant
// trip count, so that it unrolls into straight-line code with constant indices (a loop bounded by
// length() stays a loop and puts the fragments in local memory); at most 8 components per
// invocation: 128 over a 32-wide subgroup are 4 on NVIDIA.
#define FRAG_MUL(c, d)                                                  \
    [[unroll]] for (int e_ = 0; e_ < 8; e_++) {                         \
        if (e_ < c.length())                                            \
            c[e_] *= d[e_];                                             \
    }
#define FRAG_SCALE(c, s) c = c * (s)                 // by a scalar
#define WARP gl_SubgroupID
#define LANE gl_SubgroupInvocationID
// shared-memory writes of the subgroup visible to all its lanes
#define WARP_SYNC()                   \
    subgroupMemoryBarrierShared();    \
    subgroupBarrier()
// x of the lane 16 apart (the other half of a row in the row statistics)
#define XOR16(x) subgroupShuffleXor(x, 16u)
// ---- end FRAGMENT OPS ----

// Slot l of a tile of head vectors staged chunk by chunk: row l / DC, chunk l % DC.
#define CM_SLOT(l) ((l) / DC * KS + (l) % DC)

// Chunk l (8 channels) of rows [row0, ...) of one head of a [B, n, H, D] f16 tensor read as
// uvec4 (first element `base`): zero past n and past D. The dispatch code guarantees D % 8 == 0,
// so a chunk is wholly inside or outside the head and every read is 16-byte aligned.
#define CM_FETCH(BUF4, base, row0, n, l)                                                   \
    ((row0) + (l) / DC < (n) && (l) % DC < pc.dim / 8u                                     \
         ? BUF4[((base) + ((row0) + (l) / DC) * pc.heads * pc.dim) / 8u + (l) % DC]        \
         : uvec4(0u))

uvec4 pack8(float a, float b, float c, float d, float e, float f, float g, float h)
{
    return uvec4(packHalf2x16(vec2(a, b)), packHalf2x16(vec2(c, d)), packHalf2x16(vec2(e, f)),
                 packHalf2x16(vec2(g, h)));
}

vec4 slot_f32(uvec4 s)
{
    return uintBitsToFloat(s);
}
