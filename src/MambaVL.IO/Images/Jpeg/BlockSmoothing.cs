// libjpeg-turbo's inter-block smoothing for progressive files (jdcoefct.c, smoothing_ok / decompress_smooth_data):
// when some of the first nine AC coefficients were never sent, or not to full precision, they are estimated from
// the DC values of the 5×5 neighbourhood of blocks. A file whose scans deliver every bit never takes this path.
namespace MambaVL.IO.Images.Jpeg;

internal static class BlockSmoothing
{
    /// <summary>Natural positions of the DC and the first nine AC coefficients in zigzag order.</summary>
    private static ReadOnlySpan<int> Positions => [0, 1, 8, 16, 9, 2, 3, 10, 17, 24];

    /// <summary>libjpeg's smoothing_ok after the whole file has been read.</summary>
    public static bool Applies(JpegFrame frame)
    {
        if (!frame.Progressive) return false;
        bool useful = false;
        foreach (var c in frame.Components)
        {
            if (c.Quant == null || c.CoefBits[0] < 0) return false;
            foreach (int pos in Positions)
                if (c.Quant[pos] == 0) return false;  // the estimates divide by these
            for (int k = 1; k < 10; k++) useful |= c.CoefBits[k] != 0;
        }
        return useful;
    }

    /// <summary>Inverse-transforms every block of <paramref name="c"/> into its plane, smoothing as libjpeg does.</summary>
    public static void TransformComponent(JpegComponent c, JpegFrame frame)
    {
        int lastImcu = frame.McuRows - 1;
        var dc = new int[25];          // DC01..DC25 of libjpeg: 5 block rows × 5 block columns around the current block
        var rows = new int[5];
        Span<short> work = stackalloc short[64];
        for (int imcu = 0; imcu <= lastImcu; imcu++)
        {
            int blockRows = imcu < lastImcu || c.HeightInBlocks % c.V == 0 ? c.V : c.HeightInBlocks % c.V;
            for (int br = 0; br < blockRows; br++)
            {
                // Which rows serve as the neighbours: libjpeg's exact conditions, which duplicate rows near the edges.
                int row = imcu * c.V + br;
                rows[2] = row;
                rows[1] = br > 0 || imcu > 0 ? row - 1 : row;
                rows[0] = br > 1 || imcu > 1 ? row - 2 : rows[1];
                rows[3] = br < blockRows - 1 || imcu < lastImcu ? row + 1 : row;
                rows[4] = br < blockRows - 2 || imcu + 1 < lastImcu ? row + 2 : rows[3];
                TransformRow(c, rows, dc, work);
            }
        }
    }

    private static void TransformRow(JpegComponent c, int[] rows, int[] dc, Span<short> work)
    {
        var coefs = c.Coefficients!;
        int width = c.WidthInBlocks, last = width - 1;
        int Dc(int r, int col) => coefs[(rows[r] * width + col) * 64];
        for (int r = 0; r < 5; r++)
            for (int k = 0; k < 5; k++) dc[r * 5 + k] = Dc(r, 0);
        for (int col = 0; col < width; col++)
        {
            coefs.AsSpan((rows[2] * width + col) * 64, 64).CopyTo(work);
            // Sliding window: column +1 is fetched only at the first block, column +2 while it exists; on narrow
            // images the stale values stay, as in libjpeg.
            if (col == 0 && col < last)
                for (int r = 0; r < 5; r++) dc[r * 5 + 3] = Dc(r, 1);
            if (col + 1 < last)
                for (int r = 0; r < 5; r++) dc[r * 5 + 4] = Dc(r, col + 2);
            Estimate(c, dc, work);
            InverseDct.Transform(work, c.Quant!, c.Plane, rows[2] * 8 * c.PlaneStride + col * 8, c.PlaneStride);
            for (int r = 0; r < 5; r++)
                for (int k = 0; k < 4; k++) dc[r * 5 + k] = dc[r * 5 + k + 1];
        }
    }

