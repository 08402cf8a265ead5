// conv2d.comp — 2-D convolution of NHWC tensors as an implicit GEMM (no im2col buffer), forward
// and input-gradient backward; sizes and flags in pc_conv2d.h, API in src/ops/conv2d.h.
//
// Forward: GEMM rows are output pixels (n, oy, ox), columns output channels; K runs over the
// taps (ky, kx) and, inside a tap, over input channels in slices of BK:
//     out[n,oy,ox,co] = sum_{ky,kx,ci} in[n, oy*s - pt + ky, ox*s - pl + kx, ci] * w[co,ky,kx,ci]
// Backward (BACKWARD): the transposed convolution, rows are input pixels, columns input channels.
// Input pixels fall into s*s phase classes (y % s, x % s). In the class of y = s*j + ry exactly
// the taps with (ry + pt - ky) % s == 0 reach y, each from d_out row oy = j + (ry + pt - ky) / s.
// So each class is a dense GEMM over its own taps (the z part of the flat workgroup index) and
// stride 2 multiplies no zeros:
//     d_in[n,y,x,ci] = sum_{taps of the class} sum_co d_out[n, oy, ox, co] * w[co,ky,kx,ci]
//
// One structure serves both: the "source" operand A (in, or d_out) is gathered per tap, BK
// channels of a pixel at a time (consecutive invocations read consecutive channels: coalesced;
// zero outside the image), the weight slice B likewise, then a register-tiled product over
// shared memory as in matmul.comp, then the epilogue (bias, residual, accumulation). Staging and
// the inner product are separate functions, so a cooperative-matrix product can replace
// tile_product() alone.
//! variant fwd_f32
//! variant fwd_f16 -DSTORAGE_F16
//! variant bwd_f32 -DBACKWARD
//! variant bwd_f16 -DBACKWARD -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_conv2d.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint BM = 64;   // rows (pixels) per workgroup tile
layout(constant_id = 2) const uint BN = 64;   // columns (channels) per tile
layout(constant_id = 3) const uint BK = 16;   // source channels per K slice; WG % BK == 0
layout(constant_id = 4) const uint TM = 4;    // rows per invocation
layout(constant_id = 5) const uint TN = 4;    // columns per invocation; WG == (BM/TM) * (BN/TN)

layout(set = 0, binding = 0) buffer Dst { STORE_T dst[]; };
layout(set = 0, binding = 1) readonly buffer Src { STORE_T src[]; };
layout(set = 0, binding = 2) readonly buffer Wt { STORE_T wt[]; };
#ifndef BACKWARD
layout(set = 0, binding = 3) readonly buffer Bias { STORE_T bias[]; };
layout(set = 0, binding = 4) readonly buffer Res { STORE_T res[]; };
#endif

// +1 pads rows so that a warp writing a column of a tile hits distinct banks
shared float As[BK * (BM + 1)];   // As[k][m]
shared float Bs[BK * (BN + 1)];   // Bs[k][n]

// A staging: an invocation loads channel tid % BK of tile rows tid / BK + i * A_STEP.
const uint A_STEP = WG / BK;
const uint A_ROWS = (BM + A_STEP - 1) / A_STEP;
#ifdef BACKWARD
// B staging, weight read as [co = k][tap][ci = column]: column tid % BN of k rows tid / BN + i * B_STEP
// (WG % BN == 0)
const uint B_STEP = WG / BN;
const uint B_ITEMS = (BK + B_STEP - 1) / B_STEP;
#else
// B staging, weight read as [co = column][tap][ci = k]: channel tid % BK of columns tid / BK + i * A_STEP
const uint B_ITEMS = (BN + A_STEP - 1) / A_STEP;
#endif

// the GEMM's view of the tensors, set once in main()
uint SH, SW, SC;   // source image [N, SH, SW, SC]: in (forward) or d_out (backward)
uint DC;           // destination channels = GEMM columns: Cout (forward) or Cin (backward)
uint KT;           // weight elements per output channel: kh * kw * Cin

float acc[TM * TN];
int a_n[A_ROWS];   // n * SH * SW * SC for the staged rows
int a_y[A_ROWS];   // source y, x of the row's pixel before the tap offset; rows past M are far outside
int a_x[A_ROWS];
int a_at[A_ROWS];  // for the current tap: element offset of the source pixel, or -1 (zero padding)

// Moves the staged rows to tap offset (ty, tx): bounds are checked once per tap, not per channel.
void set_tap(int ty, int tx)
{
    for (uint i = 0; i < A_ROWS; i++) {
        int sy = a_y[i] + ty, sx = a_x[i] + tx;
        a_at[i] = uint(sy) < SH && uint(sx) < SW ? a_n[i] + (sy * int(SW) + sx) * int(SC) : -1;
    }
}

// As[k][m] = source channel c0 + k of row m at the current tap
void stage_a(uint tid, uint c0)
{
    const uint kk = tid % BK, c = c0 + kk;
    for (uint i = 0; i < A_ROWS; i++) {
        const uint r = tid / BK + i * A_STEP;
        if (r < BM) {
            float v = 0.0;
            if (a_at[i] >= 0 && c < SC)
                v = float(src[a_at[i] + int(c)]);
            As[kk * (BM + 1) + r] = v;
        }
    }
}

