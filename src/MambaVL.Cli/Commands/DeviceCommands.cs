// `mambavl info` (the machine: CPU features and threads, or with --device cuda the GPU, its memory, driver and NVRTC) and
// `mambavl selfcheck --device cuda` (every CUDA op against the CPU reference on odd sizes, as a table; exit 1 on a failure).
using System.CommandLine;
using System.Globalization;
using MambaVL.Cli.Common;
using MambaVL.Cuda;
using Spectre.Console;

namespace MambaVL.Cli.Commands;

public static class DeviceCommands
{

    public static Command Info()
    {
        var device = SharedOptions.Device();
        var command = new Command("info", "Show what this machine offers: CPU features, or the GPU with --device cuda") { device };
        command.SetAction(parse =>
        {
            var ctx = CliContext.From(parse);
            if (Backends.CudaIndex(parse.GetValue(device)!) is not int index)
            {
                ctx.Out.WriteLine(MachineInfo.Describe());
                return MambaVlCli.Ok;
            }
            using var gpu = CudaDevice.Open(index);
            ctx.Out.WriteLine(gpu.Describe());
            return MambaVlCli.Ok;
        });
        return command;
    }

    public static Command SelfCheck()
    {
        var device = SharedOptions.Device();
        device.DefaultValueFactory = _ => "cuda";
        var command = new Command("selfcheck", "Check every CUDA op against the CPU reference on random odd-sized inputs") { device };
        command.SetAction(parse =>
        {
            var ctx = CliContext.From(parse);
            int index = Backends.CudaIndex(parse.GetValue(device)!) ?? throw new CliException("--device: selfcheck checks a GPU (cuda or cuda:N); the CPU kernels have their own test suite");
            using var gpu = CudaDevice.Open(index);
            ctx.Out.WriteLine(gpu.Describe());
            using var backend = new CudaBackend(gpu);
            var rows = CudaSelfCheck.Run(backend).ToList();
            rows.Add(Mamba2Parity(backend));
            rows.Add(GraphParity(backend));
            rows.Add(LinearGraphParity(backend));
            rows.Add(NormFusionParity(backend));
            rows.Add(StepProjectionParity(backend));
            rows.Add(BlocksParity(backend));
            rows.AddRange(DeviceSamplerCheck.Run(backend));
            rows.Add(HybridParity(backend));
            rows.Add(MlMambaParity(backend));
            var table = new Table().AddColumn("op").AddColumn("shape").AddColumn("dtype")
                .AddColumn(new TableColumn("relative error").RightAligned()).AddColumn("result");
            foreach (var r in rows)
                table.AddRow(r.Op, r.Shape, r.DType, r.RelativeError.ToString("0.00e+00", CultureInfo.InvariantCulture), r.Passed ? "pass" : "FAIL");
            ctx.OutConsole.Write(table);
            int failed = rows.Count(r => !r.Passed);
            ctx.Out.WriteLine(failed == 0 ? $"all {rows.Count} checks passed" : $"{failed} of {rows.Count} checks FAILED");
            return failed == 0 ? MambaVlCli.Ok : MambaVlCli.Failed;
        });
        return command;
    }

