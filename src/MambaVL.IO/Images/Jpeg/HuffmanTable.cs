// A Huffman decoding table built from a DHT definition: a 9-bit lookahead table for the common short codes and
// libjpeg's maxcode/valoffset arrays (jdhuff.c, jpeg_make_d_derived_tbl) for the longer ones.
namespace MambaVL.IO.Images.Jpeg;

internal sealed class HuffmanTable
{
    public const int LookaheadBits = 9;

    /// <summary>Indexed by the next 9 bits: (code length &lt;&lt; 8) | symbol, or 0 when the code is longer than 9 bits.</summary>
    public ushort[] Lookup { get; } = new ushort[1 << LookaheadBits];

    /// <summary>Largest code of each length (index 1..16), -1 when there is none; [17] stops the slow search.</summary>
    public int[] MaxCode { get; } = new int[18];

    /// <summary>Symbol index of the first code of each length minus that code.</summary>
    public int[] ValueOffset { get; } = new int[18];

    public byte[] Symbols { get; } = new byte[256];

    /// <summary>Why the definition cannot be used, or null. libjpeg only rejects a bad table when a scan uses it.</summary>
    public string? Problem { get; private set; }

    /// <summary>Builds the table from the 16 code-length counts and the symbols of a DHT segment.</summary>
    public HuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols, bool isDc)
    {
        symbols.CopyTo(Symbols);
        Span<int> codes = stackalloc int[256];
        Span<byte> lengths = stackalloc byte[257];
        int n = 0;
        for (int len = 1; len <= 16; len++)
            for (int i = 0; i < counts[len - 1]; i++) lengths[n++] = (byte)len;  // the caller checked n ≤ 256
        lengths[n] = 0;

        // Canonical codes (JPEG Figure C.2); a code that no longer fits its length means the counts overfill the tree.
        int code = 0, p = 0, size = lengths[0];
        while (lengths[p] != 0)
        {
            while (lengths[p] == size) codes[p++] = code++;
            if (code >= 1 << size) { Problem = "bad Huffman table (code lengths overfill the code space)"; return; }
            code <<= 1;
            size++;
        }

        p = 0;
        for (int len = 1; len <= 16; len++)
        {
            if (counts[len - 1] == 0) { MaxCode[len] = -1; continue; }
            ValueOffset[len] = p - codes[p];
            p += counts[len - 1];
            MaxCode[len] = codes[p - 1];
        }
        MaxCode[17] = int.MaxValue;

        p = 0;
        for (int len = 1; len <= LookaheadBits; len++)
            for (int i = 0; i < counts[len - 1]; i++, p++)
            {
                int first = codes[p] << (LookaheadBits - len);
                Lookup.AsSpan(first, 1 << (LookaheadBits - len)).Fill((ushort)((len << 8) | Symbols[p]));
            }

        // DC symbols are magnitude categories; more than 15 bits would overflow the receive/extend step.
        if (isDc)
            for (int i = 0; i < n; i++)
                if (Symbols[i] > 15) { Problem = $"bad Huffman table (DC symbol {Symbols[i]} is larger than 15)"; return; }
    }
}
