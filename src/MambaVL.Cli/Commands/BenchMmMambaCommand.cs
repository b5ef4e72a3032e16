// `mambavl bench mmmamba`: next-token latency and state memory of the HoVLE teacher, mmMamba-hybrid and mmMamba-linear
// at long contexts (the paper's Fig. 1 c, d), full-size shapes with random weights on the CPU. The three models share
// one weight dictionary (the students keep the teacher's MLPs). Each context's caches are primed with random values
// rather than prefilled: a decode step does the same work either way, and a 64K prefill would take hours on a CPU.
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
        var tiny = new Option<bool>("--tiny") { Description = "A small model instead of the full-size one (for tests)", Hidden = true };
        var command = new Command("mmmamba", "Benchmark HoVLE vs mmMamba-hybrid vs mmMamba-linear: next-token latency and memory at long contexts")
        {
            contexts, threads, dtype, steps, tiny,
        };
        command.SetAction(parse => Run(CliContext.From(parse), CliParse.IntList(parse.GetValue(contexts)!, "--contexts"), parse.GetValue(threads),
            DTypeInfo.Parse(parse.GetValue(dtype)!), parse.GetValue(steps), parse.GetValue(tiny)));
        return command;
    }

    private sealed record Row(HoVleVariant Variant, int Context, double? Milliseconds, long StateBytes, string? Skipped);

    private static int Run(CliContext ctx, int[] contexts, int threads, DType dtype, int steps, bool tiny)
    {
        if (steps < 1) throw new CliException($"--steps: {steps} (at least 1)");
        if (threads < 0) throw new CliException($"--threads: {threads} is not a thread count (0 = all cores)");
        HoVleConfig Config(HoVleVariant v) => tiny ? HoVleRandom.Tiny(v) : HoVleRandom.FullSize(v);
        var weights = ctx.ErrConsole.Status().Start($"generating {BenchReport.Name(dtype)} weights",
            _ => HoVleRandom.CreateWeights(Config(HoVleVariant.Teacher), 1, dtype, bothMixerForms: true));
        long weightBytes = weights.Values.Sum(t => t.Length * t.DType.Size());
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        using var cpu = new CpuBackend(threads);
        var rows = new List<Row>();
        foreach (var variant in new[] { HoVleVariant.Teacher, HoVleVariant.Hybrid, HoVleVariant.Linear })
        {
            var model = new HoVleModel(Config(variant), new DictionaryWeightSource(weights), cpu);
            foreach (int context in contexts)
            {
                long state = model.StateBytes(context);
                if (weightBytes + state > 0.85 * available)
                {
                    rows.Add(new Row(variant, context, null, state, $"needs {Units.Bytes(weightBytes + state)} of {Units.Bytes(available)}"));
                    continue;
                }
                double ms = ctx.ErrConsole.Status().Start($"{variant} at {context} tokens", _ => NextTokenMilliseconds(model, context, steps));
                rows.Add(new Row(variant, context, ms, state, null));
                GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();  // free the primed caches before the next context
            }
        }
        Write(ctx.Out, rows, tiny, dtype, weightBytes, cpu.Threads);
        return MambaVlCli.Ok;
    }

    /// <summary>Median milliseconds of one decode step after <paramref name="context"/> tokens (one warm-up step first).</summary>
    private static double NextTokenMilliseconds(HoVleModel model, int context, int steps)
    {
        var state = model.CreateStateAtContext(context, headroom: steps + 1);
        var samples = new double[steps];
        for (int i = -1; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Backend.Release(model.Step([10 + (context + i) % (model.Config.TextVocab - 10)], state));
            if (i >= 0) samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        return BenchStats.Median(samples);
    }

    private static void Write(TextWriter w, List<Row> rows, bool tiny, DType dtype, long weightBytes, int threads)
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
        w.WriteLine($"shapes: {(tiny ? "tiny (tests)" : "HoVLE-2.6B: embedding module 8 + LLM 24 layers, hidden 2048, 16 heads / 8 kv heads, FFN 8192")}; {BenchReport.Name(dtype)} weights, F32 caches; random weights and primed caches");
        w.WriteLine($"machine: {MachineInfo.CpuName()}, {threads} threads, {Units.Bytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} memory");
        w.WriteLine($"build: mambavl {MachineInfo.Version}");
    }

    private static string Name(HoVleVariant v) => v switch
    {
        HoVleVariant.Teacher => "HoVLE (teacher)",
        HoVleVariant.Hybrid => "mmMamba-hybrid",
        _ => "mmMamba-linear",
    };
}
