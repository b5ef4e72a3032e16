// Pure C# JPEG decoder (baseline, extended and progressive Huffman; 8-bit; grayscale, YCbCr, RGB, CMYK, YCCK) whose
// pixels equal PIL's Image.open(f).convert("RGB") on libjpeg-turbo 2.1 defaults (ISLOW IDCT, fancy upsampling).
using System.Buffers;

namespace MambaVL.IO.Images.Jpeg;

public static class JpegDecoder
{
    /// <summary>Scans beyond this are refused: each costs a pass over every block, so thousands of them are an attack.</summary>
    private const int MaxScans = 1000;

    /// <summary>The JPEG signature: SOI followed by the FF of the first marker.</summary>
    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    /// <summary>Format, size, PIL mode and EXIF orientation from the headers before the first scan.</summary>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string fileName)
    {
        var reader = new MarkerReader(data, fileName);
        var header = new JpegHeader(fileName);
        ReadFirstScan(ref reader, header);
        return InfoOf(header);
    }

    /// <summary>Decodes the whole image to RGB. The EXIF orientation is reported in the info, never applied.</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> data, string fileName)
    {
        var reader = new MarkerReader(data, fileName);
        var header = new JpegHeader(fileName);
        var scan = ReadFirstScan(ref reader, header);
        var info = InfoOf(header);  // PIL stops reading markers at the first SOS
        var frame = header.Frame!;
        foreach (var c in frame.Components) Upsampler.Select(c, frame.MaxH, frame.MaxV, fileName);  // refuse before allocating
        CheckDataCanFill(frame, scan, data.Length - reader.Position, fileName);

        // A single interleaved sequential scan goes straight to samples; otherwise coefficients build up over scans.
        bool singleScan = !frame.Progressive && scan.Components.Length == frame.Components.Length;
        Rent(frame, keepCoefficients: !singleScan);
        try
        {
            while (true)
            {
                header.LatchQuantTables(scan);
                reader.Position = new ScanDecoder(header, scan, singleScan, fileName).Decode(data, reader.Position);
                if (singleScan) break;  // libjpeg never needs the EOI of such a file, and PIL does not ask for it
                var next = header.ReadUntilScan(ref reader);
                if (next == null) break;
                if (next.Number > MaxScans) throw ImageErrors.Corrupt(fileName, $"JPEG has more than {MaxScans} scans");
                scan = next;
            }
            if (!singleScan) TransformCoefficients(frame);
            return new DecodedImage(ColorConverter.Render(frame, header.ColorSpace, fileName), info);
        }
        finally
        {
            Return(frame);
        }
    }

    private static JpegScan ReadFirstScan(ref MarkerReader reader, JpegHeader header)
    {
        reader.ReadStartOfImage();
        return header.ReadUntilScan(ref reader)
            ?? throw ImageErrors.Corrupt(reader.FileName, "JPEG has no image: EOI before any scan");
    }

    private static ImageInfo InfoOf(JpegHeader header) =>
        new("JPEG", header.Frame!.Width, header.Frame.Height, header.Mode, header.Orientation);

    /// <summary>
    /// Every block of a first sequential or DC scan costs at least one bit, so a file too short for its stated size is
    /// refused before its buffers are allocated.
    /// </summary>
    private static void CheckDataCanFill(JpegFrame frame, JpegScan scan, long bytesLeft, string fileName)
    {
        if (scan.Ss != 0 || (frame.Progressive && scan.Ah != 0)) return;
        long blocks = scan.Components.Length == 1
            ? scan.Components[0].BlockCount
            : (long)frame.McusPerLine * frame.McuRows * scan.Components.Sum(c => c.H * c.V);
        if (blocks > bytesLeft * 8)
            throw ImageErrors.Corrupt(fileName, $"truncated JPEG: {bytesLeft} bytes of scan data cannot hold the {blocks} blocks of a {frame.Width}×{frame.Height} image");
    }

    /// <summary>
    /// Sample planes and coefficient buffers come from the shared pool: they are large and short-lived, and fresh
    /// large arrays cost page faults on every decode. Planes need no clearing: every block of them is written.
    /// </summary>
    private static void Rent(JpegFrame frame, bool keepCoefficients)
    {
        foreach (var c in frame.Components)
        {
            c.Plane = ArrayPool<byte>.Shared.Rent(c.PlaneStride * c.HeightInBlocks * 8);
            if (!keepCoefficients) continue;
            c.Coefficients = ArrayPool<short>.Shared.Rent(c.BlockCount * 64);
            Array.Clear(c.Coefficients, 0, c.BlockCount * 64);
        }
    }

    private static void Return(JpegFrame frame)
    {
        foreach (var c in frame.Components)
        {
            if (c.Plane.Length > 0) ArrayPool<byte>.Shared.Return(c.Plane);
            if (c.Coefficients != null) ArrayPool<short>.Shared.Return(c.Coefficients);
            (c.Plane, c.Coefficients) = ([], null);
        }
    }

    /// <summary>Inverse DCT of every stored block (libjpeg's decompress_data, or decompress_smooth_data when it applies).</summary>
    private static void TransformCoefficients(JpegFrame frame)
    {
        bool smooth = BlockSmoothing.Applies(frame);
        var noQuant = new ushort[64];  // a component no scan coded: libjpeg's multiplier table stays zero
        foreach (var c in frame.Components)
        {
            if (smooth) { BlockSmoothing.TransformComponent(c, frame); continue; }
            var coefficients = c.Coefficients!;
            var quant = c.Quant ?? noQuant;
            for (int row = 0; row < c.HeightInBlocks; row++)
                for (int col = 0; col < c.WidthInBlocks; col++)
                    InverseDct.Transform(coefficients.AsSpan((row * c.WidthInBlocks + col) * 64, 64), quant, c.Plane,
                        row * 8 * c.PlaneStride + col * 8, c.PlaneStride);
        }
    }
}
