// The chunk-parallel SSD forward (Mamba-2 prefill) of one sequence: mamba_ssm's Triton pipeline as separate launches,
// each parallel over chunks, so a long sequence fills the GPU (the fused ssd_scan walks the chunks in order in
// H·P/32 blocks). The state is passed between "state chunks" of SSD_SQ = 256 tokens (4 of ssd_prep's 64-token tiles):
//   ssd_prep (ssd.cu)    per (64-chunk, group): C, B as bf16 hi/lo tiles and the diagonal scores CB (causal);
//   ssd_cross_scores     per (64-chunk, group, earlier 64-chunk of its state chunk): the off-diagonal scores C_i·B_j;
//   ssd_chunk_state_nK   per (32 channels, state chunk, head): S_k = Σ_j exp(cs_last − cs_j)·dt'_j·x_j ⊗ B_j from zero;
//   ssd_state_pass       per (head, state element): walks the state chunks, S_k → S_in(k) in place, and the final state;
//   ssd_chunk_scan_nK    per (32 channels, 64-chunk, head):
//                        y = exp(cs_i)·C_i·S_in(k)ᵀ + Σ_{j ≤ i in the state chunk} CB_ij·exp(cs_i − cs_j)·dt'_j·x_j + D·x.
// cs is the cumsum of dt'·A from the state chunk's start; each block recomputes it (256 softplus: cheaper than a launch).
// The state buffer (state chunks, H, P, N) F32: per token H·P·N/256 floats, N/256 of x's own size (half at N = 128; 335 MB
// at 32K tokens on the 2.7B shape). 64-token state chunks would make it 4x that and 4x the state passing's traffic, so the
// state moves in 256-token steps and the chunk scan pays for it with up to 3 off-diagonal score tiles per 64-chunk.
// Products are bf16x3 as in ssd.cu. Not yet run on a GPU.

#include "ssd_common.cuh"

#define SSD_SUB 4                   // 64-token tiles per state chunk
#define SSD_SQ (SSD_SUB * SSD_Q)    // tokens per state chunk
#define SSD_PT 128                  // threads of the chunk-state and chunk-scan blocks (4 warps)

// dt' and the inclusive cumsum of dt'·A from token t0 over one state chunk (tokens past T: dt' = 0, cs flat), two
// tokens per thread of an SSD_PT block: cum[SQ], dtp[SQ], total[4] in shared memory. Ends with a barrier.
__device__ __forceinline__ void ssd_state_chunk_cumsum(const float* __restrict__ dt, long long lddt, int h, int t0, int t_len,
                                                       float ah, float bias, float dt_min, float dt_max, float* cum, float* dtp, float* total)
{
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, j = 2 * tid;
    float d0 = t0 + j < t_len ? dt_of(dt[(long long)(t0 + j) * lddt + h], bias, dt_min, dt_max) : 0.0f;
    float d1 = t0 + j + 1 < t_len ? dt_of(dt[(long long)(t0 + j + 1) * lddt + h], bias, dt_min, dt_max) : 0.0f;
    float a0 = d0 * ah, a1 = d1 * ah, s = a0 + a1;
    #pragma unroll
    for (int o = 1; o < 32; o <<= 1)
    {
        float v = __shfl_up_sync(0xffffffffu, s, o);
        if (lane >= o) s += v;
    }
    float excl = __shfl_up_sync(0xffffffffu, s, 1);
    if (lane == 0) excl = 0.0f;
    if (lane == 31) total[warp] = s;
    __syncthreads();
    for (int w = 0; w < warp; w++) excl += total[w];
    cum[j] = excl + a0; cum[j + 1] = excl + a0 + a1;
    dtp[j] = d0; dtp[j + 1] = d1;
    __syncthreads();
}

