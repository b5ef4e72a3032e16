// Matrix-vector products for decode (few rows of x): bandwidth bound, so W is streamed exactly once for all rows of x,
// four W rows at a time (converted to F32 in L1 when 16-bit) against up to four x rows, vectorised over K with FMA.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu.Kernels;

public static unsafe class Gemv
{
    /// <summary>y[i, j] = dot(x[i, :], w[j, :]) + bias[j] for i in [0, m), j in [j0, j1). x: (m, k), w: (n, k), y: (m, n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(float* x, int m, int k, void* w, DType wType, int n, float* bias, float* y, int j0, int j1, SimdLevel level)
    {
        // F32 and BF16 rows are read in place (BF16 widened in registers); F16 rows are converted into L1 first.
        if (wType == DType.BF16 && level != SimdLevel.Scalar) RowsOf<BF16Row>(x, m, k, w, wType, n, bias, y, j0, j1, level);
        else RowsOf<F32Row>(x, m, k, w, wType, n, bias, y, j0, j1, level);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsOf<TRow>(float* x, int m, int k, void* w, DType wType, int n, float* bias, float* y, int j0, int j1, SimdLevel level)
        where TRow : struct, IWeightRow
    {
        bool convert = typeof(TRow) == typeof(F32Row) && wType != DType.F32;
        float* converted = convert ? GemmWeights.Scratch(0, 4 * k) : null;
        // BF16 against one x row: x is split once into even and odd elements so rows widen with a shift and a mask.
        float* xPairs = typeof(TRow) == typeof(BF16Row) && m == 1 && level == SimdLevel.Avx512 ? SplitPairs(x, k) : null;
        var ws = stackalloc byte*[4];
        var xs = stackalloc float*[4];
        float* sums = stackalloc float[16];
        int elementSize = wType.Size();
        for (int j = j0; j < j1; j += 4)
        {
            int cols = Math.Min(4, j1 - j);
            for (int c = 0; c < 4; c++)
            {
                int row = j + Math.Min(c, cols - 1);  // missing rows repeat the last one; their sums are dropped
                if (!convert) ws[c] = (byte*)w + (long)row * k * elementSize;
                else { ws[c] = (byte*)(converted + c * k); if (c < cols) GemmWeights.ToFloat(w, wType, (long)row * k, k, (float*)ws[c]); }
            }
            if (m == 1)
            {
                // One x row (batch-1 decode): a kernel with one FMA per weight load, else the FMAs would be the limit.
                if (xPairs != null) Dot1x4Bf16Pairs(x, xPairs, ws, k, 4L * k * elementSize, sums);
                else Dot1x4<TRow>(x, ws, k, convert ? 0 : 4L * k * elementSize, sums, level);
                for (int c = 0; c < cols; c++) y[j + c] = sums[c] + (bias == null ? 0f : bias[j + c]);
                continue;
            }
            for (int i = 0; i < m; i += 4)
            {
                int rows = Math.Min(4, m - i);
                for (int r = 0; r < 4; r++) xs[r] = x + (long)(i + Math.Min(r, rows - 1)) * k;
                Dot4x4<TRow>(xs, ws, k, convert ? 0 : 4L * k * elementSize, sums, level);
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        y[(long)(i + r) * n + j + c] = sums[r * 4 + c] + (bias == null ? 0f : bias[j + c]);
            }
        }
    }

    // sums[r * 4 + c] = dot(xs[r], ws[c]) over k elements.
    // ahead: bytes from each row to the same place in the next block of four rows, prefetched while this block is summed
    // (four interleaved row streams are too short for the hardware prefetcher to ramp up alone); 0 = no prefetch.
    private static void Dot4x4<TRow>(float** xs, byte** ws, int k, long ahead, float* sums, SimdLevel level) where TRow : struct, IWeightRow
    {
        int done = level switch
        {
            SimdLevel.Avx512 => Dot4x4Avx512<TRow>(xs, ws, k, ahead, sums),
            SimdLevel.Avx2 => Dot4x4Avx2<TRow>(xs, ws, k, sums),
            _ => Clear(sums),
        };
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
            {
                float acc = 0;
                for (int kk = done; kk < k; kk++) acc += xs[r][kk] * TRow.Load1(ws[c], kk);
                sums[r * 4 + c] += acc;
            }
    }

    // sums[c] = dot(x, ws[c]) over k elements; ahead as in Dot4x4.
    private static void Dot1x4<TRow>(float* x, byte** ws, int k, long ahead, float* sums, SimdLevel level) where TRow : struct, IWeightRow
    {
        int done = level switch
        {
            SimdLevel.Avx512 => Dot1x4Avx512<TRow>(x, ws, k, ahead, sums),
            SimdLevel.Avx2 => Dot1x4Avx2<TRow>(x, ws, k, sums),
            _ => Clear(sums),
        };
        for (int c = 0; c < 4; c++)
        {
            float acc = 0;
            for (int kk = done; kk < k; kk++) acc += x[kk] * TRow.Load1(ws[c], kk);
            sums[c] += acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Dot1x4Avx512<TRow>(float* x, byte** ws, int k, long ahead, float* sums) where TRow : struct, IWeightRow
    {
        int rowBytes = (int)(ahead / 4);
        for (long offset = 0; ahead != 0 && offset < rowBytes * 4L; offset += 64) Sse.Prefetch0(ws[0] + ahead + offset);
        byte* w0 = ws[0], w1 = ws[1], w2 = ws[2], w3 = ws[3];
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        int kk = 0;
        for (; kk + 32 <= k; kk += 32)  // two independent accumulators per row hide the FMA latency
        {
            var u = Vector512.Load(x + kk);
            a0 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w0, kk), a0); a1 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w1, kk), a1);
            a2 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w2, kk), a2); a3 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w3, kk), a3);
            u = Vector512.Load(x + kk + 16);
            b0 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w0, kk + 16), b0); b1 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w1, kk + 16), b1);
            b2 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w2, kk + 16), b2); b3 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w3, kk + 16), b3);
        }
        for (; kk + 16 <= k; kk += 16)
        {
            var u = Vector512.Load(x + kk);
            a0 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w0, kk), a0); a1 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w1, kk), a1);
            a2 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w2, kk), a2); a3 = Vector512.FusedMultiplyAdd(u, TRow.Load512(w3, kk), a3);
        }
        sums[0] = Vector512.Sum(a0 + b0); sums[1] = Vector512.Sum(a1 + b1); sums[2] = Vector512.Sum(a2 + b2); sums[3] = Vector512.Sum(a3 + b3);
        return kk;
    }

    // Per block of 32 elements: the 16 even ones, then the 16 odd ones (a 32-bit lane of BF16 pairs holds one of each).
    private static float* SplitPairs(float* x, int k)
    {
        float* pairs = GemmWeights.Scratch(1, k);
        for (int kk = 0; kk + 32 <= k; kk += 32)
            for (int j = 0; j < 16; j++) { pairs[kk + j] = x[kk + 2 * j]; pairs[kk + 16 + j] = x[kk + 2 * j + 1]; }
        return pairs;
    }

    // sums[c] = dot(x, ws[c]) for BF16 rows: lane j of a 32-bit load holds elements 2j (low half) and 2j+1 (high half).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot1x4Bf16Pairs(float* x, float* pairs, byte** ws, int k, long ahead, float* sums)
    {
        int rowBytes = (int)(ahead / 4);
        for (long offset = 0; offset < rowBytes * 4L; offset += 64) Sse.Prefetch0(ws[0] + ahead + offset);
        var high = Vector512.Create(0xFFFF0000u);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        int kk = 0;
        for (; kk + 32 <= k; kk += 32)
        {
            var even = Vector512.Load(pairs + kk); var odd = Vector512.Load(pairs + kk + 16);
            var v = Vector512.Load((uint*)(ws[0] + 2L * kk));
            a0 = Vector512.FusedMultiplyAdd(even, (v << 16).AsSingle(), a0); b0 = Vector512.FusedMultiplyAdd(odd, (v & high).AsSingle(), b0);
            v = Vector512.Load((uint*)(ws[1] + 2L * kk));
            a1 = Vector512.FusedMultiplyAdd(even, (v << 16).AsSingle(), a1); b1 = Vector512.FusedMultiplyAdd(odd, (v & high).AsSingle(), b1);
            v = Vector512.Load((uint*)(ws[2] + 2L * kk));
            a2 = Vector512.FusedMultiplyAdd(even, (v << 16).AsSingle(), a2); b2 = Vector512.FusedMultiplyAdd(odd, (v & high).AsSingle(), b2);
            v = Vector512.Load((uint*)(ws[3] + 2L * kk));
            a3 = Vector512.FusedMultiplyAdd(even, (v << 16).AsSingle(), a3); b3 = Vector512.FusedMultiplyAdd(odd, (v & high).AsSingle(), b3);
        }
        sums[0] = Vector512.Sum(a0 + b0); sums[1] = Vector512.Sum(a1 + b1); sums[2] = Vector512.Sum(a2 + b2); sums[3] = Vector512.Sum(a3 + b3);
        for (int c = 0; c < 4; c++)
        {
            float acc = 0;
            for (int j = kk; j < k; j++) acc += x[j] * BF16Row.Load1(ws[c], j);
            sums[c] += acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Dot1x4Avx2<TRow>(float* x, byte** ws, int k, float* sums) where TRow : struct, IWeightRow
    {
        byte* w0 = ws[0], w1 = ws[1], w2 = ws[2], w3 = ws[3];
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        int kk = 0;
        for (; kk + 16 <= k; kk += 16)
        {
            var u = Vector256.Load(x + kk);
            a0 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w0, kk), a0); a1 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w1, kk), a1);
            a2 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w2, kk), a2); a3 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w3, kk), a3);
            u = Vector256.Load(x + kk + 8);
            b0 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w0, kk + 8), b0); b1 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w1, kk + 8), b1);
            b2 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w2, kk + 8), b2); b3 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w3, kk + 8), b3);
        }
        for (; kk + 8 <= k; kk += 8)
        {
            var u = Vector256.Load(x + kk);
            a0 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w0, kk), a0); a1 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w1, kk), a1);
            a2 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w2, kk), a2); a3 = Vector256.FusedMultiplyAdd(u, TRow.Load256(w3, kk), a3);
        }
        sums[0] = Vector256.Sum(a0 + b0); sums[1] = Vector256.Sum(a1 + b1); sums[2] = Vector256.Sum(a2 + b2); sums[3] = Vector256.Sum(a3 + b3);
        return kk;
    }

    private static int Clear(float* sums) { new Span<float>(sums, 16).Clear(); return 0; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Dot4x4Avx512<TRow>(float** xs, byte** ws, int k, long ahead, float* sums) where TRow : struct, IWeightRow
    {
        int rowBytes = (int)(ahead / 4);  // 0 when not prefetching
        for (long offset = 0; ahead != 0 && offset < rowBytes * 4L; offset += 64) Sse.Prefetch0(ws[0] + ahead + offset);
        float* x0 = xs[0], x1 = xs[1], x2 = xs[2], x3 = xs[3];
        byte* w0 = ws[0], w1 = ws[1], w2 = ws[2], w3 = ws[3];
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        int kk = 0;
        for (; kk + 16 <= k; kk += 16)
        {
            var v0 = TRow.Load512(w0, kk); var v1 = TRow.Load512(w1, kk); var v2 = TRow.Load512(w2, kk); var v3 = TRow.Load512(w3, kk);
            var u = Vector512.Load(x0 + kk);
            a00 = Vector512.FusedMultiplyAdd(u, v0, a00); a01 = Vector512.FusedMultiplyAdd(u, v1, a01); a02 = Vector512.FusedMultiplyAdd(u, v2, a02); a03 = Vector512.FusedMultiplyAdd(u, v3, a03);
            u = Vector512.Load(x1 + kk);
            a10 = Vector512.FusedMultiplyAdd(u, v0, a10); a11 = Vector512.FusedMultiplyAdd(u, v1, a11); a12 = Vector512.FusedMultiplyAdd(u, v2, a12); a13 = Vector512.FusedMultiplyAdd(u, v3, a13);
            u = Vector512.Load(x2 + kk);
            a20 = Vector512.FusedMultiplyAdd(u, v0, a20); a21 = Vector512.FusedMultiplyAdd(u, v1, a21); a22 = Vector512.FusedMultiplyAdd(u, v2, a22); a23 = Vector512.FusedMultiplyAdd(u, v3, a23);
            u = Vector512.Load(x3 + kk);
            a30 = Vector512.FusedMultiplyAdd(u, v0, a30); a31 = Vector512.FusedMultiplyAdd(u, v1, a31); a32 = Vector512.FusedMultiplyAdd(u, v2, a32); a33 = Vector512.FusedMultiplyAdd(u, v3, a33);
        }
        sums[0] = Vector512.Sum(a00); sums[1] = Vector512.Sum(a01); sums[2] = Vector512.Sum(a02); sums[3] = Vector512.Sum(a03);
        sums[4] = Vector512.Sum(a10); sums[5] = Vector512.Sum(a11); sums[6] = Vector512.Sum(a12); sums[7] = Vector512.Sum(a13);
        sums[8] = Vector512.Sum(a20); sums[9] = Vector512.Sum(a21); sums[10] = Vector512.Sum(a22); sums[11] = Vector512.Sum(a23);
        sums[12] = Vector512.Sum(a30); sums[13] = Vector512.Sum(a31); sums[14] = Vector512.Sum(a32); sums[15] = Vector512.Sum(a33);
        return kk;
    }

    // AVX2 has 16 vector registers: two x rows at a time (8 accumulators + 4 weights + 1 x), W rows stay in L1.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Dot4x4Avx2<TRow>(float** xs, byte** ws, int k, float* sums) where TRow : struct, IWeightRow
    {
        byte* w0 = ws[0], w1 = ws[1], w2 = ws[2], w3 = ws[3];
        int end = k & ~7;
        for (int r = 0; r < 4; r += 2)
        {
            float* x0 = xs[r], x1 = xs[r + 1];
            Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            for (int kk = 0; kk < end; kk += 8)
            {
                var v0 = TRow.Load256(w0, kk); var v1 = TRow.Load256(w1, kk); var v2 = TRow.Load256(w2, kk); var v3 = TRow.Load256(w3, kk);
                var u = Vector256.Load(x0 + kk);
                a00 = Vector256.FusedMultiplyAdd(u, v0, a00); a01 = Vector256.FusedMultiplyAdd(u, v1, a01); a02 = Vector256.FusedMultiplyAdd(u, v2, a02); a03 = Vector256.FusedMultiplyAdd(u, v3, a03);
                u = Vector256.Load(x1 + kk);
                a10 = Vector256.FusedMultiplyAdd(u, v0, a10); a11 = Vector256.FusedMultiplyAdd(u, v1, a11); a12 = Vector256.FusedMultiplyAdd(u, v2, a12); a13 = Vector256.FusedMultiplyAdd(u, v3, a13);
            }
            float* s = sums + r * 4;
            s[0] = Vector256.Sum(a00); s[1] = Vector256.Sum(a01); s[2] = Vector256.Sum(a02); s[3] = Vector256.Sum(a03);
            s[4] = Vector256.Sum(a10); s[5] = Vector256.Sum(a11); s[6] = Vector256.Sum(a12); s[7] = Vector256.Sum(a13);
        }
        return end;
    }
}

/// <summary>Reads elements of one weight row as F32, so the dot kernels are written once for every storage dtype.</summary>
internal unsafe interface IWeightRow
{
    static abstract Vector512<float> Load512(byte* row, int index);
    static abstract Vector256<float> Load256(byte* row, int index);
    static abstract float Load1(byte* row, int index);
}

internal readonly unsafe struct F32Row : IWeightRow
{
    public static Vector512<float> Load512(byte* row, int index) => Vector512.Load((float*)row + index);
    public static Vector256<float> Load256(byte* row, int index) => Vector256.Load((float*)row + index);
    public static float Load1(byte* row, int index) => ((float*)row)[index];
}

// BF16 -> F32 is exact: zero-extend to 32 bits, shift into the top half.
internal readonly unsafe struct BF16Row : IWeightRow
{
    public static Vector512<float> Load512(byte* row, int index) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + index)), 16).AsSingle();
    public static Vector256<float> Load256(byte* row, int index) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)row + index)), 16).AsSingle();
    public static float Load1(byte* row, int index) => Half16.BF16ToFloat(((ushort*)row)[index]);
}
