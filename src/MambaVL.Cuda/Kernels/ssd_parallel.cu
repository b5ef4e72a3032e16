// The chunk-parallel SSD forward (Mamba-2 prefill) of one sequence: mamba_ssm's Triton pipeline as separate launches,
// each parallel over chunks, so a long sequence fills the GPU (the fused ssd_scan walks the chunks in order in
// H·P/32 blocks). The state is passed between "state chunks" of SSD_SQ = 256 tokens (4 of ssd_prep's 64-token tiles):
//   ssd_prep (ssd.cu)    per (64-chunk, group): C, B as bf16 hi/lo tiles and the diagonal scores CB (causal);
//   ssd_cross_scores_nK  per (pair of 64-chunks in a state chunk, group): the off-diagonal scores C_i·B_j;
//   ssd_chunk_state_nK   per (state chunk, 64 channels, HB heads): S_k = Σ_j exp(cs_last − cs_j)·dt'_j·x_j ⊗ B_j from zero;
//   ssd_state_pass       per (head, 4 state elements): walks the state chunks, S_k → S_in(k) in place, and the final state;
//   ssd_chunk_scan_nK    per (state chunk, 64 channels, HB heads): for the chunk's 256 tokens
//                        y = exp(cs_i)·C_i·S_in(k)ᵀ + Σ_{j ≤ i in the state chunk} CB_ij·exp(cs_i − cs_j)·dt'_j·x_j + D·x.
// cs is the cumsum of dt'·A from the state chunk's start (kept in log2 units: each decay is one ex2); each block
// recomputes it (256 softplus: cheaper than a launch). Fragments come from shared memory by ldmatrix.
// The state buffer (H, state chunks, P, N) F32, head-major so that the state passing walks one head's chunks through
// a few pages (chunk-major, 2.6 MB apart, missed the TLB): per token H·P·N/256 floats (335 MB at 32K tokens, 2.7B shape).
// Blocks of the chunk state / scan hold all 64 channels of a head (B, C and the scores are read once per head, not
// twice) and HB heads of one group (HB = 2: the heads share the staged B tile; the second head's C and score reads
// hit L1; HB = 1, the default, is faster on the H100). The block index runs over heads first, so the blocks resident
// at once share their chunk's B, C and scores in L2.
// Products are bf16x3 as in ssd.cu; the chunk scan stages x·dt' (so M = CB ∘ exp(cs_i − cs_j) needs no dt').

#include "ssd_common.cuh"

#define SSD_SUB 4                   // 64-token tiles per state chunk
#define SSD_SQ (SSD_SUB * SSD_Q)    // tokens per state chunk
#define SSD_PW 64                   // head channels per block of the chunk state and chunk scan
#define SSD_HT 256                  // threads per head in those blocks (8 warps; one token of a state chunk each)

// Which (state chunk k, channels p0 .. p0 + pn − 1, head h) this thread works on: the block index is
// ((k · channel tiles + tile) · H/HB + head group), thread tid serves head HB·group + tid / SSD_HT.
struct SsdBlock { int k, p0, pn, h, hh, g; };

__device__ __forceinline__ SsdBlock ssd_block(int heads, int p_dim, int groups, int hb)
{
    SsdBlock b;
    const int ptiles = (p_dim + SSD_PW - 1) / SSD_PW, hgroups = heads / hb, rest = blockIdx.x / hgroups;
    b.hh = threadIdx.x / SSD_HT;
    b.h = blockIdx.x % hgroups * hb + b.hh;
    b.k = rest / ptiles;
    b.p0 = rest % ptiles * SSD_PW;
    b.pn = min(SSD_PW, p_dim - b.p0);
    b.g = b.h / (heads / groups);
    return b;
}

// dt' and the inclusive cumsum of dt'·A·log2(e) from token t0 over one state chunk (tokens past T: dt' = 0, cs flat), one
// token per thread of the head's SSD_HT: cum[SQ], dtp[SQ], total[8] in shared memory. In log2 units, so every decay is
// one ssd_exp2. Ends with a (block) barrier.
__device__ __forceinline__ void ssd_state_chunk_cumsum(const float* __restrict__ dt, long long lddt, int h, int t0, int t_len,
                                                       float ah, float bias, float dt_min, float dt_max, float* cum, float* dtp, float* total)
{
    const int j = threadIdx.x % SSD_HT, lane = j & 31, warp = j >> 5;
    const float d = t0 + j < t_len ? dt_of(dt[(long long)(t0 + j) * lddt + h], bias, dt_min, dt_max) : 0.0f;
    float s = d * (ah * 1.4426950408889634f);
    #pragma unroll
    for (int o = 1; o < 32; o <<= 1)
    {
        float v = __shfl_up_sync(0xffffffffu, s, o);
        if (lane >= o) s += v;
    }
    if (lane == 31) total[warp] = s;
    __syncthreads();
    for (int w = 0; w < warp; w++) s += total[w];
    cum[j] = s; dtp[j] = d;
    __syncthreads();
}

