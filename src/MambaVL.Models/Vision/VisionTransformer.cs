// A ViT vision tower (timm VisionTransformer: DINOv2 with registers and LayerScale, SigLIP; HF CLIP vision) over the
// backend contract: patch embedding as one GEMM over unfolded patches, prefix tokens, position embedding, blocks.
// Features of any block come out as timm's get_intermediate_layers or HF's hidden_states give them.
using MambaVL.Core.Config;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Models.Common;

namespace MambaVL.Models.Vision;

public sealed class VisionTransformer
{
    private readonly IBackend _backend;
    private readonly Tensor _patchW;            // (D, 3·p·p) stored dtype
    private readonly Tensor? _patchBias;        // (D) F32
    private readonly Tensor? _prefix;           // (PrefixTokens, D) F32: [cls, reg...]
    private readonly Tensor _posEmbed;          // (Grid² [+ prefix], D) F32, resampled to this image size
    private readonly Tensor? _preNormW, _preNormB;
    private readonly Tensor? _normW, _normB;    // the final norm (timm forward_features; unused by intermediate features)
    private readonly VitBlock[] _blocks;

    public VitConfig Config { get; }
    /// <summary>The image side this tower runs at (pixels are (3, ImageSize, ImageSize)).</summary>
    public int ImageSize { get; }
    /// <summary>Patches per side: ImageSize / PatchSize (pixels past Grid·PatchSize are never seen, as with the conv).</summary>
    public int Grid => ImageSize / Config.PatchSize;
    public int Tokens => Config.PrefixTokens + Grid * Grid;

    private VisionTransformer(VitConfig cfg, IBackend backend, int imageSize, WeightScope root, DType? storage)
    {
        (Config, _backend, ImageSize) = (cfg, backend, imageSize);
        var names = VitRootNames.Of(cfg.Layout);
        var embed = names.Embeddings.Length == 0 ? root : root.Push(names.Embeddings);
        int d = cfg.EmbedDim, p = cfg.PatchSize;
        _patchW = Parameters.Large(backend, embed.Get(names.PatchWeight, d, 3, p, p).Reshape(d, 3 * p * p), storage);
        _patchBias = cfg.PatchBias ? Parameters.Small(backend, embed.GetF32(names.PatchBias, d)) : null;
        _prefix = PrefixTokens(cfg, embed, names);
        _posEmbed = Parameters.Small(backend, ResampledPositions(cfg, embed, names));
        if (cfg.PreNorm) (_preNormW, _preNormB) = (Small(root, names.PreNorm + ".weight"), Small(root, names.PreNorm + ".bias"));
        if (names.FinalNorm != null && root.Has(names.FinalNorm + ".weight"))
            (_normW, _normB) = (Small(root, names.FinalNorm + ".weight"), Small(root, names.FinalNorm + ".bias"));
        var blocks = root.Push(names.Blocks);
        _blocks = Enumerable.Range(0, cfg.Depth).Select(i => new VitBlock(cfg, blocks.Push(i), backend, storage)).ToArray();
    }

    /// <summary>
    /// Binds a tower from its config.json and weights: a timm folder (config has "architecture") or an HF CLIP vision
    /// model (tensors with or without the "vision_model." prefix). <paramref name="imageSize"/> defaults to the stored
    /// grid's size; another size resamples the position embedding as timm does at load (timm layout only).
    /// <paramref name="storage"/> converts the projection matrices (e.g. BF16); null keeps the stored format.
    /// </summary>
    public static VisionTransformer Load(ConfigJson config, IWeightSource weights, IBackend backend, int? imageSize = null, DType? storage = null)
    {
        bool timm = config.Has("architecture");
        var root = new WeightScope(weights);
        if (!timm && weights.Contains("vision_model.embeddings.patch_embedding.weight")) root = root.Push("vision_model");
        var cfg = timm ? VitConfig.FromTimm(config, root) : VitConfig.FromHfClip(config);
        cfg.Validate(config.Source);
        int size = imageSize ?? cfg.StoredImageSize;
        if (size < cfg.PatchSize) throw new ArgumentException($"image size {size} is smaller than one {cfg.PatchSize}-pixel patch");
        if (!timm && size / cfg.PatchSize != cfg.StoredImageSize / cfg.PatchSize)
            throw new ArgumentException($"{config.Source}: this CLIP tower runs at {cfg.StoredImageSize} px, not {size}");
        return new VisionTransformer(cfg, backend, size, root, storage);
    }

    /// <summary>
    /// The output of block <paramref name="blockIndex"/> (0-based; negative counts from the end), without the final norm:
    /// timm's get_intermediate_layers(n={i}) when <paramref name="dropPrefix"/> (the patch tokens only), or all tokens
    /// (prefix first) as HF's hidden_states[i + 1]. pixels (3, ImageSize, ImageSize) F32 → (Grid² or Tokens, D).
    /// </summary>
    public Tensor BlockFeatures(Tensor pixels, int blockIndex, bool dropPrefix = true)
    {
        int last = blockIndex < 0 ? blockIndex + Config.Depth : blockIndex;
        if (last < 0 || last >= Config.Depth) throw new ArgumentOutOfRangeException(nameof(blockIndex), $"block {blockIndex} of a {Config.Depth}-block tower");
        var x = Embed(pixels);
        for (int i = 0; i <= last; i++) _blocks[i].Forward(x);
        return dropPrefix ? DropPrefix(x) : x;
    }