    /// <summary>
    /// A tiny random ML-Mamba (DINOv2 + SigLIP towers, the bidirectional scan connector with flipped views, the projector,
    /// the Mamba-2 LM): image + prompt prefill and steps, GPU against the CPU reference.
    /// </summary>
    private static SelfCheckRow MlMambaParity(CudaBackend gpu)
    {
        var llm = new Models.Mamba2.Mamba2Config { DModel = 64, NLayer = 2, VocabSize = 97, DState = 16, HeadDim = 16, ChunkSize = 8 };
        var (dinoCfg, siglipCfg) = BenchVisionCommand.TinyTowers();
        int size = BenchVisionCommand.TinyImageSize;
        var connector = new Models.MlMamba.ScanConnectorConfig(llm, Models.MlMamba.ScanConnectorConfig.Bidirectional);
        var weights = Models.MlMamba.MlMambaRandom.CreateWeights(llm, connector, dinoCfg.EmbedDim + siglipCfg.EmbedDim, 1, Core.Tensors.DType.F32);
        var (dinoW, siglipW) = (Models.Vision.VitRandom.CreateWeights(dinoCfg, 2), Models.Vision.VitRandom.CreateWeights(siglipCfg, 3));
        var pixels = Core.Tensors.Tensor.FromArray(Enumerable.Range(0, 3 * size * size).Select(i => MathF.Sin(i * 0.01f)).ToArray(), 3, size, size);
        float[] Run(Core.Ops.IBackend backend)
        {
            Models.Vision.VisionTransformer Tower(Models.Vision.VitConfig c, IReadOnlyDictionary<string, Core.Tensors.Tensor> w) =>
                Models.Vision.VisionTransformer.Load(Models.Vision.VitRandom.ConfigFor(c), new Core.Weights.DictionaryWeightSource(w), backend, size);
            var vision = new Models.Vision.DinoSigLipFeaturizer(Tower(dinoCfg, dinoW), Tower(siglipCfg, siglipW), backend);
            var model = new Models.MlMamba.MlMambaModel(llm, connector, vision, new Core.Weights.DictionaryWeightSource(weights), backend);
            var state = model.Llm.CreateState();
            var logits = new List<float>(backend.ToHost(model.Prefill(model.VisualTokens(pixels, pixels), [5, 17, 40], state, allLogits: true)));
            foreach (int id in new[] { 3, 90 }) logits.AddRange(backend.ToHost(model.Llm.Step([id], state)));
            return logits.ToArray();
        }
        return CudaSelfCheck.Compare("ML-Mamba forward", "tiny: image + 3-token prefill + 2 steps", "f32", Run(gpu), Run(Core.Reference.ReferenceBackend.Instance));
    }

    /// <summary>
    /// A tiny random mmMamba-hybrid (embedding module and LLM with attention and Mamba-2 layers, GQA, RoPE, special
    /// tokens) and its image path: prefill of an image-and-text prompt and steps, GPU against the CPU reference.
    /// </summary>
    private static SelfCheckRow HybridParity(CudaBackend gpu)
    {
        var cfg = Models.HoVle.HoVleRandom.Tiny(Models.HoVle.HoVleVariant.Hybrid);
        var weights = new Core.Weights.DictionaryWeightSource(Models.HoVle.HoVleRandom.CreateWeights(cfg, 5));
        var tile = Core.Tensors.Tensor.FromArray(Enumerable.Range(0, 3 * 28 * 28).Select(i => MathF.Sin(i * 0.37f)).ToArray(), 1, 3, 28, 28);
        float[] Run(Core.Ops.IBackend backend)
        {
            var model = new Models.HoVle.HoVleModel(cfg, weights, backend);
            var state = model.CreateState();
            model.PrefillImage(new Dictionary<string, Core.Tensors.Tensor> { ["pixels"] = tile }, state);
            int[] ids = [1, 5, 17, cfg.ImageContextId, 40, 41, 42];
            var logits = new List<float>(backend.ToHost(model.Prefill(ids, state, allLogits: true)));
            foreach (int id in new[] { 3, 250 }) logits.AddRange(backend.ToHost(model.Step([id], state)));
            return logits.ToArray();
        }
        return CudaSelfCheck.Compare("mmMamba-hybrid forward", "tiny: image + 7-token prefill + 2 steps", "f32", Run(gpu), Run(Core.Reference.ReferenceBackend.Instance));
    }

    /// <summary>
    /// Decode steps of a batch of 3 replayed from a CUDA graph against the same steps run op by op on the GPU (the graph
    /// must have been used: a state that never replays fails the row).
    /// </summary>
    private static SelfCheckRow GraphParity(CudaBackend gpu)
    {
        var cfg = new Models.Mamba2.Mamba2Config { DModel = 48, NLayer = 2, VocabSize = 97, DState = 24, HeadDim = 16, NGroups = 2, ChunkSize = 8 };
        var weights = new Core.Weights.DictionaryWeightSource(Models.Mamba2.Mamba2Random.CreateWeights(cfg, 4));
        return GraphRow(gpu, "tiny Mamba-2, B=3, 6 steps vs op by op", () =>
        {
            var lm = Models.Mamba2.Mamba2LM.Load(cfg, weights, gpu);
            var state = (Models.Mamba2.Mamba2State)lm.CreateState(3);
            var logits = new List<float>();
            for (int t = 0; t < 6; t++) logits.AddRange(gpu.ToHost(lm.Step([t * 7 % 97, 50 + t, 96 - t], state)));
            return (logits.ToArray(), state.ReplaysSteps);
        });
    }