// x of one 64-token tile (tokens t.., channels xcol..xcol + pn − 1) times per-token factors f (dt' or the chunk state's weights),
// transposed into [PW][QW] hi/lo words. Warp w stages channels 8w..8w+7, lane (c = lane & 7, jq = lane >> 3) channel
// 8w + c, token pairs jq, jq + 4, ..: 32-byte global segments, and the 32 lanes' words fall in 32 distinct banks.
// WHOLE: whole tiles (64 tokens, 64 channels) take a path without bounds checks (the same values).
template <bool WHOLE>
__device__ __forceinline__ void ssd_stage_x(const float* __restrict__ x, long long ldx, long long xcol, int pn, int t, int t_len,
                                            const float* f, unsigned* x_hi, unsigned* x_lo)
{
    const int ht = threadIdx.x % SSD_HT, lane = ht & 31, pc = 8 * (ht >> 5) + (lane & 7), jq = lane >> 3;
    if (WHOLE && pn == SSD_PW && t + SSD_Q <= t_len)
    {
        // a whole tile (all but a sequence's last): no bounds, one pointer stepped 8 tokens a round (the index math was
        // most of the staging's instructions)
        const float* xp = x + (long long)(t + 2 * jq) * ldx + xcol + pc;
        #pragma unroll
        for (int u = 0; u < SSD_Q / 8; u++, xp += 8 * ldx)
        {
            const int jp = jq + 4 * u, j = 2 * jp;
            unsigned hi, lo;
            split_pair(xp[0] * f[j], xp[ldx] * f[j + 1], hi, lo);
            x_hi[pc * SSD_QW + jp] = hi; x_lo[pc * SSD_QW + jp] = lo;
        }
        return;
    }
    const bool p_in = pc < pn;
    #pragma unroll
    for (int u = 0; u < SSD_Q / 8; u++)
    {
        const int jp = jq + 4 * u, j = 2 * jp;
        float v0 = p_in && t + j < t_len ? x[(long long)(t + j) * ldx + xcol + pc] : 0.0f;
        float v1 = p_in && t + j + 1 < t_len ? x[(long long)(t + j + 1) * ldx + xcol + pc] : 0.0f;
        v0 *= f[j]; v1 *= f[j + 1];
        unsigned hi, lo;
        split_pair(v0, v1, hi, lo);
        x_hi[pc * SSD_QW + jp] = hi; x_lo[pc * SSD_QW + jp] = lo;
    }
}
// Rows of F32 (rows of them valid, ld apart, n_dim columns) split into hi/lo words [64][NW] (NW = NP/2 + 4), zeros
// past the valid rows and columns; the SSD_HT threads of a head share the work, pairs read as float2 where aligned.
template <int NP>
__device__ __forceinline__ void ssd_stage_rows(const float* __restrict__ src, long long ld, int rows, int n_dim, unsigned* hi, unsigned* lo)
{
    constexpr int NW = NP / 2 + 4;
    const bool pairs = ((ld | n_dim) & 1) == 0 && ((unsigned long long)src & 7) == 0;
    for (int e = threadIdx.x % SSD_HT; e < 64 * NP / 2; e += SSD_HT)
    {
        const int p = e / (NP / 2), w = e % (NP / 2), n = 2 * w;
        const float* row = src + (long long)p * ld;
        float v0 = 0.0f, v1 = 0.0f;
        if (p < rows && pairs && n < n_dim) { float2 v = *(const float2*)(row + n); v0 = v.x; v1 = v.y; }
        else if (p < rows) { v0 = n < n_dim ? row[n] : 0.0f; v1 = n + 1 < n_dim ? row[n + 1] : 0.0f; }
        split_pair(v0, v1, hi[p * NW + w], lo[p * NW + w]);
    }
}

