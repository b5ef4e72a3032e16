// Walks the marker structure of a JPEG file: SOI, length-prefixed segments, and the search for the next marker after
// entropy-coded data (skipping fill bytes and, like libjpeg's next_marker, any extraneous bytes).
using System.Buffers.Binary;

namespace MambaVL.IO.Images.Jpeg;

internal ref struct MarkerReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _fileName;

    public MarkerReader(ReadOnlySpan<byte> data, string fileName)
    {
        _data = data;
        _fileName = fileName;
    }

    public ReadOnlySpan<byte> Data => _data;
    public string FileName => _fileName;

    /// <summary>Offset of the next unread byte.</summary>
    public int Position { get; set; }

    /// <summary>Checks the SOI marker that must open the file (libjpeg's first_marker allows nothing before it).</summary>
    public void ReadStartOfImage()
    {
        if (_data.Length < 2 || _data[0] != 0xFF || _data[1] != 0xD8)
            throw ImageErrors.Corrupt(_fileName, "not a JPEG file (it does not start with the SOI marker FF D8)");
        Position = 2;
    }

    /// <summary>The code of the next marker (the byte after FF), positioned after it.</summary>
    public int NextMarker()
    {
        int pos = Position;
        int marker = SkipToMarker(_data, ref pos);
        if (marker < 0)
            throw ImageErrors.Corrupt(_fileName, "truncated JPEG: the file ends before the EOI marker");
        Position = pos + 2;
        return marker;
    }

    /// <summary>The payload of the segment whose length field is at Position; Position moves past it.</summary>
    public ReadOnlySpan<byte> ReadSegment(int marker)
    {
        if (Position + 2 > _data.Length)
            throw ImageErrors.Corrupt(_fileName, $"truncated JPEG: the file ends inside the {Describe(marker)} segment");
        int length = BinaryPrimitives.ReadUInt16BigEndian(_data[Position..]);
        if (length < 2)
            throw ImageErrors.Corrupt(_fileName, $"corrupt JPEG: {Describe(marker)} segment length {length} is less than 2");
        if (Position + length > _data.Length)
            throw ImageErrors.Corrupt(_fileName, $"truncated JPEG: the file ends inside the {Describe(marker)} segment");
        var payload = _data.Slice(Position + 2, length - 2);
        Position += length;
        return payload;
    }

    /// <summary>
    /// Moves <paramref name="pos"/> to the FF of the next marker, skipping other bytes, stuffed FF 00 pairs and FF fill
    /// bytes; returns the marker code, or -1 when the data ends first.
    /// </summary>
    public static int SkipToMarker(ReadOnlySpan<byte> data, ref int pos)
    {
        while (pos + 1 < data.Length)
        {
            int at = data[pos..].IndexOf((byte)0xFF);
            if (at < 0) break;
            pos += at;
            int next = pos + 1;
            while (next < data.Length && data[next] == 0xFF) next++;
            if (next >= data.Length) break;
            if (data[next] != 0)
            {
                pos = next - 1;
                return data[next];
            }
            pos = next + 1;
        }
        pos = data.Length;
        return -1;
    }

    public static string Describe(int marker) => marker switch
    {
        0xC4 => "DHT",
        0xC8 => "JPG",
        0xCC => "DAC",
        >= 0xC0 and <= 0xCF => $"SOF{marker - 0xC0}",
        >= 0xD0 and <= 0xD7 => $"RST{marker - 0xD0}",
        0xD8 => "SOI",
        0xD9 => "EOI",
        0xDA => "SOS",
        0xDB => "DQT",
        0xDC => "DNL",
        0xDD => "DRI",
        >= 0xE0 and <= 0xEF => $"APP{marker - 0xE0}",
        0xFE => "COM",
        _ => $"marker FF {marker:X2}",
    };
}
