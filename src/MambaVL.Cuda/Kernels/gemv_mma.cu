// The decode GEMV for a batch of sequences: y (M, N) = x (M, K) · w (N, K)ᵀ (+ bias) with BF16 w and 1 ≤ M ≤ 8 on the
// tensor cores (CudaBackend routes 3 ≤ M ≤ 8 here when GemvBatch = Mma; M ≤ 2 stays with gemv_ring). Why: gemv_vec at
// M = 8 does 8 multiply-adds per weight on the CUDA cores and is issue-bound far below DRAM bandwidth, while one
// mma.sync m16n8k16 does a 16-column × 8-row × 16-k block in one instruction. A = 16 rows of w (16 output columns,
// k contiguous), B = x's rows (k16 × n8, zero past M), F32 sums. x is read as F32 and rounded to BF16 (nearest even, as
// round_bf16) at use, so the results agree with gemv_vec's and cuBLASLt's to summation order.
// Grid: a block per run of `groups_per_block` groups of T tiles (a tile = 16 columns); its 8 warps split K (k-blocks of
// 32 dealt round-robin: warp v takes kb = v, v + 8, ...) and meet in shared memory at each group's end (sums in warp
// order: deterministic). The loads in flight are cp.async copies into a per-warp shared-memory ring of D slots, D - 1
// in flight, as gemv_ring (gemv_pipe.cu); x travels in the same ring (a few KB from L2), so no x staging delays the start.
#define GM_WARPS 8
#define GM_THREADS 256

// 16 bytes global → shared without registers; bytes = 0 writes zeros and reads nothing (a k-block past K, a row past N)
__device__ __forceinline__ void gm_copy16(uint4* dst, const void* src, unsigned bytes)
{
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(d), "l"(src), "r"(bytes) : "memory");
}

// A ring slot (ss = 64·T + 8·M uint4): w cells [2·T halves][32 lanes] (half 2u: tile u's row g, 2u + 1: row g + 8),
// then x cells [2 halves][4·M lanes] (x row g, k 8t..8t+3 and 8t+4..8t+7). Each lane copies and reads back only its
// own cells: a thread's cp.async data is visible to it after its wait_group, so the ring needs no barrier.
// Lane (g = lane / 4, t = lane % 4) copies, of k-block kb, the 16 bytes at k = 32·kb + 8t of w rows row0 + 16u + g and
// row0 + 16u + g + 8 (WITH_W) and the 32 bytes of x row g at the same k (WITH_X, lanes g < M).
template <int T, int D>
__device__ __forceinline__ void gm_issue(uint4* ring, int ss, int slot, const unsigned short* __restrict__ w, const float* __restrict__ x,
                                         long long ldx, int m, int n, int k, long long row0, int kb, bool with_w, bool with_x)
{
    int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    uint4* cell = ring + (slot % D) * ss;
    int kk = kb * 32 + 8 * t;
    unsigned in_k = kk < k ? 16u : 0u;   // K % 8 == 0: a lane's 8 k are all in or all out
    if (with_w)
    {
#pragma unroll
        for (int h = 0; h < 2 * T; h++)
        {
            long long r = row0 + 16 * (h >> 1) + 8 * (h & 1) + g;
            bool ok = in_k && r < n;
            gm_copy16(cell + 32 * h + lane, ok ? (const void*)(w + r * k + kk) : (const void*)w, ok ? 16u : 0u);
        }
    }
    if (with_x && g < m)
    {
        const float* xr = x + g * ldx + kk;
        gm_copy16(cell + 64 * T + lane, in_k ? (const void*)xr : (const void*)x, in_k);
        gm_copy16(cell + 64 * T + 4 * m + lane, in_k ? (const void*)(xr + 4) : (const void*)x, in_k);
    }
}

