// The library entry point: load an ML-Mamba, HoVLE or mmMamba folder once, then chat about images with streamed answers.
//   using var vlm = VisionChatModel.Load(dir);
//   await foreach (var piece in vlm.ChatAsync("cat.jpg", "What is in the picture?")) Console.Write(piece);
// A Conversation (NewConversation) owns its model state across turns; a model serves any number of conversations in turn.
using MambaVL.Core.Config;
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.Core.Weights;
using MambaVL.Cpu;
using MambaVL.Generation;
using MambaVL.Generation.Chat;
using MambaVL.Generation.Sampling;
using MambaVL.IO.Images;
using MambaVL.IO.Images.Processing;
using MambaVL.IO.Tokenizers;
using MambaVL.Models.HoVle;

namespace MambaVL;

public sealed record VisionChatOptions
{
    /// <summary>CPU threads (0 = all cores).</summary>
    public int Threads { get; init; }
    /// <summary>"cpu", or "cuda" / "cuda:N" for a GPU (the same model code on the CUDA backend).</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Convert the matrices at load (e.g. BF16 halves memory traffic); null keeps the folder's format.</summary>
    public DType? Storage { get; init; }
    /// <summary>Keys and values of attention layers (HoVLE, mmMamba-hybrid): F32 (exact) or BF16 (half the memory per token).</summary>
    public DType KvCacheType { get; init; } = DType.F32;
    /// <summary>Most tiles an image is cut into (InternVL tiling: HoVLE, mmMamba); null = 12, as the authors' chat demo.</summary>
    public int? MaxTiles { get; init; }
    /// <summary>Sampling and length of every answer; greedy by default, as the authors evaluate.</summary>
    public GenerationOptions Generation { get; init; } = new() { Sampling = SamplingOptions.Greedy, MaxTokens = 512 };
}

public sealed class VisionChatModel : IDisposable
{
    private readonly IDisposable _backend;
    private readonly IDisposable _weights;

    /// <summary>The model: ML-Mamba (MlMambaModel) or HoVLE / mmMamba (HoVleModel).</summary>
    public IVisionLanguageModel Model { get; }
    public Core.Text.ITokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }
    public ImagePreset Preset { get; }
    public VisionChatOptions Options { get; }

    private VisionChatModel(IDisposable backend, IVisionLanguageModel model, IDisposable weights, Core.Text.ITokenizer tokenizer,
        ChatTemplate template, ImagePreset preset, VisionChatOptions options) =>
        (_backend, Model, _weights, Tokenizer, Template, Preset, Options) = (backend, model, weights, tokenizer, template, preset, options);

    /// <summary>The language side: the model the conversation's state belongs to.</summary>
    public ILanguageModel Language => Model.Language;

    /// <summary>
    /// Loads an ML-Mamba folder (as written by `mambavl convert mlmamba`) or a HoVLE / mmMamba Hugging Face folder (as
    /// released): weights mapped, tokenizer read, the chat template and image preset the model was trained with.
    /// </summary>
    public static VisionChatModel Load(string directory, VisionChatOptions? options = null)
    {
        options ??= new VisionChatOptions();
        if (!Directory.Exists(directory)) throw new ModelLoadException($"{directory}: no such model folder");
        var (backend, owner) = Backends.Create(options.Device, options.Threads);
        try
        {
            var tokenizer = TokenizerLoader.FromModelDirectory(directory);
            if (MlMambaFolder.Is(directory))
            {
                var (model, config, weights) = MlMambaFolder.Load(directory, backend, options.Storage);
                return new VisionChatModel(owner, model, weights, tokenizer, ChatTemplate.Get(config.ChatTemplate),
                    ImagePreset.DinoSigLip(model.Vision.Dino.ImageSize), options);
            }
            if (HoVleFolder.Is(directory))
            {
                var (model, weights) = HoVleFolder.Load(directory, backend, options.Storage, options.KvCacheType);
                CheckImageTokens(directory, model.Config, tokenizer);
                var preset = ImagePreset.InternVl(model.Config.TileSize, options.MaxTiles ?? (model.Config.DynamicTiles ? 12 : 1), model.Config.Thumbnail);
                return new VisionChatModel(owner, model, weights, tokenizer, ChatTemplate.Get(model.Config.Template), preset, options);
            }
            throw new ModelLoadException($"{directory}: config.json is neither an ML-Mamba folder's (`mambavl convert mlmamba`) nor a HoVLE / mmMamba one (model_type internvl_chat or mmMamba_chat)");
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    /// <summary>The placeholder text the model emits must tokenize to the ids its embedding module replaces.</summary>
    private static void CheckImageTokens(string directory, HoVleConfig cfg, Core.Text.ITokenizer tokenizer)
    {
        int? id = tokenizer.TokenToId(HoVleModel.ImageContextToken);
        if (id != cfg.ImageContextId)
            throw new ModelLoadException($"{directory}: the tokenizer maps {HoVleModel.ImageContextToken} to {(id is null ? "nothing" : id.ToString())}, the config's img_context_token_id is {cfg.ImageContextId}");
        foreach (var marker in new[] { HoVleModel.ImageStartToken, HoVleModel.ImageEndToken })
            if (tokenizer.TokenToId(marker) is null) throw new ModelLoadException($"{directory}: the tokenizer has no {marker} token (added_tokens.json)");
    }

    /// <summary>A new conversation, optionally about an image file (decoded and preprocessed as the model's pipeline does).</summary>
    public Conversation NewConversation(string? imagePath = null)
    {
        // ids past the tokenizer's vocabulary are padding rows of the embedding (50277 → 50288): never a token to emit
        var generation = Options.Generation.SampleVocabLimit is null && Tokenizer.VocabSize < Language.VocabSize
            ? Options.Generation with { SampleVocabLimit = Tokenizer.VocabSize } : Options.Generation;
        var chat = new Conversation(Model, Tokenizer, Template, generation);
        if (imagePath != null) chat.SetImage(Pixels(imagePath));
        return chat;
    }

    /// <summary>One question about one image; the answer streams piece by piece. Cancellation ends it early.</summary>
    public IAsyncEnumerable<string> ChatAsync(string imagePath, string question, CancellationToken cancellationToken = default) =>
        NewConversation(imagePath).AskAsync(question, cancellationToken);

    /// <summary>The preset's tensors for an image file ("dino" and "siglip" for ML-Mamba, "pixels" tiles for HoVLE / mmMamba).</summary>
    public IReadOnlyDictionary<string, Tensor> Pixels(string imagePath) => Preset.Apply(ImageDecoder.Decode(imagePath).Image);

    public void Dispose()
    {
        _weights.Dispose();
        _backend.Dispose();
    }
}
