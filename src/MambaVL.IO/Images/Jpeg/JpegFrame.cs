// What the JPEG headers describe (frame, components, tables, current scan) and the per-component buffers the decoder
// fills; sizes follow libjpeg's jdinput.c (width_in_blocks, downsampled_width, ...) so edge handling matches it.
namespace MambaVL.IO.Images.Jpeg;

/// <summary>The colour space of the coded components, as libjpeg's default_decompress_parms guesses it.</summary>
internal enum JpegColorSpace { Gray, YCbCr, Rgb, Cmyk, Ycck }

internal sealed class JpegComponent
{
    public required int Id { get; init; }
    public required int Index { get; init; }
    public required int H { get; init; }
    public required int V { get; init; }
    public required int QuantSlot { get; init; }

    /// <summary>Blocks that hold image data (libjpeg's width_in_blocks / height_in_blocks).</summary>
    public int WidthInBlocks { get; set; }
    public int HeightInBlocks { get; set; }

    /// <summary>Samples that hold image data: ceil(image size × factor / max factor).</summary>
    public int DownsampledWidth { get; set; }
    public int DownsampledHeight { get; set; }

    /// <summary>Huffman table slots named by the current scan.</summary>
    public int DcSlot { get; set; }
    public int AcSlot { get; set; }

    /// <summary>The quantisation table in natural order, copied at the first scan that codes this component
    /// (libjpeg's latch_quant_tables: later DQT redefinitions do not apply to it).</summary>
    public ushort[]? Quant { get; set; }

    /// <summary>64 coefficients per block, blocks row by row (multi-scan files only).</summary>
    public short[]? Coefficients { get; set; }

    /// <summary>Progressive status per coefficient: the Al of the last scan that coded it, -1 if none yet.</summary>
    public int[] CoefBits { get; } = CreateCoefBits();

    /// <summary>Samples after the inverse DCT: PlaneStride × HeightInBlocks·8.</summary>
    public byte[] Plane { get; set; } = [];

    public int PlaneStride => WidthInBlocks * 8;

    public int BlockCount => WidthInBlocks * HeightInBlocks;

    private static int[] CreateCoefBits()
    {
        var bits = new int[64];
        Array.Fill(bits, -1);
        return bits;
    }
}

internal sealed class JpegFrame
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required bool Progressive { get; init; }
    public required JpegComponent[] Components { get; init; }
    public int MaxH { get; init; }
    public int MaxV { get; init; }

    /// <summary>MCU grid of an interleaved scan; McuRows is libjpeg's total_iMCU_rows.</summary>
    public int McusPerLine => (Width + MaxH * 8 - 1) / (MaxH * 8);
    public int McuRows => (Height + MaxV * 8 - 1) / (MaxV * 8);
}

/// <summary>One SOS header: the components it codes and its spectral selection / successive approximation.</summary>
internal sealed class JpegScan
{
    public required JpegComponent[] Components { get; init; }
    public required int Ss { get; init; }
    public required int Se { get; init; }
    public required int Ah { get; init; }
    public required int Al { get; init; }
    public required int RestartInterval { get; init; }
    public required int Number { get; init; }
}

internal static class ZigZag
{
    /// <summary>Zigzag index → natural (row-major) index, with 16 extra entries so a corrupt run that overshoots
    /// position 63 lands on 63 (as libjpeg's jpeg_natural_order does) instead of outside the block.</summary>
    public static ReadOnlySpan<byte> ToNatural =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    ];
}
