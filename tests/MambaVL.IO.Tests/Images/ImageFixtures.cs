// Locates tests/fixtures/images and reads the PIL goldens written beside each image by tools/reference/images/*.py.
using MambaVL.IO.Safetensors;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests.Images;

/// <summary>What PIL made of a fixture: convert("RGB") pixels (H × W × 3), extra tensors, and mode/size/orientation.</summary>
internal sealed record ImageGolden(byte[] Rgb, int Width, int Height, string Mode, int Orientation,
    IReadOnlyDictionary<string, (byte[] Data, int[] Shape)> Extra);

internal static class ImageFixtures
{
    public static readonly string Dir = Path.Combine(Fixtures.RepoRoot(), "tests", "fixtures", "images");

    public static string File(params string[] parts) => Path.Combine([Dir, .. parts]);

    /// <summary>File names (without folder) in tests/fixtures/images/<paramref name="folder"/> ending in <paramref name="extension"/>.</summary>
    public static string[] Names(string folder, string extension) =>
        Directory.GetFiles(File(folder), "*" + extension).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    /// <summary>The golden for image <paramref name="path"/>: the file beside it named X.expected.safetensors.</summary>
    public static ImageGolden Golden(string path)
    {
        string golden = Path.ChangeExtension(path, null) + ".expected.safetensors";
        using var st = new SafetensorsFile(golden);
        var extra = st.Names.Where(n => n != "rgb").ToDictionary(n => n, n => (Fixtures.Bytes(st.Get(n)), st.Info(n).Shape));
        var m = st.Metadata;
        return new ImageGolden(Fixtures.Bytes(st.Get("rgb")), int.Parse(m["width"]), int.Parse(m["height"]), m["mode"],
            int.Parse(m["orientation"]), extra);
    }

    public static bool HasGolden(string path) => System.IO.File.Exists(Path.ChangeExtension(path, null) + ".expected.safetensors");

    /// <summary>Largest per-channel difference and the share of pixels whose three channels all match.</summary>
    public static (int MaxDiff, double ExactPixels) Compare(byte[] actual, byte[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        int max = 0, exact = 0;
        for (int i = 0; i < expected.Length; i += 3)
        {
            int d = Math.Max(Math.Abs(actual[i] - expected[i]), Math.Max(Math.Abs(actual[i + 1] - expected[i + 1]), Math.Abs(actual[i + 2] - expected[i + 2])));
            max = Math.Max(max, d);
            if (d == 0) exact++;
        }
        return (max, expected.Length == 0 ? 1 : exact / (expected.Length / 3.0));
    }
}
