// Matrix products for prefill (many rows of x): compute bound. W is packed (and converted to F32) one panel of NR output
// columns x KC inputs at a time into L1, k-major, and a register-tiled micro-kernel (MR rows of x broadcast against NR
// columns) accumulates MR x NR outputs in registers: AVX-512 8 x 32 (16 zmm accumulators), AVX2 6 x 16 (12 ymm).
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MambaVL.Core.Tensors;

namespace MambaVL.Cpu.Kernels;

public static unsafe class GemmPacked
{
    /// <summary>Most inputs per packed block: a 32-wide panel of 768 floats is 96 KB, well inside L2, while the x tile
    /// (8 rows x 768) stays in L1; fewer blocks mean fewer read-modify-write passes over y.</summary>
    public const int MaxKBlock = 768;

    /// <summary>K split into equal blocks of at most <see cref="MaxKBlock"/>.</summary>
    public static int KBlock(int k) { int blocks = Math.Max(1, (k + MaxKBlock - 1) / MaxKBlock); return (k + blocks - 1) / blocks; }

    /// <summary>Output columns per panel (NR).</summary>
    public static int PanelWidth(SimdLevel level) => level == SimdLevel.Avx512 ? 32 : 16;

    /// <summary>Rows of x per micro-kernel call (MR).</summary>
    public static int TileRows(SimdLevel level) => level == SimdLevel.Avx512 ? 8 : 6;

    /// <summary>Most panels packed together: x is then re-read once per group instead of once per panel.</summary>
    public const int MaxGroupPanels = 4;

    /// <summary>Rows of x per pass over a panel group (96 x 768 floats = 288 KB, in L2 beside the 384 KB group).</summary>
    private const int RowBlock = 96;

    /// <summary>y[m0..m1, n0..n0 + panels·NR) = x[m0..m1, :] · w[n0.., :]ᵀ + bias, clipped at n. x: (m, k), w: (n, k), y: (m, n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Panels(float* x, int k, void* w, DType wType, int n, float* bias, float* y, int n0, int panels, int m0, int m1, SimdLevel level)
    {
        if (level == SimdLevel.Scalar) throw new ArgumentException("the packed GEMM needs AVX2 or AVX-512", nameof(level));
        int nr = PanelWidth(level), mr = TileRows(level), kBlock = KBlock(k);
        panels = Math.Min(panels, (n - n0 + nr - 1) / nr);
        float* packed = GemmWeights.Scratch(1, panels * kBlock * nr);
        float* rowBuffer = GemmWeights.Scratch(0, kBlock);
        float* tile = stackalloc float[8 * 32];
        float** xs = stackalloc float*[8];
        for (int kc = 0; kc < k; kc += kBlock)
        {
            int kb = Math.Min(kBlock, k - kc);
            for (int p = 0; p < panels; p++)
                Pack(w, wType, k, n0 + p * nr, Math.Min(nr, n - n0 - p * nr), kc, kb, nr, packed + (long)p * kb * nr, rowBuffer);
            for (int rowStart = m0; rowStart < m1; rowStart += RowBlock)
                for (int p = 0; p < panels; p++)
                {
                    int col = n0 + p * nr, cols = Math.Min(nr, n - col);
                    for (int i = rowStart; i < Math.Min(m1, rowStart + RowBlock); i += mr)
                    {
                        int rows = Math.Min(mr, m1 - i);
                        for (int r = 0; r < mr; r++) xs[r] = x + (long)(i + Math.Min(r, rows - 1)) * k + kc;  // repeats are dropped
                        if (level == SimdLevel.Avx512) Micro8x32(xs, packed + (long)p * kb * nr, kb, tile);
                        else Micro6x16(xs, packed + (long)p * kb * nr, kb, tile);
                        Merge(tile, nr, rows, cols, y + (long)i * n + col, n, kc == 0, bias == null ? null : bias + col);
                    }
                }
        }
    }

    // panel[kk * nr + c] = w[n0 + c, kc + kk] as F32; columns past the end of w are zero.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack(void* w, DType wType, int k, int n0, int cols, int kc, int kb, int nr, float* panel, float* rowBuffer)
    {
        for (int c = 0; c < cols; c++)
        {
            long start = (long)(n0 + c) * k + kc;
            float* src = wType == DType.F32 ? (float*)w + start : rowBuffer;
            if (wType != DType.F32) GemmWeights.ToFloat(w, wType, start, kb, rowBuffer);
            for (int kk = 0; kk < kb; kk++) panel[kk * nr + c] = src[kk];
        }
        for (int c = cols; c < nr; c++)
            for (int kk = 0; kk < kb; kk++) panel[kk * nr + c] = 0f;
    }

