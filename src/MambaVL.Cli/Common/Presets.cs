// Model shapes the CLI can generate random weights for: mamba2-130m's (the benchmark's model), mamba2-2.7b's (the GPU
// benchmarks) and a tiny one with odd sizes, groups > 1 and head dim != state size, small enough for tests.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Mamba2;

namespace MambaVL.Cli.Common;

public static class Presets
{
    public static readonly string[] Names = ["130m", "2.7b", "tiny"];

    public static Mamba2Config Get(string name) => name.ToLowerInvariant() switch
    {
        "130m" => Mamba2Config.Mamba2_130m(),
        "2.7b" => Mamba2Config.Mamba2_2_7b(),
        "tiny" => new Mamba2Config
        {
            DModel = 40, NLayer = 2, VocabSize = 97, DState = 12, HeadDim = 10, Expand = 2, NGroups = 2, DConv = 4, ChunkSize = 8,
            TieEmbeddings = true,
        },
        _ => throw new CliException($"--preset: unknown preset '{name}' (expected {string.Join(" or ", Names)})"),
    };

    /// <summary>The label reports show for a generated model, which must never pass for a trained one.</summary>
    public static string Label(string name) => $"mamba2 {name} (random weights)";

    /// <summary>Random weights for <paramref name="cfg"/> as an in-memory source.</summary>
    public static DictionaryWeightSource RandomWeights(Mamba2Config cfg, int seed, DType dtype) =>
        new(Mamba2Random.CreateWeights(cfg, seed, dtype), $"random weights (seed {seed})");
}
