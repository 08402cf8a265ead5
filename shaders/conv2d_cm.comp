// conv2d_cm.comp — tensor-core conv2d through GL_NV_cooperative_matrix: the same implicit GEMMs as
// conv2d.comp (same push constants, flat grid, phase classes for the backward; see the comment
// there) with fp16 operands and fp32 accumulation. The operand tiles are gathered per tap with
// 8-half vector loads into shared memory and multiplied with 16x8x16 MMAs; the epilogue goes
// through a per-subgroup shared-memory strip, as in matmul_cm.comp, so that bias, residual,
// accumulation and bounds are applied with coalesced stores.
// A workgroup of 4 subgroups (2 x 2) computes a BM x BN tile; each subgroup WM x WN.
// ops/conv2d.c selects it for f16 storage when Cin and Cout are multiples of 8 (every vector load
// is then aligned and wholly inside or wholly outside the tensor) on devices with the f16
// 16x8x16 shape and 32-wide subgroups.
//! variant fwd -DTILE=128
//! variant fwd_s -DTILE=64
//! variant bwd -DTILE=128 -DBACKWARD
//! variant bwd_s -DTILE=64 -DBACKWARD
#version 450
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#define STORAGE_F16
#include "common.glsl"
#include "pc_conv2d.h"

#define WG 128u
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
// A staging: an invocation loads the 8-channel group tid % 4 of tile rows tid / 4 + i * 32
#define A_ROWS (BM / 32u)

layout(local_size_x = 128) in;

layout(set = 0, binding = 0) buffer Dst { float16_t dst[]; };
layout(set = 0, binding = 1) readonly buffer Src4 { uvec4 src4[]; };
layout(set = 0, binding = 2) readonly buffer Wt4 { uvec4 wt4[]; };
#ifndef BACKWARD
layout(set = 0, binding = 3) readonly buffer Bias { float16_t bias[]; };
layout(set = 0, binding = 4) readonly buffer Res { float16_t res[]; };
#endif

shared float16_t As[BM * (BK + PAD)];   // As[m][k]
#ifdef BACKWARD
shared float16_t Bs[BK * (BN + PAD)];   // Bs[k][n]: the weight is contiguous in n = ci
#else
shared float16_t Bs[BN * (BK + PAD)];   // Bs[n][k]: the weight is contiguous in k = ci
#endif
shared float Es[4u * FM * WN];          // one 16-row strip per subgroup
shared uint row_pix[BM];                // destination pixel of each tile row; ~0u past M
shared uint row_n[BM];                  // its sample

// the GEMM's view of the tensors, set once in main() (see conv2d.comp)
uint SH, SW, SC, DC, KT;

int a_n[A_ROWS];
int a_y[A_ROWS];
int a_x[A_ROWS];
int a_at[A_ROWS];

void set_tap(int ty, int tx)
{
    for (uint i = 0u; i < A_ROWS; i++) {
        int sy = a_y[i] + ty, sx = a_x[i] + tx;
        a_at[i] = uint(sy) < SH && uint(sx) < SW ? a_n[i] + (sy * int(SW) + sx) * int(SC) : -1;
    }
}

void put8(bool a, uint s, uvec4 v)
{
    f16vec2 p0 = unpackFloat2x16(v.x), p1 = unpackFloat2x16(v.y), p2 = unpackFloat2x16(v.z), p3 = unpackFloat2x16(v.w);
    if (a) {
        As[s] = p0.x; As[s + 1u] = p0.y; As[s + 2u] = p1.x; As[s + 3u] = p1.y;
        As[s + 4u] = p2.x; As[s + 5u] = p2.y; As[s + 6u] = p3.x; As[s + 7u] = p3.y;
    } else {
        Bs[s] = p0.x; Bs[s + 1u] = p0.y; Bs[s + 2u] = p1.x; Bs[s + 3u] = p1.y;
        Bs[s + 4u] = p2.x; Bs[s + 5u] = p2.y; Bs[s + 6u] = p3.x; Bs[s + 7u] = p3.y;
    }
}

