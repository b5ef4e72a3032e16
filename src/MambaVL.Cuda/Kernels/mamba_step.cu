// The fused Mamba-2 decode mixer step (IBackend.MambaStep) as ONE kernel: for B sequences of one token, the depthwise
// conv step + SiLU over xBC, the SSM step and the gated RMSNorm with z. It replaces causal_conv1d_step, ssm_step_warp
// and gated_rms_norm (three launches, two round trips of xBC and y through memory) and does the same math in the same
// order per element, so it agrees with them to fp32 rounding of the sums.
//
// Grid (H, B): one block of 256 threads per (head h, sequence b). A block
//   1. issues the loads of its first state rows (so their DRAM latency overlaps 2.),
//   2. runs the conv step for the head's P x channels (updating their conv state in place: no other block reads them)
//      and for its group's 2N B and C channels (read only: every head of the group needs the old state), into shared
//      memory, with silu(z) of its P channels,
//   3. steps its (P, N) state in place, one warp per 8 rows at a time, a lane per 4 state columns (float4; N % 4 == 0),
//      y = S·C + D·x, g = y · silu(z) written to out, and Σ g² of its P channels to partials[b, h].
// The gate norm spans whole gate groups of heads (all 80 heads at 2.7B: ngroups = 1): a cross-block reduction. Keeping
// it one kernel without a grid-wide barrier (which needs every block resident: not so at batch 64): each block counts
// itself done on counters[b] after a fence; the LAST block of sequence b (it sees H − 1) then
//   4. sums each gate group's partials, scales the sequence's Dn outputs in place by rsqrt(mean g² + eps) · w (unless
//      defer_norm: CudaBackend.MambaStepProject leaves g and the partials to out_proj's gemv_ring*_gate, which scales
//      x while staging it; this block alone took ~half of the launch's 12 µs at 2.7B), and
//   5. shifts the B and C channels' conv state (every block of b has read the old one before counting itself done),
//   6. resets counters[b] to 0 for the next launch (a kernel boundary orders it before that launch's reads).
// Needs: the gate group a multiple of P (true for Mamba-2: DInner / ngroups), conv width ≤ 9, B ≤ gridDim.y.
#include "mamba_step.cuh"

// Step 4 of the last block: the gate groups' scales (gate_scale) into shared scales, then o (Dn) of the sequence scaled
// in place by scale · w, as gated_rms_norm: gv · s · wv (gemv_ring*_gate's prologue multiplies in the same order).
// o: (Dn) g of one sequence; partials: (H) its Σ g² per head; gate_w (Dn).
__device__ __noinline__ void ms_gate_norm(float* __restrict__ o, const float* __restrict__ partials, const float* __restrict__ gate_w,
                                          float* scales, int dn, int gate_group, int p_dim, float eps)
{
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int norm_groups = dn / gate_group, heads_per_norm = gate_group / p_dim;
    for (int k = warp; k < norm_groups; k += MS_WARPS)
    {
        float s = gate_scale(partials, k, heads_per_norm, gate_group, eps);
        if (lane == 0) scales[k] = s;
    }
    __syncthreads();
    bool vec = (dn & 3) == 0 && (gate_group & 3) == 0 && (((unsigned long long)o | (unsigned long long)gate_w) & 15) == 0;
    if (vec)
    {
        // 8 float4 of g and 8 of w in flight per thread: the 5120 channels of the 2.7B shape in one round
        for (int i0 = threadIdx.x * 4; i0 < dn; i0 += 8 * 4 * MS_THREADS)
        {
            float4 gv[8], wv[8];
#pragma unroll
            for (int u = 0; u < 8; u++)
            {
                int i = i0 + u * 4 * MS_THREADS;
                gv[u] = i < dn ? __ldcg((const float4*)(o + i)) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                wv[u] = i < dn ? __ldg((const float4*)(gate_w + i)) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            }
#pragma unroll
            for (int u = 0; u < 8; u++)
            {
                int i = i0 + u * 4 * MS_THREADS;
                if (i < dn)
                {
                    float s = scales[i / gate_group];   // the 4 channels share a group: gate_group % 4 == 0
                    *(float4*)(o + i) = make_float4(gv[u].x * s * wv[u].x, gv[u].y * s * wv[u].y, gv[u].z * s * wv[u].z, gv[u].w * s * wv[u].w);
                }
            }
        }
    }
    else
    {
        for (int i0 = threadIdx.x; i0 < dn; i0 += 4 * MS_THREADS)
        {
            float gv[4];
#pragma unroll
            for (int u = 0; u < 4; u++) { int i = i0 + u * MS_THREADS; gv[u] = i < dn ? __ldcg(o + i) : 0.0f; }
#pragma unroll
            for (int u = 0; u < 4; u++) { int i = i0 + u * MS_THREADS; if (i < dn) o[i] = gv[u] * scales[i / gate_group] * gate_w[i]; }
        }
    }

}

