// Two alternatives to gemv.cu's gemv_vec for the batch-1 decode GEMV, y (M, N) = x (M, K) · w (N, K)ᵀ (+ bias) with BF16
// w and M ≤ 2, written to be measured against it (CudaBackend.Gemv selects; `bench --device cuda --gemv ...`).
// Why gemv_vec stops at ~1.6 TB/s on the 2.7B in_proj (K = 2560: 320 16-byte loads per column, 10 per lane): a warp's
// loads come in rounds of 4, 4, then 1 and 1 (the tail loop), each round a full memory latency, so a lane averages 2.5
// loads in flight, and columns do not overlap (the next column's loads start after the last one's shuffle reduction).
// It also rounds each x value to BF16 again for every weight (~6 integer ops per multiply-add: about half the issue
// slots at full bandwidth). Both kernels here stage x once per block in shared memory, already rounded, and
//   gemv_cpasync: streams w through a ring of GP_STAGES shared-memory tiles with cp.async (16-byte copies that land in
//     shared memory: bytes in flight cost no registers), GP_STAGES - 1 tiles (~60 KB per block) always in flight;
//   gemv_stream: a warp owns a contiguous run of columns and keeps GS_DEPTH loads per lane in flight without gaps across
//     column boundaries (a rolling register pipeline: the slot issued next is GS_DEPTH ahead of the slot being used).
// Both read x as BF16-rounded F32, as gemv_vec does for BF16 weights, so results agree with it to summation order.
#define GP_THREADS 256
#define GP_WARPS 8
#define GP_STAGES 4        // ring tiles: 3 in flight while one is used
#define GP_MAX_ROWS 8      // columns of w (rows of its storage) per tile
#define GP_MAX_M 2
#define GS_DEPTH 8         // gemv_stream: 16-byte loads in flight per lane

__device__ __forceinline__ void gp_widen(uint4 v, float* f)
{
    unsigned int u[4] = { v.x, v.y, v.z, v.w };
#pragma unroll
    for (int i = 0; i < 4; i++) { f[2 * i] = __uint_as_float(u[i] << 16); f[2 * i + 1] = __uint_as_float(u[i] & 0xffff0000u); }
}

// Σ_i xs[i] · wf[i] for 8 consecutive x values in shared memory (16-byte aligned)
__device__ __forceinline__ float gp_dot8(const float* xs, const float* wf)
{
    float4 a = *(const float4*)xs, b = *(const float4*)(xs + 4);
    float s = a.x * wf[0];
    s += a.y * wf[1]; s += a.z * wf[2]; s += a.w * wf[3];
    s += b.x * wf[4]; s += b.y * wf[5]; s += b.z * wf[6]; s += b.w * wf[7];
    return s;
}

__device__ __forceinline__ void gp_cp_async16(void* dst, const void* src)
{
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(d), "l"(src) : "memory");
}

__device__ __forceinline__ void gp_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

// xs (m, k) = x rounded to BF16 (as F32), from rows at stride ldx; every thread of the block takes part. x comes in by
// cp.async, 16 bytes a copy, all of them in flight at once at no register cost (loaded one at a time, each waited for,
// x cost ~20 L2 round trips at K = 5120: most of a decode GEMV's time); each thread then rounds what it copied.
// Waits for ALL of the thread's cp.async groups (gemv_cpasync's first tiles too: they are needed next anyway).
// Needs K % 4 == 0, ldx % 4 == 0, x 16-byte aligned.
__device__ __forceinline__ void gp_stage_x(const float* __restrict__ x, long long ldx, int m, int k, float* xs)
{
    int per_row = k >> 2, total = m * per_row;
    float4* dst = (float4*)xs;
    for (int i = threadIdx.x; i < total; i += blockDim.x)
    {
        int r = i / per_row;
        gp_cp_async16(dst + i, x + r * ldx + 4 * (i - r * per_row));
    }
    asm volatile("cp.async.commit_group;\ncp.async.wait_all;" ::: "memory");
    for (int i = threadIdx.x; i < total; i += blockDim.x)
    {
        float4 v = dst[i];
        dst[i] = make_float4(round_bf16(v.x), round_bf16(v.y), round_bf16(v.z), round_bf16(v.w));
    }
}