// As[m][k] = source channel c0 + k of tile row m at the current tap (SC % 8 == 0)
void stage_a(uint tid, uint c0)
{
    const uint kq = tid % 4u, c = c0 + kq * 8u;
    for (uint i = 0u; i < A_ROWS; i++) {
        const uint r = tid / 4u + i * 32u;
        uvec4 v = uvec4(0u);
        if (a_at[i] >= 0 && c < SC)
            v = src4[(uint(a_at[i]) + c) / 8u];
        put8(true, r * (BK + PAD) + kq * 8u, v);
    }
}

void stage_b(uint tid, uint tap_off, uint c0, uint n0)
{
#ifdef BACKWARD
    // Bs[k][n] = w[co = c0 + k][tap][ci = n0 + n]: rows of BN/8 vectors
    const uint nq = tid % (BN / 8u), gn = n0 + nq * 8u;
    for (uint k = tid / (BN / 8u); k < BK; k += WG / (BN / 8u)) {
        const uint c = c0 + k;
        uvec4 v = uvec4(0u);
        if (c < SC && gn < DC)
            v = wt4[(c * KT + tap_off + gn) / 8u];
        put8(false, k * (BN + PAD) + nq * 8u, v);
    }
#else
    // Bs[n][k] = w[co = n0 + n][tap][ci = c0 + k]
    const uint kq = tid % 4u, c = c0 + kq * 8u;
    for (uint col = tid / 4u; col < BN; col += 32u) {
        const uint gn = n0 + col;
        uvec4 v = uvec4(0u);
        if (gn < DC && c < SC)
            v = wt4[(gn * KT + tap_off + c) / 8u];
        put8(false, col * (BK + PAD) + kq * 8u, v);
    }
#endif
}

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
    const uint wm = (warp / 2u) * WM, wn = (warp % 2u) * WN;
    const uint lin = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (lin >= pc.groups)
        return;
    const uint n0 = (lin % pc.n_tiles) * BN, rest = lin / pc.n_tiles;
    const uint m0 = (rest % pc.m_tiles) * BM, cls = rest / pc.m_tiles;
    const uint s = pc.stride;
#ifdef BACKWARD
    SH = pc.Ho; SW = pc.Wo; SC = pc.Cout; DC = pc.Cin;
    const uint ry = cls / s, rx = cls % s;
    if (ry >= pc.H || rx >= pc.W)
        return;
    const uint P = (pc.H - ry + s - 1u) / s, Q = (pc.W - rx + s - 1u) / s;
    const int row_step = 1, y_off = 0, x_off = 0;
#else
    SH = pc.H; SW = pc.W; SC = pc.Cin; DC = pc.Cout;
    const uint P = pc.Ho, Q = pc.Wo;
    const int row_step = int(s), y_off = -int(pc.pad_top), x_off = -int(pc.pad_left);
#endif
    KT = pc.kh * pc.kw * pc.Cin;
    const uint M = pc.N * P * Q, PQ = P * Q;
    if (m0 >= M)
        return;

    for (uint r = tid; r < BM; r += WG) {
        const uint gm = m0 + r;
        row_pix[r] = ~0u;
        row_n[r] = 0u;
        if (gm < M) {
            const uint n = gm / PQ, pq = gm - n * PQ, p = pq / Q, q = pq - p * Q;
#ifdef BACKWARD
            row_pix[r] = (n * pc.H + p * s + ry) * pc.W + q * s + rx;
#else
            row_pix[r] = gm;
#endif
            row_n[r] = n;
        }
    }
    for (uint i = 0u; i < A_ROWS; i++) {
        const uint gm = m0 + tid / 4u + i * 32u;
        a_n[i] = 0;
        a_y[i] = -(1 << 30);
        a_x[i] = 0;
        if (gm < M) {
            const uint n = gm / PQ, pq = gm - n * PQ, p = pq / Q, q = pq - p * Q;
            a_n[i] = int(n * SH * SW * SC);
            a_y[i] = int(p) * row_step + y_off;
            a_x[i] = int(q) * row_step + x_off;
        }
    }
    barrier(); // row tables; the K loop may be empty (a phase class that no tap reaches)

    fcoopmatNV<32, gl_ScopeSubgroup, FM, FN> acc[TM * TN];
    for (uint i = 0u; i < TM * TN; i++)
        acc[i] = fcoopmatNV<32, gl_ScopeSubgroup, FM, FN>(0.0);

