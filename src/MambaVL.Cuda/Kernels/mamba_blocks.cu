// The decode step of a whole stack of pre-norm Mamba-2 blocks as ONE persistent kernel (IBackend.MambaBlocksStep, one
// sequence). Launched as separate kernels, every block costs four launches whose ramps and tails leave DRAM idle at each
// boundary, and the latency-bound mixer step between the two GEMVs streams no weights at all: batch-1 decode reached
// 57 % of the weight floor. Here one block per SM runs every layer, with grid barriers between the phases, and each warp
// streams ITS weight cells (its columns of in_proj, then of out_proj, layer after layer) through one cp.async ring that
// never stops: while the barriers, the norm and the mixer step run, the next product's weights are already in flight.
//
// Per layer l, for every block (residual: the stream before h_{l-1} is added; hbuf: h_{l-1}):
//   0. xs = round_bf16(RMSNorm(residual + hbuf) · norm_l), each block for itself (D floats from L2), as gp_stage_norm;
//   1. in_proj: each warp's columns of zx = xs · in_wᵀ (+ bias), from its ring (GemvRun, the slots of gemv_ring);
//   barrier;
//   2. the mixer step, head h on block h mod grid (ms_head_step: conv, SSM state, g = y · silu(z) and Σ g² per head);
//      the blocks without a head add hbuf (h_{l-1}) to residual (every block read both in 0.);
//   barrier;
//   3. out_proj: xs = round_bf16(g · gate scale · gate_w) (gp_stage_gate), each warp's columns of hbuf = xs · out_wᵀ;
//      then the last block shifts the B/C conv history (every head read it in 2.);
//   barrier (not after the last layer: the kernel's end orders it).
// The result equals MambaBlocksStep's composition up to the order of the block norm's sum of squares (256 threads here,
// add_rms_norm's 1024 there); the GEMV sums, the step and the gate norm are the same functions in the same order.
// The products' consumer: gemv_ring's sums on the CUDA cores (MbDotTake), or the tensor cores (blocks_mma.cuh: its
// GEMV sums in another order, so the result differs from the composition's by rounding).
// Needs: one sequence, BF16 in_proj / out_proj with D and Dn multiples of 256, N % 4 == 0 (float4 state rows), every
// block resident at once (grid ≤ SMs, one block each: CudaBackend checks), conv width ≤ 9, a gate group of whole heads.
// The mixer step runs on the first MS_THREADS (256) threads of a block of 8 or 16 warps: its barriers name only them.
#define MS_SYNC() asm volatile("bar.sync 1, 256;" ::: "memory")
#include "mamba_step.cuh"
#include "gemv_ring.cuh"

// One block's tensors, as CudaBackend.BlocksTable writes them (13 device addresses, in this order).
struct MbLayer
{
    const float* norm;             // (D) the block's RMSNorm weight
    const unsigned short* in_w;    // (Nin, D) BF16
    const float* in_b;             // (Nin) or null
    const float* conv_w;           // (C, W)
    const float* conv_b;           // (C) or null
    float* conv_state;             // (C, W-1)
    const float* a;                // (H) −exp(A_log)
    const float* dt_bias;          // (H)
    const float* dvec;             // (H) or (H, P) by d_mode, or null
    const float* gate_w;           // (Dn) the gated RMSNorm's weight
    float* ssm_state;              // (H, P, N)
    const unsigned short* out_w;   // (D, Dn) BF16
    const float* out_b;            // (D) or null
};

// The shapes, the same for every layer.
struct MbDims
{
    int d, n_in, heads, p_dim, groups, n_dim, width, gate_group, d_mode, layers;
    float norm_eps, gate_eps, dt_min, dt_max;
};

// Every block of the grid waits here until all have arrived; their writes before it are visible after it. bar holds a
// 64-bit count of arrivals that only grows (every launch adds a multiple of the grid): a block adds its arrival with
// release semantics and waits, acquiring, until the count reaches the next multiple of the grid. One atomic per block
// and no reset (the last arriver used to reset a counter and bump a generation: two more round trips on the critical
// path). A wait of ~2 s means a block never arrived: trap, so the launch fails with an error instead of hanging.
__device__ __forceinline__ void mb_grid_sync(unsigned long long* bar)
{
    __syncthreads();
    if (threadIdx.x == 0)
    {
        unsigned long long arrived, now;
        asm volatile("atom.add.release.gpu.global.u64 %0, [%1], 1;" : "=l"(arrived) : "l"(bar) : "memory");
        const unsigned long long target = (arrived / gridDim.x + 1) * gridDim.x;
        long long polls = 0;
        for (;;)
        {
            asm volatile("ld.acquire.gpu.global.u64 %0, [%1];" : "=l"(now) : "l"(bar) : "memory");
            if (now >= target) break;
            if (++polls > (1LL << 22)) __trap();
            if (polls > 64) __nanosleep(32);
        }
    }
    __syncthreads();
}

