// PBM/PGM/PPM decoder (P1-P6, ASCII and binary, any maxval) giving the pixels of PIL 9's Image.open(f).convert("RGB").
// Samples scale as PIL scales them, round(v / maxval × 255) with ties to even; PGMs with maxval > 255 (PIL mode "I",
// scaled to 0-65535) then narrow with round(v / 257) where PIL's convert would clip at 255.
namespace MambaVL.IO.Images.Pnm;

public static class PnmDecoder
{
    public static bool IsPnm(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 'P' && data[1] is >= (byte)'1' and <= (byte)'6';

    /// <summary>Size and PIL mode ("1", "L", "I" or "RGB") from the header.</summary>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string fileName) => Info(PnmHeader.Read(data, fileName));

    public static DecodedImage Decode(ReadOnlySpan<byte> data, string fileName)
    {
        var header = PnmHeader.Read(data, fileName);
        ImageLimits.CheckSize(fileName, header.Width, header.Height);
        var pixels = data[header.DataOffset..];
        var image = header.Kind switch
        {
            '1' => PnmPlain.DecodeBitmap(pixels, header, fileName),
            '2' or '3' => PnmPlain.DecodeSamples(pixels, header, fileName),
            '4' => DecodeBinaryBitmap(pixels, header, fileName),
            _ => DecodeBinarySamples(pixels, header, fileName),
        };
        return new DecodedImage(image, Info(header));
    }

    private static ImageInfo Info(PnmHeader header) => new("PPM", header.Width, header.Height, header.Mode);

    /// <summary>P4: rows of bits, most significant first, 1 black; each row padded to a byte.</summary>
    private static RgbImage DecodeBinaryBitmap(ReadOnlySpan<byte> pixels, PnmHeader header, string fileName)
    {
        int rowBytes = (header.Width + 7) / 8;
        CheckLength(pixels, (long)rowBytes * header.Height, fileName);
        var table = new byte[256 * 3];
        table.AsSpan(0, 3).Fill(255);  // bit 0 is white
        var image = new RgbImage(header.Width, header.Height);
        for (int y = 0; y < header.Height; y++)
            PixelRows.ExpandIndexed(pixels.Slice(y * rowBytes, rowBytes), 1, table, image.Row(y), header.Width);
        return image;
    }

    /// <summary>P5/P6: one byte per sample below maxval 256, two (big-endian) from 256 on.</summary>
    private static RgbImage DecodeBinarySamples(ReadOnlySpan<byte> pixels, PnmHeader header, string fileName)
    {
        int bytesPerSample = header.MaxValue < 256 ? 1 : 2;
        int rowBytes = header.Width * header.Channels * bytesPerSample;
        CheckLength(pixels, (long)rowBytes * header.Height, fileName);
        var image = new RgbImage(header.Width, header.Height);
        int channelStep = header.Channels == 3 ? bytesPerSample : 0;
        if (header.MaxValue is 255 or 65535)  // PIL's raw paths: bytes as they are, or 16-bit narrowed
        {
            for (int y = 0; y < header.Height; y++)
                if (bytesPerSample == 1) PixelRows.Gather8(pixels.Slice(y * rowBytes, rowBytes), header.Channels, 0, channelStep, 2 * channelStep, image.Row(y), header.Width);
                else PixelRows.Gather16BigEndian(pixels.Slice(y * rowBytes, rowBytes), 2 * header.Channels, 0, channelStep, 2 * channelStep, image.Row(y), header.Width);
            return image;
        }
        var scale = SampleScale.Table(header.MaxValue, header.Mode == "I", bytesPerSample == 1 ? 256 : 65536);
        for (int y = 0; y < header.Height; y++)
        {
            var src = pixels.Slice(y * rowBytes, rowBytes);
            var dst = image.Row(y);
            for (int x = 0; x < header.Width; x++)
                for (int c = 0; c < 3; c++)
                {
                    int s = x * header.Channels * bytesPerSample + c * channelStep;
                    dst[3 * x + c] = scale[bytesPerSample == 1 ? src[s] : src[s] << 8 | src[s + 1]];
                }
        }
        return image;
    }

    private static void CheckLength(ReadOnlySpan<byte> pixels, long needed, string fileName)
    {
        if (pixels.Length < needed)
            throw ImageErrors.Corrupt(fileName, $"truncated: the pixel data needs {needed} bytes, the file has {pixels.Length} after the header");
    }
}

/// <summary>How PIL maps a sample to 8 bits for a given maxval.</summary>
internal static class SampleScale
{
    /// <summary>
    /// For every raw sample value below <paramref name="size"/>: min(out, round(v / maxval × out)) with ties to even
    /// (PIL's Python round, same double arithmetic), out = 255, or out = 65535 then round(v / 257) for mode "I".
    /// </summary>
    public static byte[] Table(int maxValue, bool sixteenBit, int size)
    {
        var table = new byte[size];
        double outMax = sixteenBit ? 65535 : 255;
        for (int v = 0; v < size; v++)
        {
            double scaled = Math.Min(outMax, Math.Round((double)v / maxValue * outMax, MidpointRounding.ToEven));
            table[v] = sixteenBit ? PixelRows.Narrow16((int)scaled) : (byte)scaled;
        }
        return table;
    }
}