// grid (6 · state chunks, G), SSD_HT threads, 4 · 4 · 64 · (NP/2 + 4) bytes of dynamic shared memory. Block (k, pair)
// takes one pair of 64-chunks c = 4k + m, c' = 4k + z (z < m) of a state chunk: cbx[c][g][z] (Q × Q f32) = C_i·B_j,
// i in c, j in c' (no mask: every j precedes every i), in bf16x3. C rows past T are 0. Warp w: rows 16(w & 3)..,
// columns 32(w >> 2)...
template <int NP>
__device__ __forceinline__ void ssd_cross_scores_body(const float* __restrict__ bm, long long ldb, const float* __restrict__ cm, long long ldc,
                                                      float* __restrict__ cbx, int t_len, int groups, int n_dim)
{
    constexpr int NW = NP / 2 + 4;
    extern __shared__ __align__(16) unsigned smem[];
    unsigned *c_hi = smem, *c_lo = c_hi + 64 * NW, *b_hi = c_lo + 64 * NW, *b_lo = b_hi + 64 * NW;
    const int k = blockIdx.x / 6, pr = blockIdx.x % 6, m = pr < 1 ? 1 : pr < 3 ? 2 : 3, z = pr - m * (m - 1) / 2, g = blockIdx.y;
    const int c = k * SSD_SUB + m, ti = c * SSD_Q, tj = (k * SSD_SUB + z) * SSD_Q;
    if (ti >= t_len) return;   // no such chunk
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3, r0 = 16 * (warp & 3), n0 = 32 * (warp >> 2);
    ssd_stage_rows<NP>(cm + ti * ldc + (long long)g * n_dim, ldc, t_len - ti, n_dim, c_hi, c_lo);
    ssd_stage_rows<NP>(bm + tj * ldb + (long long)g * n_dim, ldb, SSD_Q, n_dim, b_hi, b_lo);   // c' is whole (it precedes c)
    __syncthreads();
    float acc[4][4] = {};
    #pragma unroll 4
    for (int kk = 0; kk < NP / 16; kk++)
    {
        FragA fa;
        ldsm_a(fa, c_hi, c_lo, NW, r0, 8 * kk);
        mma3_row<4>(acc, fa, b_hi, b_lo, NW, n0, 8 * kk);
    }
    float* out = cbx + (((long long)c * groups + g) * (SSD_SUB - 1) + z) * (SSD_Q * SSD_Q) + (r0 + gq) * SSD_Q + n0 + 2 * tq;
    #pragma unroll
    for (int nt = 0; nt < 4; nt++)
    {
        *(float2*)(out + 8 * nt) = make_float2(acc[nt][0], acc[nt][1]);
        *(float2*)(out + 8 * SSD_Q + 8 * nt) = make_float2(acc[nt][2], acc[nt][3]);
    }
}

#define SSD_CROSS_KERNEL(NP) extern "C" __global__ void __launch_bounds__(SSD_HT) ssd_cross_scores_n##NP(const float* __restrict__ bm, \
    long long ldb, const float* __restrict__ cm, long long ldc, float* __restrict__ cbx, int t_len, int groups, int n_dim) \
    { ssd_cross_scores_body<NP>(bm, ldb, cm, ldc, cbx, t_len, groups, n_dim); }
SSD_CROSS_KERNEL(64)
SSD_CROSS_KERNEL(128)
SSD_CROSS_KERNEL(256)

// The chunk state's dynamic shared memory (CudaBackend.SsdParallel.cs mirrors it): the B tile hi/lo [NP][QW], shared
// by the block's heads, then per head the weighted x tile hi/lo [PW][QW], cum and dt' [SQ], 8 warp totals.
template <int NP>
struct SsdStatePlan
{
    static constexpr int B_WORDS = NP * SSD_QW, W_WORDS = SSD_PW * SSD_QW;
    static constexpr int HEAD_WORDS = 2 * W_WORDS + 2 * SSD_SQ + 8;
    static constexpr int words(int hb) { return 2 * B_WORDS + hb * HEAD_WORDS; }
};

// B tile `tile` of ssd_prep ([2][NP][Q] bf16: NP rows of Q/2 words per plane) into [NP][QW] rows, 16 bytes at a time.
template <int NP>
__device__ __forceinline__ void ssd_stage_b(const unsigned* __restrict__ bsg, long long tile, unsigned* b_hi, int hb)
{
    const uint4* src = (const uint4*)(bsg + tile * (NP * SSD_Q));
    constexpr int ROW = SSD_Q / 8;   // uint4 per row of a plane
    for (int e = threadIdx.x; e < 2 * NP * ROW; e += SSD_HT * hb)
    {
        const int row = e / ROW, q = e % ROW;   // row: plane · NP + n (the lo plane follows the hi one in both)
        *(uint4*)(b_hi + row * SSD_QW + 4 * q) = src[e];
    }
}

