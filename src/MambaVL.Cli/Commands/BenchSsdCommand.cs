// `mambavl bench ssd --device cuda`: CudaBackend.SsdScan alone (the chunked SSD kernels) on mamba2-2.7b's mixer shapes
// (H=80 heads of P=64, N=128, G=1, chunk 256), one sequence per length, random F32 inputs: the median of warm repeats
// between device synchronizations, as ms, tokens/s and the GB/s of the least traffic the op needs (x, dt, B, C read
// once, y written once), to set beside mamba_ssm's Triton `mamba_chunk_scan_combined`
// (bench/cuda/ssd_triton.py). --variant picks the kernels (parallel: ssd_parallel.cu, the default; fused: ssd.cu);
// --recurrence also times the plain recurrence the chunked kernel replaced.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Cuda;

namespace MambaVL.Cli.Commands;

public static class BenchSsdCommand
{
    private const int Heads = 80, HeadDim = 64, StateSize = 128, Groups = 1, ModelChunk = 256;

    public static Command Create()
    {
        var device = SharedOptions.Device();
        device.DefaultValueFactory = _ => "cuda";
        var lengths = new Option<string>("--lengths", "-L") { Description = "Sequence lengths, comma separated", DefaultValueFactory = _ => "2048,8192,32768" };
        var repeats = new Option<int>("--repeats", "-r") { Description = "Timed calls per length (the median is reported)", DefaultValueFactory = _ => 20 };
        var recurrence = new Option<bool>("--recurrence") { Description = "Also time the plain recurrence (slow at long lengths)" };
        var variant = new Option<string>("--variant") { Description = "The chunked kernels: fused (one block walks the chunks) or parallel (chunk-parallel phases)", DefaultValueFactory = _ => "parallel" };
        // hidden: heads per block of the parallel chunk state / scan (1, the default, or 2), to time both from one build
        var headsPerBlock = new Option<int>("--heads-per-block") { Hidden = true, DefaultValueFactory = _ => 1 };
        var command = new Command("ssd", "Benchmark the CUDA SSD scan (chunked kernel) on mamba2-2.7b mixer shapes") { device, lengths, repeats, recurrence, variant, headsPerBlock };
        command.SetAction(parse => Run(CliContext.From(parse), parse.GetValue(device)!, CliParse.IntList(parse.GetValue(lengths)!, "--lengths"),
            parse.GetValue(repeats), parse.GetValue(recurrence),
            BenchCommand.Choice(parse.GetValue(variant)!, "--variant", ("fused", SsdKernel.Fused), ("parallel", SsdKernel.Parallel)),
            parse.GetValue(headsPerBlock)));
        return command;
    }

    private static int Run(CliContext ctx, string device, int[] lengths, int repeats, bool recurrence, SsdKernel variant, int headsPerBlock)
    {
        if (repeats < 1) throw new CliException($"--repeats: {repeats} is not a positive count");
        if (headsPerBlock is not (1 or 2)) throw new CliException($"--heads-per-block: {headsPerBlock} is not 1 or 2");
        int index = Backends.CudaIndex(device) ?? throw new CliException("--device: bench ssd times the CUDA kernel (cuda or cuda:N)");
        using var gpu = CudaDevice.Open(index);   // without a GPU: CUDA is not available, and why
        using var backend = new CudaBackend(gpu) { SsdVariant = variant, SsdHeadsPerBlock = headsPerBlock };
        var inv = CultureInfo.InvariantCulture;
        ctx.Out.WriteLine(gpu.Describe());
        ctx.Out.WriteLine($"SsdScan: H={Heads} P={HeadDim} N={StateSize} G={Groups} (mamba2-2.7b mixer), batch 1, F32 activations, model chunk {ModelChunk} ({CudaBackend.SsdKernelChunk}-token chunks in the kernel), {variant.ToString().ToLowerInvariant()} kernels, median of {repeats} warm calls");
        ctx.Out.WriteLine();
        ctx.Out.WriteLine(recurrence ? "| L | ms | tokens/s | min-bytes GB/s | recurrence ms | speedup |" : "| L | ms | tokens/s | min-bytes GB/s |");
        ctx.Out.WriteLine(recurrence ? "| ---: | ---: | ---: | ---: | ---: | ---: |" : "| ---: | ---: | ---: | ---: |");
        foreach (int t in lengths)
        {
            var (x, dt, b, c, p, state) = Inputs(backend, t);
            double ms = Median(Time(gpu, () => backend.Release(backend.SsdScan(x, dt, b, c, p, state, ModelChunk)), repeats));
            double bytes = 4.0 * (2L * t * Heads * HeadDim + (long)t * Heads + 2L * t * Groups * StateSize);   // as the Triton anchor counts
            string row = string.Create(inv, $"| {t} | {ms:0.000} | {t / ms * 1e3 / 1e6:0.00} M | {bytes / (ms * 1e-3) / 1e9:0} |");
            if (recurrence)
            {
                double rec = Median(Time(gpu, () => backend.Release(backend.SsdScanRecurrence(x, dt, b, c, p, state)), Math.Min(repeats, 3)));
                row += string.Create(inv, $" {rec:0.000} | {rec / ms:0.0}x |");
            }
            ctx.Out.WriteLine(row);
            foreach (var tensor in new[] { x, dt, b, c, state }) backend.Release(tensor);
        }
        return MambaVlCli.Ok;
    }

    /// <summary>Random inputs on the device: x (T, H, P), dt (T, H), B and C (T, G, N) in [−1, 1), A, dt_bias, D per head, a state.</summary>
    private static (Tensor X, Tensor Dt, Tensor B, Tensor C, SsmParams P, Tensor State) Inputs(CudaBackend backend, int t)
    {
        var rng = new Random(t);
        Tensor Random(float lo, float hi, params int[] shape)
        {
            long n = 1; foreach (int d in shape) n *= d;
            var values = new float[n];
            for (long i = 0; i < n; i++) values[i] = lo + (hi - lo) * rng.NextSingle();
            return backend.Upload(Tensor.FromArray(values, shape));
        }
        var p = new SsmParams(Random(-8, -1, Heads), Random(-4, -2, Heads), Random(0, 1, Heads));
        return (Random(-1, 1, t, Heads, HeadDim), Random(-3, 1, t, Heads), Random(-1, 1, t, Groups, StateSize),
            Random(-1, 1, t, Groups, StateSize), p, Random(-0.5f, 0.5f, Heads, HeadDim, StateSize));
    }

    /// <summary>Milliseconds of each call after two warm-up calls, the device synchronized before and after each.</summary>
    private static double[] Time(CudaDevice gpu, Action call, int repeats)
    {
        call(); call();
        var samples = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            gpu.Synchronize();
            long start = Stopwatch.GetTimestamp();
            call();
            gpu.Synchronize();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return samples;
    }

    private static double Median(double[] samples)
    {
        var sorted = samples.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
