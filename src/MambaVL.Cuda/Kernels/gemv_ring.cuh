// The ring GEMV's parts, shared by gemv_pipe.cu (one launch per product) and mamba_blocks.cu (the block stack as one
// persistent kernel): x staged into shared memory with a block's pre-norm or gate-norm prologue, and a warp's walk over
// its run of weight columns, 16 bytes per lane per slot (GemvRun).
#define GP_THREADS 256
#define GP_WARPS 8
#define GP_MAX_M 2         // rows of x the ring kernels take (the batch-1 decode and pairs)
// Σ_i xs[i] · wf[i] for 8 consecutive x values in shared memory (16-byte aligned)
__device__ __forceinline__ float gp_dot8(const float* xs, const float* wf)
{
    float4 a = *(const float4*)xs, b = *(const float4*)(xs + 4);
    float s = a.x * wf[0];
    s += a.y * wf[1]; s += a.z * wf[2]; s += a.w * wf[3];
    s += b.x * wf[4]; s += b.y * wf[5]; s += b.z * wf[6]; s += b.w * wf[7];
    return s;
}

// The pre-norm prologue of CudaBackend.NormMatMul: xs (m, k) = round_bf16(v · rsqrt(mean(v²) + eps) · norm) with
// v = residual + x (x null: the residual alone), each block for itself (k = D is small: a few KB from L2); the same
// products in the same order as add_rms_norm_f32 (the sum of squares in another order: 256 threads, not 1024).
// residual (m, k) contiguous, x rows at ldx; both 16-byte aligned, k % 4 == 0. shared: 32 floats for the sums.
// BATCH: float4 of the residual and x (then of the norm) loaded per thread before any is used, so a block's few L2
// round trips overlap (mamba_blocks: 4, one round at D = 2560; the ring kernels keep 1 for their 64 registers). Every
// thread sums its own values in the same order whatever BATCH is: the same bits.
template <int BATCH = 1>
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
        for (int base = threadIdx.x; base < per_row; base += BATCH * blockDim.x)
        {
            float4 v[BATCH], a[BATCH];
#pragma unroll
            for (int j = 0; j < BATCH; j++)
            {
                int i = base + j * blockDim.x;
                if (i >= per_row) continue;
                v[j] = __ldcg(rr + i);   // not through the read-only path: this kernel's last block rewrites the residual
                if (xr) a[j] = __ldcg(xr + i);   // L2: mamba_blocks reads a block output written in the same launch
            }
#pragma unroll
            for (int j = 0; j < BATCH; j++)
            {
                int i = base + j * blockDim.x;
                if (i >= per_row) continue;
                if (xr) { v[j].x += a[j].x; v[j].y += a[j].y; v[j].z += a[j].z; v[j].w += a[j].w; }
                dst[i] = v[j];
                sq += v[j].x * v[j].x; sq += v[j].y * v[j].y; sq += v[j].z * v[j].z; sq += v[j].w * v[j].w;
            }
        }
        float scale = rsqrtf(block_sum(sq, red) / k + eps);
        for (int base = threadIdx.x; base < per_row; base += BATCH * blockDim.x)
        {
            float4 g[BATCH];
#pragma unroll
            for (int j = 0; j < BATCH; j++)
                if (base + j * blockDim.x < per_row) g[j] = __ldg((const float4*)norm + base + j * blockDim.x);
#pragma unroll
            for (int j = 0; j < BATCH; j++)
            {
                int i = base + j * blockDim.x;
                if (i >= per_row) continue;
                float4 v = dst[i];
                dst[i] = make_float4(round_bf16(v.x * scale * g[j].x), round_bf16(v.y * scale * g[j].y), round_bf16(v.z * scale * g[j].z), round_bf16(v.w * scale * g[j].w));
            }
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
// BATCH (default GP_GATE_BATCH; mamba_blocks: 8, one round at Dn = 5120): the first round's g and w load while the
// scales are summed.
template <int BATCH = GP_GATE_BATCH>
__device__ __forceinline__ void gp_stage_gate(const float* __restrict__ g, long long ldg, const float* __restrict__ partials, int heads,
                                              const float* __restrict__ gate_w, int gate_group, float eps, int m, int k, float* xs)
{
    __shared__ float scales[GP_MAX_M * GP_GATE_GROUPS];   // (m, groups)
    const int groups = k / gate_group, heads_per_group = heads / groups;
    const int per_row = k >> 2, total = m * per_row;
    float4 v[BATCH], wv[BATCH];
    auto load = [&](int base)
    {
#pragma unroll
        for (int j = 0; j < BATCH; j++)
        {
            int i = base + j * blockDim.x, r = i / per_row;
            if (i < total)
            {
                v[j] = __ldcg((const float4*)(g + r * ldg) + (i - r * per_row));
                wv[j] = __ldg((const float4*)gate_w + (i - r * per_row));
            }
        }
    };
    load(threadIdx.x);
    for (int i = threadIdx.x >> 5; i < m * groups; i += blockDim.x >> 5)
    {
        int r = i / groups;
        float s = gate_scale(partials + (long long)r * heads, i - r * groups, heads_per_group, gate_group, eps);
        if ((threadIdx.x & 31) == 0) scales[i] = s;
    }
    __syncthreads();
    float4* dst = (float4*)xs;
    for (int base = threadIdx.x; base < total; base += BATCH * blockDim.x)
    {
        if (base != (int)threadIdx.x) load(base);
#pragma unroll
        for (int j = 0; j < BATCH; j++)
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

    // add for one row (m = 1) with the slot's dot product already taken (gp_dot8 of its cell): the same sums in the same
    // order as add, so a caller can take several slots' products at once (independent chains) and feed them in order
    __device__ __forceinline__ void add_dot(float dot, const float* __restrict__ bias, float* __restrict__ y)
    {
        acc0 += dot;
        if (++kslot < per_col) return;
        float s0 = warp_total(acc0);
        if (lane == 0)
        {
            float b = bias ? bias[col] : 0.0f;
            y[col] = s0 + b;
        }
        acc0 = 0.0f;
        kslot = 0;
        col++;
    }
};