    /// <summary>
    /// A BF16 Mamba-2 of width 256 at batch 1, whose blocks' add + norm run inside the in_proj GEMV (and norm_f inside
    /// the LM head's), 6 steps replayed from a CUDA graph, against the same steps with the norms as their own kernels.
    /// Bound 2e-3, not 1e-4: the fused norm sums its squares in another order, which can move a normalised value across
    /// a BF16 rounding boundary (one ulp, 2^-8, of one input of a product) before the projection rounds x to BF16.
    /// </summary>
    private static SelfCheckRow NormFusionParity(CudaBackend gpu)
    {
        bool chosen = gpu.FusedNormMatMul;
        try
        {
            return FusionParity(gpu, fused => gpu.FusedNormMatMul = fused, "decode steps, norm inside in_proj", "norm kernels", 2e-3);
        }
        finally { gpu.FusedNormMatMul = chosen; }
    }

    /// <summary>
    /// The same model and steps with each block's mixer step + out_proj as mamba_step (gate norm deferred) and
    /// gemv_ring*_gate, against MambaStep then MatMul. The standard 1e-4 bound: the fused path is bit-identical to the
    /// composition (same partial sums, the same gate_scale and product order, the same ring GEMV), so any difference fails.
    /// </summary>
    private static SelfCheckRow StepProjectionParity(CudaBackend gpu)
    {
        bool chosen = gpu.FusedStepProjection;
        try
        {
            return FusionParity(gpu, fused => gpu.FusedStepProjection = fused, "decode steps, gate norm inside out_proj", "step then out_proj",
                CudaSelfCheck.Tolerance);
        }
        finally { gpu.FusedStepProjection = chosen; }
    }

    /// <summary>
    /// The same model and steps with the block stack as the one mamba_blocks kernel (its table built on the first, eager
    /// step, then replayed from the graph), against the blocks' own kernels. Bound 2e-3: the kernel sums each block
    /// norm's squares in another order (NormFusionParity's reason), and with its default tensor-core products the GEMV
    /// sums too (the same kind of rounding-boundary difference).
    /// </summary>
    private static SelfCheckRow BlocksParity(CudaBackend gpu)
    {
        bool chosen = gpu.FusedBlocksStep;
        try
        {
            return FusionParity(gpu, fused => gpu.FusedBlocksStep = fused, "decode steps, block stack as one kernel", "per-block kernels", 2e-3,
                () => gpu.BlocksFallback);
        }
        finally { gpu.FusedBlocksStep = chosen; }
    }

    /// <summary>
    /// A BF16 Mamba-2 of width 256 (DInner 512: 16 heads of 32, one gate group), batch 1, 6 steps from a CUDA graph with a
    /// fusion switched on (<paramref name="set"/>(true)) against the same steps with it off; the graph must have replayed.
    /// </summary>
    /// <param name="fallback">Asked after the fused run: why it ran the composition (null: it did not), which fails the row.</param>
    private static SelfCheckRow FusionParity(CudaBackend gpu, Action<bool> set, string op, string against, double bound, Func<string?>? fallback = null)
    {
        var cfg = new Models.Mamba2.Mamba2Config { DModel = 256, NLayer = 2, VocabSize = 97, DState = 32, HeadDim = 32, ChunkSize = 8 };
        var weights = new Core.Weights.DictionaryWeightSource(Models.Mamba2.Mamba2Random.CreateWeights(cfg, 7, Core.Tensors.DType.BF16));
        (float[] Logits, bool Replayed) Run(bool fused)
        {
            set(fused);
            var lm = Models.Mamba2.Mamba2LM.Load(cfg, weights, gpu);
            var state = (Models.Mamba2.Mamba2State)lm.CreateState(1);
            var logits = new List<float>();
            for (int t = 0; t < 6; t++) logits.AddRange(gpu.ToHost(lm.Step([t * 13 % 97], state)));
            return (logits.ToArray(), state.ReplaysSteps);
        }
        var (fused, replayed) = Run(fused: true);
        if (fallback?.Invoke() is { } why) return new SelfCheckRow($"{op} (ran the composition: {why})", "BF16 Mamba-2 D=256, B=1", "bf16 w+x", double.PositiveInfinity, 0);
        var row = CudaSelfCheck.Compare(op, $"BF16 Mamba-2 D=256, B=1, 6 graph steps vs {against}", "bf16 w+x", fused, Run(fused: false).Logits)
            with { Tolerance = bound };
        return Replayed(row, replayed);
    }

