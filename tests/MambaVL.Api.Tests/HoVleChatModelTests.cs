// HoVLE / mmMamba folders through the library API exactly as released (config.json with embedding_config / llm_config,
// sharded or bf16 safetensors, tokenizer.model + added_tokens.json): an image file is tiled by the model's InternVL
// preset, its tiles fill the prompt's <IMG_CONTEXT> slots, and the answer streams.
using MambaVL.Core.Models;
using MambaVL.Core.Weights;
using MambaVL.Models.HoVle;

namespace MambaVL.Api.Tests;

public sealed class HoVleChatModelTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("mambavl-hovle-").FullName;

    public void Dispose() { try { Directory.Delete(_temp, recursive: true); } catch (IOException) { } }

    private static string Fixture(string variant) => Path.Combine(AppContext.BaseDirectory, "fixtures", "hovle", variant);

    /// <summary>A 60×20 binary PPM (wide: InternVL tiling picks a 3×1 grid, then the thumbnail).</summary>
    private string Image()
    {
        string path = Path.Combine(_temp, "wide.ppm");
        var pixels = new byte[60 * 20 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 11 % 241);
        File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes("P6\n60 20\n255\n"), .. pixels]);
        return path;
    }

    private static VisionChatOptions Options(int? maxTiles = null) => new()
    {
        Threads = 2, MaxTiles = maxTiles,
        Generation = new Generation.GenerationOptions { Sampling = Generation.Sampling.SamplingOptions.Greedy, MaxTokens = 6 },
    };

    [Theory]
    [InlineData("teacher", null, 4)]   // 3 tiles + thumbnail
    [InlineData("linear", 1, 1)]       // one tile, no thumbnail
    [InlineData("hybrid", 2, 3)]       // 2×1 + thumbnail
    public void An_image_file_fills_the_prompts_image_slots_and_the_answer_streams(string variant, int? maxTiles, int tiles)
    {
        using var vlm = VisionChatModel.Load(Fixture(variant), Options(maxTiles));
        Assert.IsType<HoVleModel>(vlm.Model);
        Assert.Equal("internvl-84", vlm.Preset.Name);
        var chat = vlm.NewConversation(Image());
        var pieces = chat.AskAsync("What is it?").ToBlockingEnumerable().ToList();
        var result = chat.LastResult!;
        Assert.Equal(tiles * 9, result.PromptIds.Count(id => id == 1202));
        Assert.Equal(1, result.PromptIds[0]);  // BOS
        Assert.Equal(string.Concat(pieces), result.Text);
        Assert.InRange(result.Ids.Length, 1, 6);
    }

    [Fact]
    public void A_tokenizer_that_does_not_know_the_image_tokens_is_refused_by_name()
    {
        string folder = Path.Combine(_temp, "broken");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Fixture("linear"))) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(folder, "added_tokens.json"), """{"<img>": 1200, "</img>": 1201}""");
        File.Delete(Path.Combine(folder, "special_tokens_map.json"));  // it lists <IMG_CONTEXT> too
        var e = Assert.Throws<ModelLoadException>(() => VisionChatModel.Load(folder, Options()));
        Assert.Contains("<IMG_CONTEXT>", e.Message);
        Assert.Contains(folder, e.Message);
    }

    [Fact]
    public void A_folder_of_another_kind_is_refused_with_what_was_expected()
    {
        string folder = Path.Combine(_temp, "other");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(Fixture("linear"), "tokenizer.model"), Path.Combine(folder, "tokenizer.model"));
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type": "llava"}""");
        var e = Assert.Throws<ModelLoadException>(() => VisionChatModel.Load(folder, Options()));
        Assert.Contains("internvl_chat or mmMamba_chat", e.Message);
    }

    [Fact]
    public void The_model_reports_its_memory_per_token_of_context()
    {
        using var vlm = VisionChatModel.Load(Fixture("hybrid"), Options());
        var memory = Assert.IsAssignableFrom<IContextMemory>(vlm.Language);
        Assert.Equal(2 * 2L * 2 * 16 * 4, memory.StateBytesPerToken);  // 2 kept attention layers
    }
}
