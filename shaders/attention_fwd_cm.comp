// attention_fwd_cm.comp — fused attention forward on tensor cores (GL_NV_cooperative_matrix):
// the contract of attention_fwd.comp (out, and lse for the backward) for f16 storage with the
// head dimension D a multiple of 8, padded with zeros to DP (a multiple of 16; one variant each).
//
// One workgroup of 4 subgroups per 64 queries of one (batch, head); subgroup w owns queries
// 16w..16w+15 and keeps their Q fragments (16 x DP) and output accumulators (16 x DP, f32) in
// registers for the whole kernel. It walks the key tiles of BC keys (K and V staged in shared
// memory, the next tile loaded into registers while the current one is used, two barriers per
// tile):
//   S = Q K^T            16 x BC f32, on tensor cores, stored to the subgroup's region;
//   row statistics       two lanes per row (lane % 16 is the row, lane / 16 the half of the
//                        keys), in base 2: masks, running maximum m, alpha = exp2(m_old - m),
//                        P = exp2(S * scale * log2 e - m) written back as f16, partial row sums;
//   O = O * alpha        through a C fragment holding alpha on every row (FRAG_MUL);
//   O += P V             on tensor cores.
// At the end O is multiplied by the inverse row sums the same way and leaves through the region in
// strips, 8 channels (16 bytes) per store; lse = (m + log2 l) ln 2.
// Causal masking is applied to the scores like the portable kernel does (keys past the tile's
// last query are not visited at all). Selected by ops/attention.c.
//! variant d16 -DDP=16
//! variant d32 -DDP=32
//! variant d48 -DDP=48
//! variant d64 -DDP=64
//! variant d80 -DDP=80
//! variant d96 -DDP=96
//! variant d112 -DDP=112
//! variant d128 -DDP=128
//! variant d144 -DDP=144
//! variant d160 -DDP=160
#version 450
#include "attention_cm.glsl"

#define BR 64u                      // queries of a workgroup, 16 per subgroup
#define BC (DP <= 96 ? 64u : 32u)   // keys of a tile (smaller for wide heads: shared memory)
#define PREFETCH (DP <= 96)         // load the next K, V tile into registers during the current one
#define SP (BC / 4u + 1u)           // row pitch of the f32 score tile (slots)
#define PP (BC / 8u + 1u)           // row pitch of the f16 probability tile
#define AB (16u * PP)               // the broadcast tile (16 x 8 f32, pitch 2) after P in the region
#define RS (16u * SP)               // slots of a subgroup's region
#define KV_SLOTS (BC * DC)          // staged slots of a K (or V) tile
#define NF ((KV_SLOTS + WG - 1u) / WG)

layout(set = 0, binding = 0) writeonly buffer Out { uvec4 o4[]; };
layout(set = 0, binding = 1) writeonly buffer Lse { float lse[]; };
layout(set = 0, binding = 2) readonly buffer Qb { uvec4 q4[]; };
layout(set = 0, binding = 3) readonly buffer Kb { uvec4 k4[]; };
layout(set = 0, binding = 4) readonly buffer Vb { uvec4 v4[]; };

