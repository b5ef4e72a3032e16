// Machine microbenchmark: memory read bandwidth (a vectorised sum over a buffer far larger than the last-level cache),
// the ceiling for bandwidth-bound decode (every weight byte is read once per token).
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MambaVL.Cpu.Threading;

namespace MambaVL.Cpu.Microbench;

/// <summary>Best read bandwidth seen over a few passes of <paramref name="BufferBytes"/>.</summary>
public sealed record BandwidthResult(int Threads, double GBs, long BufferBytes);

public static unsafe class MemoryBandwidth
{
    /// <summary>256 MB: several times the L3 of any current server CPU, so the passes stream from DRAM.</summary>
    public const long DefaultBufferBytes = 256L << 20;

    public static BandwidthResult Measure(int threads, long bufferBytes = DefaultBufferBytes, int passes = 4)
    {
        using var pool = new CpuThreadPool(threads);
        long floats = bufferBytes / 4;
        float* buffer = (float*)NativeMemory.AlignedAlloc((nuint)(floats * 4), 64);
        try
        {
            FillOnPool(pool, buffer, floats);  // touch every page first (and from the threads that will read it)
            var body = new SumBody { Data = buffer, Floats = floats, Chunks = threads * 4 };
            double best = double.MaxValue;
            for (int pass = 0; pass < passes; pass++)
            {
                long start = Stopwatch.GetTimestamp();
                pool.ParallelFor(body.Chunks, ref body);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            GC.KeepAlive(body.Sink);
            return new BandwidthResult(threads, floats * 4 / best / 1e9, floats * 4);
        }
        finally { NativeMemory.AlignedFree(buffer); }
    }

    private static void FillOnPool(CpuThreadPool pool, float* buffer, long floats)
    {
        long perChunk = floats / (pool.Threads * 4) + 1;
        pool.ParallelFor(pool.Threads * 4, i =>
        {
            long start = Math.Min(floats, i * perChunk), end = Math.Min(floats, start + perChunk);
            new Span<float>(buffer + start, (int)(end - start)).Fill(1f);
        });
    }

    private struct SumBody : IParallelBody
    {
        public float* Data;
        public long Floats;
        public int Chunks;
        public float[]? Sink;

        public void Invoke(int index)
        {
            long perChunk = (Floats / Chunks + 63) & ~63L;
            long start = Math.Min(Floats, index * perChunk), end = Math.Min(Floats, start + perChunk);
            float sum = Sum(Data + start, end - start);
            if (sum == -1f) Sink = [sum];  // never true; keeps the sum observable so it is not optimised away
        }
    }

    // Four independent accumulators keep enough loads in flight to saturate the memory system.
    private static float Sum(float* p, long count)
    {
        var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b0 = Vector512<float>.Zero; var b1 = b0; var b2 = b0; var b3 = b0;
            for (; i + 64 <= count; i += 64)
            {
                b0 += Vector512.LoadAligned(p + i); b1 += Vector512.LoadAligned(p + i + 16);
                b2 += Vector512.LoadAligned(p + i + 32); b3 += Vector512.LoadAligned(p + i + 48);
            }
            a0 = (b0 + b1 + b2 + b3).GetLower();
        }
        for (; i + 32 <= count; i += 32)
        {
            a0 += Vector256.Load(p + i); a1 += Vector256.Load(p + i + 8); a2 += Vector256.Load(p + i + 16); a3 += Vector256.Load(p + i + 24);
        }
        float s = Vector256.Sum(a0 + a1 + a2 + a3);
        for (; i < count; i++) s += p[i];
        return s;
    }
}
