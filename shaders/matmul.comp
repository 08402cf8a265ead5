// matmul.comp — portable register-tiled matrix product with fp32 accumulation:
//   C[b] = alpha * op(A[b]) * op(B[b]) + bias + beta * C[b]   (see pc_matmul.h)
// Each workgroup computes a BM x BN tile of C, stepping through K in BK slices staged in shared
// memory; each invocation accumulates a TM x TN block in registers. Tile sizes are
// specialization constants (ops/matmul.c picks them). Rows a thread owns are strided by BM/TM
// (columns by BN/TN) so shared-memory reads are broadcast or consecutive.
//! variant f32
//! variant f16 -DA_F16 -DB_F16 -DC_F16
#version 450
#include "common.glsl"
#include "pc_matmul.h"

#ifdef A_F16
#define A_T float16_t
#else
#define A_T float
#endif
#ifdef B_F16
#define B_T float16_t
#else
#define B_T float
#endif
#ifdef C_F16
#define C_T float16_t
#else
#define C_T float
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;

layout(set = 0, binding = 0) buffer Cbuf { C_T c[]; };
layout(set = 0, binding = 1) readonly buffer Abuf { A_T a[]; };
layout(set = 0, binding = 2) readonly buffer Bbuf { B_T b[]; };
layout(set = 0, binding = 3) readonly buffer Bias { C_T bias[]; };

// +1 pads rows so that a warp writing a column of a tile hits distinct banks
shared float As[BK * (BM + 1)];
shared float Bs[BK * (BN + 1)];

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint tcols = BN / TN;
    const uint tx = tid % tcols, ty = tid / tcols;
    const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN, batch = gl_WorkGroupID.z;
    const uint M = pc.M, N = pc.N, K = pc.K;
    const bool ta = (pc.flags & VKTI_MM_TRANS_A) != 0u, tb = (pc.flags & VKTI_MM_TRANS_B) != 0u;
    const uint abase = batch * pc.stride_a, bbase = batch * pc.stride_b, cbase = batch * pc.stride_c;

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; i++)
        acc[i] = 0.0;
    float ra[TM], rb[TN];

    for (uint k0 = 0; k0 < K; k0 += BK) {
        // stage A tile (BM x BK) as As[k][m]; the fast-moving index follows memory order
        for (uint l = tid; l < BM * BK; l += WG) {
            uint r, kk;
            if (ta) { r = l % BM; kk = l / BM; } else { kk = l % BK; r = l / BK; }
            uint gm = m0 + r, gk = k0 + kk;
            float v = 0.0;
            if (gm < M && gk < K)
                v = float(a[abase + (ta ? gk * M + gm : gm * K + gk)]);
            As[kk * (BM + 1) + r] = v;
        }
        // stage B tile (BK x BN) as Bs[k][n]
        for (uint l = tid; l < BN * BK; l += WG) {
            uint r, kk;
            if (tb) { kk = l % BK; r = l / BK; } else { r = l % BN; kk = l / BN; }
            uint gn = n0 + r, gk = k0 + kk;
            float v = 0.0;
            if (gn < N && gk < K)
                v = float(b[bbase + (tb ? gn * K + gk : gk * N + gn)]);
            Bs[kk * (BN + 1) + r] = v;
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            for (uint i = 0; i < TM; i++)
                ra[i] = As[kk * (BM + 1) + ty + i * (BM / TM)];
            for (uint j = 0; j < TN; j++)
                rb[j] = Bs[kk * (BN + 1) + tx + j * (BN / TN)];
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++)
                    acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]);
        }
        barrier();
    }

    for (uint i = 0; i < TM; i++) {
        uint gm = m0 + ty + i * (BM / TM);
        if (gm >= M)
            continue;
        for (uint j = 0; j < TN; j++) {
            uint gn = n0 + tx + j * (BN / TN);
            if (gn >= N)
                continue;
            float v = pc.alpha * acc[i * TN + j];
            if ((pc.flags & VKTI_MM_BIAS) != 0u)
                v += float(bias[gn]);
            uint ci = cbase + gm * N + gn;
            if ((pc.flags & VKTI_MM_ACCUM) != 0u)
                v += pc.beta * float(c[ci]);
            c[ci] = C_T(v);
        }
    }
}
