// Device helpers shared by every kernel source (KernelCompiler puts this file in front of each one).

// Programmatic dependent launch (sm_90; CudaDevice.LaunchEarly). A kernel launched early may start while the kernel
// before it still runs: before pdl_wait() it may read only what no kernel writes (weights); pdl_wait() returns once the
// kernel before has finished and its writes are visible, so every other read and every global write comes after it.
// pdl_launch_dependents() then lets the next kernel start: after the wait, so at most two kernels overlap.
// Both are no-ops for a normal launch (and compile to nothing before sm_90).
__device__ __forceinline__ void pdl_wait()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_launch_dependents()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Both, at the top of a kernel that reads nothing before them
__device__ __forceinline__ void pdl_enter() { pdl_wait(); pdl_launch_dependents(); }

__device__ __forceinline__ float silu(float v) { return v / (1.0f + expf(-v)); }

// −∞ without math.h (NVRTC has no INFINITY macro)
__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

__device__ __forceinline__ float bf16_to_f32(unsigned short b) { return __uint_as_float(((unsigned int)b) << 16); }

// F32 → BF16 bits, round to nearest even; NaN stays NaN (as torch and MambaVL's CPU code)
__device__ __forceinline__ unsigned short f32_to_bf16_bits(float v)
{
    unsigned int u = __float_as_uint(v);
    return (u & 0x7fffffffu) > 0x7f800000u ? (unsigned short)((u >> 16) | 0x40u)
                                           : (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// v rounded to the nearest BF16 value, as an F32
__device__ __forceinline__ float round_bf16(float v) { return bf16_to_f32(f32_to_bf16_bits(v)); }

// dt' = clamp(softplus(dt + bias), dt_min, dt_max), softplus the identity above 20 (as mamba_ssm): the SSM step kernels'
__device__ __forceinline__ float dt_of(float raw, float bias, float dt_min, float dt_max)
{
    float v = raw + bias;
    v = v > 20.0f ? v : log1pf(expf(v));
    return fminf(fmaxf(v, dt_min), dt_max);
}

// 8 BF16 values (one 16-byte load) widened to F32
__device__ __forceinline__ void widen_bf16x8(uint4 v, float* f)
{
    unsigned int u[4] = { v.x, v.y, v.z, v.w };
#pragma unroll
    for (int i = 0; i < 4; i++) { f[2 * i] = __uint_as_float(u[i] << 16); f[2 * i + 1] = __uint_as_float(u[i] & 0xffff0000u); }
}

// 16 bytes global → shared by cp.async (sm_80+), bypassing L1; no registers hold them in flight
__device__ __forceinline__ void cp_async16(void* dst, const void* src)
{
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(d), "l"(src) : "memory");
}

// Waits until every cp.async copy of the thread has landed
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_all;" ::: "memory"); }

// Closes the thread's cp.async copies issued since the last commit into one group (cp.async.wait_group counts groups)
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }

// Waits until at most N of the thread's committed cp.async groups are still in flight (the older ones have landed)
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(N) : "memory"); }

// The sum of v over the 32 lanes of a warp; every lane gets it
__device__ __forceinline__ float warp_total(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// The gated RMSNorm's scale of gate group k of one sequence: rsqrt(Σ partials of its heads / gate_group + eps), summed
// lane-strided then across the warp; every lane gets it. partials (heads) of the sequence, read from L2 (other blocks or
// the kernel before wrote them). mamba_step's last block and gemv_ring*_gate's prologue both call this one function: the
// same sums in the same order, so the same scale to the bit.
__device__ __forceinline__ float gate_scale(const float* partials, int k, int heads_per_group, int gate_group, float eps)
{
    float s = 0.0f;
    for (int j = threadIdx.x & 31; j < heads_per_group; j += 32) s += __ldcg(partials + (long long)k * heads_per_group + j);
    s = warp_total(s);
    return rsqrtf(s / gate_group + eps);
}

// The sum of v over the block (any size up to 1024); every thread gets it. shared: 32 floats.
__device__ __forceinline__ float block_sum(float v, float* shared)
{
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = threadIdx.x < warps ? shared[threadIdx.x] : 0.0f;
    if (warp == 0)
        for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    if (threadIdx.x == 0) shared[0] = v;
    __syncthreads();
    float total = shared[0];
    __syncthreads();
    return total;
}

// Two F32 → one BF16x2 register, round to nearest even; lo in the low half (the lower k of an MMA fragment pair).
// cvt puts its first source in the high half.
__device__ __forceinline__ unsigned bf16x2_rn(float lo, float hi)
{
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

// d (16 × 8) += A (16 × 16, row-major) · B (16 × 8, column-major) on the tensor cores: BF16 in, F32 sums
__device__ __forceinline__ void mma_bf16(float* d, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
