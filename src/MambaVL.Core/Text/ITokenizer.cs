// The text-side contract the generation engine, CLI and server use; implementations live in MambaVL.IO.Tokenizers.
namespace MambaVL.Core.Text;

/// <summary>Turns text into token ids and back. Implementations are immutable and thread-safe.</summary>
public interface ITokenizer
{
    /// <summary>Number of ids the tokenizer can produce (base vocabulary plus added tokens).</summary>
    int VocabSize { get; }

    /// <summary>Encodes text. With <paramref name="addSpecialTokens"/> the post-processor adds BOS/EOS etc. as the model expects.</summary>
    int[] Encode(string text, bool addSpecialTokens = true);

    /// <summary>Decodes ids to text; with <paramref name="skipSpecialTokens"/> special tokens are left out.</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false);

    /// <summary>The id of a token string (added tokens included), or null if unknown.</summary>
    int? TokenToId(string token);

    /// <summary>The token string of an id, or null when out of range.</summary>
    string? IdToToken(int id);
}