// acc[u] += tile u's 16 rows · x over one k-block, as two MMAs. The sum over k does not depend on the order of k as long
// as A and B use the same order, so the lane's 8 contiguous k (8t..8t+7) serve as its fragments: the first MMA's
// k 2t, 2t+1 | 2t+8, 2t+9 are k 8t, 8t+1 | 8t+2, 8t+3, the second MMA's are 8t+4, 8t+5 | 8t+6, 8t+7.
// Fragments (PTX ISA, m16n8k16 .bf16): a0 = A[g][2t..], a1 = A[g+8][2t..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..];
// b0 = B[2t..][g], b1 = B[2t+8..][g]; each register's low half the lower k.
template <int T>
__device__ __forceinline__ void gm_consume(const uint4* cell, int m, float (*acc)[4])
{
    int lane = threadIdx.x & 31;
    unsigned b0 = 0, b1 = 0, b2 = 0, b3 = 0;   // x rows ≥ M: zero columns of B
    if ((lane >> 2) < m)
    {
        float4 lo = *(const float4*)(cell + 64 * T + lane), hi = *(const float4*)(cell + 64 * T + 4 * m + lane);
        b0 = bf16x2_rn(lo.x, lo.y); b1 = bf16x2_rn(lo.z, lo.w);
        b2 = bf16x2_rn(hi.x, hi.y); b3 = bf16x2_rn(hi.z, hi.w);
    }
#pragma unroll
    for (int u = 0; u < T; u++)
    {
        uint4 ra = cell[32 * (2 * u) + lane], rb = cell[32 * (2 * u + 1) + lane];   // rows g and g + 8, k 8t..8t+7
        mma_bf16(acc[u], ra.x, rb.x, ra.y, rb.y, b0, b1);
        mma_bf16(acc[u], ra.z, rb.z, ra.w, rb.w, b2, b3);
    }
}

// The end of a group of T tiles (columns 16·tile0 ..): every warp's D fragments into part (T, 8 warps, 32 lanes) float4,
// then thread i adds output i's 8 partial sums in warp order, adds the bias and writes y. D's row is the output column,
// its column the x row: c0 = D[g][2t], c1 = D[g][2t+1], c2 = D[g+8][2t], c3 = D[g+8][2t+1]. Every thread of the block.
template <int T>
__device__ __forceinline__ void gm_group_end(float (*acc)[4], float4* part, const float* __restrict__ bias, float* __restrict__ y,
                                             int m, int n, long long tile0)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();   // the group before has been summed
#pragma unroll
    for (int u = 0; u < T; u++)
    {
        part[(u * GM_WARPS + warp) * 32 + lane] = make_float4(acc[u][0], acc[u][1], acc[u][2], acc[u][3]);
        acc[u][0] = acc[u][1] = acc[u][2] = acc[u][3] = 0.0f;
    }
    __syncthreads();
    int i = threadIdx.x;
    if (i >= 16 * T * m) return;
    int r = i / (16 * T), c = i - r * (16 * T);   // x row, column in the group: consecutive threads, consecutive columns
    int row = c & 15, src = (row & 7) * 4 + (r >> 1), comp = (row >> 3) * 2 + (r & 1);
    long long col = tile0 * 16 + c;
    if (col >= n) return;
    const float* p = (const float*)(part + (c >> 4) * GM_WARPS * 32 + src) + comp;
    float s = 0.0f;
#pragma unroll
    for (int v = 0; v < GM_WARPS; v++) s += p[v * 32 * 4];
    y[(long long)r * n + col] = s + (bias ? bias[col] : 0.0f);
}

// A warp's place in its walk: slot s is k-block j of the block's group gi (s = gi·kbs + j)
struct GmCursor
{
    int gi, j;
    __device__ __forceinline__ void advance(int kbs) { if (++j == kbs) { j = 0; gi++; } }
};

