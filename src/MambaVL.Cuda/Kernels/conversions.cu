// Float conversions on the device. F32 → BF16 rounds to nearest even (as torch and MambaVL's CPU code do); NaN stays NaN.

// x: rows of k at a row stride of ldx elements; y: (rows, k) contiguous
extern "C" __global__ void f32_to_bf16(const float* __restrict__ x, unsigned short* __restrict__ y, long long n, int k, long long ldx)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        y[i] = f32_to_bf16_bits(x[i / k * ldx + i % k]);
    }
}
