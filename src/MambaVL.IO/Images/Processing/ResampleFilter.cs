// PIL's resampling filters (the Image.Resampling numbering) and their kernels, as Pillow's src/libImaging/Resample.c
// defines them; PilResize turns them into fixed-point coefficients.
namespace MambaVL.IO.Images.Processing;

/// <summary>PIL's resampling filters, numbered as Image.Resampling (NEAREST 0, LANCZOS 1, BILINEAR 2, BICUBIC 3, BOX 4, HAMMING 5).</summary>
public enum ResampleFilter { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 }

/// <summary>The convolution kernels of Resample.c (box_filter, bilinear_filter, ... with their support radii).</summary>
internal static class FilterKernels
{
    /// <summary>The kernel's support radius at scale 1 (Resample.c's `struct filter` table).</summary>
    public static double Support(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => 0.5,
        ResampleFilter.Bilinear or ResampleFilter.Hamming => 1.0,
        ResampleFilter.Bicubic => 2.0,
        ResampleFilter.Lanczos => 3.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "NEAREST has no convolution kernel"),
    };

    public static double Evaluate(ResampleFilter filter, double x) => filter switch
    {
        ResampleFilter.Box => x > -0.5 && x <= 0.5 ? 1.0 : 0.0,
        ResampleFilter.Bilinear => Bilinear(x),
        ResampleFilter.Hamming => Hamming(x),
        ResampleFilter.Bicubic => Bicubic(x),
        ResampleFilter.Lanczos => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "NEAREST has no convolution kernel"),
    };

    private static double Bilinear(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    // The window constants are C floats in Resample.c (0.54f, 0.46f), widened to double: keep them so.
    private static double Hamming(double x)
    {
        x = Math.Abs(x);
        if (x == 0.0) return 1.0;
        if (x >= 1.0) return 0.0;
        x *= Math.PI;
        return Math.Sin(x) / x * ((double)0.54f + (double)0.46f * Math.Cos(x));
    }

    // Keys' cubic convolution with a = -0.5, written in Resample.c's evaluation order.
    private static double Bicubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
