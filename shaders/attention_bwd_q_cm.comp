// attention_bwd_q_cm.comp — attention backward, query side, on tensor cores: the contract of
// attention_bwd_q.comp for f16 storage with the head dimension D a multiple of 8, padded with
// zeros to DP (a multiple of 16; one variant each):
//   dQ[i] = scale * sum_j dS[i, j] K[j]
//   P[i, j] = exp(scale * Q[i] . K[j] - lse[i]),  dS[i, j] = P[i, j] (dO[i] . V[j] - delta[i])
// One workgroup of 4 subgroups per 64 queries of one (batch, head); subgroup w owns queries
// 16w..16w+15 and keeps their Q and dO fragments (16 x DP, as A operands) and dQ accumulators
// (16 x DP, f32) in registers. It walks the key tiles of BC keys (K and V staged in shared
// memory, the next tile loaded into registers while the current one is used, two barriers per
// tile):
//   S = Q K^T, dP = dO V^T     16 x BC f32 each, on tensor cores, stored to the region;
//   dS                         two lanes per query row (lane % 16 the row, lane / 16 the half of
//                              the keys): masks, P = exp2(S * scale * log2 e - lse * log2 e),
//                              dS = P (dP - delta), written back as f16;
//   dQ += dS K                 on tensor cores.
// Causal: keys past the workgroup's last query are not visited.
//! variant d16 -DDP=16
//! variant d32 -DDP=32
//! variant d48 -DDP=48
//! variant d64 -DDP=64
//! variant d80 -DDP=80
//! variant d96 -DDP=96
#version 450
#include "attention_cm.glsl"

#define BR 64u                  // queries of a workgroup, 16 per subgroup
#define BC 32u                  // keys of a tile
#define SP (BC / 4u + 1u)       // row pitch of the f32 tiles S and dP (slots)
#define PP (BC / 8u + 1u)       // row pitch of the f16 tile dS
#define RS (2u * 16u * SP)      // slots of a subgroup's region: S, dP; then dS
#define KV_SLOTS (BC * DC)      // staged slots of a K (or V) tile
#define NF ((KV_SLOTS + WG - 1u) / WG)

layout(set = 0, binding = 0) writeonly buffer DQ { uvec4 dq4[]; };
layout(set = 0, binding = 1) readonly buffer Qb { uvec4 q4[]; };
layout(set = 0, binding = 2) readonly buffer Kb { uvec4 k4[]; };
layout(set = 0, binding = 3) readonly buffer Vb { uvec4 v4[]; };
layout(set = 0, binding = 4) readonly buffer DOut { uvec4 do4[]; };
layout(set = 0, binding = 5) readonly buffer Lse { float lse[]; };
layout(set = 0, binding = 6) readonly buffer Delta { float delta[]; };

shared uvec4 KV[2u * BC * KS]; // K rows [0, BC), V rows [BC, 2 BC); at the start Q, then dO (BR rows)
shared uvec4 Reg[4u * RS];     // per subgroup: S and dP (f32), then dS (f16)

uvec4 rk[NF], rv[NF];

void fetch_kv(uint tid, uint kbase, uint k0)
{
    [[unroll]] for (uint s = 0u; s < NF; s++) {
        const uint l = tid + s * WG;
        rk[s] = l < KV_SLOTS ? CM_FETCH(k4, kbase, k0, pc.nk, l) : uvec4(0u);
        rv[s] = l < KV_SLOTS ? CM_FETCH(v4, kbase, k0, pc.nk, l) : uvec4(0u);
    }
}

void store_kv(uint tid)
{
    [[unroll]] for (uint s = 0u; s < NF; s++) {
        const uint l = tid + s * WG;
        if (l < KV_SLOTS) {
            KV[CM_SLOT(l)] = rk[s];
            KV[BC * KS + CM_SLOT(l)] = rv[s];
        }
    }
}

