// Row norms, one block per row: RMSNorm (Mamba-2, InternLM2) with the variance accumulated in fp32.
// x: rows of d at a row stride of ldx elements (a column slice of a wider matrix reads in place); y: (rows, d); w: (d).

extern "C" __global__ void rms_norm_f32(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
                                        int rows, int d, long long ldx, float eps)
{
    __shared__ float shared[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * ldx;
    float* yr = y + (long long)row * d;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) sum += xr[i] * xr[i];
    float scale = rsqrtf(block_sum(sum, shared) / d + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) yr[i] = xr[i] * scale * w[i];
}
