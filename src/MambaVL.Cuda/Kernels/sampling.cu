// The next token on the device (one block of 1024 threads), the same chain and order as the host Sampler: repetition
// penalty; greedy = the best (logit, then lower id); else top-k by a 4-pass radix select on the logits' order keys (ties
// at the cut taken in id order), a bitonic sort of the k kept, then top-p, min-p, temperature and the draw on them in
// the host's sequence (double-precision weights). Only the id (4 bytes) goes back to the host.
#define SAMPLE_THREADS 1024
#define SAMPLE_MAX_K 1024

// Ascending key = ascending logit; NaN below everything (the host orders NaN last)
__device__ __forceinline__ unsigned int order_key(float f)
{
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0u;
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Larger = earlier in the host's candidate order: higher logit, then lower id
__device__ __forceinline__ unsigned long long rank_key(float f, int id)
{
    return ((unsigned long long)order_key(f) << 32) | (unsigned long long)(0xffffffffu - (unsigned int)id);
}

__device__ __forceinline__ int id_of(unsigned long long key) { return (int)(0xffffffffu - (unsigned int)(key & 0xffffffffu)); }

__device__ unsigned long long block_max_u64(unsigned long long v, unsigned long long* shared)
{
    for (int offset = 16; offset > 0; offset >>= 1) { unsigned long long o = __shfl_xor_sync(0xffffffffu, v, offset); v = o > v ? o : v; }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (threadIdx.x == 0)
    {
        unsigned long long best = 0;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) best = shared[w] > best ? shared[w] : best;
        shared[0] = best;
    }
    __syncthreads();
    return shared[0];
}

// The k-th largest order key (T) and how many of the keys equal to T are kept (the rest of k are above T).
__device__ void radix_select(const float* work, int vocab, int k, unsigned int* hist, unsigned int* shared_out, unsigned int* t_out, unsigned int* need_out)
{
    unsigned int prefix = 0, mask = 0, remaining = (unsigned int)k;
    for (int shift = 24; shift >= 0; shift -= 8)
    {
        for (int i = threadIdx.x; i < 256; i += blockDim.x) hist[i] = 0;
        __syncthreads();
        for (int base = 0; base < vocab; base += blockDim.x)   // every lane of a warp in step, for the match below
        {
            int i = base + threadIdx.x;
            unsigned int key = i < vocab ? order_key(work[i]) : 0u;
            unsigned int digit = (i < vocab && (key & mask) == prefix) ? (key >> shift) & 255u : 256u;
            unsigned int same = __match_any_sync(0xffffffffu, digit);   // lanes with this digit add once, together
            if (digit < 256u && (threadIdx.x & 31) == __ffs(same) - 1) atomicAdd(&hist[digit], (unsigned int)__popc(same));
        }
        __syncthreads();
        if (threadIdx.x == 0)
        {
            unsigned int above = 0;
            int d = 255;
            for (; d > 0; d--) { if (above + hist[d] >= remaining) break; above += hist[d]; }
            shared_out[0] = prefix | ((unsigned int)d << shift);
            shared_out[1] = remaining - above;
        }
        __syncthreads();
        prefix = shared_out[0];
        remaining = shared_out[1];
        mask |= 255u << shift;
        __syncthreads();
    }
    *t_out = prefix;
    *need_out = remaining;
}

// Σ exp(v - max) in the host's order; the max over the first n values.
__device__ double softmax_total(const float* v, int n, float* max_out)
{
    float mx = neg_inf();
    for (int i = 0; i < n; i++) mx = fmaxf(mx, v[i]);
    double total = 0.0;
    for (int i = 0; i < n; i++) total += exp((double)v[i] - (double)mx);
    *max_out = mx;
    return total;
}

