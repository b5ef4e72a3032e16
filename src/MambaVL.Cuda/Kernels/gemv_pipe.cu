// Two alternatives to gemv.cu's gemv_vec for the batch-1 decode GEMV, y (M, N) = x (M, K) · w (N, K)ᵀ (+ bias) with BF16
// w and M ≤ 2, written to be measured against it (CudaBackend.Gemv selects; `bench --device cuda --gemv ...`).
// Why gemv_vec stops at ~1.6 TB/s on the 2.7B in_proj (K = 2560: 320 16-byte loads per column, 10 per lane): a warp's
// loads come in rounds of 4, 4, then 1 and 1 (the tail loop), each round a full memory latency, so a lane averages 2.5
// loads in flight, and columns do not overlap (the next column's loads start after the last one's shuffle reduction).
// It also rounds each x value to BF16 again for every weight (~6 integer ops per multiply-add: about half the issue
// slots at full bandwidth). Both kernels here stage x once per block in shared memory, already rounded; a warp owns a
// contiguous run of columns and keeps loads in flight without gaps across column boundaries, and
//   gemv_stream: GS_DEPTH loads per lane in registers (a rolling pipeline: the slot issued next is GS_DEPTH ahead);
//   gemv_ring: DEPTH - 1 loads per lane in flight as cp.async copies into a per-warp shared-memory ring.
// Both read x as BF16-rounded F32, as gemv_vec does for BF16 weights, so results agree with it to summation order.
#include "gemv_ring.cuh"

#define GS_DEPTH 8         // gemv_stream: 16-byte loads in flight per lane

// xs (m, k) = x rounded to BF16 (as F32), from rows at stride ldx; every thread of the block takes part. x comes in by
// cp.async, 16 bytes a copy, all of them in flight at once at no register cost (loaded one at a time, each waited for,
// x cost ~20 L2 round trips at K = 5120: most of a decode GEMV's time); each thread then rounds what it copied.
// Waits for ALL of the thread's cp.async groups (so gemv_ring stages x with gp_stage_x_loads instead).
// Needs K % 4 == 0, ldx % 4 == 0, x 16-byte aligned.
__device__ __forceinline__ void gp_stage_x(const float* __restrict__ x, long long ldx, int m, int k, float* xs)
{
    int per_row = k >> 2, total = m * per_row;
    float4* dst = (float4*)xs;
    for (int i = threadIdx.x; i < total; i += blockDim.x)
    {
        int r = i / per_row;
        cp_async16(dst + i, x + r * ldx + 4 * (i - r * per_row));
    }
    cp_async_commit();
    cp_async_wait_all();
    for (int i = threadIdx.x; i < total; i += blockDim.x)
    {
        float4 v = dst[i];
        dst[i] = make_float4(round_bf16(v.x), round_bf16(v.y), round_bf16(v.z), round_bf16(v.w));
    }
}

// gp_stage_x through registers: up to GP_X_BATCH float4 loads per thread in flight, then rounded and stored. For
// gemv_ring, whose ring is cp.async groups: a cp.async x would have to wait for the whole ring's first slots (groups
// complete in order), leaving DRAM idle between that first burst and the next slots. Same requirements.
#define GP_X_BATCH 8
__device__ __forceinline__ void gp_stage_x_loads(const float* __restrict__ x, long long ldx, int m, int k, float* xs)
{
    int per_row = k >> 2, total = m * per_row;
    float4* dst = (float4*)xs;
    for (int base = threadIdx.x; base < total; base += GP_X_BATCH * blockDim.x)
    {
        float4 v[GP_X_BATCH];
#pragma unroll
        for (int j = 0; j < GP_X_BATCH; j++)
        {
            int i = base + j * blockDim.x, r = i / per_row;
            if (i < total) v[j] = __ldg((const float4*)(x + r * ldx) + (i - r * per_row));
        }
#pragma unroll
        for (int j = 0; j < GP_X_BATCH; j++)
        {
            int i = base + j * blockDim.x;
            if (i < total) dst[i] = make_float4(round_bf16(v[j].x), round_bf16(v[j].y), round_bf16(v[j].z), round_bf16(v[j].w));
        }
    }
}