// One block per (state chunk k, 64 channels, HB heads of one group): each head's state contribution from zero,
// S_k[p][n] (F32, into states (H, K, P, N)), and (channel tile 0) decay[h][k] = exp(cs_last). Warp w of a head owns
// channels 32(w & 1).. and state columns (w >> 1)·NP/4 .. + NP/4 as MMA accumulators acc[mt][nt]: channel
// 32(w & 1) + 16mt + gq (+8 for r ≥ 2), column (w >> 1)·NP/4 + 8nt + 2tq + (r & 1).
template <int NP, int HB>
__device__ __forceinline__ void ssd_chunk_state_body(
    const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, const float* __restrict__ a,
    const float* __restrict__ dt_bias, const unsigned* __restrict__ bsg, float* __restrict__ states, float* __restrict__ decay,
    int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max)
{
    typedef SsdStatePlan<NP> L;
    constexpr int NT = NP / 32;   // 8-column tiles per warp
    extern __shared__ __align__(16) unsigned smem[];
    const SsdBlock bk = ssd_block(heads, p_dim, groups, HB);
    unsigned* b_hi = smem;                                        // [NP][QW] B of one tile, state-major
    unsigned* b_lo = b_hi + L::B_WORDS;
    unsigned* w_hi = b_lo + L::B_WORDS + bk.hh * L::HEAD_WORDS;   // [PW][QW] x·weights of one tile, transposed
    unsigned* w_lo = w_hi + L::W_WORDS;
    float* cum = (float*)(w_lo + L::W_WORDS);
    float* dtp = cum + SSD_SQ;

    const int warp = threadIdx.x % SSD_HT >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
    const int t0 = bk.k * SSD_SQ, kc = (t_len + SSD_SQ - 1) / SSD_SQ, tiles = min(SSD_SUB, (t_len - t0 + SSD_Q - 1) / SSD_Q);
    const int ch0 = 32 * (warp & 1), wn0 = (warp >> 1) * (NP / 4);
    ssd_state_chunk_cumsum(dt, lddt, bk.h, t0, t_len, a[bk.h], dt_bias[bk.h], dt_min, dt_max, cum, dtp, dtp + SSD_SQ);
    const float last = cum[SSD_SQ - 1];
    dtp[threadIdx.x % SSD_HT] *= ssd_exp2(last - cum[threadIdx.x % SSD_HT]);   // now the token weights (own token: no barrier)
    if (bk.p0 == 0 && threadIdx.x % SSD_HT == 0) decay[(long long)bk.h * kc + bk.k] = ssd_exp2(last);

    float acc[2][NT][4] = {};
    const long long xcol = (long long)bk.h * p_dim + bk.p0;
    for (int s = 0; s < tiles; s++)
    {
        __syncthreads();   // the weights are written / the previous tile's readers are done
        ssd_stage_b<NP>(bsg, (long long)(bk.k * SSD_SUB + s) * groups + bk.g, b_hi, HB);
        ssd_stage_x<false>(x, ldx, xcol, bk.pn, t0 + s * SSD_Q, t_len, dtp + s * SSD_Q, w_hi, w_lo);   // WHOLE spilled at 80 registers
        __syncthreads();
        #pragma unroll
        for (int kk = 0; kk < SSD_Q / 16; kk++)
        {
            FragA fa[2];
            ldsm_a(fa[0], w_hi, w_lo, SSD_QW, ch0, 8 * kk);
            ldsm_a(fa[1], w_hi, w_lo, SSD_QW, ch0 + 16, 8 * kk);
            #pragma unroll
            for (int nt = 0; nt < NT; nt += 2)
            {
                FragB fb[2];
                ldsm_b2(fb[0], fb[1], b_hi, b_lo, SSD_QW, wn0 + 8 * nt, 8 * kk);
                #pragma unroll
                for (int u = 0; u < 2; u++)
                {
                    mma3(acc[0][nt + u], fa[0], fb[u]);
                    mma3(acc[1][nt + u], fa[1], fb[u]);
                }
            }
        }
    }
    float* st = states + (((long long)bk.h * kc + bk.k) * p_dim + bk.p0) * n_dim;
    #pragma unroll
    for (int mt = 0; mt < 2; mt++)
        #pragma unroll
        for (int nt = 0; nt < NT; nt++)
            #pragma unroll
            for (int r = 0; r < 4; r++)
            {
                int p = ch0 + 16 * mt + gq + (r >= 2 ? 8 : 0), n = wn0 + 8 * nt + 2 * tq + (r & 1);
                if (p < bk.pn && n < n_dim) st[(long long)p * n_dim + n] = acc[mt][nt][r];
            }
}

// grid (ceil(P·N / (V·256)), H), 256 threads, V = 4 (vec != 0: P·N a multiple of 4, the state 16-byte aligned) or 1:
// for V state elements per thread, in order of the state chunks, S_k is replaced by the state entering chunk k,
// S_in(k + 1) = decay_k·S_in(k) + S_k from S_in(0) = state; state (H, P, N) ends as the final state. Loads run 8 chunks
// ahead of the (cheap, sequential) recurrence; with V = 4 the 2.7B shape is one wave of 640 blocks.
__device__ __forceinline__ float ssd_axpy(float d, float r, float v) { return fmaf(d, r, v); }
__device__ __forceinline__ float4 ssd_axpy(float d, float4 r, float4 v)
{
    return make_float4(fmaf(d, r.x, v.x), fmaf(d, r.y, v.y), fmaf(d, r.z, v.z), fmaf(d, r.w, v.w));
}

