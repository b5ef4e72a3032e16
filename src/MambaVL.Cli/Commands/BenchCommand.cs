// `mambavl bench`: llama-bench for MambaVL. Prefill (pp) and decode (tg) tokens/s over the cross product of dtypes and
// thread counts, median ± stddev over repetitions, then the machine's bandwidth and GEMM speed and the derived targets.
// Without -m it runs a generated mamba2-130m-shaped model with random weights, and says so in every row.
using System.CommandLine;
using MambaVL.Cli.Common;
using MambaVL.Core.Tensors;
using MambaVL.Cpu;
using MambaVL.IO;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model(required: false);
        model.Description = "Model folder (default: a random-weight mamba2-130m-shaped model)";
        var prompt = new Option<int>("--n-prompt", "-p") { Description = "Prompt tokens of the prefill test (0 = skip)", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--n-gen", "-n") { Description = "Tokens of the decode test (0 = skip)", DefaultValueFactory = _ => 128 };
        var threads = new Option<string>("--threads", "-t") { Description = "Thread counts, comma separated", DefaultValueFactory = _ => "1,2" };
        var dtypes = new Option<string>("--dtype") { Description = "Weight storage types, comma separated (f32, bf16, f16)", DefaultValueFactory = _ => "f32,bf16" };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Repetitions of each test", DefaultValueFactory = _ => 5 };
        var output = new Option<string>("--output", "-o") { Description = "md or json", DefaultValueFactory = _ => "md" };
        output.Validators.Add(r => { if (r.GetValueOrDefault<string>() is not ("md" or "json") and var v) r.AddError($"--output: '{v}' is not md or json"); });
        var noWarmup = new Option<bool>("--no-warmup") { Description = "Skip the warm-up run" };
        var preset = new Option<string>("--preset") { Description = "Shape of the random model (130m or tiny)", DefaultValueFactory = _ => "130m", Hidden = true };
        var noBaseline = new Option<bool>("--no-baseline") { Description = "Skip the bandwidth and GEMM microbenchmarks", Hidden = true };
        var profile = new Option<bool>("--profile") { Description = "Also time every op of one prefill and the decode steps, and print where the time goes" };
        var device = SharedOptions.Device();
        var batches = new Option<string>("--batch", "-b") { Description = "Decode batch sizes, comma separated (--device cuda)", DefaultValueFactory = _ => "1,8,64" };
        var prompts = new Option<string>("--prompts") { Description = "Prefill lengths, comma separated (--device cuda)", DefaultValueFactory = _ => "2048,8192,32768" };
        var gemv = new Option<string>("--gemv") { Description = "Decode GEMV kernel for BF16 weights, M ≤ 2 (--device cuda): vec, stream or ring", DefaultValueFactory = _ => "ring" };
        var gemvBatch = new Option<string>("--gemv-batch") { Description = "Decode GEMV kernel for BF16 weights, 3 ≤ M ≤ 8 (--device cuda): vec or mma (tensor cores)", DefaultValueFactory = _ => "mma" };
        var normMatMul = new Option<string>("--norm-matmul") { Description = "Decode block input (--device cuda): fused (add + norm inside the in_proj GEMV) or ops", DefaultValueFactory = _ => "ops" };
        var earlyLaunch = new Option<string>("--early-launch") { Description = "Decode kernels start while the one before ends (--device cuda, Hopper): on or off", DefaultValueFactory = _ => "on" };
        var blocks = new Option<string>("--blocks") { Description = "Decode block stack at batch 1 (--device cuda): fused (one persistent kernel) or ops (kernels per block)", DefaultValueFactory = _ => "fused" };
        var blocksWarps = new Option<int>("--blocks-warps") { Description = "Warps per block of the one-kernel block stack (--device cuda): 8 or 16", DefaultValueFactory = _ => 8, Hidden = true };
        blocksWarps.Validators.Add(r => { if (r.GetValueOrDefault<int>() is not (8 or 16) and var v) r.AddError($"--blocks-warps: {v} is not 8 or 16"); });
        var blocksProducts = new Option<string>("--blocks-products") { Description = "The one-kernel block stack's products (--device cuda): ring (CUDA cores) or mma (tensor cores)", DefaultValueFactory = _ => "mma", Hidden = true };
        var blocksTrace = new Option<bool>("--blocks-trace") { Description = "Time the one-kernel block stack's phases (--device cuda)", Hidden = true };
        var stepProjection = new Option<string>("--step-projection") { Description = "Decode mixer step + out_proj (--device cuda): fused (gate norm inside the out_proj GEMV) or ops", DefaultValueFactory = _ => "fused" };
        var mambaStep = new Option<string>("--mamba-step") { Description = "Decode mixer step (--device cuda): fused (one kernel) or ops (conv, SSM step, gated norm)", DefaultValueFactory = _ => "fused" };

        var command = new Command("bench", "Benchmark prefill and decode speed (llama-bench style)")
        {
            model, prompt, gen, threads, dtypes, reps, output, noWarmup, preset, noBaseline, profile, device, batches, prompts, gemv, gemvBatch, mambaStep, normMatMul, earlyLaunch, stepProjection, blocks, blocksWarps, blocksProducts, blocksTrace,
            BenchVisionCommand.Create(),
            BenchMlMambaCommand.Create(),
            BenchMmMambaCommand.Create(),
            BenchSsdCommand.Create(),
            BenchAttentionCommand.Create(),
        };
        command.SetAction(parse =>
        {
            if (Backends.CudaIndex(parse.GetValue(device)!) is int gpu)
            {
                var gemvVariant = Choice(parse.GetValue(gemv)!, "--gemv", ("vec", Cuda.GemvVariant.Vec), ("stream", Cuda.GemvVariant.Stream), ("ring", Cuda.GemvVariant.Ring));
                var gemvBatchVariant = Choice(parse.GetValue(gemvBatch)!, "--gemv-batch", ("vec", Cuda.GemvBatchVariant.Vec), ("mma", Cuda.GemvBatchVariant.Mma));
                bool fusedStep = Choice(parse.GetValue(mambaStep)!, "--mamba-step", ("fused", true), ("ops", false));
                bool fusedNorm = Choice(parse.GetValue(normMatMul)!, "--norm-matmul", ("fused", true), ("ops", false));
                bool early = Choice(parse.GetValue(earlyLaunch)!, "--early-launch", ("on", true), ("off", false));
                bool fusedProjection = Choice(parse.GetValue(stepProjection)!, "--step-projection", ("fused", true), ("ops", false));
                bool fusedBlocks = Choice(parse.GetValue(blocks)!, "--blocks", ("fused", true), ("ops", false));
                var blocksProductKernel = Choice(parse.GetValue(blocksProducts)!, "--blocks-products", ("ring", Cuda.BlocksProductKernel.Ring), ("mma", Cuda.BlocksProductKernel.Mma));
                // one run per storage type, as on the CPU (the last one was taken alone before)
                var cudaPlans = CliParse.DTypes(parse.GetValue(dtypes)!, "--dtype").Select(dtype => new CudaBench.Plan(gpu, parse.GetValue(model), parse.GetValue(preset)!, dtype,
                    CliParse.IntList(parse.GetValue(prompts)!, "--prompts"), parse.GetValue(gen), CliParse.IntList(parse.GetValue(batches)!, "--batch"), parse.GetValue(reps), parse.GetValue(profile))
                    { Gemv = gemvVariant, GemvBatch = gemvBatchVariant, FusedMambaStep = fusedStep, FusedNormMatMul = fusedNorm, FusedStepProjection = fusedProjection, FusedBlocksStep = fusedBlocks, BlocksWarps = parse.GetValue(blocksWarps), BlocksProducts = blocksProductKernel, TraceBlocks = parse.GetValue(blocksTrace), EarlyLaunch = early });
                var ctx = CliContext.From(parse);
                return cudaPlans.Select(p => CudaBench.Run(ctx, p)).Max();
            }
            var plan = new Plan(parse.GetValue(model), parse.GetValue(preset)!, parse.GetValue(prompt), parse.GetValue(gen),
                CliParse.IntList(parse.GetValue(threads)!, "--threads"), CliParse.DTypes(parse.GetValue(dtypes)!, "--dtype"),
                parse.GetValue(reps), !parse.GetValue(noWarmup), !parse.GetValue(noBaseline), parse.GetValue(profile));
            return Run(CliContext.From(parse), plan, parse.GetValue(output) == "json");
        });
        return command;
    }

    private sealed record Plan(string? ModelPath, string Preset, int PromptTokens, int GenTokens, int[] Threads, DType[] DTypes,
        int Repetitions, bool Warmup, bool MeasureBaseline, bool Profile);

    private static int Run(CliContext ctx, Plan plan, bool json)
    {
        if (plan.PromptTokens < 0 || plan.GenTokens < 0 || plan.PromptTokens + plan.GenTokens == 0)
            throw new CliException("--n-prompt and --n-gen: give at least one positive token count");
        if (plan.Repetitions < 1) throw new CliException($"--repetitions: {plan.Repetitions} is not a positive count");
        if (plan.DTypes.Length == 0) throw new CliException("--dtype: no storage types given");

        // Baselines first: measured on a quiet machine, before the model's gigabytes are allocated.
        List<MachineBaseline> machine = plan.MeasureBaseline
            ? ctx.ErrConsole.Status().Start("measuring memory bandwidth and GEMM speed", _ => plan.Threads.Select(MachineBaselines.Measure).OfType<MachineBaseline>().ToList())
            : [];
        var results = new List<BenchResult>();
        var profiles = new List<BenchProfile>();
        var folder = plan.ModelPath is null ? null : ModelFolder.Open(plan.ModelPath);
        using var folderWeights = folder?.OpenWeights();
        foreach (var dtype in plan.DTypes)
        {
            var model = ctx.ErrConsole.Status().Start($"preparing {BenchReport.Name(dtype)} weights", _ => folder is null || folderWeights is null
                ? BenchModel.Random(plan.Preset, dtype, seed: 0)
                : BenchModel.FromFolder(folder, folderWeights, dtype));
            foreach (int t in plan.Threads)
            {
                results.AddRange(RunTests(ctx, plan, model, t));
                if (plan.Profile) profiles.AddRange(BenchProfile.Run(ctx, model, t, plan.PromptTokens, plan.GenTokens));
            }
        }

        if (json) ctx.Out.WriteLine(BenchReport.Json(results, machine));
        else BenchReport.WriteMarkdown(ctx.Out, results, machine, plan.MeasureBaseline ? MachineBaselines.Unavailable : "skipped (--no-baseline)");
        if (!json) foreach (var p in profiles) p.WriteMarkdown(ctx.Out);
        return MambaVlCli.Ok;
    }

    private static IEnumerable<BenchResult> RunTests(CliContext ctx, Plan plan, BenchModel benchModel, int threads)
    {
        var model = benchModel.Load(threads);
        var ids = BenchStats.RandomIds(Math.Max(plan.PromptTokens, 1), model.VocabSize);
        string backend = $"CPU ({CpuFeatures.Describe()})";
        string where = $"{BenchReport.Name(benchModel.DType)}, {threads} thread{(threads == 1 ? "" : "s")}";
        if (plan.PromptTokens > 0)
        {
            var samples = ctx.ErrConsole.Status().Start($"pp{plan.PromptTokens} ({where})",
                _ => BenchStats.Prefill(model, ids, plan.Repetitions, plan.Warmup));
            yield return new BenchResult(benchModel, threads, $"pp{plan.PromptTokens}", plan.PromptTokens, 0, samples, backend);
        }
        if (plan.GenTokens > 0)
        {
            var samples = ctx.ErrConsole.Status().Start($"tg{plan.GenTokens} ({where})",
                _ => BenchStats.Decode(model, ids, plan.GenTokens, plan.Repetitions, plan.Warmup));
            yield return new BenchResult(benchModel, threads, $"tg{plan.GenTokens}", 0, plan.GenTokens, samples, backend);
        }
    }

    /// <summary>The value named by <paramref name="value"/> among <paramref name="choices"/>, or a one-line error listing them.</summary>
    internal static T Choice<T>(string value, string option, params (string Name, T Value)[] choices)
    {
        foreach (var (name, v) in choices)
            if (name == value) return v;
        var names = choices.Select(c => c.Name).ToArray();
        throw new CliException($"{option}: '{value}' is not {string.Join(", ", names[..^1])} or {names[^1]}");
    }
}
