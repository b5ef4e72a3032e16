// y (M, N) = x (M, K) · w (N, K)ᵀ (+ bias) for the few rows of a decode step (M ≤ 8), where the time is reading w once:
// a warp per output column streams w's row with 16-byte loads, four in flight per lane, and keeps M sums. The grid is
// one wave of warps, each taking `cols_per_warp` columns, so no second half-empty wave drags the tail. For BF16 weights
// x is used rounded to BF16, as the cuBLASLt path for larger M does (a step and a prefill agree): rounded in registers
// (x_bf16 = 0, cheap for M ≤ 2), or given already rounded as BF16 (x_bf16 = 1, for more rows).
#define GEMV_MAX_M 8

// the 8 x values of row r at k0: F32 (rounded to BF16 when round_x) or BF16
template <bool XBF16>
__device__ __forceinline__ void load_x8(const void* __restrict__ x, long long ldx, int r, int k0, bool round_x, float* xs)
{
    if (XBF16)
    {
        widen_bf16x8(__ldg((const uint4*)((const unsigned short*)x + r * ldx + k0)), xs);
    }
    else
    {
        const float4* xp = (const float4*)((const float*)x + r * ldx + k0);
        float4 a = __ldg(xp), b = __ldg(xp + 1);
        xs[0] = a.x; xs[1] = a.y; xs[2] = a.z; xs[3] = a.w; xs[4] = b.x; xs[5] = b.y; xs[6] = b.z; xs[7] = b.w;
        if (round_x)
        {
#pragma unroll
            for (int i = 0; i < 8; i++) xs[i] = round_bf16(xs[i]);
        }
    }
}

// acc[r] += Σ_i x[r][k0 + i] · wf[i]; a fully unrolled loop with `if`, not `break`, keeps acc[] in registers
template <bool XBF16>
__device__ __forceinline__ void gemv_fma8(const void* __restrict__ x, long long ldx, int m, int k0, const float* wf, float* acc, bool round_x)
{
#pragma unroll
    for (int r = 0; r < GEMV_MAX_M; r++)
    {
        if (r < m)
        {
            float xs[8];
            load_x8<XBF16>(x, ldx, r, k0, round_x, xs);
            float s = 0.0f;
#pragma unroll
            for (int i = 0; i < 8; i++) s += xs[i] * wf[i];
            acc[r] += s;
        }
    }
}

// The warp's sums → y[r, col] (+ bias)
__device__ __forceinline__ void gemv_store(float* acc, int m, int n, int col, const float* __restrict__ bias, float* __restrict__ y)
{
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int r = 0; r < GEMV_MAX_M; r++)
    {
        if (r < m)
        {
            float v = acc[r];
            for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
            if (lane == 0) y[(long long)r * n + col] = v + (bias ? bias[col] : 0.0f);
        }
    }
}

// One column: K % 8 == 0, rows 16-byte aligned. W_BF16: w BF16, else F32.
template <bool W_BF16, bool XBF16>
__device__ void gemv_column(const void* __restrict__ x, long long ldx, const void* __restrict__ w, const float* __restrict__ bias,
                            float* __restrict__ y, int m, int n, int k, int col)
{
    int lane = threadIdx.x & 31;
    float acc[GEMV_MAX_M];
#pragma unroll
    for (int r = 0; r < GEMV_MAX_M; r++) acc[r] = 0.0f;
    int groups = k >> 3;   // 8 weights per group
    bool round_x = W_BF16 && !XBF16;
    if (W_BF16)
    {
        const uint4* row = (const uint4*)((const unsigned short*)w + (long long)col * k);
        int g = lane;
        for (; g + 96 < groups; g += 128)   // four 16-byte loads in flight before any math
        {
            uint4 v[4] = { __ldcs(row + g), __ldcs(row + g + 32), __ldcs(row + g + 64), __ldcs(row + g + 96) };
#pragma unroll
            for (int j = 0; j < 4; j++) { float wf[8]; widen_bf16x8(v[j], wf); gemv_fma8<XBF16>(x, ldx, m, (g + 32 * j) * 8, wf, acc, round_x); }
        }
        for (; g < groups; g += 32) { float wf[8]; widen_bf16x8(__ldcs(row + g), wf); gemv_fma8<XBF16>(x, ldx, m, g * 8, wf, acc, round_x); }
    }
    else
    {
        const float4* row = (const float4*)((const float*)w + (long long)col * k);
        int g = lane;
        for (; g + 32 < groups; g += 64)
        {
            float4 v[4] = { __ldcs(row + 2 * g), __ldcs(row + 2 * g + 1), __ldcs(row + 2 * g + 64), __ldcs(row + 2 * g + 65) };
            float wa[8] = { v[0].x, v[0].y, v[0].z, v[0].w, v[1].x, v[1].y, v[1].z, v[1].w };
            float wb[8] = { v[2].x, v[2].y, v[2].z, v[2].w, v[3].x, v[3].y, v[3].z, v[3].w };
            gemv_fma8<XBF16>(x, ldx, m, g * 8, wa, acc, false);
            gemv_fma8<XBF16>(x, ldx, m, (g + 32) * 8, wb, acc, false);
        }
        for (; g < groups; g += 32)
        {
            float4 a = __ldcs(row + 2 * g), b = __ldcs(row + 2 * g + 1);
            float wf[8] = { a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w };
            gemv_fma8<XBF16>(x, ldx, m, g * 8, wf, acc, false);
        }
    }
    gemv_store(acc, m, n, col, bias, y);
}

// Vector path. x F32 (x_bf16 = 0) or BF16 (1, BF16 weights only); warp i takes columns i, i + warps, ...
extern "C" __global__ void gemv_vec(const void* __restrict__ x, long long ldx, const void* __restrict__ w, const float* __restrict__ bias,
                                    float* __restrict__ y, int m, int n, int k, int w_bf16, int x_bf16)
{
    pdl_enter();
    int warp = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5), warps = (int)((gridDim.x * (long long)blockDim.x) >> 5);
    for (int col = warp; col < n; col += warps)
    {
        if (w_bf16 && x_bf16) gemv_column<true, true>(x, ldx, w, bias, y, m, n, k, col);
        else if (w_bf16) gemv_column<true, false>(x, ldx, w, bias, y, m, n, k, col);
        else gemv_column<false, false>(x, ldx, w, bias, y, m, n, k, col);
    }
}

// Any K, any alignment, x F32: one weight at a time per lane.
extern "C" __global__ void gemv_scalar(const float* __restrict__ x, long long ldx, const void* __restrict__ w, const float* __restrict__ bias,
                                       float* __restrict__ y, int m, int n, int k, int bf16)
{
    pdl_enter();
    int warp = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5), warps = (int)((gridDim.x * (long long)blockDim.x) >> 5);
    int lane = threadIdx.x & 31;
    for (int col = warp; col < n; col += warps)
    {
        float acc[GEMV_MAX_M];
#pragma unroll
        for (int r = 0; r < GEMV_MAX_M; r++) acc[r] = 0.0f;
        for (int i = lane; i < k; i += 32)
        {
            float wv = bf16 ? bf16_to_f32(((const unsigned short*)w)[(long long)col * k + i]) : ((const float*)w)[(long long)col * k + i];
#pragma unroll
            for (int r = 0; r < GEMV_MAX_M; r++)
                if (r < m) { float xv = x[r * ldx + i]; acc[r] += (bf16 ? round_bf16(xv) : xv) * wv; }
        }
        gemv_store(acc, m, n, col, bias, y);
    }
}