template <typename T>
__device__ __forceinline__ void ssd_state_pass_body(float* __restrict__ states, const float* __restrict__ decay,
                                                    float* __restrict__ state, int chunks, int elems)
{
    constexpr int V = sizeof(T) / sizeof(float);
    const int h = blockIdx.y, e = blockIdx.x * 256 + threadIdx.x, nv = elems / V;
    if (e >= nv) return;
    T* s = (T*)(states + (long long)h * chunks * elems) + e;
    T* fin = (T*)(state + (long long)h * elems) + e;
    const float* dk = decay + (long long)h * chunks;
    T run = *fin;
    int k = 0;
    for (; k + 8 <= chunks; k += 8)
    {
        T v[8];
        float d[8];
        #pragma unroll
        for (int u = 0; u < 8; u++) { v[u] = s[(long long)(k + u) * nv]; d[u] = dk[k + u]; }
        #pragma unroll
        for (int u = 0; u < 8; u++)
        {
            s[(long long)(k + u) * nv] = run;
            run = ssd_axpy(d[u], run, v[u]);
        }
    }
    for (; k < chunks; k++)
    {
        T v = s[(long long)k * nv];
        s[(long long)k * nv] = run;
        run = ssd_axpy(dk[k], run, v);
    }
    *fin = run;
}

extern "C" __global__ void __launch_bounds__(256) ssd_state_pass(float* __restrict__ states, const float* __restrict__ decay,
                                                                 float* __restrict__ state, int chunks, int elems, int vec)
{
    if (vec) ssd_state_pass_body<float4>(states, decay, state, chunks, elems);
    else ssd_state_pass_body<float>(states, decay, state, chunks, elems);
}

// The chunk scan's dynamic shared memory per head for state size NP (CudaBackend.SsdParallel.cs mirrors it): S_in
// hi/lo [PW][NW], one x tile hi/lo [PW][QW], cum and dt' [SQ], 8 warp totals.
template <int NP>
struct SsdScanPlan
{
    static constexpr int NW = NP / 2 + 4, S_WORDS = SSD_PW * NW, X_WORDS = SSD_PW * SSD_QW;
    static constexpr int HEAD_WORDS = 2 * S_WORDS + 2 * X_WORDS + 2 * SSD_SQ + 8;
};

// The CB values of one A fragment of a score tile: rows i, i + 8 and columns j, j + 1, j + 8, j + 9 (i, j within the
// tile, j even), word q holding row i (+8 for odd q), columns j, j + 1 (+8 for q ≥ 2). Loaded a k-step ahead of use.
__device__ __forceinline__ void ssd_score_words(float2* s, const float* __restrict__ cb, int i, int j)
{
    #pragma unroll
    for (int q = 0; q < 4; q++) s[q] = *(const float2*)(cb + (i + 8 * (q & 1)) * SSD_Q + j + 8 * (q >> 1));
}

// M = CB ∘ 2^(cs_i − cs_j) of those words as a bf16x3 A fragment (c0, c8 the cumsums of rows i, i + 8; cj the tile's
// column cumsums, log2 units; dt'_j is in the staged x). 2^min(·, 0) stays finite above the diagonal, where CB is 0.
__device__ __forceinline__ void ssd_decayed_scores(FragA& f, const float2* s, int j, float c0, float c8, const float* cj)
{
    #pragma unroll
    for (int h = 0; h < 2; h++)
    {
        const float2 cc = *(const float2*)(cj + j + 8 * h);
        #pragma unroll
        for (int e = 0; e < 2; e++)
        {
            const int q = 2 * h + e;
            const float cr = e ? c8 : c0;
            split_pair(s[q].x * ssd_exp2(fminf(cr - cc.x, 0.0f)), s[q].y * ssd_exp2(fminf(cr - cc.y, 0.0f)), f.hi[q], f.lo[q]);
        }
    }
}

// The intra-chunk part of one warp's 16-row tile (rows i0.. of its 64-chunk, cumsum ci) against one staged x tile
// (x·dt'): acc[nt] += M·x over the first kmax k-steps of score tile cb (cumsum cj of the x tile's tokens).
__device__ __forceinline__ void ssd_scan_intra(float (*acc)[4], const float* __restrict__ cb, int i0, int kmax, const float* ci,
                                               const float* cj, const unsigned* x_hi, const unsigned* x_lo, int gq, int tq)
{
    const float c0 = ci[i0 + gq], c8 = ci[i0 + gq + 8];
    float2 next[4];
    ssd_score_words(next, cb, i0 + gq, 2 * tq);
    #pragma unroll 1
    for (int kk = 0; kk < kmax; kk++)
    {
        float2 cur[4] = { next[0], next[1], next[2], next[3] };
        if (kk + 1 < kmax) ssd_score_words(next, cb, i0 + gq, 16 * (kk + 1) + 2 * tq);
        FragA fm;
        ssd_decayed_scores(fm, cur, 16 * kk + 2 * tq, c0, c8, cj);
        mma3_row<SSD_PW / 8>(acc, fm, x_hi, x_lo, SSD_QW, 0, 8 * kk);
    }
}

