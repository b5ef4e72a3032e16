// PNG scanlines to RGB: each row is read from the inflater, unfiltered in place against the row above (filter types
// 0-4), and converted to RGB straight into the image; Adam7 files go pass by pass, scattering each pass's pixels.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MambaVL.IO.Images.Png;

internal sealed class PngRows
{
    // Adam7: where each pass starts and how far apart its pixels are, in x and y.
    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7Passes =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    private readonly PngHeader _header;
    private readonly byte[]? _indexTable;  // 256 RGB entries for palette and 1/2/4-bit grey images
    private readonly string _fileName;

    public PngRows(PngHeader header, byte[]? palette, string fileName)
    {
        _header = header;
        _fileName = fileName;
        _indexTable = header.ColorType == 3 ? PaletteTable(palette) : header is { ColorType: 0, BitDepth: < 8 } ? GreyTable(header.BitDepth) : null;
    }

    /// <summary>
    /// The passes that hold pixels, as (Adam7 pass 1-7, x0, y0, dx, dy, width, height); one full-image pass numbered 0
    /// unless interlaced.
    /// </summary>
    public IEnumerable<(int Number, int X0, int Y0, int Dx, int Dy, int Width, int Height)> Passes()
    {
        var (w, h) = (_header.Width, _header.Height);
        if (!_header.Interlaced)
        {
            yield return (0, 0, 0, 1, 1, w, h);
            yield break;
        }
        for (int p = 0; p < Adam7Passes.Length; p++)
        {
            var (x0, y0, dx, dy) = Adam7Passes[p];
            int pw = (int)((w - x0 + (long)dx - 1) / dx), ph = (int)((h - y0 + (long)dy - 1) / dy);
            if (pw > 0 && ph > 0) yield return (p + 1, x0, y0, dx, dy, pw, ph);
        }
    }

    /// <summary>Filter bytes plus row bytes over every pass: how much the zlib stream must inflate to.</summary>
    public long InflatedSize() => Passes().Sum(p => p.Height * (1 + _header.RowBytes(p.Width)));

    public void Decode(PngInflater inflater, RgbImage image)
    {
        int maxRow = (int)_header.RowBytes(_header.Width);
        var current = new byte[1 + maxRow];
        var previous = new byte[1 + maxRow];
        var passRgb = _header.Interlaced ? new byte[3 * ((_header.Width + 1) / 2)] : [];  // the widest scattered pass: 5
        foreach (var (pass, x0, y0, dx, dy, pw, ph) in Passes())
        {
            int rowBytes = (int)_header.RowBytes(pw);
            Array.Clear(previous);  // the row above a pass's first row counts as zeros
            for (int r = 0; r < ph; r++)
            {
                var row = current.AsSpan(0, 1 + rowBytes);
                if (!inflater.TryReadExactly(row))
                    throw ImageErrors.Corrupt(_fileName, pass > 0
                        ? $"truncated: the image data ends in row {r} of {ph} of Adam7 pass {pass}"
                        : $"truncated: the image data ends in row {r} of {ph}");
                Unfilter(row[0], row[1..], previous.AsSpan(1, rowBytes), _header.FilterStride, r);
                if (dx == 1) ToRgb(row[1..], image.Row(y0 + r * dy), pw);
                else Scatter(row[1..], passRgb, image.Row(y0 + r * dy), x0, dx, pw);
                (current, previous) = (previous, current);
            }
        }
    }

    private void Scatter(ReadOnlySpan<byte> raw, byte[] passRgb, Span<byte> imageRow, int x0, int dx, int pixels)
    {
        ToRgb(raw, passRgb, pixels);
        for (int i = 0, x = x0; i < pixels; i++, x += dx)
        {
            imageRow[3 * x] = passRgb[3 * i];
            imageRow[3 * x + 1] = passRgb[3 * i + 1];
            imageRow[3 * x + 2] = passRgb[3 * i + 2];
        }
    }

