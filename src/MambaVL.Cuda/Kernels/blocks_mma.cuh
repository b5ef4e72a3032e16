// mamba_blocks' two products on the tensor cores (mamba_blocks_mma8x48, CudaBackend.BlocksProducts = Mma): the same ring,
// stream and slots as the CUDA-core consumer (mb_ring_walk; a slot: 512 contiguous bytes of one weight row, lane l's
// 16 bytes at 16·l), consumed by two mma.sync m16n8k16 each instead of widenings and eight multiply-adds per lane.
// Why: that consumer, ~45 instructions per slot, was latency/issue bound (0.28 issues per scheduler per cycle) and kept
// out_proj at 13-19 K cycles though its weights were mostly in the ring already.
//
// The slot as B (k16 × n8, two MMAs over its 32-k blocks): lane (g = l / 4, t = l % 4) holds w k 32g + 8t .. 32g + 8t + 7
// of the slot's 256, so B's column n is the slot's k-block n (k permuted within it as gemv_mma.cu's gm_consume: the
// first MMA takes 8t..8t+3, the second 8t+4..8t+7). A's row r is x at k-block r, read from the same offset as the lane's
// w (x packed to BF16 pairs in place: mb_pack_bf16), rows 8-15 zero. Then D[r][n] = x_r · w_n over 32 k, and the slot's
// dot product is the sum of D's diagonal (lane 4g + g/2, c0 or c1): 7/8 of each MMA is wasted, which costs nothing
// here (~2 MMAs per 512 bytes, far below the tensor pipe's rate), and every slot stays in ONE output column, so:
// Tiles: a block takes a contiguous run of whole columns (in_proj 80-81, out_proj 19-20 on 132 SMs) and its 8 warps
// split the run's cols · K/256 slots evenly (in_proj 100-102, out_proj 47-50 each: ≤ 3 % over the mean), not 8- or 16-
// column tiles (out_proj would get 2-3 or 1-2 per block, 24 % or 65 % over). A column split between warps meets in
// shared memory: part (cols, warps), summed in warp order (deterministic), bias added once, y written once.

// A product's share of this block and warp: the block's columns col0 .. col0 + cols (as even as integers allow), spc
// slots (256 k) each, contiguous in w; warp v takes the run's slots first(v) .. first(v + 1), from cell `offset` (uint4)
struct MbMmaShare
{
    long long col0, offset;
    int cols, spc, warps, s0, slots;

    __device__ __forceinline__ MbMmaShare(long long n, int k, int warps_per_block)
    {
        col0 = blockIdx.x * n / gridDim.x;
        cols = (int)((blockIdx.x + 1) * n / gridDim.x - col0);
        spc = k >> 8;
        warps = warps_per_block;
        s0 = first(threadIdx.x >> 5);
        slots = first((threadIdx.x >> 5) + 1) - s0;
        offset = col0 * (k >> 3) + 32LL * s0;
    }

    __device__ __forceinline__ int first(int v) const { return v * cols * spc / warps; }

    // whether warp v's partial sum of column i (of the block's) is in part: its slots and the column's overlap
    __device__ __forceinline__ bool has(int v, int i) const
    {
        int lo = first(v), hi = first(v + 1);
        return lo < hi && lo < (i + 1) * spc && hi > i * spc;
    }
};

// part's floats before xs in shared memory: (⌈max(N_in, D) / grid⌉, warps), a multiple of 4 (xs stays 16-byte aligned);
// CudaBackend.PlanBlocks sizes it the same way
__device__ __forceinline__ int mb_mma_part_floats(int n_in, int d, int warps_per_block)
{
    int n = max(n_in, d);
    return (((n + gridDim.x - 1) / gridDim.x) * warps_per_block + 3) & ~3;
}

// xs (k) F32 → its first 2k bytes as BF16 pairs (x[2i] in the low half, as w's bytes), every thread of the block: all
// reads before a barrier, the writes after (they overlap other threads' reads). xs holds BF16-rounded values: exact.
#define MB_PACK_ROUNDS 4   // 8-float groups per thread: k ≤ 8 · 256 · 4 = 8192 (CudaBackend checks)
__device__ __forceinline__ void mb_pack_bf16(float* xs, int k)
{
    uint4 v[MB_PACK_ROUNDS];
    const int groups = k >> 3;
#pragma unroll
    for (int j = 0; j < MB_PACK_ROUNDS; j++)
    {
        int i = threadIdx.x + j * blockDim.x;
        if (i >= groups) continue;
        float4 a = ((const float4*)xs)[2 * i], b = ((const float4*)xs)[2 * i + 1];
        v[j] = uint4{ bf16x2_rn(a.x, a.y), bf16x2_rn(a.z, a.w), bf16x2_rn(b.x, b.y), bf16x2_rn(b.z, b.w) };
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < MB_PACK_ROUNDS; j++)
    {
        int i = threadIdx.x + j * blockDim.x;
        if (i < groups) ((uint4*)xs)[i] = v[j];
    }
    __syncthreads();
}