// x of one 64-token tile (tokens t, channels p0..p0+31 of head h) times per-token factors f (nullptr: none), transposed
// into [PS][QW] hi/lo words: thread (warp, lane) stages channel lane, token pairs warp, warp + 4, ..., warp + 28.
__device__ __forceinline__ void ssd_stage_x(const float* __restrict__ x, long long ldx, long long xcol, bool p_in, int t, int t_len,
                                            const float* f, unsigned* x_hi, unsigned* x_lo)
{
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    #pragma unroll
    for (int k = 0; k < SSD_Q / 2 / 4; k++)
    {
        int jp = warp + 4 * k, j = 2 * jp;
        float v0 = p_in && t + j < t_len ? x[(long long)(t + j) * ldx + xcol + lane] : 0.0f;
        float v1 = p_in && t + j + 1 < t_len ? x[(long long)(t + j + 1) * ldx + xcol + lane] : 0.0f;
        if (f != nullptr) { v0 *= f[j]; v1 *= f[j + 1]; }
        unsigned hi, lo;
        split_pair(v0, v1, hi, lo);
        x_hi[lane * SSD_QW + jp] = hi; x_lo[lane * SSD_QW + jp] = lo;
    }
}

// grid (3 · chunks, G), 256 threads. For 64-chunk c and each earlier 64-chunk c' = c − c%4 + z (z < c%4) of its state
// chunk: cbx[c][g][z] (Q × Q f32) = C_i·B_j, i in c, j in c' (no mask: every j precedes every i). C rows past T are 0.
extern "C" __global__ void __launch_bounds__(256) ssd_cross_scores(const float* __restrict__ bm, long long ldb, const float* __restrict__ cm, long long ldc,
                                                                   float* __restrict__ cbx, int t_len, int groups, int n_dim)
{
    __shared__ float ct[SSD_Q][33], bt[SSD_Q][33];
    const int c = blockIdx.x / (SSD_SUB - 1), z = blockIdx.x % (SSD_SUB - 1), g = blockIdx.y;
    if (z >= c % SSD_SUB) return;   // no such earlier tile
    const int ti = c * SSD_Q, tj = (c - c % SSD_SUB + z) * SSD_Q, tid = threadIdx.x;
    const int i = tid >> 2, j0 = tid & 3;   // this thread's scores: row i, columns j0, j0 + 4, ..., j0 + 60
    float acc[16];
    #pragma unroll
    for (int m = 0; m < 16; m++) acc[m] = 0.0f;
    for (int n0 = 0; n0 < n_dim; n0 += 32)
    {
        for (int e = tid; e < SSD_Q * 32; e += 256)
        {
            int r = e >> 5, n = n0 + (e & 31);
            long long col = (long long)g * n_dim + n;
            ct[r][e & 31] = ti + r < t_len && n < n_dim ? cm[(ti + r) * ldc + col] : 0.0f;
            bt[r][e & 31] = n < n_dim ? bm[(tj + r) * ldb + col] : 0.0f;   // c' is a whole tile (it precedes c)
        }
        __syncthreads();
        ssd_scores_slice(ct, bt, i, j0, acc);
        __syncthreads();
    }
    float* out = cbx + (((long long)c * groups + g) * (SSD_SUB - 1) + z) * (SSD_Q * SSD_Q) + i * SSD_Q;
    #pragma unroll
    for (int m = 0; m < 16; m++) out[j0 + 4 * m] = acc[m];
}

