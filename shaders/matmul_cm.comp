// matmul_cm.comp — tensor-core matrix product through GL_NV_cooperative_matrix: fp16 operands,
// fp32 accumulation, the same contract as matmul.comp (see pc_matmul.h):
//   C[b] = alpha * op(A[b]) * op(B[b]) + bias + beta * C[b]
// A workgroup of 4 subgroups (2 x 2) computes a BM x BN tile; each subgroup a WM x WN block of
// 16 x 8 fp32 accumulators. Tiles of A and B are staged in shared memory as fp16 (vector loads of
// 8 halves when the contiguous dimension allows it), multiplied with 16x8x16 MMAs, and written
// back through a per-subgroup shared-memory strip so that bias, alpha, beta and bounds are applied
// with coalesced stores. Selected by ops/matmul.c on devices with the f16 16x8x16 shape.
//! variant f16 -DTILE=128
//! variant f16s -DTILE=64
#version 450
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#define STORAGE_F16
#include "common.glsl"
#include "pc_matmul.h"

#define FM 16u
#define FN 8u
#define FK 16u
#define BM TILE
#define BN TILE
#define BK 32u
#define WM (BM / 2u)
#define WN (BN / 2u)
#define TM (WM / FM)
#define TN (WN / FN)
#define PAD 8u
// shared layouts: k-contiguous [rows][BK + PAD] or row-contiguous [BK][rows + PAD]
#define SMEM_ELEMS (BM * (BK + PAD) > BK * (BM + PAD) ? BM * (BK + PAD) : BK * (BM + PAD))

layout(local_size_x = 128) in;

layout(set = 0, binding = 0) buffer Cbuf { float16_t c[]; };
layout(set = 0, binding = 1) readonly buffer Abuf { float16_t a[]; };
layout(set = 0, binding = 1) readonly buffer Abuf4 { uvec4 a4[]; };
layout(set = 0, binding = 2) readonly buffer Bbuf { float16_t b[]; };
layout(set = 0, binding = 2) readonly buffer Bbuf4 { uvec4 b4[]; };
layout(set = 0, binding = 3) readonly buffer Bias { float16_t bias[]; };

shared float16_t As[SMEM_ELEMS];
shared float16_t Bs[SMEM_ELEMS];
shared float Es[4u * FM * WN]; // one 16-row strip per subgroup

// Stages a ROWS x BK tile of an operand whose logical element (r, k) lives at
// base + (kcontig ? r * ld + k : k * ld + r). Shared layout follows memory order.
void stage(bool isA, uint base, uint ld, uint rows_total, uint r0, uint k0, uint K, bool kcontig, bool vec)
{
    const uint tid = gl_LocalInvocationID.x;
    const uint ROWS = isA ? BM : BN;
    if (vec) {
        // groups of 8 consecutive elements along the contiguous dimension
        uint n8 = kcontig ? ROWS * (BK / 8u) : BK * (ROWS / 8u);
        for (uint l = tid; l < n8; l += 128u) {
            uint r, k, s;
            if (kcontig) { r = l / (BK / 8u); k = (l % (BK / 8u)) * 8u; s = r * (BK + PAD) + k; }
            else         { k = l / (ROWS / 8u); r = (l % (ROWS / 8u)) * 8u; s = k * (ROWS + PAD) + r; }
            uint gr = r0 + r, gk = k0 + k;
            uvec4 v = uvec4(0);
            bool inb = kcontig ? (gr < rows_total && gk < K) : (gk < K && gr < rows_total);
            if (inb) {
                uint e = base + (kcontig ? gr * ld + gk : gk * ld + gr);
                v = isA ? a4[e / 8u] : b4[e / 8u];
            }
            f16vec2 p0 = unpackFloat2x16(v.x), p1 = unpackFloat2x16(v.y), p2 = unpackFloat2x16(v.z), p3 = unpackFloat2x16(v.w);
            if (isA) {
                As[s] = p0.x; As[s + 1u] = p0.y; As[s + 2u] = p1.x; As[s + 3u] = p1.y;
                As[s + 4u] = p2.x; As[s + 5u] = p2.y; As[s + 6u] = p3.x; As[s + 7u] = p3.y;
            } else {
                Bs[s] = p0.x; Bs[s + 1u] = p0.y; Bs[s + 2u] = p1.x; Bs[s + 3u] = p1.y;
                Bs[s + 4u] = p2.x; Bs[s + 5u] = p2.y; Bs[s + 6u] = p3.x; Bs[s + 7u] = p3.y;
            }
        }
    } else {
        for (uint l = tid; l < ROWS * BK; l += 128u) {
            uint r, k, s;
            if (kcontig) { r = l / BK; k = l % BK; s = r * (BK + PAD) + k; }
            else         { k = l / ROWS; r = l % ROWS; s = k * (ROWS + PAD) + r; }
            uint gr = r0 + r, gk = k0 + k;
            float16_t v = float16_t(0.0);
            if (gr < rows_total && gk < K)
                v = isA ? a[base + (kcontig ? gr * ld + gk : gk * ld + gr)]
                        : b[base + (kcontig ? gr * ld + gk : gk * ld + gr)];
            if (isA) As[s] = v; else Bs[s] = v;
        }
    }
}

