// Constant padding (torchvision's F.pad on a PIL image, i.e. ImageOps.expand) and ML-Mamba's LetterboxPad with its
// fill colour derived from the normalisation mean.
namespace MambaVL.IO.Images.Processing;

/// <summary>An RGB fill colour.</summary>
public readonly record struct RgbColor(byte R, byte G, byte B);

public static class Pad
{
    /// <summary>
    /// The image with <paramref name="left"/>, <paramref name="top"/>, <paramref name="right"/>, <paramref name="bottom"/>
    /// pixels of <paramref name="fill"/> added around it (torchvision <c>F.pad(img, (l, t, r, b), fill)</c>, constant mode).
    /// </summary>
    public static RgbImage Constant(RgbImage source, int left, int top, int right, int bottom, RgbColor fill)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (left < 0 || top < 0 || right < 0 || bottom < 0)
            throw new ArgumentException($"padding ({left}, {top}, {right}, {bottom}) must not be negative");
        long width = (long)source.Width + left + right, height = (long)source.Height + top + bottom;
        if (width > int.MaxValue || height > int.MaxValue) throw new ArgumentException($"padded size {width}×{height} is too large");
        return Crop.Shifted(source, (int)width, (int)height, -left, -top, fill);
    }

    /// <summary>
    /// ML-Mamba's <c>LetterboxPad</c> (mlmamba/models/backbones/vision/base_vision.py): int((max_wh - side) / 2) pixels on
    /// both ends of each side. Like the reference, an odd difference leaves the result one pixel short of square.
    /// </summary>
    public static RgbImage Letterbox(RgbImage source, RgbColor fill)
    {
        ArgumentNullException.ThrowIfNull(source);
        int maxSide = Math.Max(source.Width, source.Height);
        int horizontal = (maxSide - source.Width) / 2, vertical = (maxSide - source.Height) / 2;
        return Constant(source, horizontal, vertical, horizontal, vertical, fill);
    }

    /// <summary>
    /// The letterbox fill ML-Mamba derives from a normalisation mean: <c>tuple(int(x * 255) for x in mean)</c>
    /// (dinosiglip_vit.py), which truncates: ImageNet gives (123, 116, 103), mean 0.5 gives (127, 127, 127).
    /// </summary>
    public static RgbColor LetterboxFill(Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(normalization);
        return new RgbColor(Truncate(normalization.Mean[0]), Truncate(normalization.Mean[1]), Truncate(normalization.Mean[2]));

        static byte Truncate(double mean) => (byte)Math.Clamp((int)(mean * 255), 0, 255);
    }

    /// <summary>Sets every pixel of <paramref name="image"/> to <paramref name="color"/>.</summary>
    internal static void FillWith(RgbImage image, RgbColor color)
    {
        var first = image.Row(0);
        for (int x = 0; x < image.Width; x++) { first[x * 3] = color.R; first[x * 3 + 1] = color.G; first[x * 3 + 2] = color.B; }
        for (int y = 1; y < image.Height; y++) first.CopyTo(image.Row(y));
    }
}
