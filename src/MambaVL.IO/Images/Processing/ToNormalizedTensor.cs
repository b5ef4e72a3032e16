// (H, W, 3) bytes to a normalised F32 (3, H, W) tensor, with the float32 arithmetic of torchvision's ToTensor +
// Normalize or of HF image processors' rescale + normalize, so values match the references to the last bit.
using MambaVL.Core.Tensors;

namespace MambaVL.IO.Images.Processing;

/// <summary>Per-channel (R, G, B) mean and standard deviation, given as the Python configs give them (doubles).</summary>
public sealed class Normalization
{
    public IReadOnlyList<double> Mean { get; }
    public IReadOnlyList<double> Std { get; }

    public Normalization(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count != 3 || std.Count != 3) throw new ArgumentException($"normalisation needs 3 means and 3 stds, got {mean.Count} and {std.Count}");
        if (std.Any(s => (float)s == 0f)) throw new ArgumentException($"normalisation std ({string.Join(", ", std)}) has a zero");
        (Mean, Std) = (mean.ToArray(), std.ToArray());
    }

    /// <summary>ImageNet (timm IMAGENET_DEFAULT_*): DINOv2, InternVL.</summary>
    public static Normalization ImageNet { get; } = new([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);

    /// <summary>Mean and std 0.5 (SigLIP, IMAGENET_STANDARD_*).</summary>
    public static Normalization Half { get; } = new([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);

    /// <summary>OpenAI CLIP (OPENAI_CLIP_MEAN / OPENAI_CLIP_STD).</summary>
    public static Normalization OpenAiClip { get; } = new([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]);
}

/// <summary>How a byte becomes a float before normalisation.</summary>
public enum PixelScaling
{
    /// <summary>torchvision F.to_tensor: <c>float32(b).div(255)</c>, a float32 division.</summary>
    TorchvisionToTensor,

    /// <summary>HF image_transforms.rescale: <c>float32(float64(b) * rescale_factor)</c> with rescale_factor = 1/255.</summary>
    HfRescale,
}

public static class ToNormalizedTensor
{
    /// <summary>
    /// The image as an F32 (3, H, W) tensor: scaled per <paramref name="scaling"/>, then <c>(x - mean) / std</c> in float32
    /// with float32 mean and std (torchvision's sub_ then div_; HF's numpy expression on float32 arrays: the same ops).
    /// </summary>
    public static Tensor Apply(RgbImage image, Normalization normalization, PixelScaling scaling = PixelScaling.TorchvisionToTensor)
    {
        ArgumentNullException.ThrowIfNull(image);
        var t = Tensor.Zeros(DType.F32, 3, image.Height, image.Width);
        Write(image, normalization, scaling, t.Span<float>());
        return t;
    }

    /// <summary>Images of one size as an F32 (N, 3, H, W) tensor, each as <see cref="Apply"/> makes it (torch.stack of those).</summary>
    public static Tensor Batch(IReadOnlyList<RgbImage> images, Normalization normalization, PixelScaling scaling = PixelScaling.TorchvisionToTensor)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("no images to batch", nameof(images));
        int w = images[0].Width, h = images[0].Height;
        if (images.Any(i => i.Width != w || i.Height != h))
            throw new ArgumentException($"images to batch differ in size: {string.Join(", ", images.Select(i => $"{i.Width}×{i.Height}"))}");
        var t = Tensor.Zeros(DType.F32, images.Count, 3, h, w);
        var all = t.Span<float>();
        int each = 3 * h * w;
        for (int i = 0; i < images.Count; i++) Write(images[i], normalization, scaling, all.Slice(i * each, each));
        return t;
    }

    /// <summary>Writes the (3, H, W) values of <see cref="Apply"/> into <paramref name="destination"/> (3·H·W floats).</summary>
    public static void Write(RgbImage image, Normalization normalization, PixelScaling scaling, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(normalization);
        int plane = image.Width * image.Height;
        if (destination.Length != 3 * plane)
            throw new ArgumentException($"destination holds {destination.Length} floats, a {image.Width}×{image.Height} image needs {3 * plane}");
        var pixels = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            // Each output is a function of one byte: tabulate the 256 values once per channel.
            var table = ChannelTable(scaling, (float)normalization.Mean[c], (float)normalization.Std[c]);
            var outPlane = destination.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) outPlane[i] = table[pixels[i * 3 + c]];
        }
    }

    private static float[] ChannelTable(PixelScaling scaling, float mean, float std)
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++)
        {
            float x = scaling switch
            {
                PixelScaling.TorchvisionToTensor => b / 255f,
                PixelScaling.HfRescale => (float)(b * (1.0 / 255)),
                _ => throw new ArgumentException($"unknown pixel scaling {scaling}", nameof(scaling)),
            };
            table[b] = (x - mean) / std;
        }
        return table;
    }
}
