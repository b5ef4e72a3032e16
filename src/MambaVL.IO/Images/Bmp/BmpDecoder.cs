// BMP decoder: palettes (1/4/8-bit), 16-bit 5-5-5 and 5-6-5, 24-bit, 32-bit with PIL's bitfield layouts, bottom-up and
// top-down, RLE8/RLE4, OS/2 and Windows headers, giving the pixels of PIL 9's Image.open(f).convert("RGB").
namespace MambaVL.IO.Images.Bmp;

public static class BmpDecoder
{
    public static bool IsBmp(ReadOnlySpan<byte> data) => BmpHeader.HasSignature(data);

    /// <summary>Size and PIL mode from the headers and palette; the pixel data is not read.</summary>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string fileName) => Info(BmpHeader.Read(data, fileName));

    public static DecodedImage Decode(ReadOnlySpan<byte> data, string fileName)
    {
        var layout = BmpHeader.Read(data, fileName);
        var image = layout.IsRle ? DecodeRle(data, layout, fileName) : DecodeRaw(data, layout, fileName);
        return new DecodedImage(image, Info(layout));
    }

    private static ImageInfo Info(BmpLayout layout) => new("BMP", layout.Width, layout.Height, layout.Mode);

    private static RgbImage DecodeRaw(ReadOnlySpan<byte> data, BmpLayout layout, string fileName)
    {
        long stride = layout.Stride, rowBytes = layout.RowBytes;
        if (stride < rowBytes)
            throw ImageErrors.Corrupt(fileName, $"mode {layout.Mode} rows of {rowBytes} bytes do not fit the file's {stride}-byte rows");
        // The last row needs no padding (PIL does not ask for it either).
        long end = layout.DataOffset + stride * (layout.Height - 1) + rowBytes;
        if (end > data.Length)
            throw ImageErrors.Corrupt(fileName, $"truncated: the pixel data needs {end} bytes, the file has {data.Length}");
        var image = new RgbImage(layout.Width, layout.Height);
        for (int y = 0; y < layout.Height; y++)
        {
            long stored = layout.TopDown ? y : layout.Height - 1 - y;
            ToRgb(data.Slice((int)(layout.DataOffset + stored * stride), (int)rowBytes), layout, image.Row(y));
        }
        return image;
    }

    private static RgbImage DecodeRle(ReadOnlySpan<byte> data, BmpLayout layout, string fileName)
    {
        byte[] indices = BmpRle.Decode(data, layout, fileName);
        var image = new RgbImage(layout.Width, layout.Height);
        for (int y = 0; y < layout.Height; y++)
        {
            long stored = layout.TopDown ? y : layout.Height - 1 - y;
            PixelRows.ExpandIndexed(indices.AsSpan((int)(stored * layout.Width), layout.Width), 8, layout.Table, image.Row(y), layout.Width);
        }
        return image;
    }

    private static void ToRgb(ReadOnlySpan<byte> src, BmpLayout layout, Span<byte> rgb)
    {
        switch (layout.Pixels)
        {
            case BmpPixels.Indexed:
                PixelRows.ExpandIndexed(src, layout.UnpackBits, layout.Table, rgb, layout.Width);
                break;
            case BmpPixels.Bgr555:
                Unpack16(src, rgb, layout.Width, greenBits: 5);
                break;
            case BmpPixels.Bgr565:
                Unpack16(src, rgb, layout.Width, greenBits: 6);
                break;
            default:
                var (r, g, b) = layout.ByteOffsets;
                PixelRows.Gather8(src, layout.FileBits / 8, r, g, b, rgb, layout.Width);
                break;
        }
    }

    /// <summary>Little-endian 16-bit pixels, blue in the low 5 bits; each field stretched as PIL does, v × 255 / max, truncated.</summary>
    private static void Unpack16(ReadOnlySpan<byte> src, Span<byte> rgb, int pixels, int greenBits)
    {
        int greenMax = (1 << greenBits) - 1;
        for (int i = 0; i < pixels; i++)
        {
            int v = src[2 * i] | src[2 * i + 1] << 8;
            rgb[3 * i] = (byte)(((v >> (5 + greenBits)) & 31) * 255 / 31);
            rgb[3 * i + 1] = (byte)(((v >> 5) & greenMax) * 255 / greenMax);
            rgb[3 * i + 2] = (byte)((v & 31) * 255 / 31);
        }
    }
}
