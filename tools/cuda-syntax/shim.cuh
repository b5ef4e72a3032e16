// Declarations of the CUDA built-ins our kernels use, so clang can syntax-check Kernels/*.cu on a machine without the
// CUDA toolkit (tools/cuda-syntax/check.sh). Types and signatures only; nothing here is compiled into the product.
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __host__ __attribute__((host))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
struct uint3_ { unsigned int x, y, z; };
extern __device__ const uint3_ threadIdx, blockIdx, blockDim, gridDim;
struct __attribute__((aligned(16))) uint4 { unsigned int x, y, z, w; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) float2 { float x, y; };
struct __attribute__((aligned(8))) uint2 { unsigned int x, y; };
__device__ void __syncthreads();
__device__ void __syncwarp(unsigned int mask = 0xffffffffu);
__device__ void __threadfence();
__device__ void __threadfence_block();
__device__ float __shfl_xor_sync(unsigned int, float, int, int = 32);
__device__ int __shfl_xor_sync(unsigned int, int, int, int = 32);
__device__ unsigned int __shfl_xor_sync(unsigned int, unsigned int, int, int = 32);
__device__ unsigned long long __shfl_xor_sync(unsigned int, unsigned long long, int, int = 32);
__device__ double __shfl_xor_sync(unsigned int, double, int, int = 32);
__device__ float __shfl_sync(unsigned int, float, int, int = 32);
__device__ int __shfl_sync(unsigned int, int, int, int = 32);
__device__ float __shfl_down_sync(unsigned int, float, unsigned int, int = 32);
__device__ float __shfl_up_sync(unsigned int, float, unsigned int, int = 32);
__device__ int __shfl_up_sync(unsigned int, int, unsigned int, int = 32);
__device__ unsigned long long __cvta_generic_to_shared(const void*);
__device__ unsigned int __match_any_sync(unsigned int, unsigned int);
__device__ unsigned int __ballot_sync(unsigned int, int);
__device__ int __ffs(unsigned int);
__device__ int __popc(unsigned int);
__device__ int __clz(int);
__device__ unsigned int atomicAdd(unsigned int*, unsigned int);
__device__ int atomicAdd(int*, int);
__device__ float atomicAdd(float*, float);
__device__ unsigned int atomicExch(unsigned int*, unsigned int);
__device__ void __trap(); __device__ void __nanosleep(unsigned int); __device__ long long clock64();
__device__ unsigned int __float_as_uint(float);
__device__ float __uint_as_float(unsigned int);
__device__ float __int_as_float(int);
__device__ int __float_as_int(float);
template <typename T> __device__ T __ldg(const T*);
template <typename T> __device__ T __ldcs(const T*);
template <typename T> __device__ T __ldcg(const T*);
template <typename T> __device__ void __stcs(T*, T);
__device__ float expf(float); __device__ float exp2f(float); __device__ float logf(float); __device__ float log1pf(float);
__device__ float rsqrtf(float); __device__ float sqrtf(float); __device__ float fmaxf(float, float); __device__ float fminf(float, float);
__device__ float tanhf(float); __device__ float erff(float); __device__ float fabsf(float); __device__ float __expf(float);
__device__ float sinf(float); __device__ float cosf(float); __device__ void sincosf(float, float*, float*); __device__ float powf(float, float);
__device__ float __fdividef(float, float); __device__ float floorf(float); __device__ float ceilf(float);
__device__ double exp(double); __device__ double log(double); __device__ void sincos(double, double*, double*); __device__ double sin(double); __device__ double cos(double);
__device__ float fmaf(float, float, float); __device__ float4 make_float4(float, float, float, float); __device__ float2 make_float2(float, float);
__device__ float erfcf(float); __device__ float log2f(float); __device__ float truncf(float); __device__ float roundf(float);
__device__ int min(int, int); __device__ int max(int, int);
__device__ long long min(long long, long long); __device__ long long max(long long, long long);
__device__ unsigned int min(unsigned int, unsigned int); __device__ unsigned int max(unsigned int, unsigned int);
__device__ bool isnan(float); __device__ bool isinf(float); __device__ bool isfinite(float);
