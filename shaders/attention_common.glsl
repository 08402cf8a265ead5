// attention_common.glsl — shared by the attention_*.comp kernels: indexing of [B, N, H, D]
// tensors and of [B, H, Nq] row statistics, the tile-size specialization constants, and tile
// staging from global into shared memory. Include after common.glsl and pc_attention.h.
//
// Tiled kernels run a thread grid of (ROWS / TM) x TX invocations over a tile of ROWS rows: the
// invocation (ty, tx) = (id / TX, id % TX) owns rows ty + i * (ROWS / TM), i < TM, and the
// columns tx + j * TX of whatever it accumulates (keys of a score tile, or channels of an
// output tile). Rows a thread owns are strided, so shared-memory reads by one row of threads are
// broadcasts and reads along a row are consecutive. Shared tiles of D-vectors have a row pitch of
// DP + 1 (odd), so threads reading different rows at the same column hit distinct banks.

const float LOG2E = 1.4426950408889634;
const float LN2 = 0.6931471805599453;
// Masked scores. Finite on purpose (exp2 of infinities is not reliable under Vulkan's default
// float controls): every row sees key 0 in the first key tile, so the running maximum is a real
// score after that tile and exp2(NEG_BIG - max) is exactly 0.
const float NEG_BIG = -1.0e30;

// First element of head h of batch b in a [B, n, H, D] tensor; tokens are heads*dim apart.
uint attn_base(uint b, uint n, uint h)
{
    return (b * n * pc.heads + h) * pc.dim;
}

// Index of (b, h, i) in a [B, H, Nq] row statistic (lse, delta).
uint attn_row(uint b, uint h, uint i)
{
    return (b * pc.heads + h) * pc.nq + i;
}

bool attn_causal()
{
    return (pc.flags & VKTI_ATTN_CAUSAL) != 0u;
}

#ifdef ATTN_TILES
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128; // (ROWS / TM) * TX invocations
layout(constant_id = 1) const uint BR = 32;  // query rows of a tile
layout(constant_id = 2) const uint BC = 32;  // key rows of a tile
layout(constant_id = 3) const uint DP = 64;  // head dimension rounded up to a multiple of TX
layout(constant_id = 4) const uint TX = 16;  // threads along a row
layout(constant_id = 5) const uint TM = 2;   // rows per thread
const uint LD = DP + 1;                      // row pitch of shared D-vector tiles
const uint TD = DP / TX;                     // output channels per thread

// Stages rows [row0, row0 + TILE) of one head of a [B, n, H, D] tensor (first element `base`)
// into DST[r * LD + d], r < TILE, d < DP, with zeros past n and past D. Consecutive invocations
// read consecutive channels of a token.
#define ATTN_STAGE(DST, SRC, base, row0, n, TILE)                                     \
    for (uint l_ = gl_LocalInvocationID.x; l_ < (TILE) * DP; l_ += WG) {               \
        uint r_ = l_ / DP, d_ = l_ - r_ * DP, g_ = (row0) + r_;                        \
        float x_ = 0.0;                                                               \
        if (g_ < (n) && d_ < pc.dim)                                                  \
            x_ = float(SRC[(base) + g_ * pc.heads * pc.dim + d_]);                    \
        DST[r_ * LD + d_] = x_;                                                       \
    }
#endif
