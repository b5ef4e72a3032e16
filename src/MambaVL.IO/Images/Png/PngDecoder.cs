// PNG decoder: every colour type and bit depth, Adam7, with the pixels PIL 9's Image.open(f).convert("RGB") gives
// (alpha dropped, palette looked up with transparency ignored, grey replicated), except 16-bit samples: round(v / 257).
namespace MambaVL.IO.Images.Png;

public static class PngDecoder
{
    /// <summary>Deflate cannot expand data by more than about 1032:1; a file claiming more pixels is cut short.</summary>
    private const long MaxInflateRatio = 1032;

    public static bool IsPng(ReadOnlySpan<byte> data) => data.StartsWith(PngChunks.Signature);

    /// <summary>Size, mode and EXIF orientation from the chunks; the image data is not inflated.</summary>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string fileName)
    {
        var layout = PngChunks.Walk(data, fileName, checkImageDataCrcs: false);
        return Info(layout.Header, layout.Orientation);
    }

    public static DecodedImage Decode(ReadOnlySpan<byte> data, string fileName)
    {
        var layout = PngChunks.Walk(data, fileName, checkImageDataCrcs: true);
        var header = layout.Header;
        ImageLimits.CheckSize(fileName, header.Width, header.Height);
        if (header.RowBytes(header.Width) >= Array.MaxLength)
            throw ImageErrors.Corrupt(fileName, $"rows of {header.Width} pixels at {header.BitsPerPixel} bits are too long");
        var rows = new PngRows(header, layout.Palette, fileName);
        long inflated = rows.InflatedSize(), compressed = layout.ImageDataLength;
        if (compressed * MaxInflateRatio < inflated)
            throw ImageErrors.Corrupt(fileName,
                $"truncated: {compressed} bytes of IDAT data cannot hold a {header.Width}×{header.Height} image ({inflated} bytes inflated)");

        var image = new RgbImage(header.Width, header.Height);
        using (var inflater = new PngInflater(Concatenate(data, layout), fileName))
        {
            rows.Decode(inflater, image);
            inflater.Finish();
        }
        return new DecodedImage(image, Info(header, layout.Orientation));
    }

    private static ImageInfo Info(PngHeader header, int orientation) =>
        new("PNG", header.Width, header.Height, header.Mode, orientation);

    private static byte[] Concatenate(ReadOnlySpan<byte> data, PngLayout layout)
    {
        var zlib = new byte[layout.ImageDataLength];
        int at = 0;
        foreach (var (offset, length) in layout.ImageData)
        {
            data.Slice(offset, length).CopyTo(zlib.AsSpan(at));
            at += length;
        }
        return zlib;
    }
}
