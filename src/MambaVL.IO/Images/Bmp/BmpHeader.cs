// The headers of a BMP file read as PIL 9's BmpImagePlugin reads them: file header, info header (OS/2 12-byte core,
// Windows 40/64/108/124-byte), bitfield masks, palette; and from them the PIL mode and how the pixel bytes unpack.
namespace MambaVL.IO.Images.Bmp;

/// <summary>How stored pixels become RGB: palette indices, 5-5-5 / 5-6-5 words, or bytes picked from 3- or 4-byte pixels.</summary>
internal enum BmpPixels { Indexed, Bgr555, Bgr565, Bytes }

/// <summary>Everything decoding needs, from the headers.</summary>
internal sealed record BmpLayout(int Width, int Height, bool TopDown, int FileBits, int Compression, string Mode, BmpPixels Pixels,
    int UnpackBits, byte[]? Table, (int R, int G, int B) ByteOffsets, long DataOffset)
{
    public const int Rgb = 0, Rle8 = 1, Rle4 = 2, BitFields = 3;

    public bool IsRle => Compression is Rle8 or Rle4;

    /// <summary>Bytes per stored row: the file's bits per pixel, padded to 4 bytes.</summary>
    public long Stride => ((long)Width * FileBits + 31) / 32 * 4;

    /// <summary>Bytes a row unpacks from, at PIL's bits per pixel for the mode (8 for "L" even when the file has 4).</summary>
    public long RowBytes => ((long)Width * UnpackBits + 7) / 8;
}

internal static class BmpHeader
{
    private const int FileHeaderSize = 14;

    // PIL's supported bitfield layouts and where each puts R, G, B in a 4-byte little-endian pixel (MASK_MODES).
    private static readonly Dictionary<(uint, uint, uint, uint), ((int, int, int) Offsets, bool Alpha)> Masks32 = new()
    {
        [(0xFF0000, 0xFF00, 0xFF, 0)] = ((2, 1, 0), false),              // BGRX
        [(0xFF000000, 0xFF0000, 0xFF00, 0)] = ((3, 2, 1), false),        // XBGR
        [(0xFF000000, 0xFF0000, 0xFF00, 0xFF)] = ((3, 2, 1), true),      // ABGR
        [(0xFF, 0xFF00, 0xFF0000, 0xFF000000)] = ((0, 1, 2), true),      // RGBA
        [(0xFF0000, 0xFF00, 0xFF, 0xFF000000)] = ((2, 1, 0), true),      // BGRA
        [(0, 0, 0, 0)] = ((2, 1, 0), true),                             // PIL reads no masks as BGRA
    };

