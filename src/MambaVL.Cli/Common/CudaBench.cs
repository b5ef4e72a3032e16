// `mambavl bench --device cuda`: decode and prefill of a Mamba-2 model on one GPU, each figure beside its ceiling. The
// ceilings are measured in the same run: the device's copy bandwidth (a 1 GiB device-to-device copy: bytes read plus
// written per second) and its BF16 GEMM rate (cuBLASLt, 8192³). Decode's floor is the weight bytes a token reads over
// the copy bandwidth; its achieved GB/s also counts the recurrent state each step reads and writes (grows with batch).
using System.Diagnostics;
using System.Globalization;
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.Cuda;
using MambaVL.IO;
using MambaVL.Models.Mamba2;
using Spectre.Console;

namespace MambaVL.Cli.Common;

public static class CudaBench
{
    /// <summary>A Mamba-2 folder (<paramref name="ModelPath"/>, its matrices converted to <paramref name="DType"/>) or, when null, a preset with random weights.</summary>
    public sealed record Plan(int DeviceIndex, string? ModelPath, string Preset, DType DType, int[] Prompts, int GenTokens, int[] Batches, int Repetitions, bool Profile)
    {
        /// <summary>The decode GEMV kernel for BF16 weights and M ≤ 2 (`--gemv`).</summary>
        public GemvVariant Gemv { get; init; } = GemvVariant.Ring;

        /// <summary>The decode GEMV kernel for BF16 weights and 3 ≤ M ≤ 8 (`--gemv-batch`).</summary>
        public GemvBatchVariant GemvBatch { get; init; } = GemvBatchVariant.Mma;

        /// <summary>The decode mixer step as one kernel, or as its three ops (`--mamba-step fused|ops`).</summary>
        public bool FusedMambaStep { get; init; } = true;

        /// <summary>Whether a block's add + norm runs inside its in_proj GEMV (`--norm-matmul fused|ops`).</summary>
        public bool FusedNormMatMul { get; init; }

        /// <summary>Whether the step's gate norm runs inside its out_proj GEMV (`--step-projection fused|ops`).</summary>
        public bool FusedStepProjection { get; init; } = true;

        /// <summary>Whether a batch-1 decode step runs the block stack as one persistent kernel (`--blocks fused|ops`).</summary>
        public bool FusedBlocksStep { get; init; } = true;

        /// <summary>Whether that kernel times its phases, printed after the batch-1 decode (`--blocks-trace`).</summary>
        public bool TraceBlocks { get; init; }

        /// <summary>Warps per block of that kernel (`--blocks-warps 8|16`).</summary>
        public int BlocksWarps { get; init; } = 8;

        /// <summary>That kernel's products on the CUDA cores or the tensor cores (`--blocks-products ring|mma`).</summary>
        public BlocksProductKernel BlocksProducts { get; init; } = BlocksProductKernel.Mma;

        /// <summary>Whether the decode kernels launch early, overlapping the kernel before (`--early-launch on|off`).</summary>
        public bool EarlyLaunch { get; init; } = true;
    }

    private sealed record Row(string Test, string Figure, string Ceiling, double Fraction);

