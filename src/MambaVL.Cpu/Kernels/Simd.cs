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