// One block per (32 channels, state chunk k, head): its state contribution from zero, S_k[p][n] (F32, into
// states (K, H, P, N)), and (channel tile 0) decay[k][h] = exp(cs_last). Warp w owns state columns w·NP/4 .. +NP/4 as
// MMA accumulators acc[mt][nt]: channel 16mt + gq (+8 for r ≥ 2), column w·NP/4 + 8nt + 2tq + (r & 1).
template <int NP>
__device__ __forceinline__ void ssd_chunk_state_body(
    const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, const float* __restrict__ a,
    const float* __restrict__ dt_bias, const unsigned* __restrict__ bsg, float* __restrict__ states, float* __restrict__ decay,
    int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max)
{
    constexpr int NT = NP / 32;   // 8-column tiles per warp
    __shared__ float cum[SSD_SQ], dtp[SSD_SQ], total[4];
    __shared__ __align__(16) unsigned w_hi[SSD_PS * SSD_QW], w_lo[SSD_PS * SSD_QW];   // x·wgt of one tile, transposed

    const int ptiles = (p_dim + SSD_PS - 1) / SSD_PS, k = blockIdx.x / ptiles, p0 = blockIdx.x % ptiles * SSD_PS, h = blockIdx.y;
    const int g = h / (heads / groups), tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, gq = lane >> 2, tq = lane & 3;
    const int t0 = k * SSD_SQ, tiles = min(SSD_SUB, (t_len - t0 + SSD_Q - 1) / SSD_Q), wn0 = warp * (NP / 4);
    ssd_state_chunk_cumsum(dt, lddt, h, t0, t_len, a[h], dt_bias[h], dt_min, dt_max, cum, dtp, total);
    const float last = cum[SSD_SQ - 1];
    for (int j = tid; j < SSD_SQ; j += SSD_PT) dtp[j] *= expf(last - cum[j]);   // now the token weights
    if (p0 == 0 && tid == 0) decay[(long long)k * heads + h] = expf(last);
    __syncthreads();

    float acc[2][NT][4];
    #pragma unroll
    for (int mt = 0; mt < 2; mt++)
        #pragma unroll
        for (int nt = 0; nt < NT; nt++)
            #pragma unroll
            for (int r = 0; r < 4; r++) acc[mt][nt][r] = 0.0f;
    const long long xcol = (long long)h * p_dim + p0;
    for (int s = 0; s < tiles; s++)
    {
        ssd_stage_x(x, ldx, xcol, p0 + lane < p_dim, t0 + s * SSD_Q, t_len, dtp + s * SSD_Q, w_hi, w_lo);
        __syncthreads();
        // B of this tile, transposed [NP][Q] (ssd_prep): read as fragments straight from global (each warp its own columns)
        const unsigned* b_hi = bsg + ((long long)(k * SSD_SUB + s) * groups + g) * (NP * SSD_Q);
        const unsigned* b_lo = b_hi + NP * SSD_Q / 2;
        #pragma unroll
        for (int kk = 0; kk < SSD_Q / 16; kk++)
        {
            FragA fa[2];
            load_a(fa[0], w_hi, w_lo, SSD_QW, 0, 8 * kk, gq, tq);
            load_a(fa[1], w_hi, w_lo, SSD_QW, 16, 8 * kk, gq, tq);
            #pragma unroll
            for (int nt = 0; nt < NT; nt++)
            {
                FragB fb;
                load_b(fb, b_hi, b_lo, SSD_Q / 2, wn0 + 8 * nt, 8 * kk, gq, tq);
                mma3(acc[0][nt], fa[0], fb);
                mma3(acc[1][nt], fa[1], fb);
            }
        }
        __syncthreads();   // the tile's readers are done before the next one is staged
    }
    float* st = states + (((long long)k * heads + h) * p_dim + p0) * n_dim;
    #pragma unroll
    for (int mt = 0; mt < 2; mt++)
        #pragma unroll
        for (int nt = 0; nt < NT; nt++)
            #pragma unroll
            for (int r = 0; r < 4; r++)
            {
                int p = 16 * mt + gq + (r >= 2 ? 8 : 0), n = wn0 + 8 * nt + 2 * tq + (r & 1);
                if (p0 + p < p_dim && n < n_dim) st[(long long)p * n_dim + n] = acc[mt][nt][r];
            }
}

