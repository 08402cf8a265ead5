// attention_fwd.comp — fused attention forward (flash-attention style, no N x N matrix):
//   out[b, i, h, :] = sum_j softmax_j(scale * q[b, i, h, :] . k[b, j, h, :]) v[b, j, h, :]
//   lse[b, h, i]    = log sum_j exp(scale * q . k)          (for the backward)
// One workgroup per BR query rows of one (batch, head). It keeps its Q tile in shared memory
// and walks the key tiles: S = Q K^T for BC keys, an online softmax update (running row
// maximum, rescaled row sums and accumulators), then O += P V. Scores are kept in base 2
// (scale * log2 e) so the exponentials are exp2. The K and V tiles share one shared buffer.
// Layout of the thread grid and of shared tiles: see attention_common.glsl (rows are queries,
// score columns keys, output columns channels).
//! variant f32
//! variant f16 -DSTORAGE_F16
#version 450
#include "common.glsl"
#include "pc_attention.h"
#define ATTN_TILES
#include "attention_common.glsl"

layout(set = 0, binding = 0) writeonly buffer Out { STORE_T o[]; };
layout(set = 0, binding = 1) writeonly buffer Lse { float lse[]; };
layout(set = 0, binding = 2) readonly buffer Qb { STORE_T q[]; };
layout(set = 0, binding = 3) readonly buffer Kb { STORE_T k[]; };
layout(set = 0, binding = 4) readonly buffer Vb { STORE_T v[]; };

const uint RS = BR / TM;  // row threads: a thread's rows are ty + i * RS
const uint TN = BC / TX;  // keys per thread in a score tile: tx + j * TX
const uint PLD = BC + 1;  // row pitch of the probability tile

shared float Qs[BR * LD];   // [query][channel]
shared float KVs[BC * LD];  // [key][channel]: K for the scores, then V for the output
shared float Ps[BR * PLD];  // [query][key] probabilities of the current tile
shared float Red[BR * TX];  // per-thread partial row maxima (and at the end row sums)

// Per-invocation registers, at module scope so that no function takes an array parameter
// (glslang 12 matches spec-constant-sized array parameters unreliably: 'no matching overloaded function').
float s[TM * TN];    // scores of the current tile, base 2
float acc[TM * TD];  // unnormalized output rows

// s[i][j] += Q[row i] . K[key j] over the padded head dimension.
void scores(uint ty, uint tx)
{
    float qa[TM], kb[TN];
    for (uint d = 0; d < DP; d++) {
        for (uint i = 0; i < TM; i++)
            qa[i] = Qs[(ty + i * RS) * LD + d];
        for (uint j = 0; j < TN; j++)
            kb[j] = KVs[(tx + j * TX) * LD + d];
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TN; j++)
                s[i * TN + j] = fma(qa[i], kb[j], s[i * TN + j]);
    }
}

// acc[i][j] += sum_c P[row i][c] V[c][channel j].
void accumulate_pv(uint ty, uint tx)
{
    float pa[TM], vb[TD];
    for (uint c = 0; c < BC; c++) {
        for (uint i = 0; i < TM; i++)
            pa[i] = Ps[(ty + i * RS) * PLD + c];
        for (uint j = 0; j < TD; j++)
            vb[j] = KVs[c * LD + tx + j * TX];
        for (uint i = 0; i < TM; i++)
            for (uint j = 0; j < TD; j++)
                acc[i * TD + j] = fma(pa[i], vb[j], acc[i * TD + j]);
    }
}

void main()
{
    const uint tid = gl_LocalInvocationID.x, tx = tid % TX, ty = tid / TX;
    const uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y, q0 = gl_WorkGroupID.x * BR;
    const uint qbase = attn_base(b, pc.nq, h), kbase = attn_base(b, pc.nk, h);
    const uint ldg = pc.heads * pc.dim;

    ATTN_STAGE(Qs, q, qbase, q0, pc.nq, BR);

    float m[TM], l[TM];
    for (uint i = 0; i < TM; i++) {
        m[i] = NEG_BIG;
        l[i] = 0.0; // partial: over this thread's keys only, summed across the row at the end
    }
    for (uint i = 0; i < TM * TD; i++)
        acc[i] = 0.0;

    // causal: keys past the tile's last query are masked for every row of the tile
    const uint kend = attn_causal() ? min(pc.nk, q0 + BR) : pc.nk;
    for (uint k0 = 0; k0 < kend; k0 += BC) {
        barrier(); // the previous tile's readers of KVs and Ps are done
        ATTN_STAGE(KVs, k, kbase, k0, pc.nk, BC);
        barrier();

        for (uint i = 0; i < TM * TN; i++)
            s[i] = 0.0;
        scores(ty, tx);
        for (uint i = 0; i < TM; i++) {
            uint r = q0 + ty + i * RS;
            float mx = NEG_BIG;
            for (uint j = 0; j < TN; j++) {
                uint c = k0 + tx + j * TX;
                bool masked = c >= pc.nk || (attn_causal() && c > r);
                float x = masked ? NEG_BIG : s[i * TN + j] * pc.scale_log2;
                s[i * TN + j] = x;
                mx = max(mx, x);
            }
            Red[(ty + i * RS) * TX + tx] = mx;
        }
        barrier(); // partial maxima visible; every thread is done reading K

        for (uint i = 0; i < TM; i++) {
            uint row = ty + i * RS;
            float mt = m[i];
            for (uint t = 0; t < TX; t++)
                mt = max(mt, Red[row * TX + t]);
            float alpha = exp2(m[i] - mt);
            m[i] = mt;
            float sum = 0.0;
            for (uint j = 0; j < TN; j++) {
                float p = exp2(s[i * TN + j] - mt);
                sum += p;
                Ps[row * PLD + tx + j * TX] = p;
            }
            l[i] = l[i] * alpha + sum;
            for (uint j = 0; j < TD; j++)
                acc[i * TD + j] *= alpha;
        }
        ATTN_STAGE(KVs, v, kbase, k0, pc.nk, BC);
        barrier();

        accumulate_pv(ty, tx);
    }

    // row sums: combine the TX partial sums of each row (every Red read above is behind a barrier)
    for (uint i = 0; i < TM; i++)
        Red[(ty + i * RS) * TX + tx] = l[i];
    barrier();
    for (uint i = 0; i < TM; i++) {
        uint row = ty + i * RS, r = q0 + row;
        float lt = 0.0;
        for (uint t = 0; t < TX; t++)
            lt += Red[row * TX + t];
        if (r >= pc.nq)
            continue;
        float inv = 1.0 / lt;
        for (uint j = 0; j < TD; j++) {
            uint e = tx + j * TX;
            if (e < pc.dim)
                o[qbase + r * ldg + e] = TO_STORE(acc[i * TD + j] * inv);
        }
        if (tx == 0u && (pc.flags & VKTI_ATTN_LSE) != 0u)
            lse[attn_row(b, h, r)] = (m[i] + log2(lt)) * LN2;
    }
}
