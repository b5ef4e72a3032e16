// PilResize against Pillow 9.4's Image.resize on synthetic sources (odd sizes, up/down/one-axis/degenerate targets),
// byte for byte; plus its argument checks and PIL's same-size copy.
using MambaVL.IO.Images;
using MambaVL.IO.Images.Processing;
using Xunit.Abstractions;

namespace MambaVL.IO.Tests.Images;

public sealed class ResizeTests(ITestOutputHelper output)
{
    public static TheoryData<string> FilterNames => new() { "nearest", "bilinear", "bicubic", "lanczos", "box", "hamming" };

    [Theory]
    [MemberData(nameof(FilterNames))]
    public void Resize_MatchesPillowByteForByte(string filterName)
    {
        var filter = Enum.Parse<ResampleFilter>(filterName, ignoreCase: true);
        using var goldens = ImageFixtures.OpenResize("resize.safetensors");
        using var sources = ImageFixtures.OpenResize("sources.safetensors");
        var cases = ImageFixtures.Cases(goldens).Where(c => c.Text("filter") == filterName).ToArray();
        Assert.True(cases.Length >= 7, $"only {cases.Length} {filterName} goldens");

        long compared = 0, exact = 0; double maxDiff = 0;
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var source = ImageFixtures.Image(sources.Get(c.Text("source")));
            var actual = PilResize.Resize(source, c.Int("width"), c.Int("height"), filter);
            var result = ImageFixtures.Compare(c, goldens.Get(c.Name), actual);
            (compared, exact, maxDiff) = (compared + result.Compared, exact + result.Exact, Math.Max(maxDiff, result.MaxAbsDiff));
            if (!result.SameHash) failures.Add($"{c.Name}: {result}");
        }
        output.WriteLine($"{filterName}: {cases.Length} cases, {compared} sampled bytes, {100.0 * exact / compared:F4}% exact, " +
                         $"max |diff| {maxDiff}, {cases.Length - failures.Count} of {cases.Length} full outputs hash-equal");
        Assert.True(maxDiff <= 1, $"{filterName}: max |diff| {maxDiff} > 1\n{string.Join("\n", failures)}");
        Assert.True(failures.Count == 0, $"{filterName}: not byte-exact:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void Resize_ToTheSameSize_IsACopy()
    {
        var source = Gradient(5, 4);
        var copy = PilResize.Resize(source, 5, 4, ResampleFilter.Bicubic);
        Assert.NotSame(source.Pixels, copy.Pixels);
        Assert.Equal(source.Pixels, copy.Pixels);
    }

    [Fact]
    public void ResizeShortestEdge_ReturnsTheImageWhenAlreadyThatSize()
    {
        var source = Gradient(7, 12);
        Assert.Same(source, PilResize.ResizeShortestEdge(source, 7, ResampleFilter.Bicubic));
        var resized = PilResize.ResizeShortestEdge(source, 14, ResampleFilter.Bilinear);
        Assert.Equal((14, 24), (resized.Width, resized.Height));
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(5, 0)]
    [InlineData(-3, 5)]
    public void Resize_ToAnEmptySize_Throws(int width, int height)
    {
        var e = Assert.Throws<ArgumentException>(() => PilResize.Resize(Gradient(3, 3), width, height, ResampleFilter.Bicubic));
        Assert.Contains($"{width}×{height} is empty", e.Message);
    }

    [Fact]
    public void Resize_WithAnUnknownFilter_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => PilResize.Resize(Gradient(3, 3), 4, 4, (ResampleFilter)9));
        Assert.Contains("unknown resample filter 9", e.Message);
    }

    internal static RgbImage Gradient(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (byte)(i * 37 % 251);
        return image;
    }
}