shared uvec4 KV[2u * BC * KS];  // K rows [0, BC), V rows [BC, 2 BC); at the start the Q tile
shared uvec4 Reg[4u * RS];      // per subgroup: scores (f32), then P (f16) and the broadcast tile

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
    // row statistics: this lane's query row and half of the tile's keys
    const uint r = lane % 16u, hf = lane / 16u, row = q0 + warp * 16u + r;

    for (uint l = tid; l < BR * DC; l += WG)
        KV[CM_SLOT(l)] = CM_FETCH(q4, qbase, q0, pc.nq, l);
    barrier();
    FRAG_A qf[NKD];
    [[unroll]] for (uint kd = 0u; kd < NKD; kd++)
        FRAG_LOAD_A(qf[kd], KV, warp * 16u * KS + kd * 2u, KS, false);
    barrier(); // every subgroup holds its Q fragments before K and V overwrite the tile

    // causal: keys past the tile's last query are masked for every row of the tile
    const uint kend = attn_causal() ? min(pc.nk, q0 + BR) : pc.nk;
    fetch_kv(tid, kbase, 0u);
    store_kv(tid);
    barrier();

    FRAG_C acc[NND];
    [[unroll]] for (uint n = 0u; n < NND; n++)
        acc[n] = FRAG_C_ZERO;
    float m = NEG_BIG, l = 0.0; // l: this lane's half of the row sum
    for (uint k0 = 0u; k0 < kend; k0 += BC) {
        const bool more = k0 + BC < kend;
#if PREFETCH
        if (more)
            fetch_kv(tid, kbase, k0 + BC);
#endif
        // S = Q K^T: B(d, key) = K[key][d], a column-major load of K's rows
        FRAG_C s[BC / 8u];
        [[unroll]] for (uint j = 0u; j < BC / 8u; j++)
            s[j] = FRAG_C_ZERO;
        [[unroll]] for (uint kd = 0u; kd < NKD; kd++) {
            [[unroll]] for (uint j = 0u; j < BC / 8u; j++) {
                FRAG_B kb;
                FRAG_LOAD_B(kb, KV, j * 8u * KS + kd * 2u, KS, true);
                s[j] = FRAG_MMA(qf[kd], kb, s[j]);
            }
        }
        [[unroll]] for (uint j = 0u; j < BC / 8u; j++)
            FRAG_STORE_C(s[j], Reg, reg + j * 2u, SP, false);
        WARP_SYNC();

        // row statistics over this lane's BC / 2 keys, base 2
        float x[BC / 2u];
        float mx = NEG_BIG;
        [[unroll]] for (uint i = 0u; i < BC / 8u; i++) {
            const vec4 w = slot_f32(Reg[reg + r * SP + hf * (BC / 8u) + i]);
            [[unroll]] for (uint e = 0u; e < 4u; e++) {
                const uint c = k0 + hf * (BC / 2u) + i * 4u + e;
                const bool masked = c >= pc.nk || (attn_causal() && c > row);
                x[i * 4u + e] = masked ? NEG_BIG : w[e] * pc.scale_log2;
                mx = max(mx, x[i * 4u + e]);
            }
        }
        // every row sees key 0 in the first tile, so mt is a real score from then on and
        // exp2(NEG_BIG - mt) is exactly 0
        const float mt = max(m, max(mx, XOR16(mx)));
        const float alpha = exp2(m - mt);
        m = mt;
        float sum = 0.0;
        [[unroll]] for (uint i = 0u; i < BC / 2u; i++) {
            x[i] = exp2(x[i] - mt);
            sum += x[i];
        }
        l = l * alpha + sum;
        WARP_SYNC(); // every lane has read its scores: P and the broadcast tile overwrite them
        [[unroll]] for (uint i = 0u; i < BC / 16u; i++)
            Reg[reg + r * PP + hf * (BC / 16u) + i] =
                pack8(x[i * 8u], x[i * 8u + 1u], x[i * 8u + 2u], x[i * 8u + 3u], x[i * 8u + 4u], x[i * 8u + 5u],
                      x[i * 8u + 6u], x[i * 8u + 7u]);
        Reg[reg + AB + r * 2u + hf] = uvec4(floatBitsToUint(alpha));
        WARP_SYNC();
        FRAG_C fa;
        FRAG_LOAD_C(fa, Reg, reg + AB, 2u, false);
        [[unroll]] for (uint n = 0u; n < NND; n++)
            FRAG_MUL(acc[n], fa);

        // O += P V: A = P (16 queries x 16 keys), B(key, d) = V[key][d], row-major
        [[unroll]] for (uint kc = 0u; kc < BC / 16u; kc++) {
            FRAG_A pa;
            FRAG_LOAD_A(pa, Reg, reg + kc * 2u, PP, false);
            [[unroll]] for (uint n = 0u; n < NND; n++) {
                FRAG_B vb;
                FRAG_LOAD_B(vb, KV, (BC + kc * 16u) * KS + n, KS, false);
                acc[n] = FRAG_MMA(pa, vb, acc[n]);
            }
        }
        barrier(); // every subgroup is done with this K, V tile and its region
        if (more) {
#if !PREFETCH
            fetch_kv(tid, kbase, k0 + BC);
#endif
            store_kv(tid);
        }
        barrier();
    }

    // normalize by the row sums, then write O through the region in strips of BC columns
    const float lt = l + XOR16(l);
    Reg[reg + AB + r * 2u + hf] = uvec4(floatBitsToUint(1.0 / lt));
    WARP_SYNC();
    FRAG_C fl;
    FRAG_LOAD_C(fl, Reg, reg + AB, 2u, false);
    [[unroll]] for (uint n = 0u; n < NND; n++)
        FRAG_MUL(acc[n], fl);
    WARP_SYNC(); // the strips below overwrite the broadcast tile
    const uint ldg = pc.heads * pc.dim;
    [[unroll]] for (uint n0 = 0u; n0 < NND; n0 += BC / 8u) {
        const uint nw = min(BC / 8u, NND - n0); // fragments (8 channels each) in this strip
        [[unroll]] for (uint j = 0u; j < BC / 8u; j++) {
            if (n0 + j < NND)
                FRAG_STORE_C(acc[n0 + j], Reg, reg + j * 2u, SP, false);
        }
        WARP_SYNC();
        // 16 rows of nw chunks; constant trip counts, so that the strip loop unrolls
        [[unroll]] for (uint e0 = 0u; e0 < 16u * (BC / 8u); e0 += 32u) {
            const uint e = e0 + lane, rr = e / nw, ch = e % nw, q = q0 + warp * 16u + rr, d = (n0 + ch) * 8u;
            if (e < 16u * nw && q < pc.nq && d < pc.dim) {
                const vec4 a = slot_f32(Reg[reg + rr * SP + ch * 2u]), c = slot_f32(Reg[reg + rr * SP + ch * 2u + 1u]);
                o4[(qbase + q * ldg + d) / 8u] = pack8(a.x, a.y, a.z, a.w, c.x, c.y, c.z, c.w);
            }
        }
        WARP_SYNC();
    }
    if (hf == 0u && row < pc.nq && (pc.flags & VKTI_ATTN_LSE) != 0u)
        lse[attn_row(b, h, row)] = (m + log2(lt)) * LN2;
}