    private void ToRgb(ReadOnlySpan<byte> raw, Span<byte> rgb, int pixels)
    {
        if (_indexTable != null)
        {
            PixelRows.ExpandIndexed(raw, _header.BitDepth, _indexTable, rgb, pixels);
            return;
        }
        int channels = _header.Channels;
        bool grey = channels <= 2;
        if (_header.BitDepth == 8) PixelRows.Gather8(raw, channels, 0, grey ? 0 : 1, grey ? 0 : 2, rgb, pixels);
        else PixelRows.Gather16BigEndian(raw, 2 * channels, 0, grey ? 0 : 2, grey ? 0 : 4, rgb, pixels);
    }

    /// <summary>Undoes the row's filter in place; <paramref name="above"/> is the previous row of the pass, already unfiltered.</summary>
    private void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> above, int stride, int rowIndex)
    {
        if (filter > 4) throw ImageErrors.Corrupt(_fileName, $"bad filter type {filter} in row {rowIndex} (PNG has filter types 0-4)");
        if (filter == 0 || row.IsEmpty) return;
        if (above.Length != row.Length) throw new ArgumentException("rows differ in length", nameof(above));
        // Unchecked indexing: these loops are most of the decoding time; every index is below row.Length.
        ref byte x = ref MemoryMarshal.GetReference(row);
        ref byte b = ref MemoryMarshal.GetReference(above);
        int n = row.Length, first = Math.Min(stride, n);
        switch (filter)
        {
            case 1:  // Sub
                for (int i = stride; i < n; i++) Unsafe.Add(ref x, i) += Unsafe.Add(ref x, i - stride);
                break;
            case 2:  // Up
                for (int i = 0; i < n; i++) Unsafe.Add(ref x, i) += Unsafe.Add(ref b, i);
                break;
            case 3:  // Average
                for (int i = 0; i < first; i++) Unsafe.Add(ref x, i) += (byte)(Unsafe.Add(ref b, i) >> 1);
                for (int i = stride; i < n; i++) Unsafe.Add(ref x, i) += (byte)((Unsafe.Add(ref x, i - stride) + Unsafe.Add(ref b, i)) >> 1);
                break;
            default:  // Paeth: with nothing to the left the predictor is the byte above
                for (int i = 0; i < first; i++) Unsafe.Add(ref x, i) += Unsafe.Add(ref b, i);
                for (int i = stride; i < n; i++)
                    Unsafe.Add(ref x, i) += Paeth(Unsafe.Add(ref x, i - stride), Unsafe.Add(ref b, i), Unsafe.Add(ref b, i - stride));
                break;
        }
    }

    /// <summary>
    /// Whichever of left, above and upper-left is nearest to left + above - upper-left, ties preferring that order.
    /// Branch-free: on noisy images the comparisons are unpredictable and mispredicted branches dominated decoding.
    /// </summary>
    private static byte Paeth(int a, int b, int c)
    {
        int pa = Abs(b - c), pb = Abs(a - c), pc = Abs(a + b - 2 * c);
        int cBeatsB = (pc - pb) >> 31;                          // -1 when pc < pb
        int bOrC = (b & ~cBeatsB) | (c & cBeatsB);
        int best = pb + ((pc - pb) & cBeatsB);                  // min(pb, pc)
        int notA = (best - pa) >> 31;                           // -1 when min(pb, pc) < pa
        return (byte)((a & ~notA) | (bOrC & notA));
    }

    private static int Abs(int v) => (v ^ (v >> 31)) - (v >> 31);

    private static byte[] PaletteTable(byte[]? palette)
    {
        var table = PixelRows.GreyRamp();  // no PLTE at all, or a short one: PIL's grey ramp shows through
        if (palette != null) palette.AsSpan(0, palette.Length / 3 * 3).CopyTo(table);
        return table;
    }

    /// <summary>1/2/4-bit grey as PIL unpacks it ("1", "L;2", "L;4"): stretched to 0-255 (×255, ×85, ×17).</summary>
    private static byte[] GreyTable(int bitDepth)
    {
        var table = new byte[256 * 3];
        int max = (1 << bitDepth) - 1;
        for (int v = 0; v <= max; v++) table[3 * v] = table[3 * v + 1] = table[3 * v + 2] = (byte)(v * 255 / max);
        return table;
    }
}
