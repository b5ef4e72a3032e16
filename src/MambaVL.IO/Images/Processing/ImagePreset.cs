// Named preprocessing presets: each reproduces one reference Python pipeline (ML-Mamba's DINOv2+SigLIP transforms, HF
// SigLIP and CLIP image processors, InternVL's tiling) from an RGB image to the model's F32 input tensors.
using System.Diagnostics.CodeAnalysis;
using MambaVL.Core.Tensors;

namespace MambaVL.IO.Images.Processing;

public sealed class ImagePreset
{
    private const int DinoSigLipSize = 384, SigLipSize = 384, ClipSize = 336, InternVlTileSize = 448;

    private readonly Func<RgbImage, Dictionary<string, Tensor>> _pipeline;

    /// <summary>The name presets are looked up by ("clip-336", ...).</summary>
    public string Name { get; }

    /// <summary>One line for CLI help: the reference it matches and the tensors it returns.</summary>
    public string Description { get; }

    /// <summary>The keys of the dictionary <see cref="Apply"/> returns.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    private ImagePreset(string name, string description, string[] outputNames, Func<RgbImage, Dictionary<string, Tensor>> pipeline) =>
        (Name, Description, OutputNames, _pipeline) = (name, description, outputNames, pipeline);

    /// <summary>The model inputs for <paramref name="image"/>: F32 tensors keyed by <see cref="OutputNames"/>.</summary>
    public IReadOnlyDictionary<string, Tensor> Apply(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return _pipeline(image);
    }

    public override string ToString() => Name;

    /// <summary>
    /// ML-Mamba "dinosiglip-vit-so-384px" with image_resize_strategy "resize-naive": per branch torchvision
    /// Resize((384, 384), BICUBIC) (a squash), timm's CenterCrop(384) (a no-op after it), ToTensor, Normalize.
    /// </summary>
    public static ImagePreset DinoSigLip384 { get; } = new("dinosiglip-384",
        "ML-Mamba DINOv2+SigLIP, resize-naive: PIL bicubic squash to 384×384; dino (ImageNet norm) and siglip (0.5 norm), each [3, 384, 384]",
        ["dino", "siglip"], image => DinoSigLipResizeNaive(image, DinoSigLipSize));

    /// <summary>The resize-naive DINOv2+SigLIP pipeline at another side (models built for another image size; tests).</summary>
    public static ImagePreset DinoSigLip(int size) => size == DinoSigLipSize ? DinoSigLip384
        : size < 1 ? throw new ArgumentException($"image size {size} is not positive")
        : new($"dinosiglip-{size}", $"DINOv2+SigLIP resize-naive at {size}×{size}", ["dino", "siglip"], image => DinoSigLipResizeNaive(image, size));

    /// <summary>
    /// ML-Mamba "dinosiglip-vit-so-384px" with image_resize_strategy "letterbox": per branch LetterboxPad with
    /// int(mean·255) fill, timm eval transform (Resize(384) shortest edge BICUBIC, CenterCrop(384), ToTensor, Normalize).
    /// </summary>
    public static ImagePreset DinoSigLip384Letterbox { get; } = new("dinosiglip-384-letterbox",
        "ML-Mamba DINOv2+SigLIP, letterbox: pad to square with the mean colour, shortest edge 384 + centre crop; dino and siglip, each [3, 384, 384]",
        ["dino", "siglip"], DinoSigLipLetterbox);

    /// <summary>HF SiglipImageProcessor with google/siglip-so400m-patch14-384's config: 384×384 BICUBIC, rescale 1/255, normalise 0.5.</summary>
    public static ImagePreset SigLip384 { get; } = new("siglip-384",
        "HF SiglipImageProcessor (google/siglip-so400m-patch14-384): PIL bicubic to 384×384, rescale, 0.5 norm; pixels [1, 3, 384, 384]",
        ["pixels"], SigLipProcessor);

    /// <summary>HF CLIPImageProcessor for openai/clip-vit-large-patch14-336: shortest edge 336 BICUBIC, HF centre crop 336, OpenAI CLIP norm.</summary>
    public static ImagePreset Clip336 { get; } = new("clip-336",
        "HF CLIPImageProcessor (openai/clip-vit-large-patch14-336): shortest edge 336 bicubic, centre crop 336, CLIP norm; pixels [1, 3, 336, 336]",
        ["pixels"], ClipProcessor);

    /// <summary>InternVL (and mmMamba) dynamic tiling with up to 12 tiles of 448 and a thumbnail, ImageNet normalisation.</summary>
    public static ImagePreset InternVl448Default { get; } = InternVl448();

    /// <summary>Every named preset, in the order CLI help lists them.</summary>
    public static IReadOnlyList<ImagePreset> All { get; } = [DinoSigLip384, DinoSigLip384Letterbox, SigLip384, Clip336, InternVl448Default];

