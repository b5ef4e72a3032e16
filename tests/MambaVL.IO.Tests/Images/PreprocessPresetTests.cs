// The presets' full outputs against Python re-implementations of the reference pipelines (ML-Mamba, HF SigLIP/CLIP,
// InternVL), the InternVL grid rule against the reference's choices, and lookup/argument errors.
using MambaVL.Core.Tensors;
using MambaVL.IO.Images.Processing;
using Xunit.Abstractions;

namespace MambaVL.IO.Tests.Images;

public sealed class PreprocessPresetTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    public static TheoryData<string> PresetNames => new() { "dinosiglip-384", "dinosiglip-384-letterbox", "siglip-384", "clip-336", "internvl-448" };

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Preset_MatchesTheReferencePipeline(string presetName)
    {
        using var goldens = ImageFixtures.OpenResize("presets.safetensors");
        using var sources = ImageFixtures.OpenResize("sources.safetensors");
        var cases = ImageFixtures.Cases(goldens).Where(c => c.Text("preset") == presetName).ToArray();
        Assert.NotEmpty(cases);
        var outputs = new Dictionary<string, IReadOnlyDictionary<string, Tensor>>();
        foreach (var c in cases)
        {
            int maxTiles = c.Has("max_tiles") ? c.Int("max_tiles") : 12;
            var preset = presetName == "internvl-448" ? ImagePreset.InternVl448(maxTiles) : ImagePreset.Get(presetName);
            string run = $"{c.Text("source")}/{maxTiles}";
            if (!outputs.TryGetValue(run, out var result))
                outputs[run] = result = preset.Apply(ImageFixtures.Image(sources.Get(c.Text("source"))));
            Assert.Equal(preset.OutputNames.Order(), result.Keys.Order());
            var comparison = ImageFixtures.Compare(c, goldens.Get(c.Name), result[c.Text("output")]);
            output.WriteLine($"{c.Name} {Tensor.ShapeString(c.Shape)}: {comparison}");
            Assert.True(comparison.MaxAbsDiff <= Tolerance, $"{c.Name}: {comparison}");
            Assert.True(comparison.SameHash, $"{c.Name}: within {Tolerance} on the sampled rows but not bit-exact: {comparison}");
        }
    }

    [Fact]
    public void InternVlGrid_MatchesTheReferenceChoices()
    {
        using var goldens = ImageFixtures.OpenResize("internvl_grids.safetensors");
        var table = goldens.Get("grids");
        var rows = ImageFixtures.Ints(table);
        Assert.True(table.Dim(0) > 1000, $"only {table.Dim(0)} grid cases");
        for (int i = 0; i < table.Dim(0); i++)
        {
            var r = rows.AsSpan(i * 5, 5);
            var grid = InternVlTiling.ChooseGrid(r[0], r[1], 1, r[2]);
            Assert.True(grid == (r[3], r[4]), $"{r[0]}×{r[1]}, max {r[2]}: chose {grid}, reference ({r[3]}, {r[4]})");
        }
    }

    [Fact]
    public void InternVlTiles_CountTilesAndThumbnail()
    {
        var square = ResizeTests.Gradient(1000, 1000);  // ratio 1 ties (1,1), (2,2), (3,3); the area rule picks 3×3
        Assert.Equal((3, 3), InternVlTiling.ChooseGrid(1000, 1000));
        Assert.Equal(10, InternVlTiling.Tiles(square).Count);
        Assert.Equal(9, InternVlTiling.Tiles(square, thumbnail: false).Count);
        Assert.Single(InternVlTiling.Tiles(ResizeTests.Gradient(20, 20)));  // one tile: no thumbnail
        Assert.Equal([5, 3, 448, 448], ImagePreset.InternVl448(maxTiles: 4).Apply(ResizeTests.Gradient(200, 50))["pixels"].ShapeArray);
    }

    [Fact]
    public void Registry_ListsAndFindsPresets()
    {
        Assert.Equal(["dinosiglip-384", "dinosiglip-384-letterbox", "siglip-384", "clip-336", "internvl-448"], ImagePreset.Names);
        Assert.Same(ImagePreset.Clip336, ImagePreset.Get("CLIP-336"));
        Assert.All(ImagePreset.All, p => Assert.False(string.IsNullOrWhiteSpace(p.Description)));
        Assert.False(ImagePreset.TryGet("clip-224", out _));
    }

    [Fact]
    public void UnknownPreset_ThrowsWithTheKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => ImagePreset.Get("clip-224"));
        Assert.Contains("unknown image preset 'clip-224'", e.Message);
        Assert.Contains("dinosiglip-384, dinosiglip-384-letterbox, siglip-384, clip-336, internvl-448", e.Message);
    }

    [Fact]
    public void BadTilingArguments_Throw()
    {
        Assert.Contains("at least 1 tile", Assert.Throws<ArgumentException>(() => ImagePreset.InternVl448(maxTiles: 0)).Message);
        Assert.Contains("1 ≤ min ≤ max", Assert.Throws<ArgumentException>(() => InternVlTiling.ChooseGrid(10, 10, 3, 2)).Message);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => InternVlTiling.ChooseGrid(0, 10)).Message);
        Assert.Contains("tile size 0", Assert.Throws<ArgumentException>(() => InternVlTiling.ChooseGrid(10, 10, tileSize: 0)).Message);
    }
}
