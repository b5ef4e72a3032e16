// Turning one row of stored samples into 8-bit RGB, the way PIL's convert("RGB") does: shared by the PNG, BMP and PNM
// decoders (palette and packed-index lookup, picking 8-bit channels out of wider pixels, 16-bit samples narrowed).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
        if (table.Length < 256 * 3) throw new ArgumentException("the table needs 256 RGB entries", nameof(table));
        if (bitsPerIndex == 8)
        {
            Require(packed, pixels, rgb, pixels);
            ref byte src = ref MemoryMarshal.GetReference(packed);
            ref byte dst = ref MemoryMarshal.GetReference(rgb);
            ref byte lut = ref MemoryMarshal.GetReference(table);
            for (int i = 0; i < pixels; i++)
            {
                int t = 3 * Unsafe.Add(ref src, i);  // < 768: inside the table
                Unsafe.Add(ref dst, 3 * i) = Unsafe.Add(ref lut, t);
                Unsafe.Add(ref dst, 3 * i + 1) = Unsafe.Add(ref lut, t + 1);
                Unsafe.Add(ref dst, 3 * i + 2) = Unsafe.Add(ref lut, t + 2);
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
        if (pixels == 0) return;
        Require(src, (long)(pixels - 1) * bytesPerPixel + Math.Max(r, Math.Max(g, b)) + 1, rgb, pixels);
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref byte d = ref MemoryMarshal.GetReference(rgb);
        for (int i = 0, at = 0; i < pixels; i++, at += bytesPerPixel)
        {
            Unsafe.Add(ref d, 3 * i) = Unsafe.Add(ref s, at + r);
            Unsafe.Add(ref d, 3 * i + 1) = Unsafe.Add(ref s, at + g);
            Unsafe.Add(ref d, 3 * i + 2) = Unsafe.Add(ref s, at + b);
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

    /// <summary>The checks that make the unchecked loops above safe.</summary>
    private static void Require(ReadOnlySpan<byte> src, long sourceBytes, Span<byte> rgb, int pixels)
    {
        if (pixels < 0 || src.Length < sourceBytes || rgb.Length < 3L * pixels)
            throw new ArgumentException($"{pixels} pixels need {sourceBytes} source bytes (have {src.Length}) and {3L * pixels} RGB bytes (have {rgb.Length})");
    }
}