// The C·S_in part of one warp's 16-row tile: acc[nt] (channels 8nt..) += C_rows·S_inᵀ, C from ssd_prep's tile [Q][NP]
// in global (rows row0.., no other warp reads them), S_in from shared memory.
template <int NP>
__device__ __forceinline__ void ssd_scan_entering(float (*acc)[4], const unsigned* __restrict__ c_hi, int row0,
                                                  const unsigned* s_hi, const unsigned* s_lo, int gq, int tq)
{
    constexpr int NW = SsdScanPlan<NP>::NW, CW = NP / 2;   // words per row of the C tile
    // load_a's words from one pointer per plane (rows 8 apart and the +4 words as immediate offsets): computed
    // per load, the 64-bit addresses cost more instructions than the loads
    const unsigned* ph = c_hi + (row0 + gq) * CW + tq;
    const unsigned* pl = ph + SSD_Q * CW;
    #pragma unroll 2
    for (int kk = 0; kk < NP / 16; kk++, ph += 8, pl += 8)
    {
        FragA fa;
        fa.hi[0] = ph[0]; fa.hi[1] = ph[8 * CW]; fa.hi[2] = ph[4]; fa.hi[3] = ph[8 * CW + 4];
        fa.lo[0] = pl[0]; fa.lo[1] = pl[8 * CW]; fa.lo[2] = pl[4]; fa.lo[3] = pl[8 * CW + 4];
        mma3_row<SSD_PW / 8>(acc, fa, s_hi, s_lo, NW, 0, 8 * kk);
    }
}

// y of one whole 16-row tile (rows t, t + 8 of the lane, all 64 channels, pairs 8-byte aligned): the same sums as
// ssd_scan_store's general loop, from one x and one y pointer with immediate offsets and the D factors read once
__device__ __forceinline__ void ssd_scan_store_tile(const float (*acc)[4], const float* __restrict__ x, long long ldx,
                                                    const float* __restrict__ dvec, int d_mode, float* __restrict__ y,
                                                    const SsdBlock& bk, int t, int heads, int p_dim, int tq)
{
    const long long xcol = (long long)bk.h * p_dim + bk.p0;
    const float* xr = x + (long long)t * ldx + xcol + 2 * tq;
    float* yr = y + ((long long)t * heads + bk.h) * p_dim + bk.p0 + 2 * tq;
    const long long x8 = 8 * ldx, y8 = 8LL * heads * p_dim;
    #pragma unroll
    for (int nt = 0; nt < SSD_PW / 8; nt++)
    {
        float2 dv = make_float2(0.0f, 0.0f);
        if (d_mode == 1) dv = make_float2(dvec[bk.h], dvec[bk.h]);
        else if (d_mode == 2) dv = make_float2(dvec[xcol + 8 * nt + 2 * tq], dvec[xcol + 8 * nt + 2 * tq + 1]);   // dvec's own alignment unknown
        #pragma unroll
        for (int half = 0; half < 2; half++)
        {
            float v0 = acc[nt][2 * half], v1 = acc[nt][2 * half + 1];
            if (d_mode != 0)
            {
                const float2 xv = *(const float2*)(xr + half * x8 + 8 * nt);
                v0 += dv.x * xv.x;
                v1 += dv.y * xv.y;
            }
            *(float2*)(yr + half * y8 + 8 * nt) = make_float2(v0, v1);
        }
    }
}

// y of one warp's two row tiles (r = w, 15 − w of the state chunk) plus the D skip from the exact fp32 x: lane values
// q, q + 1 are channels pp, pp + 1, stored (and x read) as float2 where P, ldx and the pointers keep pairs 8-byte aligned.
__device__ __forceinline__ void ssd_scan_store(const float (*acc)[SSD_PW / 8][4], const float* __restrict__ x, long long ldx,
                                               const float* __restrict__ dvec, int d_mode, float* __restrict__ y, const SsdBlock& bk,
                                               int warp, int t_len, int heads, int p_dim, int gq, int tq)
{
    const long long xcol = (long long)bk.h * p_dim + bk.p0;
    const bool pairs = ((p_dim | ldx) & 1) == 0 && (((unsigned long long)x | (unsigned long long)y) & 7) == 0;
    #pragma unroll
    for (int ri = 0; ri < 2; ri++)
    {
        const int r = ri == 0 ? warp : 15 - warp;
        if (pairs && bk.pn == SSD_PW && bk.k * SSD_SQ + 16 * r + 16 <= t_len)
        {
            ssd_scan_store_tile(acc[ri], x, ldx, dvec, d_mode, y, bk, bk.k * SSD_SQ + 16 * r + gq, heads, p_dim, tq);
            continue;
        }
        #pragma unroll
        for (int nt = 0; nt < SSD_PW / 8; nt++)
            #pragma unroll
            for (int q = 0; q < 4; q += 2)
            {
                const int t = bk.k * SSD_SQ + 16 * r + gq + (q >= 2 ? 8 : 0), pp = 8 * nt + 2 * tq;
                if (t >= t_len || pp >= bk.pn) continue;
                const float* xr = x + (long long)t * ldx + xcol + pp;
                float* yr = y + ((long long)t * heads + bk.h) * p_dim + bk.p0 + pp;
                float v0 = acc[ri][nt][q], v1 = acc[ri][nt][q + 1];
                const bool two = pp + 1 < bk.pn;
                if (d_mode != 0)
                {
                    const float2 xv = pairs && two ? *(const float2*)xr : make_float2(xr[0], two ? xr[1] : 0.0f);
                    v0 += (d_mode == 1 ? dvec[bk.h] : dvec[xcol + pp]) * xv.x;
                    v1 += (d_mode == 1 ? dvec[bk.h] : two ? dvec[xcol + pp + 1] : 0.0f) * xv.y;
                }
                if (pairs && two) *(float2*)yr = make_float2(v0, v1);
                else { yr[0] = v0; if (two) yr[1] = v1; }
            }
    }
}

