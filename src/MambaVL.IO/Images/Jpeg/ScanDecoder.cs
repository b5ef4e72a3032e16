// Decodes one scan: walks its MCUs (interleaved or single-component), handles restart intervals, and sends each block
// to the sequential or progressive Huffman block decoder; coefficients go to the component's buffer, or straight
// through the inverse DCT into its sample plane when the file is a single sequential scan.
namespace MambaVL.IO.Images.Jpeg;

internal enum ScanKind { Sequential, DcFirst, DcRefine, AcFirst, AcRefine }

internal sealed class ScanDecoder
{
    private readonly JpegFrame _frame;
    private readonly JpegScan _scan;
    private readonly bool _direct;
    private readonly string _fileName;
    private readonly ScanKind _kind;
    private readonly HuffmanTable?[] _dcTables;
    private readonly HuffmanTable?[] _acTables;
    private readonly int[] _dcPredictions = new int[4];
    private readonly short[] _scratch = new short[64];
    private int _eobRun;

    /// <param name="direct">Inverse-transform each block as soon as it is decoded (single-scan sequential files).</param>
    public ScanDecoder(JpegHeader header, JpegScan scan, bool direct, string fileName)
    {
        _frame = header.Frame!;
        _scan = scan;
        _direct = direct;
        _fileName = fileName;
        _kind = !_frame.Progressive ? ScanKind.Sequential
            : scan.Ss == 0 ? (scan.Ah == 0 ? ScanKind.DcFirst : ScanKind.DcRefine)
            : scan.Ah == 0 ? ScanKind.AcFirst : ScanKind.AcRefine;
        if (_frame.Progressive) ValidateProgression();
        _dcTables = scan.Components.Select(c => _kind is ScanKind.Sequential or ScanKind.DcFirst ? header.DcTable(c.DcSlot) : null).ToArray();
        _acTables = scan.Components.Select(c => _kind is ScanKind.Sequential or ScanKind.AcFirst or ScanKind.AcRefine ? header.AcTable(c.AcSlot) : null).ToArray();
    }

    /// <summary>Decodes the scan's entropy-coded data starting at <paramref name="start"/>; returns where it ended.</summary>
    public int Decode(ReadOnlySpan<byte> data, int start)
    {
        var reader = new EntropyReader(data, start, _fileName);
        var comps = _scan.Components;
        bool single = comps.Length == 1;
        int perLine = single ? comps[0].WidthInBlocks : _frame.McusPerLine;
        int rows = single ? comps[0].HeightInBlocks : _frame.McuRows;
        int interval = _scan.RestartInterval, nextRestart = 0;
        for (int my = 0, mcu = 0; my < rows; my++)
            for (int mx = 0; mx < perLine; mx++, mcu++)
            {
                if (interval > 0 && mcu > 0 && mcu % interval == 0)
                {
                    reader.Restart(nextRestart);
                    nextRestart = (nextRestart + 1) & 7;
                    Array.Clear(_dcPredictions);
                    _eobRun = 0;
                }
                if (single) DecodeBlock(ref reader, 0, my, mx);
                else
                    for (int ci = 0; ci < comps.Length; ci++)
                        for (int v = 0; v < comps[ci].V; v++)
                            for (int h = 0; h < comps[ci].H; h++)
                                DecodeBlock(ref reader, ci, my * comps[ci].V + v, mx * comps[ci].H + h);
                if (reader.Overran)
                    throw ImageErrors.Corrupt(_fileName, $"truncated JPEG: the entropy-coded data of scan {_scan.Number} ends early (at MCU {mcu} of {rows * perLine})");
            }
        return reader.Position;
    }

    private void DecodeBlock(ref EntropyReader reader, int ci, int row, int col)
    {
        var c = _scan.Components[ci];
        bool real = row < c.HeightInBlocks && col < c.WidthInBlocks;  // MCUs at the right/bottom edge carry padding blocks
        Span<short> block = real && !_direct ? c.Coefficients!.AsSpan((row * c.WidthInBlocks + col) * 64, 64) : _scratch;
        if (_direct) block.Clear();
        switch (_kind)
        {
            case ScanKind.Sequential: HuffmanBlocks.Sequential(ref reader, _dcTables[ci]!, _acTables[ci]!, ref _dcPredictions[ci], block); break;
            case ScanKind.DcFirst: HuffmanBlocks.DcFirst(ref reader, _dcTables[ci]!, ref _dcPredictions[ci], _scan.Al, block, _fileName); break;
            case ScanKind.DcRefine: HuffmanBlocks.DcRefine(ref reader, _scan.Al, block); break;
            case ScanKind.AcFirst: HuffmanBlocks.AcFirst(ref reader, _acTables[ci]!, _scan, ref _eobRun, block); break;
            default: HuffmanBlocks.AcRefine(ref reader, _acTables[ci]!, _scan, ref _eobRun, block); break;
        }
        if (_direct && real) InverseDct.Transform(block, c.Quant!, c.Plane, row * 8 * c.PlaneStride + col * 8, c.PlaneStride);
    }

    /// <summary>libjpeg's start_pass_phuff_decoder checks, and the coefficient progress block smoothing relies on.</summary>
    private void ValidateProgression()
    {
        var s = _scan;
        bool bad = s.Ss == 0 ? s.Se != 0 : s.Ss > s.Se || s.Se > 63 || s.Components.Length != 1;
        bad |= s.Ah != 0 && s.Al != s.Ah - 1;
        bad |= s.Al > 13;
        if (bad) throw ImageErrors.Corrupt(_fileName, $"corrupt JPEG: invalid progressive scan {s.Number} (Ss={s.Ss}, Se={s.Se}, Ah={s.Ah}, Al={s.Al})");
        foreach (var c in s.Components)
            for (int k = s.Ss; k <= s.Se; k++) c.CoefBits[k] = s.Al;
    }
}
