// Builds small PNG files byte by byte for the corruption tests: chunks with correct CRCs, scanlines compressed with
// ZLibStream, and helpers to re-CRC or re-pack a fixture after it has been changed on purpose.
using System.Buffers.Binary;
using System.IO.Compression;
using MambaVL.IO.PyTorch;

namespace MambaVL.IO.Tests.Images;

internal static class PngBuilder
{
    public static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static unsafe byte[] Chunk(string type, ReadOnlySpan<byte> body)
    {
        var c = new byte[12 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(c, (uint)body.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(c, 4);
        body.CopyTo(c.AsSpan(8));
        fixed (byte* p = &c[4]) BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(8 + body.Length), Crc32.Compute(p, 4 + body.Length));
        return c;
    }

    public static byte[] Header(int width, int height, int bitDepth, int colorType, int interlace = 0)
    {
        var h = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(h, width);
        BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4), height);
        (h[8], h[9], h[12]) = ((byte)bitDepth, (byte)colorType, (byte)interlace);
        return Chunk("IHDR", h);
    }

    public static byte[] Zlib(ReadOnlySpan<byte> raw)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }

    /// <summary>An 8-bit grey image from raw scanlines (filter byte + row each), as one IDAT holding <paramref name="zlib"/>.</summary>
    public static byte[] Grey8(int width, int height, byte[] zlib, params byte[][] extraChunksBeforeEnd) =>
        [.. Signature, .. Header(width, height, 8, 0), .. Chunk("IDAT", zlib), .. extraChunksBeforeEnd.SelectMany(c => c), .. Chunk("IEND", [])];

    /// <summary>Scanlines of a width × height 8-bit grey image with every row using <paramref name="filter"/>.</summary>
    public static byte[] GreyScanlines(int width, int height, byte filter = 0)
    {
        var raw = new byte[height * (width + 1)];
        for (int y = 0; y < height; y++)
        {
            raw[y * (width + 1)] = filter;
            for (int x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = (byte)(x * 7 + y * 13);
        }
        return raw;
    }

    /// <summary>(offset, length, type) of each complete chunk of a PNG.</summary>
    public static List<(int Offset, int Length, string Type)> Chunks(byte[] png)
    {
        var list = new List<(int, int, string)>();
        for (int at = 8; at + 12 <= png.Length;)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (length > png.Length - at - 12) break;
            list.Add((at, (int)length, System.Text.Encoding.ASCII.GetString(png, at + 4, 4)));
            at += 12 + (int)length;
        }
        return list;
    }

    /// <summary>Recomputes the CRC of every complete chunk, so that a mutation reaches the code behind the CRC check.</summary>
    public static unsafe byte[] FixCrcs(byte[] png)
    {
        var b = (byte[])png.Clone();
        foreach (var (at, length, _) in Chunks(b))
            fixed (byte* p = &b[at + 4]) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at + 8 + length), Crc32.Compute(p, 4 + length));
        return b;
    }
}
