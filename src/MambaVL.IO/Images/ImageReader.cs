// Small pieces the PNG, BMP and PNM decoders share: a bounds-checked reader over a file's bytes whose overruns become
// "FILE: truncated ..." errors, and the size limit every decoder applies before it allocates pixels.
using System.Buffers.Binary;

namespace MambaVL.IO.Images;

/// <summary>Reads a file's bytes front to back; every read past the end throws ImageErrors.Corrupt naming what was cut off.</summary>
internal ref struct ImageReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _fileName;

    public ImageReader(ReadOnlySpan<byte> data, string fileName, int position = 0)
    {
        _data = data;
        _fileName = fileName;
        Position = position;
    }

    public int Position { get; set; }
    public readonly int Remaining => Math.Max(0, _data.Length - Position);

    public uint U32LittleEndian(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public uint U32BigEndian(string what) => BinaryPrimitives.ReadUInt32BigEndian(Take(4, what));

    /// <summary>The next <paramref name="count"/> bytes, or a "truncated" error naming <paramref name="what"/>.</summary>
    public ReadOnlySpan<byte> Take(long count, string what)
    {
        if (count < 0 || count > Remaining) throw Truncated(what);
        var s = _data.Slice(Position, (int)count);
        Position += (int)count;
        return s;
    }

    /// <summary>Up to <paramref name="count"/> bytes: fewer at the end of the file (readers that tolerate a short tail).</summary>
    public ReadOnlySpan<byte> TakeAtMost(long count)
    {
        int n = (int)Math.Clamp(count, 0, Remaining);
        var s = _data.Slice(Position, n);
        Position += n;
        return s;
    }

    /// <summary>-1 at the end of the file, else the next byte (consumed).</summary>
    public int ReadOrEnd() => Position >= _data.Length ? -1 : _data[Position++];

    private readonly InvalidDataException Truncated(string what) =>
        ImageErrors.Corrupt(_fileName, $"truncated: {what} runs past the end of the file ({_data.Length} bytes)");
}

/// <summary>The largest image the decoders will allocate, and the check they all make before allocating.</summary>
internal static class ImageLimits
{
    /// <summary>2^28 pixels: 768 MB as RGB. PIL refuses above ~179 M pixels as a decompression bomb; this is a little looser.</summary>
    public const long MaxPixels = 1L << 28;

    /// <summary>Throws unless 1 ≤ width, 1 ≤ height and width × height ≤ <see cref="MaxPixels"/>.</summary>
    public static void CheckSize(string fileName, long width, long height)
    {
        if (width <= 0 || height <= 0) throw ImageErrors.Corrupt(fileName, $"image size {width}×{height} is empty");
        if (width > MaxPixels || height > MaxPixels || width * height > MaxPixels)
            throw ImageErrors.Corrupt(fileName, $"image size {width}×{height} is larger than the {MaxPixels}-pixel limit");
    }
}