    public static int Run(CliContext ctx, Plan plan)
    {
        using var gpu = CudaDevice.Open(plan.DeviceIndex);
        gpu.LaunchEarlyEnabled = plan.EarlyLaunch;
        using var backend = new CudaBackend(gpu) { GemvVariant = plan.Gemv, GemvBatch = plan.GemvBatch, FusedMambaStep = plan.FusedMambaStep, FusedNormMatMul = plan.FusedNormMatMul, FusedStepProjection = plan.FusedStepProjection, FusedBlocksStep = plan.FusedBlocksStep, BlocksWarps = plan.BlocksWarps, BlocksProducts = plan.BlocksProducts, TraceBlocks = plan.TraceBlocks };
        ctx.Out.WriteLine(gpu.Describe());
        ctx.Out.WriteLine(F($"decode kernels: GEMV {plan.Gemv}, batch GEMV {plan.GemvBatch}, mixer step {(plan.FusedMambaStep ? "fused" : "three ops")}, norm + in_proj {(plan.FusedNormMatMul ? "fused" : "two ops")}, step + out_proj {(plan.FusedStepProjection ? "fused" : "two ops")}, block stack {(plan.FusedBlocksStep ? plan.BlocksProducts == BlocksProductKernel.Mma ? "one kernel (8 warps, tensor-core products)" : $"one kernel ({plan.BlocksWarps} warps)" : "per block")}, early launch {(gpu.LaunchEarlyEnabled ? "on" : plan.EarlyLaunch ? "off (not supported here)" : "off")}"));
        double copyBytesPerSecond = ctx.ErrConsole.Status().Start("measuring copy bandwidth", _ => CopyBandwidth(gpu));
        double gemmFlops = ctx.ErrConsole.Status().Start("measuring the BF16 GEMM rate", _ => GemmRate(gpu));
        var folder = plan.ModelPath is null ? null : ModelFolder.Open(plan.ModelPath);
        using var folderWeights = folder?.OpenWeights();
        var bench = ctx.ErrConsole.Status().Start($"preparing {BenchReport.Name(plan.DType)} weights", _ => folder is null || folderWeights is null
            ? BenchModel.Random(plan.Preset, plan.DType, seed: 0)
            : BenchModel.FromFolder(folder, folderWeights, plan.DType));
        if (bench.Config.String("model_type") is { } kind && kind != "mamba2")
            throw new CliException($"--device cuda benchmarks Mamba-2 language models; {plan.ModelPath} is a '{kind}' model (see bench mlmamba / bench mmmamba)");
        Mamba2LM? model = (Mamba2LM)ctx.ErrConsole.Status().Start("uploading the weights", _ => bench.Load(backend));
        ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model: {bench.Label}, {Units.Count(bench.Parameters)} parameters, {Units.Bytes(bench.Bytes)} of weights; copy bandwidth {copyBytesPerSecond / 1e9:0} GB/s (read + write), BF16 GEMM {gemmFlops / 1e12:0} TFLOP/s"));
        ctx.Out.WriteLine();

        var rows = new List<Row>();
        long weightBytes = bench.DecodeBytesPerToken;
        double floorTokensPerSecond = copyBytesPerSecond / weightBytes;
        string? blocksFallback = null;   // why a batch-1 step ran the block stack per block though --blocks fused asked otherwise
        foreach (int batch in plan.Batches)
            foreach (bool graphs in batch == 1 ? new[] { true, false } : [true])
            {
                backend.UseGraphs = graphs;
                var state = model.CreateState(batch);
                double seconds = ctx.ErrConsole.Status().Start($"decode, batch {batch}{(graphs ? "" : ", no graphs")}", _ => DecodeSeconds(model, state, plan.GenTokens, plan.Repetitions));
                double tokensPerSecond = batch * plan.GenTokens / seconds;
                if (batch == 1 && plan.FusedBlocksStep) blocksFallback ??= backend.BlocksFallback;
                long stepBytes = weightBytes + 2 * state.ByteSize;   // the state is read and written every step
                double gbs = stepBytes * (plan.GenTokens / seconds) / 1e9;
                string test = $"decode batch {batch}{(graphs ? " (CUDA graph)" : " (op by op)")}";
                rows.Add(batch == 1
                    ? new Row(test, F($"{tokensPerSecond:0} tok/s, {1000 / tokensPerSecond:0.000} ms/token, {gbs:0} GB/s"), F($"floor {floorTokensPerSecond:0} tok/s (weights / copy bandwidth)"), tokensPerSecond / floorTokensPerSecond)
                    : new Row(test, F($"{tokensPerSecond:0} tok/s, {seconds / plan.GenTokens * 1000:0.000} ms/step, {gbs:0} GB/s"), F($"{copyBytesPerSecond / 1e9:0} GB/s copy"), gbs * 1e9 / copyBytesPerSecond));
            }
        backend.UseGraphs = true;
        rows.Add(SampledDecode(ctx, model, plan, floorTokensPerSecond));
        foreach (int tokens in plan.Prompts)
        {
            double seconds = ctx.ErrConsole.Status().Start($"prefill {tokens}", _ => PrefillSeconds(model, tokens, plan.Repetitions));
            double flops = bench.PrefillMatmulFlops(tokens) / seconds;
            rows.Add(new Row($"prefill {tokens}", F($"{tokens / seconds:0} tok/s, {seconds * 1000:0.0} ms, matmuls {flops / 1e12:0.0} TFLOP/s"), F($"{gemmFlops / 1e12:0} TFLOP/s GEMM"), flops / gemmFlops));
        }

        var table = new Table().AddColumn("test").AddColumn("measured (median)").AddColumn("ceiling").AddColumn(new TableColumn("fraction").RightAligned());
        foreach (var r in rows) table.AddRow(Markup.Escape(r.Test), Markup.Escape(r.Figure), Markup.Escape(r.Ceiling), F($"{r.Fraction:P0}"));
        ctx.OutConsole.Write(table);
        ctx.Out.WriteLine(F($"medians of {plan.Repetitions} warm repeats; decode {plan.GenTokens} steps per repeat, prefill on a fresh state"));
        if (blocksFallback != null) ctx.Out.WriteLine($"note: the batch-1 block stack ran per block, not as one kernel: {blocksFallback}");
        if (plan.TraceBlocks && backend.BlocksPhaseCycles() is { } phases)
        {
            string[] names = ["norm", "in_proj", "barrier", "step", "barrier", "gate", "out_proj", "barrier"];
            foreach (var (block, cycles) in new[] { ("first", phases[0]), ("last", phases[1]) })
                ctx.Out.WriteLine(F($"mamba_blocks {block} block, SM cycles per layer: {string.Join(", ", names.Select((n, i) => $"{n} {cycles[i]:0}"))} (total {cycles.Sum():0})"));
        }
        if (plan.Profile)
        {
            model = null;   // the profiled copy of the weights takes their place
            GC.Collect();
            foreach (var p in BenchProfile.Run(ctx, bench, backend, gpu.Synchronize, $"{BenchReport.Name(plan.DType)}, {gpu.Name}", plan.Prompts.Min(), 32, timeFusedOps: true))
                p.WriteMarkdown(ctx.Out);
        }
        return MambaVlCli.Ok;
    }

