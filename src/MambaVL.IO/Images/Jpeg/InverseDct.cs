// Dequantisation and the accurate integer 8×8 inverse DCT, bit-exact with libjpeg-turbo's JDCT_ISLOW (jidctint.c:
// the Loeffler-Ligtenberg-Moschytz algorithm in 13-bit fixed point with 2 extra bits between the passes).
using System.Runtime.CompilerServices;

namespace MambaVL.IO.Images.Jpeg;

internal static class InverseDct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;

    // Constants scaled by 2^13, as libjpeg precomputes them.
    private const long Fix0_298631336 = 2446, Fix0_390180644 = 3196, Fix0_541196100 = 4433, Fix0_765366865 = 6270;
    private const long Fix0_899976223 = 7373, Fix1_175875602 = 9633, Fix1_501321110 = 12299, Fix1_847759065 = 15137;
    private const long Fix1_961570560 = 16069, Fix2_053119869 = 16819, Fix2_562915447 = 20995, Fix3_072711026 = 25172;

    /// <summary>
    /// libjpeg's post-IDCT range limit, indexed by (value &amp; 1023) for a value centred on 0: -128..127 map to
    /// 0..255, larger values saturate and values beyond ±512 wrap around exactly as the C table does.
    /// </summary>
    private static readonly byte[] RangeLimit = BuildRangeLimit();

    /// <summary>
    /// Dequantises <paramref name="coefficients"/> (natural order) with <paramref name="quant"/> and writes the 8×8
    /// samples to <paramref name="output"/> at <paramref name="offset"/>, rows <paramref name="stride"/> apart.
    /// </summary>
    public static void Transform(ReadOnlySpan<short> coefficients, ReadOnlySpan<ushort> quant, Span<byte> output, int offset, int stride)
    {
        Span<int> workspace = stackalloc int[64];
        var coef = coefficients[..64];
        var q = quant[..64];
        for (int col = 0; col < 8; col++) Columns(coef, q, workspace, col);
        var range = RangeLimit.AsSpan();
        for (int row = 0; row < 8; row++)
            Row(workspace.Slice(row * 8, 8), output.Slice(offset + row * stride, 8), range);
    }

    // libjpeg's quantisation multipliers are 16-bit (ISLOW_MULT_TYPE is short in SIMD builds such as Debian's).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Dequantize(ReadOnlySpan<short> coef, ReadOnlySpan<ushort> q, int i) => coef[i] * (short)q[i];

    /// <summary>Pass 1: one column of dequantised coefficients into the workspace, scaled up by 2^Pass1Bits.</summary>
    private static void Columns(ReadOnlySpan<short> coef, ReadOnlySpan<ushort> q, Span<int> ws, int c)
    {
        if (coef[8 + c] == 0 && coef[16 + c] == 0 && coef[24 + c] == 0 && coef[32 + c] == 0 &&
            coef[40 + c] == 0 && coef[48 + c] == 0 && coef[56 + c] == 0)
        {
            int dc = (int)(Dequantize(coef, q, c) << Pass1Bits);  // AC terms all zero: the column is flat
            for (int r = 0; r < 8; r++) ws[r * 8 + c] = dc;
            return;
        }
        var (t10, t11, t12, t13) = Even(Dequantize(coef, q, c), Dequantize(coef, q, 16 + c),
                                        Dequantize(coef, q, 32 + c), Dequantize(coef, q, 48 + c));
        var (t0, t1, t2, t3) = Odd(Dequantize(coef, q, 56 + c), Dequantize(coef, q, 40 + c),
                                   Dequantize(coef, q, 24 + c), Dequantize(coef, q, 8 + c));
        const int shift = ConstBits - Pass1Bits;
        ws[c] = (int)Descale(t10 + t3, shift);
        ws[56 + c] = (int)Descale(t10 - t3, shift);
        ws[8 + c] = (int)Descale(t11 + t2, shift);
        ws[48 + c] = (int)Descale(t11 - t2, shift);
        ws[16 + c] = (int)Descale(t12 + t1, shift);
        ws[40 + c] = (int)Descale(t12 - t1, shift);
        ws[24 + c] = (int)Descale(t13 + t0, shift);
        ws[32 + c] = (int)Descale(t13 - t0, shift);
    }

    /// <summary>Pass 2: one workspace row into 8 range-limited samples.</summary>
    private static void Row(ReadOnlySpan<int> w, Span<byte> o, ReadOnlySpan<byte> range)
    {
        const int shift = ConstBits + Pass1Bits + 3;
        if (w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0)
        {
            o.Fill(range[(int)Descale(w[0], Pass1Bits + 3) & 1023]);
            return;
        }
        var (t10, t11, t12, t13) = Even(w[0], w[2], w[4], w[6]);
        var (t0, t1, t2, t3) = Odd(w[7], w[5], w[3], w[1]);
        o[0] = range[(int)Descale(t10 + t3, shift) & 1023];
        o[7] = range[(int)Descale(t10 - t3, shift) & 1023];
        o[1] = range[(int)Descale(t11 + t2, shift) & 1023];
        o[6] = range[(int)Descale(t11 - t2, shift) & 1023];
        o[2] = range[(int)Descale(t12 + t1, shift) & 1023];
        o[5] = range[(int)Descale(t12 - t1, shift) & 1023];
        o[3] = range[(int)Descale(t13 + t0, shift) & 1023];
        o[4] = range[(int)Descale(t13 - t0, shift) & 1023];
    }

    /// <summary>Even part: inputs 0, 2, 4, 6; results scaled by 2^ConstBits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (long T10, long T11, long T12, long T13) Even(long in0, long in2, long in4, long in6)
    {
        long z1 = (in2 + in6) * Fix0_541196100;
        long tmp2 = z1 + in6 * -Fix1_847759065;
        long tmp3 = z1 + in2 * Fix0_765366865;
        long tmp0 = (in0 + in4) << ConstBits;
        long tmp1 = (in0 - in4) << ConstBits;
        return (tmp0 + tmp3, tmp1 + tmp2, tmp1 - tmp2, tmp0 - tmp3);
    }

    /// <summary>Odd part: inputs 7, 5, 3, 1 (libjpeg's tmp0..tmp3 before rotation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (long T0, long T1, long T2, long T3) Odd(long in7, long in5, long in3, long in1)
    {
        long z1 = in7 + in1, z2 = in5 + in3, z3 = in7 + in3, z4 = in5 + in1;
        long z5 = (z3 + z4) * Fix1_175875602;
        long t0 = in7 * Fix0_298631336, t1 = in5 * Fix2_053119869, t2 = in3 * Fix3_072711026, t3 = in1 * Fix1_501321110;
        z1 *= -Fix0_899976223;
        z2 *= -Fix2_562915447;
        z3 = z3 * -Fix1_961570560 + z5;
        z4 = z4 * -Fix0_390180644 + z5;
        return (t0 + z1 + z3, t1 + z2 + z4, t2 + z2 + z3, t3 + z1 + z4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Descale(long x, int n) => (x + (1L << (n - 1))) >> n;

    private static byte[] BuildRangeLimit()
    {
        var t = new byte[1024];
        for (int i = 0; i < 1024; i++)
            t[i] = i < 128 ? (byte)(i + 128) : i < 512 ? (byte)255 : i < 896 ? (byte)0 : (byte)(i - 896);
        return t;
    }
}