// top-p, min-p, temperature and the draw over n candidates sorted best first (one thread, as the host does it).
__device__ int finish_chain(float* v, int* ids, int n, float temperature, float top_p, float min_p, double uniform)
{
    float mx;
    if (top_p < 1.0f && n > 1)
    {
        double total = softmax_total(v, n, &mx), cumulative = 0.0, threshold = (double)top_p * total;
        for (int i = 0; i < n; i++)
        {
            cumulative += exp((double)v[i] - (double)mx);
            if (cumulative >= threshold) { n = i + 1; break; }
        }
    }
    if (min_p > 0.0f && n > 1)
    {
        mx = neg_inf();
        for (int i = 0; i < n; i++) mx = fmaxf(mx, v[i]);
        float min_logit = mx + logf(min_p);
        int kept = 0;
        for (int i = 0; i < n; i++) if (v[i] >= min_logit) { v[kept] = v[i]; ids[kept] = ids[i]; kept++; }
        n = kept > 1 ? kept : 1;
    }
    if (temperature != 1.0f) for (int i = 0; i < n; i++) v[i] = v[i] / temperature;
    double total = softmax_total(v, n, &mx), target = uniform * total, cumulative = 0.0;
    for (int i = 0; i < n; i++)
    {
        cumulative += exp((double)v[i] - (double)mx);
        if (target < cumulative) return ids[i];
    }
    return ids[n - 1];
}

// logits: one row of `vocab` F32; work: `vocab` F32 scratch; penalized: distinct ids. out: the id.
extern "C" __global__ void __launch_bounds__(SAMPLE_THREADS) sample_token(const float* __restrict__ logits, float* __restrict__ work, int vocab,
    const int* __restrict__ penalized, int n_penalized, float penalty, float temperature, int top_k, float top_p, float min_p,
    double uniform, int* __restrict__ out)
{
    __shared__ unsigned long long cand[SAMPLE_MAX_K];
    __shared__ float values[SAMPLE_MAX_K];
    __shared__ int ids[SAMPLE_MAX_K];
    __shared__ unsigned int counts[SAMPLE_THREADS];
    __shared__ unsigned int hist[256];
    __shared__ unsigned int scalars[3];
    __shared__ unsigned long long best[32];
    int tid = threadIdx.x;
    for (int i = tid; i < vocab; i += blockDim.x) work[i] = logits[i];
    __syncthreads();
    for (int j = tid; j < n_penalized; j += blockDim.x)
    {
        float v = work[penalized[j]];
        work[penalized[j]] = v <= 0.0f ? v * penalty : v / penalty;
    }
    __syncthreads();
    if (temperature <= 0.0f)
    {
        unsigned long long b = 0;
        for (int i = tid; i < vocab; i += blockDim.x) { unsigned long long r = rank_key(work[i], i); b = r > b ? r : b; }
        b = block_max_u64(b, best);
        if (tid == 0) *out = id_of(b);
        return;
    }
    unsigned int t, need;
    radix_select(work, vocab, top_k, hist, scalars, &t, &need);
    if (tid == 0) scalars[2] = 0;
    int chunk = (vocab + blockDim.x - 1) / blockDim.x, lo = min(vocab, tid * chunk), hi = min(vocab, lo + chunk);
    unsigned int equal = 0;
    __syncthreads();
    for (int i = lo; i < hi; i++)
    {
        unsigned int key = order_key(work[i]);
        if (key > t) cand[atomicAdd(&scalars[2], 1u)] = rank_key(work[i], i);
        else if (key == t) equal++;
    }
    counts[tid] = equal;
    __syncthreads();
    if (tid == 0) { unsigned int run = 0; for (int i = 0; i < (int)blockDim.x; i++) { unsigned int c = counts[i]; counts[i] = run; run += c; } }
    __syncthreads();
    unsigned int rank = counts[tid];   // ties at the cut: the lowest ids first, as the host's order
    for (int i = lo; i < hi && rank < need; i++)
        if (order_key(work[i]) == t) { cand[atomicAdd(&scalars[2], 1u)] = rank_key(work[i], i); rank++; }
    __syncthreads();
    int size = 1;
    while (size < top_k) size <<= 1;
    for (int i = tid; i < size; i += blockDim.x) if (i >= top_k) cand[i] = 0ull;
    __syncthreads();
    for (int k2 = 2; k2 <= size; k2 <<= 1)      // bitonic sort, descending
        for (int j = k2 >> 1; j > 0; j >>= 1)
        {
            for (int i = tid; i < size; i += blockDim.x)
            {
                int partner = i ^ j;
                if (partner > i)
                {
                    unsigned long long a = cand[i], b = cand[partner];
                    if (((i & k2) == 0) ? a < b : a > b) { cand[i] = b; cand[partner] = a; }
                }
            }
            __syncthreads();
        }
    for (int i = tid; i < top_k; i += blockDim.x) { ids[i] = id_of(cand[i]); values[i] = work[ids[i]]; }
    __syncthreads();
    if (tid == 0) *out = finish_chain(values, ids, top_k, temperature, top_p, min_p, uniform);
}
