// What one generation run is asked to do: how many tokens, how to sample, and when to stop.
using MambaVL.Generation.Sampling;

namespace MambaVL.Generation;

public sealed record GenerationOptions
{
    /// <summary>Most new tokens to generate; a negative value means until a stop id or string.</summary>
    public int MaxTokens { get; init; } = 256;

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Ids that end generation (EOS, a template's end token). They are kept in the ids but give no text.</summary>
    public IReadOnlyCollection<int> StopIds { get; init; } = [];

    /// <summary>Strings that end generation; they may span tokens and are not part of the returned text. Need a tokenizer.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Only ids below this are sampled; the rows a padded vocabulary adds are not tokens. Null = all logits.</summary>
    public int? SampleVocabLimit { get; init; }

    /// <summary>Leave special tokens out of the streamed text.</summary>
    public bool SkipSpecialTokens { get; init; } = true;
}
