// HoVLE's image path against the authors' own VisionEmbeddings, pixel_shuffle and pixel_shuffle_proj
// (tests/fixtures/hovle/vision.safetensors, made by tools/reference/hovle/make_vision_goldens.py): two 84-px tiles, the
// stored 4×4 position grid interpolated to 6×6 by torch's plain bicubic, 0.5 pixel shuffle, the projection.
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO.Safetensors;
using MambaVL.Models.HoVle;

namespace MambaVL.Models.Tests;

public sealed class HolisticImageEncoderTests
{
    public static TheoryData<string> Backends => new(Fixtures.Backends);

    [Theory, MemberData(nameof(Backends))]
    public void Image_features_match_hovles_vision_path(string backend)
    {
        using var f = new SafetensorsFile(System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "hovle", "vision.safetensors"));
        var encoder = new HolisticImageEncoder(new WeightScope(f).Push("embedding_model"), Fixtures.Backend(backend), hidden: 32, patch: 14, storedImageSize: 56, tileSize: 84);
        Assert.Equal(9, encoder.TokensPerTile);
        var features = encoder.Encode(Tensor.FromArray(f.Get("pixels").ToFloatArray(), 2, 3, 84, 84));
        Assert.Equal(new[] { 18, 32 }, features.ShapeArray);
        Fixtures.AssertClose(features.ToFloatArray(), f.Get("features").ToFloatArray(), $"HoVLE image features on {backend}");
    }

    [Fact]
    public void An_odd_patch_grid_is_refused()
    {
        using var f = new SafetensorsFile(System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "hovle", "vision.safetensors"));
        var e = Assert.Throws<ArgumentException>(() => new HolisticImageEncoder(new WeightScope(f).Push("embedding_model"), Fixtures.Backend("cpu"), 32, 14, 56, 70));
        Assert.Contains("odd", e.Message);
    }
}
