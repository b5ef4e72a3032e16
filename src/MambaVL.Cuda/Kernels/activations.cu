// Element-wise activations on F32: y = f(x) over n elements, grid-stride.

extern "C" __global__ void silu_f32(const float* __restrict__ x, float* __restrict__ y, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        y[i] = silu(x[i]);
    }
}

// exact GELU, x·Φ(x), as torch's default nn.GELU; written with erfc so that 1 + erf(x/√2) does not cancel to 0 for
// x below about -5 (the tail keeps its ~1e-7 relative accuracy)
extern "C" __global__ void gelu_f32(const float* __restrict__ x, float* __restrict__ y, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        float v = x[i];
        y[i] = 0.5f * v * erfcf(-v * 0.70710678118654752f);
    }
}

// tanh-approximated GELU (timm's and HF's gelu_pytorch_tanh)
extern "C" __global__ void gelu_tanh_f32(const float* __restrict__ x, float* __restrict__ y, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

// CLIP's quick GELU: x · sigmoid(1.702 x)
extern "C" __global__ void quick_gelu_f32(const float* __restrict__ x, float* __restrict__ y, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        float v = x[i];
        y[i] = v / (1.0f + expf(-1.702f * v));
    }
}

// SwiGLU: y = silu(gate) · up
extern "C" __global__ void swiglu_f32(const float* __restrict__ gate, const float* __restrict__ up, float* __restrict__ y, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        y[i] = silu(gate[i]) * up[i];
    }
}

// acc += x
extern "C" __global__ void add_inplace_f32(float* __restrict__ acc, const float* __restrict__ x, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        acc[i] += x[i];
}

// y[r, c] += bias[c] for rows of n
extern "C" __global__ void add_bias_f32(float* __restrict__ y, const float* __restrict__ bias, long long total, int n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x)
        y[i] += bias[i % n];
}
