// attention_bwd_kv.comp — attention backward, key/value side (FlashAttention-2 style, no atomics):
//   dV[j] = sum_i P[i, j] dO[i]        dK[j] = scale * sum_i dS[i, j] Q[i]
//   P[i, j] = exp(scale * Q[i] . K[j] - lse[i]),  dS[i, j] = P[i, j] (dO[i] . V[j] - delta[i])
// One workgroup per BC keys of one (batch, head) and one range of query tiles: its K and V tiles
// stay in shared memory, dK and dV accumulate in registers, and it walks its query tiles (from
// the first unmasked one when causal), recomputing P from Q, K and the forward's lse. With one
// range (pc.splits == 1) it writes dK and dV; with several, each range writes f32 partials that
// attention_bwd_sum.comp adds up, so that few keys (cross-attention over 77 tokens) still make
// enough workgroups. Thread grid (attention_common.glsl): rows are keys; score columns are
// queries, output columns channels.
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_attention.h"
#define ATTN_TILES
#include "attention_common.glsl"

layout(set = 0, binding = 0) writeonly buffer DK { STORE_T dk[]; };
layout(set = 0, binding = 1) writeonly buffer DV { STORE_T dv[]; };
layout(set = 0, binding = 2) writeonly buffer Part { float part[]; }; // [splits][2][count]
layout(set = 0, binding = 3) readonly buffer Qb { STORE_T q[]; };
layout(set = 0, binding = 4) readonly buffer Kb { STORE_T k[]; };
layout(set = 0, binding = 5) readonly buffer Vb { STORE_T v[]; };
layout(set = 0, binding = 6) readonly buffer DOut { STORE_T dout[]; };
layout(set = 0, binding = 7) readonly buffer Lse { float lse[]; };
layout(set = 0, binding = 8) readonly buffer Delta { float delta[]; };

const uint RS = BC / TM;  // row threads: a thread's keys are ty + i * RS
const uint TN = BR / TX;  // queries per thread in a score tile: tx + j * TX
const uint PLD = BC + 1;  // row pitch of the P and dS tiles

shared float Ks[BC * LD];   // [key][channel], for the whole kernel
shared float Vs[BC * LD];
shared float Qs[BR * LD];   // [query][channel], per query tile
shared float dOs[BR * LD];
shared float Ps[BR * PLD];  // [query][key]
shared float dSs[BR * PLD];

// Per-invocation registers, at module scope so that no function takes an array parameter
// (glslang 12 matches spec-constant-sized array parameters unreliably: 'no matching overloaded function').
float s[TM * TN], dp[TM * TN];  // scores and dO . V of the current tile
float adk[TM * TD], adv[TM * TD];

// s[i][j] = K[key i] . Q[query j] and dp[i][j] = V[key i] . dO[query j].
void scores(uint ty, uint tx)
{
    float ka[TM], va[TM], qb[TN], ob[TN];
    for (uint d = 0; d < DP; d++) {
        for (uint i = 0; i < TM; i++) {
            ka[i] = Ks[(ty + i * RS) * LD + d];
            va[i] = Vs[(ty + i * RS) * LD + d];
        }
        for (uint j = 0; j < TN; j++) {
            qb[j] = Qs[(tx + j * TX) * LD + d];
            ob[j] = dOs[(tx + j * TX) * LD + d];
        }
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TN; j++) {
                s[i * TN + j] = fma(ka[i], qb[j], s[i * TN + j]);
                dp[i * TN + j] = fma(va[i], ob[j], dp[i * TN + j]);
            }
    }
}

