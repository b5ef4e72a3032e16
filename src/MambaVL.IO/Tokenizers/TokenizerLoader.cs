// Picks a model folder's tokenizer by what it ships: tokenizer.json (HF fast format) first, else tokenizer.model
// (SentencePiece, with added_tokens.json / tokenizer_config.json as transformers' slow tokenizers read them).
using MambaVL.Core.Text;
using MambaVL.Core.Weights;

namespace MambaVL.IO.Tokenizers;

public static class TokenizerLoader
{
    /// <summary>The folder's tokenizer, or null when it has neither tokenizer.json nor tokenizer.model.</summary>
    public static ITokenizer? TryFromModelDirectory(string directory)
    {
        if (HfTokenizer.FindTokenizerFile(directory) is { } json) return HfTokenizer.FromFile(json);
        if (File.Exists(Path.Combine(directory, "tokenizer.model"))) return SentencePieceTokenizer.FromDirectory(directory);
        return null;
    }

    /// <summary>The folder's tokenizer; a clear error naming the folder when it has none.</summary>
    public static ITokenizer FromModelDirectory(string directory) => TryFromModelDirectory(directory)
        ?? throw new ModelLoadException($"{directory}: no tokenizer.json or tokenizer.model in the model folder");
}