    // y rows (stride n) = tile (+ bias) on the first K block, += tile on later ones.
    private static void Merge(float* tile, int nr, int rows, int cols, float* y, int n, bool first, float* bias)
    {
        for (int r = 0; r < rows; r++)
        {
            var dst = new Span<float>(y + (long)r * n, cols);
            var src = new ReadOnlySpan<float>(tile + r * nr, cols);
            if (!first) TensorPrimitives.Add(dst, src, dst);
            else if (bias != null) TensorPrimitives.Add(src, new ReadOnlySpan<float>(bias, cols), dst);
            else src.CopyTo(dst);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro8x32(float** xs, float* panel, int kb, float* tile)
    {
        float* x0 = xs[0], x1 = xs[1], x2 = xs[2], x3 = xs[3], x4 = xs[4], x5 = xs[5], x6 = xs[6], x7 = xs[7];
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int kk = 0; kk < kb; kk++)
        {
            var wa = Vector512.Load(panel + kk * 32); var wb = Vector512.Load(panel + kk * 32 + 16);
            var b = Vector512.Create(x0[kk]); c00 = Vector512.FusedMultiplyAdd(b, wa, c00); c01 = Vector512.FusedMultiplyAdd(b, wb, c01);
            b = Vector512.Create(x1[kk]); c10 = Vector512.FusedMultiplyAdd(b, wa, c10); c11 = Vector512.FusedMultiplyAdd(b, wb, c11);
            b = Vector512.Create(x2[kk]); c20 = Vector512.FusedMultiplyAdd(b, wa, c20); c21 = Vector512.FusedMultiplyAdd(b, wb, c21);
            b = Vector512.Create(x3[kk]); c30 = Vector512.FusedMultiplyAdd(b, wa, c30); c31 = Vector512.FusedMultiplyAdd(b, wb, c31);
            b = Vector512.Create(x4[kk]); c40 = Vector512.FusedMultiplyAdd(b, wa, c40); c41 = Vector512.FusedMultiplyAdd(b, wb, c41);
            b = Vector512.Create(x5[kk]); c50 = Vector512.FusedMultiplyAdd(b, wa, c50); c51 = Vector512.FusedMultiplyAdd(b, wb, c51);
            b = Vector512.Create(x6[kk]); c60 = Vector512.FusedMultiplyAdd(b, wa, c60); c61 = Vector512.FusedMultiplyAdd(b, wb, c61);
            b = Vector512.Create(x7[kk]); c70 = Vector512.FusedMultiplyAdd(b, wa, c70); c71 = Vector512.FusedMultiplyAdd(b, wb, c71);
        }
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro6x16(float** xs, float* panel, int kb, float* tile)
    {
        float* x0 = xs[0], x1 = xs[1], x2 = xs[2], x3 = xs[3], x4 = xs[4], x5 = xs[5];
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int kk = 0; kk < kb; kk++)
        {
            var wa = Vector256.Load(panel + kk * 16); var wb = Vector256.Load(panel + kk * 16 + 8);
            var b = Vector256.Create(x0[kk]); c00 = Vector256.FusedMultiplyAdd(b, wa, c00); c01 = Vector256.FusedMultiplyAdd(b, wb, c01);
            b = Vector256.Create(x1[kk]); c10 = Vector256.FusedMultiplyAdd(b, wa, c10); c11 = Vector256.FusedMultiplyAdd(b, wb, c11);
            b = Vector256.Create(x2[kk]); c20 = Vector256.FusedMultiplyAdd(b, wa, c20); c21 = Vector256.FusedMultiplyAdd(b, wb, c21);
            b = Vector256.Create(x3[kk]); c30 = Vector256.FusedMultiplyAdd(b, wa, c30); c31 = Vector256.FusedMultiplyAdd(b, wb, c31);
            b = Vector256.Create(x4[kk]); c40 = Vector256.FusedMultiplyAdd(b, wa, c40); c41 = Vector256.FusedMultiplyAdd(b, wb, c41);
            b = Vector256.Create(x5[kk]); c50 = Vector256.FusedMultiplyAdd(b, wa, c50); c51 = Vector256.FusedMultiplyAdd(b, wb, c51);
        }
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
    }
}
