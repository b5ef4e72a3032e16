// `mambavl bench mlmamba`: ML-Mamba at full size (DINOv2-L + SigLIP-SO400M at 384, the 2-block connector, the projector,
// Mamba-2 2.7B) with random weights on the CPU (per thread count) or a GPU: time to first token for an image and a
// 20-token question (split into vision, connector + projector and LM prefill) and decode tokens/s.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Core.Config;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Cpu;
using MambaVL.Models.Mamba2;
using MambaVL.Models.MlMamba;
using MambaVL.Models.Vision;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class BenchMlMambaCommand
{
    public static Command Create()
    {
        var threads = new Option<string>("--threads", "-t") { Description = "Thread counts, comma separated", DefaultValueFactory = _ => "2" };
        var dtype = new Option<string>("--dtype") { Description = "Weight storage (bf16 fits a 24 GB machine; f32 needs ~16 GB)", DefaultValueFactory = _ => "bf16" };
        var question = new Option<int>("--n-prompt", "-p") { Description = "Question tokens after the image", DefaultValueFactory = _ => 20 };
        var gen = new Option<int>("--n-gen", "-n") { Description = "Tokens of the decode test", DefaultValueFactory = _ => 32 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Repetitions (after one warm-up)", DefaultValueFactory = _ => 1 };
        var tiny = new Option<bool>("--tiny") { Description = "A small model instead of the full-size one (for tests)", Hidden = true };
        var device = SharedOptions.Device();
        var command = new Command("mlmamba", "Benchmark ML-Mamba at full size on random weights: time to first token and decode tokens/s")
        {
            threads, dtype, question, gen, reps, tiny, device,
        };
        command.SetAction(parse => Run(CliContext.From(parse), parse.GetValue(device)!, CliParse.IntList(parse.GetValue(threads)!, "--threads"),
            DTypeInfo.Parse(parse.GetValue(dtype)!), parse.GetValue(question), parse.GetValue(gen), parse.GetValue(reps), parse.GetValue(tiny)));
        return command;
    }

    private sealed record Row(string Where, double[] Vision, double[] Connector, double[] Prefill, double[] DecodeTokensPerSecond);

    private static int Run(CliContext ctx, string device, int[] threadCounts, DType dtype, int questionTokens, int genTokens, int reps, bool tiny)
    {
        if (reps < 1 || questionTokens < 1 || genTokens < 1) throw new CliException("--repetitions, --n-prompt and --n-gen must be positive");
        var llm = tiny ? new Mamba2Config { DModel = 64, NLayer = 2, VocabSize = 97, DState = 16, HeadDim = 16, ChunkSize = 8 }
            : Mamba2Config.FromJson(ConfigJson.Parse(MlMambaConverter.Mamba2_2_7b, "mamba2-2.7b config"));
        var (dinoCfg, siglipCfg) = tiny ? BenchVisionCommand.TinyTowers() : (VitRandom.Dinov2LargeReg4(), VitRandom.SigLipSo400m384());
        int size = tiny ? BenchVisionCommand.TinyImageSize : 384;
        var connector = new ScanConnectorConfig(llm, ScanConnectorConfig.Bidirectional);
        var (weights, dinoW, siglipW) = ctx.ErrConsole.Status().Start($"generating {BenchReport.Name(dtype)} weights", _ =>
            (MlMambaRandom.CreateWeights(llm, connector, dinoCfg.EmbedDim + siglipCfg.EmbedDim, 1, dtype),
             VitRandom.CreateWeights(dinoCfg, 2, dtype), VitRandom.CreateWeights(siglipCfg, 3, dtype)));
        long parameters = weights.Values.Sum(t => t.Length) + dinoW.Values.Sum(t => t.Length) + siglipW.Values.Sum(t => t.Length);
        var rows = new List<Row>();
        // a GPU runs once; the CPU once per thread count
        foreach (int t in Backends.CudaIndex(device) is null ? threadCounts : [0])
        {
            var (backend, owner) = Backends.Create(device, t);
            using var _ = owner;
            string where = backend is CpuBackend ? $"{t} thread{(t == 1 ? "" : "s")}" : backend.Name;
            var vision = new DinoSigLipFeaturizer(
                VisionTransformer.Load(VitRandom.ConfigFor(dinoCfg), new DictionaryWeightSource(dinoW), backend, size),
                VisionTransformer.Load(VitRandom.ConfigFor(siglipCfg), new DictionaryWeightSource(siglipW), backend, size), backend);
            var model = new MlMambaModel(llm, connector, vision, new DictionaryWeightSource(weights), backend);
            rows.Add(ctx.ErrConsole.Status().Start($"image + {questionTokens} tokens, then {genTokens} decoded ({where})",
                _ => Measure(model, size, questionTokens, genTokens, reps, where)));
        }
        Write(ctx.Out, rows, parameters, dtype, tiny, questionTokens, genTokens);
        return MambaVlCli.Ok;
    }

    /// <summary>Each stage is timed to its end: a GPU's queue is drained (a small read) before the clock is read.</summary>
    private static Row Measure(MlMambaModel model, int size, int questionTokens, int genTokens, int reps, string where)
    {
        var backend = model.Llm.Backend;
        void Finish(Tensor t) => backend.ToHost(t.Narrow(0, 0, 1));
        var greedy = Core.Ops.TokenSamplingRequest.Greedy;
        int Greedy(Tensor logits) => backend is Core.Ops.ITokenSampler device
            ? device.SampleToken(logits, logits.Dim(0) - 1, logits.Dim(1), greedy)
            : Generation.Sampling.Sampler.Reference(backend.ToHost(logits).AsSpan((logits.Dim(0) - 1) * logits.Dim(1)), greedy);
        var pixels = Tensor.FromArray(Enumerable.Range(0, 3 * size * size).Select(i => (float)Math.Sin(i * 0.01)).ToArray(), 3, size, size);
        var ids = BenchStats.RandomIds(questionTokens, model.Llm.VocabSize);
        var (vision, connector, prefill, decode) = (new double[reps], new double[reps], new double[reps], new double[reps]);
        for (int r = -1; r < reps; r++)  // r = -1 warms up
        {
            long t0 = Stopwatch.GetTimestamp();
            var features = model.Vision.Features(pixels, pixels);
            Finish(features);
            long t1 = Stopwatch.GetTimestamp();
            var visual = model.VisualTokens(features);
            Finish(visual);
            long t2 = Stopwatch.GetTimestamp();
            var state = model.Llm.CreateState();
            int next = Greedy(model.Prefill(visual, ids, state));
            long t3 = Stopwatch.GetTimestamp();
            for (int i = 0; i < genTokens; i++) next = Greedy(model.Llm.Step([next], state));
            long t4 = Stopwatch.GetTimestamp();
            if (r < 0) continue;
            (vision[r], connector[r], prefill[r]) = (Seconds(t0, t1), Seconds(t1, t2), Seconds(t2, t3));
            decode[r] = genTokens / Seconds(t3, t4);
        }
        return new Row(where, vision, connector, prefill, decode);
    }

    private static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;

    private static void Write(TextWriter w, List<Row> rows, long parameters, DType dtype, bool tiny, int question, int gen)
    {
        var inv = CultureInfo.InvariantCulture;
        string label = tiny ? "tiny ML-Mamba (random weights)" : "ML-Mamba 2.7B + DINOv2-L + SigLIP-SO400M (random weights)";
        w.WriteLine($"| model | params | dtype | backend | time to first token (s) | vision (s) | connector + projector (s) | LM prefill: image + {question} tokens (s) | tg{gen} t/s |");
        w.WriteLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            double v = BenchStats.Median(r.Vision), c = BenchStats.Median(r.Connector), p = BenchStats.Median(r.Prefill);
            w.WriteLine(string.Create(inv, $"| {label} | {Units.Count(parameters)} | {BenchReport.Name(dtype)} | {r.Where} | {v + c + p:0.00} | {v:0.00} | {c:0.00} | {p:0.00} | {BenchStats.Median(r.DecodeTokensPerSecond):0.00} |"));
        }
        w.WriteLine();
        w.WriteLine($"machine: {MachineInfo.CpuName()}, {Environment.ProcessorCount} logical cores");
        w.WriteLine($"build: mambavl {MachineInfo.Version}");
    }
}
