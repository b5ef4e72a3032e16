// Softmax attention in three plain passes (correct first; the fused flash kernel comes later): scores = q·kᵀ·scale with
// the causal mask (query i of T sees keys up to S − T + i), a row softmax, then P·V. Query head h reads kv head
// h / (H / Hkv). q rows (T, H·P) at stride ldq; k, v rows (S, Hkv·P) at strides ldk, ldv; scores (T, H, S) scratch.

extern "C" __global__ void attention_scores(const float* __restrict__ q, long long ldq, const float* __restrict__ k, long long ldk,
                                            float* __restrict__ scores, int t_len, int s_len, int heads, int kv_heads, int p,
                                            float scale, int causal)
{
    long long n = (long long)t_len * heads * s_len;
    int rep = heads / kv_heads;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < n; idx += (long long)gridDim.x * blockDim.x)
    {
        int j = (int)(idx % s_len), h = (int)(idx / s_len % heads), i = (int)(idx / s_len / heads);
        if (causal && j > s_len - t_len + i) { scores[idx] = neg_inf(); continue; }
        const float* qr = q + i * ldq + (long long)h * p;
        const float* kr = k + j * ldk + (long long)(h / rep) * p;
        float dot = 0.0f;
        for (int c = 0; c < p; c++) dot += qr[c] * kr[c];
        scores[idx] = dot * scale;
    }
}

// In place over each row of s_len: exp(x − max) / Σ; one block per row
extern "C" __global__ void softmax_rows(float* __restrict__ scores, int s_len)
{
    __shared__ float shared[32];
    float* row = scores + (long long)blockIdx.x * s_len;
    float m = neg_inf();
    for (int j = threadIdx.x; j < s_len; j += blockDim.x) m = fmaxf(m, row[j]);
    for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, offset));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) shared[warp] = m;
    __syncthreads();
    if (threadIdx.x == 0)
    {
        float all = neg_inf();
        for (int w = 0; w < warps; w++) all = fmaxf(all, shared[w]);
        shared[0] = all;
    }
    __syncthreads();
    m = shared[0];
    __syncthreads();
    float sum = 0.0f;
    for (int j = threadIdx.x; j < s_len; j += blockDim.x) { float e = expf(row[j] - m); row[j] = e; sum += e; }
    float inv = 1.0f / block_sum(sum, shared);
    for (int j = threadIdx.x; j < s_len; j += blockDim.x) row[j] *= inv;
}

// out (T, H, P) = Σ_j probs[i, h, j] · v[j, kvh, c]; one thread per output element
extern "C" __global__ void attention_output(const float* __restrict__ probs, const float* __restrict__ v, long long ldv,
                                            float* __restrict__ out, int t_len, int s_len, int heads, int kv_heads, int p)
{
    long long n = (long long)t_len * heads * p;
    int rep = heads / kv_heads;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < n; idx += (long long)gridDim.x * blockDim.x)
    {
        int c = (int)(idx % p), h = (int)(idx / p % heads), i = (int)(idx / p / heads);
        const float* pr = probs + ((long long)i * heads + h) * s_len;
        const float* vc = v + (long long)(h / rep) * p + c;
        float acc = 0.0f;
        for (int j = 0; j < s_len; j++) acc += pr[j] * vc[j * ldv];
        out[idx] = acc;
    }
}
