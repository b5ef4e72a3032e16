// `mambavl bench attention --device cuda`: the CUDA attention kernels alone, on random data. Decode (T = 1, Hq 16, Hkv 8,
// P 128: the HoVLE / InternLM2 attention layers) over F32 and BF16 KV caches of 1K to 103K tokens, read as views of a
// preallocated cache as the model reads them → µs per call and the K/V bytes streamed per second against the H100's
// measured copy bandwidth; prefill (T = S = 2048 causal with the same heads; a SigLIP-so400m layer, 729 tokens × 16
// heads × 72, non-causal, q/k/v column slices of one fused qkv) → ms and TFLOP/s. The plain three-pass kernels at a few
// points for comparison. Warm; each sample is back-to-back calls between device synchronizations; medians reported.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;
using MambaVL.Cuda;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class BenchAttentionCommand
{
    /// <summary>Device-to-device copy bandwidth measured on the H100 80GB HBM3, TB/s: the ceiling decode is compared to.</summary>
    private const double CopyTBps = 2.99;
    private const int Hq = 16, Hkv = 8, P = 128;

    public static Command Create()
    {
        var device = SharedOptions.Device();
        device.DefaultValueFactory = _ => "cuda";
        var reps = new Option<int>("--repetitions", "-r") { Description = "Timed samples per case (the median is reported)", DefaultValueFactory = _ => 7 };
        var quick = new Option<bool>("--quick") { Description = "Small shapes only (for tests)", Hidden = true };
        var command = new Command("attention", "Benchmark the CUDA attention kernels: decode over long KV caches (GB/s) and prefill (TFLOP/s)")
        {
            device, reps, quick,
        };
        command.SetAction(parse => Run(CliContext.From(parse), parse.GetValue(device)!, parse.GetValue(reps), parse.GetValue(quick)));
        return command;
    }

    /// <summary>One timed case: seconds per call, the K/V bytes it must read and the FLOPs of its two GEMMs.</summary>
    private sealed record Result(string Test, string Kernel, DType Kv, int T, int S, string Heads, double Seconds, double Bytes, double Flops);

    private static int Run(CliContext ctx, string device, int repetitions, bool quick)
    {
        if (repetitions < 1) throw new CliException($"--repetitions: {repetitions} is not a positive count");
        int index = Backends.CudaIndex(device) ?? throw new CliException("--device: bench attention times the CUDA kernels (cuda or cuda:N)");
        using var gpu = CudaDevice.Open(index);
        ctx.Out.WriteLine(gpu.Describe());
        using var backend = new CudaBackend(gpu);
        var bench = new Bench(gpu, backend, repetitions);
        int[] contexts = quick ? [256, 1024] : [1024, 8 * 1024, 32 * 1024, 103 * 1024];
        int plainAt = quick ? 1024 : 32 * 1024;
        var decode = ctx.ErrConsole.Status().Start("timing decode attention",
            _ => new[] { DType.F32, DType.BF16 }.SelectMany(type => bench.Decode(type, contexts, plainAt)).ToList());
        var prefill = ctx.ErrConsole.Status().Start("timing prefill attention", _ => bench.Prefill(quick));
        Write(ctx.Out, decode, prefill);
        return MambaVlCli.Ok;
    }

    private sealed class Bench(CudaDevice gpu, CudaBackend backend, int repetitions)
    {
        private readonly Random _rng = new(1);

        private Tensor Random(DType type, params int[] shape)
        {
            long n = 1; foreach (int d in shape) n *= d;
            var values = new float[n];
            for (long i = 0; i < n; i++) values[i] = 2 * _rng.NextSingle() - 1;
            return backend.Upload(Tensor.FromArray(values, shape).ToDType(type));
        }

        /// <summary>
        /// Median seconds per call: a warm call (NVRTC, the memory pool), one timed call to size a sample to about 20 ms,
        /// then samples of back-to-back calls with the device synchronized before and after; outputs go back to the pool.
        /// </summary>
        private double Time(Func<Tensor> call)
        {
            void Once() => backend.Release(call());
            Once();
            gpu.Synchronize();
            long start = Stopwatch.GetTimestamp();
            Once();
            gpu.Synchronize();
            int calls = (int)Math.Clamp(0.02 / Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-7), 1, 2000);
            var samples = new double[repetitions];
            for (int i = 0; i < samples.Length; i++)
            {
                gpu.Synchronize();
                start = Stopwatch.GetTimestamp();
                for (int c = 0; c < calls; c++) Once();
                gpu.Synchronize();
                samples[i] = Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
            }
            return BenchStats.Median(samples);
        }

        /// <summary>One query token over a cache preallocated past the longest context (the model's view: rows 0..S−1).</summary>
        public List<Result> Decode(DType type, int[] contexts, int plainAt)
        {
            int capacity = contexts.Max() + 64;
            var (kCache, vCache) = (Cache(type, capacity), Cache(type, capacity));
            var q = Random(DType.F32, 1, Hq, P);
            float scale = 1 / MathF.Sqrt(P);
            var results = new List<Result>();
            foreach (int s in contexts)
            {
                var (k, v) = (kCache.Narrow(0, 0, s), vCache.Narrow(0, 0, s));
                double bytes = 2.0 * s * Hkv * P * type.Size(), flops = 4.0 * s * Hq * P;
                results.Add(new Result("decode", "flash", type, 1, s, $"{Hq}/{Hkv}×{P}", Time(() => backend.Attention(q, k, v, scale, true)), bytes, flops));
                if (s == plainAt && type == DType.F32)
                    results.Add(new Result("decode", "plain", type, 1, s, $"{Hq}/{Hkv}×{P}", Time(() => backend.AttentionPlain(q, k, v, scale, true)), bytes, flops));
            }
            backend.Release(kCache); backend.Release(vCache); backend.Release(q);
            return results;
        }

        /// <summary>(capacity, Hkv, P) filled with one random 1024-row block, repeated (uploading 100K random rows is slow).</summary>
        private Tensor Cache(DType type, int capacity)
        {
            var cache = backend.Zeros(type, capacity, Hkv, P);
            var block = Random(type, Math.Min(1024, capacity), Hkv, P);
            for (int at = 0; at < capacity; at += block.Dim(0))
            {
                int n = Math.Min(block.Dim(0), capacity - at);
                backend.CopyInto(block.Narrow(0, 0, n), cache.Narrow(0, at, n));
            }
            backend.Release(block);
            return cache;
        }

        /// <summary>T = S causal with the decode heads (F32 and BF16 K/V), and one non-causal SigLIP-so400m attention.</summary>
        public List<Result> Prefill(bool quick)
        {
            int t = quick ? 256 : 2048;
            float scale = 1 / MathF.Sqrt(P);
            var results = new List<Result>();
            var q = Random(DType.F32, t, Hq, P);
            double flops = 4.0 * P * Hq * t * (t + 1) / 2;  // visible (query, key) pairs under the causal mask
            foreach (var type in new[] { DType.F32, DType.BF16 })
            {
                var (k, v) = (Random(type, t, Hkv, P), Random(type, t, Hkv, P));
                results.Add(new Result("prefill causal", "flash", type, t, t, $"{Hq}/{Hkv}×{P}", Time(() => backend.Attention(q, k, v, scale, true)), 0, flops));
                if (type == DType.F32)
                    results.Add(new Result("prefill causal", "plain", type, t, t, $"{Hq}/{Hkv}×{P}", Time(() => backend.AttentionPlain(q, k, v, scale, true)), 0, flops));
                backend.Release(k); backend.Release(v);
            }
            backend.Release(q);
            int n = quick ? 100 : 729, heads = 16, p = 72, d = heads * p;
            var qkv = Random(DType.F32, n, 3 * d);
            Tensor Part(int i) => qkv.Narrow(1, i * d, d).Reshape(n, heads, p);
            double vitFlops = 4.0 * n * n * p * heads;
            float vitScale = 1 / MathF.Sqrt(p);
            results.Add(new Result("ViT (SigLIP)", "flash", DType.F32, n, n, $"{heads}×{p}", Time(() => backend.Attention(Part(0), Part(1), Part(2), vitScale, false)), 0, vitFlops));
            results.Add(new Result("ViT (SigLIP)", "plain", DType.F32, n, n, $"{heads}×{p}", Time(() => backend.AttentionPlain(Part(0), Part(1), Part(2), vitScale, false)), 0, vitFlops));
            backend.Release(qkv);
            return results;
        }
    }

    private static void Write(TextWriter w, List<Result> decode, List<Result> prefill)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine();
        w.WriteLine("decode: 1 query token, causal, K/V a view of a preallocated cache");
        w.WriteLine("| test | kernel | kv | heads Hq/Hkv×P | S | µs/call | K/V GB/s | of copy bandwidth |");
        w.WriteLine("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var r in decode)
        {
            double gbps = r.Bytes / r.Seconds / 1e9;
            w.WriteLine(string.Create(inv, $"| {r.Test} | {r.Kernel} | {BenchReport.Name(r.Kv)} | {r.Heads} | {r.S} | {1e6 * r.Seconds:0.0} | {gbps:0} | {100 * gbps / (1000 * CopyTBps):0.0}% |"));
        }
        w.WriteLine();
        w.WriteLine("prefill: q F32; the causal FLOPs count the visible (query, key) pairs only");
        w.WriteLine("| test | kernel | kv | heads | T = S | ms/call | TFLOP/s |");
        w.WriteLine("| --- | --- | --- | --- | ---: | ---: | ---: |");
        foreach (var r in prefill)
            w.WriteLine(string.Create(inv, $"| {r.Test} | {r.Kernel} | {BenchReport.Name(r.Kv)} | {r.Heads} | {r.T} | {1e3 * r.Seconds:0.000} | {r.Flops / r.Seconds / 1e12:0.00} |"));
        w.WriteLine();
        w.WriteLine(string.Create(inv, $"FLOPs: 4·P per head and visible (query, key) pair (q·kᵀ and p·v); K/V bytes: every cached row read once; copy bandwidth: {CopyTBps} TB/s (H100, measured)"));
        w.WriteLine($"build: mambavl {MachineInfo.Version}");
    }
}
