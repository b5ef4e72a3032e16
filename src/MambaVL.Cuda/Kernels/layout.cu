// Layout kernels: a strided copy between two views of up to 6 dims (2- or 4-byte elements, or F32 into BF16), the base of
// Contiguous, CopyInto and Concat on the device.

struct Layout
{
    long long shape[6];
    long long src[6];   // source strides, elements
    long long dst[6];   // destination strides, elements
    int rank;
};

template <typename S, typename D, typename Convert>
__device__ void copy_strided(const S* __restrict__ src, D* __restrict__ dst, Layout l, long long n, Convert convert)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        long long rest = i, s = 0, d = 0;
        for (int k = l.rank - 1; k >= 0; k--)
        {
            long long idx = rest % l.shape[k];
            rest /= l.shape[k];
            s += idx * l.src[k];
            d += idx * l.dst[k];
        }
        dst[d] = convert(src[s]);
    }
}

struct Same { template <typename T> __device__ T operator()(T v) const { return v; } };
struct ToBf16 { __device__ unsigned short operator()(float v) const { return f32_to_bf16_bits(v); } };

extern "C" __global__ void copy_strided_4(const float* src, float* dst, Layout l, long long n) { copy_strided(src, dst, l, n, Same()); }
extern "C" __global__ void copy_strided_2(const unsigned short* src, unsigned short* dst, Layout l, long long n) { copy_strided(src, dst, l, n, Same()); }
// F32 into a BF16 view, rounded to nearest even (new rows of a BF16 KV cache)
extern "C" __global__ void copy_strided_f32_bf16(const float* src, unsigned short* dst, Layout l, long long n) { copy_strided(src, dst, l, n, ToBf16()); }