// One block per (state chunk k, 64 channels, HB heads): y for the chunk's 256 tokens. Warp w of a head computes the
// 16-row tiles r = w and 15 − w (causal work balanced: w + 1 and 16 − w score steps), acc[ri][nt] being channels
// 8nt.. of tile ri as m16n8 accumulators; r's 64-chunk is c = 4k + r/4. S_in(k) comes from ssd_state_pass. The x tiles
// of the state chunk are staged one after another, each used by every row tile at or after it.
template <int NP, int HB>
__device__ __forceinline__ void ssd_chunk_scan_body(
    const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, const float* __restrict__ a,
    const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode, const unsigned* __restrict__ csg,
    const float* __restrict__ cbg, const float* __restrict__ cbx, const float* __restrict__ states, float* __restrict__ y,
    int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max)
{
    typedef SsdScanPlan<NP> L;
    extern __shared__ __align__(16) unsigned smem[];
    const SsdBlock bk = ssd_block(heads, p_dim, groups, HB);
    unsigned* s_hi = smem + bk.hh * L::HEAD_WORDS;   // [PW][NW] S_in(k), channel-major
    unsigned* s_lo = s_hi + L::S_WORDS;
    unsigned* x_hi = s_lo + L::S_WORDS;              // [PW][QW] x of one tile, transposed
    unsigned* x_lo = x_hi + L::X_WORDS;
    float* cum = (float*)(x_lo + L::X_WORDS);
    float* dtp = cum + SSD_SQ;

    const int warp = threadIdx.x % SSD_HT >> 5, lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
    const int chunks = (t_len + SSD_Q - 1) / SSD_Q, kc = (t_len + SSD_SQ - 1) / SSD_SQ, h = bk.h;
    const long long xcol = (long long)h * p_dim + bk.p0;
    ssd_stage_rows<NP>(states + (((long long)h * kc + bk.k) * p_dim + bk.p0) * n_dim, n_dim, bk.pn, n_dim, s_hi, s_lo);
    ssd_state_chunk_cumsum(dt, lddt, h, bk.k * SSD_SQ, t_len, a[h], dt_bias[h], dt_min, dt_max, cum, dtp, dtp + SSD_SQ);

    float acc[2][SSD_PW / 8][4];
    #pragma unroll
    for (int ri = 0; ri < 2; ri++)
    {
        const int r = ri == 0 ? warp : 15 - warp, c = bk.k * SSD_SUB + r / 4, i0 = 16 * r + gq;
        #pragma unroll
        for (int nt = 0; nt < SSD_PW / 8; nt++)
            #pragma unroll
            for (int q = 0; q < 4; q++) acc[ri][nt][q] = 0.0f;
        if (c >= chunks) continue;
        ssd_scan_entering<NP>(acc[ri], csg + ((long long)c * groups + bk.g) * (SSD_Q * NP), 16 * (r % 4), s_hi, s_lo, gq, tq);
        const float e0 = ssd_exp2(cum[i0]), e8 = ssd_exp2(cum[i0 + 8]);
        #pragma unroll
        for (int nt = 0; nt < SSD_PW / 8; nt++) { acc[ri][nt][0] *= e0; acc[ri][nt][1] *= e0; acc[ri][nt][2] *= e8; acc[ri][nt][3] *= e8; }
    }
    // within the state chunk: x tile mp against the cross score tiles (m > mp) and the diagonal one (causal: k-steps ≤ r % 4)
    for (int mp = 0; mp < SSD_SUB && bk.k * SSD_SUB + mp < chunks; mp++)
    {
        __syncthreads();   // the previous x tile's readers are done
        ssd_stage_x<true>(x, ldx, xcol, bk.pn, bk.k * SSD_SQ + mp * SSD_Q, t_len, dtp + mp * SSD_Q, x_hi, x_lo);   // x·dt'
        __syncthreads();
        #pragma unroll
        for (int ri = 0; ri < 2; ri++)
        {
            const int r = ri == 0 ? warp : 15 - warp, m = r / 4, c = bk.k * SSD_SUB + m;
            if (m < mp || c >= chunks) continue;
            const long long tile = (long long)c * groups + bk.g;
            const float* cb = m == mp ? cbg + tile * (SSD_Q * SSD_Q) : cbx + (tile * (SSD_SUB - 1) + mp) * (SSD_Q * SSD_Q);
            const int kmax = m == mp ? r % 4 + 1 : SSD_Q / 16;
            ssd_scan_intra(acc[ri], cb, 16 * (r % 4), kmax, cum + m * SSD_Q, cum + mp * SSD_Q, x_hi, x_lo, gq, tq);
        }
    }
    ssd_scan_store(acc, x, ldx, dvec, d_mode, y, bk, warp, t_len, heads, p_dim, gq, tq);
}