// The producer side of a warp's ring: the source of each next 16-byte cell of the lane, layer by layer its in_proj
// slots then its out_proj slots (in_off / out_off: the warp's first column, in uint4 cells); null past the last layer.
struct MbStream
{
    const MbLayer* layers;
    int count, slots_in, slots_out, layer, r;
    long long in_off, out_off;
    const uint4* src_in;
    const uint4* src_out;

    __device__ __forceinline__ MbStream(const MbLayer* layers_, int count_, int slots_in_, int slots_out_, long long in_off_, long long out_off_)
        : layers(layers_), count(count_), slots_in(slots_in_), slots_out(slots_out_), layer(0), r(0), in_off(in_off_), out_off(out_off_)
    {
        bind();
    }

    __device__ __forceinline__ void bind()
    {
        if (layer >= count) return;
        src_in = (const uint4*)__ldg((const unsigned long long*)&layers[layer].in_w) + in_off;
        src_out = (const uint4*)__ldg((const unsigned long long*)&layers[layer].out_w) + out_off;
    }

    __device__ __forceinline__ const uint4* next()
    {
        if (layer >= count || slots_in + slots_out == 0) return nullptr;
        const uint4* p = r < slots_in ? src_in + 32 * r : src_out + 32 * (r - slots_in);
        if (++r == slots_in + slots_out)
        {
            r = 0;
            layer++;
            bind();
        }
        return p;
    }
};

// One product's slots of the warp, from its ring of DEPTH cells with the DEPTH - U slots after the next one to consume
// in flight (cells head .. head + DEPTH - U - 1, mod DEPTH; one commit group per slot). A round issues U more into the U
// cells consumed last, waits for the oldest U and hands their values, in order, to take.round; the last slots go one by
// one (take.one); then take.end. Take: MbDotTake (gemv_ring's sums) or MbMmaTake (blocks_mma.cuh, the tensor cores).
template <int DEPTH, int U, class Take>
__device__ __forceinline__ void mb_ring_walk(MbStream& stream, int& head, uint4* cells, int slots, Take take)
{
    const int lane = threadIdx.x & 31;
    int i = 0;
    for (; i + U <= slots; i += U)
    {
        int c = head - U + (head < U ? DEPTH : 0);   // the first free cell
#pragma unroll
        for (int u = 0; u < U; u++)
        {
            const uint4* src = stream.next();
            if (src) cp_async16(cells + 32 * c, src + lane);
            cp_async_commit();
            if (++c == DEPTH) c = 0;
        }
        cp_async_wait<DEPTH - U>();
        uint4 v[U];
#pragma unroll
        for (int u = 0; u < U; u++)
        {
            v[u] = cells[32 * c];   // c wrapped round to head: the oldest cells, in order
            if (++c == DEPTH) c = 0;
        }
        take.round(v);
        head = c;
    }
    for (; i < slots; i++)
    {
        const uint4* src = stream.next();
        int c = head - U + (head < U ? DEPTH : 0);
        if (src) cp_async16(cells + 32 * c, src + lane);
        cp_async_commit();
        cp_async_wait<DEPTH - U>();
        take.one(cells[32 * head]);
        if (++head == DEPTH) head = 0;
    }
    take.end();
}

// A warp's share of one product for gemv_ring's sums: its own run of whole columns col0 .. (as even as integers allow,
// the same for every layer), K / 256 slots each, contiguous in w from cell `offset` (uint4)
struct MbRingShare
{
    long long col0, offset;
    int slots;

    __device__ __forceinline__ MbRingShare(long long n, int k, int warps_per_block)
    {
        const long long warps = (long long)gridDim.x * warps_per_block, wid = (long long)blockIdx.x * warps_per_block + (threadIdx.x >> 5);
        col0 = wid * n / warps;
        slots = (int)((wid + 1) * n / warps - col0) * (k >> 8);
        offset = col0 * (k >> 3);
    }
};

// The ring's consumer on the CUDA cores: a round's U dot products as independent chains, added in order
// (GemvRun::add_dot: gemv_ring's sums): one slot at a time, a warp's dependent chain (wait, shared loads, eight
// multiply-adds) left the schedulers idle (ncu: 0.27 issues per cycle, 8 warps per SM).
template <int U>
struct MbDotTake
{
    GemvRun run;
    const float* xs;
    const float* __restrict__ bias;
    float* __restrict__ y;

    __device__ __forceinline__ MbDotTake(const MbRingShare& share, int k, const float* xs_, const float* bias_, float* y_)
        : run(1, 0, k, share.col0), xs(xs_), bias(bias_), y(y_) {}

