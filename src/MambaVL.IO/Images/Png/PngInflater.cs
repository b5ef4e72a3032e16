// The zlib stream that a PNG's IDAT chunks carry. The 2-byte zlib header is checked here, the deflate data goes to
// System.IO.Compression.DeflateStream, and the Adler-32 of everything inflated is checked here: DeflateStream reads no
// zlib trailer, and ZLibStream lets a stream that stops before its trailer pass (it only catches a wrong one).
using System.Buffers.Binary;
using System.IO.Compression;

namespace MambaVL.IO.Images.Png;

internal sealed class PngInflater : IDisposable
{
    /// <summary>Inflated bytes tolerated after the last row (PIL ignores any); more looks like a decompression bomb.</summary>
    private const int MaxTrailingBytes = 1 << 20;

    private readonly byte[] _zlib;
    private readonly DeflateStream _deflate;
    private readonly string _fileName;
    private readonly byte[] _buffer = new byte[1 << 16];  // rows are served from here: one inflate call per 64 KB, not per row
    private int _buffered, _used;
    private uint _adler = 1;

    /// <param name="zlib">The IDAT chunks' data, concatenated.</param>
    public PngInflater(byte[] zlib, string fileName)
    {
        _zlib = zlib;
        _fileName = fileName;
        if (zlib.Length < 7) throw ImageErrors.Corrupt(fileName, $"truncated: the IDAT zlib stream is only {zlib.Length} bytes");
        int cmf = zlib[0], flg = zlib[1];
        if ((cmf & 0x0F) != 8 || cmf >> 4 > 7 || (cmf << 8 | flg) % 31 != 0)
            throw ImageErrors.Corrupt(fileName, $"IDAT does not start with a zlib header (bytes {cmf:x2} {flg:x2})");
        if ((flg & 0x20) != 0) throw ImageErrors.Corrupt(fileName, "IDAT zlib stream asks for a preset dictionary, which PNG does not allow");
        _deflate = new DeflateStream(new MemoryStream(zlib, 2, zlib.Length - 2, writable: false), CompressionMode.Decompress);
    }

    /// <summary>Fills <paramref name="destination"/>; false when the stream ends first.</summary>
    public bool TryReadExactly(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_used == _buffered && !Refill()) return false;
            int n = Math.Min(destination.Length, _buffered - _used);
            _buffer.AsSpan(_used, n).CopyTo(destination);
            _used += n;
            destination = destination[n..];
        }
        return true;
    }

    /// <summary>
    /// Inflates whatever follows the last row and checks the Adler-32 of all inflated bytes against the stream's last
    /// 4 bytes. Garbage after the zlib trailer therefore fails too, where PIL would ignore it.
    /// </summary>
    public void Finish()
    {
        long trailing = _buffered - _used;
        while (Refill())
        {
            trailing += _buffered;
            if (trailing > MaxTrailingBytes)
                throw ImageErrors.Corrupt(_fileName, $"IDAT inflates to more than {MaxTrailingBytes} bytes beyond the image");
        }
        uint stored = BinaryPrimitives.ReadUInt32BigEndian(_zlib.AsSpan(_zlib.Length - 4));
        if (stored != _adler)
            throw ImageErrors.Corrupt(_fileName,
                $"bad Adler-32 checksum of the IDAT zlib stream (stored {stored:x8}, computed {_adler:x8}): the image data is corrupt or cut short");
    }

    public void Dispose() => _deflate.Dispose();

    /// <summary>Inflates the next piece into the buffer (adding it to the checksum); false at the end of the stream.</summary>
    private bool Refill()
    {
        try
        {
            _buffered = _deflate.Read(_buffer);
        }
        catch (InvalidDataException)
        {
            throw ImageErrors.Corrupt(_fileName, "corrupt deflate data in the IDAT zlib stream");
        }
        _used = 0;
        _adler = Adler32.Update(_adler, _buffer.AsSpan(0, _buffered));
        return _buffered > 0;
    }
}

/// <summary>Adler-32 (RFC 1950), the checksum that ends a zlib stream.</summary>
internal static class Adler32
{
    private const uint Modulus = 65521;
    private const int MaxBlock = 5552;  // the most bytes whose sums cannot overflow 32 bits before the modulo

    public static uint Update(uint adler, ReadOnlySpan<byte> data)
    {
        uint a = adler & 0xFFFF, b = adler >> 16;
        while (!data.IsEmpty)
        {
            var block = data[..Math.Min(MaxBlock, data.Length)];
            foreach (byte x in block)
            {
                a += x;
                b += a;
            }
            a %= Modulus;
            b %= Modulus;
            data = data[block.Length..];
        }
        return b << 16 | a;
    }
}
