// The tensor-core helpers shared by gemv_mma.cu (the batch decode GEMV) and mamba_blocks.cu's tensor-core products
// (blocks_mma.cuh): BF16 packing of F32 pairs and the mma.sync m16n8k16 BF16 → F32 instruction.

// Two F32 → one BF16x2 register, round to nearest even; lo in the low half (the lower k of an MMA fragment pair).
// cvt puts its first source in the high half.
__device__ __forceinline__ unsigned gm_bf16x2(float lo, float hi)
{
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

// d (16 × 8) += A (16 × 16, row-major) · B (16 × 8, column-major): BF16 in, F32 sums
__device__ __forceinline__ void gm_mma(float* d, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