// Bs[k][n] = weight of source channel c0 + k and destination channel n0 + n at the tap whose
// weights start at tap_off within each output channel's kh * kw * Cin block
void stage_b(uint tid, uint tap_off, uint c0, uint n0)
{
#ifdef BACKWARD
    const uint col = tid % BN, gn = n0 + col;
    for (uint i = 0; i < B_ITEMS; i++) {
        const uint kk = tid / BN + i * B_STEP, c = c0 + kk;
        if (kk < BK) {
            float v = 0.0;
            if (gn < DC && c < SC)
                v = float(wt[c * KT + tap_off + gn]);
            Bs[kk * (BN + 1) + col] = v;
        }
    }
#else
    const uint kk = tid % BK, c = c0 + kk;
    for (uint i = 0; i < B_ITEMS; i++) {
        const uint col = tid / BK + i * A_STEP, gn = n0 + col;
        if (col < BN) {
            float v = 0.0;
            if (gn < DC && c < SC)
                v = float(wt[gn * KT + tap_off + c]);
            Bs[kk * (BN + 1) + col] = v;
        }
    }
#endif
}

// acc += As^T Bs over one K slice. Rows an invocation owns are strided by BM/TM, columns by
// BN/TN, so shared-memory reads are broadcasts or consecutive.
void tile_product(uint tx, uint ty)
{
    float ra[TM], rb[TN];
    for (uint kk = 0; kk < BK; kk++) {
        for (uint i = 0; i < TM; i++)
            ra[i] = As[kk * (BM + 1) + ty + i * (BM / TM)];
        for (uint j = 0; j < TN; j++)
            rb[j] = Bs[kk * (BN + 1) + tx + j * (BN / TN)];
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TN; j++)
                acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]);
    }
}

// One K slice: stage both operands, multiply.
void slice(uint tid, uint tx, uint ty, uint tap_off, uint c0, uint n0)
{
    stage_a(tid, c0);
    stage_b(tid, tap_off, c0, n0);
    barrier();
    tile_product(tx, ty);
    barrier();
}

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint tx = tid % (BN / TN), ty = tid / (BN / TN);
    const uint lin = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (lin >= pc.groups)
        return;
    const uint n0 = (lin % pc.n_tiles) * BN, rest = lin / pc.n_tiles;
    const uint m0 = (rest % pc.m_tiles) * BM, cls = rest / pc.m_tiles;
    const uint s = pc.stride;
#ifdef BACKWARD
    SH = pc.Ho; SW = pc.Wo; SC = pc.Cout; DC = pc.Cin;
    // this workgroup's phase class: input pixels y = s*j + ry, x = s*i + rx, a P x Q grid
    const uint ry = cls / s, rx = cls % s;
    if (ry >= pc.H || rx >= pc.W)
        return;
    const uint P = (pc.H - ry + s - 1) / s, Q = (pc.W - rx + s - 1) / s;
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

    for (uint i = 0; i < A_ROWS; i++) {
        const uint r = tid / BK + i * A_STEP, gm = m0 + r;
        a_n[i] = 0;
        a_y[i] = -(1 << 30);
        a_x[i] = 0;
        if (r < BM && gm < M) {
            const uint n = gm / PQ, pq = gm - n * PQ, p = pq / Q, q = pq - p * Q;
            a_n[i] = int(n * SH * SW * SC);
            a_y[i] = int(p) * row_step + y_off;
            a_x[i] = int(q) * row_step + x_off;
        }
    }
    for (uint i = 0; i < TM * TN; i++)
        acc[i] = 0.0;

#ifdef BACKWARD
    const int ty0 = int(ry + pc.pad_top), tx0 = int(rx + pc.pad_left);
    for (uint ky = uint(ty0) % s; ky < pc.kh; ky += s) {
        for (uint kx = uint(tx0) % s; kx < pc.kw; kx += s) {
            set_tap((ty0 - int(ky)) / int(s), (tx0 - int(kx)) / int(s)); // exact divisions
#else
    for (uint ky = 0; ky < pc.kh; ky++) {
        for (uint kx = 0; kx < pc.kw; kx++) {
            set_tap(int(ky), int(kx));
#endif
            const uint tap_off = (ky * pc.kw + kx) * pc.Cin;
            for (uint c0 = 0; c0 < SC; c0 += BK)
                slice(tid, tx, ty, tap_off, c0, n0);
        }
    }

    for (uint i = 0; i < TM; i++) {
        const uint gm = m0 + ty + i * (BM / TM);
        if (gm >= M)
            continue;
        const uint n = gm / PQ, pq = gm - n * PQ;
#ifdef BACKWARD
        const uint p = pq / Q, q = pq - p * Q;
        const uint pix = (n * pc.H + p * s + ry) * pc.W + q * s + rx;
#else
        const uint pix = gm;
#endif
        for (uint j = 0; j < TN; j++) {
            const uint gn = n0 + tx + j * (BN / TN);
            if (gn >= DC)
                continue;
            const uint o = pix * DC + gn;
            float v = acc[i * TN + j];
#ifdef BACKWARD
            if ((pc.flags & VKTI_CONV_ACCUM) != 0u)
                v += float(dst[o]);
#else
            if ((pc.flags & VKTI_CONV_BIAS) != 0u)
                v += float(bias[gn]);
            if ((pc.flags & VKTI_CONV_BIAS_SAMPLE) != 0u)
                v += float(bias[n * DC + gn]);
            if ((pc.flags & VKTI_CONV_RESIDUAL) != 0u)
                v += float(res[o]);
#endif
            dst[o] = STORE_T(v);
        }
    }
}
