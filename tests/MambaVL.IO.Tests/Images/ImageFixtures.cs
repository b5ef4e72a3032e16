// Locates tests/fixtures/images and reads the goldens of tools/reference/images/: decoder goldens (PIL's RGB pixels
// beside each file) and resize/preset cases stored as sampled rows plus the SHA-256 of the full output ("cases" metadata).
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using MambaVL.Core.Tensors;
using MambaVL.IO.Images;
using MambaVL.IO.Safetensors;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests.Images;

/// <summary>One golden output: its full shape, the step of the rows stored, the hash of all its bytes, and the generator's fields.</summary>
public sealed record GoldenCase(string Name, int[] Shape, int RowStep, string Sha256, JsonElement Info)
{
    public string Text(string field) => Info.GetProperty(field).GetString()!;
    public int Int(string field) => Info.GetProperty(field).GetInt32();
    public bool Has(string field) => Info.TryGetProperty(field, out _);
}

/// <summary>How an output compares with its golden: hash of every byte, and values on the stored rows.</summary>
public sealed record Comparison(bool SameHash, long Compared, long Exact, double MaxAbsDiff)
{
    public double ExactPercent => Compared == 0 ? 100 : 100.0 * Exact / Compared;
    public override string ToString() => $"hash {(SameHash ? "equal" : "differs")}, {Compared} sampled values, {ExactPercent:F3}% exact, max |diff| {MaxAbsDiff:G4}";
}

/// <summary>What PIL made of a fixture: convert("RGB") pixels (H × W × 3), extra tensors, and mode/size/orientation.</summary>
internal sealed record ImageGolden(byte[] Rgb, int Width, int Height, string Mode, int Orientation,
    IReadOnlyDictionary<string, (byte[] Data, int[] Shape)> Extra);

internal delegate DecodedImage ImageDecode(ReadOnlySpan<byte> data, string fileName);
internal delegate ImageInfo ImageInfoRead(ReadOnlySpan<byte> data, string fileName);

internal static class ImageFixtures
{
    /// <summary>tests/fixtures/images, found from this source file's location (artifacts may live anywhere).</summary>
    public static string Directory { get; } = FindDirectory();

    public static string PathOf(params string[] parts) => Path.Combine([Directory, .. parts]);

    /// <summary>A golden file of tests/fixtures/images/resize.</summary>
    public static SafetensorsFile OpenResize(string file) => new(PathOf("resize", file));

    public static IReadOnlyList<GoldenCase> Cases(SafetensorsFile file)
    {
        using var doc = JsonDocument.Parse(file.Metadata["cases"]);
        return doc.RootElement.EnumerateArray().Select(e => new GoldenCase(
            e.GetProperty("name").GetString()!,
            e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(),
            e.GetProperty("row_step").GetInt32(),
            e.GetProperty("sha256").GetString()!,
            e.Clone())).ToArray();
    }

    /// <summary>A U8 (H, W, 3) tensor as an image.</summary>
    public static RgbImage Image(Tensor t)
    {
        Assert.Equal(DType.U8, t.DType);
        Assert.Equal(3, t.Rank);
        Assert.Equal(3, t.Dim(2));
        return new RgbImage(t.Dim(1), t.Dim(0), t.Span<byte>().ToArray());
    }

    public static int[] Ints(Tensor t) => t.Span<int>().ToArray();

    /// <summary>An image output against its golden: its (H, W·3) rows at the case's step, and its hash.</summary>
    public static Comparison Compare(GoldenCase golden, Tensor expectedRows, RgbImage actual)
    {
        Assert.True(golden.Shape.SequenceEqual([actual.Height, actual.Width, 3]),
            $"{golden.Name}: size {actual.Width}×{actual.Height}, expected {Tensor.ShapeString(golden.Shape)}");
        var expected = expectedRows.Span<byte>();
        int rowBytes = actual.Width * 3;
        long exact = 0; int maxDiff = 0, at = 0;
        for (int y = 0; y < actual.Height; y += golden.RowStep, at += rowBytes)
        {
            var row = actual.Row(y);
            for (int i = 0; i < rowBytes; i++)
            {
                int d = Math.Abs(row[i] - expected[at + i]);
                if (d == 0) exact++;
                maxDiff = Math.Max(maxDiff, d);
            }
        }
        Assert.Equal(expected.Length, at);
        return new Comparison(Hash(actual.Pixels) == golden.Sha256, at, exact, maxDiff);
    }

