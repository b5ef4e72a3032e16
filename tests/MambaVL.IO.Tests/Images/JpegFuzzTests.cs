// Corrupt JPEGs must only ever give InvalidDataException naming the file (or decode): never IndexOutOfRange,
// NullReference, huge allocations or hangs. Every fixture is truncated at many points and mutated (fixed seeds).
using System.Diagnostics;
using MambaVL.IO.Images.Jpeg;

using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests.Images;

public class JpegFuzzTests
{
    private const int Mutations = 1200;
    private static readonly TimeSpan PerFileLimit = TimeSpan.FromSeconds(60);  // generous: a hang fails instead of blocking
    private const long MaxAllocationPerDecode = 64L << 20;                      // every fixture is tiny; a mutated size must not balloon

    public static TheoryData<string> Targets => [.. ImageFixtures.Names("jpeg", ".jpg")];

    [Theory, MemberData(nameof(Targets))]
    public void Truncated_files_give_clear_errors(string fixture)
    {
        byte[] original = File.ReadAllBytes(ImageFixtures.File("jpeg", fixture));
        int mustFailBelow = HalfwayThroughFirstScan(original);
        RunWithinLimit(fixture, () =>
        {
            int step = Math.Max(1, original.Length / 300);
            for (int keep = 0; keep < original.Length; keep += keep < 64 || keep > original.Length - 200 ? 1 : step)
            {
                bool decoded = DecodeExpectingOnlyClearErrors(fixture, original[..keep], $"truncated to {keep} bytes");
                Assert.False(decoded && keep < mustFailBelow, $"truncated to {keep} bytes (half of the first scan is at {mustFailBelow}) but decoded");
            }
        });
    }

    [Theory, MemberData(nameof(Targets))]
    public void Mutated_files_give_clear_errors(string fixture)
    {
        byte[] original = File.ReadAllBytes(ImageFixtures.File("jpeg", fixture));
        RunWithinLimit(fixture, () =>
        {
            var rng = new Random(Corruption.StableSeed(fixture));  // string hashes are randomised per process: keep runs repeatable
            for (int i = 0; i < Mutations; i++)
                DecodeExpectingOnlyClearErrors(fixture, Corruption.Mutate(original, rng), $"mutation {i}");
        });
    }

    /// <summary>Decodes (and reads the info of) <paramref name="bytes"/>; true if it decoded, false on a clear error.</summary>
    private static bool DecodeExpectingOnlyClearErrors(string name, byte[] bytes, string what)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            var decoded = JpegDecoder.Decode(bytes, name);
            Assert.Equal(decoded.Info, JpegDecoder.ReadInfo(bytes, name));
            Assert.Equal((decoded.Info.Width, decoded.Info.Height), (decoded.Image.Width, decoded.Image.Height));
            return true;
        }
        catch (InvalidDataException e)
        {
            Assert.True(e.Message.StartsWith(name + ": ", StringComparison.Ordinal), $"{what}: the error does not name the file: {e.Message}");
            return false;
        }
        finally
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < MaxAllocationPerDecode, $"{what}: decoding allocated {allocated} bytes");
        }
    }

    private static void RunWithinLimit(string fixture, Action fuzz)
    {
        var watch = Stopwatch.StartNew();
        var task = Task.Run(fuzz);
        Assert.True(task.Wait(PerFileLimit), $"{fixture}: fuzzing did not finish within {PerFileLimit.TotalSeconds} s (a hang?)");
        task.GetAwaiter().GetResult();  // rethrow assertion failures from the worker
        Assert.True(watch.Elapsed < PerFileLimit);
    }

    /// <summary>The offset halfway through the entropy-coded data of the first scan: cutting there cannot leave a whole image.</summary>
    private static int HalfwayThroughFirstScan(byte[] jpeg)
    {
        int sos = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        Assert.True(sos > 0, "fixture has no SOS");
        int start = sos + 2 + (jpeg[sos + 2] << 8 | jpeg[sos + 3]);
        int end = start;
        while (end + 1 < jpeg.Length && !(jpeg[end] == 0xFF && jpeg[end + 1] is not 0 and not (>= 0xD0 and <= 0xD7))) end++;
        return start + (end - start) / 2;
    }
}
