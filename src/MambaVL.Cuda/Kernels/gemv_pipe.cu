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
#define GP_THREADS 256
#define GP_WARPS 8
#define GP_MAX_M 2         // rows of x the ring kernels take (the batch-1 decode and pairs)
#define GS_DEPTH 8         // gemv_stream: 16-byte loads in flight per lane

// Σ_i xs[i] · wf[i] for 8 consecutive x values in shared memory (16-byte aligned)
__device__ __forceinline__ float gp_dot8(const float* xs, const float* wf)
{
    float4 a = *(const float4*)xs, b = *(const float4*)(xs + 4);
    float s = a.x * wf[0];
    s += a.y * wf[1]; s += a.z * wf[2]; s += a.w * wf[3];
    s += b.x * wf[4]; s += b.y * wf[5]; s += b.z * wf[6]; s += b.w * wf[7];
    return s;
}

__device__ __forceinline__ void gp_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

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
    asm volatile("cp.async.commit_group;\ncp.async.wait_all;" ::: "memory");
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

// The pre-norm prologue of CudaBackend.NormMatMul: xs (m, k) = round_bf16(v · rsqrt(mean(v²) + eps) · norm) with
// v = residual + x (x null: the residual alone), each block for itself (k = D is small: a few KB from L2); the same
// products in the same order as add_rms_norm_f32 (the sum of squares in another order: 256 threads, not 1024).
// residual (m, k) contiguous, x rows at ldx; both 16-byte aligned, k % 4 == 0. shared: 32 floats for the sums.
__device__ __forceinline__ void gp_stage_norm(const float* __restrict__ residual, const float* __restrict__ x, long long ldx,
                                              const float* __restrict__ norm, float eps, int m, int k, float* xs, float* red)
{
    int per_row = k >> 2;
    for (int r = 0; r < m; r++)
    {
        const float4* rr = (const float4*)(residual + (long long)r * k);
        const float4* xr = x ? (const float4*)(x + r * ldx) : nullptr;
        float4* dst = (float4*)(xs + (long long)r * k);
        float sq = 0.0f;
        for (int i = threadIdx.x; i < per_row; i += blockDim.x)
        {
            float4 v = __ldcg(rr + i);   // not through the read-only path: this kernel's last block rewrites the residual
            if (xr)
            {
                float4 a = __ldg(xr + i);
                v.x += a.x; v.y += a.y; v.z += a.z; v.w += a.w;
            }
            dst[i] = v;
            sq += v.x * v.x; sq += v.y * v.y; sq += v.z * v.z; sq += v.w * v.w;
        }
        float scale = rsqrtf(block_sum(sq, red) / k + eps);
        for (int i = threadIdx.x; i < per_row; i += blockDim.x)
        {
            float4 v = dst[i], g = __ldg((const float4*)norm + i);
            dst[i] = make_float4(round_bf16(v.x * scale * g.x), round_bf16(v.y * scale * g.y), round_bf16(v.z * scale * g.z), round_bf16(v.w * scale * g.w));
        }
    }
}

// The gated RMSNorm prologue of CudaBackend.MambaStepProject (out_proj after mamba_step with defer_norm):
// xs (m, k) = round_bf16(g · scale[group] · gate_w), g (m, k) rows at ldg, un-normalised (y · silu(z)); the scale of each
// gate group from partials (m, heads), Σ g² per (sequence, head), by gate_scale: the function and the product order
// (gv · s · wv) of mamba_step's own step 4, so xs equals round_bf16 of its normalised output to the bit (what
// gp_stage_x_loads stages from it). g, gate_w 16-byte aligned, ldg % 4 == 0, gate_group % 4 == 0 (a float4 in one
// group), k / gate_group ≤ GP_GATE_GROUPS.
#define GP_GATE_GROUPS 64
#define GP_GATE_BATCH 4   // float4 of g and of w in flight per thread: 32 registers, the ring's limit of 64 kept
__device__ __forceinline__ void gp_stage_gate(const float* __restrict__ g, long long ldg, const float* __restrict__ partials, int heads,
                                              const float* __restrict__ gate_w, int gate_group, float eps, int m, int k, float* xs)
{
    __shared__ float scales[GP_MAX_M * GP_GATE_GROUPS];   // (m, groups)
    const int groups = k / gate_group, heads_per_group = heads / groups;
    for (int i = threadIdx.x >> 5; i < m * groups; i += GP_WARPS)
    {
        int r = i / groups;
        float s = gate_scale(partials + (long long)r * heads, i - r * groups, heads_per_group, gate_group, eps);
        if ((threadIdx.x & 31) == 0) scales[i] = s;
    }
    __syncthreads();
    int per_row = k >> 2, total = m * per_row;
    float4* dst = (float4*)xs;
    for (int base = threadIdx.x; base < total; base += GP_GATE_BATCH * blockDim.x)
    {
        float4 v[GP_GATE_BATCH], wv[GP_GATE_BATCH];
#pragma unroll
        for (int j = 0; j < GP_GATE_BATCH; j++)
        {
            int i = base + j * blockDim.x, r = i / per_row;
            if (i < total)
            {
                v[j] = __ldcg((const float4*)(g + r * ldg) + (i - r * per_row));
                wv[j] = __ldg((const float4*)gate_w + (i - r * per_row));
            }
        }
#pragma unroll
        for (int j = 0; j < GP_GATE_BATCH; j++)
        {
            int i = base + j * blockDim.x, r = i / per_row;
            if (i < total)
            {
                float s = scales[r * groups + 4 * (i - r * per_row) / gate_group];
                dst[i] = make_float4(round_bf16(v[j].x * s * wv[j].x), round_bf16(v[j].y * s * wv[j].y),
                                     round_bf16(v[j].z * s * wv[j].z), round_bf16(v[j].w * s * wv[j].w));
            }
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

// A warp's walk over its run of columns, 16 bytes (8 weights) per lane per slot, slots in order: lane l's slot s is
// the 16 bytes at (run start)·K·2 + (32·s + l)·16, so a column ends on the same slot for every lane (K % 256 == 0);
// at each column's end the warp reduces its sums and lane 0 writes y[., col] (+ bias).
struct GemvRun
{
    int m, n, k, per_col, kslot, lane;
    long long col;
    float acc0, acc1;

    __device__ __forceinline__ GemvRun(int m_, int n_, int k_, long long col0)
        : m(m_), n(n_), k(k_), per_col(k_ >> 8), kslot(0), lane(threadIdx.x & 31), col(col0), acc0(0.0f), acc1(0.0f) {}

    __device__ __forceinline__ void add(uint4 v, const float* xs, const float* __restrict__ bias, float* __restrict__ y)
    {
        float wf[8];
        widen_bf16x8(v, wf);
        int kk = (kslot * 32 + lane) * 8;
        acc0 += gp_dot8(xs + kk, wf);
        if (m > 1) acc1 += gp_dot8(xs + k + kk, wf);
        if (++kslot < per_col) return;
        float s0 = warp_total(acc0), s1 = m > 1 ? warp_total(acc1) : 0.0f;
        if (lane == 0)
        {
            float b = bias ? bias[col] : 0.0f;
            y[col] = s0 + b;
            if (m > 1) y[n + col] = s1 + b;
        }
        acc0 = acc1 = 0.0f;
        kslot = 0;
        col++;
    }
};

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
        gp_commit();
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
        gp_commit();
        asm volatile("cp.async.wait_group %0;" :: "n"(DEPTH - 1) : "memory");   // slot i has landed
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
