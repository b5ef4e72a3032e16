// Fused softmax attention (flash attention): an online softmax over key tiles, so no (T, H, S) score buffer exists.
// FP32 FMA math (no tensor cores); K and V are read in place as F32 or BF16 rows at their row stride. Two regimes:
//  - flash_prefill_<kv>_d<D>: many queries (prefill, the ViT towers). A block takes 64 queries of one head and loops
//    over 64-key tiles: S = Q·Kᵀ and O += P·V as register-tiled small GEMMs out of shared memory (D = P padded up).
//    With F32 K/V (flash_prefill_async_f32_d<D>) the tiles are copied by cp.async, double-buffered; BF16 tiles are
//    widened on their way through registers (flash_prefill_bf16_d<D>).
//  - flash_decode_<kv>_r<R>: few query rows per kv head (decode: T × Hq/Hkv ≤ 16). Flash-decoding: the key range is
//    split over many blocks so every SM streams the cache; a block reads each K and V row of its kv head once for all
//    R query rows sharing it (GQA), and leaves a partial (max, sum, unnormalised output); flash_decode_combine merges.
// Shapes: q rows (T, Hq·P) at stride ldq (F32); k, v rows (S, Hkv·P) at strides ldk, ldv (elements of their type);
// out (T, Hq, P) F32 contiguous. Query head h reads kv head h / (Hq / Hkv); causal: query i sees keys j ≤ i + S − T.
// Scores are kept in log2 units (q is pre-scaled by scale·log2 e on load) so every exponential is one exp2f.

__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(unsigned short x) { return bf16_to_f32(x); }
__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }

// Elements d..d+3 of one row as loaded: F32 as a float4, BF16 still packed in a uint2 (half the registers, so a warp can
// keep twice the keys in flight); get() widens. load(): zeros past p or when the row is outside the keys read (live
// false); vec: one aligned vector load, which the host allows when the base, row stride and p are multiples of 4.
template <typename KV> struct Chunk;

template <> struct Chunk<float>
{
    float4 v;
    __device__ __forceinline__ void load(const float* row, int d, int p, int vec, bool live)
    {
        if (live && vec && d < p) { v = *reinterpret_cast<const float4*>(row + d); return; }
        v.x = live && d < p ? row[d] : 0.0f;         v.y = live && d + 1 < p ? row[d + 1] : 0.0f;
        v.z = live && d + 2 < p ? row[d + 2] : 0.0f; v.w = live && d + 3 < p ? row[d + 3] : 0.0f;
    }
    __device__ __forceinline__ void get(float (&x)[4]) const { x[0] = v.x; x[1] = v.y; x[2] = v.z; x[3] = v.w; }
};

template <> struct Chunk<unsigned short>
{
    uint2 v;  // little-endian: element 0 is the low half of v.x
    __device__ __forceinline__ void load(const unsigned short* row, int d, int p, int vec, bool live)
    {
        if (live && vec && d < p) { v = *reinterpret_cast<const uint2*>(row + d); return; }
        unsigned e[4];
#pragma unroll
        for (int i = 0; i < 4; i++) e[i] = live && d + i < p ? row[d + i] : 0u;
        v.x = e[0] | e[1] << 16; v.y = e[2] | e[3] << 16;
    }
    __device__ __forceinline__ void get(float (&x)[4]) const
    {
        x[0] = __uint_as_float(v.x << 16); x[1] = __uint_as_float(v.x & 0xffff0000u);
        x[2] = __uint_as_float(v.y << 16); x[3] = __uint_as_float(v.y & 0xffff0000u);
    }
};

