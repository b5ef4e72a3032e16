// `mambavl bench vision`: ML-Mamba's vision featurizer (DINOv2-L/14-reg4 + SigLIP-SO400M/14 at 384 px, features of the
// second-to-last blocks, concatenated) on the CPU with random weights: ms per image and images/s per dtype and thread
// count, with the GFLOP/s achieved against the machine's GEMM microbenchmark.
using System.CommandLine;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Cpu;
using MambaVL.Models.Vision;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class BenchVisionCommand
{
    public static Command Create()
    {
        var threads = new Option<string>("--threads", "-t") { Description = "Thread counts, comma separated", DefaultValueFactory = _ => "1,2" };
        var dtypes = new Option<string>("--dtype") { Description = "Weight storage types, comma separated (f32, bf16, f16)", DefaultValueFactory = _ => "f32,bf16" };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Images timed per configuration", DefaultValueFactory = _ => 3 };
        var size = new Option<int>("--image-size") { Description = "Image side in pixels (multiple of 14)", DefaultValueFactory = _ => 384 };
        var noWarmup = new Option<bool>("--no-warmup") { Description = "Skip the warm-up image" };
        var noBaseline = new Option<bool>("--no-baseline") { Description = "Skip the GEMM microbenchmark" };
        var tiny = new Option<bool>("--tiny") { Description = "Small towers instead of the full-size ones (for tests)", Hidden = true };
        var command = new Command("vision", "Benchmark ML-Mamba's DINOv2 + SigLIP featurizer on random weights (images/s)")
        {
            threads, dtypes, reps, size, noWarmup, noBaseline, tiny,
        };
        command.SetAction(parse => Run(CliContext.From(parse), new Plan(
            CliParse.IntList(parse.GetValue(threads)!, "--threads"), CliParse.DTypes(parse.GetValue(dtypes)!, "--dtype"),
            parse.GetValue(reps), parse.GetValue(size), !parse.GetValue(noWarmup), !parse.GetValue(noBaseline), parse.GetValue(tiny))));
        return command;
    }

    private sealed record Plan(int[] Threads, DType[] DTypes, int Repetitions, int ImageSize, bool Warmup, bool Baseline, bool Tiny);

    private sealed record Row(DType DType, int Threads, double[] SecondsPerImage, double Gflop);

    private static int Run(CliContext ctx, Plan plan)
    {
        if (plan.Repetitions < 1) throw new CliException($"--repetitions: {plan.Repetitions} is not a positive count");
        if (plan.ImageSize < 14) throw new CliException($"--image-size: {plan.ImageSize} is smaller than one 14-pixel patch");
        var (dinoCfg, siglipCfg) = plan.Tiny ? TinyTowers() : (VitRandom.Dinov2LargeReg4(), VitRandom.SigLipSo400m384());
        var machine = plan.Baseline
            ? ctx.ErrConsole.Status().Start("measuring GEMM speed", _ => plan.Threads.Select(MachineBaselines.Measure).OfType<MachineBaseline>().ToList())
            : [];
        var rows = new List<Row>();
        long parameters = 0;
        foreach (var dtype in plan.DTypes)
        {
            var (dinoW, siglipW) = ctx.ErrConsole.Status().Start($"generating {BenchReport.Name(dtype)} weights",
                _ => (VitRandom.CreateWeights(dinoCfg, 1, dtype), VitRandom.CreateWeights(siglipCfg, 2, dtype)));
            parameters = dinoW.Values.Sum(t => t.Length) + siglipW.Values.Sum(t => t.Length);
            foreach (int t in plan.Threads)
            {
                using var cpu = new CpuBackend(t);
                var featurizer = new DinoSigLipFeaturizer(
                    VisionTransformer.Load(VitRandom.ConfigFor(dinoCfg), new DictionaryWeightSource(dinoW), cpu, plan.ImageSize),
                    VisionTransformer.Load(VitRandom.ConfigFor(siglipCfg), new DictionaryWeightSource(siglipW), cpu, plan.ImageSize), cpu);
                var pixels = Tensor.FromArray(Enumerable.Range(0, 3 * plan.ImageSize * plan.ImageSize).Select(i => (float)Math.Sin(i * 0.01)).ToArray(),
                    3, plan.ImageSize, plan.ImageSize);
                var samples = ctx.ErrConsole.Status().Start($"featurizing ({BenchReport.Name(dtype)}, {t} thread{(t == 1 ? "" : "s")})",
                    _ => BenchStats.Seconds(() => featurizer.Features(pixels, pixels), plan.Repetitions, plan.Warmup));
                rows.Add(new Row(dtype, t, samples, Flops(featurizer) / 1e9));
            }
        }
        Write(ctx.Out, rows, machine, parameters, plan);
        return MambaVlCli.Ok;
    }

    /// <summary>Matmul and attention FLOPs of one image through both towers, up to their tapped blocks.</summary>
    private static double Flops(DinoSigLipFeaturizer f) => TowerFlops(f.Dino, f.DinoBlock + 1) + TowerFlops(f.SigLip, f.SigLipBlock + 1);

    internal static double TowerFlops(VisionTransformer vit, int blocks)
    {
        var c = vit.Config;
        double tokens = vit.Tokens, d = c.EmbedDim;
        double perBlock = 2 * tokens * (4 * d * d + 2 * d * c.MlpHidden) + 4 * tokens * tokens * d;
        return 2 * vit.Grid * vit.Grid * d * 3 * c.PatchSize * c.PatchSize + blocks * perBlock;
    }

    private static void Write(TextWriter w, List<Row> rows, List<MachineBaseline> machine, long parameters, Plan plan)
    {
        var inv = CultureInfo.InvariantCulture;
        string towers = plan.Tiny ? "tiny DINO + SigLIP (random weights)" : "DINOv2-L/14-reg4 + SigLIP-SO400M/14 (random weights)";
        w.WriteLine("| towers | image | params | backend | threads | dtype | ms/image | images/s | GFLOP/s | of GEMM peak |");
        w.WriteLine("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            double median = BenchStats.Median(r.SecondsPerImage), gflops = r.Gflop / median;
            var peak = machine.FirstOrDefault(m => m.Threads == r.Threads);
            string share = peak is null ? "n/a" : string.Create(inv, $"{100 * gflops / peak.GemmGflops:0}%");
            w.WriteLine(string.Create(inv, $"| {towers} | {plan.ImageSize} | {Units.Count(parameters)} | CPU ({CpuFeatures.Describe()}) | {r.Threads} | {BenchReport.Name(r.DType)} | {1000 * median:0.0} ± {1000 * BenchStats.StdDev(r.SecondsPerImage):0.0} | {1 / median:0.000} | {gflops:0.0} | {share} |"));
        }
        w.WriteLine();
        w.WriteLine($"machine: {MachineInfo.CpuName()}, {Environment.ProcessorCount} logical cores");
        foreach (var m in machine) w.WriteLine(string.Create(inv, $"threads {m.Threads}: GEMM (f32) {m.GemmGflops:0.0} GFLOP/s"));
        w.WriteLine(string.Create(inv, $"work per image: {rows.FirstOrDefault()?.Gflop ?? 0:G4} GFLOP (projections, MLPs and attention up to the tapped blocks)"));
        w.WriteLine($"build: mambavl {MachineInfo.Version}");
    }

    /// <summary>The image side the tiny towers are tested at (a 5×5 grid; DINO's 7×7 positions are resampled).</summary>
    internal const int TinyImageSize = 70;

    /// <summary>Small DINO and SigLIP shapes for tests of the benchmarks (`--tiny`).</summary>
    internal static (VitConfig, VitConfig) TinyTowers() => (
        VitRandom.Dinov2LargeReg4() with { EmbedDim = 48, Depth = 3, Heads = 3, MlpHidden = 96, StoredImageSize = 98 },
        VitRandom.SigLipSo400m384() with { EmbedDim = 40, Depth = 3, Heads = 4, MlpHidden = 75, StoredImageSize = 70 });
}
