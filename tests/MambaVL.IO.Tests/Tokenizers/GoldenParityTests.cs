// Parity with the JavaScript reference: for every tokenizer and corpus line, ids with and without special tokens and
// the decoded text must equal what @huggingface/tokenizers produced (tests/fixtures/tokenizers/goldens.json.gz).
using System.Text;
using MambaVL.IO.Tokenizers;

namespace MambaVL.IO.Tests.Tokenizers;

public class GoldenParityTests
{
    public static TheoryData<string> AllTokenizers() => new(TokenizerFixtures.Names);

    [Theory]
    [MemberData(nameof(AllTokenizers))]
    public void Ids_MatchJsReference(string name)
    {
        var golden = TokenizerFixtures.Goldens.Tokenizers[name];
        var tok = TokenizerFixtures.Get(name);
        var failures = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < golden.Lines.Length; i++)
        {
            string line = golden.Lines[i];
            var expected = golden.Cases[i];
            int[] ids = tok.Encode(line, addSpecialTokens: true);
            int[] plain = tok.Encode(line, addSpecialTokens: false);
            if (!ids.SequenceEqual(expected.Ids) || !plain.SequenceEqual(expected.IdsNoSpecial))
            {
                if (bad++ < 5)
                    failures.AppendLine($"line {i} {TokenizerFixtures.Show(line)}\n  js: [{Head(expected.Ids)}]\n  c#: [{Head(ids)}]" +
                        $"\n  js (no special): [{Head(expected.IdsNoSpecial)}]\n  c# (no special): [{Head(plain)}]");
            }
        }
        Assert.True(bad == 0, $"{name}: {bad} of {golden.Lines.Length} lines differ from the JS reference\n{failures}");
    }

    [Theory]
    [MemberData(nameof(AllTokenizers))]
    public void Decode_MatchesJsReference(string name)
    {
        var golden = TokenizerFixtures.Goldens.Tokenizers[name];
        var tok = TokenizerFixtures.Get(name);
        var failures = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < golden.Lines.Length; i++)
        {
            var expected = golden.Cases[i];
            string decoded = tok.Decode(expected.Ids);
            string skipped = tok.Decode(expected.Ids, skipSpecialTokens: true);
            if (decoded != expected.Decoded || skipped != expected.DecodedSkipSpecial)
            {
                if (bad++ < 5)
                    failures.AppendLine($"line {i}: js {TokenizerFixtures.Show(expected.Decoded)} / {TokenizerFixtures.Show(expected.DecodedSkipSpecial)}" +
                        $"\n  c# {TokenizerFixtures.Show(decoded)} / {TokenizerFixtures.Show(skipped)}");
            }
        }
        Assert.True(bad == 0, $"{name}: {bad} of {golden.Lines.Length} decodes differ from the JS reference\n{failures}");
    }

    [Fact]
    public void EveryGoldenTokenizer_IsTested() =>
        Assert.Equal(TokenizerFixtures.Goldens.Tokenizers.Keys.Order(), TokenizerFixtures.Names.Order());

    [Fact]
    public void NeoX_IsTheGptNeoX20bVocabulary()
    {
        var tok = TokenizerFixtures.Get("gpt-neox-20b");
        Assert.Equal(50277, tok.VocabSize);
        Assert.Equal(0, tok.TokenToId("<|endoftext|>"));
        Assert.Equal(1, tok.TokenToId("<|padding|>"));
        Assert.Equal("<|endoftext|>", tok.IdToToken(0));
        Assert.True(tok.IsSpecialToken(0));
        Assert.Equal([12092, 1533], tok.Encode("Hello world"));
        Assert.Null(tok.IdToToken(1_000_000));
        Assert.Null(tok.TokenToId("definitely not a token"));
    }

    [Fact]
    public void Normalization_MatchesJsStringNormalize()
    {
        var g = TokenizerFixtures.Goldens;
        var lower = new LowercaseNormalizer();
        for (int i = 0; i < g.Corpus.Length; i++)
        {
            string s = g.Corpus[i];
            var n = g.Normalization[i];
            Assert.True(n.Nfc == UnicodeNormalizer.Normalize(s, NormalForm.Nfc), $"NFC line {i} {TokenizerFixtures.Show(s)}");
            Assert.True(n.Nfd == UnicodeNormalizer.Normalize(s, NormalForm.Nfd), $"NFD line {i} {TokenizerFixtures.Show(s)}");
            Assert.True(n.Nfkc == UnicodeNormalizer.Normalize(s, NormalForm.Nfkc), $"NFKC line {i} {TokenizerFixtures.Show(s)}");
            Assert.True(n.Nfkd == UnicodeNormalizer.Normalize(s, NormalForm.Nfkd), $"NFKD line {i} {TokenizerFixtures.Show(s)}");
            Assert.True(n.Lower == lower.Normalize(s), $"lowercase line {i} {TokenizerFixtures.Show(s)}");
        }
    }

    private static string Head(int[] ids) => string.Join(", ", ids.Take(40)) + (ids.Length > 40 ? $", … ({ids.Length} ids)" : "");
}
