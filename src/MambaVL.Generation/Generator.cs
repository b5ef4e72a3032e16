// The entry point of the generation engine: runs a language model on prompt ids with a callback or as an async stream.
// It sees only ILanguageModel, IModelState and ids; an ITokenizer, when given, is used only to turn ids into text.
using System.Runtime.CompilerServices;
using MambaVL.Core.Models;
using MambaVL.Core.Text;

namespace MambaVL.Generation;

public sealed class Generator(ILanguageModel model, ITokenizer? tokenizer = null)
{
    public ILanguageModel Model => model;

    /// <summary>A step-by-step run; pass <paramref name="state"/> to continue a sequence the model has already seen.</summary>
    public GenerationSession Start(ReadOnlySpan<int> promptIds, GenerationOptions options, IModelState? state = null) =>
        new(model, promptIds, options, tokenizer, state);

    /// <summary>Runs to the end, calling <paramref name="onChunk"/> for every token. Cancellation ends the run early (no throw).</summary>
    public GenerationResult Generate(ReadOnlySpan<int> promptIds, GenerationOptions options,
        Action<GenerationChunk>? onChunk = null, CancellationToken cancellationToken = default)
    {
        var session = Start(promptIds, options);
        while (session.Next(cancellationToken) is { } chunk) onChunk?.Invoke(chunk);
        return session.Result;
    }

    /// <summary>Streams the run; to read the result and timings afterwards, use <see cref="Start"/> and the session's StreamAsync.</summary>
    public async IAsyncEnumerable<GenerationChunk> StreamAsync(int[] promptIds, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in Start(promptIds, options).StreamAsync(cancellationToken)) yield return chunk;
    }
}
