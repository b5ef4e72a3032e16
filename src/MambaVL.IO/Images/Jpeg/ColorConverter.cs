// Turns full-resolution component rows into RGB exactly as PIL's convert("RGB") of a libjpeg-turbo decode: libjpeg's
// integer YCbCr→RGB and YCCK→CMYK tables (jdcolor.c), then for 4-component files PIL's inverted-CMYK unpacking
// ("CMYK;I") and its cmyk2rgb (Convert.c); grayscale is repeated into R, G and B.
namespace MambaVL.IO.Images.Jpeg;

internal static class ColorConverter
{
    private const int ScaleBits = 16;
    private const long OneHalf = 1L << (ScaleBits - 1);

    // jdcolor.c's build_ycc_rgb_table: R and B offsets rounded to integers, G terms kept scaled by 2^16.
    private static readonly int[] CrToR = new int[256], CbToB = new int[256];
    private static readonly long[] CrToG = new long[256], CbToG = new long[256];

    // libjpeg's sample_range_limit: x → clamp(x, 0, 255) for x in -256..767, read at [x + SaturateOffset].
    private const int SaturateOffset = 256;
    private static readonly byte[] Saturate = Enumerable.Range(-SaturateOffset, 1024).Select(v => Clamp(v)).ToArray();

    static ColorConverter()
    {
        for (int i = 0; i < 256; i++)
        {
            long x = i - 128;
            CrToR[i] = (int)((Fix(1.40200) * x + OneHalf) >> ScaleBits);
            CbToB[i] = (int)((Fix(1.77200) * x + OneHalf) >> ScaleBits);
            CrToG[i] = -Fix(0.71414) * x;
            CbToG[i] = -Fix(0.34414) * x + OneHalf;
        }
    }

    /// <summary>The RGB pixels of a decoded frame whose component planes are filled.</summary>
    public static RgbImage Render(JpegFrame frame, JpegColorSpace space, string fileName)
    {
        var upsamplers = frame.Components.Select(c => new Upsampler(c, frame, fileName)).ToArray();
        int bytes = checked(frame.Width * frame.Height * 3);
        var image = new RgbImage(frame.Width, frame.Height, GC.AllocateUninitializedArray<byte>(bytes));  // every byte is written below
        int width = frame.Width;
        for (int y = 0; y < frame.Height; y++)
        {
            var rgb = image.Row(y);
            var c0 = upsamplers[0].Row(y)[..width];
            switch (space)
            {
                case JpegColorSpace.Gray: GrayRow(c0, rgb); break;
                case JpegColorSpace.Rgb: RgbRow(c0, upsamplers[1].Row(y)[..width], upsamplers[2].Row(y)[..width], rgb); break;
                case JpegColorSpace.YCbCr: YccRow(c0, upsamplers[1].Row(y)[..width], upsamplers[2].Row(y)[..width], rgb); break;
                default:
                    CmykRow(c0, upsamplers[1].Row(y)[..width], upsamplers[2].Row(y)[..width], upsamplers[3].Row(y)[..width],
                        space == JpegColorSpace.Ycck, rgb);
                    break;
            }
        }
        return image;
    }

    private static long Fix(double x) => (long)(x * (1L << ScaleBits) + 0.5);

    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    private static void GrayRow(ReadOnlySpan<byte> g, Span<byte> rgb)
    {
        for (int x = 0; x < g.Length; x++) rgb[3 * x] = rgb[3 * x + 1] = rgb[3 * x + 2] = g[x];
    }

    private static void RgbRow(ReadOnlySpan<byte> r, ReadOnlySpan<byte> g, ReadOnlySpan<byte> b, Span<byte> rgb)
    {
        for (int x = 0; x < r.Length; x++) (rgb[3 * x], rgb[3 * x + 1], rgb[3 * x + 2]) = (r[x], g[x], b[x]);
    }

    // The hot loop of every colour JPEG: pointers and a saturation table instead of bounds checks and branches.
    private static unsafe void YccRow(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb)
    {
        int n = y.Length;
        if (cb.Length < n || cr.Length < n || rgb.Length < 3 * n) throw new ArgumentException("row lengths differ");
        fixed (byte* py = y, pcb = cb, pcr = cr, po = rgb, sat = Saturate)
        fixed (int* crToR = CrToR, cbToB = CbToB)
        fixed (long* crToG = CrToG, cbToG = CbToG)
        {
            byte* limit = sat + SaturateOffset;
            for (int x = 0; x < n; x++)
            {
                int luma = py[x], blue = pcb[x], red = pcr[x];
                po[3 * x] = limit[luma + crToR[red]];
                po[3 * x + 1] = limit[luma + (int)((cbToG[blue] + crToG[red]) >> ScaleBits)];
                po[3 * x + 2] = limit[luma + cbToB[blue]];
            }
        }
    }

    /// <summary>
    /// Adobe CMYK is stored inverted: PIL reads it as "CMYK;I" and its cmyk2rgb then gives
    /// R = K − K·(255 − C)/255 (PIL's rounding); YCCK is first turned into that CMYK by libjpeg.
    /// </summary>
    private static void CmykRow(ReadOnlySpan<byte> c0, ReadOnlySpan<byte> c1, ReadOnlySpan<byte> c2, ReadOnlySpan<byte> k,
        bool ycck, Span<byte> rgb)
    {
        for (int x = 0; x < c0.Length; x++)
        {
            int cyan = c0[x], magenta = c1[x], yellow = c2[x];
            if (ycck)
            {
                int luma = c0[x], blue = c1[x], red = c2[x];
                cyan = Clamp(255 - (luma + CrToR[red]));
                magenta = Clamp(255 - (luma + (int)((CbToG[blue] + CrToG[red]) >> ScaleBits)));
                yellow = Clamp(255 - (luma + CbToB[blue]));
            }
            int black = k[x];  // PIL's nk = 255 − (255 − K)
            rgb[3 * x] = Clamp(black - MulDiv255(255 - cyan, black));
            rgb[3 * x + 1] = Clamp(black - MulDiv255(255 - magenta, black));
            rgb[3 * x + 2] = Clamp(black - MulDiv255(255 - yellow, black));
        }
    }

    /// <summary>PIL's MULDIV255: a·b/255 rounded with shifts.</summary>
    private static int MulDiv255(int a, int b)
    {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }
}
