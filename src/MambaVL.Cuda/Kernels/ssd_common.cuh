// The pieces of the chunked SSD forward shared by the fused scan (ssd.cu) and the chunk-parallel one (ssd_parallel.cu):
// the chunk size, bf16 hi/lo splits, the bf16x3 MMA, its fragment loads (plain and by ldmatrix) and exp2.

#define SSD_Q 64    // tokens per chunk: the block's unit of work (the model's chunk size does not change the result)
#define SSD_QW 36   // 32-bit words per row of a [.][Q] bf16 tile: Q/2 + 4, so fragment loads hit 32 distinct banks

// F32 → BF16 by one cvt (round to nearest even, as common.cuh's f32_to_bf16_bits for finite values; a NaN becomes the
// canonical NaN here, where that one keeps the payload as torch does): the hi/lo splits, where a NaN stays a NaN either way
__device__ __forceinline__ unsigned short f32_to_bf16(float v)
{
    unsigned short r;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(v));
    return r;
}

// (v0, v1) → hi = bf16x2 rounded (v0 in the low half, as the MMA fragments pair columns), lo = bf16x2 of the remainders
__device__ __forceinline__ void split_pair(float v0, float v1, unsigned& hi, unsigned& lo)
{
    hi = bf16x2_rn(v0, v1);
    float h0 = __uint_as_float(hi << 16), h1 = __uint_as_float(hi & 0xffff0000u);
    lo = bf16x2_rn(v0 - h0, v1 - h1);
}

// A fragment (16×16, row-major) and B fragment (16×8, k-major), each as hi and lo bf16 pairs
struct FragA { unsigned hi[4], lo[4]; };
struct FragB { unsigned hi[2], lo[2]; };

// d (16×8) += a·b in bf16x3: the small cross terms first, then the main one
__device__ __forceinline__ void mma3(float* d, const FragA& a, const FragB& b)
{
    mma_bf16(d, a.lo[0], a.lo[1], a.lo[2], a.lo[3], b.hi[0], b.hi[1]);
    mma_bf16(d, a.hi[0], a.hi[1], a.hi[2], a.hi[3], b.lo[0], b.lo[1]);
    mma_bf16(d, a.hi[0], a.hi[1], a.hi[2], a.hi[3], b.hi[0], b.hi[1]);
}

// Fragments from word tiles stored [row][k] (k contiguous, `stride` words per row): lane (g = lane/4, t = lane%4) holds
// A rows r0+g and r0+g+8 at k words kw+t and kw+4+t; B column (row of the tile) n0+g at the same k words.
__device__ __forceinline__ void load_a(FragA& f, const unsigned* hi, const unsigned* lo, int stride, int r0, int kw, int g, int t)
{
    int i0 = (r0 + g) * stride + kw + t, i1 = i0 + 8 * stride;
    f.hi[0] = hi[i0]; f.hi[1] = hi[i1]; f.hi[2] = hi[i0 + 4]; f.hi[3] = hi[i1 + 4];
    f.lo[0] = lo[i0]; f.lo[1] = lo[i1]; f.lo[2] = lo[i0 + 4]; f.lo[3] = lo[i1 + 4];
}

__device__ __forceinline__ void load_b(FragB& f, const unsigned* hi, const unsigned* lo, int stride, int n0, int kw, int g, int t)
{
    int i = (n0 + g) * stride + kw + t;
    f.hi[0] = hi[i]; f.hi[1] = hi[i + 4];
    f.lo[0] = lo[i]; f.lo[1] = lo[i + 4];
}

// The same fragments by ldmatrix (16-byte rows: stride and kw multiples of 4 words, tiles 16-byte aligned), one
// instruction per plane instead of four: lane l addresses row l & 7 of 8×8 matrix l >> 3.
__device__ __forceinline__ void ldsm_x4(unsigned* r, const unsigned* p)
{
    unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}

// A (rows r0.., k words kw..): matrices (rows +0, words +0), (+8, +0), (+0, +4), (+8, +4) → a0..a3 as load_a
__device__ __forceinline__ void ldsm_a(FragA& f, const unsigned* hi, const unsigned* lo, int stride, int r0, int kw)
{
    const int l = threadIdx.x & 31, off = (r0 + (l & 7) + 8 * ((l >> 3) & 1)) * stride + kw + 4 * (l >> 4);
    ldsm_x4(f.hi, hi + off);
    ldsm_x4(f.lo, lo + off);
}

// B fragments of the two column tiles n0.. and n0 + 8..: matrices (rows +0, words +0), (+0, +4), (+8, +0), (+8, +4)
__device__ __forceinline__ void ldsm_b2(FragB& f0, FragB& f1, const unsigned* hi, const unsigned* lo, int stride, int n0, int kw)
{
    const int l = threadIdx.x & 31, off = (n0 + (l & 7) + 8 * (l >> 4)) * stride + kw + 4 * ((l >> 3) & 1);
    unsigned h[4], w[4];
    ldsm_x4(h, hi + off);
    ldsm_x4(w, lo + off);
    f0.hi[0] = h[0]; f0.hi[1] = h[1]; f1.hi[0] = h[2]; f1.hi[1] = h[3];
    f0.lo[0] = w[0]; f0.lo[1] = w[1]; f1.lo[0] = w[2]; f1.lo[1] = w[3];
}

// acc[nt] += a · B over NT 8-column tiles from n0 (NT even), B's fragments by ldmatrix at k words kw: one A row tile
// against a run of column tiles, the inner loop of the cross scores and both parts of the chunk scan
template <int NT>
__device__ __forceinline__ void mma3_row(float (*acc)[4], const FragA& a, const unsigned* b_hi, const unsigned* b_lo, int stride, int n0, int kw)
{
    #pragma unroll
    for (int nt = 0; nt < NT; nt += 2)
    {
        FragB fb[2];
        ldsm_b2(fb[0], fb[1], b_hi, b_lo, stride, n0 + 8 * nt, kw);
        mma3(acc[nt], a, fb[0]);
        mma3(acc[nt + 1], a, fb[1]);
    }
}

// 2^v by the SFU (ex2.approx, relative error ~2^-22; −∞ or very negative → 0): the decays, with the cumsums kept in log2 units
__device__ __forceinline__ float ssd_exp2(float v)
{
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
    return r;
}