void main()
{
    const uint M = pc.M, N = pc.N, K = pc.K;
    const bool ta = (pc.flags & VKTI_MM_TRANS_A) != 0u, tb = (pc.flags & VKTI_MM_TRANS_B) != 0u;
    const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN, batch = gl_WorkGroupID.z;
    const uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
    const uint wm = (warp / 2u) * WM, wn = (warp % 2u) * WN;
    const uint abase = batch * pc.stride_a, bbase = batch * pc.stride_b, cbase = batch * pc.stride_c;
    // A is k-contiguous unless transposed; B (as N x K) is k-contiguous when transposed
    const bool a_kc = !ta, b_kc = tb;
    const uint lda = ta ? M : K, ldb = tb ? K : N;

    fcoopmatNV<32, gl_ScopeSubgroup, FM, FN> acc[TM * TN];
    for (uint i = 0u; i < TM * TN; i++)
        acc[i] = fcoopmatNV<32, gl_ScopeSubgroup, FM, FN>(0.0);

    for (uint k0 = 0u; k0 < K; k0 += BK) {
        stage(true, abase, lda, M, m0, k0, K, a_kc, (pc.flags & VKTI_MM_VEC_A) != 0u);
        stage(false, bbase, ldb, N, n0, k0, K, b_kc, (pc.flags & VKTI_MM_VEC_B) != 0u);
        barrier();
        for (uint kk = 0u; kk < BK; kk += FK) {
            fcoopmatNV<16, gl_ScopeSubgroup, FM, FK> fa[TM];
            fcoopmatNV<16, gl_ScopeSubgroup, FK, FN> fb[TN];
            for (uint i = 0u; i < TM; i++) {
                uint r = wm + i * FM;
                if (a_kc) coopMatLoadNV(fa[i], As, r * (BK + PAD) + kk, BK + PAD, false);
                else      coopMatLoadNV(fa[i], As, kk * (BM + PAD) + r, BM + PAD, true);
            }
            for (uint j = 0u; j < TN; j++) {
                uint cidx = wn + j * FN;
                if (b_kc) coopMatLoadNV(fb[j], Bs, cidx * (BK + PAD) + kk, BK + PAD, true);
                else      coopMatLoadNV(fb[j], Bs, kk * (BN + PAD) + cidx, BN + PAD, false);
            }
            for (uint i = 0u; i < TM; i++)
                for (uint j = 0u; j < TN; j++)
                    acc[i * TN + j] = coopMatMulAddNV(fa[i], fb[j], acc[i * TN + j]);
        }
        barrier();
    }

    // epilogue: one 16-row strip of the subgroup's block at a time through shared memory
    const uint ebase = warp * FM * WN;
    for (uint i = 0u; i < TM; i++) {
        for (uint j = 0u; j < TN; j++)
            coopMatStoreNV(acc[i * TN + j], Es, ebase + j * FN, WN, false);
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        for (uint e = lane; e < FM * WN; e += 32u) {
            uint r = e / WN, col = e % WN;
            uint gm = m0 + wm + i * FM + r, gn = n0 + wn + col;
            if (gm < M && gn < N) {
                float v = pc.alpha * Es[ebase + e];
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
