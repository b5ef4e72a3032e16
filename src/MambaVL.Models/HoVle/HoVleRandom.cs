// HoVLE / mmMamba shapes and random weights under the released names, for tests and the long-context benchmark:
// HoVLE-2.6B (embedding module 8 layers, InternLM2-1.8B LLM 24 layers, hidden 2048, 16 heads / 8 kv heads of 128,
// FFN 8192, vocab 92553) with the paper's layer kinds for the teacher, mmMamba-linear and mmMamba-hybrid.
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.HoVle;

public enum HoVleVariant { Teacher, Hybrid, Linear }

public static class HoVleRandom
{
    /// <summary>A small model with the same structure (2 + 4 layers, hidden 64, 4 heads / 2 kv heads, 28-px tiles), for tests.</summary>
    public static HoVleConfig Tiny(HoVleVariant variant)
    {
        var full = FullSize(variant);
        InternLm2Config Shrink(InternLm2Config c, int layers, int first) => c with
        {
            HiddenSize = 64, IntermediateSize = 96, Layers = layers, Heads = 4, KvHeads = 2, VocabSize = 300, MaxPositionEmbeddings = 512,
            LayerKinds = c.LayerKinds.Skip(first).Take(layers).ToArray(),
        };
        return full with
        {
            Embedding = Shrink(full.Embedding, 2, 0), Llm = Shrink(full.Llm, 4, 2), TextVocab = 300, ImageContextId = 299,
            StoredImageSize = 28, TileSize = 28,
        };
    }

    /// <summary>HoVLE-2.6B's shapes with the layer kinds of <paramref name="variant"/> (hybrid: global layers 0, 4, …, 28 keep attention).</summary>
    public static HoVleConfig FullSize(HoVleVariant variant)
    {
        InternLm2Config Stack(int layers, int firstGlobal) => new()
        {
            HiddenSize = 2048, IntermediateSize = 8192, Layers = layers, Heads = 16, KvHeads = 8, VocabSize = 92553,
            RmsNormEps = 1e-5f, RopeTheta = 1e6, DynamicNtkFactor = 2.0, MaxPositionEmbeddings = 32768,
            LayerKinds = Enumerable.Range(firstGlobal, layers).Select(g => variant switch
            {
                HoVleVariant.Teacher => LayerKind.Attention,
                HoVleVariant.Hybrid => g % 4 == 0 ? LayerKind.Attention : LayerKind.Mamba2,
                _ => LayerKind.Mamba2,
            }).ToArray(),
        };
        return new HoVleConfig
        {
            Embedding = Stack(8, 0), Llm = Stack(24, 8), TextVocab = 92553, ImageContextId = 92546, IsStudent = variant != HoVleVariant.Teacher,
        };
    }

    /// <summary>
    /// Weights for <paramref name="cfg"/>; with <paramref name="bothMixerForms"/> every layer carries the attention and
    /// the Mamba-2 weights, so one dictionary builds the teacher and both students (sharing everything else).
    /// </summary>
    public static Dictionary<string, Tensor> CreateWeights(HoVleConfig cfg, int seed, DType dtype = DType.F32, bool bothMixerForms = false)
    {
        var rng = new RandomTensors(seed);
        int d = cfg.Llm.HiddenSize, patch = cfg.PatchSize, grid = cfg.StoredImageSize / patch;
        var w = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["embedding_model.llm_text_embeddings.weight"] = rng.Uniform(0.5, dtype, cfg.TextVocab, d),
            ["embedding_model.vision_embeddings.patch_embedding.weight"] = rng.Uniform(1 / Math.Sqrt(3 * patch * patch), dtype, d, 3, patch, patch),
            ["embedding_model.vision_embeddings.patch_embedding.bias"] = rng.Uniform(0.1, DType.F32, d),
            ["embedding_model.vision_embeddings.position_embedding"] = rng.Uniform(0.1, DType.F32, 1, 1 + grid * grid, d),
            ["embedding_model.pixel_shuffle_proj.0.weight"] = rng.Uniform(1 / Math.Sqrt(4 * d), dtype, d, 4 * d),
            ["embedding_model.pixel_shuffle_proj.0.bias"] = rng.Uniform(0.1, DType.F32, d),
            ["embedding_model.pixel_shuffle_proj.2.weight"] = rng.Uniform(1 / Math.Sqrt(d), dtype, d, d),
            ["embedding_model.pixel_shuffle_proj.2.bias"] = rng.Uniform(0.1, DType.F32, d),
            ["language_model.model.norm.weight"] = rng.Between(0.5, 1.5, d),
            ["language_model.output.weight"] = rng.Uniform(1 / Math.Sqrt(d), dtype, cfg.Llm.VocabSize, d),
        };
        if (cfg.SpecialTokens > 0) w["embedding_model.special_text_embeddings.weight"] = rng.Uniform(0.5, dtype, cfg.SpecialTokens, d);
        InternLm2Random.AddLayers(w, rng, cfg.Embedding, "embedding_model.encoder", dtype, bothMixerForms);
        InternLm2Random.AddLayers(w, rng, cfg.Llm, "language_model.model.layers", dtype, bothMixerForms);
        return w;
    }
}