    __device__ __forceinline__ void round(const uint4* v)
    {
        float dots[U];
        int ks = run.kslot;
#pragma unroll
        for (int u = 0; u < U; u++)
        {
            float wf[8];
            widen_bf16x8(v[u], wf);
            dots[u] = gp_dot8(xs + (ks * 32 + run.lane) * 8, wf);
            if (++ks == run.per_col) ks = 0;
        }
#pragma unroll
        for (int u = 0; u < U; u++) run.add_dot(dots[u], bias, y);
    }

    __device__ __forceinline__ void one(uint4 v)
    {
        float wf[8];
        widen_bf16x8(v, wf);
        run.add_dot(gp_dot8(xs + (run.kslot * 32 + run.lane) * 8, wf), bias, y);
    }

    __device__ __forceinline__ void end() {}
};

// The products on the CUDA cores (mamba_blocks{8,16}x*): xs the F32 x as staged; no shared memory of their own
struct MbRingProducts
{
    MbRingShare in, out;
    float* xs;

    __device__ __forceinline__ MbRingProducts(const MbDims& dm, int warps_per_block, float* shared)
        : in(dm.n_in, dm.d, warps_per_block), out(dm.d, dm.heads * dm.p_dim, warps_per_block), xs(shared) {}

    __device__ __forceinline__ void stage(int) {}

    template <int U>
    __device__ __forceinline__ MbDotTake<U> take(const MbRingShare& share, int k, const float* bias, float* y)
    {
        return MbDotTake<U>(share, k, xs, bias, y);
    }
};

#include "blocks_mma.cuh"

// Phase timing (CudaBackend.BlocksTrace; trace null: off): thread 0 of the first and of the last block stores its SM
// clock at MB_TRACE_POINTS points of every layer, trace (2, layers, MB_TRACE_POINTS); the bench prints the phases.
#define MB_TRACE_POINTS 8
__device__ __forceinline__ void mb_stamp(unsigned long long* trace, int layers, int l, int point)
{
    if (trace == nullptr || threadIdx.x != 0 || (blockIdx.x != 0 && blockIdx.x != gridDim.x - 1)) return;
    int which = blockIdx.x == 0 ? 0 : 1;
    trace[((long long)which * layers + l) * MB_TRACE_POINTS + point] = clock64();
}

// residual += h_{l-1} during the step phase, by the blocks the step leaves idle (heads < grid), each a slice; by the
// last block alone when every block steps a head. Every block read both in the norm phase, before the barrier.
__device__ __forceinline__ void mb_add_residual(float* __restrict__ residual, const float* __restrict__ hbuf, int d, int heads)
{
    int idle = (int)gridDim.x - heads, part, parts;
    if (idle > 0) { if ((int)blockIdx.x < heads) return; part = blockIdx.x - heads; parts = idle; }
    else { if (blockIdx.x != gridDim.x - 1) return; part = 0; parts = 1; }
    for (int i = part * blockDim.x + threadIdx.x; i < d; i += parts * blockDim.x) residual[i] = __ldcg(residual + i) + __ldcg(hbuf + i);
}

