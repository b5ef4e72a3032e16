// HoVLE / mmMamba config.json reading: the released fields (string or list architectures, layers_block_type, special
// token maps, force_image_size), and the forms we do not run refused with the file named. Plus batched decode steps.
using System.Text.Json.Nodes;
using MambaVL.Core.Config;
using MambaVL.Core.Weights;
using MambaVL.Models.HoVle;
using MambaVL.Models.InternLm2;

namespace MambaVL.Models.Tests;

public sealed class HoVleConfigTests
{
    private static JsonObject Json(string variant) => JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(HoVleFixtures.Folder(variant), "config.json")))!.AsObject();

    private static HoVleConfig Read(JsonObject json) => HoVleConfig.FromJson(ConfigJson.Parse(json.ToJsonString(), "config.json"));

    [Fact]
    public void The_released_fields_are_read()
    {
        var cfg = Read(Json("hybrid"));
        Assert.True(cfg.IsStudent);
        Assert.Equal((84, 56, 14, 9), (cfg.TileSize, cfg.StoredImageSize, cfg.PatchSize, cfg.TokensPerTile));
        Assert.Equal((1200, 3, 1202), (cfg.TextVocab, cfg.SpecialTokens, cfg.ImageContextId));
        Assert.Equal([LayerKind.Attention, LayerKind.Mamba2, LayerKind.Mamba2], cfg.Embedding.LayerKinds);
        Assert.Equal([LayerKind.Mamba2, LayerKind.Attention, LayerKind.Mamba2, LayerKind.Mamba2], cfg.Llm.LayerKinds);
        Assert.Equal(1e6, cfg.Llm.RopeTheta);
        Assert.Equal("internlm2-chat", cfg.Template);
        Assert.False(Read(Json("teacher")).IsStudent);
    }

    [Theory]
    [InlineData("model_type", "llava", "neither internvl_chat")]
    [InlineData("downsample_ratio", 0.25, "downsample_ratio is 0.25")]
    [InlineData("embedding_config.pixel_shuffle_loc", "post", "pixel_shuffle_loc is post")]
    [InlineData("embedding_config.img_context_token_id", 5000, "img_context_token_id 5000")]
    [InlineData("embedding_config.hidden_size", 32, "width 32 is not the LLM's 64")]
    [InlineData("llm_config.architectures", "LlamaForCausalLM", "'LlamaForCausalLM' is not InternLM2")]
    [InlineData("force_image_size", 70, "do not fit the 0.5 pixel shuffle")]
    public void Unsupported_forms_are_refused_by_name(string field, object value, string message)
    {
        var json = Json("linear");
        var (parent, name) = field.Contains('.') ? (json[field.Split('.')[0]]!.AsObject(), field.Split('.')[1]) : (json, field);
        parent[name] = JsonValue.Create(value);
        var e = Assert.ThrowsAny<Exception>(() => Read(json));
        Assert.Contains("config.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_batch_of_sequences_steps_each_as_alone()
    {
        var model = HoVleFixtures.Load("hybrid");
        var batch = model.CreateState(2);
        var (a, b) = (model.CreateState(), model.CreateState());
        foreach (var (x, y) in new[] { (7, 300), (1100, 42), (1200, 9) })
        {
            var both = model.Backend.ToHost(model.Step([x, y], batch));
            var alone = model.Backend.ToHost(model.Step([x], a)).Concat(model.Backend.ToHost(model.Step([y], b))).ToArray();
            Fixtures.AssertClose(both, alone, $"step ({x}, {y})", 1e-6);
        }
        Assert.Equal(3, batch.Position);
        Assert.Throws<ArgumentException>(() => model.Prefill([1, 2], batch));
    }
}