    /// <summary>Median seconds of <paramref name="steps"/> back-to-back steps (warm: the graph recorded first), finished by reading the logits.</summary>
    private static double DecodeSeconds(Mamba2LM model, IModelState state, int steps, int repetitions)
    {
        var ids = new int[state.BatchSize];
        for (int i = 0; i < 4; i++) model.Step(ids, state);
        model.Backend.ToHost(model.Step(ids, state));
        return BenchStats.Median(BenchStats.Seconds(() =>
        {
            Tensor? logits = null;
            for (int i = 0; i < steps; i++) logits = model.Step(ids, state);
            model.Backend.ToHost(logits!);
        }, repetitions, warmup: false));
    }

    /// <summary>The generate loop at batch 1: step, greedy pick on the device, the id back to the host, next step.</summary>
    private static Row SampledDecode(CliContext ctx, Mamba2LM model, Plan plan, double floor)
    {
        var backend = (CudaBackend)model.Backend;
        var state = model.CreateState(1);
        int next = 0;
        void Steps(int n) { for (int i = 0; i < n; i++) next = backend.SampleToken(model.Step([next], state), 0, model.VocabSize, Core.Ops.TokenSamplingRequest.Greedy); }
        Steps(4);
        double seconds = ctx.ErrConsole.Status().Start("decode with on-device greedy sampling", _ => BenchStats.Median(BenchStats.Seconds(() => Steps(plan.GenTokens), plan.Repetitions, warmup: false)));
        double tokensPerSecond = plan.GenTokens / seconds;
        return new Row("generate loop batch 1 (graph + GPU argmax, id to host)", F($"{tokensPerSecond:0} tok/s, {1000 / tokensPerSecond:0.000} ms/token"), F($"floor {floor:0} tok/s"), tokensPerSecond / floor);
    }

    private static double PrefillSeconds(Mamba2LM model, int tokens, int repetitions)
    {
        var ids = BenchStats.RandomIds(tokens, model.VocabSize);
        return BenchStats.Median(BenchStats.Seconds(() => model.Backend.ToHost(model.Prefill(ids, model.CreateState(1))), repetitions, warmup: true));
    }

    /// <summary>Bytes read plus written per second by a 1 GiB device-to-device copy (median of 10).</summary>
    private static double CopyBandwidth(CudaDevice gpu)
    {
        const long bytes = 1L << 30;
        using var a = gpu.Allocate(bytes);
        using var b = gpu.Allocate(bytes);
        double seconds = BenchStats.Median(BenchStats.Seconds(() => { gpu.Copy(a.Pointer, b.Pointer, bytes); gpu.Synchronize(); }, 10, warmup: true));
        return 2.0 * bytes / seconds;
    }

    /// <summary>FLOP/s of an 8192³ BF16 GEMM with FP32 accumulation through cuBLASLt (median of 10).</summary>
    private static double GemmRate(CudaDevice gpu)
    {
        const int n = 8192;
        using var gemm = new CudaGemm(gpu);
        using var x = gpu.Allocate(2L * n * n);
        using var w = gpu.Allocate(2L * n * n);
        using var y = gpu.Allocate(4L * n * n);
        gpu.Clear(x.Pointer, x.Bytes);
        gpu.Clear(w.Pointer, w.Bytes);
        double seconds = BenchStats.Median(BenchStats.Seconds(() => { gemm.MatMul(x.Pointer, n, w.Pointer, y.Pointer, n, n, n, DType.BF16); gpu.Synchronize(); }, 10, warmup: true));
        return 2.0 * n * n * n / seconds;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
