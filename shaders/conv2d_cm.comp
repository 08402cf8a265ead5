// conv2d_cm.comp — tensor-core conv2d through GL_NV_cooperative_matrix: the same implicit GEMMs as
// conv2d.comp (same push constants, flat grid, phase classes for the backward; see the comment
// there) with fp16 operands and fp32 accumulation, built like matmul_cm.comp: a workgroup of 8
// subgroups (4 along M x 2 along N) computes a TILE x TILE block, each subgroup a WM x WN block of
// 16 x 8 accumulators fed by 16x8x16 MMAs. The K loop runs over (tap, BK channels) slices and is
// double buffered: each invocation gathers its share of the next slice with 16-byte loads (8
// channels of one pixel, or of one weight row) into registers while the subgroups multiply the
// current slice out of shared memory; one barrier per slice. Shared tiles are uvec4 arrays (8
// halves a slot, one padding slot a row). The epilogue goes through the same shared memory in
// strips, so bias, residual, accumulation and bounds are applied with coalesced stores.
// ops/conv2d.c selects it for f16 storage when Cin and Cout are multiples of 8 (then every 16-byte
// load is aligned and wholly inside or outside the tensor and the padding).
//! variant fwd -DTILE=128
//! variant fwd_s -DTILE=64
//! variant bwd -DTILE=128 -DBACKWARD
//! variant bwd_s -DTILE=64 -DBACKWARD
#version 450
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
#define STORAGE_F16
#include "common.glsl"
#include "pc_conv2d.h"

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
#define RROW (BN / 8u + 1u)            // uvec4 slots per k of the row-contiguous weight tile (backward)
#define STAGE (BM * KROW > BK * RROW ? BM * KROW : BK * RROW)
#define SLOTS (BM * BK / 8u / WG)      // uvec4 slots each invocation stages per operand
#define EW (TILE == 128 ? 32u : 16u)   // epilogue strip width (columns)

layout(local_size_x = 256) in;

layout(set = 0, binding = 0) buffer Dst { float16_t dst[]; };
layout(set = 0, binding = 1) readonly buffer Src4 { uvec4 src4[]; };
layout(set = 0, binding = 2) readonly buffer Wt4 { uvec4 wt4[]; };
#ifndef BACKWARD
layout(set = 0, binding = 3) readonly buffer Bias { float16_t bias[]; };
layout(set = 0, binding = 4) readonly buffer Res { float16_t res[]; };
#endif

shared uvec4 As[2u * STAGE];   // [buffer][m][k/8]
shared uvec4 Bs[2u * STAGE];   // [buffer][n][k/8] (forward) or [buffer][k][n/8] (backward)
shared uint row_pix[BM];       // destination pixel of each tile row; ~0u past M
shared uint row_n[BM];         // its sample

// the GEMM's view of the tensors, set once in main() (see conv2d.comp)
uint SH, SW, SC, DC, KT;

// A slot s of this invocation: 8 channels from kq * 8 of tile row tid / 4 + s * (WG / 4)
int a_n[SLOTS];    // n * SH * SW * SC of the row
int a_y[SLOTS];    // source y, x of the row's pixel before the tap offset; far outside past M
int a_x[SLOTS];
int a_at[SLOTS];   // for the tap being fetched: element offset of the source pixel, or -1
uvec4 ra[SLOTS], rb[SLOTS];

void set_tap(int ty, int tx)
{
    [[unroll]] for (uint s = 0u; s < SLOTS; s++) {
        int sy = a_y[s] + ty, sx = a_x[s] + tx;
        a_at[s] = uint(sy) < SH && uint(sx) < SW ? a_n[s] + (sy * int(SW) + sx) * int(SC) : -1;
    }
}

// Gathers this invocation's slots of the slice (current tap, channels c0..c0+BK) into ra, rb.
void fetch(uint tid, uint tap_off, uint c0, uint n0)
{
    const uint kq = tid % 4u;
    [[unroll]] for (uint s = 0u; s < SLOTS; s++) {
        const uint c = c0 + kq * 8u;
        ra[s] = a_at[s] >= 0 && c < SC ? src4[(uint(a_at[s]) + c) / 8u] : uvec4(0u);
#ifdef BACKWARD
        // weight element (k = co, n = ci) at co * KT + tap_off + ci: rows of BN / 8 slots
        const uint k = tid / (BN / 8u) + s * (WG / (BN / 8u)), gn = n0 + (tid % (BN / 8u)) * 8u;
        rb[s] = c0 + k < SC && gn < DC ? wt4[((c0 + k) * KT + tap_off + gn) / 8u] : uvec4(0u);
#else
        // weight element (k = ci, n = co) at co * KT + tap_off + ci
        const uint gn = n0 + tid / 4u + s * (WG / 4u);
        rb[s] = gn < DC && c < SC ? wt4[(gn * KT + tap_off + c) / 8u] : uvec4(0u);
#endif
    }
}