    /// <summary>HF's hidden_states: [embeddings (after the pre-norm), block 0, ..., block Depth-1], all tokens.</summary>
    public IReadOnlyList<Tensor> HiddenStates(Tensor pixels)
    {
        var x = Embed(pixels);
        var states = new List<Tensor> { _backend.Concat([x], 0) };  // Concat of one part: a copy
        foreach (var block in _blocks) { block.Forward(x); states.Add(_backend.Concat([x], 0)); }
        return states;
    }

    /// <summary>timm's forward_features: every block, then the final norm; all tokens. → (Tokens, D).</summary>
    public Tensor FinalFeatures(Tensor pixels)
    {
        if (_normW == null) throw new InvalidOperationException($"{Config.Name}: the checkpoint has no final norm");
        var x = BlockFeatures(pixels, Config.Depth - 1, dropPrefix: false);
        return _backend.LayerNorm(x, _normW, _normB, Config.NormEps);
    }

    /// <summary>Patch embedding, prefix tokens and positions (and the pre-norm): pixels (3, S, S) → the residual stream (Tokens, D).</summary>
    private Tensor Embed(Tensor pixels)
    {
        if (pixels.Rank != 3 || pixels.Dim(0) != 3 || pixels.Dim(1) != ImageSize || pixels.Dim(2) != ImageSize)
            throw new ArgumentException($"{Config.Name}: expected pixels (3, {ImageSize}, {ImageSize}), got {pixels}");
        var patches = Patches.Unfold(_backend, pixels, Config.PatchSize);  // (g², 3·p·p)
        var x = _backend.MatMul(patches, _patchW, _patchBias);  // (g², D)
        _backend.Release(patches);
        if (Config.NoEmbedClass)
        {
            _backend.AddInPlace(x, _posEmbed);
            if (_prefix != null) x = _backend.Concat([_prefix, x], 0);
        }
        else
        {
            if (_prefix != null) x = _backend.Concat([_prefix, x], 0);
            _backend.AddInPlace(x, _posEmbed);
        }
        return _preNormW == null ? x : _backend.LayerNorm(x, _preNormW, _preNormB, Config.NormEps);
    }

    private Tensor DropPrefix(Tensor x) =>
        Config.PrefixTokens == 0 ? x : _backend.Contiguous(x.Narrow(0, Config.PrefixTokens, Grid * Grid));

    private Tensor Small(WeightScope scope, string name) => Parameters.Small(_backend, scope.GetF32(name, Config.EmbedDim));

    /// <summary>[cls, reg...] as (PrefixTokens, D), or null when the tower has none.</summary>
    private Tensor? PrefixTokens(VitConfig cfg, WeightScope embed, VitRootNames names)
    {
        int d = cfg.EmbedDim;
        var parts = new List<float>();
        if (cfg.ClassToken)
            parts.AddRange((cfg.Layout == VitLayout.Timm ? embed.GetF32(names.ClassToken, 1, 1, d) : embed.GetF32(names.ClassToken, d)).ToFloatArray());
        if (cfg.RegTokens > 0) parts.AddRange(embed.GetF32("reg_token", 1, cfg.RegTokens, d).ToFloatArray());
        return parts.Count == 0 ? null : Parameters.Small(_backend, Tensor.FromArray(parts.ToArray(), cfg.PrefixTokens, d));
    }

    /// <summary>The stored position embedding with its patch grid resampled to this image size (prefix positions kept).</summary>
    private Tensor ResampledPositions(VitConfig cfg, WeightScope embed, VitRootNames names)
    {
        int d = cfg.EmbedDim, storedGrid = cfg.StoredImageSize / cfg.PatchSize, grid = Grid;
        int prefixPositions = cfg.NoEmbedClass ? 0 : cfg.PrefixTokens;
        int stored = prefixPositions + storedGrid * storedGrid;
        var all = (cfg.Layout == VitLayout.Timm ? embed.GetF32(names.PositionEmbedding, 1, stored, d) : embed.GetF32(names.PositionEmbedding, stored, d)).ToFloatArray();
        var patchPart = all.AsSpan(prefixPositions * d).ToArray();
        var resampled = PositionEmbedding.ResampleBicubicAntialiased(patchPart, storedGrid, storedGrid, d, grid, grid);
        return Tensor.FromArray([.. all.AsSpan(0, prefixPositions * d), .. resampled], prefixPositions + grid * grid, d);
    }
}

/// <summary>Names outside the blocks, per layout (timm names sit at the root; CLIP's under "embeddings").</summary>
internal sealed record VitRootNames(string Embeddings, string PatchWeight, string PatchBias, string ClassToken,
    string PositionEmbedding, string PreNorm, string? FinalNorm, string Blocks)
{
    private static readonly VitRootNames Timm = new("", "patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token",
        "pos_embed", "norm_pre", "norm", "blocks");
    private static readonly VitRootNames HfClip = new("embeddings", "patch_embedding.weight", "patch_embedding.bias",
        "class_embedding", "position_embedding.weight", "pre_layrnorm", null, "encoder.layers");

    public static VitRootNames Of(VitLayout layout) => layout == VitLayout.Timm ? Timm : HfClip;
}
