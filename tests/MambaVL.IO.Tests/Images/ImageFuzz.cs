// Corrupt-input testing shared by the image decoders' fuzz tests (the pattern of FuzzTests.cs): truncations, seeded
// mutations, and a runner that accepts only success or InvalidDataException naming the file, within a time bound.
using MambaVL.IO.Images;

namespace MambaVL.IO.Tests.Images;

internal static class ImageFuzz
{
    /// <summary>Generous: a case takes microseconds; the bound only turns a hang into a failure.</summary>
    private static readonly TimeSpan PerCaseLimit = TimeSpan.FromSeconds(10);

    /// <summary>String hashes are randomised per process: this keeps the mutation sequence repeatable.</summary>
    public static int StableSeed(string s)
    {
        int h = 17;
        foreach (char c in s) h = unchecked(h * 31 + c);
        return h & 0x7fffffff;
    }

    /// <summary>Every prefix near the start and the end of the file, and about 300 evenly spaced ones between.</summary>
    public static IEnumerable<int> TruncationLengths(int length)
    {
        int step = Math.Max(1, length / 300);
        for (int keep = 0; keep < length; keep += keep < 64 || keep > length - 64 ? 1 : step) yield return keep;
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

    /// <summary>Decode and ReadInfo each either succeed (with a consistent image) or throw InvalidDataException naming the file.</summary>
    public static void ExpectOnlyClearErrors(byte[] bytes, string fileName, ImageDecode decode, ImageInfoRead readInfo, string what)
    {
        Run(() =>
        {
            var decoded = decode(bytes, fileName);
            Assert.Equal(decoded.Image.Width, decoded.Info.Width);
            Assert.Equal(decoded.Image.Height, decoded.Info.Height);
        }, fileName, what + " (Decode)");
        Run(() => readInfo(bytes, fileName), fileName, what + " (ReadInfo)");
    }

    private static void Run(Action action, string fileName, string what)
    {
        var task = Task.Run(() =>
        {
            try { action(); }
            catch (InvalidDataException e) when (e.Message.StartsWith(fileName + ": ", StringComparison.Ordinal)) { }
        });
        bool finished;
        try { finished = task.Wait(PerCaseLimit); }
        catch (AggregateException e) { throw new Xunit.Sdk.XunitException($"{what}: {e.InnerException}"); }
        if (!finished) Assert.Fail($"{what}: still running after {PerCaseLimit.TotalSeconds} s");
    }
}