// all but the newest GP_STAGES - 2 groups of this thread are complete
__device__ __forceinline__ void gp_wait_ring() { asm volatile("cp.async.wait_group %0;" :: "n"(GP_STAGES - 2) : "memory"); }

// Tile `it` of this block (tile index blockIdx.x + it·gridDim.x: `rows` consecutive columns, contiguous in w) copied into
// ring slot it % GP_STAGES, spread over all threads 16 bytes at a time; always one commit group (empty past the end).
__device__ __forceinline__ void gp_issue(const unsigned short* __restrict__ w, uint4* ring, int it, int rows, int n, int k, int tiles)
{
    int tile = blockIdx.x + it * gridDim.x;
    if (tile < tiles)
    {
        int here = min(rows, n - tile * rows), slots = here * (k >> 3);
        const uint4* src = (const uint4*)(w + (long long)tile * rows * k);
        uint4* dst = ring + (it % GP_STAGES) * rows * (k >> 3);
        for (int j = threadIdx.x; j < slots; j += GP_THREADS) gp_cp_async16(dst + j, src + j);
    }
    gp_commit();
}

// The reduced sums of the tile before: thread r < rows·m adds the 8 warps' partials of (column r / m, x row r % m)
__device__ __forceinline__ void gp_finish(const float* red, int tile, int rows, int m, int n, const float* __restrict__ bias, float* __restrict__ y)
{
    int t = threadIdx.x;
    if (t >= rows * m) return;
    int r = t / m, mm = t - r * m, col = tile * rows + r;
    if (col >= n) return;
    float s = 0.0f;
#pragma unroll
    for (int w = 0; w < GP_WARPS; w++) s += red[t * GP_WARPS + w];
    y[(long long)mm * n + col] = s + (bias ? bias[col] : 0.0f);
}

// Grid: up to two blocks per SM, each walking tiles blockIdx.x, + gridDim.x, ...; shared: xs (m, k) F32 then the ring
// (GP_STAGES, rows, k) BF16. Needs K % 8 == 0, w 16-byte aligned, m ≤ 2, rows ≤ 8.
extern "C" __global__ void __launch_bounds__(GP_THREADS) gemv_cpasync(const float* __restrict__ x, long long ldx, const unsigned short* __restrict__ w,
                                                                      const float* __restrict__ bias, float* __restrict__ y, int m, int n, int k, int rows)
{
    extern __shared__ uint4 gp_shared[];
    __shared__ float red[2][GP_MAX_ROWS * GP_MAX_M * GP_WARPS];
    float* xs = (float*)gp_shared;
    uint4* ring = gp_shared + (m * k + 3) / 4;
    int tiles = (n + rows - 1) / rows, slots_row = k >> 3;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    // the first GP_STAGES - 1 tiles go out before anything else; x is staged while they fly
    for (int s = 0; s < GP_STAGES - 1; s++) gp_issue(w, ring, s, rows, n, k, tiles);
    pdl_enter();   // the weights may load early (launched early, this overlaps the kernel before); x may not
    gp_stage_x(x, ldx, m, k, xs);
    int it = 0;
    for (; blockIdx.x + it * gridDim.x < tiles; it++)
    {
        gp_wait_ring();
        __syncthreads();   // tile it is in shared memory (all threads' copies); everyone is done with tile it - 1's slot and sums
        if (it > 0) gp_finish(red[(it - 1) & 1], blockIdx.x + (it - 1) * gridDim.x, rows, m, n, bias, y);
        gp_issue(w, ring, it + GP_STAGES - 1, rows, n, k, tiles);   // into tile it - 1's slot
        const uint4* tile = ring + (it % GP_STAGES) * rows * slots_row;
        int here = min(rows, n - (int)(blockIdx.x + it * gridDim.x) * rows);
        float acc[GP_MAX_ROWS][GP_MAX_M];
#pragma unroll
        for (int r = 0; r < GP_MAX_ROWS; r++)
        {
#pragma unroll
            for (int mm = 0; mm < GP_MAX_M; mm++) acc[r][mm] = 0.0f;
            if (r < here)
                for (int j = threadIdx.x; j < slots_row; j += GP_THREADS)
                {
                    float wf[8];
                    gp_widen(tile[r * slots_row + j], wf);
#pragma unroll
                    for (int mm = 0; mm < GP_MAX_M; mm++)
                        if (mm < m) acc[r][mm] += gp_dot8(xs + mm * k + j * 8, wf);
                }
        }
        float* out = red[it & 1];
#pragma unroll
        for (int r = 0; r < GP_MAX_ROWS; r++)
#pragma unroll
            for (int mm = 0; mm < GP_MAX_M; mm++)
                if (r < rows && mm < m)
                {
                    float v = warp_total(acc[r][mm]);
                    if (lane == 0) out[(r * m + mm) * GP_WARPS + warp] = v;
                }
    }
    __syncthreads();
    if (it > 0) gp_finish(red[(it - 1) & 1], blockIdx.x + (it - 1) * gridDim.x, rows, m, n, bias, y);
    asm volatile("cp.async.wait_all;" ::: "memory");   // the empty groups past the end: nothing left in flight at exit
}