    /// <summary>The names of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToArray();

    /// <summary>The preset called <paramref name="name"/> (case-insensitive), or an ArgumentException listing the known names.</summary>
    public static ImagePreset Get(string name) => TryGet(name, out var preset) ? preset
        : throw new ArgumentException($"unknown image preset '{name}'; known presets: {string.Join(", ", Names)}", nameof(name));

    public static bool TryGet(string? name, [NotNullWhen(true)] out ImagePreset? preset)
    {
        preset = All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        return preset is not null;
    }

    /// <summary>
    /// InternVL's load_image: dynamic_preprocess (grid of 1..<paramref name="maxTiles"/> tiles of 448, thumbnail last
    /// when there is more than one tile and <paramref name="thumbnail"/> is set), then per tile build_transform
    /// (Resize((448, 448)) is the identity on tiles, ToTensor, Normalize ImageNet): pixels [N, 3, 448, 448].
    /// </summary>
    public static ImagePreset InternVl448(int maxTiles = 12, bool thumbnail = true) => InternVl(InternVlTileSize, maxTiles, thumbnail);

    /// <summary>InternVL's tiling for a model whose tiles are <paramref name="tileSize"/> pixels (force_image_size); "internvl-{size}".</summary>
    public static ImagePreset InternVl(int tileSize, int maxTiles = 12, bool thumbnail = true)
    {
        if (maxTiles < 1) throw new ArgumentException($"InternVL needs at least 1 tile, got max {maxTiles}", nameof(maxTiles));
        if (tileSize < 1) throw new ArgumentException($"tile size {tileSize}", nameof(tileSize));
        string variant = maxTiles == 12 && thumbnail ? "" : $" (max {maxTiles} tiles{(thumbnail ? "" : ", no thumbnail")})";
        return new($"internvl-{tileSize}",
            $"InternVL dynamic tiling{variant}: up to {maxTiles} bicubic {tileSize}×{tileSize} tiles row-major{(thumbnail ? " + thumbnail last" : "")}, ImageNet norm; pixels [N, 3, {tileSize}, {tileSize}]",
            ["pixels"], image => new()
            {
                ["pixels"] = ToNormalizedTensor.Batch(InternVlTiling.Tiles(image, maxTiles, thumbnail, tileSize), Normalization.ImageNet),
            });
    }

    private static Dictionary<string, Tensor> DinoSigLipResizeNaive(RgbImage image, int size)
    {
        // Both branches resize the same image with the same filter; the reference does it twice, one result serves both.
        var resized = Crop.TorchvisionCenter(PilResize.Resize(image, size, size, ResampleFilter.Bicubic), size, size);
        return new()
        {
            ["dino"] = ToNormalizedTensor.Apply(resized, Normalization.ImageNet),
            ["siglip"] = ToNormalizedTensor.Apply(resized, Normalization.Half),
        };
    }

    private static Dictionary<string, Tensor> DinoSigLipLetterbox(RgbImage image) => new()
    {
        ["dino"] = TimmLetterboxBranch(image, Normalization.ImageNet),
        ["siglip"] = TimmLetterboxBranch(image, Normalization.Half),
    };

    // Each branch pads with its own mean colour, so the branches differ from the first step on.
    private static Tensor TimmLetterboxBranch(RgbImage image, Normalization normalization)
    {
        var padded = Pad.Letterbox(image, Pad.LetterboxFill(normalization));
        var resized = PilResize.ResizeShortestEdge(padded, DinoSigLipSize, ResampleFilter.Bicubic);
        return ToNormalizedTensor.Apply(Crop.TorchvisionCenter(resized, DinoSigLipSize, DinoSigLipSize), normalization);
    }

    // HF infers channels-first for arrays 1 or 3 pixels tall; these presets always read the image as (H, W, 3).
    private static Dictionary<string, Tensor> SigLipProcessor(RgbImage image)
    {
        var resized = PilResize.Resize(image, SigLipSize, SigLipSize, ResampleFilter.Bicubic);
        return new() { ["pixels"] = ToNormalizedTensor.Apply(resized, Normalization.Half, PixelScaling.HfRescale).Reshape(1, 3, SigLipSize, SigLipSize) };
    }

    private static Dictionary<string, Tensor> ClipProcessor(RgbImage image)
    {
        var (w, h) = ResizeRules.ShortestEdge(image.Width, image.Height, ClipSize);
        var cropped = Crop.HfCenter(PilResize.Resize(image, w, h, ResampleFilter.Bicubic), ClipSize, ClipSize);
        return new() { ["pixels"] = ToNormalizedTensor.Apply(cropped, Normalization.OpenAiClip, PixelScaling.HfRescale).Reshape(1, 3, ClipSize, ClipSize) };
    }
}
