// Brings one component's samples to full image resolution, one output row at a time, choosing the method exactly as
// libjpeg-turbo 2.1's jinit_upsampler does with fancy upsampling on: triangle filters for 2:1 horizontal, 1:2
// vertical and 2:2 ratios, box replication otherwise. Rows above/below the component's data repeat its edge rows,
// which is what jdmainct.c's context pointers provide at the top and bottom of the image.
namespace MambaVL.IO.Images.Jpeg;

internal enum UpsampleMethod { FullSize, H2V1Fancy, H1V2Fancy, H2V2Fancy, Replicate }

internal sealed class Upsampler
{
    private readonly JpegComponent _c;
    private readonly UpsampleMethod _method;
    private readonly int _hExpand, _vExpand;
    private readonly byte[] _row;
    private readonly int[] _columnSums;

    public Upsampler(JpegComponent c, JpegFrame frame, string fileName)
    {
        _c = c;
        (_method, _hExpand, _vExpand) = Select(c, frame.MaxH, frame.MaxV, fileName);
        _row = _method == UpsampleMethod.FullSize ? [] : new byte[Math.Max(frame.Width, 2 * c.DownsampledWidth)];
        _columnSums = _method == UpsampleMethod.H2V2Fancy ? new int[c.DownsampledWidth] : [];
    }

    /// <summary>jinit_upsampler's choice for a component with factors (H, V) in a frame with maxima (maxH, maxV).</summary>
    public static (UpsampleMethod Method, int HExpand, int VExpand) Select(JpegComponent c, int maxH, int maxV, string fileName)
    {
        bool wide = c.DownsampledWidth > 2;  // the fancy 2:1 horizontal filters need 3 samples
        if (c.H == maxH && c.V == maxV) return (UpsampleMethod.FullSize, 1, 1);
        if (c.H * 2 == maxH && c.V == maxV) return wide ? (UpsampleMethod.H2V1Fancy, 2, 1) : (UpsampleMethod.Replicate, 2, 1);
        if (c.H == maxH && c.V * 2 == maxV) return (UpsampleMethod.H1V2Fancy, 1, 2);
        if (c.H * 2 == maxH && c.V * 2 == maxV) return wide ? (UpsampleMethod.H2V2Fancy, 2, 2) : (UpsampleMethod.Replicate, 2, 2);
        if (maxH % c.H == 0 && maxV % c.V == 0) return (UpsampleMethod.Replicate, maxH / c.H, maxV / c.V);
        throw ImageErrors.Corrupt(fileName,
            $"JPEG component {c.Index} has sampling factors {c.H}×{c.V} that do not divide the maxima {maxH}×{maxV} (fractional upsampling is not supported)");
    }

    /// <summary>Output row <paramref name="y"/> of this component at full resolution (at least the image width).</summary>
    public ReadOnlySpan<byte> Row(int y)
    {
        switch (_method)
        {
            case UpsampleMethod.FullSize: return PlaneRow(y);
            case UpsampleMethod.H2V1Fancy: HorizontalFancy(PlaneRow(y), _row); break;
            case UpsampleMethod.H1V2Fancy: VerticalFancy(y); break;
            case UpsampleMethod.H2V2Fancy: BothFancy(y); break;
            default: Replicate(PlaneRow(y / _vExpand), _row, _hExpand); break;
        }
        return _row;
    }

    private ReadOnlySpan<byte> PlaneRow(int row) =>
        _c.Plane.AsSpan(Math.Clamp(row, 0, _c.DownsampledHeight - 1) * _c.PlaneStride, _c.PlaneStride);

    /// <summary>Each output pixel is ¾ of the nearer and ¼ of the farther input sample; the biases alternate 1, 2.</summary>
    private unsafe void HorizontalFancy(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int n = _c.DownsampledWidth;
        if (n < 3 || input.Length < n || output.Length < 2 * n) throw new InvalidOperationException("fancy upsampling needs 3 samples");
        fixed (byte* i = input, o = output)
        {
            o[0] = i[0];
            o[1] = (byte)((i[0] * 3 + i[1] + 2) >> 2);
            for (int x = 1; x < n - 1; x++)
            {
                int near = i[x] * 3;
                o[2 * x] = (byte)((near + i[x - 1] + 1) >> 2);
                o[2 * x + 1] = (byte)((near + i[x + 1] + 2) >> 2);
            }
            o[2 * n - 2] = (byte)((i[n - 1] * 3 + i[n - 2] + 1) >> 2);
            o[2 * n - 1] = i[n - 1];
        }
    }

    /// <summary>Output rows 2k and 2k+1 come from input row k, weighted 3:1 with the row above (bias 1) or below (bias 2).</summary>
    private void VerticalFancy(int y)
    {
        int inRow = y >> 1, n = _c.DownsampledWidth;
        bool below = (y & 1) != 0;
        var near = PlaneRow(inRow)[..n];
        var far = PlaneRow(below ? inRow + 1 : inRow - 1)[..n];
        var output = _row.AsSpan(0, n);
        int bias = below ? 2 : 1;
        for (int i = 0; i < output.Length; i++)
            output[i] = (byte)((near[i] * 3 + far[i] + bias) >> 2);
    }

    /// <summary>The vertical triangle filter into column sums, then the horizontal one: 9/16, 3/16, 3/16, 1/16 overall.</summary>
    private unsafe void BothFancy(int y)
    {
        int inRow = y >> 1, n = _c.DownsampledWidth;
        var nearRow = PlaneRow(inRow)[..n];
        var farRow = PlaneRow((y & 1) != 0 ? inRow + 1 : inRow - 1)[..n];
        if (n < 3 || _columnSums.Length < n || _row.Length < 2 * n) throw new InvalidOperationException("fancy upsampling needs 3 samples");
        fixed (byte* near = nearRow, far = farRow, o = _row)
        fixed (int* sums = _columnSums)
        {
            for (int i = 0; i < n; i++) sums[i] = near[i] * 3 + far[i];
            o[0] = (byte)((sums[0] * 4 + 8) >> 4);
            o[1] = (byte)((sums[0] * 3 + sums[1] + 7) >> 4);
            for (int i = 1; i < n - 1; i++)
            {
                int here = sums[i] * 3;
                o[2 * i] = (byte)((here + sums[i - 1] + 8) >> 4);
                o[2 * i + 1] = (byte)((here + sums[i + 1] + 7) >> 4);
            }
            o[2 * n - 2] = (byte)((sums[n - 1] * 3 + sums[n - 2] + 8) >> 4);
            o[2 * n - 1] = (byte)((sums[n - 1] * 4 + 7) >> 4);
        }
    }

    /// <summary>libjpeg's box filter (int_upsample, h2v1_upsample, h2v2_upsample): each sample repeated.</summary>
    private static void Replicate(ReadOnlySpan<byte> input, Span<byte> output, int hExpand)
    {
        if (hExpand == 1) { input[..Math.Min(input.Length, output.Length)].CopyTo(output); return; }
        for (int x = 0; x < output.Length; x++) output[x] = input[x / hExpand];
    }
}
