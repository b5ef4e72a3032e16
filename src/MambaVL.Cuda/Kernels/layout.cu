// Layout kernels: a strided copy between two views of up to 6 dims (2- or 4-byte elements), the base of Contiguous,
// CopyInto and Concat on the device.

struct Layout
{
    long long shape[6];
    long long src[6];   // source strides, elements
    long long dst[6];   // destination strides, elements
    int rank;
};

template <typename T>
__device__ void copy_strided(const T* __restrict__ src, T* __restrict__ dst, Layout l, long long n)
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
        dst[d] = src[s];
    }
}

extern "C" __global__ void copy_strided_4(const float* src, float* dst, Layout l, long long n) { copy_strided(src, dst, l, n); }
extern "C" __global__ void copy_strided_2(const unsigned short* src, unsigned short* dst, Layout l, long long n) { copy_strided(src, dst, l, n); }
