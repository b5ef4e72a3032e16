// Crops, pads and size rules against the reference pipelines: torchvision's and HF's centre crops (crop, pad, mixed),
// ML-Mamba's letterbox pad and fill, the shortest-edge size, and argument checks.
using MambaVL.IO.Images.Processing;

namespace MambaVL.IO.Tests.Images;

public sealed class PreprocessGeometryTests
{
    [Fact]
    public void CentreCropsAndLetterbox_MatchTheReferencesExactly()
    {
        using var goldens = ImageFixtures.OpenResize("geometry.safetensors");
        using var sources = ImageFixtures.OpenResize("sources.safetensors");
        var cases = ImageFixtures.Cases(goldens);
        Assert.Equal(42, cases.Count);
        foreach (var c in cases)
        {
            var source = ImageFixtures.Image(sources.Get(c.Text("source")));
            var actual = c.Text("op") switch
            {
                "tv_center_crop" => Crop.TorchvisionCenter(source, c.Int("width"), c.Int("height")),
                "hf_center_crop" => Crop.HfCenter(source, c.Int("width"), c.Int("height")),
                "letterbox" => Pad.Letterbox(source, Pad.LetterboxFill(c.Text("mean") == "imagenet" ? Normalization.ImageNet : Normalization.Half)),
                var op => throw new InvalidOperationException($"unknown op {op}"),
            };
            var result = ImageFixtures.Compare(c, goldens.Get(c.Name), actual);
            Assert.True(result.SameHash && result.MaxAbsDiff == 0, $"{c.Name}: {result}");
        }
    }

    [Fact]
    public void CentreCrops_PlaceAnOddMarginDifferently()
    {
        // A margin of 3: torchvision starts at round(1.5) = 2, HF at 3 // 2 = 1. Padding 3: torchvision puts 1 before, HF 2.
        var source = ResizeTests.Gradient(8, 8);
        Assert.Equal(Crop.Region(source, 2, 2, 5, 5).Pixels, Crop.TorchvisionCenter(source, 5, 5).Pixels);
        Assert.Equal(Crop.Region(source, 1, 1, 5, 5).Pixels, Crop.HfCenter(source, 5, 5).Pixels);
        var black = new RgbColor(0, 0, 0);
        Assert.Equal(Pad.Constant(source, 1, 1, 2, 2, black).Pixels, Crop.TorchvisionCenter(source, 11, 11).Pixels);
        Assert.Equal(Pad.Constant(source, 2, 2, 1, 1, black).Pixels, Crop.HfCenter(source, 11, 11).Pixels);
    }

    [Fact]
    public void LetterboxFill_TruncatesMeanTimes255()
    {
        Assert.Equal(new RgbColor(123, 116, 103), Pad.LetterboxFill(Normalization.ImageNet));
        Assert.Equal(new RgbColor(127, 127, 127), Pad.LetterboxFill(Normalization.Half));
    }

    [Fact]
    public void Letterbox_OfAnOddDifference_IsOnePixelShortOfSquare()
    {
        var padded = Pad.Letterbox(ResizeTests.Gradient(4, 7), new RgbColor(1, 2, 3));
        Assert.Equal((6, 7), (padded.Width, padded.Height));  // int(3 / 2) = 1 column each side
        Assert.Equal(new byte[] { 1, 2, 3 }, padded.Row(3)[..3].ToArray());
        Assert.Equal(new byte[] { 1, 2, 3 }, padded.Row(3)[15..].ToArray());
    }

    [Fact]
    public void ShortestEdge_MatchesTorchvisionAndHf()
    {
        using var goldens = ImageFixtures.OpenResize("geometry.safetensors");
        var table = goldens.Get("shortest_edge");
        var rows = ImageFixtures.Ints(table);
        for (int i = 0; i < table.Dim(0); i++)
        {
            var (w, h, size) = (rows[i * 5], rows[i * 5 + 1], rows[i * 5 + 2]);
            Assert.True((rows[i * 5 + 3], rows[i * 5 + 4]) == ResizeRules.ShortestEdge(w, h, size), $"{w}×{h} to {size}");
        }
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(4, 0)]
    public void Crops_OfAnEmptySize_Throw(int width, int height)
    {
        var source = ResizeTests.Gradient(6, 6);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => Crop.TorchvisionCenter(source, width, height)).Message);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => Crop.HfCenter(source, width, height)).Message);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => Crop.Region(source, 0, 0, width, height)).Message);
    }

    [Fact]
    public void BadRegionsPaddingsAndSizes_Throw()
    {
        var source = ResizeTests.Gradient(6, 6);
        Assert.Contains("outside the 6×6 image", Assert.Throws<ArgumentException>(() => Crop.Region(source, 3, 0, 4, 2)).Message);
        Assert.Contains("must not be negative", Assert.Throws<ArgumentException>(() => Pad.Constant(source, -1, 0, 0, 0, default)).Message);
        Assert.Contains("must be at least 1", Assert.Throws<ArgumentException>(() => ResizeRules.ShortestEdge(6, 6, 0)).Message);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => ResizeRules.ShortestEdge(0, 6, 3)).Message);
    }
}
