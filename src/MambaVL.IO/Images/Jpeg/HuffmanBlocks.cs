// Huffman decoding of one 8×8 block: sequential (JPEG F.2.2) and the four progressive passes (G.1.2: DC first and
// refinement, AC spectral selection with end-of-band runs, AC successive-approximation refinement), as libjpeg's
// jdhuff.c / jdphuff.c interpret them. Coefficients are written in natural order.
namespace MambaVL.IO.Images.Jpeg;

internal static class HuffmanBlocks
{
    public static void Sequential(ref EntropyReader r, HuffmanTable dc, HuffmanTable ac, ref int prediction, Span<short> block)
    {
        int s = r.DecodeSymbol(dc);
        prediction += r.ReceiveExtend(s);  // wraps like libjpeg on absurd DC runs; only corrupt files get there
        block[0] = (short)prediction;
        var natural = ZigZag.ToNatural;
        for (int k = 1; k < 64; k++)
        {
            int rs = r.DecodeSymbol(ac);
            int run = rs >> 4, size = rs & 15;
            if (size != 0)
            {
                k += run;
                block[natural[k]] = (short)r.ReceiveExtend(size);
            }
            else if (run == 15) k += 15;  // ZRL: sixteen zeros
            else break;                   // EOB
        }
    }

    public static void DcFirst(ref EntropyReader r, HuffmanTable dc, ref int prediction, int al, Span<short> block, string fileName)
    {
        int s = r.DecodeSymbol(dc);
        long value = (long)prediction + r.ReceiveExtend(s);
        if (value is > int.MaxValue or < int.MinValue)
            throw ImageErrors.Corrupt(fileName, "corrupt JPEG: DC coefficient out of range");
        prediction = (int)value;
        block[0] = (short)(prediction << al);
    }

    public static void DcRefine(ref EntropyReader r, int al, Span<short> block)
    {
        if (r.ReadBits(1) != 0) block[0] |= (short)(1 << al);
    }

    public static void AcFirst(ref EntropyReader r, HuffmanTable ac, JpegScan scan, ref int eobRun, Span<short> block)
    {
        if (eobRun > 0) { eobRun--; return; }  // inside a run of blocks with nothing in this band
        var natural = ZigZag.ToNatural;
        for (int k = scan.Ss; k <= scan.Se; k++)
        {
            int rs = r.DecodeSymbol(ac);
            int run = rs >> 4, size = rs & 15;
            if (size != 0)
            {
                k += run;
                block[natural[k]] = (short)(r.ReceiveExtend(size) << scan.Al);
            }
            else if (run == 15) k += 15;
            else
            {
                eobRun = (1 << run) + r.ReadBits(run) - 1;  // EOBr: this block ends the band, 2^r + bits - 1 more follow
                break;
            }
        }
    }

    public static void AcRefine(ref EntropyReader r, HuffmanTable ac, JpegScan scan, ref int eobRun, Span<short> block)
    {
        int p1 = 1 << scan.Al, m1 = -1 << scan.Al;
        var natural = ZigZag.ToNatural;
        int k = scan.Ss, se = scan.Se;
        if (eobRun == 0)
        {
            for (; k <= se; k++)
            {
                int rs = r.DecodeSymbol(ac);
                int run = rs >> 4, size = rs & 15, value = 0;
                if (size != 0) value = r.ReadBits(1) != 0 ? p1 : m1;  // a newly nonzero coefficient is always ±1 at this bit
                else if (run != 15)
                {
                    eobRun = (1 << run) + r.ReadBits(run);
                    break;
                }
                // Skip `run` still-zero coefficients, appending a correction bit to every nonzero one passed.
                for (; k <= se; k++)
                {
                    int pos = natural[k];
                    if (block[pos] != 0) Correct(ref r, ref block[pos], p1, m1);
                    else if (--run < 0) break;
                }
                if (value != 0) block[natural[k]] = (short)value;
            }
        }
        if (eobRun > 0)
        {
            // The rest of the band is zero except for corrections to coefficients already nonzero.
            for (; k <= se; k++)
            {
                int pos = natural[k];
                if (block[pos] != 0) Correct(ref r, ref block[pos], p1, m1);
            }
            eobRun--;
        }
    }

    private static void Correct(ref EntropyReader r, ref short coef, int p1, int m1)
    {
        if (r.ReadBits(1) != 0 && (coef & p1) == 0)
            coef += (short)(coef >= 0 ? p1 : m1);
    }
}
