// The library entry point: load an ML-Mamba folder once, then chat about images with streamed answers.
//   using var vlm = VisionChatModel.Load(dir);
//   await foreach (var piece in vlm.ChatAsync("cat.jpg", "What is in the picture?")) Console.Write(piece);
// A Conversation (NewConversation) owns its SSM state across turns; a model serves any number of conversations in turn.
using MambaVL.Core.Tensors;
using MambaVL.Cpu;
using MambaVL.Generation;
using MambaVL.Generation.Chat;
using MambaVL.Generation.Sampling;
using MambaVL.IO.Images;
using MambaVL.IO.Images.Processing;
using MambaVL.IO.Tokenizers;
using MambaVL.Models.MlMamba;

namespace MambaVL;

public sealed record VisionChatOptions
{
    /// <summary>CPU threads (0 = all cores).</summary>
    public int Threads { get; init; }
    /// <summary>Convert the matrices at load (e.g. BF16 halves memory traffic); null keeps the folder's format.</summary>
    public DType? Storage { get; init; }
    /// <summary>Sampling and length of every answer; greedy by default, as the authors evaluate.</summary>
    public GenerationOptions Generation { get; init; } = new() { Sampling = SamplingOptions.Greedy, MaxTokens = 512 };
}

public sealed class VisionChatModel : IDisposable
{
    private readonly CpuBackend _backend;
    private readonly IDisposable _weights;

    public MlMambaModel Model { get; }
    public Core.Text.ITokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }
    public ImagePreset Preset { get; }
    public VisionChatOptions Options { get; }

    private VisionChatModel(CpuBackend backend, MlMambaModel model, IDisposable weights, Core.Text.ITokenizer tokenizer, ChatTemplate template, VisionChatOptions options)
    {
        (_backend, Model, _weights, Tokenizer, Template, Options) = (backend, model, weights, tokenizer, template, options);
        Preset = ImagePreset.DinoSigLip(model.Vision.Dino.ImageSize);
    }

    /// <summary>Loads an ML-Mamba folder (as written by `mambavl convert mlmamba`): weights mapped, towers bound, tokenizer read.</summary>
    public static VisionChatModel Load(string directory, VisionChatOptions? options = null)
    {
        options ??= new VisionChatOptions();
        var backend = new CpuBackend(options.Threads);
        try
        {
            var (model, config, weights) = MlMambaFolder.Load(directory, backend, options.Storage);
            var tokenizer = TokenizerLoader.FromModelDirectory(directory);
            return new VisionChatModel(backend, model, weights, tokenizer, ChatTemplate.Get(config.ChatTemplate), options);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>A new conversation, optionally about an image file (decoded and preprocessed as the model's pipeline does).</summary>
    public Conversation NewConversation(string? imagePath = null)
    {
        // ids past the tokenizer's vocabulary are padding rows of the embedding (50277 → 50288): never a token to emit
        var generation = Options.Generation.SampleVocabLimit is null && Tokenizer.VocabSize < Model.Llm.VocabSize
            ? Options.Generation with { SampleVocabLimit = Tokenizer.VocabSize } : Options.Generation;
        var chat = new Conversation(Model, Tokenizer, Template, generation);
        if (imagePath != null) chat.SetImage(Pixels(imagePath));
        return chat;
    }

    /// <summary>One question about one image; the answer streams piece by piece. Cancellation ends it early.</summary>
    public IAsyncEnumerable<string> ChatAsync(string imagePath, string question, CancellationToken cancellationToken = default) =>
        NewConversation(imagePath).AskAsync(question, cancellationToken);

    /// <summary>The preset's tensors for an image file ("dino" and "siglip" for ML-Mamba).</summary>
    public IReadOnlyDictionary<string, Tensor> Pixels(string imagePath) => Preset.Apply(ImageDecoder.Decode(imagePath).Image);

    public void Dispose()
    {
        _weights.Dispose();
        _backend.Dispose();
    }
}
