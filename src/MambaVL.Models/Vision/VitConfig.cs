// The shape and options of a ViT vision tower, read from a timm HF folder (config.json "architecture" + "model_args",
// with timm's per-architecture defaults) or an HF transformers CLIP vision config, completed from the weights' shapes.
using MambaVL.Core.Config;
using MambaVL.Core.Ops;
using MambaVL.Core.Weights;

namespace MambaVL.Models.Vision;

/// <summary>Which checkpoint naming the tower's tensors follow.</summary>
public enum VitLayout { Timm, HfClip }

public sealed record VitConfig
{
    public required VitLayout Layout { get; init; }
    /// <summary>timm architecture name or HF model type, for messages and `inspect`.</summary>
    public required string Name { get; init; }
    public required int EmbedDim { get; init; }
    public required int Depth { get; init; }
    public required int Heads { get; init; }
    public required int PatchSize { get; init; }
    public required int MlpHidden { get; init; }
    /// <summary>The image side the position embedding was stored for (its grid is StoredImageSize / PatchSize).</summary>
    public required int StoredImageSize { get; init; }
    public bool ClassToken { get; init; } = true;
    public int RegTokens { get; init; }
    /// <summary>timm no_embed_class: the position embedding covers the patches only and is added before the prefix tokens.</summary>
    public bool NoEmbedClass { get; init; }
    /// <summary>A LayerNorm before the blocks (timm norm_pre, CLIP pre_layrnorm).</summary>
    public bool PreNorm { get; init; }
    public bool LayerScale { get; init; }
    public bool PatchBias { get; init; } = true;
    public Activation Activation { get; init; } = Activation.Gelu;
    public float NormEps { get; init; } = 1e-6f;

    public int HeadDim => EmbedDim / Heads;
    public int PrefixTokens => (ClassToken ? 1 : 0) + RegTokens;

    /// <summary>timm's defaults per architecture family (vision_transformer.py's model functions), by name prefix.</summary>
    private static readonly (string Prefix, Dictionary<string, object> Args)[] TimmArchitectures =
    [
        ("vit_large_patch14_reg4_dinov2", new() { ["patch_size"] = 14, ["embed_dim"] = 1024, ["depth"] = 24, ["num_heads"] = 16, ["init_values"] = 1e-5, ["reg_tokens"] = 4, ["no_embed_class"] = true }),
        ("vit_base_patch14_reg4_dinov2", new() { ["patch_size"] = 14, ["embed_dim"] = 768, ["depth"] = 12, ["num_heads"] = 12, ["init_values"] = 1e-5, ["reg_tokens"] = 4, ["no_embed_class"] = true }),
        ("vit_small_patch14_reg4_dinov2", new() { ["patch_size"] = 14, ["embed_dim"] = 384, ["depth"] = 12, ["num_heads"] = 6, ["init_values"] = 1e-5, ["reg_tokens"] = 4, ["no_embed_class"] = true }),
        ("vit_large_patch14_dinov2", new() { ["patch_size"] = 14, ["embed_dim"] = 1024, ["depth"] = 24, ["num_heads"] = 16, ["init_values"] = 1e-5 }),
        ("vit_so400m_patch14_siglip", new() { ["patch_size"] = 14, ["embed_dim"] = 1152, ["depth"] = 27, ["num_heads"] = 16, ["mlp_ratio"] = 3.7362, ["class_token"] = false }),
        ("vit_base_patch16_siglip", new() { ["patch_size"] = 16, ["embed_dim"] = 768, ["depth"] = 12, ["num_heads"] = 12, ["class_token"] = false }),
        ("vit_large_patch14_clip", new() { ["patch_size"] = 14, ["embed_dim"] = 1024, ["depth"] = 24, ["num_heads"] = 16, ["pre_norm"] = true, ["act_layer"] = "quick_gelu" }),
        ("vit_large_patch16_224", new() { ["patch_size"] = 16, ["embed_dim"] = 1024, ["depth"] = 24, ["num_heads"] = 16 }),
        ("vit_base_patch16_224", new() { ["patch_size"] = 16, ["embed_dim"] = 768, ["depth"] = 12, ["num_heads"] = 12 }),
    ];

