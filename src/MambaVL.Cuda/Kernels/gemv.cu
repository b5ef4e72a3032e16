// y (M, N) = x (M, K) · w (N, K)ᵀ (+ bias) for the few rows of a decode step (M ≤ 8), where the time is reading w once:
// one warp per output column n streams w's row with 16-byte loads, four in flight per lane, and keeps M sums. x is
// rounded to BF16 for BF16 weights, as the cuBLASLt path for larger M does, so a step and a prefill agree.
#define GEMV_MAX_M 8

// 8 BF16 weights (one 16-byte load) widened to F32
__device__ __forceinline__ void widen_bf16x8(uint4 v, float* f)
{
    unsigned int u[4] = { v.x, v.y, v.z, v.w };
#pragma unroll
    for (int i = 0; i < 4; i++) { f[2 * i] = __uint_as_float(u[i] << 16); f[2 * i + 1] = __uint_as_float(u[i] & 0xffff0000u); }
}

// acc[r] += Σ_i x[r][k0 + i] · wf[i] for the 8 weights at k0
__device__ __forceinline__ void gemv_fma8(const float* __restrict__ x, long long ldx, int m, int k0, const float* wf, float* acc, int round_x)
{
#pragma unroll
    for (int r = 0; r < GEMV_MAX_M; r++)
    {
        if (r >= m) continue;   // not break: a fully unrolled loop keeps acc[] in registers
        const float4* xp = (const float4*)(x + r * ldx + k0);
        float4 a = __ldg(xp), b = __ldg(xp + 1);
        float xs[8] = { a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w };
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; i++) s += (round_x ? round_bf16(xs[i]) : xs[i]) * wf[i];
        acc[r] += s;
    }
}

// The warp's sums → y[r, n] (+ bias)
__device__ __forceinline__ void gemv_store(float* acc, int m, int n, int col, const float* __restrict__ bias, float* __restrict__ y)
{
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int r = 0; r < GEMV_MAX_M; r++)
    {
        if (r >= m) continue;
        float v = acc[r];
        for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
        if (lane == 0) y[(long long)r * n + col] = v + (bias ? bias[col] : 0.0f);
    }
}

// Vector path: K % 8 == 0, w and x rows 16-byte aligned (ldx % 4 == 0). bf16 = 1: w BF16, else F32. One warp per column.
extern "C" __global__ void gemv_vec(const float* __restrict__ x, long long ldx, const void* __restrict__ w, const float* __restrict__ bias,
                                    float* __restrict__ y, int m, int n, int k, int bf16)
{
    int col = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5), lane = threadIdx.x & 31;
    if (col >= n) return;
    float acc[GEMV_MAX_M];
#pragma unroll
    for (int r = 0; r < GEMV_MAX_M; r++) acc[r] = 0.0f;
    int groups = k >> 3;  // 8 weights per group
    if (bf16)
    {
        const uint4* row = (const uint4*)((const unsigned short*)w + (long long)col * k);
        int g = lane;
        for (; g + 96 < groups; g += 128)   // four 16-byte loads in flight before any math
        {
            uint4 v[4] = { __ldcs(row + g), __ldcs(row + g + 32), __ldcs(row + g + 64), __ldcs(row + g + 96) };
#pragma unroll
            for (int j = 0; j < 4; j++) { float wf[8]; widen_bf16x8(v[j], wf); gemv_fma8(x, ldx, m, (g + 32 * j) * 8, wf, acc, 1); }
        }
        for (; g < groups; g += 32) { float wf[8]; widen_bf16x8(__ldcs(row + g), wf); gemv_fma8(x, ldx, m, g * 8, wf, acc, 1); }
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
            gemv_fma8(x, ldx, m, g * 8, wa, acc, 0);
            gemv_fma8(x, ldx, m, (g + 32) * 8, wb, acc, 0);
        }
        for (; g < groups; g += 32)
        {
            float4 a = __ldcs(row + 2 * g), b = __ldcs(row + 2 * g + 1);
            float wf[8] = { a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w };
            gemv_fma8(x, ldx, m, g * 8, wf, acc, 0);
        }
    }
    gemv_store(acc, m, n, col, bias, y);
}

// Any K, any alignment: one weight at a time per lane.
extern "C" __global__ void gemv_scalar(const float* __restrict__ x, long long ldx, const void* __restrict__ w, const float* __restrict__ bias,
                                       float* __restrict__ y, int m, int n, int k, int bf16)
{
    int col = (int)((blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5), lane = threadIdx.x & 31;
    if (col >= n) return;
    float acc[GEMV_MAX_M];
#pragma unroll
    for (int r = 0; r < GEMV_MAX_M; r++) acc[r] = 0.0f;
    for (int i = lane; i < k; i += 32)
    {
        float wv = bf16 ? bf16_to_f32(((const unsigned short*)w)[(long long)col * k + i]) : ((const float*)w)[(long long)col * k + i];
#pragma unroll
        for (int r = 0; r < GEMV_MAX_M; r++)
        {
            if (r >= m) continue;
            float xv = x[r * ldx + i];
            acc[r] += (bf16 ? round_bf16(xv) : xv) * wv;
        }
    }
    gemv_store(acc, m, n, col, bias, y);
}