// dv[i][e] += sum_r P[r][key i] dO[r][e];  dk[i][e] += sum_r dS[r][key i] Q[r][e].
void accumulate(uint ty, uint tx)
{
    float pa[TM], sa[TM], ob[TD], qb[TD];
    for (uint r = 0; r < BR; r++) {
        for (uint i = 0; i < TM; i++) {
            pa[i] = Ps[r * PLD + ty + i * RS];
            sa[i] = dSs[r * PLD + ty + i * RS];
        }
        for (uint j = 0; j < TD; j++) {
            ob[j] = dOs[r * LD + tx + j * TX];
            qb[j] = Qs[r * LD + tx + j * TX];
        }
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TD; j++) {
                adv[i * TD + j] = fma(pa[i], ob[j], adv[i * TD + j]);
                adk[i * TD + j] = fma(sa[i], qb[j], adk[i * TD + j]);
            }
    }
}

void main()
{
    const uint tid = gl_LocalInvocationID.x, tx = tid % TX, ty = tid / TX;
    const uint ktiles = (pc.nk + BC - 1u) / BC, split = gl_WorkGroupID.x / ktiles;
    const uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y, c0 = (gl_WorkGroupID.x - split * ktiles) * BC;
    const uint qbase = attn_base(b, pc.nq, h), kbase = attn_base(b, pc.nk, h);
    const uint ldg = pc.heads * pc.dim;

    ATTN_STAGE(Ks, k, kbase, c0, pc.nk, BC);
    ATTN_STAGE(Vs, v, kbase, c0, pc.nk, BC);

    float lse2[TN], dl[TN];
    for (uint i = 0; i < TM * TD; i++) {
        adk[i] = 0.0;
        adv[i] = 0.0;
    }

    // this range's query tiles; causal: queries before the tile's first key see none of its keys
    uint rbegin = split * pc.split_tiles * BR;
    const uint rend = min(pc.nq, rbegin + pc.split_tiles * BR);
    if (attn_causal())
        rbegin = max(rbegin, c0 / BR * BR);
    for (uint r0 = rbegin; r0 < rend; r0 += BR) {
        barrier(); // the previous tile's readers of Qs, dOs, Ps and dSs are done
        ATTN_STAGE(Qs, q, qbase, r0, pc.nq, BR);
        ATTN_STAGE(dOs, dout, qbase, r0, pc.nq, BR);
        for (uint j = 0; j < TN; j++) {
            uint r = r0 + tx + j * TX;
            lse2[j] = r < pc.nq ? lse[attn_row(b, h, r)] * LOG2E : 0.0;
            dl[j] = r < pc.nq ? delta[attn_row(b, h, r)] : 0.0;
        }
        barrier();

        for (uint i = 0; i < TM * TN; i++) {
            s[i] = 0.0;
            dp[i] = 0.0;
        }
        scores(ty, tx);
        for (uint i = 0; i < TM; i++) {
            uint key = ty + i * RS, c = c0 + key;
            for (uint j = 0; j < TN; j++) {
                uint qr = tx + j * TX, r = r0 + qr;
                bool masked = r >= pc.nq || c >= pc.nk || (attn_causal() && c > r);
                float p = masked ? 0.0 : exp2(s[i * TN + j] * pc.scale_log2 - lse2[j]);
                Ps[qr * PLD + key] = p;
                dSs[qr * PLD + key] = p * (dp[i * TN + j] - dl[j]);
            }
        }
        barrier();

        accumulate(ty, tx);
    }

    for (uint i = 0; i < TM; i++) {
        uint c = c0 + ty + i * RS;
        if (c >= pc.nk)
            continue;
        for (uint j = 0; j < TD; j++) {
            uint e = tx + j * TX;
            if (e >= pc.dim)
                continue;
            uint at = kbase + c * ldg + e;
            if (pc.splits == 1u) {
                dk[at] = TO_STORE(adk[i * TD + j] * pc.scale);
                dv[at] = TO_STORE(adv[i * TD + j]);
            } else { // every element is written, zero when the range saw no unmasked query
                part[2u * split * pc.count + at] = adk[i * TD + j] * pc.scale;
                part[(2u * split + 1u) * pc.count + at] = adv[i * TD + j];
            }
        }
    }
}