// The kernel body. The ring's commit groups: W_0 .. W_{D-2} (the first slots' w, before pdl_enter: weights only),
// X_0 .. X_{D-2} (their x), then one group per later slot. When slot s is consumed, exactly D - 1 groups follow the
// last one it needs (X_s, or its own), hence a constant wait_group D - 1.
// Shared: the rings (8 warps, D slots, ss uint4), then part (T, 8, 32) float4. Needs w, x 16-byte aligned, K % 8 == 0,
// ldx % 4 == 0, 1 ≤ M ≤ 8.
template <int T, int D>
__device__ __forceinline__ void gemv_mma_body(const float* __restrict__ x, long long ldx, const unsigned short* __restrict__ w,
                                              const float* __restrict__ bias, float* __restrict__ y, int m, int n, int k, int groups_per_block)
{
    extern __shared__ uint4 gm_shared[];
    int warp = threadIdx.x >> 5, ss = 64 * T + 8 * m;
    uint4* ring = gm_shared + warp * D * ss;
    float4* part = (float4*)(gm_shared + GM_WARPS * D * ss);
    int nkb = (k + 31) >> 5, kbs = (nkb - warp + GM_WARPS - 1) / GM_WARPS;   // this warp's k-blocks per group
    int tiles = (n + 15) >> 4, groups = (tiles + T - 1) / T;
    int group0 = blockIdx.x * groups_per_block, my_groups = min(groups_per_block, groups - group0);
    int total = my_groups * kbs;
    auto row0 = [&](const GmCursor& c) { return (long long)(group0 + c.gi) * T * 16; };
    auto kb = [&](const GmCursor& c) { return warp + GM_WARPS * c.j; };
    GmCursor next = { 0, 0 }, xs = { 0, 0 };
    for (int s = 0; s < D - 1; s++, cp_async_commit())
        if (s < total) { gm_issue<T, D>(ring, ss, s, w, x, ldx, m, n, k, row0(next), kb(next), true, false); next.advance(kbs); }
    pdl_enter();   // the weights may load early (launched early, this overlaps the kernel before); x may not
    for (int s = 0; s < D - 1; s++, cp_async_commit())
        if (s < total) { gm_issue<T, D>(ring, ss, s, w, x, ldx, m, n, k, row0(xs), kb(xs), false, true); xs.advance(kbs); }
    float acc[T][4] = {};
    int s = 0;
    for (int gi = 0; gi < my_groups; gi++)
    {
        for (int j = 0; j < kbs; j++, s++)
        {
            // slot s + D - 1 into the cell slot s - 1 used (consumed last iteration)
            if (s + D - 1 < total) { gm_issue<T, D>(ring, ss, s + D - 1, w, x, ldx, m, n, k, row0(next), kb(next), true, true); next.advance(kbs); }
            cp_async_commit();
            cp_async_wait<D - 1>();   // slot s has landed
            gm_consume<T>(ring + (s % D) * ss, m, acc);
        }
        gm_group_end<T>(acc, part, bias, y, m, n, (long long)(group0 + gi) * T);
    }
}

// T tiles per warp at once (T = 2 reads each x value once for 32 columns) and ring depth D: CudaBackend.PlanMma picks the
// one with the most weight bytes in flight for the shape, the shared memory it takes deciding blocks per SM.
#define GEMV_MMA_ARGS const float* __restrict__ x, long long ldx, const unsigned short* __restrict__ w, const float* __restrict__ bias, \
    float* __restrict__ y, int m, int n, int k, int groups_per_block
#define GEMV_MMA(T, D) \
    extern "C" __global__ void __launch_bounds__(GM_THREADS) gemv_mma_t##T##_d##D(GEMV_MMA_ARGS) \
    { \
        gemv_mma_body<T, D>(x, ldx, w, bias, y, m, n, k, groups_per_block); \
    }

GEMV_MMA(1, 4)
GEMV_MMA(1, 6)
GEMV_MMA(1, 8)
GEMV_MMA(1, 12)
GEMV_MMA(2, 4)
GEMV_MMA(2, 6)
GEMV_MMA(2, 8)
