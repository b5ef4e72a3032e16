// Parses the JPEG marker segments (SOF, DHT, DQT, DRI, SOS, APP0/1/14) into the frame, the tables and each scan's
// parameters, refusing what libjpeg-turbo 2.1 (and so PIL) cannot decode and what this decoder does not support.
using System.Buffers.Binary;

namespace MambaVL.IO.Images.Jpeg;

internal sealed class JpegHeader
{
    public const int MaxDimension = 65500;           // libjpeg's JPEG_MAX_DIMENSION
    public const long MaxPixels = 1L << 28;          // refuse before allocating anything for absurd sizes
    private const int MaxBlocksInMcu = 10;           // libjpeg's D_MAX_BLOCKS_IN_MCU

    private readonly string _fileName;
    private readonly HuffmanTable?[] _dcTables = new HuffmanTable?[4];
    private readonly HuffmanTable?[] _acTables = new HuffmanTable?[4];
    private readonly ushort[]?[] _quantTables = new ushort[]?[4];
    private bool _sawJfif, _sawAdobe, _sawExif;
    private int _adobeTransform;

    public JpegHeader(string fileName) => _fileName = fileName;

    public JpegFrame? Frame { get; private set; }
    public int RestartInterval { get; private set; }
    public int Orientation { get; private set; } = 1;
    public int ScanCount { get; private set; }

    /// <summary>Set at the first SOS from the markers seen so far, as libjpeg's default_decompress_parms does.</summary>
    public JpegColorSpace ColorSpace { get; private set; }

    public string Mode => Frame!.Components.Length switch { 1 => "L", 3 => "RGB", _ => "CMYK" };

    public HuffmanTable DcTable(int slot) => UsableTable(slot < 4 ? _dcTables[slot] : null, "DC", slot);
    public HuffmanTable AcTable(int slot) => UsableTable(slot < 4 ? _acTables[slot] : null, "AC", slot);

