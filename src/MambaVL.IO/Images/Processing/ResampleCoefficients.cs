// One axis of a PIL resize: for every output pixel, the first input pixel it reads, how many it reads, and their
// weights in 8-bit-path fixed point: Resample.c's precompute_coeffs followed by normalize_coeffs_8bpc.
namespace MambaVL.IO.Images.Processing;

internal sealed class ResampleCoefficients
{
    /// <summary>Fraction bits of the weights: 32 - 8 - 2, room for 8-bit pixels, negative lobes and overshoot in an int.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>The rounding bias every accumulator starts from: 1 &lt;&lt; (PRECISION_BITS - 1).</summary>
    public const int RoundingBias = 1 << (PrecisionBits - 1);

    /// <summary>Weights per output pixel in <see cref="Weights"/> (the widest window; shorter windows are zero-padded).</summary>
    public int KernelSize { get; }

    /// <summary>First input index read by each output pixel.</summary>
    public int[] Start { get; }

    /// <summary>Number of input pixels read by each output pixel.</summary>
    public int[] Count { get; }

    /// <summary>Output pixel i reads Weights[i*KernelSize .. i*KernelSize+Count[i]).</summary>
    public int[] Weights { get; }

    private ResampleCoefficients(int kernelSize, int[] start, int[] count, int[] weights) =>
        (KernelSize, Start, Count, Weights) = (kernelSize, start, count, weights);

    /// <summary>
    /// Coefficients for resizing an axis of <paramref name="inSize"/> pixels to <paramref name="outSize"/> over the
    /// whole input (PIL's default box). Double arithmetic in precompute_coeffs' order, so windows and weights are PIL's.
    /// </summary>
    public static ResampleCoefficients Compute(int inSize, int outSize, ResampleFilter filter)
    {
        // The box edges are C floats in PIL (in0 = 0, in1 = inSize); the scale is their difference over outSize in double.
        double scale = (double)(float)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);  // downscaling widens the kernel by the scale (antialiasing)
        double support = FilterKernels.Support(filter) * filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        if ((long)outSize * kernelSize > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(outSize), $"resize of {inSize} to {outSize} pixels needs too many coefficients");

        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * kernelSize];
        var window = new double[kernelSize];
        double inverseScale = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = FilterKernels.Evaluate(filter, (x + xmin - center + 0.5) * inverseScale);
                window[x] = w;
                sum += w;
            }
            for (int x = 0; x < xmax; x++)
                weights[xx * kernelSize + x] = ToFixedPoint(sum != 0.0 ? window[x] / sum : window[x]);
            (start[xx], count[xx]) = (xmin, Math.Max(xmax, 0));
        }
        return new ResampleCoefficients(kernelSize, start, count, weights);
    }

    /// <summary>normalize_coeffs_8bpc: scale by 2^PrecisionBits and round half away from zero (C's truncating cast).</summary>
    private static int ToFixedPoint(double weight) =>
        weight < 0 ? (int)(-0.5 + weight * (1 << PrecisionBits)) : (int)(0.5 + weight * (1 << PrecisionBits));

    /// <summary>Resample.c's clip8: drop the fraction bits (the sum starts at half a unit, so this rounds) and clamp to a byte.</summary>
    public static byte Clip8(int sum) => (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);
}
