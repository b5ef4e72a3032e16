// Turning one row of stored samples into 8-bit RGB, the way PIL's convert("RGB") does: shared by the PNG, BMP and PNM
// decoders (palette and packed-index lookup, picking 8-bit channels out of wider pixels, 16-bit samples narrowed).
namespace MambaVL.IO.Images;

internal static class PixelRows
{
    /// <summary>
    /// round(v / 257): a 16-bit sample as 8 bits. Deliberately not PIL, whose 16-bit paths either keep the high byte
    /// (RGB;16B) or clip at 255 (mode I to RGB). (v + 128) / 257 equals round(v / 257) because v / 257 is never a tie.
    /// </summary>
    public static byte Narrow16(int v) => (byte)((uint)(v + 128) / 257);

    /// <summary>
    /// A 256-entry RGB table holding the grey ramp (i, i, i): PIL starts every palette so, and palette entries a file
    /// leaves out (indices past its palette's end) keep those values.
    /// </summary>
    public static byte[] GreyRamp()
    {
        var table = new byte[256 * 3];
        for (int i = 0; i < 256; i++) table[3 * i] = table[3 * i + 1] = table[3 * i + 2] = (byte)i;
        return table;
    }

    /// <summary>
    /// <paramref name="pixels"/> indices packed most-significant-bit first at 1, 2, 4 or 8 bits each, looked up in a
    /// 256-entry RGB <paramref name="table"/>.
    /// </summary>
    public static void ExpandIndexed(ReadOnlySpan<byte> packed, int bitsPerIndex, ReadOnlySpan<byte> table, Span<byte> rgb, int pixels)
    {
        if (bitsPerIndex == 8)
        {
            var src = packed[..pixels];
            var dst = rgb[..(3 * pixels)];
            for (int i = 0; i < src.Length; i++)
            {
                int t = 3 * src[i];
                dst[3 * i] = table[t]; dst[3 * i + 1] = table[t + 1]; dst[3 * i + 2] = table[t + 2];
            }
            return;
        }
        int perByte = 8 / bitsPerIndex, mask = (1 << bitsPerIndex) - 1, o = 0;
        for (int byteIndex = 0, done = 0; done < pixels; byteIndex++)
        {
            int b = packed[byteIndex];
            for (int k = 0, shift = 8 - bitsPerIndex; k < perByte && done < pixels; k++, done++, shift -= bitsPerIndex)
            {
                int t = 3 * ((b >> shift) & mask);
                rgb[o] = table[t]; rgb[o + 1] = table[t + 1]; rgb[o + 2] = table[t + 2];
                o += 3;
            }
        }
    }

    /// <summary>
    /// R, G and B as the bytes at offsets <paramref name="r"/>, <paramref name="g"/>, <paramref name="b"/> of each
    /// <paramref name="bytesPerPixel"/>-byte pixel: grey is (0, 0, 0), alpha and padding bytes are simply not picked.
    /// </summary>
    public static void Gather8(ReadOnlySpan<byte> src, int bytesPerPixel, int r, int g, int b, Span<byte> rgb, int pixels)
    {
        if (bytesPerPixel == 3 && r == 0 && g == 1 && b == 2)
        {
            src[..(3 * pixels)].CopyTo(rgb);
            return;
        }
        var dst = rgb[..(3 * pixels)];
        for (int i = 0, s = 0; i < dst.Length; i += 3, s += bytesPerPixel)
        {
            dst[i] = src[s + r]; dst[i + 1] = src[s + g]; dst[i + 2] = src[s + b];
        }
    }

    /// <summary>
    /// As <see cref="Gather8"/> for big-endian 16-bit samples (offsets in bytes, at each sample's high byte), each
    /// narrowed with <see cref="Narrow16"/>.
    /// </summary>
    public static void Gather16BigEndian(ReadOnlySpan<byte> src, int bytesPerPixel, int r, int g, int b, Span<byte> rgb, int pixels)
    {
        var dst = rgb[..(3 * pixels)];
        for (int i = 0, s = 0; i < dst.Length; i += 3, s += bytesPerPixel)
        {
            dst[i] = Narrow16(src[s + r] << 8 | src[s + r + 1]);
            dst[i + 1] = Narrow16(src[s + g] << 8 | src[s + g + 1]);
            dst[i + 2] = Narrow16(src[s + b] << 8 | src[s + b + 1]);
        }
    }
}