#ifdef BACKWARD
    const int ty0 = int(ry + pc.pad_top), tx0 = int(rx + pc.pad_left);
    for (uint ky = uint(ty0) % s; ky < pc.kh; ky += s) {
        for (uint kx = uint(tx0) % s; kx < pc.kw; kx += s) {
            set_tap((ty0 - int(ky)) / int(s), (tx0 - int(kx)) / int(s)); // exact divisions
#else
    for (uint ky = 0u; ky < pc.kh; ky++) {
        for (uint kx = 0u; kx < pc.kw; kx++) {
            set_tap(int(ky), int(kx));
#endif
            const uint tap_off = (ky * pc.kw + kx) * pc.Cin;
            for (uint c0 = 0u; c0 < SC; c0 += BK) {
                stage_a(tid, c0);
                stage_b(tid, tap_off, c0, n0);
                barrier();
                for (uint kk = 0u; kk < BK; kk += FK) {
                    fcoopmatNV<16, gl_ScopeSubgroup, FM, FK> fa[TM];
                    fcoopmatNV<16, gl_ScopeSubgroup, FK, FN> fb[TN];
                    for (uint i = 0u; i < TM; i++)
                        coopMatLoadNV(fa[i], As, (wm + i * FM) * (BK + PAD) + kk, BK + PAD, false);
                    for (uint j = 0u; j < TN; j++) {
#ifdef BACKWARD
                        coopMatLoadNV(fb[j], Bs, kk * (BN + PAD) + wn + j * FN, BN + PAD, false);
#else
                        coopMatLoadNV(fb[j], Bs, (wn + j * FN) * (BK + PAD) + kk, BK + PAD, true);
#endif
                    }
                    for (uint i = 0u; i < TM; i++)
                        for (uint j = 0u; j < TN; j++)
                            acc[i * TN + j] = coopMatMulAddNV(fa[i], fb[j], acc[i * TN + j]);
                }
                barrier();
            }
        }
    }

    // epilogue: one 16-row strip of the subgroup's block at a time through shared memory
    const uint ebase = warp * FM * WN;
    for (uint i = 0u; i < TM; i++) {
        for (uint j = 0u; j < TN; j++)
            coopMatStoreNV(acc[i * TN + j], Es, ebase + j * FN, WN, false);
        subgroupMemoryBarrierShared();
        subgroupBarrier();
        for (uint e = lane; e < FM * WN; e += 32u) {
            const uint r = wm + i * FM + e / WN, gn = n0 + wn + e % WN, pix = row_pix[r];
            if (pix != ~0u && gn < DC) {
                const uint o = pix * DC + gn;
                float v = Es[ebase + e];
#ifdef BACKWARD
                if ((pc.flags & VKTI_CONV_ACCUM) != 0u)
                    v += float(dst[o]);
#else
                if ((pc.flags & VKTI_CONV_BIAS) != 0u)
                    v += float(bias[gn]);
                if ((pc.flags & VKTI_CONV_BIAS_SAMPLE) != 0u)
                    v += float(bias[row_n[r] * DC + gn]);
                if ((pc.flags & VKTI_CONV_RESIDUAL) != 0u)
                    v += float(res[o]);
#endif
                dst[o] = float16_t(v);
            }
        }
        subgroupMemoryBarrierShared();
        subgroupBarrier();
    }
}
