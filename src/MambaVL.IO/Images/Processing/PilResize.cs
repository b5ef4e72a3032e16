// Pillow 9.x Image.resize(size, resample) of an RGB image, bit for bit: the separable fixed-point convolution of
// src/libImaging/Resample.c (ImagingResampleInner) and, for NEAREST, the affine scale of Geometry.c (ImagingScaleAffine).
using System.Numerics;

namespace MambaVL.IO.Images.Processing;

public static class PilResize
{
    // Below this many multiply-adds a pass runs on the calling thread: thread hand-off costs more than it saves.
    private const long ParallelWork = 4_000_000;

    /// <summary>
    /// <paramref name="source"/> resized to <paramref name="width"/> × <paramref name="height"/> as PIL's
    /// <c>image.resize((width, height), filter)</c> with no box and no reducing_gap. A same-size resize is a copy, as in PIL.
    /// </summary>
    public static RgbImage Resize(RgbImage source, int width, int height, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"resize target {width}×{height} is empty: both sides must be at least 1 pixel", width <= 0 ? nameof(width) : nameof(height));
        if (!Enum.IsDefined(filter)) throw new ArgumentException($"unknown resample filter {(int)filter}", nameof(filter));
        if (width == source.Width && height == source.Height) return new RgbImage(width, height, (byte[])source.Pixels.Clone());
        return filter == ResampleFilter.Nearest ? Nearest(source, width, height) : Convolve(source, width, height, filter);
    }

    /// <summary>
    /// Resizes so the shorter side becomes <paramref name="size"/> (torchvision <c>Resize(int)</c>, HF's shortest_edge);
    /// returns <paramref name="source"/> itself when that is its size already, as torchvision does.
    /// </summary>
    public static RgbImage ResizeShortestEdge(RgbImage source, int size, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (w, h) = ResizeRules.ShortestEdge(source.Width, source.Height, size);
        return w == source.Width && h == source.Height ? source : Resize(source, w, h, filter);
    }

    // ImagingResampleInner: a horizontal pass over only the input rows the vertical pass reads, then the vertical pass;
    // a pass whose axis keeps its size is skipped (PIL's need_horizontal / need_vertical).
    private static RgbImage Convolve(RgbImage source, int width, int height, ResampleFilter filter)
    {
        var vertical = ResampleCoefficients.Compute(source.Height, height, filter);
        if (width == source.Width) return VerticalPass(source.Pixels, width, vertical, 0);

        int firstRow = vertical.Start[0];
        int endRow = vertical.Start[height - 1] + vertical.Count[height - 1];
        var horizontal = ResampleCoefficients.Compute(source.Width, width, filter);
        var rows = HorizontalPass(source.Pixels, source.Width, firstRow, endRow - firstRow, width, horizontal);
        if (height == source.Height) return new RgbImage(width, height, rows);
        return VerticalPass(rows, width, vertical, firstRow);
    }

    /// <summary>Rows [firstRow, firstRow + rowCount) of a srcWidth-wide image resampled to width pixels: (rowCount, width, 3) bytes.</summary>
    private static unsafe byte[] HorizontalPass(byte[] src, int srcWidth, int firstRow, int rowCount, int width, ResampleCoefficients c)
    {
        var dst = new byte[(long)rowCount * width * 3];
        ForRowBands(rowCount, (long)width * c.KernelSize * 3, (y0, y1) =>
        {
            fixed (byte* s = src, d = dst)
            fixed (int* weights = c.Weights, start = c.Start, count = c.Count)
            {
                for (int y = y0; y < y1; y++)
                {
                    byte* inRow = s + (long)(firstRow + y) * srcWidth * 3;
                    byte* outPixel = d + (long)y * width * 3;
                    for (int xx = 0; xx < width; xx++, outPixel += 3)
                    {
                        int* k = weights + (long)xx * c.KernelSize;
                        byte* p = inRow + start[xx] * 3;
                        int r = ResampleCoefficients.RoundingBias, g = r, b = r;
                        for (int x = 0, n = count[xx]; x < n; x++, p += 3)
                        {
                            int w = k[x];
                            r += p[0] * w; g += p[1] * w; b += p[2] * w;
                        }
                        outPixel[0] = ResampleCoefficients.Clip8(r);
                        outPixel[1] = ResampleCoefficients.Clip8(g);
                        outPixel[2] = ResampleCoefficients.Clip8(b);
                    }
                }
            }
        });
        return dst;
    }

    /// <summary>
    /// The vertical pass over a width-wide image whose row 0 is input row <paramref name="rowOffset"/> (the
    /// row-bounds trick shifts the vertical windows by it). Channels are independent, so a row is width*3 lanes.
    /// </summary>
    private static unsafe RgbImage VerticalPass(byte[] src, int width, ResampleCoefficients c, int rowOffset)
    {
        int height = c.Start.Length, rowBytes = width * 3;
        var dst = new byte[(long)height * rowBytes];
        ForRowBands(height, (long)rowBytes * c.KernelSize, (y0, y1) =>
        {
            var sums = new int[rowBytes];
            fixed (byte* s = src, d = dst)
            fixed (int* acc = sums)
            {
                for (int yy = y0; yy < y1; yy++)
                {
                    new Span<int>(acc, rowBytes).Fill(ResampleCoefficients.RoundingBias);
                    int first = c.Start[yy] - rowOffset, baseIndex = yy * c.KernelSize;
                    for (int y = 0; y < c.Count[yy]; y++)
                        MultiplyAdd(acc, s + (long)(first + y) * rowBytes, c.Weights[baseIndex + y], rowBytes);
                    byte* outRow = d + (long)yy * rowBytes;
                    for (int i = 0; i < rowBytes; i++) outRow[i] = ResampleCoefficients.Clip8(acc[i]);
                }
            }
        });
        return new RgbImage(width, height, dst);
    }

    /// <summary>acc[i] += row[i] * weight over n lanes (int arithmetic wraps exactly like Resample.c's int sums).</summary>
    private static unsafe void MultiplyAdd(int* acc, byte* row, int weight, int n)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var w = new Vector<int>(weight);
            int lanes = Vector<byte>.Count, quarter = Vector<int>.Count;
            for (; i <= n - lanes; i += lanes)
            {
                // bytes -> 2 × ushort -> 4 × uint lanes, reinterpreted as int (all values are 0..255).
                Vector.Widen(Vector.Load(row + i), out Vector<ushort> low, out Vector<ushort> high);
                Vector.Widen(low, out Vector<uint> a, out Vector<uint> b);
                Vector.Widen(high, out Vector<uint> c, out Vector<uint> d);
                int* at = acc + i;
                Vector.Store(Vector.Load(at) + Vector.AsVectorInt32(a) * w, at);
                Vector.Store(Vector.Load(at + quarter) + Vector.AsVectorInt32(b) * w, at + quarter);
                Vector.Store(Vector.Load(at + 2 * quarter) + Vector.AsVectorInt32(c) * w, at + 2 * quarter);
                Vector.Store(Vector.Load(at + 3 * quarter) + Vector.AsVectorInt32(d) * w, at + 3 * quarter);
            }
        }
        for (; i < n; i++) acc[i] += row[i] * weight;
    }

    /// <summary>
    /// NEAREST: PIL's _resize routes it through ImagingTransform with the affine scale a = (w_in/w, 0, 0, 0, h_in/h, 0);
    /// ImagingScaleAffine samples at COORD(a0 * 0.5 + x * a0), the coordinate accumulated by repeated addition as in C.
    /// Pixels whose coordinate falls outside the source keep the fill value 0.
    /// </summary>
    private static RgbImage Nearest(RgbImage source, int width, int height)
    {
        var dst = new RgbImage(width, height);
        var columns = SampleCoordinates((double)(float)source.Width / width, width, source.Width);
        var rows = SampleCoordinates((double)(float)source.Height / height, height, source.Height);
        for (int y = 0; y < height; y++)
        {
            if (rows[y] < 0) continue;
            var inRow = source.Row(rows[y]);
            var outRow = dst.Row(y);
            for (int x = 0; x < width; x++)
            {
                int sx = columns[x] * 3;
                if (sx < 0) continue;
                outRow[x * 3] = inRow[sx]; outRow[x * 3 + 1] = inRow[sx + 1]; outRow[x * 3 + 2] = inRow[sx + 2];
            }
        }
        return dst;
    }

    /// <summary>COORD(v) = v &lt; 0 ? -1 : (int)v at v = step/2, step/2 + step, ... summed in double; -1 when outside [0, inSize).</summary>
    private static int[] SampleCoordinates(double step, int outSize, int inSize)
    {
        var at = new int[outSize];
        double v = 0.0 + step * 0.5;
        for (int i = 0; i < outSize; i++, v += step)
        {
            int c = v < 0.0 ? -1 : (int)v;
            at[i] = c < inSize ? c : -1;
        }
        return at;
    }

    /// <summary>Runs band(first, end) over [0, rows), split across cores when the pass is big enough to pay for it.</summary>
    private static void ForRowBands(int rows, long workPerRow, Action<int, int> band)
    {
        int bands = rows * workPerRow < ParallelWork ? 1 : Math.Min(Environment.ProcessorCount, rows);
        if (bands <= 1) { band(0, rows); return; }
        Parallel.For(0, bands, i => band((int)((long)rows * i / bands), (int)((long)rows * (i + 1) / bands)));
    }
}
