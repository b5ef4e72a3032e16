// ImageDecoder picks the decoder from the file's first bytes, not its name, and refuses what it cannot read by name.
using MambaVL.IO.Images;

namespace MambaVL.IO.Tests.Images;

public class ImageDecoderTests
{
    public static TheoryData<string, string> OneOfEach()
    {
        var data = new TheoryData<string, string>();
        foreach (var (folder, format, ext) in new[] { ("jpeg", "JPEG", ".jpg"), ("png", "PNG", ".png"), ("bmp", "BMP", ".bmp"), ("pnm", "PPM", ".ppm") })
            data.Add(ImageFixtures.Names(folder, ext).First(n => folder != "jpeg" || ImageFixtures.HasGolden(ImageFixtures.File(folder, n))), format);  // not a refused JPEG
        return data;
    }

    [Theory, MemberData(nameof(OneOfEach))]
    public void The_format_comes_from_the_bytes_whatever_the_name(string name, string format)
    {
        string folder = format switch { "JPEG" => "jpeg", "PNG" => "png", "BMP" => "bmp", _ => "pnm" };
        byte[] bytes = File.ReadAllBytes(ImageFixtures.File(folder, name));
        string renamed = Path.Combine(Path.GetTempPath(), $"mambavl-{Guid.NewGuid():N}.dat");
        File.WriteAllBytes(renamed, bytes);
        try
        {
            var decoded = ImageDecoder.Decode(renamed);
            Assert.Equal(format, decoded.Info.Format);
            Assert.Equal(format, ImageDecoder.ReadInfo(renamed).Format);
            Assert.Equal(decoded.Image.Width * decoded.Image.Height * 3, decoded.Image.Pixels.Length);
        }
        finally { File.Delete(renamed); }
    }

    [Theory]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, "not an image this build can read")]
    [InlineData(new byte[0], "the file is empty")]
    public void Unknown_and_empty_files_are_refused_by_name(byte[] bytes, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes, "x.gif"));
        Assert.StartsWith("x.gif: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void A_missing_file_is_named() =>
        Assert.Contains("nope.png", Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode("nope.png")).Message);
}
