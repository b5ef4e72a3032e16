// The chunk layer of a PNG file: signature, IHDR, and a walk over every chunk (length, type, data, CRC) that checks
// each CRC, refuses unknown critical chunks and collects what decoding needs: the palette, the IDAT pieces, eXIf.
using System.Buffers.Binary;
using MambaVL.IO.PyTorch;

namespace MambaVL.IO.Images.Png;

/// <summary>IHDR's fields. Colour types: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA.</summary>
internal readonly record struct PngHeader(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
{
    public int Channels => ColorType switch { 0 or 3 => 1, 2 => 3, 4 => 2, _ => 4 };
    public int BitsPerPixel => Channels * BitDepth;

    /// <summary>Bytes per complete pixel, at least 1: how far back the Sub, Average and Paeth filters look.</summary>
    public int FilterStride => Math.Max(1, BitsPerPixel / 8);

    public long RowBytes(long pixels) => (pixels * BitsPerPixel + 7) / 8;

    /// <summary>The mode PIL 9 opens this file as (PngImagePlugin._MODES); 16-bit grey is "I", 16-bit grey + alpha "RGBA".</summary>
    public string Mode => (ColorType, BitDepth) switch
    {
        (0, 1) => "1",
        (0, 16) => "I",
        (0, _) => "L",
        (2, _) => "RGB",
        (3, _) => "P",
        (4, 8) => "LA",
        _ => "RGBA",
    };

    public static bool IsLegal(int colorType, int bitDepth) => colorType switch
    {
        0 => bitDepth is 1 or 2 or 4 or 8 or 16,
        3 => bitDepth is 1 or 2 or 4 or 8,
        2 or 4 or 6 => bitDepth is 8 or 16,
        _ => false,
    };
}

/// <summary>Where a PNG's parts are: its header, palette, IDAT pieces (offset, length) in order, and EXIF orientation.</summary>
internal sealed class PngLayout
{
    public PngHeader Header { get; init; }
    public byte[]? Palette { get; set; }
    public List<(int Offset, int Length)> ImageData { get; } = [];
    public int Orientation { get; set; } = 1;
    public long ImageDataLength => ImageData.Sum(p => (long)p.Length);
}

internal static class PngChunks
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private const int IhdrLength = 13;

    /// <summary>
    /// Walks every chunk up to IEND. A missing IEND, or a file ending inside a chunk header once image data has been
    /// seen, is tolerated as PIL does (the zlib checks still catch missing image data); a chunk whose data or CRC is
    /// cut off, a bad CRC or an unknown critical chunk is an error. <paramref name="checkImageDataCrcs"/>: false when only
    /// headers are wanted, so that reading the size of a big file does not checksum all its pixels.
    /// </summary>
    public static PngLayout Walk(ReadOnlySpan<byte> data, string fileName, bool checkImageDataCrcs)
    {
        var layout = new PngLayout { Header = ReadHeader(data, fileName) };
        bool imageDataEnded = false;
        for (int at = Signature.Length + 12 + IhdrLength; at < data.Length;)
        {
            bool imageDataSeen = layout.ImageData.Count > 0;
            if (data.Length - at < 8)
            {
                if (imageDataSeen) break;  // PIL stops where it cannot read a chunk header: like a missing IEND
                throw ImageErrors.Corrupt(fileName, $"truncated: a chunk header at byte {at} runs past the end of the file");
            }
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
            var type = data.Slice(at + 4, 4);
            string name = ChunkName(type, fileName, at);
            if (length > int.MaxValue) throw ImageErrors.Corrupt(fileName, $"chunk {name} at byte {at} has an impossible length {length}");
            if (length + 12L > data.Length - at)
                throw ImageErrors.Corrupt(fileName, $"truncated: chunk {name} ({length} bytes) at byte {at} runs past the end of the file");
            var body = data.Slice(at + 8, (int)length);
            if (name != "IDAT" || checkImageDataCrcs) CheckCrc(data.Slice(at + 4, 4 + (int)length), data.Slice(at + 8 + (int)length, 4), name, fileName);
            if (name == "IEND") break;
            if (name == "IDAT")
            {
                if (imageDataEnded) throw ImageErrors.Corrupt(fileName, $"IDAT chunks are not consecutive (another IDAT at byte {at})");
                layout.ImageData.Add((at + 8, (int)length));
            }
            else
            {
                imageDataEnded = imageDataSeen;
                Interpret(name, body, layout, imageDataSeen, fileName);
            }
            at += 12 + (int)length;
        }
        if (layout.ImageData.Count == 0) throw ImageErrors.Corrupt(fileName, "no IDAT chunk (the file holds no image data)");
        return layout;
    }

    /// <summary>The signature and IHDR only: what ReadInfo needs besides eXIf.</summary>
    public static PngHeader ReadHeader(ReadOnlySpan<byte> data, string fileName)
    {
        if (!data.StartsWith(Signature)) throw ImageErrors.Corrupt(fileName, "not a PNG file (bad signature)");
        var reader = new ImageReader(data, fileName, Signature.Length);
        uint length = reader.U32BigEndian("the IHDR chunk");
        var type = reader.Take(4, "the IHDR chunk");
        if (!type.SequenceEqual("IHDR"u8)) throw ImageErrors.Corrupt(fileName, "the first chunk is not IHDR");
        if (length != IhdrLength) throw ImageErrors.Corrupt(fileName, $"IHDR is {length} bytes long, not {IhdrLength}");
        var body = reader.Take(IhdrLength, "the IHDR chunk");
        CheckCrc(data.Slice(Signature.Length + 4, 4 + IhdrLength), reader.Take(4, "the IHDR CRC"), "IHDR", fileName);

        uint width = BinaryPrimitives.ReadUInt32BigEndian(body), height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        int bitDepth = body[8], colorType = body[9], compression = body[10], filter = body[11], interlace = body[12];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            throw ImageErrors.Corrupt(fileName, $"IHDR: impossible image size {width}×{height}");
        if (!PngHeader.IsLegal(colorType, bitDepth))
            throw ImageErrors.Corrupt(fileName, $"IHDR: colour type {colorType} with bit depth {bitDepth} is not a PNG pixel format");
        if (compression != 0) throw ImageErrors.Corrupt(fileName, $"IHDR: unknown compression method {compression}");
        if (filter != 0) throw ImageErrors.Corrupt(fileName, $"IHDR: unknown filter method {filter}");
        if (interlace > 1) throw ImageErrors.Corrupt(fileName, $"IHDR: unknown interlace method {interlace}");
        return new PngHeader((int)width, (int)height, bitDepth, colorType, interlace == 1);
    }

    private static void Interpret(string name, ReadOnlySpan<byte> body, PngLayout layout, bool afterImageData, string fileName)
    {
        switch (name)
        {
            case "IHDR":
                throw ImageErrors.Corrupt(fileName, "a second IHDR chunk");
            case "PLTE":
                // PIL keeps the last palette before the pixels and only for colour type 3; one after IDAT changes nothing.
                if (afterImageData || layout.Header.ColorType != 3) return;
                if (body.Length / 3 > 256) throw ImageErrors.Corrupt(fileName, $"PLTE has {body.Length / 3} entries; at most 256 are allowed");
                layout.Palette = body.ToArray();
                return;
            case "eXIf":
                layout.Orientation = Exif.Orientation(body);
                return;
            default:
                // Bit 5 of the first letter clear (upper case) marks a chunk a decoder must understand to show the image.
                if ((name[0] & 0x20) == 0) throw ImageErrors.Corrupt(fileName, $"unknown critical chunk {name}");
                return;
        }
    }

    private static string ChunkName(ReadOnlySpan<byte> type, string fileName, int at)
    {
        foreach (byte c in type)
            if (!char.IsAsciiLetter((char)c))
                throw ImageErrors.Corrupt(fileName, $"bad chunk type {Convert.ToHexString(type)} at byte {at} (not four letters)");
        return System.Text.Encoding.ASCII.GetString(type);
    }

    /// <summary>The CRC-32 of a chunk covers its type and data.</summary>
    private static unsafe void CheckCrc(ReadOnlySpan<byte> typeAndData, ReadOnlySpan<byte> stored, string name, string fileName)
    {
        uint actual;
        fixed (byte* p = typeAndData) actual = Crc32.Compute(p, typeAndData.Length);
        uint expected = BinaryPrimitives.ReadUInt32BigEndian(stored);
        if (actual != expected) throw ImageErrors.Corrupt(fileName, $"bad CRC in chunk {name} (stored {expected:x8}, computed {actual:x8})");
    }
}
