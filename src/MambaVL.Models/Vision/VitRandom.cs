// Random timm-layout weights (and the config.json that describes them) for a ViT tower: the benchmark's full-size
// DINOv2-L/14-reg4 and SigLIP-SO400M/14 towers, and small towers for tests.
using System.Text.Json;
using MambaVL.Core.Config;
using MambaVL.Core.Tensors;
using MambaVL.Models.Common;

namespace MambaVL.Models.Vision;

public static class VitRandom
{
    /// <summary>timm's vit_large_patch14_reg4_dinov2 as ML-Mamba uses it (position grid stored at 518 px, as released).</summary>
    public static VitConfig Dinov2LargeReg4() => new()
    {
        Layout = VitLayout.Timm, Name = "vit_large_patch14_reg4_dinov2", EmbedDim = 1024, Depth = 24, Heads = 16, PatchSize = 14,
        MlpHidden = 4096, StoredImageSize = 518, RegTokens = 4, NoEmbedClass = true, LayerScale = true,
    };

    /// <summary>timm's vit_so400m_patch14_siglip_384.</summary>
    public static VitConfig SigLipSo400m384() => new()
    {
        Layout = VitLayout.Timm, Name = "vit_so400m_patch14_siglip_384", EmbedDim = 1152, Depth = 27, Heads = 16, PatchSize = 14,
        MlpHidden = 4304, StoredImageSize = 384, ClassToken = false,
    };

    /// <summary>The config.json a timm HF folder would carry for <paramref name="cfg"/> (architecture + model_args).</summary>
    public static ConfigJson ConfigFor(VitConfig cfg)
    {
        var json = new System.Text.Json.Nodes.JsonObject  // JsonNode, not the reflection serializer: trimmed builds keep it
        {
            ["architecture"] = cfg.Name,
            ["num_classes"] = 0,
            ["model_args"] = new System.Text.Json.Nodes.JsonObject
            {
                ["embed_dim"] = cfg.EmbedDim, ["depth"] = cfg.Depth, ["num_heads"] = cfg.Heads, ["patch_size"] = cfg.PatchSize,
                ["reg_tokens"] = cfg.RegTokens, ["class_token"] = cfg.ClassToken, ["no_embed_class"] = cfg.NoEmbedClass,
            },
        }.ToJsonString();
        return ConfigJson.Parse(json, $"generated {cfg.Name} config");
    }

    /// <summary>Every tensor <see cref="VisionTransformer.Load"/> binds for a timm-layout <paramref name="cfg"/>; matrices in <paramref name="dtype"/>.</summary>
    public static Dictionary<string, Tensor> CreateWeights(VitConfig cfg, int seed, DType dtype = DType.F32)
    {
        if (cfg.Layout != VitLayout.Timm) throw new ArgumentException("random towers are generated in the timm layout");
        var rng = new RandomTensors(seed);
        int d = cfg.EmbedDim, f = cfg.MlpHidden, p = cfg.PatchSize, grid = cfg.StoredImageSize / p;
        var w = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["patch_embed.proj.weight"] = rng.Uniform(1 / Math.Sqrt(3 * p * p), dtype, d, 3, p, p),
            ["patch_embed.proj.bias"] = rng.Uniform(0.1, DType.F32, d),
            ["pos_embed"] = rng.Uniform(0.1, DType.F32, 1, (cfg.NoEmbedClass ? 0 : cfg.PrefixTokens) + grid * grid, d),
            ["norm.weight"] = rng.Between(0.5, 1.5, d),
            ["norm.bias"] = rng.Uniform(0.1, DType.F32, d),
        };
        if (cfg.ClassToken) w["cls_token"] = rng.Uniform(0.1, DType.F32, 1, 1, d);
        if (cfg.RegTokens > 0) w["reg_token"] = rng.Uniform(0.1, DType.F32, 1, cfg.RegTokens, d);
        for (int i = 0; i < cfg.Depth; i++)
        {
            string B(string n) => $"blocks.{i}.{n}";
            foreach (var norm in new[] { "norm1", "norm2" })
            {
                w[B(norm + ".weight")] = rng.Between(0.5, 1.5, d);
                w[B(norm + ".bias")] = rng.Uniform(0.1, DType.F32, d);
            }
            (w[B("attn.qkv.weight")], w[B("attn.qkv.bias")]) = (rng.Uniform(1 / Math.Sqrt(d), dtype, 3 * d, d), rng.Uniform(0.1, DType.F32, 3 * d));
            (w[B("attn.proj.weight")], w[B("attn.proj.bias")]) = (rng.Uniform(1 / Math.Sqrt(d), dtype, d, d), rng.Uniform(0.1, DType.F32, d));
            (w[B("mlp.fc1.weight")], w[B("mlp.fc1.bias")]) = (rng.Uniform(1 / Math.Sqrt(d), dtype, f, d), rng.Uniform(0.1, DType.F32, f));
            (w[B("mlp.fc2.weight")], w[B("mlp.fc2.bias")]) = (rng.Uniform(1 / Math.Sqrt(f), dtype, d, f), rng.Uniform(0.1, DType.F32, d));
            if (cfg.LayerScale) (w[B("ls1.gamma")], w[B("ls2.gamma")]) = (rng.Between(0.05, 0.5, d), rng.Between(0.05, 0.5, d));
        }
        return w;
    }
}