// ssd_chunk_state_nK[_h2]: grid (K · ceil(P/64) · H/HB), SSD_HT·HB threads, 4·SsdStatePlan<NP>::words(HB) bytes of dynamic
// shared memory; states (H, K, P, N), decay (H, K). _h2: HB = 2, for H/G even (the two heads share B).
#define SSD_STATE_ARGS const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, \
    const float* __restrict__ a, const float* __restrict__ dt_bias, const unsigned* __restrict__ bsg, float* __restrict__ states, \
    float* __restrict__ decay, int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max
#define SSD_STATE_CALL x, ldx, dt, lddt, a, dt_bias, bsg, states, decay, t_len, heads, p_dim, groups, n_dim, dt_min, dt_max
// MINB: blocks per SM the registers must allow, as many as the shared memory fits (N = 128, one head: 3 of 57 KB, so
// ≤ 80 registers; N = 64: 4; N = 256: 1, whose 2 of 94 KB would spill at 128 registers).
#define SSD_STATE_KERNEL(NP, HB, MINB, NAME) extern "C" __global__ void __launch_bounds__(SSD_HT * HB, MINB) NAME(SSD_STATE_ARGS) \
    { ssd_chunk_state_body<NP, HB>(SSD_STATE_CALL); }

SSD_STATE_KERNEL(64, 1, 4, ssd_chunk_state_n64)
SSD_STATE_KERNEL(128, 1, 3, ssd_chunk_state_n128)
SSD_STATE_KERNEL(256, 1, 1, ssd_chunk_state_n256)
SSD_STATE_KERNEL(64, 2, 2, ssd_chunk_state_n64_h2)
SSD_STATE_KERNEL(128, 2, 1, ssd_chunk_state_n128_h2)
SSD_STATE_KERNEL(256, 2, 1, ssd_chunk_state_n256_h2)

// ssd_chunk_scan_nK[_h2]: grid (K · ceil(P/64) · H/HB), SSD_HT·HB threads, 4·HB·SsdScanPlan<NP>::HEAD_WORDS bytes of
// dynamic shared memory. D: d_mode 0 none, 1 per head, 2 per (h, p); y (T, H, P). _h2: HB = 2 (H even).
#define SSD_CHUNK_SCAN_ARGS const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, \
    const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode, \
    const unsigned* __restrict__ csg, const float* __restrict__ cbg, const float* __restrict__ cbx, const float* __restrict__ states, \
    float* __restrict__ y, int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max
#define SSD_CHUNK_SCAN_CALL x, ldx, dt, lddt, a, dt_bias, dvec, d_mode, csg, cbg, cbx, states, y, t_len, heads, p_dim, groups, n_dim, dt_min, dt_max
#define SSD_CHUNK_SCAN_KERNEL(NP, HB, NAME) extern "C" __global__ void __launch_bounds__(SSD_HT * HB, 2 / HB) NAME(SSD_CHUNK_SCAN_ARGS) \
    { ssd_chunk_scan_body<NP, HB>(SSD_CHUNK_SCAN_CALL); }

SSD_CHUNK_SCAN_KERNEL(64, 1, ssd_chunk_scan_n64)
SSD_CHUNK_SCAN_KERNEL(128, 1, ssd_chunk_scan_n128)
SSD_CHUNK_SCAN_KERNEL(256, 1, ssd_chunk_scan_n256)
SSD_CHUNK_SCAN_KERNEL(64, 2, ssd_chunk_scan_n64_h2)
SSD_CHUNK_SCAN_KERNEL(128, 2, ssd_chunk_scan_n128_h2)
SSD_CHUNK_SCAN_KERNEL(256, 2, ssd_chunk_scan_n256_h2)