// grid (ceil(P·N / 256), H), 256 threads: for each state element in order of the state chunks, S_k is replaced by the
// state entering chunk k, S_in(k + 1) = decay_k·S_in(k) + S_k from S_in(0) = state; state (H, P, N) ends as the final state.
// Loads run 8 chunks ahead of the (cheap, sequential) recurrence so their latency overlaps.
extern "C" __global__ void __launch_bounds__(256) ssd_state_pass(float* __restrict__ states, const float* __restrict__ decay,
                                                                 float* __restrict__ state, int chunks, int heads, int elems)
{
    const int h = blockIdx.y, e = blockIdx.x * 256 + threadIdx.x;
    if (e >= elems) return;
    const long long stride = (long long)heads * elems;
    float* s = states + (long long)h * elems + e;
    float run = state[(long long)h * elems + e];
    int k = 0;
    for (; k + 8 <= chunks; k += 8)
    {
        float v[8];
        #pragma unroll
        for (int u = 0; u < 8; u++) v[u] = s[(k + u) * stride];
        #pragma unroll
        for (int u = 0; u < 8; u++)
        {
            s[(k + u) * stride] = run;
            run = decay[(long long)(k + u) * heads + h] * run + v[u];
        }
    }
    for (; k < chunks; k++)
    {
        float v = s[k * stride];
        s[k * stride] = run;
        run = decay[(long long)k * heads + h] * run + v;
    }
    state[(long long)h * elems + e] = run;
}

// The chunk scan's dynamic shared memory for state size NP (CudaBackend.SsdParallel.cs mirrors WORDS): S_in hi/lo
// [PS][NW], one x tile hi/lo [PS][QW], cum and dt' [SQ], 4 warp totals.
template <int NP>
struct SsdScanPlan
{
    static constexpr int NW = NP / 2 + 4;
    static constexpr int WORDS = 2 * SSD_PS * NW + 2 * SSD_PS * SSD_QW + 2 * SSD_SQ + 4;
};

// M = CB ∘ exp(cs_i − cs_j) ∘ dt'_j for rows i, i + 8 and columns j.., j + 8.. of one score tile, as a bf16x3 A
// fragment (i, j within the tile; ci, cj the cumsum rows of the tile's rows and columns). exp(min(·, 0)) stays finite
// above the diagonal, where CB is 0.
__device__ __forceinline__ void ssd_decayed_scores(FragA& f, const float* __restrict__ cb, int i, int j, const float* ci, const float* cj, const float* dj)
{
    float c0 = ci[i], c8 = ci[i + 8];
    const float* r0 = cb + i * SSD_Q + j;
    const float* r8 = r0 + 8 * SSD_Q;
    split_pair(r0[0] * expf(fminf(c0 - cj[j], 0.0f)) * dj[j], r0[1] * expf(fminf(c0 - cj[j + 1], 0.0f)) * dj[j + 1], f.hi[0], f.lo[0]);
    split_pair(r8[0] * expf(fminf(c8 - cj[j], 0.0f)) * dj[j], r8[1] * expf(fminf(c8 - cj[j + 1], 0.0f)) * dj[j + 1], f.hi[1], f.lo[1]);
    split_pair(r0[8] * expf(fminf(c0 - cj[j + 8], 0.0f)) * dj[j + 8], r0[9] * expf(fminf(c0 - cj[j + 9], 0.0f)) * dj[j + 9], f.hi[2], f.lo[2]);
    split_pair(r8[8] * expf(fminf(c8 - cj[j + 8], 0.0f)) * dj[j + 8], r8[9] * expf(fminf(c8 - cj[j + 9], 0.0f)) * dj[j + 9], f.hi[3], f.lo[3]);
}

