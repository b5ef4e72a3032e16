// Mamba-2 ops, plain forms first (correct against the CPU reference; the fused chunked SSD comes later): the embedding
// gather, gated RMSNorm, the depthwise causal conv and its step, the selective scan as its recurrence, and the state step.
// Row strides (ld*) let column slices of the fused in_proj output be read in place.

// out (T, D) F32 = table rows; table F32 (bf16 == 0) or BF16 (bf16 == 1); one block per token
extern "C" __global__ void embedding(const void* __restrict__ table, const int* __restrict__ ids, float* __restrict__ out, int d, int bf16)
{
    long long row = ids[blockIdx.x];
    float* o = out + (long long)blockIdx.x * d;
    if (bf16)
    {
        const unsigned short* t = (const unsigned short*)table + row * d;
        for (int i = threadIdx.x; i < d; i += blockDim.x) o[i] = bf16_to_f32(t[i]);
    }
    else
    {
        const float* t = (const float*)table + row * d;
        for (int i = threadIdx.x; i < d; i += blockDim.x) o[i] = t[i];
    }
}

// g = y · silu(z); RMSNorm of g per group of `group` channels, times w. One block per (row, group).
extern "C" __global__ void gated_rms_norm(const float* __restrict__ y, long long ldy, const float* __restrict__ z, long long ldz,
                                          const float* __restrict__ w, float* __restrict__ out, int dn, int group, float eps)
{
    __shared__ float shared[32];
    int row = blockIdx.x, g0 = blockIdx.y * group;
    const float* yr = y + row * ldy + g0;
    const float* zr = z + row * ldz + g0;
    float* o = out + (long long)row * dn + g0;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < group; i += blockDim.x) { float g = yr[i] * silu(zr[i]); sum += g * g; }
    float scale = rsqrtf(block_sum(sum, shared) / group + eps);
    for (int i = threadIdx.x; i < group; i += blockDim.x) o[i] = yr[i] * silu(zr[i]) * scale * w[g0 + i];
}

// Depthwise causal conv over T steps of one sequence, every output (t, c) its own thread (a prefill has T·C of them):
// the inputs before t = 0 come from state (C, W-1), the inputs before x, oldest first. x rows at stride ldx; out (T, C).
// The state is left alone here: causal_conv1d_state replaces it afterwards (every output reads the old one).
extern "C" __global__ void causal_conv1d(const float* __restrict__ x, long long ldx, const float* __restrict__ w, const float* __restrict__ bias,
                                         const float* __restrict__ state, float* __restrict__ out, int t_len, int channels, int width, int act)
{
    long long n = (long long)t_len * channels;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    {
        int t = (int)(i / channels), c = (int)(i % channels);
        const float* wc = w + (long long)c * width;
        const float* sc = state + (long long)c * (width - 1);
        float acc = bias ? bias[c] : 0.0f;
        for (int k = 0; k < width; k++)
        {
            int src = t - (width - 1) + k;   // < 0: from the state
            acc += wc[k] * (src >= 0 ? x[src * ldx + c] : sc[width - 1 + src]);
        }
        out[i] = act ? silu(acc) : acc;
    }
}

// The new conv state after T inputs: the last W-1 inputs, from x and, when T < W-1, the old state; one thread per channel.
extern "C" __global__ void causal_conv1d_state(const float* __restrict__ x, long long ldx, float* __restrict__ state, int t_len, int channels, int width)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    float* sc = state + (long long)c * (width - 1);
    float tail[8];
    for (int k = 0; k < width - 1; k++)
    {
        int src = t_len - (width - 1) + k;
        tail[k] = src >= 0 ? x[src * ldx + c] : sc[width - 1 + src];
    }
    for (int k = 0; k < width - 1; k++) sc[k] = tail[k];
}

// One step for a batch: x (B, C) at row stride ldx; state (B, C, W-1); one thread per (b, c).
extern "C" __global__ void causal_conv1d_step(const float* __restrict__ x, long long ldx, const float* __restrict__ w, const float* __restrict__ bias,
                                              float* __restrict__ state, float* __restrict__ out, int batch, int channels, int width, int act)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)batch * channels) return;
    int b = (int)(i / channels), c = (int)(i % channels);
    const float* wc = w + (long long)c * width;
    float* sc = state + i * (width - 1);
    float v = x[b * ldx + c];
    float acc = bias ? bias[c] : 0.0f;
    for (int k = 0; k < width - 1; k++) acc += wc[k] * sc[k];
    acc += wc[width - 1] * v;
    for (int k = 0; k + 1 < width - 1; k++) sc[k] = sc[k + 1];
    if (width > 1) sc[width - 2] = v;
    out[i] = act ? silu(acc) : acc;
}