void store(uint tid, uint buf)
{
    [[unroll]] for (uint s = 0u; s < SLOTS; s++) {
        As[buf + (tid / 4u + s * (WG / 4u)) * KROW + tid % 4u] = ra[s];
#ifdef BACKWARD
        Bs[buf + (tid / (BN / 8u) + s * (WG / (BN / 8u))) * RROW + tid % (BN / 8u)] = rb[s];
#else
        Bs[buf + (tid / 4u + s * (WG / 4u)) * KROW + tid % 4u] = rb[s];
#endif
    }
}

void main()
{
    const uint tid = gl_LocalInvocationID.x, warp = gl_SubgroupID, lane = gl_SubgroupInvocationID;
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
    // the taps that reach this phase class: ky = ky0, ky0 + s, ...
    const int ty0 = int(ry + pc.pad_top), tx0 = int(rx + pc.pad_left);
    const uint ky0 = uint(ty0) % s, kx0 = uint(tx0) % s, kstep = s;
#else
    SH = pc.H; SW = pc.W; SC = pc.Cin; DC = pc.Cout;
    const uint P = pc.Ho, Q = pc.Wo;
    const int row_step = int(s), y_off = -int(pc.pad_top), x_off = -int(pc.pad_left);
    const uint ky0 = 0u, kx0 = 0u, kstep = 1u;
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
    [[unroll]] for (uint i = 0u; i < SLOTS; i++) {
        const uint gm = m0 + tid / 4u + i * (WG / 4u);
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

    // slices: taps (ky, kx) outer, BK-channel groups inner; (ky, kx, c0) is the slice fetched next
    const uint ntaps = (ky0 < pc.kh ? (pc.kh - ky0 + kstep - 1u) / kstep : 0u) *
                       (kx0 < pc.kw ? (pc.kw - kx0 + kstep - 1u) / kstep : 0u);
    const uint cslices = (SC + BK - 1u) / BK, nslices = ntaps * cslices;
    uint ky = ky0, kx = kx0, c0 = 0u;
#ifdef BACKWARD
#define SET_TAP() set_tap((ty0 - int(ky)) / int(s), (tx0 - int(kx)) / int(s)) // exact divisions
#else
#define SET_TAP() set_tap(int(ky), int(kx))
#endif
    if (nslices > 0u) {
        SET_TAP();
        fetch(tid, (ky * pc.kw + kx) * pc.Cin, 0u, n0);
        store(tid, 0u);
    }
    barrier(); // slice 0 and the row tables

    fcoopmatNV<32, gl_ScopeSubgroup, FM, FN> acc[TM * TN];
    [[unroll]] for (uint i = 0u; i < TM * TN; i++)
        acc[i] = fcoopmatNV<32, gl_ScopeSubgroup, FM, FN>(0.0);

    uint cur = 0u;
    for (uint t = 0u; t < nslices; t++) {
        const bool more = t + 1u < nslices;
        if (more) {
            c0 += BK;
            if (c0 >= SC) {
                c0 = 0u;
                kx += kstep;
                if (kx >= pc.kw) {
                    kx = kx0;
                    ky += kstep;
                }
                SET_TAP();
            }
            fetch(tid, (ky * pc.kw + kx) * pc.Cin, c0, n0);
        }
        const uint ab = cur * STAGE;
        [[unroll]] for (uint kk = 0u; kk < BK; kk += FK) {
            fcoopmatNV<16, gl_ScopeSubgroup, FM, FK> fa[TM];
            fcoopmatNV<16, gl_ScopeSubgroup, FK, FN> fb[TN];
            [[unroll]] for (uint i = 0u; i < TM; i++)
                coopMatLoadNV(fa[i], As, ab + (wm + i * FM) * KROW + kk / 8u, KROW, false);
            [[unroll]] for (uint j = 0u; j < TN; j++) {
#ifdef BACKWARD
                coopMatLoadNV(fb[j], Bs, ab + kk * RROW + (wn + j * FN) / 8u, RROW, false);
#else
                coopMatLoadNV(fb[j], Bs, ab + (wn + j * FN) * KROW + kk / 8u, KROW, true);
#endif
            }
            [[unroll]] for (uint i = 0u; i < TM; i++)
                [[unroll]] for (uint j = 0u; j < TN; j++)
                    acc[i * TN + j] = coopMatMulAddNV(fa[i], fb[j], acc[i * TN + j]);
        }
        if (more)
            store(tid, (cur ^ 1u) * STAGE); // that buffer was last read before the previous barrier
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
                const uint r = wm + i * FM + e / EW, gn = n0 + wn + j0 * FN + e % EW, pix = row_pix[r];
                if (pix != ~0u && gn < DC) {
                    const uvec4 q = As[ebase + e / 4u];
                    const uint bits = (e % 4u) == 0u ? q.x : (e % 4u) == 1u ? q.y : (e % 4u) == 2u ? q.z : q.w;
                    const uint o = pix * DC + gn;
                    float v = uintBitsToFloat(bits);
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
}