// One block per (32 channels, 64-chunk c, head): y for the chunk's 64 tokens. Warp w computes rows 16w..16w+15:
// acc[nt] is channels 8nt.., as m16n8 accumulators. c is tile m of state chunk k; S_in(k) comes from ssd_state_pass.
template <int NP>
__device__ __forceinline__ void ssd_chunk_scan_body(
    const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, const float* __restrict__ a,
    const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode, const unsigned* __restrict__ csg,
    const float* __restrict__ cbg, const float* __restrict__ cbx, const float* __restrict__ states, float* __restrict__ y,
    int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max)
{
    typedef SsdScanPlan<NP> L;
    constexpr int NW = L::NW;
    extern __shared__ __align__(16) unsigned smem[];
    unsigned* s_hi = smem;                       // [PS][NW] S_in(k), channel-major
    unsigned* s_lo = s_hi + SSD_PS * NW;
    unsigned* x_hi = s_lo + SSD_PS * NW;         // [PS][QW] x of one tile, transposed
    unsigned* x_lo = x_hi + SSD_PS * SSD_QW;
    float* cum = (float*)(x_lo + SSD_PS * SSD_QW);
    float* dtp = cum + SSD_SQ;
    float* total = dtp + SSD_SQ;

    const int ptiles = (p_dim + SSD_PS - 1) / SSD_PS, c = blockIdx.x / ptiles, p0 = blockIdx.x % ptiles * SSD_PS, h = blockIdx.y;
    const int g = h / (heads / groups), tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, gq = lane >> 2, tq = lane & 3;
    const int k = c / SSD_SUB, m = c % SSD_SUB, tc = c * SSD_Q, q = min(SSD_Q, t_len - tc), r0 = 16 * warp;
    const long long xcol = (long long)h * p_dim + p0;

    // S_in(k) for channels p0.., split into hi/lo words (the cumsum's barriers publish it)
    const float* sin = states + (((long long)k * heads + h) * p_dim + p0) * n_dim;
    for (int e = tid; e < SSD_PS * NP / 2; e += SSD_PT)
    {
        int p = e / (NP / 2), w = e % (NP / 2), n = 2 * w;
        bool in = p0 + p < p_dim;
        float v0 = in && n < n_dim ? sin[(long long)p * n_dim + n] : 0.0f;
        float v1 = in && n + 1 < n_dim ? sin[(long long)p * n_dim + n + 1] : 0.0f;
        split_pair(v0, v1, s_hi[p * NW + w], s_lo[p * NW + w]);
    }
    ssd_state_chunk_cumsum(dt, lddt, h, k * SSD_SQ, t_len, a[h], dt_bias[h], dt_min, dt_max, cum, dtp, total);

    float acc[4][4];
    #pragma unroll
    for (int nt = 0; nt < 4; nt++)
        #pragma unroll
        for (int r = 0; r < 4; r++) acc[nt][r] = 0.0f;
    // the entering state: exp(cs_i)·C_i·S_inᵀ, C from ssd_prep's tile [Q][NP] in global (each warp its own rows)
    const unsigned* c_hi = csg + ((long long)c * groups + g) * (SSD_Q * NP);
    const unsigned* c_lo = c_hi + SSD_Q * NP / 2;
    #pragma unroll 4
    for (int kk = 0; kk < NP / 16; kk++)
    {
        FragA fa;
        load_a(fa, c_hi, c_lo, NP / 2, r0, 8 * kk, gq, tq);
        #pragma unroll
        for (int nt = 0; nt < 4; nt++)
        {
            FragB fb;
            load_b(fb, s_hi, s_lo, NW, 8 * nt, 8 * kk, gq, tq);
            mma3(acc[nt], fa, fb);
        }
    }
    const float* ci = cum + m * SSD_Q;   // cumsum of this tile's rows
    {
        float e0 = expf(ci[r0 + gq]), e8 = expf(ci[r0 + gq + 8]);
        #pragma unroll
        for (int nt = 0; nt < 4; nt++) { acc[nt][0] *= e0; acc[nt][1] *= e0; acc[nt][2] *= e8; acc[nt][3] *= e8; }
    }
    // within the state chunk: the tiles mp < m (cross scores) and the diagonal one (causal: columns j ≤ i < r0 + 16)
    for (int mp = 0; mp <= m; mp++)
    {
        __syncthreads();   // the previous x tile's readers are done
        ssd_stage_x(x, ldx, xcol, p0 + lane < p_dim, k * SSD_SQ + mp * SSD_Q, t_len, nullptr, x_hi, x_lo);
        __syncthreads();
        const float* cb = mp == m ? cbg + ((long long)c * groups + g) * (SSD_Q * SSD_Q)
                                  : cbx + (((long long)c * groups + g) * (SSD_SUB - 1) + mp) * (SSD_Q * SSD_Q);
        const int kmax = mp == m ? warp + 1 : SSD_Q / 16;
        for (int kk = 0; kk < kmax; kk++)
        {
            FragA fm;
            ssd_decayed_scores(fm, cb, r0 + gq, 16 * kk + 2 * tq, ci, cum + mp * SSD_Q, dtp + mp * SSD_Q);
            #pragma unroll
            for (int nt = 0; nt < 4; nt++)
            {
                FragB fb;
                load_b(fb, x_hi, x_lo, SSD_QW, 8 * nt, 8 * kk, gq, tq);
                mma3(acc[nt], fm, fb);
            }
        }
    }
    // D skip (from the exact fp32 x) and the store
    #pragma unroll
    for (int nt = 0; nt < 4; nt++)
        #pragma unroll
        for (int r = 0; r < 4; r++)
        {
            int i = r0 + gq + (r >= 2 ? 8 : 0), pp = 8 * nt + 2 * tq + (r & 1);
            if (i >= q || p0 + pp >= p_dim) continue;
            float v = acc[nt][r];
            if (d_mode != 0)
                v += (d_mode == 1 ? dvec[h] : dvec[xcol + pp]) * x[(long long)(tc + i) * ldx + xcol + pp];
            y[((long long)(tc + i) * heads + h) * p_dim + p0 + pp] = v;
        }
}