    /// <summary>A timm folder's config.json (architecture, optional model_args) completed from the weights under <paramref name="w"/>.</summary>
    public static VitConfig FromTimm(ConfigJson config, WeightScope w)
    {
        string arch = config.String("architecture") ?? throw new ModelLoadException($"{config.Source}: no \"architecture\" (not a timm config.json)");
        var args = TimmArchitectures.FirstOrDefault(a => arch.StartsWith(a.Prefix, StringComparison.Ordinal)).Args ?? [];
        var modelArgs = config.Object("model_args");
        int Arg(string name, int? fromWeights) => modelArgs?.Int(name) ?? (args.TryGetValue(name, out var v) ? Convert.ToInt32(v) : fromWeights)
            ?? throw new ModelLoadException($"{config.Source}: unknown timm architecture '{arch}' and no model_args.{name}: cannot tell the tower's {name}");
        bool Flag(string name, bool fromWeights) => modelArgs?.Bool(name) ?? (args.TryGetValue(name, out var v) ? (bool)v : fromWeights);

        int[] Shape(string name) => w.Has(name) ? w.Source.Info(w.FullName(name)).Shape
            : throw new ModelLoadException($"{w.Source.Description}: missing tensor '{w.FullName(name)}' (is this a timm ViT?)");
        var patch = Shape("patch_embed.proj.weight");  // (D, 3, p, p)
        int embed = Arg("embed_dim", patch[0]), patchSize = Arg("patch_size", patch[2]);
        int depth = Arg("depth", CountBlocks(w, "blocks"));
        int regTokens = Arg("reg_tokens", w.Has("reg_token") ? Shape("reg_token")[1] : 0);
        bool classToken = Flag("class_token", w.Has("cls_token"));
        bool noEmbedClass = Flag("no_embed_class", false);
        int posTokens = Shape("pos_embed")[1];
        int gridTokens = posTokens - (noEmbedClass ? 0 : (classToken ? 1 : 0) + regTokens);
        int grid = (int)Math.Round(Math.Sqrt(gridTokens));
        if (grid * grid != gridTokens)
            throw new ModelLoadException($"{w.Source.FileOf(w.FullName("pos_embed"))}: pos_embed has {posTokens} positions, not a square grid plus the prefix tokens");
        string act = modelArgs?.String("act_layer") ?? (args.TryGetValue("act_layer", out var a) ? (string)a : "gelu");
        return new VitConfig
        {
            Layout = VitLayout.Timm, Name = arch, EmbedDim = embed, Depth = depth, Heads = Arg("num_heads", null), PatchSize = patchSize,
            MlpHidden = Shape("blocks.0.mlp.fc1.weight")[0], StoredImageSize = grid * patchSize,
            ClassToken = classToken, RegTokens = regTokens, NoEmbedClass = noEmbedClass,
            PreNorm = Flag("pre_norm", w.Has("norm_pre.weight")), LayerScale = w.Has("blocks.0.ls1.gamma"),
            PatchBias = w.Has("patch_embed.proj.bias"), Activation = ParseActivation(act, config.Source),
        };
    }

    /// <summary>An HF CLIP config.json (CLIPModel's "vision_config" or a CLIPVisionModel's own fields).</summary>
    public static VitConfig FromHfClip(ConfigJson config)
    {
        var v = config.Object("vision_config") ?? config;
        int Need(string name) => v.Int(name) ?? throw new ModelLoadException($"{config.Source}: vision config has no \"{name}\"");
        return new VitConfig
        {
            Layout = VitLayout.HfClip, Name = config.String("model_type") ?? "clip", EmbedDim = Need("hidden_size"),
            Depth = Need("num_hidden_layers"), Heads = Need("num_attention_heads"), PatchSize = Need("patch_size"),
            MlpHidden = Need("intermediate_size"), StoredImageSize = Need("image_size"), ClassToken = true, PreNorm = true,
            PatchBias = false, Activation = ParseActivation(v.String("hidden_act") ?? "quick_gelu", config.Source),
            NormEps = v.Float("layer_norm_eps") ?? 1e-5f,
        };
    }

    public void Validate(string source)
    {
        if (EmbedDim <= 0 || Depth <= 0 || Heads <= 0 || PatchSize <= 0 || MlpHidden <= 0 || StoredImageSize < PatchSize)
            throw new ModelLoadException($"{source}: implausible vision tower shape ({this})");
        if (EmbedDim % Heads != 0) throw new ModelLoadException($"{source}: embed dim {EmbedDim} is not a multiple of {Heads} heads");
    }

    private static int CountBlocks(WeightScope w, string prefix)
    {
        int n = 0;
        while (w.Has($"{prefix}.{n}.norm1.weight")) n++;
        return n;
    }

    private static Activation ParseActivation(string name, string source) => name.ToLowerInvariant() switch
    {
        "gelu" => Activation.Gelu,
        "gelu_tanh" or "gelu_pytorch_tanh" or "gelu_new" => Activation.GeluTanh,
        "quick_gelu" or "quickgelu" => Activation.QuickGelu,
        "silu" or "swish" => Activation.Silu,
        _ => throw new ModelLoadException($"{source}: unsupported activation '{name}' (expected gelu, gelu_tanh, quick_gelu or silu)"),
    };
}