    /// <summary>An F32 output against its golden: rows of its last two dimensions at the case's step, and its hash.</summary>
    public static Comparison Compare(GoldenCase golden, Tensor expectedRows, Tensor actual)
    {
        Assert.True(golden.Shape.SequenceEqual(actual.ShapeArray),
            $"{golden.Name}: shape {Tensor.ShapeString(actual.Shape)}, expected {Tensor.ShapeString(golden.Shape)}");
        Assert.Equal(DType.F32, actual.DType);
        var values = actual.ContiguousCopy().Span<float>();
        var expected = expectedRows.Span<float>();
        int width = actual.Dim(-1), height = actual.Dim(-2);
        long exact = 0, at = 0; double maxDiff = 0;
        for (int plane = 0; plane < values.Length / (width * height); plane++)
            for (int y = 0; y < height; y += golden.RowStep, at += width)
            {
                var row = values.Slice((plane * height + y) * width, width);
                for (int i = 0; i < width; i++)
                {
                    double d = Math.Abs((double)row[i] - expected[(int)at + i]);
                    if (BitConverter.SingleToInt32Bits(row[i]) == BitConverter.SingleToInt32Bits(expected[(int)at + i])) exact++;
                    maxDiff = Math.Max(maxDiff, d);
                }
            }
        Assert.Equal(expected.Length, at);
        return new Comparison(Hash(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values)) == golden.Sha256, at, exact, maxDiff);
    }

    private static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string FindDirectory([CallerFilePath] string thisFile = "")
    {
        var candidates = new List<string>();
        if (thisFile.Length > 0) candidates.Add(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "fixtures", "images"));
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            candidates.Add(Path.Combine(d.FullName, "tests", "fixtures", "images"));
        return candidates.Select(Path.GetFullPath).FirstOrDefault(System.IO.Directory.Exists)
            ?? throw new DirectoryNotFoundException("tests/fixtures/images not found");
    }

    // ---- decoder goldens (tools/reference/images/make_*_fixtures.py) ----

    public static string Dir => Directory;

    public static string File(params string[] parts) => Path.Combine([Dir, .. parts]);

    /// <summary>File names (without folder) in tests/fixtures/images/<paramref name="folder"/> ending in <paramref name="extension"/>.</summary>
    public static string[] Names(string folder, string extension) =>
        System.IO.Directory.GetFiles(File(folder), "*" + extension).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

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
    public static (int MaxDiff, double ExactPixels) ComparePixels(byte[] actual, byte[] expected)
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

    // ---- PNG/BMP/PNM goldens: one expected.safetensors per folder (make_png_fixtures.py) ----

    private const string ExpectedFile = "expected.safetensors";

    public static byte[] Bytes(string folder, string name) => System.IO.File.ReadAllBytes(File(folder, name));

    /// <summary>Every image file of a folder ("png", "bmp", "pnm"), sorted.</summary>
    public static string[] Names(string folder) =>
        System.IO.Directory.GetFiles(Path.Combine(Dir, folder)).Select(Path.GetFileName).OfType<string>()
            .Where(n => n != ExpectedFile).Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<string> Theory(string folder) => new(Names(folder));

    /// <summary>What PIL said about <paramref name="name"/> and the RGB bytes it (or round(v / 257)) gave.</summary>
    public static (ImageInfo Info, byte[] Rgb) Expected(string folder, string name)
    {
        using var st = new SafetensorsFile(File(folder, ExpectedFile));
        var meta = JsonDocument.Parse(st.Metadata[name]).RootElement;
        var info = new ImageInfo(meta.GetProperty("format").GetString()!, meta.GetProperty("width").GetInt32(),
            meta.GetProperty("height").GetInt32(), meta.GetProperty("mode").GetString()!, meta.GetProperty("orientation").GetInt32());
        var tensor = st.Get(name);
        Assert.Equal([info.Height, info.Width, 3], tensor.ShapeArray);
        return (info, Fixtures.Bytes(tensor));
    }

    /// <summary>Decode and ReadInfo give exactly PIL's size, mode and format, and the expected pixels byte for byte.</summary>
    public static void AssertMatchesPil(string folder, string name, ImageDecode decode, ImageInfoRead readInfo)
    {
        var (expectedInfo, expectedRgb) = Expected(folder, name);
        byte[] file = Bytes(folder, name);
        var decoded = decode(file, name);
        Assert.Equal(expectedInfo, decoded.Info);
        Assert.Equal(expectedInfo, readInfo(file, name));
        Assert.Equal(expectedInfo.Width, decoded.Image.Width);
        Assert.Equal(expectedInfo.Height, decoded.Image.Height);
        int differ = FirstDifference(expectedRgb, decoded.Image.Pixels);
        if (differ >= 0)
        {
            int pixel = differ / 3, x = pixel % expectedInfo.Width, y = pixel / expectedInfo.Width;
            Assert.Fail($"{name}: pixel ({x}, {y}) is {Rgb(decoded.Image.Pixels, pixel)}, PIL gives {Rgb(expectedRgb, pixel)}");
        }
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return i;
        return -1;
    }

    private static string Rgb(byte[] p, int pixel) => $"({p[3 * pixel]}, {p[3 * pixel + 1]}, {p[3 * pixel + 2]})";
}