// residual += x, written by the LAST block to finish its prologue (every block has read the residual by then: each
// counts itself after its reads), which also resets the counter for the next launch.
__device__ __forceinline__ void gp_write_residual(float* __restrict__ residual, const float* __restrict__ x, long long ldx, int m, int k,
                                                  unsigned int* __restrict__ counter)
{
    __shared__ int last;
    __syncthreads();
    if (threadIdx.x == 0) last = atomicAdd(counter, 1u) == gridDim.x - 1;
    __syncthreads();
    if (!last) return;
    int per_row = k >> 2;
    for (int r = 0; r < m; r++)
        for (int i = threadIdx.x; i < per_row; i += blockDim.x)
        {
            float4* rp = (float4*)(residual + (long long)r * k) + i;
            float4 v = __ldcg(rp), a = __ldg((const float4*)(x + r * ldx) + i);
            v.x += a.x; v.y += a.y; v.z += a.z; v.w += a.w;
            *rp = v;
        }
    if (threadIdx.x == 0) *counter = 0u;
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
    GemvRun run(m, n, k, col0);
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
                run.add(v, xs, bias, y);
            }
        }
    }
}

// gemv_ring: as gemv_stream (one wave, a warp per contiguous run of columns, the same slots and sums), but the loads
// in flight live in shared memory, not registers: each lane cp.asyncs its 16-byte cells into a per-warp ring of
// DEPTH slots (512 bytes each), DEPTH - 1 in flight, and reads back only its own cells (no barrier: a thread's
// cp.async data is visible to it after its wait_group). ~4x the bytes in flight per SM at fewer registers: the
// batch-1 GEMV is latency-bound (ncu: L1TEX scoreboard stalls, 46 % of DRAM peak at 18 warps per SM).
// Shared: the ring (GP_WARPS, DEPTH, 32) uint4, then xs (m, k) F32. Same requirements as gemv_stream.
// MODE, how x is staged: GP_PLAIN (x as is, rounded); GP_NORM (CudaBackend.NormMatMul: RMSNorm(residual + x) · norm by
// gp_stage_norm, the residual updated); GP_GATE (CudaBackend.MambaStepProject: x = g, scaled by the gate norm from
// partials (m, heads) and norm = the gate weight, by gp_stage_gate).
#define GP_PLAIN 0
#define GP_NORM 1
#define GP_GATE 2
template <int DEPTH, int MODE>
__device__ __forceinline__ void gemv_ring_body(const float* __restrict__ x, long long ldx, const unsigned short* __restrict__ w,
                                               const float* __restrict__ bias, float* __restrict__ y, int m, int n, int k, int cols_per_warp,
                                               float* __restrict__ residual, const float* __restrict__ norm, float eps, unsigned int* __restrict__ counter,
                                               const float* __restrict__ partials, int heads, int gate_group)
{
    extern __shared__ uint4 gp_shared[];
    int lane = threadIdx.x & 31;
    uint4* cells = gp_shared + (threadIdx.x >> 5) * DEPTH * 32 + lane;   // this lane's cell of slot s: cells[32 s]
    float* xs = (float*)(gp_shared + GP_WARPS * DEPTH * 32);
    long long warp = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    long long col0 = warp * cols_per_warp;
    int cols = (int)max(0LL, min((long long)cols_per_warp, n - col0));
    int total = cols * (k >> 8);
    const uint4* base = (const uint4*)(w + col0 * k) + lane;
    // slots 0 .. DEPTH - 2 out first (one commit group each, empty past the end: the group count stays uniform)
#pragma unroll
    for (int s = 0; s < DEPTH - 1; s++)
    {
        if (s < total) cp_async16(cells + 32 * s, base + 32 * s);
        cp_async_commit();
    }
    pdl_enter();   // the weights may load early (launched early, this overlaps the kernel before); x may not
    if (MODE == GP_NORM)
    {
        __shared__ float red[32];
        gp_stage_norm(residual, x, ldx, norm, eps, m, k, xs, red);
        if (x) gp_write_residual(residual, x, ldx, m, k, counter);
    }
    else if (MODE == GP_GATE) gp_stage_gate(x, ldx, partials, heads, norm, gate_group, eps, m, k, xs);
    else gp_stage_x_loads(x, ldx, m, k, xs);
    __syncthreads();
    GemvRun run(m, n, k, col0);
    for (int i = 0; i < total; i++)
    {
        // slot i + DEPTH - 1 into the cell slot i - 1 used (its values were consumed last iteration)
        int next = i + DEPTH - 1;
        if (next < total) cp_async16(cells + 32 * (next % DEPTH), base + 32 * next);
        cp_async_commit();
        cp_async_wait<DEPTH - 1>();   // slot i has landed
        run.add(cells[32 * (i % DEPTH)], xs, bias, y);
    }
}

