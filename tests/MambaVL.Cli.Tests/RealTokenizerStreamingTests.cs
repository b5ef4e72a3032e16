// The engine's streaming text with real tokenizers from tests/fixtures: token-by-token release adds up to the full
// decode and never shows U+FFFD, for byte-level BPE (GPT-NeoX, Mamba-2's) and SentencePiece-style byte fallback (Llama 2).
using MambaVL.Generation.Streaming;
using MambaVL.IO.Tokenizers;

namespace MambaVL.Cli.Tests;

public class RealTokenizerStreamingTests
{
    private const string Text = "Grüße 😀👍🏽 from 東京!\n  code: `x => x * 2;` — done. 🇯🇵 ok";

    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenizers", name);

    [Theory]
    [InlineData("gpt-neox-20b.tokenizer.json.gz")]
    [InlineData("llama2.tokenizer.json.gz")]
    public void TokenByTokenTextAddsUpToTheFullDecodeWithoutReplacementCharacters(string file)
    {
        var tokenizer = HfTokenizer.FromFile(FixturePath(file));
        int[] ids = tokenizer.Encode(Text, addSpecialTokens: false);
        string full = tokenizer.Decode(ids, skipSpecialTokens: true);
        Assert.DoesNotContain('\uFFFD', full);
        // the emoji must really be split over several tokens for this test to mean something
        Assert.Contains(ids, id => tokenizer.Decode([id]).Contains('\uFFFD'));

        var stream = new TokenTextStream(tokenizer);
        var pieces = ids.Select(stream.Push).Append(stream.Flush()).ToList();
        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        Assert.Equal(full, string.Concat(pieces));
    }
}
