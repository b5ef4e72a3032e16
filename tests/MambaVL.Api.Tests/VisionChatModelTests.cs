// The library path a .NET user takes: convert the authors' release (here a tiny random one) into a model folder, load it
// once, chat about an image file. Conversion is checked tensor by tensor and for leaving nothing behind when it fails.
using MambaVL.Core.Tensors;
using MambaVL.IO;
using MambaVL.IO.Safetensors;

namespace MambaVL.Api.Tests;

public sealed class VisionChatModelTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("mambavl-api-").FullName;

    public void Dispose() { try { Directory.Delete(_temp, recursive: true); } catch (IOException) { } }

    private static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    private MlMambaConversion Job(string name, DType storage = DType.F32)
    {
        string tokenizer = Path.Combine(_temp, "tokenizer.json");
        if (!File.Exists(tokenizer)) File.WriteAllText(tokenizer, MambaVL.Tests.Shared.ByteLevelTokenizerJson.Create(0, 1));
        return new MlMambaConversion(Fixture("mlmamba", "latest-checkpoint.pt"), Fixture("vision", "dino"), Fixture("vision", "siglip"),
            tokenizer, Path.Combine(_temp, name))
        { LlmConfig = Fixture("mlmamba", "llm_config.json"), ImageSize = 70, Storage = storage };
    }

    /// <summary>A 50×31 binary PPM with a gradient.</summary>
    private string Image()
    {
        string path = Path.Combine(_temp, "picture.ppm");
        var pixels = new byte[50 * 31 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 7 % 253);
        File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes("P6\n50 31\n255\n"), .. pixels]);
        return path;
    }

    private static VisionChatOptions Options => new()
    {
        Threads = 2,
        Generation = new Generation.GenerationOptions { Sampling = Generation.Sampling.SamplingOptions.Greedy, MaxTokens = 10, SampleVocabLimit = 97 },
    };

    [Fact]
    public void Conversion_keeps_every_tensor_and_drops_the_tied_head_copy()
    {
        var job = Job("model");
        var stages = new List<(string, long, long)>();
        MlMambaConverter.Convert(job, (s, done, total) => stages.Add((s, done, total)));
        Assert.True(MlMambaFolder.Is(job.Output));
        Assert.True(stages.Count > 10 && stages[^1].Item2 == stages[^1].Item3, "progress reaches the total");
        using var source = ShardedCheckpoint.OpenFile(job.Checkpoint, root: "model");
        using var written = new SafetensorsFile(Path.Combine(job.Output, "model.safetensors"));
        Assert.Equal(source.Names.Where(n => n != "llm_backbone.lm_head.weight").Order(), written.Names.Order());
        foreach (var name in written.Names) Assert.Equal(source.Get(name).ToFloatArray(), written.Get(name).ToFloatArray());
        foreach (var f in new[] { "config.json", "tokenizer.json", "dino/config.json", "dino/model.safetensors", "siglip/model.safetensors" })
            Assert.True(File.Exists(Path.Combine(job.Output, f)), f);
    }

    [Fact]
    public async Task One_shot_chat_and_a_conversation_give_the_same_answer()
    {
        var job = Job("model");
        MlMambaConverter.Convert(job);
        using var vlm = VisionChatModel.Load(job.Output, Options);
        var oneShot = new System.Text.StringBuilder();
        await foreach (var piece in vlm.ChatAsync(Image(), "What is it?")) oneShot.Append(piece);
        var chat = vlm.NewConversation(Image());
        string answer = chat.Ask("What is it?");
        Assert.Equal(oneShot.ToString(), answer);
        Assert.NotEmpty(chat.LastResult!.Ids);
        Assert.NotEmpty(chat.Ask("And then?"));  // a second turn on the carried state
    }

    [Fact]
    public void Bf16_conversion_halves_the_matrices_and_still_loads()
    {
        var job = Job("bf16", DType.BF16);
        MlMambaConverter.Convert(job);
        using (var written = new SafetensorsFile(Path.Combine(job.Output, "model.safetensors")))
        {
            Assert.Equal(DType.BF16, written.Info("llm_backbone.backbone.embedding.weight").DType);
            Assert.Equal(DType.F32, written.Info("bidirectional_mamba.layers.0.mixer.A_log").DType);
            Assert.Equal(DType.F32, written.Info("llm_backbone.backbone.layers.0.mixer.conv1d.weight").DType);
        }
        using var vlm = VisionChatModel.Load(job.Output, Options);
        Assert.NotEmpty(vlm.NewConversation(Image()).Ask("What is it?"));
    }

    [Fact]
    public void Large_outputs_are_sharded_with_an_index_and_load_the_same()
    {
        var whole = Job("whole");
        MlMambaConverter.Convert(whole);
        var sharded = Job("sharded") with { ShardBytes = 64 << 10 };
        MlMambaConverter.Convert(sharded);
        Assert.True(File.Exists(Path.Combine(sharded.Output, "model.safetensors.index.json")));
        Assert.True(Directory.GetFiles(sharded.Output, "model-*-of-*.safetensors").Length > 3);
        string Answer(string dir) { using var vlm = VisionChatModel.Load(dir, Options); return vlm.NewConversation(Image()).Ask("What is it?"); }
        Assert.Equal(Answer(whole.Output), Answer(sharded.Output));
    }

    [Fact]
    public void A_failed_conversion_leaves_no_folder_behind()
    {
        var job = Job("broken") with { SigLipFolder = Path.Combine(_temp, "no-such-tower") };
        Assert.Throws<DirectoryNotFoundException>(() => MlMambaConverter.Convert(job));
        var bad = Job("broken2") with { Checkpoint = Fixture("vision", "dino", "model.safetensors") };
        Assert.ThrowsAny<Exception>(() => MlMambaConverter.Convert(bad));
        Assert.Empty(Directory.GetDirectories(_temp));
    }

    [Fact]
    public void An_existing_output_is_never_overwritten()
    {
        var job = Job("model");
        Directory.CreateDirectory(job.Output);
        File.WriteAllText(Path.Combine(job.Output, "keep.txt"), "mine");
        var e = Assert.Throws<IOException>(() => MlMambaConverter.Convert(job));
        Assert.Contains("already exists", e.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(job.Output, "keep.txt")));
    }
}
