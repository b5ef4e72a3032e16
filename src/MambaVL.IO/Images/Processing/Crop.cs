// Crops: a plain rectangle (PIL's Image.crop inside the image) and the two centre crops of the reference pipelines,
// which place an odd margin differently: torchvision's F.center_crop and HF transformers' image_transforms.center_crop.
namespace MambaVL.IO.Images.Processing;

public static class Crop
{
    /// <summary>The <paramref name="width"/> × <paramref name="height"/> rectangle at (left, top), which must lie inside the image.</summary>
    public static RgbImage Region(RgbImage source, int left, int top, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireSize(width, height);
        if (left < 0 || top < 0 || (long)left + width > source.Width || (long)top + height > source.Height)
            throw new ArgumentException($"crop {width}×{height} at ({left}, {top}) is outside the {source.Width}×{source.Height} image");
        return Shifted(source, width, height, left, top, default);
    }

    /// <summary>
    /// torchvision <c>CenterCrop((height, width))</c> on a PIL image: a side smaller than the crop is zero-padded with
    /// (crop - size) // 2 before it and the rest after; a larger side starts at int(round((size - crop) / 2.0)), where
    /// Python's round goes half to even (a margin of 3 starts at 2, of 7 at 4).
    /// </summary>
    public static RgbImage TorchvisionCenter(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireSize(width, height);
        return Shifted(source, width, height, TorchvisionOffset(source.Width, width), TorchvisionOffset(source.Height, height), default);
    }

    /// <summary>
    /// HF transformers <c>center_crop(image, (height, width))</c> on a numpy image: a larger side starts at
    /// (size - crop) // 2 (floor: a margin of 3 starts at 1); a smaller side is zero-padded with ceil((crop - size) / 2)
    /// before it. Both sides are handled independently, as the padded-then-sliced array of the reference is.
    /// </summary>
    public static RgbImage HfCenter(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireSize(width, height);
        return Shifted(source, width, height, HfOffset(source.Width, width), HfOffset(source.Height, height), default);
    }

    private static int TorchvisionOffset(int size, int crop) =>
        crop > size ? -((crop - size) / 2) : (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);

    private static int HfOffset(int size, int crop) =>
        crop > size ? -((crop - size + 1) / 2) : (size - crop) / 2;

    /// <summary>
    /// A width × height image whose pixel (x, y) is source pixel (x + offsetX, y + offsetY), or <paramref name="fill"/>
    /// where that falls outside the source: crops (positive offsets) and pads (negative offsets) in one copy.
    /// </summary>
    internal static RgbImage Shifted(RgbImage source, int width, int height, int offsetX, int offsetY, RgbColor fill)
    {
        var dst = new RgbImage(width, height);
        if (fill != default) Pad.FillWith(dst, fill);
        int x0 = Math.Max(0, -offsetX), x1 = Math.Min(width, source.Width - offsetX);
        int y0 = Math.Max(0, -offsetY), y1 = Math.Min(height, source.Height - offsetY);
        if (x0 >= x1) return dst;
        for (int y = y0; y < y1; y++)
            source.Row(y + offsetY).Slice((x0 + offsetX) * 3, (x1 - x0) * 3).CopyTo(dst.Row(y).Slice(x0 * 3));
        return dst;
    }

    internal static void RequireSize(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"crop size {width}×{height} is empty: both sides must be at least 1 pixel", width <= 0 ? nameof(width) : nameof(height));
    }
}