// The ring's consumer on the tensor cores (mb_ring_walk's Take): slot u of a round into accumulator u (independent
// chains); at each column end (and the warp's last slot) the diagonals of all U, over the warp, into part; at the end
// the block's columns from part. Every thread of the block calls end.
template <int U>
struct MbMmaTake
{
    MbMmaShare share;
    const uint4* xb;   // x as BF16 pairs: segment ks's lane l at xb[32·ks + l]
    float* part;       // (cols, warps)
    const float* __restrict__ bias;
    float* __restrict__ y;
    int col, ks;       // the block's column and the segment (256 k) of the next slot
    float acc[U][4];

    __device__ __forceinline__ MbMmaTake(const MbMmaShare& share_, const float* xs, float* part_, const float* bias_, float* y_)
        : share(share_), xb((const uint4*)xs), part(part_), bias(bias_), y(y_), col(share_.s0 / share_.spc), ks(share_.s0 % share_.spc)
    {
#pragma unroll
        for (int u = 0; u < U; u++) acc[u][0] = acc[u][1] = acc[u][2] = acc[u][3] = 0.0f;
    }

    // D (16 × 8) += x's 8 k-blocks (rows) · the slot's 8 k-blocks (columns), the k order as in the header
    __device__ __forceinline__ void mma(float* d, uint4 w)
    {
        uint4 x = xb[32 * ks + (threadIdx.x & 31)];
        mma_bf16(d, x.x, 0u, x.y, 0u, w.x, w.y);
        mma_bf16(d, x.z, 0u, x.w, 0u, w.z, w.w);
        if (++ks < share.spc) return;
        flush();
        ks = 0;
        col++;
    }

    __device__ __forceinline__ void round(const uint4* v)
    {
#pragma unroll
        for (int u = 0; u < U; u++) mma(acc[u], v[u]);
    }

    __device__ __forceinline__ void one(uint4 v) { mma(acc[0], v); }

    // the warp's sum of column col so far: D[g][g] sits in lane 4g + g/2 (c0 = D[g][2t], c1 = D[g][2t + 1])
    __device__ __forceinline__ void flush()
    {
        const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
        float d = 0.0f;
#pragma unroll
        for (int u = 0; u < U; u++)
        {
            d += t == (g >> 1) ? ((g & 1) ? acc[u][1] : acc[u][0]) : 0.0f;
            acc[u][0] = acc[u][1] = acc[u][2] = acc[u][3] = 0.0f;
        }
        d = warp_total(d);
        if (lane == 0) part[col * share.warps + (threadIdx.x >> 5)] = d;
    }

    // the warp's last column if its slots end inside one, then y (cols) = Σ_warps part (+ bias), in warp order
    __device__ __forceinline__ void end()
    {
        if (share.slots > 0 && ks != 0) flush();
        __syncthreads();
        for (int i = threadIdx.x; i < share.cols; i += blockDim.x)
        {
            float s = 0.0f;
            for (int v = 0; v < share.warps; v++)
                if (share.has(v, i)) s += part[i * share.warps + v];
            long long c = share.col0 + i;
            y[c] = s + (bias ? bias[c] : 0.0f);
        }
    }
};

// The products on the tensor cores: shared part, then xs (packed to BF16 by stage before each product)
struct MbMmaProducts
{
    MbMmaShare in, out;
    float* part;
    float* xs;

    __device__ __forceinline__ MbMmaProducts(const MbDims& dm, int warps_per_block, float* shared)
        : in(dm.n_in, dm.d, warps_per_block), out(dm.d, dm.heads * dm.p_dim, warps_per_block), part(shared),
          xs(shared + mb_mma_part_floats(dm.n_in, dm.d, warps_per_block)) {}

    __device__ __forceinline__ void stage(int k) { mb_pack_bf16(xs, k); }

    template <int U>
    __device__ __forceinline__ MbMmaTake<U> take(const MbMmaShare& share, int, const float* bias, float* y)
    {
        return MbMmaTake<U>(share, xs, part, bias, y);
    }
};
