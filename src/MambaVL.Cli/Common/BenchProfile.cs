// `mambavl bench --profile`: one extra prefill and decode run through a timing decorator, printed as a table of ops
// (MatMuls split by weight shape) with their share of the time, so a slow op stands out.
using System.Globalization;
using MambaVL.Core.Ops;
using MambaVL.Cpu;
using Spectre.Console;

namespace MambaVL.Cli.Common;

public sealed record BenchProfile(string Title, double Divisor, string Unit, IReadOnlyList<OpTiming> Timings, TimeSpan Total)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Profiles a prefill of <paramref name="promptTokens"/> and <paramref name="genTokens"/> decode steps.</summary>
    public static IEnumerable<BenchProfile> Run(CliContext ctx, BenchModel benchModel, int threads, int promptTokens, int genTokens) =>
        Run(ctx, benchModel, new CpuBackend(threads), null, $"{BenchReport.Name(benchModel.DType)}, {threads} thread{(threads == 1 ? "" : "s")}", promptTokens, genTokens);

    /// <summary>
    /// The same on any backend; <paramref name="synchronize"/> waits for an asynchronous one after each op (steps then run
    /// op by op, without recorded graphs, each op's time including one wait). <paramref name="timeFusedOps"/>: fused ops
    /// (AddRmsNorm, MambaStep) run whole on the backend, one row each, instead of as their parts.
    /// </summary>
    public static IEnumerable<BenchProfile> Run(CliContext ctx, BenchModel benchModel, IBackend inner, Action? synchronize, string where, int promptTokens, int genTokens,
        bool timeFusedOps = false)
    {
        var backend = new ProfilingBackend(inner, synchronize) { TimeFusedOps = timeFusedOps };
        var model = benchModel.Load(backend);
        var ids = BenchStats.RandomIds(Math.Max(promptTokens, 1), model.VocabSize);
        var profiles = new List<BenchProfile>();
        ctx.ErrConsole.Status().Start($"profiling ({where})", _ =>
        {
            model.Prefill(ids, model.CreateState(1));  // warm-up, not counted
            if (promptTokens > 0)
            {
                backend.Reset();
                model.Prefill(ids, model.CreateState(1));
                profiles.Add(new BenchProfile($"pp{promptTokens} ({where})", 1, "ms", backend.Timings, backend.Total));
            }
            if (genTokens > 0)
            {
                var state = model.CreateState(1);
                model.Step([ids[0]], state);
                backend.Reset();
                for (int i = 0; i < genTokens; i++) model.Step([ids[i % ids.Length]], state);
                profiles.Add(new BenchProfile($"tg{genTokens} ({where})", genTokens, "ms/token", backend.Timings, backend.Total));
            }
        });
        return profiles;
    }

    public void WriteMarkdown(TextWriter w)
    {
        w.WriteLine();
        w.WriteLine($"profile {Title}: {F(Total.TotalMilliseconds / Divisor)} {Unit} in ops");
        w.WriteLine($"| op | shapes | calls | {Unit} | share |");
        w.WriteLine("| --- | --- | ---: | ---: | ---: |");
        foreach (var t in Timings)
            w.WriteLine(string.Create(Inv, $"| {t.Op} | {t.Shapes} | {t.Calls / Divisor:0.##} | {F(t.Total.TotalMilliseconds / Divisor)} | {t.Total / Total:P1} |"));
    }

    private static string F(double v) => v.ToString(v < 10 ? "0.000" : "0.0", Inv);
}
