// `mambavl bench mmmamba`: next-token latency and state memory of the HoVLE teacher, mmMamba-hybrid and mmMamba-linear
// at long contexts (the paper's Fig. 1 c, d), full-size shapes with random weights on the CPU or a GPU. The three models
// share one weight dictionary (the students keep the teacher's MLPs) and are timed in turns, step by step, so drift on a
// shared machine hits all three alike. Each context's caches are primed with random values rather than prefilled: a
// decode step does the same work either way, and a 64K prefill would take hours on a CPU.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Cpu;
using MambaVL.Models.HoVle;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class BenchMmMambaCommand
{
    public static Command Create()
    {
        var contexts = new Option<string>("--contexts", "-c") { Description = "Context lengths in tokens, comma separated", DefaultValueFactory = _ => "1024,4096,16384,32768,65536" };
        var threads = new Option<int>("--threads", "-t") { Description = "CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "Weight storage", DefaultValueFactory = _ => "bf16" };
        var steps = new Option<int>("--steps", "-r") { Description = "Timed decode steps per context (after one warm-up); the median is reported", DefaultValueFactory = _ => 5 };
        var cacheType = new Option<string>("--cache-type") { Description = "KV cache storage of the attention layers: f32 or bf16 (half the memory)", DefaultValueFactory = _ => "f32" };
        var tiny = new Option<bool>("--tiny") { Description = "A small model instead of the full-size one (for tests)", Hidden = true };
        var device = SharedOptions.Device();
        var command = new Command("mmmamba", "Benchmark HoVLE vs mmMamba-hybrid vs mmMamba-linear: next-token latency and memory at long contexts")
        {
            contexts, threads, dtype, steps, cacheType, tiny, device,
        };
        command.SetAction(parse => Run(CliContext.From(parse), parse.GetValue(device)!, CliParse.IntList(parse.GetValue(contexts)!, "--contexts"), parse.GetValue(threads),
            DTypeInfo.Parse(parse.GetValue(dtype)!), parse.GetValue(steps), CliParse.KvCacheType(parse.GetValue(cacheType)!), parse.GetValue(tiny)));
        return command;
    }

    private sealed record Row(HoVleVariant Variant, int Context, double? Milliseconds, long StateBytes, string? Skipped);

    private static readonly HoVleVariant[] Variants = [HoVleVariant.Teacher, HoVleVariant.Hybrid, HoVleVariant.Linear];

    private static int Run(CliContext ctx, string device, int[] contexts, int threads, DType dtype, int steps, DType cache, bool tiny)
    {
        if (steps < 1) throw new CliException($"--steps: {steps} (at least 1)");
        if (threads < 0) throw new CliException($"--threads: {threads} is not a thread count (0 = all cores)");
        HoVleConfig Config(HoVleVariant v) => tiny ? HoVleRandom.Tiny(v) : HoVleRandom.FullSize(v);
        var weights = ctx.ErrConsole.Status().Start($"generating {BenchReport.Name(dtype)} weights",
            _ => HoVleRandom.CreateWeights(Config(HoVleVariant.Teacher), 1, dtype, bothMixerForms: true));
        long weightBytes = weights.Values.Sum(t => t.ByteLength);
        var (backend, owner) = Backends.Create(device, threads);
        using var _ = owner;
        var gpu = (backend as Cuda.CudaBackend)?.Gpu;
        // the memory the weights and states share: the host's, or the GPU's (where each model holds its own weight copy)
        long available = gpu is null ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : gpu.MemoryInfo().Free;
        if (gpu != null) weightBytes *= Variants.Length;
        var models = Variants.Select(v => new HoVleModel(Config(v), new DictionaryWeightSource(weights), backend, kvCache: cache)).ToArray();
        var rows = new List<Row>();
        foreach (int context in contexts)
        {
            // all three states live at once (the models take turns): smallest first, as many as fit beside the weights
            var fits = models.Select(m => m.StateBytes(context)).ToArray();
            var measured = new List<int>();
            long total = weightBytes;
            foreach (int i in Enumerable.Range(0, models.Length).OrderBy(i => fits[i]))
                if (total + fits[i] <= 0.85 * available) { measured.Add(i); total += fits[i]; }
            var ms = ctx.ErrConsole.Status().Start($"{context} tokens of context", _ => NextTokenMilliseconds(models, measured, context, steps));
            for (int i = 0; i < models.Length; i++)
                rows.Add(new Row(Variants[i], context, measured.Contains(i) ? ms[i] : null, fits[i],
                    measured.Contains(i) ? null : $"needs {Units.Bytes(weightBytes + fits[i])} of {Units.Bytes(available)}"));
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();  // free the primed caches before the next context
        }
        string where = backend is CpuBackend cpu ? $"{MachineInfo.CpuName()}, {cpu.Threads} threads, {Units.Bytes(available)} memory" : $"{gpu!.Describe()}";
        Write(ctx.Out, rows.OrderBy(r => r.Variant).ThenBy(r => r.Context).ToList(), tiny, dtype, cache, weightBytes, where);
        return MambaVlCli.Ok;
    }

    /// <summary>
    /// Median milliseconds of one decode step after <paramref name="context"/> tokens for each measured model: one warm-up
    /// step each, then the models take turns, one step at a time.
    /// </summary>
    private static double[] NextTokenMilliseconds(HoVleModel[] models, List<int> measured, int context, int steps)
    {
        var states = models.Select((m, i) => measured.Contains(i) ? m.CreateStateAtContext(context, headroom: steps + 1) : null).ToArray();
        var samples = models.Select(_ => new double[steps]).ToArray();
        for (int s = -1; s < steps; s++)
            foreach (int i in measured)
            {
                var model = models[i];
                long t0 = Stopwatch.GetTimestamp();
                var logits = model.Step([10 + (context + s + 1) % (model.Config.TextVocab - 10)], states[i]!);
                model.Backend.ToHost(logits.Narrow(1, 0, 1));   // the step has finished (a GPU works asynchronously)
                model.Backend.Release(logits);
                if (s >= 0) samples[i][s] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        return samples.Select((x, i) => measured.Contains(i) ? BenchStats.Median(x) : double.NaN).ToArray();
    }

    private static void Write(TextWriter w, List<Row> rows, bool tiny, DType dtype, DType cache, long weightBytes, string machine)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine("| model | context | next token (ms) | speed-up vs teacher | state memory | weights + state |");
        w.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            var teacher = rows.FirstOrDefault(t => t.Variant == HoVleVariant.Teacher && t.Context == r.Context)?.Milliseconds;
            string ms = r.Milliseconds is double m ? m.ToString("0.0", inv) : $"skipped ({r.Skipped})";
            string speedup = r.Milliseconds is double x && teacher is double t ? (t / x).ToString("0.00", inv) + "x" : "—";
            w.WriteLine($"| {Name(r.Variant)} | {r.Context.ToString("N0", inv)} | {ms} | {speedup} | {Units.Bytes(r.StateBytes)} | {Units.Bytes(weightBytes + r.StateBytes)} |");
        }
        w.WriteLine();
        w.WriteLine($"shapes: {(tiny ? "tiny (tests)" : "HoVLE-2.6B: embedding module 8 + LLM 24 layers, hidden 2048, 16 heads / 8 kv heads, FFN 8192")}; {BenchReport.Name(dtype)} weights, {BenchReport.Name(cache)} KV caches (Mamba states F32); random weights, primed caches");
        w.WriteLine($"machine: {machine}");
        w.WriteLine($"build: mambavl {MachineInfo.Version}");
    }

    private static string Name(HoVleVariant v) => v switch
    {
        HoVleVariant.Teacher => "HoVLE (teacher)",
        HoVleVariant.Hybrid => "mmMamba-hybrid",
        _ => "mmMamba-linear",
    };
}