__device__ __forceinline__ float warp_max(float v)
{
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

__device__ __forceinline__ float warp_sum(float v)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// The warp-wide sums of R per-lane values (R a power of two ≤ 16) with R − 1 + 5 − log2 R shuffles instead of 5·R: each
// transposing step halves the values a lane keeps. The result: lane ℓ holds the total of row ℓ / (32 / R).
template <int R>
__device__ __forceinline__ float reduce_rows(float (&v)[R], int lane)
{
#pragma unroll
    for (int step = 0; (R >> (step + 1)) >= 1; step++)
    {
        const int half = R >> (step + 1), off = 16 >> step;
        const bool upper = (lane & off) != 0;
#pragma unroll
        for (int i = 0; i < half; i++)
        {
            float send = upper ? v[i] : v[i + half];
            float keep = upper ? v[i + half] : v[i];
            v[i] = keep + __shfl_xor_sync(0xffffffffu, send, off);
        }
    }
    float s = v[0];
#pragma unroll
    for (int off = 16 / R; off >= 1; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
    return s;
}

// ---- decode: split keys, all query rows of a kv head per block, each warp streaming on its own ----
// No block-wide phases: every warp runs its own online softmax over batches of B consecutive keys (lane ℓ holds dims
// 4ℓ..4ℓ+3; the K and V rows of a batch are loaded together, so each batch costs one memory round trip), and the four
// warps merge once at the end. Block-wide phases with barriers per 64 keys left the memory pipe idle between them.

// Every lane gets the score of every row: the transposing reduction, then one broadcast per row.
template <typename KV, int R>
__device__ __forceinline__ void decode_scores(const float (&qr)[R][4], const Chunk<KV>& key, int lane, float (&s)[R])
{
    float kk[4], part[R];
    key.get(kk);
#pragma unroll
    for (int r = 0; r < R; r++) part[r] = fmaf(qr[r][0], kk[0], fmaf(qr[r][1], kk[1], fmaf(qr[r][2], kk[2], qr[r][3] * kk[3])));
    float total = reduce_rows<R>(part, lane);
#pragma unroll
    for (int r = 0; r < R; r++) s[r] = __shfl_sync(0xffffffffu, total, r * (32 / R));
}

// One batch into a warp's running softmax: mask (past kend or the row's causal limit), the batch max joins the running
// max, the accumulator rescales, then Σ p·V. A row with nothing visible yet keeps max −∞ and sum 0 (no NaN).
template <typename KV, int R, int B>
__device__ __forceinline__ void decode_update(float (&s)[B][R], const Chunk<KV>* values, int j0, int kend, const int (&limit)[R],
                                              float (&m)[R], float (&l)[R], float (&acc)[R][4])
{
#pragma unroll
    for (int r = 0; r < R; r++)
    {
        float mb = neg_inf();
#pragma unroll
        for (int b = 0; b < B; b++)
        {
            if (j0 + b >= kend || j0 + b > limit[r]) s[b][r] = neg_inf();
            mb = fmaxf(mb, s[b][r]);
        }
        float mn = fmaxf(m[r], mb), base = mn == neg_inf() ? 0.0f : mn, alpha = exp2f(m[r] - base);
        m[r] = mn;
        l[r] *= alpha;
#pragma unroll
        for (int e = 0; e < 4; e++) acc[r][e] *= alpha;
#pragma unroll
        for (int b = 0; b < B; b++)
        {
            float pb = exp2f(s[b][r] - base), vv[4];
            values[b].get(vv);
            l[r] += pb;
#pragma unroll
            for (int e = 0; e < 4; e++) acc[r][e] = fmaf(pb, vv[e], acc[r][e]);
        }
    }
}

// Where a warp reads its kv head's rows: a batch of B rows from j0 into K and V chunks (rows at or past kend: zeros, not read).
template <typename KV>
struct DecodeStream
{
    const KV* kh;
    const KV* vh;
    long long ldk, ldv;
    int kend, p, vec, lane;

    template <int B>
    __device__ __forceinline__ void load(Chunk<KV> (&kc)[B], Chunk<KV> (&vc)[B], int j0) const
    {
#pragma unroll
        for (int b = 0; b < B; b++)
        {
            kc[b].load(kh + (long long)(j0 + b) * ldk, 4 * lane, p, vec & 1, j0 + b < kend);
            vc[b].load(vh + (long long)(j0 + b) * ldv, 4 * lane, p, vec & 2, j0 + b < kend);
        }
    }
};

// A loaded batch into the warp's running softmax, in sub-batches of SB keys (fewer scores held at once).
template <typename KV, int R, int B, int SB>
__device__ __forceinline__ void decode_batch(const Chunk<KV> (&kc)[B], const Chunk<KV> (&vc)[B], int j0, int kend, const float (&qr)[R][4],
                                             const int (&limit)[R], int lane, float (&m)[R], float (&l)[R], float (&acc)[R][4])
{
#pragma unroll
    for (int h0 = 0; h0 < B; h0 += SB)
    {
        float s[SB][R];
#pragma unroll
        for (int b = 0; b < SB; b++) decode_scores<KV, R>(qr, kc[h0 + b], lane, s[b]);
        decode_update<KV, R, SB>(s, vc + h0, j0 + h0, kend, limit, m, l, acc);
    }
}

// The four warps' (max, sum, output) merged per row; thread t < P writes dim t. One split: the normalised output; else
// opart (splits, Hkv, rows, P) unnormalised and mlpart (splits, Hkv, rows, 2) max and sum.
template <int R>
__device__ __forceinline__ void decode_merge(const float (&wm)[4][R], const float (&wl)[4][R], const float (&wacc)[4][R][128],
                                             float* out, float* opart, float* mlpart, int split, int splits, int kvh, int kv_heads,
                                             int group, int rows, int rep, int heads, int p)
{
    const int tid = threadIdx.x;
    const long long slot = ((long long)split * kv_heads + kvh) * rows;
#pragma unroll
    for (int r = 0; r < R; r++)
    {
        int gr = group * R + r;
        if (gr >= rows) break;
        float mx = fmaxf(fmaxf(wm[0][r], wm[1][r]), fmaxf(wm[2][r], wm[3][r]));
        float base = mx == neg_inf() ? 0.0f : mx, sum = 0.0f, total = 0.0f;
#pragma unroll
        for (int w = 0; w < 4; w++)
        {
            float f = exp2f(wm[w][r] - base);
            sum += f * wl[w][r];
            if (tid < p) total += f * wacc[w][r][tid];
        }
        if (splits == 1)
        {
            if (tid < p) out[((long long)(gr / rep) * heads + (long long)kvh * rep + gr % rep) * p + tid] = total / sum;
            continue;
        }
        if (tid < p) opart[(slot + gr) * p + tid] = total;
        if (tid == 0) { mlpart[2 * (slot + gr)] = mx; mlpart[2 * (slot + gr) + 1] = sum; }
    }
}

// grid (splits, groups·Hkv), 128 threads, P ≤ 128. Block: keys [split·keys_per_split, +keys_per_split) of kv head
// blockIdx.y % Hkv for query rows group·R .. group·R+R−1 (row r = query r / rep of head kvh·rep + r % rep); warp w
// takes the batches of B keys starting at kbeg + (4i + w)·B. vec: bit 0 K, bit 1 V rows allow vector loads.
template <typename KV, int R, int B, int SB>
__device__ __forceinline__ void flash_decode(const float* __restrict__ q, long long ldq, const KV* __restrict__ k, long long ldk,
    const KV* __restrict__ v, long long ldv, float* __restrict__ out, float* __restrict__ opart, float* __restrict__ mlpart,
    int t_len, int s_len, int heads, int kv_heads, int p, float scale2, int causal, int keys_per_split, int vec)
{
    __shared__ float wm[4][R], wl[4][R];
    __shared__ __align__(16) float wacc[4][R][128];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int kvh = blockIdx.y % kv_heads, group = blockIdx.y / kv_heads;
    const int rep = heads / kv_heads, rows = t_len * rep, shift = s_len - t_len;
    float qr[R][4], m[R], l[R], acc[R][4];  // this lane's 4 dims of every row (zeros for rows past the last)
    int limit[R];                           // the last key each row sees
#pragma unroll
    for (int r = 0; r < R; r++)
    {
        int gr = group * R + r;
        const float* row = q + (long long)(gr / rep) * ldq + (long long)(kvh * rep + gr % rep) * p;
#pragma unroll
        for (int e = 0; e < 4; e++)
        {
            qr[r][e] = gr < rows && 4 * lane + e < p ? row[4 * lane + e] * scale2 : 0.0f;
            acc[r][e] = 0.0f;
        }
        m[r] = neg_inf(); l[r] = 0.0f;
        limit[r] = causal ? imin(gr, rows - 1) / rep + shift : s_len - 1;
    }
    int kbeg = blockIdx.x * keys_per_split, kend = imin(s_len, kbeg + keys_per_split);
    if (causal) kend = imin(kend, (imin(group * R + R, rows) - 1) / rep + shift + 1);  // the group's last row bounds the keys
    const KV* kh = k + (long long)kvh * p;
    const KV* vh = v + (long long)kvh * p;
    const DecodeStream<KV> st{kh, vh, ldk, ldv, kend, p, vec, lane};
    for (int j0 = kbeg + warp * B; j0 < kend; j0 += 4 * B)
    {
        Chunk<KV> kc[B], vc[B];
        st.template load<B>(kc, vc, j0);
        decode_batch<KV, R, B, SB>(kc, vc, j0, kend, qr, limit, lane, m, l, acc);
    }
#pragma unroll
    for (int r = 0; r < R; r++)
    {
        if (lane == 0) { wm[warp][r] = m[r]; wl[warp][r] = l[r]; }
        *reinterpret_cast<float4*>(&wacc[warp][r][4 * lane]) = make_float4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
    }
    __syncthreads();
    decode_merge<R>(wm, wl, wacc, out, opart, mlpart, blockIdx.x, gridDim.x, kvh, kv_heads, group, rows, rep, heads, p);
}

// B keys a warp loads per round trip (scored in sub-batches of SB) and blocks per SM each R is built for (registers, no
// spills; the host sizes the splits to fill them): more rows hold more accumulators, so fewer keys are in flight.
// Packed BF16 chunks let a warp keep 16 keys in flight: with the widening done at load time the loads went out one at
// a time (in-order issue waits at the first use) and BF16 decode streamed at 37% of the bandwidth instead of 87%.
// (Double-buffering the batches in registers was timed too: no faster.)
#define FLASH_DECODE(NAME, KV, R, B, SB, BLOCKS)                                                                           \
    extern "C" __global__ void __launch_bounds__(128, BLOCKS) NAME(const float* __restrict__ q, long long ldq,              \
        const KV* __restrict__ k, long long ldk, const KV* __restrict__ v, long long ldv, float* __restrict__ out,         \
        float* __restrict__ opart, float* __restrict__ mlpart, int t_len, int s_len, int heads, int kv_heads, int p,      \
        float scale2, int causal, int keys_per_split, int vec)                                                             \
    {                                                                                                                      \
        flash_decode<KV, R, B, SB>(q, ldq, k, ldk, v, ldv, out, opart, mlpart, t_len, s_len, heads, kv_heads, p, scale2,   \
                                   causal, keys_per_split, vec);                                                           \
    }

FLASH_DECODE(flash_decode_f32_r1, float, 1, 8, 8, 4)
FLASH_DECODE(flash_decode_f32_r2, float, 2, 8, 8, 4)
FLASH_DECODE(flash_decode_f32_r4, float, 4, 4, 4, 4)
FLASH_DECODE(flash_decode_f32_r8, float, 8, 2, 2, 3)
FLASH_DECODE(flash_decode_f32_r16, float, 16, 2, 2, 2)
FLASH_DECODE(flash_decode_bf16_r1, unsigned short, 1, 16, 8, 4)
FLASH_DECODE(flash_decode_bf16_r2, unsigned short, 2, 16, 8, 4)
FLASH_DECODE(flash_decode_bf16_r4, unsigned short, 4, 8, 4, 4)
FLASH_DECODE(flash_decode_bf16_r8, unsigned short, 8, 4, 2, 3)
FLASH_DECODE(flash_decode_bf16_r16, unsigned short, 16, 2, 2, 2)

// grid (rows, Hkv), 128 threads, P ≤ 128: out row = Σ_s 2^(m_s − m)·o_s / Σ_s 2^(m_s − m)·l_s over the splits' partials.
// The splits are spread over the threads (max, sum) and the warps (outputs, lane ℓ dims ℓ + 32e), so the partials are
// read in a few round trips rather than one per split.
extern "C" __global__ void flash_decode_combine(const float* __restrict__ opart, const float* __restrict__ mlpart, float* __restrict__ out,
                                                int splits, int kv_heads, int rows, int rep, int heads, int p)
{
    __shared__ float red[32];
    __shared__ float part[4][128];
    const int gr = blockIdx.x, kvh = blockIdx.y, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const long long first = (long long)kvh * rows + gr, stride = (long long)kv_heads * rows;  // slot of split s: first + s·stride
    float m = neg_inf();
    for (int s = tid; s < splits; s += 128) m = fmaxf(m, mlpart[2 * (first + s * stride)]);
    m = warp_max(m);
    if (lane == 0) red[warp] = m;
    __syncthreads();
    m = fmaxf(fmaxf(red[0], red[1]), fmaxf(red[2], red[3]));
    __syncthreads();
    const float base = m == neg_inf() ? 0.0f : m;
    float l = 0.0f;
    for (int s = tid; s < splits; s += 128) l += exp2f(mlpart[2 * (first + s * stride)] - base) * mlpart[2 * (first + s * stride) + 1];
    l = block_sum(l, red);
    float a[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll 4
    for (int s = warp; s < splits; s += 4)
    {
        float w = exp2f(mlpart[2 * (first + s * stride)] - base);
        const float* o = opart + (first + s * stride) * p;
#pragma unroll
        for (int e = 0; e < 4; e++)
            if (lane + 32 * e < p && w > 0.0f) a[e] = fmaf(w, o[lane + 32 * e], a[e]);
    }
#pragma unroll
    for (int e = 0; e < 4; e++) part[warp][lane + 32 * e] = a[e];
    __syncthreads();
    if (tid < p)
        out[((long long)(gr / rep) * heads + (long long)kvh * rep + gr % rep) * p + tid] = (part[0][tid] + part[1][tid] + part[2][tid] + part[3][tid]) / l;
}

// ---- prefill: 64 queries × 64 keys tiles, 256 threads ----
// Thread (ty, tx) = (tid / 16, tid % 16) owns query rows ty + 16i (i < 4), keys tx + 16jj (jj < 4) of a score tile and
// output columns col(c) (c < D/16). Shared rows are padded by 4 floats so the float4 reads of 8 lanes hit 32 banks.

constexpr int PRE_ROWS = 64, PRE_KEYS = 64, PRE_PS = PRE_ROWS + 4;

extern __shared__ __align__(16) float flash_smem[];

// Output column of slot c: float4 chunks when D is a multiple of 64 (vector reads of V), else a stride of 16.
template <int D>
__device__ __forceinline__ int prefill_col(int c, int tx) { return D % 64 == 0 ? 4 * (tx + 16 * (c / 4)) + c % 4 : tx + 16 * c; }

// Rows [k0, k0+64) of a head into a (64, D+4) shared tile as F32, zeros past key_end or p; consecutive threads take
// consecutive elements (coalesced). 8 loads in flight a thread: unrolling all D/4 spills the accumulators. (Staging the
// value tile in registers across the score GEMM would hide its latency but spills too; two blocks per SM hide it.)
template <typename KV, int D>
__device__ __forceinline__ void prefill_tile(float* tile, const KV* head, long long ld, int k0, int key_end, int p)
{
#pragma unroll 8
    for (int u = 0; u < PRE_KEYS * D / 256; u++)
    {
        int e = threadIdx.x + 256 * u, j = e / D, d = e % D;
        tile[j * (D + 4) + d] = k0 + j < key_end && d < p ? to_f32(head[(long long)(k0 + j) * ld + d]) : 0.0f;
    }
}

// S (4 rows × 4 keys) = Q·Kᵀ out of shared memory: per 4 dims, 8 float4 reads feed 64 FMAs.
template <int D>
__device__ __forceinline__ void prefill_scores(const float* qs, const float* ks, int tx, int ty, float (&s)[4][4])
{
    constexpr int QS = D + 4;
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int jj = 0; jj < 4; jj++) s[i][jj] = 0.0f;
#pragma unroll 2
    for (int d = 0; d < D; d += 4)
    {
        float4 a[4];
#pragma unroll
        for (int i = 0; i < 4; i++) a[i] = *reinterpret_cast<const float4*>(qs + (ty + 16 * i) * QS + d);
#pragma unroll
        for (int jj = 0; jj < 4; jj++)
        {
            float4 b = *reinterpret_cast<const float4*>(ks + (tx + 16 * jj) * QS + d);
#pragma unroll
            for (int i = 0; i < 4; i++)
                s[i][jj] = fmaf(a[i].x, b.x, fmaf(a[i].y, b.y, fmaf(a[i].z, b.z, fmaf(a[i].w, b.w, s[i][jj]))));
        }
    }
}

// Mask, then the online softmax of the thread's 4 rows (the row max across the 16 lanes sharing ty; the sums stay
// per-lane until the end): rescale l and o, write the probabilities key-major to pt (each thread's 4 rows adjacent).
template <int NC>
__device__ __forceinline__ void prefill_softmax(float (&s)[4][4], float (&m)[4], float (&l)[4], float (&o)[4][NC], float* pt,
                                                int q0, int k0, int key_end, int shift, int causal, int tx, int ty)
{
#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        int limit = causal ? q0 + ty + 16 * i + shift : key_end - 1;
        float mx = neg_inf();
#pragma unroll
        for (int jj = 0; jj < 4; jj++)
        {
            int j = k0 + tx + 16 * jj;
            if (j > limit || j >= key_end) s[i][jj] = neg_inf();
            mx = fmaxf(mx, s[i][jj]);
        }
        for (int off = 8; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
        float mn = fmaxf(m[i], mx), base = mn == neg_inf() ? 0.0f : mn, alpha = exp2f(m[i] - base);
        m[i] = mn;
        l[i] *= alpha;
#pragma unroll
        for (int c = 0; c < NC; c++) o[i][c] *= alpha;
#pragma unroll
        for (int jj = 0; jj < 4; jj++) { s[i][jj] = exp2f(s[i][jj] - base); l[i] += s[i][jj]; }
    }
#pragma unroll
    for (int jj = 0; jj < 4; jj++)
        *reinterpret_cast<float4*>(pt + (tx + 16 * jj) * PRE_PS + 4 * ty) = make_float4(s[0][jj], s[1][jj], s[2][jj], s[3][jj]);
}

// O (4 rows × D/16 columns) += P·V out of shared memory.
template <int D>
__device__ __forceinline__ void prefill_values(const float* pt, const float* vs, int tx, int ty, float (&o)[4][D / 16])
{
    constexpr int QS = D + 4;
#pragma unroll 4
    for (int j = 0; j < PRE_KEYS; j++)
    {
        float4 pr = *reinterpret_cast<const float4*>(pt + j * PRE_PS + 4 * ty);
        const float pj[4] = {pr.x, pr.y, pr.z, pr.w};
        if constexpr (D % 64 == 0)
        {
#pragma unroll
            for (int k2 = 0; k2 < D / 64; k2++)
            {
                float4 vv = *reinterpret_cast<const float4*>(vs + j * QS + 4 * (tx + 16 * k2));
#pragma unroll
                for (int i = 0; i < 4; i++)
                {
                    o[i][4 * k2] = fmaf(pj[i], vv.x, o[i][4 * k2]);
                    o[i][4 * k2 + 1] = fmaf(pj[i], vv.y, o[i][4 * k2 + 1]);
                    o[i][4 * k2 + 2] = fmaf(pj[i], vv.z, o[i][4 * k2 + 2]);
                    o[i][4 * k2 + 3] = fmaf(pj[i], vv.w, o[i][4 * k2 + 3]);
                }
            }
        }
        else
        {
#pragma unroll
            for (int c = 0; c < D / 16; c++)
            {
                float vv = vs[j * QS + tx + 16 * c];
#pragma unroll
                for (int i = 0; i < 4; i++) o[i][c] = fmaf(pj[i], vv, o[i][c]);
            }
        }
    }
}

// grid (ceil(T / 64), Hq), 256 threads, dynamic shared (128·(D+4) + 64·68) floats: qs (64, D+4) the scaled queries,
// kvs (64, D+4) the key tile then the value tile (one buffer: 85 KB at D = 128 leaves room for two blocks per SM),
// pt (64, 68) the probabilities. Causal blocks run heaviest first.
template <typename KV, int D>
__device__ __forceinline__ void flash_prefill(const float* __restrict__ q, long long ldq, const KV* __restrict__ k, long long ldk,
    const KV* __restrict__ v, long long ldv, float* __restrict__ out, int t_len, int s_len, int heads, int kv_heads, int p,
    float scale2, int causal)
{
    constexpr int QS = D + 4, NC = D / 16;
    float* qs = flash_smem;
    float* kvs = qs + PRE_ROWS * QS;
    float* pt = kvs + PRE_KEYS * QS;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int q0 = (gridDim.x - 1 - blockIdx.x) * PRE_ROWS, h = blockIdx.y, shift = s_len - t_len;
    const KV* kh = k + (long long)(h / (heads / kv_heads)) * p;
    const KV* vh = v + (long long)(h / (heads / kv_heads)) * p;
    for (int e = tid; e < PRE_ROWS * D; e += 256)
    {
        int r = e / D, d = e % D;
        qs[r * QS + d] = q0 + r < t_len && d < p ? q[(long long)(q0 + r) * ldq + (long long)h * p + d] * scale2 : 0.0f;
    }
    // causal: the tile's last query (min(q0 + 64, T) − 1) sees keys up to itself + S − T
    const int key_end = causal ? imin(s_len, imin(q0 + PRE_ROWS, t_len) + shift) : s_len;
    float m[4], l[4], o[4][NC], s[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        m[i] = neg_inf(); l[i] = 0.0f;
#pragma unroll
        for (int c = 0; c < NC; c++) o[i][c] = 0.0f;
    }
    for (int k0 = 0; k0 < key_end; k0 += PRE_KEYS)
    {
        __syncthreads();  // the previous tile's values and probabilities are consumed (first pass: qs is written)
        prefill_tile<KV, D>(kvs, kh, ldk, k0, key_end, p);
        __syncthreads();
        prefill_scores<D>(qs, kvs, tx, ty, s);
        __syncthreads();  // every thread is done with the keys
        prefill_tile<KV, D>(kvs, vh, ldv, k0, key_end, p);
        prefill_softmax<NC>(s, m, l, o, pt, q0, k0, key_end, shift, causal, tx, ty);
        __syncthreads();
        prefill_values<D>(pt, kvs, tx, ty, o);
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        for (int off = 8; off > 0; off >>= 1) l[i] += __shfl_xor_sync(0xffffffffu, l[i], off);
        int row = q0 + ty + 16 * i;
        if (row >= t_len) continue;
        float inv = 1.0f / l[i];
        float* orow = out + ((long long)row * heads + h) * p;
#pragma unroll
        for (int c = 0; c < NC; c++)
            if (prefill_col<D>(c, tx) < p) orow[prefill_col<D>(c, tx)] = o[i][c] * inv;
    }
}

#define FLASH_PREFILL(NAME, KV, D)                                                                                         \
    extern "C" __global__ void __launch_bounds__(256, 2) NAME(const float* __restrict__ q, long long ldq,                  \
        const KV* __restrict__ k, long long ldk, const KV* __restrict__ v, long long ldv, float* __restrict__ out,         \
        int t_len, int s_len, int heads, int kv_heads, int p, float scale2, int causal)                                   \
    {                                                                                                                      \
        flash_prefill<KV, D>(q, ldq, k, ldk, v, ldv, out, t_len, s_len, heads, kv_heads, p, scale2, causal);               \
    }

FLASH_PREFILL(flash_prefill_bf16_d32, unsigned short, 32)
FLASH_PREFILL(flash_prefill_bf16_d64, unsigned short, 64)
FLASH_PREFILL(flash_prefill_bf16_d80, unsigned short, 80)
FLASH_PREFILL(flash_prefill_bf16_d128, unsigned short, 128)

// ---- prefill with F32 K/V: tiles copied by cp.async (sm_80+), double-buffered so the copies overlap the GEMMs ----
// Separate key and value buffers: the value tile lands during the score GEMM, the next key tile during the softmax and
// P·V. No registers hold tiles in flight (the register-staged form spilled), at the cost of one more (64, D+4) buffer.

__device__ __forceinline__ void cp_async4(float* dst, const float* src, bool live) { asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"((unsigned)__cvta_generic_to_shared(dst)), "l"(src), "r"(live ? 4 : 0)); }

// Rows [k0, k0+64) of a head into a (64, D+4) shared tile, zeros past key_end or p (a copy of 0 source bytes zero-fills),
// as one commit group.
template <int D>
__device__ __forceinline__ void prefill_tile_async(float* tile, const float* head, long long ld, int k0, int key_end, int p)
{
#pragma unroll 8
    for (int u = 0; u < PRE_KEYS * D / 256; u++)
    {
        int e = threadIdx.x + 256 * u, j = e / D, d = e % D;
        bool live = k0 + j < key_end && d < p;
        cp_async4(tile + j * (D + 4) + d, live ? head + (long long)(k0 + j) * ld + d : head, live);
    }
    cp_async_commit();
}

// As flash_prefill (same grid, threads and thread map), dynamic shared (192·(D+4) + 64·68) floats: qs, ks, vs, pt.
template <int D>
__device__ __forceinline__ void flash_prefill_async(const float* __restrict__ q, long long ldq, const float* __restrict__ k, long long ldk,
    const float* __restrict__ v, long long ldv, float* __restrict__ out, int t_len, int s_len, int heads, int kv_heads, int p,
    float scale2, int causal)
{
    constexpr int QS = D + 4, NC = D / 16;
    float* qs = flash_smem;
    float* ks = qs + PRE_ROWS * QS;
    float* vs = ks + PRE_KEYS * QS;
    float* pt = vs + PRE_KEYS * QS;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int q0 = (gridDim.x - 1 - blockIdx.x) * PRE_ROWS, h = blockIdx.y, shift = s_len - t_len;
    const float* kh = k + (long long)(h / (heads / kv_heads)) * p;
    const float* vh = v + (long long)(h / (heads / kv_heads)) * p;
    const int key_end = causal ? imin(s_len, imin(q0 + PRE_ROWS, t_len) + shift) : s_len;
    prefill_tile_async<D>(ks, kh, ldk, 0, key_end, p);
    for (int e = tid; e < PRE_ROWS * D; e += 256)
    {
        int r = e / D, d = e % D;
        qs[r * QS + d] = q0 + r < t_len && d < p ? q[(long long)(q0 + r) * ldq + (long long)h * p + d] * scale2 : 0.0f;
    }
    float m[4], l[4], o[4][NC], s[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        m[i] = neg_inf(); l[i] = 0.0f;
#pragma unroll
        for (int c = 0; c < NC; c++) o[i][c] = 0.0f;
    }
    for (int k0 = 0; k0 < key_end; k0 += PRE_KEYS)
    {
        prefill_tile_async<D>(vs, vh, ldv, k0, key_end, p);  // the values of this tile, in flight during the scores
        cp_async_wait<1>();                                   // this tile's keys have landed (this thread's copies)
        __syncthreads();                                      // ... everyone's, and qs
        prefill_scores<D>(qs, ks, tx, ty, s);
        __syncthreads();  // every thread is done with the keys
        bool more = k0 + PRE_KEYS < key_end;
        if (more) prefill_tile_async<D>(ks, kh, ldk, k0 + PRE_KEYS, key_end, p);  // the next keys, in flight during P·V
        prefill_softmax<NC>(s, m, l, o, pt, q0, k0, key_end, shift, causal, tx, ty);
        if (more) cp_async_wait<1>(); else cp_async_wait<0>();  // the values have landed
        __syncthreads();
        prefill_values<D>(pt, vs, tx, ty, o);
        __syncthreads();  // values and probabilities consumed before the next tile's copies and softmax
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        for (int off = 8; off > 0; off >>= 1) l[i] += __shfl_xor_sync(0xffffffffu, l[i], off);
        int row = q0 + ty + 16 * i;
        if (row >= t_len) continue;
        float inv = 1.0f / l[i];
        float* orow = out + ((long long)row * heads + h) * p;
#pragma unroll
        for (int c = 0; c < NC; c++)
            if (prefill_col<D>(c, tx) < p) orow[prefill_col<D>(c, tx)] = o[i][c] * inv;
    }
}

#define FLASH_PREFILL_ASYNC(NAME, D)                                                                                       \
    extern "C" __global__ void __launch_bounds__(256, 2) NAME(const float* __restrict__ q, long long ldq,                  \
        const float* __restrict__ k, long long ldk, const float* __restrict__ v, long long ldv, float* __restrict__ out,   \
        int t_len, int s_len, int heads, int kv_heads, int p, float scale2, int causal)                                   \
    {                                                                                                                      \
        flash_prefill_async<D>(q, ldq, k, ldk, v, ldv, out, t_len, s_len, heads, kv_heads, p, scale2, causal);             \
    }

FLASH_PREFILL_ASYNC(flash_prefill_async_f32_d32, 32)
FLASH_PREFILL_ASYNC(flash_prefill_async_f32_d64, 64)
FLASH_PREFILL_ASYNC(flash_prefill_async_f32_d80, 80)
FLASH_PREFILL_ASYNC(flash_prefill_async_f32_d128, 128)
