// One model the benchmark runs: its weights in one storage dtype (random for a preset, or a folder's converted), with
// the sizes the speed targets need: bytes read per decoded token and matmul FLOPs per prefill.
using MambaVL.Core.Config;
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Cpu;
using MambaVL.IO;
using MambaVL.Models;
using MambaVL.Models.Mamba2;

namespace MambaVL.Cli.Common;

public sealed class BenchModel
{
    public required string Label { get; init; }
    public required ConfigJson Config { get; init; }
    public required IReadOnlyDictionary<string, Tensor> Weights { get; init; }
    public required DType DType { get; init; }

    public long Bytes => Weights.Values.Sum(t => t.ByteLength);
    public long Parameters => Weights.Values.Sum(t => t.Length);

    private bool IsEmbedding(string name) => Mamba2Names.Embedding.Contains(name);
    private bool IsHead(string name) => name == Mamba2Names.LmHead;
    private Tensor Embedding => Weights.First(kv => IsEmbedding(kv.Key)).Value;
    private bool Tied => !Weights.Keys.Any(IsHead);

    /// <summary>Weight bytes one decode step reads: everything, except an untied input embedding (one row of it).</summary>
    public long DecodeBytesPerToken => Bytes - (Tied ? 0 : Embedding.ByteLength);

    /// <summary>Matmul FLOPs of a prefill of <paramref name="tokens"/>: 2 per weight per token for the layers' matrices, the head once.</summary>
    public double PrefillMatmulFlops(int tokens)
    {
        long layerMatrices = Weights.Where(kv => kv.Value.Rank == 2 && !IsEmbedding(kv.Key) && !IsHead(kv.Key)).Sum(kv => kv.Value.Length);
        return 2.0 * tokens * layerMatrices + 2.0 * Embedding.Length;
    }

    public ILanguageModel Load(int threads) => Load(new CpuBackend(threads));

    public ILanguageModel Load(Core.Ops.IBackend backend) =>
        ModelRegistry.Load(Config, new DictionaryWeightSource(Weights, Label), backend);

    /// <summary>A preset's shape with random weights, matrices stored as <paramref name="dtype"/>.</summary>
    public static BenchModel Random(string preset, DType dtype, int seed)
    {
        var cfg = Presets.Get(preset);
        return new BenchModel
        {
            Label = Presets.Label(preset), Config = ConfigJson.Parse(cfg.ToJson(), $"preset {preset}"),
            Weights = Mamba2Random.CreateWeights(cfg, seed, dtype), DType = dtype,
        };
    }

    /// <summary>A folder's weights with every matrix converted to <paramref name="dtype"/> (vectors and conv kernels kept as stored).</summary>
    public static BenchModel FromFolder(ModelFolder folder, IWeightSource source, DType dtype)
    {
        var weights = source.Names.ToDictionary(n => n, n =>
        {
            var t = source.Get(n);
            return t.Rank == 2 && t.DType.IsFloat() ? t.ToDType(dtype) : t;
        });
        return new BenchModel
        {
            Label = Path.GetFileName(folder.Directory.TrimEnd(Path.DirectorySeparatorChar)),
            Config = ConfigJson.Load(folder.ConfigPath!), Weights = weights, DType = dtype,
        };
    }
}