void main()
{
    const uint tid = gl_LocalInvocationID.x, warp = WARP, lane = LANE;
    const uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y, q0 = gl_WorkGroupID.x * BR;
    const uint qbase = attn_base(b, pc.nq, h), kbase = attn_base(b, pc.nk, h);
    const uint reg = warp * RS;
    // dS: this lane's query row and half of the tile's keys, and the row's statistics
    const uint r = lane % 16u, hf = lane / 16u, row = q0 + warp * 16u + r;
    const float lse2 = row < pc.nq ? lse[attn_row(b, h, row)] * LOG2E : 0.0;
    const float dl = row < pc.nq ? delta[attn_row(b, h, row)] : 0.0;

    // the Q tile, then the dO tile, through KV into fragments kept for the whole kernel
    FRAG_A qf[NKD], of[NKD];
    for (uint l = tid; l < BR * DC; l += WG)
        KV[CM_SLOT(l)] = CM_FETCH(q4, qbase, q0, pc.nq, l);
    barrier();
    [[unroll]] for (uint kd = 0u; kd < NKD; kd++)
        FRAG_LOAD_A(qf[kd], KV, warp * 16u * KS + kd * 2u, KS, false);
    barrier();
    for (uint l = tid; l < BR * DC; l += WG)
        KV[CM_SLOT(l)] = CM_FETCH(do4, qbase, q0, pc.nq, l);
    barrier();
    [[unroll]] for (uint kd = 0u; kd < NKD; kd++)
        FRAG_LOAD_A(of[kd], KV, warp * 16u * KS + kd * 2u, KS, false);
    barrier();

    FRAG_C acc[NND];
    [[unroll]] for (uint n = 0u; n < NND; n++)
        acc[n] = FRAG_C_ZERO;

    // causal: keys past the tile's last query are masked for every row of the tile
    const uint kend = attn_causal() ? min(pc.nk, q0 + BR) : pc.nk;
    fetch_kv(tid, kbase, 0u);
    store_kv(tid);
    barrier();
    for (uint k0 = 0u; k0 < kend; k0 += BC) {
        const bool more = k0 + BC < kend;
        if (more)
            fetch_kv(tid, kbase, k0 + BC);

        // S = Q K^T, dP = dO V^T: B(d, key) = K[key][d], a column-major load of K's rows
        FRAG_C s[BC / 8u], dp[BC / 8u];
        [[unroll]] for (uint j = 0u; j < BC / 8u; j++) {
            s[j] = FRAG_C_ZERO;
            dp[j] = FRAG_C_ZERO;
        }
        [[unroll]] for (uint kd = 0u; kd < NKD; kd++) {
            [[unroll]] for (uint j = 0u; j < BC / 8u; j++) {
                FRAG_B kb, vb;
                FRAG_LOAD_B(kb, KV, j * 8u * KS + kd * 2u, KS, true);
                s[j] = FRAG_MMA(qf[kd], kb, s[j]);
                FRAG_LOAD_B(vb, KV, (BC + j * 8u) * KS + kd * 2u, KS, true);
                dp[j] = FRAG_MMA(of[kd], vb, dp[j]);
            }
        }
        [[unroll]] for (uint j = 0u; j < BC / 8u; j++) {
            FRAG_STORE_C(s[j], Reg, reg + j * 2u, SP, false);
            FRAG_STORE_C(dp[j], Reg, reg + 16u * SP + j * 2u, SP, false);
        }
        WARP_SYNC();

        // dS over this lane's BC / 2 keys
        float ds[BC / 2u];
        [[unroll]] for (uint i = 0u; i < BC / 8u; i++) {
            const vec4 sv = slot_f32(Reg[reg + r * SP + hf * (BC / 8u) + i]);
            const vec4 dv = slot_f32(Reg[reg + 16u * SP + r * SP + hf * (BC / 8u) + i]);
            [[unroll]] for (uint e = 0u; e < 4u; e++) {
                const uint c = k0 + hf * (BC / 2u) + i * 4u + e;
                const bool masked = row >= pc.nq || c >= pc.nk || (attn_causal() && c > row);
                const float pv = masked ? 0.0 : exp2(sv[e] * pc.scale_log2 - lse2);
                ds[i * 4u + e] = pv * (dv[e] - dl);
            }
        }
        WARP_SYNC(); // every lane has read its scores: dS overwrites them
        [[unroll]] for (uint i = 0u; i < BC / 16u; i++) {
            const uint u = i * 8u;
            Reg[reg + r * PP + hf * (BC / 16u) + i] =
                pack8(ds[u], ds[u + 1u], ds[u + 2u], ds[u + 3u], ds[u + 4u], ds[u + 5u], ds[u + 6u], ds[u + 7u]);
        }
        WARP_SYNC();

        // dQ += dS K: A = dS (16 queries x 16 keys), B(key, d) = K[key][d], row-major
        [[unroll]] for (uint kc = 0u; kc < BC / 16u; kc++) {
            FRAG_A sa;
            FRAG_LOAD_A(sa, Reg, reg + kc * 2u, PP, false);
            [[unroll]] for (uint n = 0u; n < NND; n++) {
                FRAG_B kb;
                FRAG_LOAD_B(kb, KV, kc * 16u * KS + n, KS, false);
                acc[n] = FRAG_MMA(sa, kb, acc[n]);
            }
        }
        barrier(); // every subgroup is done with this K, V tile and its region
        if (more)
            store_kv(tid);
        barrier();
    }

    // dQ (times scale) through the region in strips of 4 fragments (32 channels)
    [[unroll]] for (uint n = 0u; n < NND; n++)
        FRAG_SCALE(acc[n], pc.scale);
    const uint ldg = pc.heads * pc.dim;
    [[unroll]] for (uint n0 = 0u; n0 < NND; n0 += 4u) {
        const uint nw = min(4u, NND - n0); // fragments (8 channels each) in this strip
        [[unroll]] for (uint j = 0u; j < 4u; j++) {
            if (n0 + j < NND)
                FRAG_STORE_C(acc[n0 + j], Reg, reg + j * 2u, SP, false);
        }
        WARP_SYNC();
        [[unroll]] for (uint e0 = 0u; e0 < 16u * 4u; e0 += 32u) {
            const uint e = e0 + lane, rr = e / nw, ch = e % nw, q = q0 + warp * 16u + rr, d = (n0 + ch) * 8u;
            if (e < 16u * nw && q < pc.nq && d < pc.dim) {
                const vec4 a = slot_f32(Reg[reg + rr * SP + ch * 2u]), c = slot_f32(Reg[reg + rr * SP + ch * 2u + 1u]);
                dq4[(qbase + q * ldg + d) / 8u] = pack8(a.x, a.y, a.z, a.w, c.x, c.y, c.z, c.w);
            }
        }
        WARP_SYNC();
    }
}
