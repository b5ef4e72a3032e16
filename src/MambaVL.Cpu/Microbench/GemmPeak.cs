// Machine microbenchmark: F32 GFLOP/s of our own packed GEMM at a prefill-like shape, the ceiling for compute-bound prefill.
using System.Diagnostics;
using MambaVL.Core.Tensors;
using MambaVL.Cpu.Kernels;
using MambaVL.Cpu.Threading;

namespace MambaVL.Cpu.Microbench;

/// <summary>Best GFLOP/s over a few runs of y (M, N) = x (M, K) · w (N, K)ᵀ.</summary>
public sealed record GemmPeakResult(int Threads, double Gflops, int M, int K, int N);

public static unsafe class GemmPeak
{
    public static GemmPeakResult Measure(int threads, int m = 512, int k = 2048, int n = 2048, int runs = 3)
    {
        using var pool = new CpuThreadPool(threads);
        using var x = new NativeStorage((long)m * k * 4);
        using var w = new NativeStorage((long)n * k * 4);
        using var y = new NativeStorage((long)m * n * 4);
        new Span<float>(x.Pointer, m * k).Fill(0.5f);
        new Span<float>(w.Pointer, n * k).Fill(0.25f);
        var level = GemmWeights.Best;
        double best = double.MaxValue;
        for (int run = 0; run <= runs; run++)  // run 0 warms up (JIT, page faults)
        {
            long start = Stopwatch.GetTimestamp();
            Gemm.MatMul(pool, (float*)x.Pointer, m, k, w.Pointer, DType.F32, n, null, (float*)y.Pointer, level);
            if (run > 0) best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return new GemmPeakResult(threads, 2.0 * m * k * n / best / 1e9, m, k, n);
    }
}
