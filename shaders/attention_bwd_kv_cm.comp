// attention_bwd_kv_cm.comp — attention backward, key/value side, on tensor cores: the contract of
// attention_bwd_kv.comp (dK and dV, or f32 partials of one query range each when pc.splits > 1,
// summed by attention_bwd_sum.comp) for f16 storage with the head dimension D a multiple of 8,
// padded with zeros to DP (a multiple of 16; one variant each):
//   dV[j] = sum_i P[i, j] dO[i]        dK[j] = scale * sum_i dS[i, j] Q[i]
//   P[i, j] = exp(scale * Q[i] . K[j] - lse[i]),  dS[i, j] = P[i, j] (dO[i] . V[j] - delta[i])
// One workgroup of 4 subgroups per 64 keys of one (batch, head) and one range of query tiles;
// subgroup w owns keys 16w..16w+15 and keeps their K and V fragments (16 x DP, as A operands)
// and dK, dV accumulators (16 x DP, f32) in registers. It walks its query tiles of BQ queries
// (Q, dO, lse and delta staged in shared memory, the next tile loaded into registers while the
// current one is used, two barriers per tile):
//   S^T = K Q^T, dP^T = V dO^T     16 x BQ f32 each, on tensor cores, stored to the region;
//   P^T, dS^T                      two lanes per key row (lane % 16 the key, lane / 16 the half of
//                                  the queries): masks, P = exp2(S * scale * log2 e - lse * log2 e),
//                                  dS = P (dP - delta), written back as f16;
//   dV += P^T dO, dK += dS^T Q     on tensor cores.
// Causal: the range starts at the first query tile that sees one of the workgroup's keys.
//! variant d16 -DDP=16
//! variant d32 -DDP=32
//! variant d48 -DDP=48
//! variant d64 -DDP=64
//! variant d80 -DDP=80
//! variant d96 -DDP=96
#version 450
#include "attention_cm.glsl"

#define BK 64u                  // keys of a workgroup, 16 per subgroup
#define BQ 32u                  // queries of a tile
#define SP (BQ / 4u + 1u)       // row pitch of the f32 tiles S^T and dP^T (slots)
#define PP (BQ / 8u + 1u)       // row pitch of the f16 tiles P^T and dS^T
#define RS (2u * 16u * SP)      // slots of a subgroup's region: S^T, dP^T; then P^T, dS^T
#define Q_SLOTS (BQ * DC)       // staged slots of a Q (or dO) tile
#define NF ((Q_SLOTS + WG - 1u) / WG)

layout(set = 0, binding = 0) writeonly buffer DK { uvec4 dk4[]; };
layout(set = 0, binding = 1) writeonly buffer DV { uvec4 dv4[]; };
layout(set = 0, binding = 2) writeonly buffer Part { vec4 part4[]; }; // [splits][2][count] f32
layout(set = 0, binding = 3) readonly buffer Qb { uvec4 q4[]; };
layout(set = 0, binding = 4) readonly buffer Kb { uvec4 k4[]; };
layout(set = 0, binding = 5) readonly buffer Vb { uvec4 v4[]; };
layout(set = 0, binding = 6) readonly buffer DOut { uvec4 do4[]; };
layout(set = 0, binding = 7) readonly buffer Lse { float lse[]; };
layout(set = 0, binding = 8) readonly buffer Delta { float delta[]; };

shared uvec4 QO[2u * BQ * KS]; // Q rows [0, BQ), dO rows [BQ, 2 BQ); at the start K, then V (BK rows)
shared float LD[2u * BQ];      // lse * log2(e), then delta, of the tile's queries
shared uvec4 Reg[4u * RS];     // per subgroup: S^T and dP^T (f32), then P^T and dS^T (f16)

uvec4 rq[NF], ro[NF];
float rl;

// the query tile at r0 into registers: Q, dO, and lse or delta for invocations below 2 BQ
void fetch_q(uint tid, uint qbase, uint b, uint h, uint r0)
{
    [[unroll]] for (uint s = 0u; s < NF; s++) {
        const uint l = tid + s * WG;
        rq[s] = l < Q_SLOTS ? CM_FETCH(q4, qbase, r0, pc.nq, l) : uvec4(0u);
        ro[s] = l < Q_SLOTS ? CM_FETCH(do4, qbase, r0, pc.nq, l) : uvec4(0u);
    }
    const uint i = r0 + tid % BQ;
    rl = 0.0;
    if (tid < 2u * BQ && i < pc.nq)
        rl = tid < BQ ? lse[attn_row(b, h, i)] * LOG2E : delta[attn_row(b, h, i)];
}

