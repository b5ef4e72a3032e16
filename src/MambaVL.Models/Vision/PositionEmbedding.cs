// Resampling a ViT's learned position grid to another image size, as timm does at load time (resample_abs_pos_embed):
// torch's F.interpolate(mode="bicubic", antialias=True, align_corners=False), separable, width first, then height.
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
            for (int j = lo; j < hi; j++) { double w = Cubic((j - center + 0.5) * invScale); taps[j - lo] = (j, w); total += w; }
            if (total != 0) for (int j = 0; j < taps.Length; j++) taps[j].Item2 /= total;
            all[i] = taps;
        }
        return all;
    }

    /// <summary>Keys' cubic convolution kernel with a = -0.5 (ATen's antialiased bicubic, like PIL).</summary>
    private static double Cubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }
}
