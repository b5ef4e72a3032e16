// `mambavl convert mlmamba` and `mambavl chat` in-process on a tiny random ML-Mamba: the one-shot answer equals the
// interactive chat's, slash commands work and survive bad input, and errors are one line.
namespace MambaVL.Cli.Tests;

[Collection("console input")]  // the interactive chat reads Console.In
public sealed class ChatCommandTests : IClassFixture<ChatCommandTests.ConvertedModel>
{
    private readonly ConvertedModel _m;

    public ChatCommandTests(ConvertedModel m) => _m = m;

    /// <summary>The fixture release converted once through the CLI, plus an image file.</summary>
    public sealed class ConvertedModel : IDisposable
    {
        public TempDir Temp { get; } = new();
        public string Folder { get; }
        public string Image { get; }

        public ConvertedModel()
        {
            static string Fixture(params string[] p) => Path.Combine([AppContext.BaseDirectory, "fixtures", .. p]);
            string tokenizer = Temp.File("tokenizer.json");
            File.WriteAllText(tokenizer, MambaVL.Tests.Shared.ByteLevelTokenizerJson.Create(0, 1));
            Folder = Temp.File("mlmamba");
            Cli.Ok("convert", "mlmamba", "--checkpoint", Fixture("mlmamba", "latest-checkpoint.pt"), "--dino", Fixture("vision", "dino"),
                "--siglip", Fixture("vision", "siglip"), "--tokenizer", tokenizer, "--llm-config", Fixture("mlmamba", "llm_config.json"),
                "--image-size", "70", "--out", Folder);
            Image = Temp.File("picture.ppm");
            var pixels = Enumerable.Range(0, 40 * 30 * 3).Select(i => (byte)(i * 5 % 251)).ToArray();
            File.WriteAllBytes(Image, [.. System.Text.Encoding.ASCII.GetBytes("P6\n40 30\n255\n"), .. pixels]);
        }

        public void Dispose() => Temp.Dispose();
    }

    private CliRun Interactive(string input, params string[] extra)
    {
        var previous = Console.In;
        Console.SetIn(new StringReader(input));
        try { return Cli.Ok(["chat", "-m", _m.Folder, "-n", "8", "-t", "1", .. extra]); }
        finally { Console.SetIn(previous); }
    }

    [Fact]
    public void The_one_shot_answer_is_the_interactive_chats_first_answer()
    {
        var once = Cli.Ok("chat", "-m", _m.Folder, "--image", _m.Image, "-n", "8", "-t", "1", "What is it?");
        string answer = once.Out.TrimEnd('\n');
        Assert.Contains("prefill", once.Err);  // timings on stderr
        var chat = Interactive("What is it?\n/quit\n", "--image", _m.Image);
        Assert.Equal(answer, chat.Out.Split('\n')[0]);
    }

    [Fact]
    public void Slash_commands_image_save_load_reset_and_bad_input()
    {
        string saved = _m.Temp.File("chat.bin");
        var run = Interactive($"/image {_m.Image}\nWhat is it?\n/save {saved}\nMore?\n/load {saved}\nMore?\n/image /no/such.png\n/frobnicate\n/reset\n/quit\n");
        var answers = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(File.Exists(saved));
        Assert.Contains("saved 1 turns", run.Err);
        Assert.Contains("loaded 1 turns", run.Err);
        Assert.Equal(answers[^2], answers[^1]);  // "More?" after /load repeats "More?" after /save
        Assert.Contains("error: ", run.Err);       // the missing image, reported without ending the chat
        Assert.Contains("/no/such.png", run.Err);
        Assert.Contains("unknown command '/frobnicate'", run.Err);
        Assert.Contains("conversation reset", run.Err);
    }

    [Fact]
    public void A_folder_that_is_not_ml_mamba_is_a_one_line_error()
    {
        var run = Cli.Run("chat", "-m", _m.Temp.Sub("empty"), "hi");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Single(run.ErrorLines);
    }

    [Fact]
    public void Converting_onto_an_existing_folder_is_refused()
    {
        var run = Cli.Run("convert", "mlmamba", "--checkpoint", "x.pt", "--dino", "d", "--siglip", "s", "--tokenizer", "t.json", "--out", _m.Folder);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Single(run.ErrorLines);
        Assert.Contains("already exists", run.ErrorLines[0]);
        Assert.True(File.Exists(Path.Combine(_m.Folder, "config.json")));  // the existing model is untouched
    }
}

