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
#define MS_THREADS 256
#define MS_WARPS 8
#define MS_ROWS 8        // state rows per warp per round: 8 loads in flight per lane, as many registers x4
#define MS_MAX_WIDTH 9   // conv width (the C# side checks 1..9, as for causal_conv1d_step)

// The state columns a lane handles at once: 4 as a float4 (N % 4 == 0, rows 16-byte aligned), or 1.
template <int V> struct StateVec;

template <> struct StateVec<4>
{
    typedef float4 T;
    static __device__ __forceinline__ T load(const float* p) { return __ldcs((const float4*)p); }
    static __device__ __forceinline__ void store(float* p, T v) { __stcs((float4*)p, v); }
    static __device__ __forceinline__ T shared(const float* p) { return *(const float4*)p; }
    // S = decay·S + dx·B in place (dx = dt'·x: the reference's dt'·x·B[n] groups the same way); returns Σ S·C
    static __device__ __forceinline__ float step(T& s, T bv, T cv, float decay, float dx)
    {
        s.x = decay * s.x + dx * bv.x;
        s.y = decay * s.y + dx * bv.y;
        s.z = decay * s.z + dx * bv.z;
        s.w = decay * s.w + dx * bv.w;
        float part = s.x * cv.x;
        part += s.y * cv.y;
        part += s.z * cv.z;
        part += s.w * cv.w;
        return part;
    }
    static __device__ __forceinline__ T zero() { return make_float4(0.0f, 0.0f, 0.0f, 0.0f); }
};

template <> struct StateVec<1>
{
    typedef float T;
    static __device__ __forceinline__ T load(const float* p) { return __ldcs(p); }
    static __device__ __forceinline__ void store(float* p, T v) { __stcs(p, v); }
    static __device__ __forceinline__ T shared(const float* p) { return *p; }
    static __device__ __forceinline__ float step(T& s, T bv, T cv, float decay, float dx)
    {
        s = decay * s + dx * bv;
        return s * cv;
    }
    static __device__ __forceinline__ T zero() { return 0.0f; }
};

// One round's state values of a warp: rows p0 + 8r (r < MS_ROWS), the lane's chunk c (V columns from c·V)
template <int V>
__device__ __forceinline__ void ms_load_rows(const float* st, int p0, int c, int p_dim, int n_dim, int chunks, typename StateVec<V>::T* sv)
{
#pragma unroll
    for (int r = 0; r < MS_ROWS; r++)
    {
        int p = p0 + MS_WARPS * r;
        sv[r] = (p < p_dim && c < chunks) ? StateVec<V>::load(st + (long long)p * n_dim + c * V) : StateVec<V>::zero();
    }
}

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

