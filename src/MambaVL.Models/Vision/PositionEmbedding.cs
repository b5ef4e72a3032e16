// Resampling a ViT's learned position grid to another image size, as timm does at load time (resample_abs_pos_embed):
// torch's F.interpolate(mode="bicubic", antialias=True, align_corners=False), separable, width first, then height;
// and torch's plain (non-antialiased) bicubic, which HoVLE's vision embeddings use.
namespace MambaVL.Models.Vision;

public static class PositionEmbedding
{
    /// <summary>
    /// grid (inH, inW, D) row-major → (outH, outW, D). Each output sample is a normalised cubic (a = -0.5) window over
    /// the inputs, widened by the scale when downsampling (the antialiasing), in double precision.
    /// </summary>
    public static float[] ResampleBicubicAntialiased(float[] grid, int inH, int inW, int d, int outH, int outW)
    {
        if (grid.Length != (long)inH * inW * d) throw new ArgumentException($"position grid of {grid.Length} values is not {inH}×{inW}×{d}");
        if (inH == outH && inW == outW) return (float[])grid.Clone();
        var wide = new double[outW * inH * d];  // (inH, outW, D)
        var cols = Weights(inW, outW);
        for (int y = 0; y < inH; y++)
            for (int x = 0; x < outW; x++)
                foreach (var (src, weight) in cols[x])
                    for (int c = 0; c < d; c++) wide[((long)y * outW + x) * d + c] += weight * grid[((long)y * inW + src) * d + c];
        var result = new float[outH * outW * d];
        var rows = Weights(inH, outH);
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++)
                for (int c = 0; c < d; c++)
                {
                    double acc = 0;
                    foreach (var (src, weight) in rows[y]) acc += weight * wide[((long)src * outW + x) * d + c];
                    result[((long)y * outW + x) * d + c] = (float)acc;
                }
        return result;
    }

    /// <summary>
    /// grid (inH, inW, D) → (outH, outW, D) by torch's plain F.interpolate(mode="bicubic", align_corners=False): the
    /// source coordinate (o + 0.5)·in/out − 0.5, four taps clamped to the grid, Keys' cubic with a = −0.75 (HoVLE, InternVL).
    /// </summary>
    public static float[] ResampleBicubic(float[] grid, int inH, int inW, int d, int outH, int outW)
    {
        if (grid.Length != (long)inH * inW * d) throw new ArgumentException($"position grid of {grid.Length} values is not {inH}×{inW}×{d}");
        var cols = PlainWeights(inW, outW);
        var rows = PlainWeights(inH, outH);
        var result = new float[outH * outW * d];
        for (int y = 0; y < outH; y++)
            for (int x = 0; x < outW; x++)
                for (int c = 0; c < d; c++)
                {
                    double acc = 0;
                    foreach (var (sy, wy) in rows[y])
                    {
                        double row = 0;
                        foreach (var (sx, wx) in cols[x]) row += wx * grid[((long)sy * inW + sx) * d + c];
                        acc += wy * row;
                    }
                    result[((long)y * outW + x) * d + c] = (float)acc;
                }
        return result;
    }

    /// <summary>ATen's upsample_bicubic2d taps: floor of the source coordinate −1 .. +2, clamped, cubic weights with a = −0.75.</summary>
    private static (int Src, double Weight)[][] PlainWeights(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        var all = new (int, double)[outSize][];
        for (int o = 0; o < outSize; o++)
        {
            double src = scale * (o + 0.5) - 0.5;
            int floor = (int)Math.Floor(src);
            double t = src - floor;
            double[] w = [Cubic(t + 1, -0.75), Cubic(t, -0.75), Cubic(1 - t, -0.75), Cubic(2 - t, -0.75)];
            all[o] = Enumerable.Range(0, 4).Select(k => (Math.Clamp(floor - 1 + k, 0, inSize - 1), w[k])).ToArray();
        }
        return all;
    }

    /// <summary>For each output index: (input index, weight) pairs, as ATen's _compute_indices_min_size_weights_aa.</summary>
    private static (int Src, double Weight)[][] Weights(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double support = scale >= 1 ? 2 * scale : 2;   // bicubic's interp_size / 2, widened when downsampling
        double invScale = scale >= 1 ? 1 / scale : 1;
        var all = new (int, double)[outSize][];
        for (int i = 0; i < outSize; i++)
        {
            double center = scale * (i + 0.5);
            int lo = Math.Max((int)(center - support + 0.5), 0);
            int hi = Math.Min((int)(center + support + 0.5), inSize);
            var taps = new (int, double)[hi - lo];
            double total = 0;
            for (int j = lo; j < hi; j++) { double w = Cubic((j - center + 0.5) * invScale, -0.5); taps[j - lo] = (j, w); total += w; }
            if (total != 0) for (int j = 0; j < taps.Length; j++) taps[j].Item2 /= total;
            all[i] = taps;
        }
        return all;
    }

    /// <summary>Keys' cubic convolution kernel: a = −0.5 in ATen's antialiased bicubic (like PIL), −0.75 in its plain one.</summary>
    private static double Cubic(double x, double a)
    {
        x = Math.Abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }
}