    /// <summary>Fills still-zero, not fully known coefficients 1..9 (and the DC, when no AC data exists) with estimates.</summary>
    private static void Estimate(JpegComponent c, int[] d, Span<short> work)
    {
        var bits = c.CoefBits;
        var q = c.Quant!;
        long q00 = q[0];
        bool changeDc = true;
        for (int k = 1; k < 10; k++) changeDc &= bits[k] == -1;
        int D(int n) => d[n - 1];

        Predict(work, 1, bits[1], q[1], q00 * (changeDc
            ? -D(1) - D(2) + D(4) + D(5) - 3 * D(6) + 13 * D(7) - 13 * D(9) + 3 * D(10) - 3 * D(11) + 38 * D(12)
              - 38 * D(14) + 3 * D(15) - 3 * D(16) + 13 * D(17) - 13 * D(19) + 3 * D(20) - D(21) - D(22) + D(24) + D(25)
            : -7 * D(11) + 50 * D(12) - 50 * D(14) + 7 * D(15)));
        Predict(work, 8, bits[2], q[8], q00 * (changeDc
            ? -D(1) - 3 * D(2) - 3 * D(3) - 3 * D(4) - D(5) - D(6) + 13 * D(7) + 38 * D(8) + 13 * D(9) - D(10) + D(16)
              - 13 * D(17) - 38 * D(18) - 13 * D(19) + D(20) + D(21) + 3 * D(22) + 3 * D(23) + 3 * D(24) + D(25)
            : -7 * D(3) + 50 * D(8) - 50 * D(18) + 7 * D(23)));
        Predict(work, 16, bits[3], q[16], q00 * (changeDc
            ? D(3) + 2 * D(7) + 7 * D(8) + 2 * D(9) - 5 * D(12) - 14 * D(13) - 5 * D(14) + 2 * D(17) + 7 * D(18) + 2 * D(19) + D(23)
            : -D(3) + 13 * D(8) - 24 * D(13) + 13 * D(18) - D(23)));
        Predict(work, 9, bits[4], q[9], q00 * (changeDc
            ? -D(1) + D(5) + 9 * D(7) - 9 * D(9) - 9 * D(17) + 9 * D(19) + D(21) - D(25)
            : D(10) + D(16) - 10 * D(17) + 10 * D(19) - D(2) - D(20) + D(22) - D(24) + D(4) - D(6) + 10 * D(7) - 10 * D(9)));
        Predict(work, 2, bits[5], q[2], q00 * (changeDc
            ? 2 * D(7) - 5 * D(8) + 2 * D(9) + D(11) + 7 * D(12) - 14 * D(13) + 7 * D(14) + D(15) + 2 * D(17) - 5 * D(18) + 2 * D(19)
            : -D(11) + 13 * D(12) - 24 * D(13) + 13 * D(14) - D(15)));
        if (!changeDc) return;
        Predict(work, 3, bits[6], q[3], q00 * (D(7) - D(9) + 2 * D(12) - 2 * D(14) + D(17) - D(19)));
        Predict(work, 10, bits[7], q[10], q00 * (D(7) - 3 * D(8) + D(9) - D(17) + 3 * D(18) - D(19)));
        Predict(work, 17, bits[8], q[17], q00 * (D(7) - D(9) - 3 * D(12) + 3 * D(14) + D(17) - D(19)));
        Predict(work, 24, bits[9], q[24], q00 * (D(7) + 2 * D(8) + D(9) - D(17) - 2 * D(18) - D(19)));
        long num = q00 * (-2 * D(1) - 6 * D(2) - 8 * D(3) - 6 * D(4) - 2 * D(5) - 6 * D(6) + 6 * D(7) + 42 * D(8)
            + 6 * D(9) - 6 * D(10) - 8 * D(11) + 42 * D(12) + 152 * D(13) + 42 * D(14) - 8 * D(15) - 6 * D(16)
            + 6 * D(17) + 42 * D(18) + 6 * D(19) - 6 * D(20) - 2 * D(21) - 6 * D(22) - 8 * D(23) - 6 * D(24) - 2 * D(25));
        work[0] = (short)Divide(num, q00, -1);
    }

    /// <summary>Sets coefficient <paramref name="pos"/> to its estimate unless it is known (al = 0) or already nonzero.</summary>
    private static void Predict(Span<short> work, int pos, int al, long qk, long num)
    {
        if (al == 0 || work[pos] != 0) return;
        work[pos] = (short)Divide(num, qk, al);
    }

    /// <summary>num / (qk·256) rounded, its magnitude capped below 2^al when al &gt; 0 (the bits still to come).</summary>
    private static int Divide(long num, long qk, int al)
    {
        int pred = (int)(((qk << 7) + Math.Abs(num)) / (qk << 8));
        if (al > 0 && pred >= 1 << al) pred = (1 << al) - 1;
        return num >= 0 ? pred : -pred;
    }
}
