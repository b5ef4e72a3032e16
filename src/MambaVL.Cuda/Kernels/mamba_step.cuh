// The Mamba-2 decode mixer step's parts, shared by mamba_step.cu (one launch per step) and mamba_blocks.cu (the whole
// block stack as one persistent kernel): the state rows' loads, the step of one (head, sequence) and the B/C conv
// history's shift. Activations written earlier in the same launch (mamba_blocks) are read with __ldcg (L2, not a
// possibly stale L1 line).
// The barrier of ms_head_step's MS_THREADS threads: the whole block, unless the includer runs the step on the first
// MS_THREADS threads of a larger block (mamba_blocks.cu: a named barrier of those threads alone)
#ifndef MS_SYNC
#define MS_SYNC() __syncthreads()
#endif
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

// Steps 1-3 of one head h of one sequence, every thread of a MS_THREADS block taking part: the conv step + SiLU over the
// head's P x channels (their conv state shifted in place) and its group's B and C channels (state kept: shifted by
// ms_shift_bc once every head has read it), the (P, N) state stepped in place, out (Dn) = g = (y + D·x) · silu(z) for
// the head's P channels, partials[h] = Σ g² of them. z (Dn), xbc (C), dt (H), conv_state (C, W-1), state (H, P, N),
// out (Dn), partials (H): one sequence's rows. shared: 2N + 2P floats.
template <int V>
__device__ __forceinline__ void ms_head_step(
    const float* __restrict__ z, const float* __restrict__ xbc, const float* __restrict__ dt,
    const float* __restrict__ conv_w, const float* __restrict__ conv_b, float* __restrict__ conv_state,
    const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode,
    float* __restrict__ state, float* __restrict__ out, float* __restrict__ partials,
    int h, int heads, int p_dim, int groups, int n_dim, int width, float dt_min, float dt_max, float* shared)
{
    typedef StateVec<V> SV;
    float* bs = shared;          // B (N) | C (N) | x after the conv (P) | silu(z) (P)
    float* cs = bs + n_dim;
    float* xs = cs + n_dim;
    float* zs = xs + p_dim;
    __shared__ float warp_sq[MS_WARPS];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int dn = heads * p_dim, gn = groups * n_dim;
    const int g = h / (heads / groups), chunks = n_dim / V;
    float* st = state + (long long)h * p_dim * n_dim;   // this head's (P, N) state
    MS_SYNC();   // a block stepping a second head: the first one's shared values are read

    // 1. the first round of state rows: in flight while the conv runs
    typename SV::T sv[MS_ROWS];
    ms_load_rows<V>(st, warp, lane, p_dim, n_dim, chunks, sv);
    const float d = dt_of(__ldcg(dt + h), dt_bias[h], dt_min, dt_max);
    const float decay = expf(d * a[h]);

    // 2. conv + SiLU: the head's x channels (state shifted in place), then the group's B and C channels (state kept)
    for (int i = threadIdx.x; i < p_dim + 2 * n_dim; i += MS_THREADS)
    {
        bool own = i < p_dim;
        int c = own ? h * p_dim + i : i < p_dim + n_dim ? dn + g * n_dim + (i - p_dim) : dn + gn + g * n_dim + (i - p_dim - n_dim);
        const float* wc = conv_w + (long long)c * width;
        float* sc = conv_state + (long long)c * (width - 1);
        float v = __ldcg(xbc + c);
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
    for (int i = threadIdx.x; i < p_dim; i += MS_THREADS) zs[i] = silu(__ldcg(z + (long long)h * p_dim + i));
    MS_SYNC();

    // 3. the SSM step, MS_ROWS rows of the warp per round, and each row's y, gate and square
    float sq = 0.0f;   // Σ g² over the warp's rows (lane 0's copy counts)
    bool preloaded = true;
    float* orow = out + (long long)h * p_dim;
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
    MS_SYNC();
    if (threadIdx.x == 0)
    {
        float total = 0.0f;
        for (int w = 0; w < MS_WARPS; w++) total += warp_sq[w];
        partials[h] = total;
    }
}

// Step 5: the B and C channels' conv state of one sequence (every group), shifted, the new input last, once every head
// has read the old one. conv_state (C, W-1), xbc (C) of the sequence; channels Dn .. Dn + 2·G·N.
__device__ __forceinline__ void ms_shift_bc(float* __restrict__ conv_state, const float* __restrict__ xbc, int dn, int gn, int width)
{
    for (int i = threadIdx.x; i < 2 * gn; i += blockDim.x)
    {
        int c = dn + i;
        float* sc = conv_state + (long long)c * (width - 1);
        float hist[MS_MAX_WIDTH - 1];
#pragma unroll
        for (int k = 0; k + 1 < MS_MAX_WIDTH - 1; k++) hist[k] = k + 1 < width - 1 ? sc[k + 1] : 0.0f;
#pragma unroll
        for (int k = 0; k + 1 < MS_MAX_WIDTH - 1; k++)
            if (k + 1 < width - 1) sc[k] = hist[k];
        if (width > 1) sc[width - 2] = __ldcg(xbc + c);
    }
}
