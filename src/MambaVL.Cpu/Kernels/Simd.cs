// Small SIMD building blocks shared by the SSM, conv and norm kernels: a register-blocked "row times matrix"
// accumulation (the inner loop of every small GEMM in the chunked scan) and an in-place SiLU.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MambaVL.Cpu.Kernels;

internal static unsafe class Simd
{
    /// <summary>
    /// c[0..n) += Σ_{k&lt;kCount} a[k] · b[k·ldb + 0..n). a (kCount); b (kCount, ≥n) with row stride ldb; c (n).
    /// Keeps 64 (then 16) columns of c in registers across the whole k loop.
    /// </summary>
    public static void AccumulateRow(float* a, int kCount, float* b, long ldb, float* c, int n)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64)
            {
                var c0 = Vector512.Load(c + j); var c1 = Vector512.Load(c + j + 16);
                var c2 = Vector512.Load(c + j + 32); var c3 = Vector512.Load(c + j + 48);
                float* br = b + j;
                for (int k = 0; k < kCount; k++, br += ldb)
                {
                    var s = Vector512.Create(a[k]);
                    c0 = Vector512.FusedMultiplyAdd(s, Vector512.Load(br), c0);
                    c1 = Vector512.FusedMultiplyAdd(s, Vector512.Load(br + 16), c1);
                    c2 = Vector512.FusedMultiplyAdd(s, Vector512.Load(br + 32), c2);
                    c3 = Vector512.FusedMultiplyAdd(s, Vector512.Load(br + 48), c3);
                }
                c0.Store(c + j); c1.Store(c + j + 16); c2.Store(c + j + 32); c3.Store(c + j + 48);
            }
            for (; j + 16 <= n; j += 16)
            {
                var c0 = Vector512.Load(c + j);
                float* br = b + j;
                for (int k = 0; k < kCount; k++, br += ldb) c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[k]), Vector512.Load(br), c0);
                c0.Store(c + j);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= n; j += 8)
            {
                var c0 = Vector256.Load(c + j);
                float* br = b + j;
                for (int k = 0; k < kCount; k++, br += ldb) c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[k]), Vector256.Load(br), c0);
                c0.Store(c + j);
            }
        }
        for (; j < n; j++)
        {
            float acc = c[j];
            float* br = b + j;
            for (int k = 0; k < kCount; k++, br += ldb) acc = MathF.FusedMultiplyAdd(a[k], *br, acc);
            c[j] = acc;
        }
    }

    /// <summary>
    /// Four rows at once: c[r·ldc + 0..n) += Σ_{k&lt;kCount} a[r·lda + k] · b[k·ldb + 0..n) for r in 0..3. Each row of b
    /// is loaded once for all four rows of c (16 accumulators), so the loop is bound by FMAs, not by loads.
    /// </summary>
    public static void AccumulateRows4(float* a, long lda, int kCount, float* b, long ldb, float* c, long ldc, int n)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
            for (; j + 64 <= n; j += 64) Rows4x64(a0, a1, a2, a3, kCount, b + j, ldb, c + j, ldc);
        }
        if (j < n)
            for (int r = 0; r < 4; r++) AccumulateRowTail(a + r * lda, kCount, b, ldb, c + r * ldc, j, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4x64(float* a0, float* a1, float* a2, float* a3, int kCount, float* br, long ldb, float* c, long ldc)
    {
        float* c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc;
        var r00 = Vector512.Load(c); var r01 = Vector512.Load(c + 16); var r02 = Vector512.Load(c + 32); var r03 = Vector512.Load(c + 48);
        var r10 = Vector512.Load(c1); var r11 = Vector512.Load(c1 + 16); var r12 = Vector512.Load(c1 + 32); var r13 = Vector512.Load(c1 + 48);
        var r20 = Vector512.Load(c2); var r21 = Vector512.Load(c2 + 16); var r22 = Vector512.Load(c2 + 32); var r23 = Vector512.Load(c2 + 48);
        var r30 = Vector512.Load(c3); var r31 = Vector512.Load(c3 + 16); var r32 = Vector512.Load(c3 + 32); var r33 = Vector512.Load(c3 + 48);
        for (int k = 0; k < kCount; k++, br += ldb)
        {
            var b0 = Vector512.Load(br); var b1 = Vector512.Load(br + 16); var b2 = Vector512.Load(br + 32); var b3 = Vector512.Load(br + 48);
            var s = Vector512.Create(a0[k]);
            r00 = Vector512.FusedMultiplyAdd(s, b0, r00); r01 = Vector512.FusedMultiplyAdd(s, b1, r01); r02 = Vector512.FusedMultiplyAdd(s, b2, r02); r03 = Vector512.FusedMultiplyAdd(s, b3, r03);
            s = Vector512.Create(a1[k]);
            r10 = Vector512.FusedMultiplyAdd(s, b0, r10); r11 = Vector512.FusedMultiplyAdd(s, b1, r11); r12 = Vector512.FusedMultiplyAdd(s, b2, r12); r13 = Vector512.FusedMultiplyAdd(s, b3, r13);
            s = Vector512.Create(a2[k]);
            r20 = Vector512.FusedMultiplyAdd(s, b0, r20); r21 = Vector512.FusedMultiplyAdd(s, b1, r21); r22 = Vector512.FusedMultiplyAdd(s, b2, r22); r23 = Vector512.FusedMultiplyAdd(s, b3, r23);
            s = Vector512.Create(a3[k]);
            r30 = Vector512.FusedMultiplyAdd(s, b0, r30); r31 = Vector512.FusedMultiplyAdd(s, b1, r31); r32 = Vector512.FusedMultiplyAdd(s, b2, r32); r33 = Vector512.FusedMultiplyAdd(s, b3, r33);
        }
        r00.Store(c); r01.Store(c + 16); r02.Store(c + 32); r03.Store(c + 48);
        r10.Store(c1); r11.Store(c1 + 16); r12.Store(c1 + 32); r13.Store(c1 + 48);
        r20.Store(c2); r21.Store(c2 + 16); r22.Store(c2 + 32); r23.Store(c2 + 48);
        r30.Store(c3); r31.Store(c3 + 16); r32.Store(c3 + 32); r33.Store(c3 + 48);
    }

    // Columns [j0, n) of one row through the single-row kernel.
    private static void AccumulateRowTail(float* a, int kCount, float* b, long ldb, float* c, int j0, int n) =>
        AccumulateRow(a, kCount, b + j0, ldb, c + j0, n - j0);

    /// <summary>v = v · sigmoid(v), using <paramref name="scratch"/> (≥ v.Length): two passes instead of negate/exp/add/divide.</summary>
    public static void SiluInPlace(Span<float> v, Span<float> scratch)
    {
        var t = scratch[..v.Length];
        TensorPrimitives.Sigmoid(v, t);
        TensorPrimitives.Multiply(v, t, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<float> Row(float* p, int n) => new(p, n);
}
