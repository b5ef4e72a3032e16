// The ViT towers against timm and HF transformers (tests/fixtures/vision, made by tools/reference/vision/ on the GPU
// machine): tiny random DINOv2-reg4 (position grid resampled 7×7 → 5×5 at load), SigLIP and CLIP towers, every block's
// features, the final norm, and ML-Mamba's fused DINO+SigLIP featurizer; fp32 relative error ≤ 1e-4.
using MambaVL.Core.Config;
using MambaVL.Core.Ops;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.IO;
using MambaVL.IO.Safetensors;
using MambaVL.Models.Vision;

namespace MambaVL.Models.Tests;

public sealed class VisionParityTests
{
    private const int ImageSize = 70;
    private static string Dir(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "fixtures", "vision", .. parts]);

    private static float[] Golden(string name)
    {
        using var f = new SafetensorsFile(Dir("goldens.safetensors"));
        return f.Get(name).ToFloatArray();
    }

    private static Tensor Pixels() => Tensor.FromArray(Golden("pixels"), 3, ImageSize, ImageSize);

    private static VisionTransformer Tower(string name, IBackend backend, DType? storage = null) =>
        VisionFixtures.Tower(name, backend, storage);

    public static TheoryData<string, string, int> TimmBlocks()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var backend in Fixtures.Backends)
        {
            for (int i = 0; i < 4; i++) data.Add(backend, "dino", i);
            for (int i = 0; i < 3; i++) data.Add(backend, "siglip", i);
        }
        return data;
    }

    [Theory, MemberData(nameof(TimmBlocks))]
    public void Timm_block_features_match(string backend, string tower, int block)
    {
        var vit = Tower(tower, Fixtures.Backend(backend));
        var features = vit.BlockFeatures(Pixels(), block);
        Assert.Equal(new[] { 25, vit.Config.EmbedDim }, features.ShapeArray);
        Fixtures.AssertClose(features.ToFloatArray(), Golden($"{tower}.block{block}"), $"{tower} block {block} on {backend}");
    }

    [Theory]
    [InlineData("dino")]
    [InlineData("siglip")]
    public void Timm_final_features_match(string tower)
    {
        var vit = Tower(tower, Fixtures.Backend("cpu"));
        Fixtures.AssertClose(vit.FinalFeatures(Pixels()).ToFloatArray(), Golden($"{tower}.final"), $"{tower} forward_features");
    }

    [Fact]
    public void Dino_config_comes_from_the_architecture_name_and_the_weights()
    {
        var vit = Tower("dino", Fixtures.Backend("reference"));
        var c = vit.Config;
        Assert.Equal((48, 4, 3, 14, 192), (c.EmbedDim, c.Depth, c.Heads, c.PatchSize, c.MlpHidden));
        Assert.Equal((true, 4, true, true), (c.ClassToken, c.RegTokens, c.NoEmbedClass, c.LayerScale));
        Assert.Equal(98, c.StoredImageSize);
        Assert.Equal(5, vit.Grid);
        var siglip = Tower("siglip", Fixtures.Backend("reference")).Config;
        Assert.Equal((false, 0, false, 149), (siglip.ClassToken, siglip.RegTokens, siglip.LayerScale, siglip.MlpHidden));
    }

    [Fact]
    public void Fused_featurizer_puts_dino_channels_first()
    {
        var backend = Fixtures.Backend("cpu");
        var featurizer = new DinoSigLipFeaturizer(Tower("dino", backend), Tower("siglip", backend), backend);
        Assert.Equal((2, 1), (featurizer.DinoBlock, featurizer.SigLipBlock));
        var features = featurizer.Features(Pixels(), Pixels());
        Assert.Equal(new[] { 25, 88 }, features.ShapeArray);
        Fixtures.AssertClose(features.ToFloatArray(), Golden("fused"), "fused DINO+SigLIP features");
    }

    [Fact]
    public void Clip_hidden_states_match_transformers()
    {
        var vit = Tower("clip", Fixtures.Backend("cpu"));
        var states = vit.HiddenStates(Pixels());
        Assert.Equal(4, states.Count);
        for (int i = 0; i < states.Count; i++)
        {
            Assert.Equal(new[] { 26, 32 }, states[i].ShapeArray);
            Fixtures.AssertClose(states[i].ToFloatArray(), Golden($"clip.hidden{i}"), $"CLIP hidden_states[{i}]");
        }
        // LLaVA's tap: hidden_states[-2] without CLS = block Depth-2 with the prefix dropped
        Fixtures.AssertClose(vit.BlockFeatures(Pixels(), -2).ToFloatArray(), Golden("clip.hidden2").AsSpan(32).ToArray(), "CLIP block -2");
    }

    [Fact]
    public void Clip_inside_a_full_CLIPModel_checkpoint_loads_from_vision_config()
    {
        // openai/clip-vit-large-patch14-336 is a CLIPModel: tensors under "vision_model.", shapes under "vision_config"
        var folder = ModelFolder.Open(Dir("clip"));
        using var flat = folder.OpenWeights();
        var prefixed = flat.Names.ToDictionary(n => "vision_model." + n, flat.Get);
        prefixed["text_model.embeddings.token_embedding.weight"] = Tensor.Zeros(DType.F32, 3, 4);  // other towers are ignored
        var vision = File.ReadAllText(System.IO.Path.Combine(folder.Directory, "config.json"));
        var config = ConfigJson.Parse($"{{\"model_type\": \"clip\", \"vision_config\": {vision}}}", "CLIPModel config");
        var vit = VisionTransformer.Load(config, new DictionaryWeightSource(prefixed), Fixtures.Backend("cpu"));
        Assert.Equal(ImageSize, vit.ImageSize);
        Fixtures.AssertClose(vit.HiddenStates(Pixels())[3].ToFloatArray(), Golden("clip.hidden3"), "CLIPModel layout, last hidden state");
    }

    [Fact]
    public void Bf16_weights_stay_close_to_the_f32_tower()
    {
        var backend = Fixtures.Backend("cpu");
        var f32 = Tower("dino", backend).BlockFeatures(Pixels(), 2).ToFloatArray();
        var bf16 = Tower("dino", backend, DType.BF16).BlockFeatures(Pixels(), 2).ToFloatArray();
        double err = Fixtures.RelErr(bf16, f32);
        Assert.True(err < 3e-2 && err > 0, $"BF16 weights moved the features by {err:E2} (expected a small, non-zero change)");
    }

    [Fact]
    public void Wrong_image_size_and_block_give_clear_errors()
    {
        var vit = Tower("siglip", Fixtures.Backend("reference"));
        var e = Assert.Throws<ArgumentException>(() => vit.BlockFeatures(Tensor.Zeros(DType.F32, 3, 64, 64), 0));
        Assert.Contains("(3, 70, 70)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => vit.BlockFeatures(Pixels(), 3));
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var folder = ModelFolder.Open(Dir("dino"));
        using var all = folder.OpenWeights();
        var weights = all.Names.Where(n => n != "blocks.1.attn.proj.weight").ToDictionary(n => n, all.Get);
        var e = Assert.Throws<ModelLoadException>(() =>
            VisionTransformer.Load(ConfigJson.Load(folder.ConfigPath!), new DictionaryWeightSource(weights), Fixtures.Backend("reference"), ImageSize));
        Assert.Contains("blocks.1.attn.proj.weight", e.Message);
    }

    public static TheoryData<string> ResampleCases => ["7x7>5x5", "37x37>27x27", "5x5>9x9", "6x4>3x7", "2x2>1x1", "3x3>16x16"];

    [Theory, MemberData(nameof(ResampleCases))]
    public void Position_grid_resampling_matches_torch_antialiased_bicubic(string name)
    {
        using var f = new SafetensorsFile(Dir("pos_resample.safetensors"));
        var input = f.Get("in." + name);
        var expected = f.Get("out." + name);
        var actual = PositionEmbedding.ResampleBicubicAntialiased(input.ToFloatArray(), input.Dim(0), input.Dim(1), input.Dim(2), expected.Dim(0), expected.Dim(1));
        Fixtures.AssertClose(actual, expected.ToFloatArray(), $"resample {name}");
    }

    [Fact]
    public void The_dino_position_embedding_is_resampled_as_timm_does()
    {
        // timm's loaded pos_embed (1, 25, 48) against ours from the stored 7×7 grid
        using var w = new SafetensorsFile(Dir("dino", "model.safetensors"));
        var stored = w.Get("pos_embed").ToFloatArray();
        var ours = PositionEmbedding.ResampleBicubicAntialiased(stored, 7, 7, 48, 5, 5);
        Fixtures.AssertClose(ours, Golden("dino.pos_embed"), "dino pos_embed 7x7 → 5x5");
    }
}

