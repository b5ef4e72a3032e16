// Corrupt-input testing shared by the image decoders' fuzz tests (the pattern of FuzzTests.cs): truncations, seeded
// mutations, and a runner that accepts only success or InvalidDataException naming the file, within a time bound.
using MambaVL.IO.Images;

namespace MambaVL.IO.Tests.Images;

internal static class ImageFuzz
{
    /// <summary>Generous: a case takes microseconds; the bound only turns a hang into a failure.</summary>
    private static readonly TimeSpan PerCaseLimit = TimeSpan.FromSeconds(10);

    /// <summary>Every prefix near the start and the end of the file, and about 300 evenly spaced ones between.</summary>
    public static IEnumerable<int> TruncationLengths(int length)
    {
        int step = Math.Max(1, length / 300);
        for (int keep = 0; keep < length; keep += keep < 64 || keep > length - 64 ? 1 : step) yield return keep;
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