// Grid: one wave of 8-warp blocks; warp i owns columns [i·cols_per_warp, (i + 1)·cols_per_warp) ∩ [0, n), contiguous in
// w, read as one stream: lane l's slot s is the 16 bytes at (column start)·K·2 + (32·s + l)·16. Needs K % 256 == 0 (all
// lanes finish a column on the same slot), w 16-byte aligned, m ≤ 2. Shared: xs (m, k) F32.
// (256, 4): at most 64 registers, four blocks per SM (68 without the bound: three)
extern "C" __global__ void __launch_bounds__(GP_THREADS, 4) gemv_stream(const float* __restrict__ x, long long ldx, const unsigned short* __restrict__ w,
                                                                     const float* __restrict__ bias, float* __restrict__ y, int m, int n, int k, int cols_per_warp)
{
    extern __shared__ uint4 gp_shared[];
    float* xs = (float*)gp_shared;
    int lane = threadIdx.x & 31;
    long long warp = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    long long col0 = warp * cols_per_warp;
    int cols = (int)max(0LL, min((long long)cols_per_warp, n - col0));
    int per_col = k >> 8;            // slots per lane per column
    int total = cols * per_col;      // this lane's slots (the same for every lane of the warp)
    const uint4* base = (const uint4*)(w + col0 * k) + lane;
    uint4 buf[GS_DEPTH];
#pragma unroll
    for (int d = 0; d < GS_DEPTH; d++) if (d < total) buf[d] = __ldcs(base + 32 * d);   // in flight while x is staged
    pdl_enter();   // the weights may load early (launched early, this overlaps the kernel before); x may not
    gp_stage_x(x, ldx, m, k, xs);
    __syncthreads();
    float acc0 = 0.0f, acc1 = 0.0f;
    int kslot = 0, col = 0;
    for (int i0 = 0; i0 < total; i0 += GS_DEPTH)
    {
#pragma unroll
        for (int d = 0; d < GS_DEPTH; d++)
        {
            int i = i0 + d;
            if (i < total)
            {
                uint4 v = buf[d];
                if (i + GS_DEPTH < total) buf[d] = __ldcs(base + 32 * (i + GS_DEPTH));
                float wf[8];
                gp_widen(v, wf);
                int kk = (kslot * 32 + lane) * 8;
                acc0 += gp_dot8(xs + kk, wf);
                if (m > 1) acc1 += gp_dot8(xs + k + kk, wf);
                if (++kslot == per_col)
                {
                    long long c = col0 + col;
                    float s0 = warp_total(acc0), s1 = m > 1 ? warp_total(acc1) : 0.0f;
                    if (lane == 0)
                    {
                        float b = bias ? bias[c] : 0.0f;
                        y[c] = s0 + b;
                        if (m > 1) y[n + c] = s1 + b;
                    }
                    acc0 = acc1 = 0.0f;
                    kslot = 0;
                    col++;
                }
            }
        }
    }
}
