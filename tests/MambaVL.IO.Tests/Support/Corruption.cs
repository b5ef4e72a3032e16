// Seeded corruption for the fuzz tests of every reader (checkpoints, pickles, images): repeatable seeds and mutations.
namespace MambaVL.IO.Tests.Support;

internal static class Corruption
{
    /// <summary>String hashes are randomised per process: this keeps the mutation sequence repeatable.</summary>
    public static int StableSeed(string s)
    {
        int h = 17;
        foreach (char c in s) h = unchecked(h * 31 + c);
        return h & 0x7fffffff;
    }

    /// <summary>1-4 edits: random bytes, bit flips, or a 4-byte field set to an extreme value (sizes, lengths, offsets).</summary>
    public static byte[] Mutate(byte[] original, Random rng)
    {
        var b = (byte[])original.Clone();
        for (int n = rng.Next(1, 5); n > 0; n--)
        {
            int at = rng.Next(b.Length);
            switch (rng.Next(4))
            {
                case 0: b[at] = (byte)rng.Next(256); break;
                case 1: b[at] ^= (byte)(1 << rng.Next(8)); break;
                case 2: b[at] = rng.Next(2) == 0 ? (byte)0 : (byte)0xFF; break;
                default:
                    uint v = new uint[] { 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0, 1, 0x10000 }[rng.Next(6)];
                    bool bigEndian = rng.Next(2) == 0;  // PNG fields are big-endian, BMP fields little-endian
                    for (int k = 0; k < 4 && at + k < b.Length; k++) b[at + k] = (byte)(v >> (8 * (bigEndian ? 3 - k : k)));
                    break;
            }
        }
        return b;
    }
}
