// attention_bwd_q.comp — attention backward, query side (FlashAttention-2 style, no atomics):
//   dQ[i] = scale * sum_j dS[i, j] K[j]
//   P[i, j] = exp(scale * Q[i] . K[j] - lse[i]),  dS[i, j] = P[i, j] (dO[i] . V[j] - delta[i])
// One workgroup per BR queries of one (batch, head): its Q and dO tiles stay in shared memory,
// dQ accumulates in registers, and it walks the key tiles (up to the last unmasked one when
// causal), recomputing P from Q, K and the forward's lse. Thread grid (attention_common.glsl):
// rows are queries; score columns are keys, output columns channels.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_attention.h"
#define ATTN_TILES
#include "attention_common.glsl"

layout(set = 0, binding = 0) writeonly buffer DQ { STORE_T dq[]; };
layout(set = 0, binding = 1) readonly buffer Qb { STORE_T q[]; };
layout(set = 0, binding = 2) readonly buffer Kb { STORE_T k[]; };
layout(set = 0, binding = 3) readonly buffer Vb { STORE_T v[]; };
layout(set = 0, binding = 4) readonly buffer DOut { STORE_T dout[]; };
layout(set = 0, binding = 5) readonly buffer Lse { float lse[]; };
layout(set = 0, binding = 6) readonly buffer Delta { float delta[]; };

const uint RS = BR / TM;  // row threads: a thread's queries are ty + i * RS
const uint TN = BC / TX;  // keys per thread in a score tile: tx + j * TX
const uint PLD = BC + 1;  // row pitch of the dS tile

shared float Qs[BR * LD];   // [query][channel], for the whole kernel
shared float dOs[BR * LD];
shared float Ks[BC * LD];   // [key][channel], per key tile
shared float Vs[BC * LD];
shared float dSs[BR * PLD]; // [query][key]

// Per-invocation registers, at module scope so that no function takes an array parameter
// (glslang 12 matches spec-constant-sized array parameters unreliably: 'no matching overloaded function').
float s[TM * TN], dp[TM * TN];  // scores and dO . V of the current tile
float acc[TM * TD];

// s[i][j] = Q[query i] . K[key j] and dp[i][j] = dO[query i] . V[key j].
void scores(uint ty, uint tx)
{
    float qa[TM], oa[TM], kb[TN], vb[TN];
    for (uint d = 0; d < DP; d++) {
        for (uint i = 0; i < TM; i++) {
            qa[i] = Qs[(ty + i * RS) * LD + d];
            oa[i] = dOs[(ty + i * RS) * LD + d];
        }
        for (uint j = 0; j < TN; j++) {
            kb[j] = Ks[(tx + j * TX) * LD + d];
            vb[j] = Vs[(tx + j * TX) * LD + d];
        }
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TN; j++) {
                s[i * TN + j] = fma(qa[i], kb[j], s[i * TN + j]);
                dp[i * TN + j] = fma(oa[i], vb[j], dp[i * TN + j]);
            }
    }
}

// acc[i][e] += sum_c dS[query i][c] K[c][e].
void accumulate(uint ty, uint tx)
{
    float sa[TM], kb[TD];
    for (uint c = 0; c < BC; c++) {
        for (uint i = 0; i < TM; i++)
            sa[i] = dSs[(ty + i * RS) * PLD + c];
        for (uint j = 0; j < TD; j++)
            kb[j] = Ks[c * LD + tx + j * TX];
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TD; j++)
                acc[i * TD + j] = fma(sa[i], kb[j], acc[i * TD + j]);
    }
}

void main()
{
    const uint tid = gl_LocalInvocationID.x, tx = tid % TX, ty = tid / TX;
    const uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y, q0 = gl_WorkGroupID.x * BR;
    const uint qbase = attn_base(b, pc.nq, h), kbase = attn_base(b, pc.nk, h);
    const uint ldg = pc.heads * pc.dim;

    ATTN_STAGE(Qs, q, qbase, q0, pc.nq, BR);
    ATTN_STAGE(dOs, dout, qbase, q0, pc.nq, BR);

    float lse2[TM], dl[TM];
    for (uint i = 0; i < TM * TD; i++)
        acc[i] = 0.0;
    for (uint i = 0; i < TM; i++) {
        uint r = q0 + ty + i * RS;
        lse2[i] = r < pc.nq ? lse[attn_row(b, h, r)] * LOG2E : 0.0;
        dl[i] = r < pc.nq ? delta[attn_row(b, h, r)] : 0.0;
    }

    // causal: keys past the tile's last query are masked for every row of the tile
    const uint kend = attn_causal() ? min(pc.nk, q0 + BR) : pc.nk;
    for (uint k0 = 0; k0 < kend; k0 += BC) {
        barrier(); // the previous tile's readers of Ks, Vs and dSs are done
        ATTN_STAGE(Ks, k, kbase, k0, pc.nk, BC);
        ATTN_STAGE(Vs, v, kbase, k0, pc.nk, BC);
        barrier();

        for (uint i = 0; i < TM * TN; i++) {
            s[i] = 0.0;
            dp[i] = 0.0;
        }
        scores(ty, tx);
        for (uint i = 0; i < TM; i++) {
            uint row = ty + i * RS, r = q0 + row;
            for (uint j = 0; j < TN; j++) {
                uint key = tx + j * TX, c = k0 + key;
                bool masked = r >= pc.nq || c >= pc.nk || (attn_causal() && c > r);
                float p = masked ? 0.0 : exp2(s[i * TN + j] * pc.scale_log2 - lse2[i]);
                dSs[row * PLD + key] = p * (dp[i * TN + j] - dl[i]);
            }
        }
        barrier();

        accumulate(ty, tx);
    }

    for (uint i = 0; i < TM; i++) {
        uint r = q0 + ty + i * RS;
        if (r >= pc.nq)
            continue;
        for (uint j = 0; j < TD; j++) {
            uint e = tx + j * TX;
            if (e < pc.dim)
                dq[qbase + r * ldg + e] = TO_STORE(acc[i * TD + j] * pc.scale);
        }
    }
}
