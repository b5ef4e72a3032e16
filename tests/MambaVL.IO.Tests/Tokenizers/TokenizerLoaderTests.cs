// A model folder's tokenizer is picked by what it ships: tokenizer.json first, else tokenizer.model; neither is a clear error.
using MambaVL.Core.Weights;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public sealed class TokenizerLoaderTests
{
    [Fact]
    public void A_folder_with_only_tokenizer_model_gets_sentencepiece()
    {
        var tokenizer = TokenizerLoader.FromModelDirectory(SentencePieceFixtures.PathOf("internlm2-style"));
        Assert.IsType<SentencePieceTokenizer>(tokenizer);
        Assert.NotEmpty(tokenizer.Encode("hello world"));
    }

    [Fact]
    public void Tokenizer_json_wins_and_an_empty_folder_is_refused_by_name()
    {
        var dir = Directory.CreateTempSubdirectory("mambavl-tok-").FullName;
        try
        {
            Assert.Null(TokenizerLoader.TryFromModelDirectory(dir));
            var e = Assert.Throws<ModelLoadException>(() => TokenizerLoader.FromModelDirectory(dir));
            Assert.Contains(dir, e.Message);
            foreach (var f in Directory.GetFiles(SentencePieceFixtures.PathOf("internlm2-style"))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
                 "model": {"type": "BPE", "unk_token": null, "vocab": {"a": 0, "b": 1}, "merges": []}}
                """);
            Assert.IsType<HfTokenizer>(TokenizerLoader.FromModelDirectory(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
