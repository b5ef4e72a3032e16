// Golden parity of the JPEG decoder with PIL's Image.open(f).convert("RGB") (Debian 12, libjpeg-turbo 2.1) on every
// fixture made by tools/reference/images/make_jpeg_fixtures.py: pixels, mode, size and EXIF orientation.
using MambaVL.IO.Images;
using MambaVL.IO.Images.Jpeg;
using Xunit.Abstractions;

namespace MambaVL.IO.Tests.Images;

public class JpegGoldenTests(ITestOutputHelper output)
{
    private static string[] GoldenNames =>
        ImageFixtures.Names("jpeg", ".jpg").Where(n => ImageFixtures.HasGolden(ImageFixtures.File("jpeg", n))).ToArray();

    public static TheoryData<string> Goldens => [.. GoldenNames];

    [Fact]
    public void Fixture_set_covers_the_cases_it_should()
    {
        // Guards against a regenerated fixture folder silently losing cases; each name below is asserted on by a test.
        string[] required = ["baseline_444", "baseline_422", "baseline_420", "baseline_440", "baseline_411", "gray",
            "progressive_420", "restart_progressive", "cmyk_adobe", "ycck_420", "size_1x1_420", "quality_10",
            "progressive_partial_bits", "progressive_dc_only", "orient_8"];
        var names = ImageFixtures.Names("jpeg", ".jpg");
        foreach (var r in required) Assert.Contains(r + ".jpg", names);
        Assert.True(GoldenNames.Length >= 50, $"only {GoldenNames.Length} golden JPEG fixtures");
    }

    [Theory, MemberData(nameof(Goldens))]
    public void Decode_matches_PIL(string name)
    {
        string path = ImageFixtures.File("jpeg", name);
        var golden = ImageFixtures.Golden(path);
        var decoded = JpegDecoder.Decode(File.ReadAllBytes(path), name);

        Assert.Equal(("JPEG", golden.Width, golden.Height, golden.Mode, golden.Orientation),
            (decoded.Info.Format, decoded.Info.Width, decoded.Info.Height, decoded.Info.Mode, decoded.Info.Orientation));
        Assert.Equal((golden.Width, golden.Height), (decoded.Image.Width, decoded.Image.Height));
        var (maxDiff, exact) = ImageFixtures.ComparePixels(decoded.Image.Pixels, golden.Rgb);
        output.WriteLine($"{name}: {golden.Width}×{golden.Height} {golden.Mode}, max |diff| {maxDiff}, exact pixels {exact:P3}");
        Assert.True(maxDiff <= 1, $"{name}: max |diff| {maxDiff} > 1");
        Assert.True(exact >= 0.999, $"{name}: only {exact:P3} of pixels are exact");
    }

    [Theory, MemberData(nameof(Goldens))]
    public void ReadInfo_agrees_with_PIL_without_decoding(string name)
    {
        string path = ImageFixtures.File("jpeg", name);
        var golden = ImageFixtures.Golden(path);
        var info = JpegDecoder.ReadInfo(File.ReadAllBytes(path), name);
        Assert.Equal(new ImageInfo("JPEG", golden.Width, golden.Height, golden.Mode, golden.Orientation), info);
    }

    [Fact]
    public void All_goldens_together_are_exact()
    {
        // The per-file test allows PIL's documented ±1; this one reports the overall figure and requires exactness.
        long pixels = 0, exactPixels = 0;
        int worst = 0;
        foreach (var name in GoldenNames)
        {
            string path = ImageFixtures.File("jpeg", name);
            var golden = ImageFixtures.Golden(path);
            var (maxDiff, exact) = ImageFixtures.ComparePixels(JpegDecoder.Decode(File.ReadAllBytes(path), name).Image.Pixels, golden.Rgb);
            long n = golden.Rgb.Length / 3;
            pixels += n;
            exactPixels += (long)Math.Round(exact * n);
            worst = Math.Max(worst, maxDiff);
        }
        output.WriteLine($"{GoldenNames.Length} files, {pixels} pixels: {exactPixels} exact ({100.0 * exactPixels / pixels:F4}%), worst |diff| {worst}");
        Assert.Equal(pixels, exactPixels);
    }

    [Fact]
    public void IsJpeg_sniffs_the_signature()
    {
        Assert.True(JpegDecoder.IsJpeg(File.ReadAllBytes(ImageFixtures.File("jpeg", "gray.jpg"))));
        Assert.True(JpegDecoder.IsJpeg([0xFF, 0xD8, 0xFF]));
        Assert.False(JpegDecoder.IsJpeg([0xFF, 0xD8]));
        Assert.False(JpegDecoder.IsJpeg([0xFF, 0xD8, 0x00, 0xFF]));
        Assert.False(JpegDecoder.IsJpeg("\x89PNG\r\n\x1a\n"u8));
        Assert.False(JpegDecoder.IsJpeg([]));
    }
}