/// <summary>`mambavl chat` and `inspect` on HoVLE / mmMamba folders as released (tests/fixtures/hovle, tiny random).</summary>
public sealed class HoVleChatCommandTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Fixture(string variant) => Path.Combine(AppContext.BaseDirectory, "fixtures", "hovle", variant);

    private string Image()
    {
        string path = _temp.File("picture.ppm");
        var pixels = Enumerable.Range(0, 40 * 30 * 3).Select(i => (byte)(i * 5 % 251)).ToArray();
        File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes("P6\n40 30\n255\n"), .. pixels]);
        return path;
    }

    [Theory]
    [InlineData("teacher", "0 B", "1.75 KiB")]     // 7 attention layers × (K, V) × 2 kv heads × 16 × 4 B per token
    [InlineData("linear", "31.50 KiB", "0 B")]     // 7 Mamba layers × (conv 128 + SSM 4 × 16 × 16) × 4 B
    [InlineData("hybrid", "22.50 KiB", "512 B")]   // 5 Mamba layers; 2 attention layers
    public void Chat_answers_and_reports_the_state_memory(string variant, string fixedPart, string perToken)
    {
        var run = Cli.Ok("chat", "-m", Fixture(variant), "--image", Image(), "--max-tiles", "2", "-n", "4", "-t", "1", "What is it?");
        Assert.Contains("prefill", run.Err);
        var memory = run.Err.Split('\n').Single(l => l.StartsWith("context ", StringComparison.Ordinal));
        Assert.EndsWith($"(fixed {fixedPart} + {perToken}/token)", memory.TrimEnd('\r'));
    }

    [Fact]
    public void A_bf16_cache_halves_the_teachers_memory_per_token()
    {
        var run = Cli.Ok("chat", "-m", Fixture("teacher"), "--image", Image(), "--max-tiles", "1", "--cache-type", "bf16", "-n", "2", "-t", "1", "Hi");
        Assert.EndsWith("(fixed 0 B + 896 B/token)", run.Err.Split('\n').Single(l => l.StartsWith("context ", StringComparison.Ordinal)).TrimEnd('\r'));
        Assert.Contains("--cache-type", Assert.Single(Cli.Run("chat", "-m", Fixture("teacher"), "--cache-type", "f8", "hi").ErrorLines));
    }

    [Fact]
    public void Inspect_names_the_model_and_its_sentencepiece_tokenizer()
    {
        var run = Cli.Ok("inspect", Fixture("hybrid"));
        Assert.Contains("mmMamba-hybrid: embedding module 1 attention + 2 Mamba-2 layers, LLM 1 attention + 3 Mamba-2 layers", run.Out);
        Assert.Contains("tokenizer.model (SentencePiece), 1203 tokens", run.Out);
    }

    [Fact]
    public void Generate_runs_a_student_as_a_text_model_with_its_sentencepiece_tokenizer()
    {
        var run = Cli.Ok("generate", "-m", Fixture("linear"), "-p", "Hello", "-n", "3", "--temperature", "0", "--print-ids", "-t", "1");
        Assert.Contains("prefill", run.Err);
        Assert.InRange(run.OutLines.Length, 1, 5);
    }

    [Fact, Trait("Category", "GPU")]
    public void Chat_on_cuda_answers_as_on_the_cpu_or_says_why_there_is_no_gpu()
    {
        string image = Image();
        string[] Args(string device) => ["chat", "-m", Fixture("hybrid"), "--image", image, "--max-tiles", "2", "-n", "6", "-t", "1", "--device", device, "What is it?"];
        var cpu = Cli.Ok(Args("cpu"));
        using var gpu = MambaVL.Cuda.CudaDevice.TryOpen(out _);
        var cuda = Cli.Run(Args("cuda"));
        if (gpu is null) Assert.Contains("CUDA is not available", Assert.Single(cuda.ErrorLines));
        else Assert.Equal(cpu.Out, cuda.Out);
    }

    [Fact]
    public void A_bad_max_tiles_is_a_one_line_error()
    {
        var run = Cli.Run("chat", "-m", Fixture("linear"), "--max-tiles", "0", "hi");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--max-tiles", Assert.Single(run.ErrorLines));
    }
}