// One launch: block (h, b) steps head h of sequence b (ms_head_step), then the hand-off to the sequence's last block.
template <int V>
__device__ __forceinline__ void mamba_step_body(
    const float* __restrict__ z, long long ldz, const float* __restrict__ xbc, long long ldxbc, const float* __restrict__ dt, long long lddt,
    const float* __restrict__ conv_w, const float* __restrict__ conv_b, float* __restrict__ conv_state,
    const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode,
    const float* __restrict__ gate_w, float* __restrict__ state, float* __restrict__ out, float* __restrict__ partials,
    unsigned int* __restrict__ counters, int p_dim, int groups, int n_dim, int width, int gate_group,
    float dt_min, float dt_max, float eps, int defer_norm)
{
    // shared: ms_head_step's 2N + 2P floats, then the gate groups' scales (Dn / gate_group) for step 4
    extern __shared__ float4 ms_shared4[];
    float* shared = (float*)ms_shared4;
    __shared__ int last_block;
    pdl_enter();   // the state and the inputs come from earlier kernels
    const int h = blockIdx.x, b = blockIdx.y, heads = gridDim.x;
    const int dn = heads * p_dim, gn = groups * n_dim, channels = dn + 2 * gn;
    float* seq_conv = conv_state + (long long)b * channels * (width - 1);
    ms_head_step<V>(z + b * ldz, xbc + b * ldxbc, dt + b * lddt, conv_w, conv_b, seq_conv, a, dt_bias, dvec, d_mode,
                    state + (long long)b * heads * p_dim * n_dim, out + (long long)b * dn, partials + (long long)b * heads,
                    h, heads, p_dim, groups, n_dim, width, dt_min, dt_max, shared);

    // the hand-off: every block's g values, partial and conv-state reads are done before it counts itself
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) last_block = atomicAdd(counters + b, 1u) == (unsigned int)(heads - 1);
    __syncthreads();
    if (!last_block) return;
    __threadfence();

    // 4. the last block of sequence b: each gate group's scale from its heads' partials (read from L2: other blocks wrote them)
    //    (skipped with defer_norm: gemv_ring*_gate applies it while staging out_proj's x, from the same g and partials)
    if (!defer_norm) ms_gate_norm(out + (long long)b * dn, partials + (long long)b * heads, gate_w, shared + 2 * n_dim + 2 * p_dim, dn, gate_group, p_dim, eps);
    // 5. the B and C channels' conv state of every group of sequence b: shifted, the new input last
    ms_shift_bc(seq_conv, xbc + b * ldxbc, dn, gn, width);

    // 6. ready for the next launch
    if (threadIdx.x == 0) counters[b] = 0u;
}

#define MS_PARAMS \
    const float* __restrict__ z, long long ldz, const float* __restrict__ xbc, long long ldxbc, const float* __restrict__ dt, long long lddt, \
    const float* __restrict__ conv_w, const float* __restrict__ conv_b, float* __restrict__ conv_state, \
    const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode, \
    const float* __restrict__ gate_w, float* __restrict__ state, float* __restrict__ out, float* __restrict__ partials, \
    unsigned int* __restrict__ counters, int p_dim, int groups, int n_dim, int width, int gate_group, float dt_min, float dt_max, float eps, int defer_norm
#define MS_ARGS z, ldz, xbc, ldxbc, dt, lddt, conv_w, conv_b, conv_state, a, dt_bias, dvec, d_mode, gate_w, state, out, partials, \
    counters, p_dim, groups, n_dim, width, gate_group, dt_min, dt_max, eps, defer_norm

// N % 4 == 0 and the state 16-byte aligned: a lane steps 4 state columns with one float4
extern "C" __global__ void __launch_bounds__(MS_THREADS) mamba_step_v4(MS_PARAMS) { mamba_step_body<4>(MS_ARGS); }

// any N: a lane steps one state column at a time
extern "C" __global__ void __launch_bounds__(MS_THREADS) mamba_step_v1(MS_PARAMS) { mamba_step_body<1>(MS_ARGS); }
