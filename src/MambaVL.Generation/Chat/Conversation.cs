// A chat that owns its model state: each turn feeds only the new text (the image and the history already live in the
// SSM state), unlike the authors' code, which re-runs image and history every turn. Saved and restored as a whole.
using System.Runtime.CompilerServices;
using System.Text;
using MambaVL.Core.Models;
using MambaVL.Core.Tensors;
using MambaVL.Core.Text;

namespace MambaVL.Generation.Chat;

public sealed class Conversation
{
    private const string Magic = "MVLCHAT2", MagicWithoutImageText = "MVLCHAT1";
    private readonly ILanguageModel _model;
    private readonly IVisionLanguageModel? _vision;
    private readonly ITokenizer _tokenizer;
    private readonly int[] _endOfReply;      // the template's reply terminator as ids (Zephyr: <|endoftext|> = 0)
    private List<int> _pending = [];         // ids the state has not consumed yet: the last sampled token, the terminator
    private string _imageText = "";          // what stands for the image in the next message (models that read it in the prompt)

    public ChatTemplate Template { get; }
    /// <summary>The language model whose state the conversation carries.</summary>
    public ILanguageModel Model => _model;
    /// <summary>Sampling and length for every turn; the reply terminator is always a stop id.</summary>
    public GenerationOptions Options { get; set; }
    public IModelState State { get; private set; }
    public int Turns { get; private set; }
    public bool HasImage { get; private set; }
    /// <summary>The last turn's ids, finish reason and timings.</summary>
    public GenerationResult? LastResult { get; private set; }

    public Conversation(IVisionLanguageModel model, ITokenizer tokenizer, ChatTemplate template, GenerationOptions? options = null)
        : this(model.Language, tokenizer, template, options) => _vision = model;

    public Conversation(ILanguageModel model, ITokenizer tokenizer, ChatTemplate template, GenerationOptions? options = null)
    {
        (_model, _tokenizer, Template) = (model, tokenizer, template);
        _endOfReply = tokenizer.Encode(template.EndOfReply, addSpecialTokens: false);
        if (_endOfReply.Length != 1)
            throw new ArgumentException($"the tokenizer does not have '{template.EndOfReply}' as one token; the {template.Name} template needs it");
        Options = options ?? new GenerationOptions { Sampling = Sampling.SamplingOptions.Greedy, MaxTokens = 512 };
        State = model.CreateState(1);
    }

    /// <summary>Starts over: no history, no image.</summary>
    public void Reset()
    {
        State = _model.CreateState(1);
        _pending = [];
        _imageText = "";
        (Turns, HasImage, LastResult) = (0, false, null);
    }

    /// <summary>
    /// Starts a new conversation about an image, read where the model was trained to read it: before the text (ML-Mamba)
    /// or inside the next message (HoVLE / mmMamba: at "&lt;image&gt;", else in front). pixels: the model's preset outputs.
    /// </summary>
    public void SetImage(IReadOnlyDictionary<string, Tensor> pixels)
    {
        if (_vision is null) throw new InvalidOperationException("this model reads no images");
        Reset();
        _imageText = _vision.PrefillImage(pixels, State);
        HasImage = true;
    }

    /// <summary>Streams the reply to <paramref name="message"/>. Cancellation ends the reply early; the conversation stays usable.</summary>
    public async IAsyncEnumerable<string> AskAsync(string message, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = new List<int>(_pending);
        bool first = Turns == 0;
        string turn = Template.UserTurn(ChatTemplate.WithImage(message, _imageText), first);
        prompt.AddRange(_tokenizer.Encode(turn, addSpecialTokens: first && Template.SpecialTokensOnFirstTurn));
        _imageText = "";
        var options = Options with { StopIds = [.. Options.StopIds, _endOfReply[0]] };
        var session = new GenerationSession(_model, prompt.ToArray(), options, _tokenizer, State);
        await foreach (var chunk in session.StreamAsync(cancellationToken))
            if (chunk.Text.Length > 0) yield return chunk.Text;
        LastResult = session.Result;
        // the state has consumed the prompt and every generated token but the last; a reply cut short still gets its terminator
        _pending = LastResult.Ids.Length == 0 ? [] : [LastResult.Ids[^1]];
        if (LastResult.FinishReason != FinishReason.StopId) _pending.AddRange(_endOfReply);
        Turns++;
    }

    /// <summary>The whole reply as one string.</summary>
    public string Ask(string message, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        var stream = AskAsync(message, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try { while (stream.MoveNextAsync().AsTask().GetAwaiter().GetResult()) text.Append(stream.Current); }
        finally { stream.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        return text.ToString();
    }

    /// <summary>Writes the conversation (turns, image flag, pending ids and image text, then the model state) to <paramref name="stream"/>.</summary>
    public void Save(Stream stream)
    {
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic); w.Write(Template.Name); w.Write(Turns); w.Write(HasImage); w.Write(_pending.Count);
            foreach (int id in _pending) w.Write(id);
            w.Write(_imageText);
        }
        State.Save(stream);
    }

    /// <summary>Replaces this conversation with a saved one; a file from another model or template is refused by name.</summary>
    public void Load(Stream stream, string source = "conversation")
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            string magic = r.ReadString();
            if (magic is not (Magic or MagicWithoutImageText)) throw new InvalidDataException($"{source}: not a saved MambaVL conversation");
            string template = r.ReadString();
            if (template != Template.Name) throw new InvalidDataException($"{source}: saved with the '{template}' template, this chat uses '{Template.Name}'");
            int turns = r.ReadInt32(); bool image = r.ReadBoolean(); int count = r.ReadInt32();
            if (turns < 0 || count is < 0 or > 16) throw new InvalidDataException($"{source}: corrupt header");
            var pending = new List<int>(count);
            for (int i = 0; i < count; i++) pending.Add(r.ReadInt32());
            string imageText = magic == Magic ? r.ReadString() : "";
            var state = _model.CreateState(1);
            state.Load(stream);
            (State, _pending, _imageText, Turns, HasImage, LastResult) = (state, pending, imageText, turns, image, null);
        }
        catch (EndOfStreamException) { throw new InvalidDataException($"{source}: the file ends early"); }
    }
}
