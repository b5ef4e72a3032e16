// Random weights for an ML-Mamba of any size (the benchmark's full-size model, small ones for tests), named as the
// authors' checkpoint: llm_backbone.* (via Mamba2Random), mlp.0.*, bidirectional_mamba.* and projector.projector.*.
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;
using MambaVL.Models.Mamba2;

namespace MambaVL.Models.MlMamba;

public static class MlMambaRandom
{
    /// <summary>All tensors <see cref="MlMambaModel"/> binds, matrices in <paramref name="dtype"/>, vectors and conv kernels F32.</summary>
    public static Dictionary<string, Tensor> CreateWeights(Mamba2Config llm, ScanConnectorConfig connector, int visionChannels, int seed, DType dtype)
    {
        var w = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in Mamba2Random.CreateWeights(llm, seed, dtype))
            w[$"{MlMambaModel.LlmPrefix}.{name.Replace("backbone.embeddings.", "backbone.embedding.", StringComparison.Ordinal)}"] = t;
        var rng = new RandomTensors(seed + 1);
        int d = llm.DModel, hidden = 4 * d;
        Linear(w, rng, $"{MlMambaModel.MlpPrefix}.0", d, visionChannels, dtype);
        Linear(w, rng, $"{MlMambaModel.ProjectorPrefix}.0", hidden, d, dtype);
        Linear(w, rng, $"{MlMambaModel.ProjectorPrefix}.2", d, hidden, dtype);
        Linear(w, rng, $"{MlMambaModel.ProjectorPrefix}.4", d, d, dtype);
        var c = connector.Mixer;
        for (int i = 0; i < connector.Layers; i++)
        {
            string L = $"{MlMambaModel.ConnectorPrefix}.layers.{i}";
            w[$"{L}.norm.weight"] = rng.Between(0.5, 1.5, d);
            w[$"{L}.norm.bias"] = rng.Uniform(0.1, DType.F32, d);
            w[$"{L}.mixer.in_proj.weight"] = rng.Uniform(1 / Math.Sqrt(d), dtype, c.InProjDim, d);
            w[$"{L}.mixer.norm.weight"] = rng.Between(0.5, 1.5, c.DInner);
            w[$"{L}.mixer.out_proj.weight"] = rng.Uniform(1 / Math.Sqrt(c.DInner), dtype, d, c.DInner);
            foreach (var suffix in connector.Directions.Select(ScanConnectorConfig.Suffix))
            {
                w[$"{L}.mixer.conv1d{suffix}.weight"] = rng.Uniform(0.5, DType.F32, c.ConvDim, 1, c.DConv);
                w[$"{L}.mixer.conv1d{suffix}.bias"] = rng.Uniform(0.5, DType.F32, c.ConvDim);
                w[$"{L}.mixer.dt_bias{suffix}"] = rng.Uniform(1, DType.F32, c.NHeads);
                w[$"{L}.mixer.A_log{suffix}"] = rng.Between(0, Math.Log(16), c.NHeads);
                w[$"{L}.mixer.D{suffix}"] = rng.Between(0.5, 1.5, c.NHeads);
            }
            foreach (var m in new[] { "w1", "w2", "w3" }) Linear(w, rng, $"{L}.mlp.{m}", d, d, dtype);
        }
        w[$"{MlMambaModel.ConnectorPrefix}.norm_f.weight"] = rng.Between(0.5, 1.5, d);
        w[$"{MlMambaModel.ConnectorPrefix}.norm_f.bias"] = rng.Uniform(0.1, DType.F32, d);
        return w;
    }

    private static void Linear(Dictionary<string, Tensor> w, RandomTensors rng, string name, int outFeatures, int inFeatures, DType dtype)
    {
        w[$"{name}.weight"] = rng.Uniform(1 / Math.Sqrt(inFeatures), dtype, outFeatures, inFeatures);
        w[$"{name}.bias"] = rng.Uniform(0.1, DType.F32, outFeatures);
    }
}