template <int WARPS, int DEPTH, int U, class Products>
__device__ __forceinline__ void mamba_blocks_body(const MbLayer* __restrict__ layers, MbDims dm, float* __restrict__ residual,
                                                  float* __restrict__ hbuf, float* __restrict__ zx, float* __restrict__ gbuf,
                                                  float* __restrict__ partials, unsigned long long* __restrict__ bar, unsigned long long* trace)
{
    // shared: the rings (WARPS, DEPTH, 32) uint4, then the products' own (Products: MbMmaProducts' partial sums) and
    // xs: max(D, Dn) floats, also the step's 2N + 2P
    extern __shared__ uint4 mb_shared[];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    uint4* cells = mb_shared + warp * DEPTH * 32 + lane;
    __shared__ float red[32];
    const int dn = dm.heads * dm.p_dim, gn = dm.groups * dm.n_dim;
    const int last = gridDim.x - 1;

    // this warp's share of each product's weights (the same for every layer): one stream, in_proj's then out_proj's
    Products products(dm, WARPS, (float*)(mb_shared + (WARPS * DEPTH * 32)));
    float* xs = products.xs;
    MbStream stream(layers, dm.layers, products.in.slots, products.out.slots, products.in.offset, products.out.offset);

    // the first DEPTH - U slots out at once (a commit group each, empty past the end: the count stays uniform)
    int head = 0;
#pragma unroll 1
    for (int s = 0; s < DEPTH - U; s++)
    {
        const uint4* src = stream.next();
        if (src) cp_async16(cells + 32 * s, src + lane);
        cp_async_commit();
    }

    for (int l = 0; l < dm.layers; l++)
    {
        const MbLayer& L = layers[l];
        mb_stamp(trace, dm.layers, l, 0);
        // 0. the block's normalised input
        gp_stage_norm<4>(residual, l > 0 ? hbuf : nullptr, dm.d, L.norm, dm.norm_eps, 1, dm.d, xs, red);
        __syncthreads();
        products.stage(dm.d);
        mb_stamp(trace, dm.layers, l, 1);
        // 1. in_proj
        mb_ring_walk<DEPTH, U>(stream, head, cells, products.in.slots, products.template take<U>(products.in, dm.d, L.in_b, zx));
        mb_stamp(trace, dm.layers, l, 2);
        mb_grid_sync(bar);
        mb_stamp(trace, dm.layers, l, 3);

        // 2. the mixer step; the residual takes h_{l-1}
        const float* z = zx;
        const float* xbc = zx + dn;
        const float* dt = zx + dn + dn + 2 * gn;
        for (int h = blockIdx.x; h < dm.heads && threadIdx.x < MS_THREADS; h += gridDim.x)
            ms_head_step<4>(z, xbc, dt, L.conv_w, L.conv_b, L.conv_state, L.a, L.dt_bias, L.dvec, dm.d_mode, L.ssm_state, gbuf, partials,
                            h, dm.heads, dm.p_dim, dm.groups, dm.n_dim, dm.width, dm.dt_min, dm.dt_max, xs);
        if (l > 0) mb_add_residual(residual, hbuf, dm.d, dm.heads);
        mb_stamp(trace, dm.layers, l, 4);
        mb_grid_sync(bar);
        mb_stamp(trace, dm.layers, l, 5);

        // 3. out_proj over the gate-normed g (xs held the step's B, C, x, z: the barrier ended their use); the B/C
        //    conv history shifts
        gp_stage_gate<8>(gbuf, dn, partials, dm.heads, L.gate_w, dm.gate_group, dm.gate_eps, 1, dn, xs);
        __syncthreads();
        products.stage(dn);
        mb_stamp(trace, dm.layers, l, 6);
        mb_ring_walk<DEPTH, U>(stream, head, cells, products.out.slots, products.template take<U>(products.out, dn, L.out_b, hbuf));
        mb_stamp(trace, dm.layers, l, 7);
        if (blockIdx.x == last) ms_shift_bc(L.conv_state, xbc, dn, gn, dm.width);   // after its columns: off their path
        if (l + 1 < dm.layers) mb_grid_sync(bar);
    }
    cp_async_wait_all();   // nothing left in flight (the stream ended: empty groups)
}

#define MB_ARGS const MbLayer* __restrict__ layers, MbDims dm, float* __restrict__ residual, float* __restrict__ hbuf, \
    float* __restrict__ zx, float* __restrict__ gbuf, float* __restrict__ partials, unsigned long long* __restrict__ bar, unsigned long long* trace

// 8 warps, 48 slots each: 192 KB of rings per SM (~25 MB of weights in flight over 132 SMs), for D, Dn ≤ 5120
extern "C" __global__ void __launch_bounds__(256, 1) mamba_blocks8x48(MB_ARGS) { mamba_blocks_body<8, 48, 4, MbRingProducts>(layers, dm, residual, hbuf, zx, gbuf, partials, bar, trace); }

// 16 warps, 24 slots each: the same bytes in flight, twice the warps to hide the consumers' latency (at most 128 registers)
extern "C" __global__ void __launch_bounds__(512, 1) mamba_blocks16x24(MB_ARGS) { mamba_blocks_body<16, 24, 4, MbRingProducts>(layers, dm, residual, hbuf, zx, gbuf, partials, bar, trace); }

// 16 warps, 12 slots each: wider models (xs up to ~130 KB) or devices with less shared memory
extern "C" __global__ void __launch_bounds__(512, 1) mamba_blocks16x12(MB_ARGS) { mamba_blocks_body<16, 12, 4, MbRingProducts>(layers, dm, residual, hbuf, zx, gbuf, partials, bar, trace); }

// 8 warps, 48 slots each, the products on the tensor cores (blocks_mma.cuh): the rings of mamba_blocks8x48, then the
// partial sums (⌈max(N_in, D) / grid⌉ · 8 floats) before xs
extern "C" __global__ void __launch_bounds__(256, 1) mamba_blocks_mma8x48(MB_ARGS) { mamba_blocks_body<8, 48, 4, MbMmaProducts>(layers, dm, residual, hbuf, zx, gbuf, partials, bar, trace); }

// 8 warps, 24 slots each, on the tensor cores: devices with less shared memory per SM
extern "C" __global__ void __launch_bounds__(256, 1) mamba_blocks_mma8x24(MB_ARGS) { mamba_blocks_body<8, 24, 4, MbMmaProducts>(layers, dm, residual, hbuf, zx, gbuf, partials, bar, trace); }