// ssd_chunk_state_nK: grid (ceil(P/32) · state chunks, H), SSD_PT threads, static shared memory; states (K, H, P, N).
#define SSD_STATE_ARGS const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, \
    const float* __restrict__ a, const float* __restrict__ dt_bias, const unsigned* __restrict__ bsg, float* __restrict__ states, \
    float* __restrict__ decay, int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max
#define SSD_STATE_CALL x, ldx, dt, lddt, a, dt_bias, bsg, states, decay, t_len, heads, p_dim, groups, n_dim, dt_min, dt_max

extern "C" __global__ void __launch_bounds__(SSD_PT) ssd_chunk_state_n64(SSD_STATE_ARGS) { ssd_chunk_state_body<64>(SSD_STATE_CALL); }
extern "C" __global__ void __launch_bounds__(SSD_PT) ssd_chunk_state_n128(SSD_STATE_ARGS) { ssd_chunk_state_body<128>(SSD_STATE_CALL); }
extern "C" __global__ void __launch_bounds__(SSD_PT) ssd_chunk_state_n256(SSD_STATE_ARGS) { ssd_chunk_state_body<256>(SSD_STATE_CALL); }

// ssd_chunk_scan_nK: grid (ceil(P/32) · 64-chunks, H), SSD_PT threads, 4·SsdScanPlan<NP>::WORDS bytes of dynamic shared
// memory. D: d_mode 0 none, 1 per head, 2 per (h, p); y (T, H, P).
#define SSD_CHUNK_SCAN_ARGS const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt, \
    const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode, \
    const unsigned* __restrict__ csg, const float* __restrict__ cbg, const float* __restrict__ cbx, const float* __restrict__ states, \
    float* __restrict__ y, int t_len, int heads, int p_dim, int groups, int n_dim, float dt_min, float dt_max
#define SSD_CHUNK_SCAN_CALL x, ldx, dt, lddt, a, dt_bias, dvec, d_mode, csg, cbg, cbx, states, y, t_len, heads, p_dim, groups, n_dim, dt_min, dt_max

extern "C" __global__ void __launch_bounds__(SSD_PT) ssd_chunk_scan_n64(SSD_CHUNK_SCAN_ARGS) { ssd_chunk_scan_body<64>(SSD_CHUNK_SCAN_CALL); }
extern "C" __global__ void __launch_bounds__(SSD_PT) ssd_chunk_scan_n128(SSD_CHUNK_SCAN_ARGS) { ssd_chunk_scan_body<128>(SSD_CHUNK_SCAN_CALL); }
extern "C" __global__ void __launch_bounds__(SSD_PT) ssd_chunk_scan_n256(SSD_CHUNK_SCAN_ARGS) { ssd_chunk_scan_body<256>(SSD_CHUNK_SCAN_CALL); }
