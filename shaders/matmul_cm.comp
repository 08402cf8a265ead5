// matmul_cm.comp — tensor-core matrix product through GL_NV_cooperative_matrix: fp16 operands,
// fp32 accumulation, the same contract as matmul.comp (see pc_matmul.h):
//   C[b] = alpha * op(A[b]) * op(B[b]) + bias + beta * C[b]
// A workgroup of 8 subgroups (4 along M x 2 along N) computes a TILE x TILE block of C, each
// subgroup a WM x WN block of 16 x 8 fp32 accumulators fed by 16x8x16 MMAs. The K loop is double
// buffered: each invocation loads its share of the next BK-slice of A and B from memory into
// registers (16-byte loads where the layout allows, else 8 checked scalar loads) while the
// subgroups multiply the current slice out of shared memory; one barrier per slice. Shared tiles
// are uvec4 arrays (8 halves a slot, one padding slot a row against bank conflicts). The epilogue
// goes through the same shared memory in strips so that bias, alpha, beta and bounds are applied
// with coalesced stores. Selected by ops/matmul.c on devices with the f16 16x8x16 shape.
//! variant f16 -DTILE=128
//! variant f16s -DTILE=64
#version 450
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
#define STORAGE_F16
#include "common.glsl"
#include "pc_matmul.h"

#define WG 256u
#define FM 16u
#define FN 8u
#define FK 16u
#define BM uint(TILE)
#define BN uint(TILE)
#define BK 32u
#define WM (BM / 4u)
#define WN (BN / 2u)
#define TM (WM / FM)
#define TN (WN / FN)
#define KROW (BK / 8u + 1u)            // uvec4 slots per row of a k-contiguous tile
#define RROW(rows) ((rows) / 8u + 1u)  // uvec4 slots per k of a row-contiguous tile
#define STAGE (BM * KROW > BK * RROW(BM) ? BM * KROW : BK * RROW(BM))
#define SLOTS (BM * BK / 8u / WG)      // uvec4 slots each invocation stages per operand
#define EW (TILE == 128 ? 32u : 16u)   // epilogue strip width (columns)

layout(local_size_x = 256) in;

layout(set = 0, binding = 0) buffer Cbuf { float16_t c[]; };
layout(set = 0, binding = 1) readonly buffer Abuf { float16_t a[]; };
layout(set = 0, binding = 1) readonly buffer Abuf4 { uvec4 a4[]; };
layout(set = 0, binding = 2) readonly buffer Bbuf { float16_t b[]; };
layout(set = 0, binding = 2) readonly buffer Bbuf4 { uvec4 b4[]; };
layout(set = 0, binding = 3) readonly buffer Bias { float16_t bias[]; };

shared uvec4 As[2u * STAGE];
shared uvec4 Bs[2u * STAGE];

uvec4 ra[SLOTS], rb[SLOTS];

// Loads slot l of a ROWS x BK tile (rows r0.., k from k0) of an operand whose element (r, k) is at
// base + (kc ? r * ld + k : k * ld + r): 8 consecutive elements along the contiguous dimension.
uvec4 fetch(bool isA, uint l, uint base, uint ld, uint rows_total, uint r0, uint k0, uint K, bool kc, bool vec)
{
    const uint ROWS = isA ? BM : BN;
    uint r, k;
    if (kc) { r = l / (BK / 8u); k = (l % (BK / 8u)) * 8u; } else { k = l / (ROWS / 8u); r = (l % (ROWS / 8u)) * 8u; }
    uint gr = r0 + r, gk = k0 + k;
    if (gr >= rows_total || gk >= K)
        return uvec4(0);
    uint e = base + (kc ? gr * ld + gk : gk * ld + gr);
    if (vec) // the contiguous dimension is a multiple of 8: the whole group is in bounds
        return isA ? a4[e / 8u] : b4[e / 8u];
    float16_t h[8];
    uint lim = kc ? K - gk : rows_total - gr;
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        h[j] = j < lim ? (isA ? a[e + j] : b[e + j]) : float16_t(0.0);
    return uvec4(packFloat2x16(f16vec2(h[0], h[1])), packFloat2x16(f16vec2(h[2], h[3])),
                 packFloat2x16(f16vec2(h[4], h[5])), packFloat2x16(f16vec2(h[6], h[7])));
}

uint slot_index(bool isA, uint l, bool kc)
{
    const uint ROWS = isA ? BM : BN;
    if (kc)
        return (l / (BK / 8u)) * KROW + l % (BK / 8u);
    return (l / (ROWS / 8u)) * RROW(ROWS) + l % (ROWS / 8u);
}