// The ring deep enough for the bytes in flight, or shallow enough for more blocks per SM: CudaBackend picks.
#define GEMV_RING_ARGS const float* __restrict__ x, long long ldx, const unsigned short* __restrict__ w, \
    const float* __restrict__ bias, float* __restrict__ y, int m, int n, int k, int cols_per_warp
#define GEMV_RING_NORM_ARGS GEMV_RING_ARGS, float* __restrict__ residual, const float* __restrict__ norm, float eps, unsigned int* __restrict__ counter
#define GEMV_RING_GATE_ARGS GEMV_RING_ARGS, const float* __restrict__ partials, int heads, const float* __restrict__ gate_w, int gate_group, float eps

extern "C" __global__ void __launch_bounds__(GP_THREADS) gemv_ring12(GEMV_RING_ARGS)
{
    gemv_ring_body<12, GP_PLAIN>(x, ldx, w, bias, y, m, n, k, cols_per_warp, nullptr, nullptr, 0.0f, nullptr, nullptr, 0, 0);
}

extern "C" __global__ void __launch_bounds__(GP_THREADS) gemv_ring16(GEMV_RING_ARGS)
{
    gemv_ring_body<16, GP_PLAIN>(x, ldx, w, bias, y, m, n, k, cols_per_warp, nullptr, nullptr, 0.0f, nullptr, nullptr, 0, 0);
}

// NormMatMul: x (may be null) is what is added to the residual
extern "C" __global__ void __launch_bounds__(GP_THREADS) gemv_ring12_norm(GEMV_RING_NORM_ARGS)
{
    gemv_ring_body<12, GP_NORM>(x, ldx, w, bias, y, m, n, k, cols_per_warp, residual, norm, eps, counter, nullptr, 0, 0);
}

extern "C" __global__ void __launch_bounds__(GP_THREADS) gemv_ring16_norm(GEMV_RING_NORM_ARGS)
{
    gemv_ring_body<16, GP_NORM>(x, ldx, w, bias, y, m, n, k, cols_per_warp, residual, norm, eps, counter, nullptr, 0, 0);
}

// MambaStepProject: x is mamba_step's un-normalised g (defer_norm), partials (m, heads) its Σ g² per head
extern "C" __global__ void __launch_bounds__(GP_THREADS) gemv_ring12_gate(GEMV_RING_GATE_ARGS)
{
    gemv_ring_body<12, GP_GATE>(x, ldx, w, bias, y, m, n, k, cols_per_warp, nullptr, gate_w, eps, nullptr, partials, heads, gate_group);
}

extern "C" __global__ void __launch_bounds__(GP_THREADS) gemv_ring16_gate(GEMV_RING_GATE_ARGS)
{
    gemv_ring_body<16, GP_GATE>(x, ldx, w, bias, y, m, n, k, cols_per_warp, nullptr, gate_w, eps, nullptr, partials, heads, gate_group);
}