/// <summary>Generated towers (the benchmark's) load through the timm config path and agree across backends.</summary>
public sealed class VitRandomTests
{
    [Fact]
    public void A_generated_tower_with_odd_sizes_runs_the_same_on_cpu_and_reference()
    {
        var cfg = VitRandom.Dinov2LargeReg4() with { EmbedDim = 36, Depth = 2, Heads = 3, MlpHidden = 50, StoredImageSize = 56, RegTokens = 2 };
        var weights = new DictionaryWeightSource(VitRandom.CreateWeights(cfg, 5));
        var pixels = Tensor.FromArray(Enumerable.Range(0, 3 * 45 * 45).Select(i => (float)Math.Cos(i * 0.37)).ToArray(), 3, 45, 45);
        float[] Run(IBackend backend)
        {
            var vit = VisionTransformer.Load(VitRandom.ConfigFor(cfg), weights, backend, imageSize: 45);  // 4×4 grid → 3×3
            Assert.Equal((cfg with { Name = vit.Config.Name }), vit.Config with { Name = vit.Config.Name });
            return vit.BlockFeatures(pixels, -1).ToFloatArray();
        }
        var reference = Run(Fixtures.Backend("reference"));
        Assert.Equal(9 * 36, reference.Length);
        Fixtures.AssertClose(Run(Fixtures.Backend("cpu")), reference, "generated tower, CPU vs reference");
    }
}
