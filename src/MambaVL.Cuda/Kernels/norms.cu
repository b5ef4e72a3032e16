// Row norms, one block per row: RMSNorm (Mamba-2, InternLM2) with the variance accumulated in fp32.
// x: rows of d at a row stride of ldx elements (a column slice of a wider matrix reads in place); y: (rows, d); w: (d).

// One row: RMSNorm of x, or with ADD of residual + x, the sum written back to the residual first (rows of d, contiguous).
// The sums run in the same order either way, so add_rms_norm_f32 equals add_inplace_f32 then rms_norm_f32 to the bit.
template <bool ADD>
__device__ __forceinline__ void rms_norm_row(float* __restrict__ residual, const float* __restrict__ x, long long ldx, const float* __restrict__ w,
                                             float* __restrict__ y, int rows, int d, float eps)
{
    __shared__ float shared[32];
    pdl_enter();
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * ldx;
    float* rr = ADD ? residual + (long long)row * d : nullptr;
    const float* src = ADD ? rr : xr;   // what the second pass normalises
    float* yr = y + (long long)row * d;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x)
    {
        float v = ADD ? rr[i] + xr[i] : xr[i];
        if (ADD) rr[i] = v;
        sum += v * v;
    }
    float scale = rsqrtf(block_sum(sum, shared) / d + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) yr[i] = src[i] * scale * w[i];
}

extern "C" __global__ void rms_norm_f32(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                                        int rows, int d, long long ldx, float eps)
{
    rms_norm_row<false>(nullptr, x, ldx, w, y, rows, d, eps);
}

// residual += x, then RMSNorm of the sum, one block per row (a pre-norm block's input in one pass)
extern "C" __global__ void add_rms_norm_f32(float* __restrict__ residual, const float* __restrict__ x, long long ldx, const float* __restrict__ w,
                                            float* __restrict__ y, int rows, int d, float eps)
{
    rms_norm_row<true>(residual, x, ldx, w, y, rows, d, eps);
}

// LayerNorm over rows of d (stride ldx): (x − mean) / sqrt(biased var + eps) · w + b (b may be null); one block per row.
extern "C" __global__ void layer_norm_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                                          float* __restrict__ y, int rows, int d, long long ldx, float eps)
{
    __shared__ float shared[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * ldx;
    float* yr = y + (long long)row * d;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) sum += xr[i];
    float mean = block_sum(sum, shared) / d;
    float sq = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) { float c = xr[i] - mean; sq += c * c; }
    float inv = rsqrtf(block_sum(sq, shared) / d + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) yr[i] = (xr[i] - mean) * inv * w[i] + (b ? b[i] : 0.0f);
}

// x[m, c] *= scale[c] over rows of d, in place (LayerScale)
extern "C" __global__ void scale_columns_f32(float* __restrict__ x, const float* __restrict__ scale, long long n, int d)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        x[i] *= scale[i % d];
}

// Rotate-half RoPE: x (T, H, P) rows of H·P at stride ldx → y (T, H, P); angle = fp32 (start + t)·inv_freq[i] as torch,
// its cos and sin in double (the reference's). One thread per (t, h, i < P/2).
extern "C" __global__ void rope_f32(const float* __restrict__ x, long long ldx, const float* __restrict__ inv_freq, float* __restrict__ y,
                                    int t_len, int heads, int p, int start)
{
    int half = p / 2;
    long long n = (long long)t_len * heads * half;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < n; k += (long long)gridDim.x * blockDim.x)
    {
        int i = (int)(k % half), h = (int)(k / half % heads), t = (int)(k / half / heads);
        float angle = (float)(start + t) * inv_freq[i];
        double s, c;
        sincos((double)angle, &s, &c);
        const float* xr = x + t * ldx + (long long)h * p;
        float* yr = y + ((long long)t * heads + h) * p;
        double a = xr[i], b = xr[i + half];
        yr[i] = (float)(a * c - b * s);
        yr[i + half] = (float)(b * c + a * s);
    }
}
