// Locates tests/fixtures/images and checks a decoder against what tools/reference/images/make_png_fixtures.py saved:
// the pixels of PIL's convert("RGB") (16-bit files: round(v / 257)) and PIL's format, mode and size for each file.
using System.Text.Json;
using MambaVL.IO.Images;
using MambaVL.IO.Safetensors;
using MambaVL.IO.Tests.Support;

namespace MambaVL.IO.Tests.Images;

internal delegate DecodedImage ImageDecode(ReadOnlySpan<byte> data, string fileName);
internal delegate ImageInfo ImageInfoRead(ReadOnlySpan<byte> data, string fileName);

internal static class ImageFixtures
{
    public static readonly string Dir = Path.GetFullPath(Path.Combine(Fixtures.Dir, "..", "images"));

    private const string ExpectedFile = "expected.safetensors";

    public static string File(string folder, string name) => Path.Combine(Dir, folder, name);

    public static byte[] Bytes(string folder, string name) => System.IO.File.ReadAllBytes(File(folder, name));

    /// <summary>Every image file of a folder ("png", "bmp", "pnm"), sorted.</summary>
    public static string[] Names(string folder) =>
        Directory.GetFiles(Path.Combine(Dir, folder)).Select(Path.GetFileName).OfType<string>()
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