// The selective scan as its recurrence, one block per (sequence b, head h, channel p) with one thread per state column n:
// S = exp(dt'·A)·S + dt'·x·B;  y = S·C (+ D·x). Steps: T for the scan (batch 1), 1 for the decode step (batch B).
// Strides are per step (row) for x, dt, B, C; the state is (B, H, P, N); d_mode 0 none, 1 per head, 2 per (h, p).
extern "C" __global__ void ssm_recurrence(const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt,
                                          const float* __restrict__ bm, long long ldb, const float* __restrict__ cm, long long ldc,
                                          const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode,
                                          float* __restrict__ state, float* __restrict__ y, int steps, int heads, int p_dim, int groups, int n_dim,
                                          float dt_min, float dt_max)
{
    __shared__ float shared[32];
    int p = blockIdx.x % p_dim, h = (blockIdx.x / p_dim) % heads, b = blockIdx.x / (p_dim * heads);
    int g = h / (heads / groups), n = threadIdx.x;
    float* s = state + (((long long)b * heads + h) * p_dim + p) * n_dim;
    float sv = n < n_dim ? s[n] : 0.0f;
    float ah = a[h], bias = dt_bias[h];
    for (int t = 0; t < steps; t++)
    {
        long long row = (long long)b + t;   // the scan has one sequence (b = 0) over steps; the step has one step per b
        float d = dt_of(dt[row * lddt + h], bias, dt_min, dt_max);
        float xv = x[row * ldx + (long long)h * p_dim + p];
        float part = 0.0f;
        if (n < n_dim)
        {
            sv = expf(d * ah) * sv + d * xv * bm[row * ldb + (long long)g * n_dim + n];
            part = sv * cm[row * ldc + (long long)g * n_dim + n];
        }
        float yv = block_sum(part, shared);
        if (threadIdx.x == 0)
        {
            float skip = d_mode == 1 ? dvec[h] : d_mode == 2 ? dvec[(long long)h * p_dim + p] : 0.0f;
            y[(row * heads + h) * p_dim + p] = yv + skip * xv;
        }
    }
    if (n < n_dim) s[n] = sv;
}

// The decode step for a batch, one warp per (sequence b, head h, channel p) and the state row's N columns spread over
// its lanes: no block barriers, 8 rows per block of 256, so the (B, H, P, N) state streams at memory speed.
// Same math as ssm_recurrence with steps = 1 (which stays as its plain reference).
extern "C" __global__ void ssm_step_warp(const float* __restrict__ x, long long ldx, const float* __restrict__ dt, long long lddt,
                                         const float* __restrict__ bm, long long ldb, const float* __restrict__ cm, long long ldc,
                                         const float* __restrict__ a, const float* __restrict__ dt_bias, const float* __restrict__ dvec, int d_mode,
                                         float* __restrict__ state, float* __restrict__ y, int batch, int heads, int p_dim, int groups, int n_dim,
                                         float dt_min, float dt_max)
{
    long long row_id = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (row_id >= (long long)batch * heads * p_dim) return;
    int p = (int)(row_id % p_dim), h = (int)(row_id / p_dim % heads), b = (int)(row_id / ((long long)p_dim * heads));
    int g = h / (heads / groups);
    float d = dt_of(dt[b * lddt + h], dt_bias[h], dt_min, dt_max);
    float decay = expf(d * a[h]);
    float xv = x[b * ldx + (long long)h * p_dim + p];
    float* s = state + row_id * n_dim;
    const float* bg = bm + b * ldb + (long long)g * n_dim;
    const float* cg = cm + b * ldc + (long long)g * n_dim;
    float part = 0.0f;
    for (int n = lane; n < n_dim; n += 32)
    {
        float sv = decay * s[n] + d * xv * bg[n];
        s[n] = sv;
        part += sv * cg[n];
    }
    for (int offset = 16; offset > 0; offset >>= 1) part += __shfl_xor_sync(0xffffffffu, part, offset);
    if (lane == 0)
    {
        float skip = d_mode == 1 ? dvec[h] : d_mode == 2 ? dvec[(long long)h * p_dim + p] : 0.0f;
        y[row_id] = part + skip * xv;
    }
}