    /// <summary>The row, failed and marked where the steps it compares never replayed a graph (nothing graph-specific was checked).</summary>
    private static SelfCheckRow Replayed(SelfCheckRow row, bool replayed) =>
        replayed ? row : row with { Op = $"{row.Op} (graph never replayed)", RelativeError = double.PositiveInfinity };

    /// <summary>
    /// Runs <paramref name="steps"/> op by op and then with graphs (a fresh model and state each time) and compares the
    /// logits; a run whose state never replayed a graph fails the row.
    /// </summary>
    private static SelfCheckRow GraphRow(CudaBackend gpu, string shape, Func<(float[] Logits, bool Replayed)> steps)
    {
        try
        {
            gpu.UseGraphs = false;
            var (eager, _) = steps();
            gpu.UseGraphs = true;
            var (replayed, used) = steps();
            var row = CudaSelfCheck.Compare("decode steps from a CUDA graph", shape, "f32", replayed, eager);
            return Replayed(row, used);
        }
        finally { gpu.UseGraphs = true; }
    }

    /// <summary>
    /// mmMamba-linear's decode steps (no attention layers: recorded) from a CUDA graph against op by op, a special token
    /// (not replayable: run as it is) among them; the graph must have been used.
    /// </summary>
    private static SelfCheckRow LinearGraphParity(CudaBackend gpu)
    {
        var cfg = Models.HoVle.HoVleRandom.Tiny(Models.HoVle.HoVleVariant.Linear) with { SpecialTokens = 3 };
        var weights = new Core.Weights.DictionaryWeightSource(Models.HoVle.HoVleRandom.CreateWeights(cfg, 6));
        return GraphRow(gpu, "tiny mmMamba-linear, 6 steps (one special) vs op by op", () =>
        {
            var model = new Models.HoVle.HoVleModel(cfg, weights, gpu);
            var state = (Models.HoVle.HoVleState)model.CreateState();
            var logits = new List<float>(gpu.ToHost(model.Prefill([1, 5, 17], state)));
            foreach (int id in new[] { 4, 9, 12, 301, 40, 7 }) logits.AddRange(gpu.ToHost(model.Step([id], state)));
            return (logits.ToArray(), state.ReplaysSteps);
        });
    }

    /// <summary>
    /// One model code on both backends: a tiny random Mamba-2 LM (odd sizes, 2 groups, a prompt not a multiple of the
    /// chunk) prefilled and stepped on the GPU and on the CPU reference; all logits compared.
    /// </summary>
    private static SelfCheckRow Mamba2Parity(CudaBackend gpu)
    {
        var cfg = new Models.Mamba2.Mamba2Config { DModel = 48, NLayer = 2, VocabSize = 97, DState = 24, HeadDim = 16, NGroups = 2, ChunkSize = 8 };
        var weights = new Core.Weights.DictionaryWeightSource(Models.Mamba2.Mamba2Random.CreateWeights(cfg, 3));
        float[] Run(Core.Ops.IBackend backend)
        {
            var lm = Models.Mamba2.Mamba2LM.Load(cfg, weights, backend);
            var state = lm.CreateState();
            var ids = Enumerable.Range(0, 19).Select(i => (i * 31 + 7) % 97).ToArray();
            var logits = new List<float>(backend.ToHost(lm.Prefill(ids, state, allLogits: true)));
            foreach (int id in new[] { 3, 50, 96 }) logits.AddRange(backend.ToHost(lm.Step([id], state)));
            return logits.ToArray();
        }
        return CudaSelfCheck.Compare("Mamba-2 LM forward", "tiny: 19-token prefill + 3 steps", "f32", Run(gpu), Run(Core.Reference.ReferenceBackend.Instance));
    }

}