void store_q(uint tid)
{
    [[unroll]] for (uint s = 0u; s < NF; s++) {
        const uint l = tid + s * WG;
        if (l < Q_SLOTS) {
            QO[CM_SLOT(l)] = rq[s];
            QO[BQ * KS + CM_SLOT(l)] = ro[s];
        }
    }
    if (tid < 2u * BQ)
        LD[tid] = rl;
}

void main()
{
    const uint tid = gl_LocalInvocationID.x, warp = WARP, lane = LANE;
    const uint ktiles = (pc.nk + BK - 1u) / BK, split = gl_WorkGroupID.x / ktiles;
    const uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y, c0 = (gl_WorkGroupID.x - split * ktiles) * BK;
    const uint qbase = attn_base(b, pc.nq, h), kbase = attn_base(b, pc.nk, h);
    const uint reg = warp * RS;
    // P and dS: this lane's key row and half of the tile's queries
    const uint r = lane % 16u, hf = lane / 16u, key = c0 + warp * 16u + r;

    // the K tile, then the V tile, through QO into fragments kept for the whole kernel
    FRAG_A kf[NKD], vf[NKD];
    for (uint l = tid; l < BK * DC; l += WG)
        QO[CM_SLOT(l)] = CM_FETCH(k4, kbase, c0, pc.nk, l);
    barrier();
    [[unroll]] for (uint kd = 0u; kd < NKD; kd++)
        FRAG_LOAD_A(kf[kd], QO, warp * 16u * KS + kd * 2u, KS, false);
    barrier();
    for (uint l = tid; l < BK * DC; l += WG)
        QO[CM_SLOT(l)] = CM_FETCH(v4, kbase, c0, pc.nk, l);
    barrier();
    [[unroll]] for (uint kd = 0u; kd < NKD; kd++)
        FRAG_LOAD_A(vf[kd], QO, warp * 16u * KS + kd * 2u, KS, false);
    barrier();

    FRAG_C adk[NND], adv[NND];
    [[unroll]] for (uint n = 0u; n < NND; n++) {
        adk[n] = FRAG_C_ZERO;
        adv[n] = FRAG_C_ZERO;
    }

    // this range's query tiles; causal: queries before the first key see none of the keys
    uint rbegin = split * pc.split_tiles * BQ;
    const uint rend = min(pc.nq, rbegin + pc.split_tiles * BQ);
    if (attn_causal())
        rbegin = max(rbegin, c0 / BQ * BQ);
    if (rbegin < rend) {
        fetch_q(tid, qbase, b, h, rbegin);
        store_q(tid);
    }
    barrier();
    for (uint r0 = rbegin; r0 < rend; r0 += BQ) {
        const bool more = r0 + BQ < rend;
        if (more)
            fetch_q(tid, qbase, b, h, r0 + BQ);

        // S^T = K Q^T, dP^T = V dO^T: B(d, query) = Q[query][d], a column-major load of Q's rows
        FRAG_C st[BQ / 8u], pt[BQ / 8u];
        [[unroll]] for (uint j = 0u; j < BQ / 8u; j++) {
            st[j] = FRAG_C_ZERO;
            pt[j] = FRAG_C_ZERO;
        }
        [[unroll]] for (uint kd = 0u; kd < NKD; kd++) {
            [[unroll]] for (uint j = 0u; j < BQ / 8u; j++) {
                FRAG_B qb, ob;
                FRAG_LOAD_B(qb, QO, j * 8u * KS + kd * 2u, KS, true);
                st[j] = FRAG_MMA(kf[kd], qb, st[j]);
                FRAG_LOAD_B(ob, QO, (BQ + j * 8u) * KS + kd * 2u, KS, true);
                pt[j] = FRAG_MMA(vf[kd], ob, pt[j]);
            }
        }
        [[unroll]] for (uint j = 0u; j < BQ / 8u; j++) {
            FRAG_STORE_C(st[j], Reg, reg + j * 2u, SP, false);
            FRAG_STORE_C(pt[j], Reg, reg + 16u * SP + j * 2u, SP, false);
        }
        WARP_SYNC();

        // P^T and dS^T over this lane's BQ / 2 queries
        float p[BQ / 2u], ds[BQ / 2u];
        [[unroll]] for (uint i = 0u; i < BQ / 8u; i++) {
            const vec4 sv = slot_f32(Reg[reg + r * SP + hf * (BQ / 8u) + i]);
            const vec4 dv = slot_f32(Reg[reg + 16u * SP + r * SP + hf * (BQ / 8u) + i]);
            [[unroll]] for (uint e = 0u; e < 4u; e++) {
                const uint qi = hf * (BQ / 2u) + i * 4u + e, q = r0 + qi;
                const bool masked = q >= pc.nq || key >= pc.nk || (attn_causal() && key > q);
                const float pv = masked ? 0.0 : exp2(sv[e] * pc.scale_log2 - LD[qi]);
                p[i * 4u + e] = pv;
                ds[i * 4u + e] = pv * (dv[e] - LD[BQ + qi]);
            }
        }
        WARP_SYNC(); // every lane has read its scores: P^T and dS^T overwrite them
        [[unroll]] for (uint i = 0u; i < BQ / 16u; i++) {
            const uint u = i * 8u;
            Reg[reg + r * PP + hf * (BQ / 16u) + i] =
                pack8(p[u], p[u + 1u], p[u + 2u], p[u + 3u], p[u + 4u], p[u + 5u], p[u + 6u], p[u + 7u]);
            Reg[reg + 16u * PP + r * PP + hf * (BQ / 16u) + i] =
                pack8(ds[u], ds[u + 1u], ds[u + 2u], ds[u + 3u], ds[u + 4u], ds[u + 5u], ds[u + 6u], ds[u + 7u]);
        }
        WARP_SYNC();

        // dV += P^T dO, dK += dS^T Q: A (16 keys x 16 queries), B(query, d) row-major
        [[unroll]] for (uint kq = 0u; kq < BQ / 16u; kq++) {
            FRAG_A pa, sa;
            FRAG_LOAD_A(pa, Reg, reg + kq * 2u, PP, false);
            FRAG_LOAD_A(sa, Reg, reg + 16u * PP + kq * 2u, PP, false);
            [[unroll]] for (uint n = 0u; n < NND; n++) {
                FRAG_B ob, qb;
                FRAG_LOAD_B(ob, QO, (BQ + kq * 16u) * KS + n, KS, false);
                adv[n] = FRAG_MMA(pa, ob, adv[n]);
                FRAG_LOAD_B(qb, QO, kq * 16u * KS + n, KS, false);
                adk[n] = FRAG_MMA(sa, qb, adk[n]);
            }
        }
        barrier(); // every subgroup is done with this query tile and its region
        if (more)
            store_q(tid);
        barrier();
    }

    // dK (times scale) and dV through the region in strips of 4 fragments (32 channels): f16, or
    // f32 partials of this query range (every element is written, zero when the range saw no
    // unmasked query)
    [[unroll]] for (uint n = 0u; n < NND; n++)
        FRAG_SCALE(adk[n], pc.scale);
    const uint ldg = pc.heads * pc.dim, count = pc.count;
    [[unroll]] for (uint n0 = 0u; n0 < NND; n0 += 4u) {
        const uint nw = min(4u, NND - n0); // fragments (8 channels each) in this strip
        [[unroll]] for (uint j = 0u; j < 4u; j++) {
            if (n0 + j < NND) {
                FRAG_STORE_C(adk[n0 + j], Reg, reg + j * 2u, SP, false);
                FRAG_STORE_C(adv[n0 + j], Reg, reg + 16u * SP + j * 2u, SP, false);
            }
        }
        WARP_SYNC();
        [[unroll]] for (uint e0 = 0u; e0 < 16u * 4u; e0 += 32u) {
            const uint e = e0 + lane, rr = e / nw, ch = e % nw, c = c0 + warp * 16u + rr, d = (n0 + ch) * 8u;
            if (e < 16u * nw && c < pc.nk && d < pc.dim) {
                const uint at = kbase + c * ldg + d, s0 = reg + rr * SP + ch * 2u, s1 = s0 + 16u * SP;
                const vec4 ka = slot_f32(Reg[s0]), kb = slot_f32(Reg[s0 + 1u]);
                const vec4 va = slot_f32(Reg[s1]), vb = slot_f32(Reg[s1 + 1u]);
                if (pc.splits == 1u) {
                    dk4[at / 8u] = pack8(ka.x, ka.y, ka.z, ka.w, kb.x, kb.y, kb.z, kb.w);
                    dv4[at / 8u] = pack8(va.x, va.y, va.z, va.w, vb.x, vb.y, vb.z, vb.w);
                } else {
                    const uint pk = (2u * split * count + at) / 4u, pv = ((2u * split + 1u) * count + at) / 4u;
                    part4[pk] = ka;
                    part4[pk + 1u] = kb;
                    part4[pv] = va;
                    part4[pv + 1u] = vb;
                }
            }
        }
        WARP_SYNC();
    }
}
