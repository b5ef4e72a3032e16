// Writes `mambavl bench` results as llama-bench does (a markdown table, or JSON), followed by the machine's measured
// bandwidth and GEMM speed and how each configuration compares with the targets derived from them.
using System.Globalization;
using System.Text.Json;

namespace MambaVL.Cli.Common;

/// <summary>The machine's measured memory read bandwidth and GEMM speed at one thread count.</summary>
public sealed record MachineBaseline(int Threads, double BandwidthGBs, double GemmGflops);

/// <summary>Decode and prefill of one (dtype, threads) against the targets: decode ≤ 1.25 × bytes / bandwidth; prefill ≥ 70% of GEMM.</summary>
public sealed record TargetCheck(string DType, int Threads, double DecodeMs, double DecodeTargetMs, double PrefillGflops, double PrefillTargetGflops)
{
    public const double DecodeSlack = 1.25, PrefillShare = 0.70;
    public bool DecodeMet => DecodeMs <= DecodeTargetMs;
    public bool PrefillMet => PrefillGflops >= PrefillTargetGflops;
}

public static class BenchReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static List<TargetCheck> Targets(IReadOnlyList<BenchResult> results, IReadOnlyList<MachineBaseline> machine)
    {
        var checks = new List<TargetCheck>();
        foreach (var group in results.GroupBy(r => (r.Model, r.Threads)))
        {
            var baseline = machine.FirstOrDefault(m => m.Threads == group.Key.Threads);
            var pp = group.FirstOrDefault(r => r.Test.StartsWith("pp", StringComparison.Ordinal));
            var tg = group.FirstOrDefault(r => r.Test.StartsWith("tg", StringComparison.Ordinal));
            if (baseline is null || pp is null || tg is null) continue;
            var model = group.Key.Model;
            checks.Add(new TargetCheck(Name(model.DType), group.Key.Threads,
                DecodeMs: 1000 / tg.Median,
                DecodeTargetMs: TargetCheck.DecodeSlack * model.DecodeBytesPerToken / (baseline.BandwidthGBs * 1e9) * 1000,
                PrefillGflops: model.PrefillMatmulFlops(pp.PromptTokens) / (pp.PromptTokens / pp.Median) / 1e9,
                PrefillTargetGflops: TargetCheck.PrefillShare * baseline.GemmGflops));
        }
        return checks;
    }

    /// <param name="machineNote">Said instead of the baselines when there are none (skipped, or unavailable).</param>
    public static void WriteMarkdown(TextWriter w, IReadOnlyList<BenchResult> results, IReadOnlyList<MachineBaseline> machine, string machineNote)
    {
        w.WriteLine("| model | size | params | backend | threads | dtype | test | t/s |");
        w.WriteLine("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: |");
        foreach (var r in results)
            w.WriteLine($"| {r.Model.Label} | {Units.Bytes(r.Model.Bytes)} | {Units.Count(r.Model.Parameters)} | {r.Backend} | {r.Threads} | {Name(r.Model.DType)} | {r.Test} | {F(r.Median)} ± {F(r.StdDev)} |");
        w.WriteLine();
        w.WriteLine($"machine: {MachineInfo.CpuName()}, {Environment.ProcessorCount} logical cores");
        if (machine.Count == 0) w.WriteLine($"machine baselines: {machineNote}");
        foreach (var m in machine)
            w.WriteLine(string.Create(Inv, $"threads {m.Threads}: memory read bandwidth {m.BandwidthGBs:0.00} GB/s, GEMM (f32) {m.GemmGflops:0.0} GFLOP/s"));
        var targets = Targets(results, machine);
        if (targets.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("| dtype | threads | decode ms/token | target ms/token | decode | prefill GFLOP/s | target GFLOP/s | prefill |");
            w.WriteLine("| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |");
            foreach (var t in targets)
                w.WriteLine(string.Create(Inv, $"| {t.DType} | {t.Threads} | {t.DecodeMs:0.00} | ≤ {t.DecodeTargetMs:0.00} | {Verdict(t.DecodeMet)} | {t.PrefillGflops:0.0} | ≥ {t.PrefillTargetGflops:0.0} | {Verdict(t.PrefillMet)} |"));
            w.WriteLine();
            w.WriteLine("targets: decode ≤ 1.25 × weight bytes per token / measured bandwidth; prefill ≥ 70% of the GEMM microbenchmark " +
                        "(prefill counts matmul FLOPs only: projections and the head; the SSD scan is left out, so the figure is a lower bound)");
        }
        w.WriteLine($"build: mambavl {MachineInfo.Version}");
    }

    public static string Json(IReadOnlyList<BenchResult> results, IReadOnlyList<MachineBaseline> machine)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJson(w, results, machine);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteJson(Utf8JsonWriter w, IReadOnlyList<BenchResult> results, IReadOnlyList<MachineBaseline> machine)
    {
        w.WriteStartObject();
        w.WriteString("build", MachineInfo.Version);
        w.WriteString("cpu_info", MachineInfo.CpuName());
        WriteResults(w, results);
        WriteMachine(w, machine);
        WriteTargets(w, Targets(results, machine));
        w.WriteEndObject();
    }

    private static void WriteResults(Utf8JsonWriter w, IReadOnlyList<BenchResult> results)
    {
        w.WriteStartArray("results");
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("model", r.Model.Label);
            w.WriteNumber("model_size", r.Model.Bytes);
            w.WriteNumber("model_n_params", r.Model.Parameters);
            w.WriteString("backend", r.Backend);
            w.WriteNumber("n_threads", r.Threads);
            w.WriteString("dtype", Name(r.Model.DType));
            w.WriteString("test", r.Test);
            w.WriteNumber("n_prompt", r.PromptTokens);
            w.WriteNumber("n_gen", r.GenTokens);
            w.WriteNumber("median_ts", r.Median);
            w.WriteNumber("stddev_ts", r.StdDev);
            w.WriteStartArray("samples_ts"); foreach (var s in r.Samples) w.WriteNumberValue(s); w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteMachine(Utf8JsonWriter w, IReadOnlyList<MachineBaseline> machine)
    {
        w.WriteStartArray("machine");
        foreach (var m in machine)
        {
            w.WriteStartObject();
            w.WriteNumber("n_threads", m.Threads);
            w.WriteNumber("bandwidth_gbs", m.BandwidthGBs);
            w.WriteNumber("gemm_gflops", m.GemmGflops);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteTargets(Utf8JsonWriter w, IReadOnlyList<TargetCheck> targets)
    {
        w.WriteStartArray("targets");
        foreach (var t in targets)
        {
            w.WriteStartObject();
            w.WriteString("dtype", t.DType);
            w.WriteNumber("n_threads", t.Threads);
            w.WriteNumber("decode_ms_per_token", t.DecodeMs);
            w.WriteNumber("decode_target_ms_per_token", t.DecodeTargetMs);
            w.WriteBoolean("decode_met", t.DecodeMet);
            w.WriteNumber("prefill_gflops", t.PrefillGflops);
            w.WriteNumber("prefill_target_gflops", t.PrefillTargetGflops);
            w.WriteBoolean("prefill_met", t.PrefillMet);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static string Name(Core.Tensors.DType dtype) => dtype.ToString().ToLowerInvariant();
    private static string F(double v) => v.ToString("0.00", Inv);
    private static string Verdict(bool met) => met ? "met" : "missed";
}