template <int V>
__device__ __forceinline__ void mamba_step_body(
    const float* __restrict__ z, long long ldz, const float* __restrict__ xbc, long long ldxbc, const float* __restrict__ dt, long long lddt,
    const float* __restrict__ conv_w, const float* __restrict__ conv_b, float* __restrict__ conv_state,
    const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode,
    const float* __restrict__ gate_w, float* __restrict__ state, float* __restrict__ out, float* __restrict__ partials,
    unsigned int* __restrict__ counters, int p_dim, int groups, int n_dim, int width, int gate_group,
    float dt_min, float dt_max, float eps, int defer_norm)
{
    typedef StateVec<V> SV;
    // shared: B (N) | C (N) | x after the conv (P) | silu(z) (P) | the gate groups' scales (Dn / gate_group)
    extern __shared__ float4 ms_shared4[];
    float* bs = (float*)ms_shared4;
    float* cs = bs + n_dim;
    float* xs = cs + n_dim;
    float* zs = xs + p_dim;
    float* scales = zs + p_dim;
    __shared__ float warp_sq[MS_WARPS];
    __shared__ int last_block;

    pdl_enter();   // the state and the inputs come from earlier kernels
    const int h = blockIdx.x, b = blockIdx.y, heads = gridDim.x;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int dn = heads * p_dim, gn = groups * n_dim, channels = dn + 2 * gn;
    const int g = h / (heads / groups), chunks = n_dim / V;
    float* st = state + ((long long)b * heads + h) * p_dim * n_dim;   // this head's (P, N) state

    // 1. the first round of state rows: in flight while the conv runs
    typename SV::T sv[MS_ROWS];
    ms_load_rows<V>(st, warp, lane, p_dim, n_dim, chunks, sv);
    const float d = dt_of(dt[b * lddt + h], dt_bias[h], dt_min, dt_max);
    const float decay = expf(d * a[h]);

    // 2. conv + SiLU: the head's x channels (state shifted in place), then the group's B and C channels (state kept)
    const float* xrow = xbc + b * ldxbc;
    for (int i = threadIdx.x; i < p_dim + 2 * n_dim; i += MS_THREADS)
    {
        bool own = i < p_dim;
        int c = own ? h * p_dim + i : i < p_dim + n_dim ? dn + g * n_dim + (i - p_dim) : dn + gn + g * n_dim + (i - p_dim - n_dim);
        const float* wc = conv_w + (long long)c * width;
        float* sc = conv_state + ((long long)b * channels + c) * (width - 1);
        float v = xrow[c];
        float hist[MS_MAX_WIDTH - 1];
#pragma unroll
        for (int k = 0; k < MS_MAX_WIDTH - 1; k++) hist[k] = k < width - 1 ? sc[k] : 0.0f;
        float acc = conv_b ? conv_b[c] : 0.0f;   // the order of causal_conv1d_step: bias, the history oldest first, the input
#pragma unroll
        for (int k = 0; k < MS_MAX_WIDTH - 1; k++)
            if (k < width - 1) acc += wc[k] * hist[k];
        acc += wc[width - 1] * v;
        if (own)
        {
#pragma unroll
            for (int k = 0; k + 1 < MS_MAX_WIDTH - 1; k++)
                if (k + 1 < width - 1) sc[k] = hist[k + 1];
            if (width > 1) sc[width - 2] = v;
        }
        float act = silu(acc);
        if (own) xs[i] = act;
        else if (i < p_dim + n_dim) bs[i - p_dim] = act;
        else cs[i - p_dim - n_dim] = act;
    }
    for (int i = threadIdx.x; i < p_dim; i += MS_THREADS) zs[i] = silu(z[b * ldz + (long long)h * p_dim + i]);
    __syncthreads();

    // 3. the SSM step, MS_ROWS rows of the warp per round, and each row's y, gate and square
    float sq = 0.0f;   // Σ g² over the warp's rows (lane 0's copy counts)
    bool preloaded = true;
    float* orow = out + (long long)b * dn + (long long)h * p_dim;
    for (int p0 = warp; p0 < p_dim; p0 += MS_WARPS * MS_ROWS)
    {
        float part[MS_ROWS];
#pragma unroll
        for (int r = 0; r < MS_ROWS; r++) part[r] = 0.0f;
        for (int c = lane; c < chunks; c += 32)
        {
            if (!preloaded) ms_load_rows<V>(st, p0, c, p_dim, n_dim, chunks, sv);
            preloaded = false;
            typename SV::T bv = SV::shared(bs + c * V), cv = SV::shared(cs + c * V);
#pragma unroll
            for (int r = 0; r < MS_ROWS; r++)
            {
                int p = p0 + MS_WARPS * r;
                if (p < p_dim)
                {
                    part[r] += SV::step(sv[r], bv, cv, decay, d * xs[p]);
                    SV::store(st + (long long)p * n_dim + c * V, sv[r]);
                }
            }
        }
        preloaded = false;   // lanes past the last chunk never used theirs either
#pragma unroll
        for (int r = 0; r < MS_ROWS; r++)
        {
            int p = p0 + MS_WARPS * r;
            float y = warp_total(part[r]);
            if (p < p_dim && lane == 0)
            {
                float xv = xs[p];
                float skip = d_mode == 1 ? dvec[h] : d_mode == 2 ? dvec[(long long)h * p_dim + p] : 0.0f;
                float gv = (y + skip * xv) * zs[p];   // gated_rms_norm's y · silu(z), before the scale
                orow[p] = gv;
                sq += gv * gv;
            }
        }
    }
    if (lane == 0) warp_sq[warp] = sq;
    __syncthreads();
    if (threadIdx.x == 0)
    {
        float total = 0.0f;
        for (int w = 0; w < MS_WARPS; w++) total += warp_sq[w];
        partials[(long long)b * heads + h] = total;
    }

    // the hand-off: every block's g values, partial and conv-state reads are done before it counts itself
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) last_block = atomicAdd(counters + b, 1u) == (unsigned int)(heads - 1);
    __syncthreads();
    if (!last_block) return;
    __threadfence();

    // 4. the last block of sequence b: each gate group's scale from its heads' partials (read from L2: other blocks wrote them)
    //    (skipped with defer_norm: gemv_ring*_gate applies it while staging out_proj's x, from the same g and partials)
    if (!defer_norm) ms_gate_norm(out + (long long)b * dn, partials + (long long)b * heads, gate_w, scales, dn, gate_group, p_dim, eps);
    // 5. the B and C channels' conv state of every group of sequence b: shifted, the new input last
    for (int i = threadIdx.x; i < 2 * gn; i += MS_THREADS)
    {
        int c = dn + i;
        float* sc = conv_state + ((long long)b * channels + c) * (width - 1);
        float hist[MS_MAX_WIDTH - 1];
#pragma unroll
        for (int k = 0; k + 1 < MS_MAX_WIDTH - 1; k++) hist[k] = k + 1 < width - 1 ? sc[k + 1] : 0.0f;
#pragma unroll
        for (int k = 0; k + 1 < MS_MAX_WIDTH - 1; k++)
            if (k + 1 < width - 1) sc[k] = hist[k];
        if (width > 1) sc[width - 2] = xrow[c];
    }

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