    public static bool HasSignature(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 'B' && data[1] == 'M';

    public static BmpLayout Read(ReadOnlySpan<byte> data, string fileName)
    {
        if (!HasSignature(data)) throw ImageErrors.Corrupt(fileName, "not a BMP file (no \"BM\" signature)");
        var reader = new ImageReader(data, fileName, 10);
        long offset = reader.U32LittleEndian("the file header");
        uint headerSize = reader.U32LittleEndian("the file header");
        var info = ReadInfoHeader(ref reader, headerSize, fileName);
        ImageLimits.CheckSize(fileName, info.Width, info.Height);

        // PIL: a data offset that points just past the header skips a palette of 4 bytes per colour (even OS/2's 3).
        if (offset == FileHeaderSize + headerSize && info.Bits <= 8) offset += 4 * Colors(info);
        var (mode, pixels, offsets) = PixelLayout(info, fileName);
        byte[]? table = null;
        int unpackBits = info.Bits;
        if (pixels == BmpPixels.Indexed) (mode, table, unpackBits) = ReadPalette(ref reader, info, fileName);
        if (offset == 0) offset = reader.Position;  // PIL: "offset or fp.tell()"
        if (info.Compression is BmpLayout.Rle8 or BmpLayout.Rle4 && mode == "1")
            throw ImageErrors.Corrupt(fileName, "RLE data with a black-and-white palette (PIL cannot unpack it either)");
        return new BmpLayout((int)info.Width, (int)info.Height, info.TopDown, info.Bits, (int)info.Compression, mode, pixels,
            unpackBits, table, offsets, offset);
    }

    private readonly record struct InfoHeader(long Width, long Height, bool TopDown, int Bits, uint Compression, uint Colors,
        int PaletteEntrySize, (uint R, uint G, uint B, uint A) Masks);

    private static InfoHeader ReadInfoHeader(ref ImageReader reader, uint headerSize, string fileName)
    {
        if (headerSize == 12)
        {
            var core = reader.Take(8, "the BITMAPCOREHEADER");
            return new InfoHeader(U16(core, 0), U16(core, 2), false, (int)U16(core, 6), BmpLayout.Rgb, 0, 3, default);
        }
        if (headerSize is not (40 or 64 or 108 or 124))
            throw ImageErrors.Corrupt(fileName, $"unsupported BMP header size {headerSize} (PIL reads 12, 40, 64, 108 and 124)");
        var h = reader.Take(headerSize - 4, "the BMP info header");
        // PIL: top-down when the height's top byte is 0xFF; the height is then 2^32 minus the stored value.
        bool topDown = h[7] == 0xFF;
        long height = topDown ? (1L << 32) - U32(h, 4) : U32(h, 4);
        uint compression = U32(h, 12);
        var masks = (0u, 0u, 0u, 0u);
        if (compression == BmpLayout.BitFields)
            masks = h.Length >= 52
                ? (U32(h, 36), U32(h, 40), U32(h, 44), U32(h, 48))
                : (reader.U32LittleEndian("the bitfield masks"), reader.U32LittleEndian("the bitfield masks"), reader.U32LittleEndian("the bitfield masks"), 0u);
        return new InfoHeader(U32(h, 0), height, topDown, (int)U16(h, 10), compression, U32(h, 28), 4, masks);
    }

    /// <summary>The palette size: the header's colour count, or 2^bits when it says 0.</summary>
    private static long Colors(InfoHeader info) => info.Colors != 0 ? info.Colors : 1L << info.Bits;

    private static (string Mode, BmpPixels Pixels, (int, int, int) Offsets) PixelLayout(InfoHeader info, string fileName)
    {
        if (info.Bits is not (1 or 4 or 8 or 16 or 24 or 32))
            throw ImageErrors.Corrupt(fileName, $"unsupported BMP pixel depth {info.Bits}");
        var layout = info.Bits switch
        {
            <= 8 => ("P", BmpPixels.Indexed, (0, 0, 0)),
            16 => ("RGB", BmpPixels.Bgr555, (0, 0, 0)),
            _ => ("RGB", BmpPixels.Bytes, (2, 1, 0)),
        };
        switch (info.Compression)
        {
            case BmpLayout.Rgb:
                return layout;
            case BmpLayout.Rle8 or BmpLayout.Rle4:
                if (info.Bits > 8) throw ImageErrors.Corrupt(fileName, $"RLE compression with {info.Bits} bits per pixel (PIL cannot unpack it either)");
                return layout;
            case BmpLayout.BitFields:
                var m = info.Masks;
                if (info.Bits == 32 && Masks32.TryGetValue(m, out var found)) return (found.Alpha ? "RGBA" : "RGB", BmpPixels.Bytes, found.Offsets);
                if (info.Bits == 24 && (m.R, m.G, m.B) == (0xFF0000, 0xFF00, 0xFF)) return layout;
                if (info.Bits == 16 && (m.R, m.G, m.B) == (0xF800, 0x7E0, 0x1F)) return ("RGB", BmpPixels.Bgr565, (0, 0, 0));
                if (info.Bits == 16 && (m.R, m.G, m.B) == (0x7C00, 0x3E0, 0x1F)) return layout;
                throw ImageErrors.Corrupt(fileName,
                    $"unsupported BMP bitfields layout {m.R:x}/{m.G:x}/{m.B:x}/{m.A:x} at {info.Bits} bits (PIL reads only the common ones)");
            default:
                throw ImageErrors.Corrupt(fileName, $"unsupported BMP compression {info.Compression}");
        }
    }

    /// <summary>
    /// PIL's palette rules: 2 colours black then white is mode "1", a palette of (i, i, i) for every index i is "L"
    /// (both then unpack at 1 and 8 bits per pixel whatever the file's depth), anything else "P".
    /// </summary>
    private static (string Mode, byte[] Table, int UnpackBits) ReadPalette(ref ImageReader reader, InfoHeader info, string fileName)
    {
        long colors = Colors(info);
        if (colors is <= 0 or > 65536) throw ImageErrors.Corrupt(fileName, $"unsupported BMP palette size {colors}");
        int entrySize = info.PaletteEntrySize;
        var palette = reader.TakeAtMost(entrySize * colors);  // PIL reads what is there
        if (IsGrey(palette, colors, entrySize))
        {
            if (colors == 2) return ("1", BlackWhite(), 1);
            return ("L", PixelRows.GreyRamp(), 8);
        }
        int entries = palette.Length / entrySize;
        if (entries > 256) throw ImageErrors.Corrupt(fileName, $"the BMP palette has {entries} entries; at most 256 are allowed");
        var table = PixelRows.GreyRamp();
        for (int i = 0; i < entries; i++)
        {
            var e = palette.Slice(i * entrySize, 3);  // stored B, G, R
            (table[3 * i], table[3 * i + 1], table[3 * i + 2]) = (e[2], e[1], e[0]);
        }
        return ("P", table, info.Bits);
    }

    private static bool IsGrey(ReadOnlySpan<byte> palette, long colors, int entrySize)
    {
        for (long i = 0; i < colors; i++)
        {
            int level = colors == 2 ? (int)i * 255 : (int)(i & 0xFF);
            long at = i * entrySize;
            if (at + 3 > palette.Length) return false;
            if (palette[(int)at] != level || palette[(int)at + 1] != level || palette[(int)at + 2] != level) return false;
        }
        return true;
    }

    private static byte[] BlackWhite()
    {
        var table = new byte[256 * 3];
        table[3] = table[4] = table[5] = 255;
        return table;
    }

    private static uint U16(ReadOnlySpan<byte> b, int at) => (uint)(b[at] | b[at + 1] << 8);
    private static uint U32(ReadOnlySpan<byte> b, int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
}