void main()
{
    const uint M = pc.M, N = pc.N, K = pc.K;
    const bool ta = (pc.flags & VKTI_MM_TRANS_A) != 0u, tb = (pc.flags & VKTI_MM_TRANS_B) != 0u;
    const bool va = (pc.flags & VKTI_MM_VEC_A) != 0u, vb = (pc.flags & VKTI_MM_VEC_B) != 0u;
    const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN, batch = gl_WorkGroupID.z;
    const uint tid = gl_LocalInvocationID.x, warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
    const uint wm = (warp / 2u) * WM, wn = (warp % 2u) * WN;
    const uint abase = batch * pc.stride_a, bbase = batch * pc.stride_b, cbase = batch * pc.stride_c;
    const bool akc = !ta, bkc = tb; // A is k-contiguous unless transposed; B (N x K) when transposed
    const uint lda = ta ? M : K, ldb = tb ? K : N;

    fcoopmatNV<32, gl_ScopeSubgroup, FM, FN> acc[TM * TN];
    [[unroll]] for (uint i = 0u; i < TM * TN; i++)
        acc[i] = fcoopmatNV<32, gl_ScopeSubgroup, FM, FN>(0.0);

    // prologue: slice 0 into buffer 0
    [[unroll]] for (uint s = 0u; s < SLOTS; s++) {
        uint l = tid + s * WG;
        As[slot_index(true, l, akc)] = fetch(true, l, abase, lda, M, m0, 0u, K, akc, va);
        Bs[slot_index(false, l, bkc)] = fetch(false, l, bbase, ldb, N, n0, 0u, K, bkc, vb);
    }
    barrier();

    uint cur = 0u;
    for (uint k0 = 0u; k0 < K; k0 += BK) {
        const bool more = k0 + BK < K;
        if (more)
            [[unroll]] for (uint s = 0u; s < SLOTS; s++) {
                uint l = tid + s * WG;
                ra[s] = fetch(true, l, abase, lda, M, m0, k0 + BK, K, akc, va);
                rb[s] = fetch(false, l, bbase, ldb, N, n0, k0 + BK, K, bkc, vb);
            }
        const uint ab = cur * STAGE;
        [[unroll]] for (uint kk = 0u; kk < BK; kk += FK) {
            fcoopmatNV<16, gl_ScopeSubgroup, FM, FK> fa[TM];
            fcoopmatNV<16, gl_ScopeSubgroup, FK, FN> fb[TN];
            [[unroll]] for (uint i = 0u; i < TM; i++) {
                uint r = wm + i * FM;
                if (akc) coopMatLoadNV(fa[i], As, ab + r * KROW + kk / 8u, KROW, false);
                else     coopMatLoadNV(fa[i], As, ab + kk * RROW(BM) + r / 8u, RROW(BM), true);
            }
            [[unroll]] for (uint j = 0u; j < TN; j++) {
                uint n = wn + j * FN;
                if (bkc) coopMatLoadNV(fb[j], Bs, ab + n * KROW + kk / 8u, KROW, true);
                else     coopMatLoadNV(fb[j], Bs, ab + kk * RROW(BN) + n / 8u, RROW(BN), false);
            }
            [[unroll]] for (uint i = 0u; i < TM; i++)
                [[unroll]] for (uint j = 0u; j < TN; j++)
                    acc[i * TN + j] = coopMatMulAddNV(fa[i], fb[j], acc[i * TN + j]);
        }
        if (more) {
            const uint nb = (cur ^ 1u) * STAGE; // read last in the previous slice, before its barrier
            [[unroll]] for (uint s = 0u; s < SLOTS; s++) {
                uint l = tid + s * WG;
                As[nb + slot_index(true, l, akc)] = ra[s];
                Bs[nb + slot_index(false, l, bkc)] = rb[s];
            }
        }
        barrier();
        cur ^= 1u;
    }

    // epilogue: FM x EW strips of each subgroup's block through As (fp32, 4 per slot)
    const uint ebase = warp * (FM * EW / 4u);
    [[unroll]] for (uint i = 0u; i < TM; i++) {
        [[unroll]] for (uint j0 = 0u; j0 < TN; j0 += EW / FN) {
            [[unroll]] for (uint j = 0u; j < EW / FN; j++)
                coopMatStoreNV(acc[i * TN + j0 + j], As, ebase + j * (FN / 4u), EW / 4u, false);
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            for (uint e = lane; e < FM * EW; e += 32u) {
                uint r = e / EW, col = e % EW;
                uint gm = m0 + wm + i * FM + r, gn = n0 + wn + j0 * FN + col;
                if (gm < M && gn < N) {
                    uvec4 q = As[ebase + e / 4u];
                    uint bits = (e % 4u) == 0u ? q.x : (e % 4u) == 1u ? q.y : (e % 4u) == 2u ? q.z : q.w;
                    float v = pc.alpha * uintBitsToFloat(bits);
                    if ((pc.flags & VKTI_MM_BIAS) != 0u)
                        v += float(bias[gn]);
                    uint ci = cbase + gm * N + gn;
                    if ((pc.flags & VKTI_MM_ACCUM) != 0u)
                        v += pc.beta * float(c[ci]);
                    c[ci] = float16_t(v);
                }
            }
            subgroupMemoryBarrierShared();
            subgroupBarrier();
        }
    }
}
