// Random InternLM2 weights under the checkpoint's names (model.tok_embeddings, model.layers.{i}.attention.wqkv, ...,
// output), for tests and the long-context benchmark. Every parameter is drawn away from defaults (norm weights ≠ 1).
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;

namespace MambaVL.Models.InternLm2;

public static class InternLm2Random
{
    public static Dictionary<string, Tensor> CreateWeights(InternLm2Config cfg, int seed, DType dtype = DType.F32)
    {
        var rng = new RandomTensors(seed);
        int d = cfg.HiddenSize, f = cfg.IntermediateSize, p = cfg.HeadDim;
        var w = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["model.tok_embeddings.weight"] = rng.Uniform(0.5, dtype, cfg.VocabSize, d),
            ["model.norm.weight"] = rng.Between(0.5, 1.5, d),
            ["output.weight"] = rng.Uniform(1 / Math.Sqrt(d), dtype, cfg.VocabSize, d),
        };
        for (int i = 0; i < cfg.Layers; i++)
        {
            string L(string n) => $"model.layers.{i}.{n}";
            w[L("attention_norm.weight")] = rng.Between(0.5, 1.5, d);
            w[L("ffn_norm.weight")] = rng.Between(0.5, 1.5, d);
            w[L("attention.wqkv.weight")] = rng.Uniform(1 / Math.Sqrt(d), dtype, (cfg.Heads + 2 * cfg.KvHeads) * p, d);
            w[L("attention.wo.weight")] = rng.Uniform(1 / Math.Sqrt(cfg.Heads * p), dtype, d, cfg.Heads * p);
            w[L("feed_forward.w1.weight")] = rng.Uniform(1 / Math.Sqrt(d), dtype, f, d);
            w[L("feed_forward.w3.weight")] = rng.Uniform(1 / Math.Sqrt(d), dtype, f, d);
            w[L("feed_forward.w2.weight")] = rng.Uniform(1 / Math.Sqrt(f), dtype, d, f);
        }
        return w;
    }
}
