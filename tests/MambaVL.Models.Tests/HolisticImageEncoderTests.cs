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

    [Fact]
    public void A_two_by_two_patch_grid_whose_shuffle_views_are_already_contiguous_encodes_on_every_backend()
    {
        // 28-px tiles of 14-px patches: the pixel shuffle's permutes return their inputs; nothing in use may be released
        var cfg = HoVleRandom.Tiny(HoVleVariant.Hybrid);
        var weights = new DictionaryWeightSource(HoVleRandom.CreateWeights(cfg, 5));
        var tiles = Tensor.FromArray(Enumerable.Range(0, 2 * 3 * 28 * 28).Select(i => MathF.Sin(i * 0.37f)).ToArray(), 2, 3, 28, 28);
        float[] Encode(string backend) => new HoVleModel(cfg, weights, Fixtures.Backend(backend)).EmbeddingModule.Images.Encode(tiles).ToFloatArray();
        Fixtures.AssertClose(Encode("cpu"), Encode("reference"), "2x2-grid features, CPU vs reference");
    }
}