    /// <summary>Reads marker segments up to the next SOS (returning its scan) or EOI (returning null).</summary>
    public JpegScan? ReadUntilScan(ref MarkerReader reader)
    {
        while (true)
        {
            int marker = reader.NextMarker();
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC2: ReadFrame(reader.ReadSegment(marker), marker); break;
                case 0xC4: ReadHuffmanTables(reader.ReadSegment(marker)); break;
                case 0xDB: ReadQuantTables(reader.ReadSegment(marker)); break;
                case 0xDD: ReadRestartInterval(reader.ReadSegment(marker)); break;
                case 0xDA: return ReadScan(reader.ReadSegment(marker));
                case 0xD9: return null;
                case 0xE0 or 0xE1 or 0xEE: ReadApplicationSegment(marker, reader.ReadSegment(marker)); break;
                case (>= 0xE2 and <= 0xEF) or 0xFE or 0xCC or 0xDC: reader.ReadSegment(marker); break;  // APPn, COM, DAC, DNL
                case (>= 0xD0 and <= 0xD7) or 0x01: break;                                              // RSTn, TEM: no payload
                case 0xD8: throw Corrupt("corrupt JPEG: a second SOI marker");
                default: throw Unsupported(marker);
            }
        }
    }

    private InvalidDataException Unsupported(int marker) => marker switch
    {
        0xC3 => Corrupt("lossless JPEG (SOF3) is not supported"),
        0xC9 or 0xCA => Corrupt($"arithmetic-coded JPEG ({MarkerReader.Describe(marker)}) is not supported; only Huffman coding is"),
        0xC5 or 0xC6 or 0xC7 => Corrupt($"hierarchical JPEG ({MarkerReader.Describe(marker)}) is not supported"),
        0xCB or 0xCD or 0xCE or 0xCF => Corrupt($"arithmetic-coded hierarchical/lossless JPEG ({MarkerReader.Describe(marker)}) is not supported"),
        _ => Corrupt($"corrupt JPEG: unexpected {MarkerReader.Describe(marker)}"),
    };

    private void ReadFrame(ReadOnlySpan<byte> s, int marker)
    {
        if (Frame != null) throw Corrupt("corrupt JPEG: a second SOF marker");
        if (s.Length < 6) throw Corrupt($"corrupt JPEG: {MarkerReader.Describe(marker)} segment too short");
        int precision = s[0], height = BinaryPrimitives.ReadUInt16BigEndian(s[1..]), width = BinaryPrimitives.ReadUInt16BigEndian(s[3..]);
        int count = s[5];
        if (precision != 8) throw Corrupt($"{precision}-bit JPEG samples are not supported (only 8-bit)");
        if (count is not (1 or 3 or 4)) throw Corrupt($"JPEG with {count} components is not supported (only 1, 3 or 4)");
        if (s.Length != 6 + 3 * count) throw Corrupt($"corrupt JPEG: {MarkerReader.Describe(marker)} segment length does not match {count} components");
        if (width == 0 || height == 0) throw Corrupt($"corrupt JPEG: empty image {width}×{height} (a height defined by DNL is not supported)");
        if (width > MaxDimension || height > MaxDimension) throw Corrupt($"JPEG image {width}×{height} exceeds libjpeg's limit of {MaxDimension} pixels per side");
        if ((long)width * height > MaxPixels) throw Corrupt($"JPEG image {width}×{height} has more than {MaxPixels} pixels");

        var components = new JpegComponent[count];
        for (int i = 0; i < count; i++)
        {
            int h = s[7 + 3 * i] >> 4, v = s[7 + 3 * i] & 15;
            if (h is < 1 or > 4 || v is < 1 or > 4) throw Corrupt($"corrupt JPEG: component {i} has sampling factors {h}×{v} (must be 1..4)");
            components[i] = new JpegComponent { Id = s[6 + 3 * i], Index = i, H = h, V = v, QuantSlot = s[8 + 3 * i] };
        }
        int maxH = components.Max(c => c.H), maxV = components.Max(c => c.V);
        foreach (var c in components)
        {
            c.WidthInBlocks = CeilDiv(width * c.H, maxH * 8);
            c.HeightInBlocks = CeilDiv(height * c.V, maxV * 8);
            c.DownsampledWidth = CeilDiv(width * c.H, maxH);
            c.DownsampledHeight = CeilDiv(height * c.V, maxV);
        }
        Frame = new JpegFrame { Width = width, Height = height, Progressive = marker == 0xC2, Components = components, MaxH = maxH, MaxV = maxV };
    }

    private void ReadHuffmanTables(ReadOnlySpan<byte> s)
    {
        while (s.Length > 16)
        {
            int index = s[0];
            var counts = s.Slice(1, 16);
            int total = 0;
            foreach (byte n in counts) total += n;
            s = s[17..];
            if (total > 256 || total > s.Length) throw Corrupt("corrupt JPEG: bad Huffman table definition (too many symbols)");
            bool isAc = (index & 0x10) != 0;
            int slot = isAc ? index - 0x10 : index;
            if (slot >= 4) throw Corrupt($"corrupt JPEG: Huffman table index {slot} (must be 0..3)");
            (isAc ? _acTables : _dcTables)[slot] = new HuffmanTable(counts, s[..total], !isAc);
            s = s[total..];
        }
        if (s.Length != 0) throw Corrupt("corrupt JPEG: DHT segment length does not match its tables");
    }

    private void ReadQuantTables(ReadOnlySpan<byte> s)
    {
        while (s.Length > 0)
        {
            int precision = s[0] >> 4, slot = s[0] & 15;
            if (slot >= 4) throw Corrupt($"corrupt JPEG: quantization table index {slot} (must be 0..3)");
            int bytes = precision != 0 ? 128 : 64;
            if (s.Length < 1 + bytes) throw Corrupt("corrupt JPEG: DQT segment length does not match its tables");
            var table = new ushort[64];
            for (int i = 0; i < 64; i++)
                table[ZigZag.ToNatural[i]] = precision != 0 ? BinaryPrimitives.ReadUInt16BigEndian(s[(1 + 2 * i)..]) : s[1 + i];
            _quantTables[slot] = table;
            s = s[(1 + bytes)..];
        }
    }

    private void ReadRestartInterval(ReadOnlySpan<byte> s)
    {
        if (s.Length != 2) throw Corrupt("corrupt JPEG: DRI segment length is not 4");
        RestartInterval = BinaryPrimitives.ReadUInt16BigEndian(s);
    }

    private void ReadApplicationSegment(int marker, ReadOnlySpan<byte> s)
    {
        if (marker == 0xE0 && s.Length >= 14 && s.StartsWith("JFIF\0"u8)) _sawJfif = true;
        else if (marker == 0xEE && s.Length >= 12 && s.StartsWith("Adobe"u8)) (_sawAdobe, _adobeTransform) = (true, s[11]);
        else if (marker == 0xE1 && s.StartsWith("Exif\0"u8) && !_sawExif)
        {
            _sawExif = true;  // PIL reads the first Exif block only
            if (s.Length >= 6 && s[5] == 0) Orientation = Exif.Orientation(s[6..]);
        }
    }

    private JpegScan ReadScan(ReadOnlySpan<byte> s)
    {
        var frame = Frame ?? throw Corrupt("corrupt JPEG: SOS marker before any SOF marker");
        int count = s.Length > 0 ? s[0] : 0;
        if (count is < 1 or > 4 || s.Length != 4 + 2 * count) throw Corrupt("corrupt JPEG: bad SOS segment length");
        var components = new JpegComponent[count];
        for (int i = 0; i < count; i++)
        {
            int id = s[1 + 2 * i], tables = s[2 + 2 * i];
            var c = frame.Components.Take(4).FirstOrDefault(c => c.Id == id && Array.IndexOf(components, c, 0, i) < 0)
                ?? throw Corrupt($"corrupt JPEG: scan names unknown or repeated component id {id}");
            (c.DcSlot, c.AcSlot) = (tables >> 4, tables & 15);
            components[i] = c;
        }
        if (ScanCount == 0) ColorSpace = GuessColorSpace(frame);
        int blocksInMcu = count == 1 ? 1 : components.Sum(c => c.H * c.V);
        if (blocksInMcu > MaxBlocksInMcu) throw Corrupt($"corrupt JPEG: an interleaved MCU of {blocksInMcu} blocks (libjpeg allows at most {MaxBlocksInMcu})");
        int at = 1 + 2 * count;
        return new JpegScan
        {
            Components = components, Ss = s[at], Se = s[at + 1], Ah = s[at + 2] >> 4, Al = s[at + 2] & 15,
            RestartInterval = RestartInterval, Number = ++ScanCount,
        };
    }

    /// <summary>Copies each scan component's quantisation table the first time a scan codes it.</summary>
    public void LatchQuantTables(JpegScan scan)
    {
        foreach (var c in scan.Components)
        {
            if (c.Quant != null) continue;
            var table = c.QuantSlot < 4 ? _quantTables[c.QuantSlot] : null;
            if (table == null) throw Corrupt($"corrupt JPEG: quantization table {c.QuantSlot} is used but not defined");
            c.Quant = (ushort[])table.Clone();
        }
    }

    private JpegColorSpace GuessColorSpace(JpegFrame frame)
    {
        var c = frame.Components;
        if (c.Length == 1) return JpegColorSpace.Gray;
        if (c.Length == 4) return !_sawAdobe ? JpegColorSpace.Cmyk : _adobeTransform == 0 ? JpegColorSpace.Cmyk : JpegColorSpace.Ycck;
        if (_sawJfif) return JpegColorSpace.YCbCr;
        if (_sawAdobe) return _adobeTransform == 0 ? JpegColorSpace.Rgb : JpegColorSpace.YCbCr;
        return c[0].Id == 'R' && c[1].Id == 'G' && c[2].Id == 'B' ? JpegColorSpace.Rgb : JpegColorSpace.YCbCr;
    }

    private HuffmanTable UsableTable(HuffmanTable? table, string kind, int slot)
    {
        if (table == null) throw Corrupt($"corrupt JPEG: {kind} Huffman table {slot} is used but not defined");
        if (table.Problem != null) throw Corrupt($"corrupt JPEG: {kind} Huffman table {slot}: {table.Problem}");
        return table;
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private InvalidDataException Corrupt(string problem) => ImageErrors.Corrupt(_fileName, problem);
}
