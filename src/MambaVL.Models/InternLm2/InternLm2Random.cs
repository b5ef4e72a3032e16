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
        int d = cfg.HiddenSize;
        var w = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["model.tok_embeddings.weight"] = rng.Uniform(0.5, dtype, cfg.VocabSize, d),
            ["model.norm.weight"] = rng.Between(0.5, 1.5, d),
            ["output.weight"] = rng.Uniform(1 / Math.Sqrt(d), dtype, cfg.VocabSize, d),
        };
        AddLayers(w, rng, cfg, "model.layers", dtype);
        return w;
    }

    /// <summary>
    /// Layers {prefix}.{i}.*: norms, SwiGLU MLP and each layer's mixer as its kind says; with
    /// <paramref name="bothMixerForms"/> every layer gets both the attention and the Mamba-2 weights, so the teacher and
    /// its students can be built from one dictionary (the students' MLPs are the teacher's, as after distillation).
    /// </summary>
    public static void AddLayers(Dictionary<string, Tensor> w, RandomTensors rng, InternLm2Config cfg, string prefix, DType dtype, bool bothMixerForms = false)
    {
        int d = cfg.HiddenSize, f = cfg.IntermediateSize, p = cfg.HeadDim;
        for (int i = 0; i < cfg.Layers; i++)
        {
            string L(string n) => $"{prefix}.{i}.{n}";
            w[L("attention_norm.weight")] = rng.Between(0.5, 1.5, d);
            w[L("ffn_norm.weight")] = rng.Between(0.5, 1.5, d);
            if (bothMixerForms || cfg.KindOf(i) == LayerKind.Attention)
            {
                w[L("attention.wqkv.weight")] = rng.Uniform(1 / Math.Sqrt(d), dtype, (cfg.Heads + 2 * cfg.KvHeads) * p, d);
                w[L("attention.wo.weight")] = rng.Uniform(1 / Math.Sqrt(cfg.Heads * p), dtype, d, cfg.Heads * p);
            }
            if (bothMixerForms || cfg.KindOf(i) == LayerKind.Mamba2) MambaMixer(w, rng, cfg, L("attention"), dtype);
            w[L("feed_forward.w1.weight")] = rng.Uniform(1 / Math.Sqrt(d), dtype, f, d);
            w[L("feed_forward.w3.weight")] = rng.Uniform(1 / Math.Sqrt(d), dtype, f, d);
            w[L("feed_forward.w2.weight")] = rng.Uniform(1 / Math.Sqrt(f), dtype, d, f);
        }
    }
    /// <summary>An mmMamba mixer as exported (wvkqgdt, conv1d, dt_bias, A_log_bias, g_norm_swish_gate, o_proj).</summary>
    private static void MambaMixer(Dictionary<string, Tensor> w, RandomTensors rng, InternLm2Config cfg, string prefix, DType dtype)
    {
        int d = cfg.HiddenSize, p = cfg.HeadDim, h = cfg.Heads, conv = (2 * cfg.KvHeads + h) * p;
        w[$"{prefix}.wvkqgdt.weight"] = rng.Uniform(1 / Math.Sqrt(d), dtype, conv + h * p + h, d);
        w[$"{prefix}.conv1d.weight"] = rng.Uniform(0.7, DType.F32, conv, 1, MmMambaMixer.ConvWidth);
        w[$"{prefix}.conv1d.bias"] = rng.Uniform(0.3, DType.F32, conv);
        // Δ = softplus(dt + dt_bias) near [1e-3, 0.1] and A = -exp(A_log_bias) in [-16, -1], as the seeding initialises them
        w[$"{prefix}.dt_bias"] = RandomTensors.Fill([h], _ => { double dt = Math.Exp(rng.Lerp(Math.Log(1e-3), Math.Log(0.1))); return dt + Math.Log(1 - Math.Exp(-dt)); });
        w[$"{prefix}.A_log_bias"] = rng.Between(0, Math.Log(16), h);
        w[$"{prefix}.g_norm_swish_gate.weight"] = rng.Between(0.5, 1.5, p);
        w[$"{prefix}.o_proj.weight"] = rng.Uniform(1 / Math.Sqrt(h * p), dtype, d, h * p);
    }
}
